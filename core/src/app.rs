//! The applications: [`PublicClientApplication`] (desktop, mobile, CLI —
//! cannot keep a secret) and [`ConfidentialClientApplication`] (web apps,
//! APIs, daemons — authenticates with a [`ClientCredential`]).
//!
//! Two types rather than one with an optional credential, as in every MSAL:
//! the compiler then refuses client credentials or on-behalf-of on a public
//! client and the device code flow on a confidential one. Both are cheap to
//! clone (they share one engine and its discovery cache) and every method
//! is `async`, runs on tokio, and fails only with an
//! [`IdFlowError`] carrying a correlation id when a
//! request was sent.

use crate::cache::TokenCache;
use crate::error::{Flow, IdFlowError, LocalCode};
use crate::flows::auth_code::{self, AuthCodeFlow, AuthCodeOptions};
use crate::flows::cancel::{or_cancel, CancelHandle};
use crate::flows::device_code::{self, DeviceFlow};
use crate::flows::loopback::{BrowserOpener, LoopbackListener, LoopbackOptions, SystemBrowser};
use crate::flows::{ClientCredential, Engine};
use crate::net::clock::{Clock, ManualTime, Sleeper, SystemClock, TokioSleeper};
use crate::net::http::HttpClient;
use crate::net::retry::RetryPolicy;
use crate::net::sender::Sender;
use crate::net::transport::{HttpConfig, ReqwestHttpClient};
use crate::protocol::authority::Authority;
use crate::protocol::discovery::ResolvedAuthority;
use crate::protocol::region::{AzureRegion, RegionEnvironment, RegionPlan};
use crate::protocol::token::{Account, AuthenticationResult};
use crate::secret::{Password, RefreshToken, UserAssertion};
use std::sync::Arc;
use std::time::Duration;

/// The library name sent as `x-client-sku` unless the app (or a language
/// binding) names itself.
pub const DEFAULT_SKU: &str = "idflow.rust";

/// How an app talks to the network and reads time. The defaults suit
/// production; tests inject a scripted HTTP client or a [`ManualTime`].
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Replaces the default reqwest client (then `http_config` is unused).
    pub http: Option<Arc<dyn HttpClient>>,
    pub http_config: HttpConfig,
    /// msal's `http_cache`: GET answers (discovery, instance metadata,
    /// signing keys) kept for 24 h in the app's store and reused by every
    /// app over the same store (see [`crate::HttpCacheStore`]).
    pub http_cache: Option<Arc<dyn crate::HttpCacheStore>>,
    pub clock: Arc<dyn Clock>,
    pub sleeper: Arc<dyn Sleeper>,
    /// Run instance discovery for unknown Microsoft hosts (msal's
    /// `validate_authority`); turn off only for hosts you control.
    pub validate_authority: bool,
    /// `x-client-sku` / `x-client-ver`: the language bindings set their own.
    pub client_sku: String,
    pub client_version: String,
    /// Where tokens are kept. `None` gives the app its own in-memory cache
    /// (as msal does); pass one to share it between apps or persist it.
    pub token_cache: Option<TokenCache>,
    /// The one transport retry for a 5xx without Retry-After or a timeout
    /// (on, 1 s); [`RetryPolicy::OFF`] when the app retries itself.
    pub retry: RetryPolicy,
    /// Client capabilities announced in every request's `claims` (`cp1`:
    /// the app handles claims challenges, so the platform may issue
    /// Continuous Access Evaluation tokens).
    pub client_capabilities: Vec<String>,
    /// Tests only: an Entra authority on a loopback host (the project's
    /// emulator) is resolved offline as a well-known cloud's is, with no
    /// OpenID discovery before the first token. Has no effect on any other
    /// host; production code leaves it off.
    #[doc(hidden)]
    pub loopback_as_known_cloud: bool,
    /// Client credentials through a regional endpoint (confidential apps,
    /// Microsoft authorities): a named region, detection, or none; `None`
    /// takes `MSAL_FORCE_REGION` from `region_environment`, as msal does.
    /// See [`crate::protocol::region`].
    pub azure_region: Option<AzureRegion>,
    /// Where region detection looks (`REGION_NAME`, `MSAL_FORCE_REGION`,
    /// the IMDS endpoint and its timeout); the process's by default.
    pub region_environment: RegionEnvironment,
    /// The app's name and version, sent as `x-app-name` / `x-app-ver` with
    /// every token request (msal's `app_name` / `app_version`).
    pub app_name: Option<String>,
    pub app_version: Option<String>,
    /// Reserved scopes not to add to user sign-ins (msal's
    /// `exclude_scopes`): `offline_access` (no refresh token) or `profile`;
    /// `openid` cannot be excluded.
    pub exclude_scopes: Vec<String>,
    /// Claims added to every certificate assertion, over the defaults
    /// (msal's `client_claims`); ignored for other credentials, as msal does.
    pub client_assertion_claims: serde_json::Map<String, serde_json::Value>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            http: None,
            http_config: HttpConfig::default(),
            http_cache: None,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            validate_authority: true,
            client_sku: DEFAULT_SKU.to_owned(),
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            token_cache: None,
            retry: RetryPolicy::default(),
            client_capabilities: Vec::new(),
            loopback_as_known_cloud: false,
            azure_region: None,
            region_environment: RegionEnvironment::default(),
            app_name: None,
            app_version: None,
            exclude_scopes: Vec::new(),
            client_assertion_claims: serde_json::Map::new(),
        }
    }
}

