//! Secrets in newtypes, so they cannot reach a log, an error or a `Debug`
//! dump by accident.
//!
//! Every type here prints `[redacted]` under `Debug`, has no `Display` and no
//! `PartialEq` (comparing secrets is almost always a bug, and a naive compare
//! leaks timing). Reading the value takes an explicit [`expose`] call, which
//! makes every use greppable. Where a value must be compared (the `state`
//! echoed in a redirect), [`constant_time_eq`] does it. Every type overwrites
//! its bytes with zeros when dropped (`zeroize`), so a freed token does not
//! linger in memory a later allocation or a core dump could expose; each
//! clone is wiped on its own drop.
//!
//! [`expose`]: AccessToken::expose

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

macro_rules! secret_types {
    ($( $(#[$doc:meta])* $name:ident; )*) => {$(
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The secret itself. Call this only where the value goes on the
            /// wire or to the app; never pass the result to a logger.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl Zeroize for $name {
            fn zeroize(&mut self) {
                self.0.zeroize();
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.zeroize();
            }
        }

        impl ZeroizeOnDrop for $name {}

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_owned())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name)
            }
        }
    )*};
}

secret_types! {
    /// An OAuth access token: whoever holds it can call the API as the user or app.
    AccessToken;
    /// A refresh token: long-lived, can mint new access tokens.
    RefreshToken;
    /// The raw id token JWT (its claims are decoded separately and are not secret,
    /// but the signed token is a bearer credential for some relying parties).
    IdToken;
    /// An authorization code from the `/authorize` redirect.
    AuthorizationCode;
    /// The device code of RFC 8628 (the user code is shown to the user and is not secret).
    DeviceCode;
    /// A PKCE code verifier (RFC 7636): proves the redeemer started the flow.
    PkceVerifier;
    /// A confidential client's secret.
    ClientSecret;
    /// A signed client assertion (JWT) used instead of a client secret.
    ClientAssertion;
    /// The incoming access token an API exchanges in the on-behalf-of flow.
    UserAssertion;
    /// A user's password (ROPC only).
    Password;
    /// The password of a PKCS#12 (.pfx) file or the passphrase of an
    /// encrypted private key.
    Passphrase;
    /// The `state` or `nonce` of an interactive request: unguessable values that
    /// bind the redirect and the id token to this request.
    FlowSecret;
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new("eyJ.secret.value");
        let shown = format!("{t:?} {:?}", Some(RefreshToken::from("rt-value")));
        assert!(!shown.contains("secret"));
        assert!(!shown.contains("rt-value"));
        assert!(shown.contains("[redacted]"));
        assert_eq!(t.expose(), "eyJ.secret.value");
    }

    #[test]
    fn deserializes_from_a_string() {
        let t: RefreshToken = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(t.expose(), "abc");
    }

    /// Compile-time: every secret type wipes itself on drop.
    const _: () = {
        const fn wiped_on_drop<T: ZeroizeOnDrop + Zeroize>() {}
        wiped_on_drop::<AccessToken>();
        wiped_on_drop::<RefreshToken>();
        wiped_on_drop::<IdToken>();
        wiped_on_drop::<AuthorizationCode>();
        wiped_on_drop::<DeviceCode>();
        wiped_on_drop::<PkceVerifier>();
        wiped_on_drop::<ClientSecret>();
        wiped_on_drop::<ClientAssertion>();
        wiped_on_drop::<UserAssertion>();
        wiped_on_drop::<Password>();
        wiped_on_drop::<Passphrase>();
        wiped_on_drop::<FlowSecret>();
    };

    #[test]
    fn zeroize_wipes_the_value_and_leaves_clones_alone() {
        let mut secret = ClientSecret::new("client-secret-value");
        let copy = secret.clone();
        secret.zeroize();
        assert_eq!(secret.expose(), "");
        assert_eq!(copy.expose(), "client-secret-value");
    }

    #[test]
    fn compares_in_constant_time() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
