//! The partition keys MSAL.NET suggests to its cache callbacks
//! (`TokenCacheNotificationArgs.SuggestedCacheKey`, computed in
//! AzureAD/microsoft-authentication-library-for-dotnet
//! `src/client/Microsoft.Identity.Client/Cache/SuggestedWebCacheKeyFactory.cs`).
//! A leaf: the store files entries by these keys, the partitioned access
//! (`partition.rs`) loads and saves by them.

/// The partition a call touches, as MSAL.NET suggests it (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PartitionKey(String);

impl PartitionKey {
    /// App tokens (client credentials) of `client_id` in `tenant`.
    pub fn app(client_id: &str, tenant: &str) -> Self {
        PartitionKey(format!("{client_id}_{tenant}_AppTokenCache"))
    }

    /// A user's tokens, accounts and refresh tokens, by home account id.
    pub fn user(home_account_id: &str) -> Self {
        PartitionKey(home_account_id.to_owned())
    }

    /// On-behalf-of tokens: the SHA-256 of the incoming assertion, base64url
    /// without padding (MSAL.NET's `UserAssertion.AssertionHash`), so the
    /// key never holds the assertion itself.
    pub fn on_behalf_of(user_assertion: &crate::secret::UserAssertion) -> Self {
        use base64::Engine as _;
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            user_assertion.expose().as_bytes(),
        );
        PartitionKey(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}