impl AppOptions {
    /// Trusts one more root certificate (PEM or DER), e.g. a test server's.
    pub fn with_extra_root_certificate(mut self, pem_or_der: impl Into<Vec<u8>>) -> Self {
        self.http_config
            .extra_root_certificates
            .push(pem_or_der.into());
        self
    }

    /// Sends every request through `http` instead of the default client.
    pub fn with_http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// Keeps tokens in `cache` (shared with every app given the same one).
    pub fn with_token_cache(mut self, cache: TokenCache) -> Self {
        self.token_cache = Some(cache);
        self
    }

    /// Uses `time` as both clock and sleeper: waits return at once.
    pub fn with_manual_time(mut self, time: ManualTime) -> Self {
        self.clock = Arc::new(time.clone());
        self.sleeper = Arc::new(time);
        self
    }
}

/// How [`PublicClientApplication::acquire_token_interactive`] runs.
#[derive(Clone, Debug)]
pub struct InteractiveOptions {
    pub auth: AuthCodeOptions,
    pub loopback: LoopbackOptions,
    /// Shows the authorize page; [`SystemBrowser`] by default.
    pub opener: Arc<dyn BrowserOpener>,
    /// Cancels the wait for the redirect (and the code redemption).
    pub cancel: CancelHandle,
    /// Gives up (`user_cancelled`) after this long, measured by the app's
    /// sleeper, in place of `loopback.timeout`; `None` leaves the listener's
    /// own timeout (`loopback.timeout`, 120 s by default) in force.
    pub timeout: Option<Duration>,
}

impl Default for InteractiveOptions {
    fn default() -> Self {
        InteractiveOptions {
            auth: AuthCodeOptions::default(),
            loopback: LoopbackOptions::default(),
            opener: Arc::new(SystemBrowser),
            cancel: CancelHandle::new(),
            timeout: None,
        }
    }
}

fn engine(
    client_id: &str,
    authority: Authority,
    credential: Option<ClientCredential>,
    options: AppOptions,
) -> Result<Arc<Engine>, IdFlowError> {
    if client_id.trim().is_empty() {
        return Err(IdFlowError::local(
            LocalCode::InvalidParameter,
            "the client id is empty",
        ));
    }
    crate::flows::check_exclude_scopes(&options.exclude_scopes)?;
    let plan = RegionPlan::decide(
        options.azure_region.as_ref(),
        credential.is_some(),
        &options.region_environment,
    )?;
    let credential = match credential {
        Some(ClientCredential::Certificate(cert))
            if !options.client_assertion_claims.is_empty() =>
        {
            Some(ClientCredential::Certificate(
                cert.with_claims(options.client_assertion_claims.clone()),
            ))
        }
        other => other,
    };
    let http: Arc<dyn HttpClient> = match options.http {
        Some(h) => h,
        None => Arc::new(ReqwestHttpClient::new(&options.http_config)?),
    };
    let http: Arc<dyn HttpClient> = match options.http_cache {
        Some(store) => Arc::new(crate::CachingHttpClient::new(
            http,
            store,
            options.clock.clone(),
        )),
        None => http,
    };
    let mut engine = Engine::new(
        client_id.trim().to_owned(),
        authority,
        Sender {
            http,
            clock: options.clock,
            sleeper: options.sleeper,
            sku: options.client_sku,
            version: options.client_version,
            retry: options.retry,
        },
        options.validate_authority,
        credential,
        options.token_cache.unwrap_or_default(),
        options.client_capabilities,
    );
    engine.region = crate::flows::Regional::new(plan, options.region_environment);
    engine.exclude_scopes = options.exclude_scopes;
    for (name, value) in [
        ("x-app-name", options.app_name),
        ("x-app-ver", options.app_version),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            engine.app_headers.push((name.to_owned(), v));
        }
    }
    if options.loopback_as_known_cloud {
        engine.discovery = crate::protocol::discovery::Discovery::with_loopback_as_known_cloud();
    }
    // A well-known cloud's endpoints follow from the authority: built now,
    // not on the first token request.
    engine.discovery.prime_known_cloud(&engine.authority);
    Ok(Arc::new(engine))
}

