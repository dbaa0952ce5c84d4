//! `PublicClientApplication` and `ConfidentialClientApplication`, as objects:
//! each export is one guarded core call ([`call`] / [`call_async`]) and a
//! conversion. The Python-only fast paths on these objects are in
//! `python_fast.rs`.

use crate::apps::{
    auth_options, authority, loopback, options, AppConfig, AuthCodeFlow, AuthorizeOptions,
    CancelHandle, ClientCredential, DeviceCodeFlow, ForeignOpener, UrlOpener,
};
use crate::cache::TokenCache;
use crate::convert::{account_info, core_account, token_result};
use crate::guard::{call, call_async};
use crate::types::{AccountInfo, AuthError, TokenResult};
use idflow::secret::{Password, RefreshToken, UserAssertion};
use std::convert::identity;
use std::sync::Arc;
use std::time::Duration;

/// How an interactive sign-in runs on this device.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct InteractiveOptions {
    #[uniffi(default)]
    pub authorize: AuthorizeOptions,
    /// The loopback port for the redirect; 0 picks a free one.
    #[uniffi(default = 0)]
    pub port: u16,
    /// `localhost` (the Microsoft identity platform's registration) or `127.0.0.1`.
    #[uniffi(default = None)]
    pub redirect_host: Option<String>,
    /// Give up (`user_cancelled`) after this many seconds; `None`: 120 s.
    #[uniffi(default = None)]
    pub timeout_secs: Option<u64>,
}

/// An app that cannot keep a secret (desktop, mobile, CLI): device code,
/// interactive sign-in, refresh-token import, username/password.
#[derive(Debug, uniffi::Object)]
pub struct PublicClientApplication {
    inner: idflow::PublicClientApplication,
}

impl PublicClientApplication {
    pub(crate) fn core(&self) -> &idflow::PublicClientApplication {
        &self.inner
    }

