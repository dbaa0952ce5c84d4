//! `PublicClientApplication` and `ConfidentialClientApplication`, as objects.

use crate::apps::AccountInfo;
use crate::apps::{
    auth_options, authority, err, loopback, options, result, AppConfig, AuthCodeFlow,
    AuthorizeOptions, CancelHandle, ClientCredential, DeviceCodeFlow, ForeignOpener, TokenResult,
    UrlOpener,
};
use crate::cache::{
    account_info, accounts_json, core_account, hit_json, CachedTokenProbe, TokenCache,
};
use crate::guard;
use crate::types::AuthError;
use idflow::secret::{Password, RefreshToken, UserAssertion};
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

#[uniffi::export(async_runtime = "tokio")]
impl PublicClientApplication {
    /// Fails with `invalid_authority` / `authority_uri_insecure` for a bad authority.
    #[uniffi::constructor]
    pub fn new(config: AppConfig) -> Result<Arc<Self>, AuthError> {
        crate::guard(|| {
            let inner = idflow::PublicClientApplication::new(
                &config.client_id,
                authority(&config)?,
                options(&config),
            )
            .map_err(err)?;
            Ok(Arc::new(PublicClientApplication { inner }))
        })
    }

    /// Starts a device-code flow; show its `message` to the user at once.
    pub async fn initiate_device_flow(
        &self,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<Arc<DeviceCodeFlow>, AuthError> {
        crate::guard_async(async move {
            let flow = self
                .inner
                .initiate_device_flow(&scopes, claims.as_deref())
                .await
                .map_err(err)?;
            Ok(Arc::new(DeviceCodeFlow::from(flow)))
        })
        .await
    }

    /// Polls until the user finishes, declines, the code expires, or `cancel` fires.
    pub async fn acquire_token_by_device_flow(
        &self,
        flow: Arc<DeviceCodeFlow>,
        cancel: Arc<CancelHandle>,
    ) -> Result<TokenResult, AuthError> {
        crate::guard_async(async move {
            self.inner
                .acquire_token_by_device_flow(flow.core(), cancel.core())
                .await
                .map(result)
                .map_err(err)
        })
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
        crate::guard_async(async move {
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
            self.inner
                .acquire_token_interactive(&scopes, o)
                .await
                .map(result)
                .map_err(err)
        })
        .await
    }
}

/// An app that keeps a credential (a web app, an API, a daemon): client
/// credentials, on-behalf-of, auth-code redemption, refresh.
#[derive(Debug, uniffi::Object)]
pub struct ConfidentialClientApplication {
    inner: idflow::ConfidentialClientApplication,
}

#[uniffi::export(async_runtime = "tokio")]
impl ConfidentialClientApplication {
    #[uniffi::constructor]
    pub fn new(config: AppConfig, credential: ClientCredential) -> Result<Arc<Self>, AuthError> {
        crate::guard(|| {
            let inner = idflow::ConfidentialClientApplication::new(
                &config.client_id,
                authority(&config)?,
                crate::apps::credential(credential)?,
                options(&config),
            )
            .map_err(err)?;
            Ok(Arc::new(ConfidentialClientApplication { inner }))
        })
    }

