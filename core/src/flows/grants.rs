//! The one-request grants: client credentials, refresh token, username and
//! password (ROPC), and on-behalf-of. Each checks its inputs locally, builds
//! the form msal-error-model.md §6.2 lists, and goes through
//! [`Engine::redeem`].

use super::{app_scopes, split_scopes, Context, Engine};
use crate::error::{Flow, IdFlowError, LocalCode};
use crate::protocol::token::{Account, AuthenticationResult};
use crate::secret::{Password, RefreshToken, UserAssertion};

/// The grant type of on-behalf-of (RFC 7523's JWT bearer grant).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The one grant whose tokens are the app's own (cached with no account).
pub(crate) const CLIENT_CREDENTIALS_GRANT: &str = "client_credentials";

impl Engine {
    /// Adds the `claims` parameter: the app's claims request merged with
    /// its client capabilities (nothing when there is neither).
    pub(crate) fn with_claims(
        &self,
        form: &mut Vec<(String, String)>,
        claims: Option<&str>,
    ) -> Result<(), IdFlowError> {
        if let Some(c) = self.claims_param(claims)? {
            form.push(("claims".into(), c));
        }
        Ok(())
    }
}

impl Engine {
    /// Client credentials: an app-only token. For Microsoft authorities the
    /// one scope must be `<resource>/.default` (the app's static permissions).
    pub async fn client_credentials<S: AsRef<str>>(
        &self,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = split_scopes(scopes);
        if scopes.is_empty() {
            return Err(IdFlowError::local(
                LocalCode::ScopesRequired,
                "client credentials need a scope, e.g. 'https://graph.microsoft.com/.default'",
            ));
        }
        if self.authority.is_microsoft() {
            if let [one] = scopes.as_slice() {
                if !one.ends_with("/.default") {
                    return Err(default_scope_error(one));
                }
            } else {
                return Err(IdFlowError::local(
                    LocalCode::InvalidParameter,
                    "client credentials take exactly one scope, '<resource>/.default'",
                ));
            }
        }
        let resolved = self.resolve().await?;
        let mut form = self.base_form(CLIENT_CREDENTIALS_GRANT, false);
        form.push(("scope".into(), scopes.join(" ")));
        self.with_claims(&mut form, claims)?;
        let ctx = Context {
            requested: &scopes,
            ..Context::default()
        };
        self.redeem(&resolved, form, Flow::Token, ctx).await
    }

    /// Redeems a refresh token the app holds (a migration import, or its own
    /// store). The old refresh token is kept when the answer has no new one.
    pub async fn refresh_token<S: AsRef<str>>(
        &self,
        refresh_token: &RefreshToken,
        scopes: &[S],
        claims: Option<&str>,
        flow: Flow,
    ) -> Result<AuthenticationResult, IdFlowError> {
        self.refresh_token_for(refresh_token, scopes, claims, flow, None)
            .await
    }

    /// Redeems a refresh token held for `account` (a silent call's): an
    /// answer that names no account is the account's all the same.
    pub(crate) async fn refresh_token_for<S: AsRef<str>>(
        &self,
        refresh_token: &RefreshToken,
        scopes: &[S],
        claims: Option<&str>,
        flow: Flow,
        account: Option<&Account>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = app_scopes(scopes)?;
        let resolved = self.resolve().await?;
        let mut form = self.base_form("refresh_token", true);
        form.push(("refresh_token".into(), refresh_token.expose().to_owned()));
        form.push(("scope".into(), self.decorate(&scopes)));
        self.with_claims(&mut form, claims)?;
        let ctx = Context {
            requested: &scopes,
            previous_refresh_token: Some(refresh_token),
            account,
            ..Context::default()
        };
        self.redeem(&resolved, form, flow, ctx).await
    }

    /// ROPC: the user's name and password in the request. Works only for
    /// managed (cloud) accounts without MFA; prefer any other flow.
    pub async fn username_password<S: AsRef<str>>(
        &self,
        username: &str,
        password: &Password,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = app_scopes(scopes)?;
        if username.trim().is_empty() {
            return Err(IdFlowError::local(
                LocalCode::InvalidParameter,
                "the username is empty",
            ));
        }
        let resolved = self.resolve().await?;
        let mut form = self.base_form("password", true);
        form.push(("username".into(), username.to_owned()));
        form.push(("password".into(), password.expose().to_owned()));
        form.push(("scope".into(), self.decorate(&scopes)));
        self.with_claims(&mut form, claims)?;
        let ctx = Context {
            requested: &scopes,
            username: Some(username),
            ..Context::default()
        };
        self.redeem(&resolved, form, Flow::Token, ctx).await
    }

    /// On-behalf-of: a web API exchanges the access token it received for one
    /// to a downstream API, as the same user.
    pub async fn on_behalf_of<S: AsRef<str>>(
        &self,
        user_assertion: &UserAssertion,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let scopes = app_scopes(scopes)?;
        if user_assertion.expose().trim().is_empty() {
            return Err(IdFlowError::local(
                LocalCode::InvalidParameter,
                "the user assertion (the incoming access token) is empty",
            ));
        }
        let resolved = self.resolve().await?;
        let mut form = self.base_form(JWT_BEARER_GRANT, true);
        form.push(("assertion".into(), user_assertion.expose().to_owned()));
        form.push(("requested_token_use".into(), "on_behalf_of".into()));
        form.push(("scope".into(), self.decorate(&scopes)));
        self.with_claims(&mut form, claims)?;
        let ctx = Context {
            requested: &scopes,
            ..Context::default()
        };
        self.redeem(&resolved, form, Flow::Token, ctx).await
    }
}

fn default_scope_error(scope: &str) -> IdFlowError {
    let shown: String = scope.chars().take(100).collect();
    IdFlowError::local(
        LocalCode::InvalidParameter,
        format!(
            "client credentials need '<resource>/.default', not '{shown}': an app-only token \
             carries the app's configured permissions, not individual scopes"
        ),
    )
}