    pub(crate) fn wrap(inner: idflow::PublicClientApplication) -> Arc<Self> {
        Arc::new(PublicClientApplication { inner })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl PublicClientApplication {
    /// Fails with `invalid_authority` / `authority_uri_insecure` for a bad authority.
    #[uniffi::constructor]
    pub fn new(config: AppConfig) -> Result<Arc<Self>, AuthError> {
        call(
            || {
                idflow::PublicClientApplication::new(
                    &config.client_id,
                    authority(&config)?,
                    options(&config)?,
                )
            },
            |inner| Arc::new(PublicClientApplication { inner }),
        )
    }

    /// Starts a device-code flow; show its `message` to the user at once.
    pub async fn initiate_device_flow(
        &self,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<Arc<DeviceCodeFlow>, AuthError> {
        call_async(
            self.inner.initiate_device_flow(&scopes, claims.as_deref()),
            |flow| Arc::new(DeviceCodeFlow::from(flow)),
        )
        .await
    }

    /// Polls until the user finishes, declines, the code expires, or `cancel` fires.
    pub async fn acquire_token_by_device_flow(
        &self,
        flow: Arc<DeviceCodeFlow>,
        cancel: Arc<CancelHandle>,
    ) -> Result<TokenResult, AuthError> {
        call_async(
            self.inner
                .acquire_token_by_device_flow(flow.core(), cancel.core()),
            token_result,
        )
        .await
    }

    /// One poll of the device code, for an app that runs its own loop: the
    /// token, or the server's answer (`authorization_pending`, `slow_down`
    /// while the user has not finished) as the error.
    pub async fn poll_device_flow_once(
        &self,
        flow: Arc<DeviceCodeFlow>,
        cancel: Arc<CancelHandle>,
    ) -> Result<TokenResult, AuthError> {
        call_async(
            self.inner.poll_device_flow_once(flow.core(), cancel.core()),
            token_result,
        )
        .await
    }

    /// Signs in through the browser and a loopback redirect on this device.
    pub async fn acquire_token_interactive(
        &self,
        scopes: Vec<String>,
        options: InteractiveOptions,
        opener: Option<Arc<dyn UrlOpener>>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<TokenResult, AuthError> {
        let sign_in = async move {
            let mut o = idflow::InteractiveOptions {
                auth: auth_options(options.authorize)?,
                loopback: loopback(options.port, options.redirect_host),
                timeout: options.timeout_secs.map(Duration::from_secs),
                ..idflow::InteractiveOptions::default()
            };
            if let Some(opener) = opener {
                o.opener = Arc::new(ForeignOpener(opener));
            }
            if let Some(c) = cancel {
                o.cancel = c.core().clone();
            }
            self.inner.acquire_token_interactive(&scopes, o).await
        };
        call_async(sign_in, token_result).await
    }
}

/// An app that keeps a credential (a web app, an API, a daemon): client
/// credentials, on-behalf-of, auth-code redemption, refresh.
#[derive(Debug, uniffi::Object)]
pub struct ConfidentialClientApplication {
    inner: idflow::ConfidentialClientApplication,
}

impl ConfidentialClientApplication {
    pub(crate) fn core(&self) -> &idflow::ConfidentialClientApplication {
        &self.inner
    }

    pub(crate) fn wrap(inner: idflow::ConfidentialClientApplication) -> Arc<Self> {
        Arc::new(ConfidentialClientApplication { inner })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ConfidentialClientApplication {
    #[uniffi::constructor]
    pub fn new(config: AppConfig, credential: ClientCredential) -> Result<Arc<Self>, AuthError> {
        call(
            || {
                idflow::ConfidentialClientApplication::new(
                    &config.client_id,
                    authority(&config)?,
                    crate::apps::credential(credential)?,
                    options(&config)?,
                )
            },
            |inner| Arc::new(ConfidentialClientApplication { inner }),
        )
    }

    /// An app-only token; for Microsoft, scopes are `<resource>/.default`.
    pub async fn acquire_token_for_client(
        &self,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<TokenResult, AuthError> {
        call_async(
            self.inner
                .acquire_token_for_client(&scopes, claims.as_deref()),
            token_result,
        )
        .await
    }

    /// Exchanges the access token your API received for one to a downstream API.
    pub async fn acquire_token_on_behalf_of(
        &self,
        user_assertion: String,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<TokenResult, AuthError> {
        let obo = async move {
            let a = UserAssertion::new(user_assertion);
            self.inner
                .acquire_token_on_behalf_of(&a, &scopes, claims.as_deref())
                .await
        };
        call_async(obo, token_result).await
    }
}

/// The flows both kinds of app offer (as in msal). uniffi objects cannot share
/// an impl, so one macro writes the same thin wrappers onto each.
macro_rules! shared_flows {
    ($app:ty) => {
        #[uniffi::export(async_runtime = "tokio")]
        impl $app {
            /// Starts an authorization-code flow: send the user to its `auth_uri`.
            pub async fn initiate_auth_code_flow(
                &self,
                scopes: Vec<String>,
                redirect_uri: String,
                options: AuthorizeOptions,
            ) -> Result<Arc<AuthCodeFlow>, AuthError> {
                let start = async move {
                    let o = auth_options(options)?;
                    self.inner
                        .initiate_auth_code_flow(&scopes, &redirect_uri, &o)
                        .await
                };
                call_async(start, |flow| Arc::new(AuthCodeFlow::from(flow))).await
            }

            /// Completes a flow with the redirect URL (or its query string).
            pub async fn acquire_token_by_auth_code_flow(
                &self,
                flow: Arc<AuthCodeFlow>,
                redirect: String,
            ) -> Result<TokenResult, AuthError> {
                call_async(
                    self.inner
                        .acquire_token_by_auth_code_flow(flow.core(), &redirect),
                    token_result,
                )
                .await
            }

            /// Redeems a refresh token (kept when the answer brings no new one).
            pub async fn acquire_token_by_refresh_token(
                &self,
                refresh_token: String,
                scopes: Vec<String>,
                claims: Option<String>,
            ) -> Result<TokenResult, AuthError> {
                let redeem = async move {
                    let rt = RefreshToken::new(refresh_token);
                    self.inner
                        .acquire_token_by_refresh_token(&rt, &scopes, claims.as_deref())
                        .await
                };
                call_async(redeem, token_result).await
            }

            /// A token for `account` without interaction: the cache (no
            /// network), else its refresh token. Throws `InteractionRequired`
            /// (`no_account`, `no_tokens_found`, or the server's refusal):
            /// then sign in interactively, with the error's claims if any.
            pub async fn acquire_token_silent(
                &self,
                scopes: Vec<String>,
                account: Option<AccountInfo>,
                claims: Option<String>,
                force_refresh: bool,
            ) -> Result<TokenResult, AuthError> {
                let silent = async move {
                    let account = account.map(core_account);
                    self.inner
                        .acquire_token_silent(
                            &scopes,
                            account.as_ref(),
                            claims.as_deref(),
                            force_refresh,
                        )
                        .await
                };
                call_async(silent, token_result).await
            }

            /// ROPC: managed (cloud) users only; prefer interactive sign-in where there is a UI.
            pub async fn acquire_token_by_username_password(
                &self,
                username: String,
                password: String,
                scopes: Vec<String>,
                claims: Option<String>,
            ) -> Result<TokenResult, AuthError> {
                let ropc = async move {
                    let pw = Password::new(password);
                    self.inner
                        .acquire_token_by_username_password(
                            &username,
                            &pw,
                            &scopes,
                            claims.as_deref(),
                        )
                        .await
                };
                call_async(ropc, token_result).await
            }

            /// Accounts this app can use silently, optionally only `username`'s
            /// (case-insensitive).
            pub fn get_accounts(
                &self,
                username: Option<String>,
            ) -> Result<Vec<AccountInfo>, AuthError> {
                call(
                    || self.inner.get_accounts(username.as_deref()),
                    |v| v.iter().map(account_info).collect(),
                )
            }

            /// Signs `account` out of this app: its tokens leave the cache.
            pub fn remove_account(&self, account: AccountInfo) -> Result<(), AuthError> {
                call(
                    || self.inner.remove_account(&core_account(account)),
                    identity,
                )
            }

            /// The app's token cache (the one in its config, or its own).
            pub fn token_cache(&self) -> Arc<TokenCache> {
                TokenCache::wrap(self.inner.token_cache().clone())
            }
        }
    };
}

shared_flows!(PublicClientApplication);
shared_flows!(ConfidentialClientApplication);