    /// An app-only token; for Microsoft, scopes are `<resource>/.default`.
    pub async fn acquire_token_for_client(
        &self,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<TokenResult, AuthError> {
        crate::guard_async(async move {
            self.inner
                .acquire_token_for_client(&scopes, claims.as_deref())
                .await
                .map(result)
                .map_err(err)
        })
        .await
    }

    /// The cached app-only token as msal Python's dict (JSON), or nothing
    /// when `acquire_token_for_client` would have to send a request. Never
    /// touches the network: one synchronous call for the common case.
    pub fn cached_token_for_client_json(
        &self,
        scopes: Vec<String>,
    ) -> Result<Option<String>, AuthError> {
        guard(|| hit_json(self.inner.cached_token_for_client(&scopes)))
    }

    /// A prepared [`Self::cached_token_for_client_json`] for these scopes.
    pub fn client_probe(&self, scopes: Vec<String>) -> Arc<CachedTokenProbe> {
        let app = self.inner.clone();
        CachedTokenProbe::new(Box::new(move || app.cached_token_for_client(&scopes)))
    }

    /// Exchanges the access token your API received for one to a downstream API.
    pub async fn acquire_token_on_behalf_of(
        &self,
        user_assertion: String,
        scopes: Vec<String>,
        claims: Option<String>,
    ) -> Result<TokenResult, AuthError> {
        crate::guard_async(async move {
            let a = UserAssertion::new(user_assertion);
            self.inner
                .acquire_token_on_behalf_of(&a, &scopes, claims.as_deref())
                .await
                .map(result)
                .map_err(err)
        })
        .await
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
                crate::guard_async(async move {
                    let o = auth_options(options)?;
                    let flow = self
                        .inner
                        .initiate_auth_code_flow(&scopes, &redirect_uri, &o)
                        .await
                        .map_err(err)?;
                    Ok(Arc::new(AuthCodeFlow::from(flow)))
                })
                .await
            }

            /// Completes a flow with the redirect URL (or its query string).
            pub async fn acquire_token_by_auth_code_flow(
                &self,
                flow: Arc<AuthCodeFlow>,
                redirect: String,
            ) -> Result<TokenResult, AuthError> {
                crate::guard_async(async move {
                    self.inner
                        .acquire_token_by_auth_code_flow(flow.core(), &redirect)
                        .await
                        .map(result)
                        .map_err(err)
                })
                .await
            }

            /// Redeems a refresh token (kept when the answer brings no new one).
            pub async fn acquire_token_by_refresh_token(
                &self,
                refresh_token: String,
                scopes: Vec<String>,
                claims: Option<String>,
            ) -> Result<TokenResult, AuthError> {
                crate::guard_async(async move {
                    let rt = RefreshToken::new(refresh_token);
                    self.inner
                        .acquire_token_by_refresh_token(&rt, &scopes, claims.as_deref())
                        .await
                        .map(result)
                        .map_err(err)
                })
                .await
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
                crate::guard_async(async move {
                    let account = account.map(core_account);
                    self.inner
                        .acquire_token_silent(
                            &scopes,
                            account.as_ref(),
                            claims.as_deref(),
                            force_refresh,
                        )
                        .await
                        .map(result)
                        .map_err(err)
                })
                .await
            }

            /// The cached token `acquire_token_silent` would return, as msal
            /// Python's dict (JSON); nothing when it would need the network.
            pub fn cached_token_silent_json(
                &self,
                scopes: Vec<String>,
                home_account_id: String,
            ) -> Result<Option<String>, AuthError> {
                guard(|| hit_json(self.inner.cached_token(&scopes, &home_account_id)))
            }

            /// A prepared [`Self::cached_token_silent_json`] for these scopes
            /// and account, for callers that repeat the same lookup.
            pub fn silent_probe(
                &self,
                scopes: Vec<String>,
                home_account_id: String,
            ) -> Arc<CachedTokenProbe> {
                let app = self.inner.clone();
                CachedTokenProbe::new(Box::new(move || {
                    app.cached_token(&scopes, &home_account_id)
                }))
            }

            /// The accounts as msal Python's account dicts (a JSON list).
            pub fn get_accounts_json(&self, username: Option<String>) -> Result<String, AuthError> {
                guard(|| {
                    let accounts = self.inner.get_accounts(username.as_deref()).map_err(err)?;
                    Ok(accounts_json(&accounts))
                })
            }

            /// A number that changes whenever the cache may have changed (a
            /// changed cache file is re-read first): the account list read
            /// after it is still current while it stays the same.
            pub fn cache_generation(&self) -> Result<u64, AuthError> {
                guard(|| self.inner.cache_generation().map_err(err))
            }

            /// Accounts this app can use silently, optionally only `username`'s
            /// (case-insensitive).
            pub fn get_accounts(
                &self,
                username: Option<String>,
            ) -> Result<Vec<AccountInfo>, AuthError> {
                guard(|| {
                    self.inner
                        .get_accounts(username.as_deref())
                        .map(|v| v.iter().map(account_info).collect())
                        .map_err(err)
                })
            }

            /// Signs `account` out of this app: its tokens leave the cache.
            pub fn remove_account(&self, account: AccountInfo) -> Result<(), AuthError> {
                guard(|| {
                    self.inner
                        .remove_account(&core_account(account))
                        .map_err(err)
                })
            }

            /// The app's token cache (the one in its config, or its own).
            pub fn token_cache(&self) -> Arc<TokenCache> {
                TokenCache::wrap(self.inner.token_cache().clone())
            }

            /// ROPC: managed (cloud) users only; prefer interactive sign-in where there is a UI.
            pub async fn acquire_token_by_username_password(
                &self,
                username: String,
                password: String,
                scopes: Vec<String>,
                claims: Option<String>,
            ) -> Result<TokenResult, AuthError> {
                crate::guard_async(async move {
                    let pw = Password::new(password);
                    self.inner
                        .acquire_token_by_username_password(
                            &username,
                            &pw,
                            &scopes,
                            claims.as_deref(),
                        )
                        .await
                        .map(result)
                        .map_err(err)
                })
                .await
            }
        }
    };
}

shared_flows!(PublicClientApplication);
shared_flows!(ConfidentialClientApplication);