/// Methods both application types have.
macro_rules! common_methods {
    () => {
        /// The shared engine, for in-crate tests of engine-level behaviour.
        #[cfg(test)]
        #[allow(dead_code)] // one of the two app types uses it
        pub(crate) fn engine_for_tests(&self) -> &Arc<Engine> {
            &self.engine
        }

        /// This app for requests to another tenant of its cloud (msal for
        /// Java's `tenant(...)` on a request's parameters, MSAL.NET's
        /// `WithTenantId`): the same host with `tenant` in place of the
        /// app's tenant, sharing the app's credential, options and token
        /// cache. Its tokens are filed under that tenant's realm, so its
        /// silent calls answer only from that tenant's tokens (refreshing
        /// the account's refresh token against that tenant). Cheap: one view
        /// per tenant is kept for the app's lifetime. Fails with
        /// `invalid_parameter` for a B2C, ADFS or generic OpenID authority
        /// (no tenant to replace) or a malformed tenant.
        pub fn for_tenant(&self, tenant: &str) -> Result<Self, IdFlowError> {
            Ok(match self.engine.for_tenant(tenant)? {
                Some(engine) => Self { engine },
                None => self.clone(),
            })
        }

        pub fn client_id(&self) -> &str {
            &self.engine.client_id
        }

        pub fn authority(&self) -> &Authority {
            &self.engine.authority
        }

        /// The app's token cache (every successful result is saved in it).
        pub fn token_cache(&self) -> &TokenCache {
            &self.engine.cache
        }

        /// A token for `account` without user interaction: a valid cached
        /// access token (no network at all), else one obtained with the
        /// cached refresh token. Fails with `no_account` / `no_tokens_found`
        /// (interaction required) when nothing usable is cached, and with the
        /// server's classified error when the refresh is refused — then sign
        /// the user in interactively, passing the error's `claims` if any.
        /// `force_refresh` and `claims` skip the access-token cache.
        pub async fn acquire_token_silent<S: AsRef<str>>(
            &self,
            scopes: &[S],
            account: Option<&Account>,
            claims: Option<&str>,
            force_refresh: bool,
        ) -> Result<AuthenticationResult, IdFlowError> {
            self.engine
                .acquire_token_silent(scopes, account, claims, force_refresh)
                .await
        }

        /// The cached token `acquire_token_silent` would return for the
        /// account with this `home_account_id`, without any network: `None`
        /// when it would have to refresh (or find nothing). The result has no
        /// `account` (pass the one you hold).
        pub fn cached_token<S: AsRef<str>>(
            &self,
            scopes: &[S],
            home_account_id: &str,
        ) -> Result<Option<AuthenticationResult>, IdFlowError> {
            self.engine.cached_token(scopes, Some(home_account_id))
        }

        /// The accounts in the cache this app can use silently (with a
        /// refresh token of its own or its family), optionally only those
        /// whose username matches (case-insensitive). With a partition store
        /// attached (a distributed cache), only the accounts of the
        /// partitions this process has read or written: the store is never
        /// enumerated (a scan of every user is no per-request operation, and
        /// a key names no user). Use [`Self::get_account`] with the id the
        /// app kept; the first call logs this once at `info`.
        pub fn get_accounts(&self, username: Option<&str>) -> Result<Vec<Account>, IdFlowError> {
            self.engine.accounts(username)
        }

        /// [`Self::get_accounts`], each account handed to `f` borrowed, in
        /// the same order, instead of collected: for a caller that copies
        /// them elsewhere at once (one buffer for a language binding), with
        /// nothing allocated per account. `f` runs under the cache's read
        /// lock: it must not call back into the cache.
        pub fn for_each_account(
            &self,
            username: Option<&str>,
            f: impl FnMut(crate::AccountRef<'_>),
        ) -> Result<(), IdFlowError> {
            self.engine.for_each_account(username, f)
        }

        /// Brings `view` — every account [`Self::get_accounts`] lists, as
        /// the caller last received them — up to date, handing `f` the
        /// steps that do the same to the caller's copy: after a sign-in,
        /// the one account added rather than the whole list again. For a
        /// binding that keeps the list on its side of an expensive boundary;
        /// `f` runs under the cache's read lock.
        pub fn update_accounts_view(
            &self,
            view: &mut crate::AccountsView,
            f: impl FnMut(crate::ViewStep<'_>),
        ) -> Result<(), IdFlowError> {
            self.engine.update_accounts_view(view, f)
        }

        /// The account with this `home_account_id` (kept by the app, e.g. in
        /// its session), or `None`. With a partition store attached, that
        /// user's partition is read from the store first, so any instance
        /// finds an account another instance signed in: the way to pick the
        /// account for [`Self::acquire_token_silent`] in a web farm, where
        /// [`Self::get_accounts`] lists only the partitions this process
        /// has read. MSAL.NET answers the same way: its `GetAccountAsync`
        /// with an identifier suggests that identifier as the partition to
        /// load (AzureAD/microsoft-authentication-library-for-dotnet
        /// `src/client/Microsoft.Identity.Client/ClientApplicationBase.cs`).
        pub async fn get_account(
            &self,
            home_account_id: &str,
        ) -> Result<Option<Account>, IdFlowError> {
            self.engine.account_by_id(home_account_id).await
        }

        /// A number that changes whenever this app's cache may have changed
        /// (attached storage is re-read first when it changed): a list from
        /// [`Self::get_accounts`] taken after reading a number is still
        /// current while the number stays the same.
        pub fn cache_generation(&self) -> Result<u64, IdFlowError> {
            self.engine.cache_generation()
        }

        /// A number that changes whenever this app's account list may have
        /// changed (attached storage is re-read first when it changed), and
        /// not at a token refresh: a list from [`Self::get_accounts`] taken
        /// after reading a number is still current while it stays the same.
        pub fn accounts_generation(&self) -> Result<u64, IdFlowError> {
            self.engine.accounts_generation()
        }

        /// Signs the account out of this app: its tokens for this app are
        /// removed from the cache.
        pub fn remove_account(&self, account: &Account) -> Result<(), IdFlowError> {
            self.engine.remove_account(account)
        }

        /// The authority's endpoints and metadata (discovery runs once per app).
        pub async fn resolve_authority(&self) -> Result<Arc<ResolvedAuthority>, IdFlowError> {
            self.engine.resolve().await
        }

        /// Starts an authorization code + PKCE flow: send the user to the
        /// returned flow's `auth_uri`, then pass the redirect to
        /// `acquire_token_by_auth_code_flow`.
        pub async fn initiate_auth_code_flow<S: AsRef<str>>(
            &self,
            scopes: &[S],
            redirect_uri: &str,
            options: &AuthCodeOptions,
        ) -> Result<AuthCodeFlow, IdFlowError> {
            auth_code::initiate(&self.engine, scopes, redirect_uri, options).await
        }

        /// Completes an authorization code flow with the redirect URL (or its
        /// query string): checks `state`, surfaces an `error` redirect, redeems
        /// the code with the PKCE verifier and checks the id token's nonce.
        pub async fn acquire_token_by_auth_code_flow(
            &self,
            flow: &AuthCodeFlow,
            redirect: &str,
        ) -> Result<AuthenticationResult, IdFlowError> {
            auth_code::complete(&self.engine, flow, redirect).await
        }

        /// The authorize URL of the older pattern (msal's
        /// `get_authorization_request_url`); prefer
        /// [`Self::initiate_auth_code_flow`], which adds PKCE, `state` and
        /// `nonce` and checks them. `options.state` is sent when given.
        pub async fn get_authorization_request_url<S: AsRef<str>>(
            &self,
            scopes: &[S],
            redirect_uri: &str,
            options: &AuthCodeOptions,
            nonce: Option<&str>,
            code_challenge: Option<&str>,
        ) -> Result<url::Url, IdFlowError> {
            crate::flows::web_flow::authorization_request_url(
                &self.engine,
                scopes,
                redirect_uri,
                options,
                nonce,
                code_challenge,
            )
            .await
        }

        /// Redeems a code the app received itself (the older pattern, msal's
        /// `acquire_token_by_authorization_code`): `redirect_uri` must be the
        /// authorize request's, `code_verifier` its PKCE verifier when it
        /// sent a challenge; the id token's nonce is checked when given.
        #[allow(clippy::too_many_arguments)]
        pub async fn acquire_token_by_authorization_code<S: AsRef<str>>(
            &self,
            code: &crate::secret::AuthorizationCode,
            scopes: &[S],
            redirect_uri: Option<&str>,
            nonce: Option<&str>,
            code_verifier: Option<&crate::secret::PkceVerifier>,
            claims: Option<&str>,
        ) -> Result<AuthenticationResult, IdFlowError> {
            crate::flows::web_flow::redeem_authorization_code(
                &self.engine,
                code,
                scopes,
                redirect_uri,
                nonce,
                code_verifier,
                claims,
            )
            .await
        }

        /// Redeems a refresh token the app holds for new tokens.
        pub async fn acquire_token_by_refresh_token<S: AsRef<str>>(
            &self,
            refresh_token: &RefreshToken,
            scopes: &[S],
            claims: Option<&str>,
        ) -> Result<AuthenticationResult, IdFlowError> {
            self.engine
                .refresh_token(refresh_token, scopes, claims, Flow::Token)
                .await
        }

        /// Resource owner password credentials (ROPC). Discouraged: it fails
        /// for MFA, federated and personal accounts.
        pub async fn acquire_token_by_username_password<S: AsRef<str>>(
            &self,
            username: &str,
            password: &Password,
            scopes: &[S],
            claims: Option<&str>,
        ) -> Result<AuthenticationResult, IdFlowError> {
            self.engine
                .username_password(username, password, scopes, claims)
                .await
        }
    };
}

/// An app that runs on the user's device and holds no secret.
#[derive(Clone, Debug)]
pub struct PublicClientApplication {
    engine: Arc<Engine>,
}

impl PublicClientApplication {
    /// Fails with `invalid_parameter` for an empty client id or an
    /// unparsable extra root certificate. No request is sent yet.
    pub fn new(
        client_id: &str,
        authority: Authority,
        options: AppOptions,
    ) -> Result<Self, IdFlowError> {
        Ok(PublicClientApplication {
            engine: engine(client_id, authority, None, options)?,
        })
    }

    common_methods!();

    /// Starts the device code flow. Show the returned flow's `message` at
    /// once, then call [`acquire_token_by_device_flow`](Self::acquire_token_by_device_flow).
    pub async fn initiate_device_flow<S: AsRef<str>>(
        &self,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<DeviceFlow, IdFlowError> {
        device_code::initiate(&self.engine, scopes, claims).await
    }

    /// Polls until the user finishes on the other device. Ends with
    /// `code_expired` at the flow's `expires_at`, with the server's error for
    /// a declined or bad code, and with `user_cancelled` when `cancel` fires.
    pub async fn acquire_token_by_device_flow(
        &self,
        flow: &DeviceFlow,
        cancel: &CancelHandle,
    ) -> Result<AuthenticationResult, IdFlowError> {
        device_code::poll(&self.engine, flow, cancel).await
    }

    /// One poll of the device code, for an app that runs its own loop (as
    /// msal Python's `exit_condition` lets it): the token, or the server's
    /// answer as an error, `authorization_pending` or `slow_down` (wait the
    /// flow's interval, plus 5 s after `slow_down`, and call again) while
    /// the user has not finished. The flow's `expires_at` is not checked:
    /// the server answers `expired_token`.
    pub async fn poll_device_flow_once(
        &self,
        flow: &DeviceFlow,
        cancel: &CancelHandle,
    ) -> Result<AuthenticationResult, IdFlowError> {
        device_code::poll_once(&self.engine, flow, cancel).await
    }

    /// Interactive sign-in through the browser and a loopback redirect:
    /// binds the listener, opens the authorize page with `options.opener`,
    /// waits for the redirect and redeems the code.
    pub async fn acquire_token_interactive<S: AsRef<str>>(
        &self,
        scopes: &[S],
        options: InteractiveOptions,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let mut loopback = options.loopback.clone();
        if options.timeout.is_some() {
            // The app's own timeout takes the place of the listener's.
            loopback.timeout = None;
        }
        let listener = LoopbackListener::bind(loopback).await?;
        let flow = self
            .initiate_auth_code_flow(scopes, listener.redirect_uri(), &options.auth)
            .await?;
        options.opener.open(&flow.auth_uri).map_err(|why| {
            IdFlowError::local(LocalCode::AuthenticationUiFailed, why)
                .with_flow(Flow::Authorize)
                .with_correlation_id(flow.correlation_id.clone())
        })?;
        let redirect = match options.timeout {
            None => {
                listener
                    .receive(flow.state().expose(), &options.cancel)
                    .await?
            }
            Some(limit) => {
                let sleep = self.engine.sender.sleeper.sleep(limit);
                tokio::select! {
                    r = listener.receive(flow.state().expose(), &options.cancel) => r?,
                    _ = sleep => return Err(CancelHandle::error(
                        Flow::Authorize,
                        "the interactive sign-in (no redirect before the timeout)",
                    )),
                }
            }
        };
        or_cancel(
            &options.cancel,
            Flow::Token,
            "the interactive sign-in",
            self.acquire_token_by_auth_code_flow(&flow, &redirect),
        )
        .await?
    }
}

/// An app that can keep a credential: a web app, a web API or a daemon.
#[derive(Clone, Debug)]
pub struct ConfidentialClientApplication {
    engine: Arc<Engine>,
}

impl ConfidentialClientApplication {
    /// Fails with `invalid_parameter` for an empty client id or an
    /// unparsable extra root certificate. No request is sent yet.
    pub fn new(
        client_id: &str,
        authority: Authority,
        credential: ClientCredential,
        options: AppOptions,
    ) -> Result<Self, IdFlowError> {
        Ok(ConfidentialClientApplication {
            engine: engine(client_id, authority, Some(credential), options)?,
        })
    }

    common_methods!();

    /// An app-only token (client credentials). Microsoft authorities need
    /// exactly one scope of the form `<resource>/.default`. A valid cached
    /// token is returned without a request (`token_source` `Cache`);
    /// concurrent misses share one request. A `claims` request always goes
    /// to the server.
    pub async fn acquire_token_for_client<S: AsRef<str>>(
        &self,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        self.engine.client_credentials_cached(scopes, claims).await
    }

    /// The cached app-only token `acquire_token_for_client` would return,
    /// without any network; `None` when it would have to send a request.
    pub fn cached_token_for_client<S: AsRef<str>>(
        &self,
        scopes: &[S],
    ) -> Result<Option<AuthenticationResult>, IdFlowError> {
        self.engine.cached_token(scopes, None)
    }

    /// Removes the app-only tokens this client obtained with
    /// [`Self::acquire_token_for_client`] (user tokens stay), in the app's
    /// environment and, when the authority is validated, the other hosts of
    /// its well-known cloud — as msal Python's `remove_tokens_for_client`
    /// (AzureAD/microsoft-authentication-library-for-python
    /// `msal/application.py`). Returns how many were removed.
    pub fn remove_tokens_for_client(&self) -> usize {
        let e = &self.engine;
        let mut envs = vec![e.environment.as_str()];
        if e.validate_authority {
            envs.extend(crate::protocol::discovery::known_aliases(&e.environment));
        }
        e.cache
            .remove_app_tokens(&e.client_id, &envs, e.sender.clock.now())
    }

    /// On-behalf-of: exchanges the access token this API received
    /// (`user_assertion`) for a token to a downstream API, as the same user.
    /// The answer is cached under the assertion's hash (memory, and the
    /// attached partition store): the same assertion and scopes are served
    /// from the cache (`token_source` `Cache`) until the token nears expiry.
    /// A `claims` request always goes to the server.
    pub async fn acquire_token_on_behalf_of<S: AsRef<str>>(
        &self,
        user_assertion: &UserAssertion,
        scopes: &[S],
        claims: Option<&str>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        self.engine
            .on_behalf_of_cached(user_assertion, scopes, claims)
            .await
    }
}
