//! The flows as plain data (JSON with msal Python's keys) and the older
//! authorization pattern: a web app keeps a started flow in its session
//! store and completes it in another process, with another application
//! object. Conversions only; the core checks everything.

use crate::apps::{auth_options, AuthCodeFlow, AuthorizeOptions, DeviceCodeFlow};
use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::convert::token_result;
use crate::guard::{call, call_async};
use crate::types::{AuthError, TokenResult};
use idflow::secret::{AuthorizationCode, PkceVerifier};
use std::sync::Arc;

#[uniffi::export]
impl AuthCodeFlow {
    /// A flow from [`AuthCodeFlow::to_json`]'s text (made by this or another
    /// process); `invalid_parameter` when a key is missing or malformed.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, AuthError> {
        call(
            || idflow::AuthCodeFlow::from_json(&json),
            |flow| Arc::new(AuthCodeFlow::from(flow)),
        )
    }

    /// The flow as a JSON object with msal Python's keys (`state`, `nonce`,
    /// `code_verifier`, `auth_uri`, `redirect_uri`, `scope`, ...). It holds
    /// the PKCE verifier: keep it server-side, never in a cookie.
    pub fn to_json(&self) -> String {
        self.core().to_json()
    }
}

#[uniffi::export]
impl DeviceCodeFlow {
    /// A flow from [`DeviceCodeFlow::to_json`]'s text; `invalid_parameter`
    /// when the device code is missing.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>, AuthError> {
        call(
            || idflow::DeviceFlow::from_json(&json),
            |flow| Arc::new(DeviceCodeFlow::from(flow)),
        )
    }

    /// The flow as msal Python's dict in JSON (`device_code` included: keep
    /// it server-side), `expires_in` counted from now.
    pub fn to_json(&self) -> String {
        self.core().to_json(std::time::SystemTime::now())
    }
}

/// The older pattern, on both kinds of app (as in msal).
macro_rules! legacy_auth_code {
    ($app:ty) => {
        #[uniffi::export(async_runtime = "tokio")]
        impl $app {
            /// The authorize URL (msal's `get_authorization_request_url`):
            /// `options.state`, `nonce` and a S256 `code_challenge` are sent
            /// when given. Prefer `initiate_auth_code_flow`.
            pub async fn get_authorization_request_url(
                &self,
                scopes: Vec<String>,
                redirect_uri: String,
                options: AuthorizeOptions,
                nonce: Option<String>,
                code_challenge: Option<String>,
            ) -> Result<String, AuthError> {
                let build = async move {
                    let o = auth_options(options)?;
                    self.core()
                        .get_authorization_request_url(
                            &scopes,
                            &redirect_uri,
                            &o,
                            nonce.as_deref(),
                            code_challenge.as_deref(),
                        )
                        .await
                };
                call_async(build, |url| url.to_string()).await
            }

            /// Redeems a code the app received itself (msal's
            /// `acquire_token_by_authorization_code`).
            pub async fn acquire_token_by_authorization_code(
                &self,
                code: String,
                scopes: Vec<String>,
                redirect_uri: Option<String>,
                nonce: Option<String>,
                code_verifier: Option<String>,
                claims: Option<String>,
            ) -> Result<TokenResult, AuthError> {
                let redeem = async move {
                    let code = AuthorizationCode::new(code);
                    let verifier = code_verifier.map(PkceVerifier::new);
                    self.core()
                        .acquire_token_by_authorization_code(
                            &code,
                            &scopes,
                            redirect_uri.as_deref(),
                            nonce.as_deref(),
                            verifier.as_ref(),
                            claims.as_deref(),
                        )
                        .await
                };
                call_async(redeem, token_result).await
            }
        }
    };
}

legacy_auth_code!(PublicClientApplication);
legacy_auth_code!(ConfidentialClientApplication);
