//! The token flows as uniffi objects: thin wrappers over the core's
//! applications. Every method is async (Swift `async`, Kotlin `suspend`,
//! Python coroutine); errors are the same `AuthError` the classifier throws.

use crate::convert::unix;
use crate::types::{display_as_debug, AuthError};
use idflow::error::{IdFlowError, LocalCode};
use idflow::secret::{ClientAssertion, ClientSecret};
use idflow::LoopbackOptions;
use idflow::{AppOptions, Authority, ClientCertificate, ClientCredential as CoreCredential};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How an application reaches its identity provider. Its string form
/// (Kotlin `toString`, Swift `description`, Python `str`/`repr`) shows
/// every setting, proxy URLs without their `user:password@`.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct AppConfig {
    pub client_id: String,
    /// `https://login.microsoftonline.com/<tenant>` (or a sovereign cloud, B2C,
    /// CIAM), or an OpenID issuer when `oidc_authority` is true.
    pub authority: String,
    /// Treat `authority` as any OpenID provider's issuer URL.
    #[uniffi(default = false)]
    pub oidc_authority: bool,
    /// Extra trusted root certificates (PEM), e.g. a test server's self-signed one.
    #[uniffi(default = [])]
    pub extra_root_certificates_pem: Vec<String>,
    /// Whole-request timeout; the default is 30 s.
    #[uniffi(default = None)]
    pub timeout_ms: Option<u64>,
    /// Connection timeout; the default is 10 s.
    #[uniffi(default = None)]
    pub connect_timeout_ms: Option<u64>,
    /// Proxies as msal / `requests` take them: `{"https": "http://proxy:3128",
    /// "no_proxy": "localhost"}` (keys `scheme`, `scheme://host`, `all`).
    #[uniffi(default)]
    pub proxies: HashMap<String, String>,
    /// Also honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, as `requests` does.
    #[uniffi(default = true)]
    pub proxies_from_environment: bool,
    /// The app's own HTTP stack for every request (then the timeouts,
    /// proxies and root certificates above are its business; idflow still
    /// stops waiting after `timeout_ms`).
    #[uniffi(default = None)]
    pub http_client: Option<Arc<dyn crate::foreign_http::HttpClient>>,
    /// msal's `http_cache`: GET answers kept 24 h in the app's store and
    /// reused by every app over it (no discovery request the second time).
    #[uniffi(default = None)]
    pub http_cache: Option<Arc<dyn crate::http_cache::HttpCache>>,
    /// Instance discovery for unknown Microsoft hosts; turn off only for hosts you control.
    #[uniffi(default = true)]
    pub validate_authority: bool,
    /// The library name sent as `x-client-sku` (each language layer sets its own).
    #[uniffi(default = None)]
    pub client_sku: Option<String>,
    /// Where the app keeps tokens; `None` gives it its own in-memory cache.
    #[uniffi(default = None)]
    pub token_cache: Option<Arc<crate::cache::TokenCache>>,
    /// Client capabilities announced in every request's `claims` (`cp1`:
    /// the app handles claims challenges).
    #[uniffi(default = [])]
    pub client_capabilities: Vec<String>,
    /// The one transport retry of a 5xx without Retry-After or a timeout;
    /// turn it off when the app runs its own retry policy.
    #[uniffi(default = true)]
    pub retry_enabled: bool,
    /// The wait before that retry; the default is 1 s.
    #[uniffi(default = None)]
    pub retry_delay_ms: Option<u64>,
    /// Client credentials through a regional endpoint (see `AzureRegion`).
    #[uniffi(default = None)]
    pub azure_region: Option<crate::region::AzureRegion>,
    /// Sent as `x-app-name` / `x-app-ver` with every token request.
    #[uniffi(default = None)]
    pub app_name: Option<String>,
    #[uniffi(default = None)]
    pub app_version: Option<String>,
    /// Reserved scopes not to add to user sign-ins (`offline_access`, `profile`).
    #[uniffi(default = [])]
    pub exclude_scopes: Vec<String>,
    /// A JSON object of claims added to every certificate assertion, over
    /// the defaults (msal's `client_claims`).
    #[uniffi(default = None)]
    pub client_claims_json: Option<String>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("authority", &self.authority)
            .field("oidc_authority", &self.oidc_authority)
            .field(
                "extra_root_certificates_pem",
                &self.extra_root_certificates_pem.len(),
            )
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            // The core's proxy settings print without credentials.
            .field("proxies", &proxy_config(self))
            .field("http_client", &self.http_client)
            .field("validate_authority", &self.validate_authority)
            .field("client_sku", &self.client_sku)
            .field("token_cache", &self.token_cache.is_some())
            .field("client_capabilities", &self.client_capabilities)
            .field("retry_enabled", &self.retry_enabled)
            .field("retry_delay_ms", &self.retry_delay_ms)
            .field("azure_region", &self.azure_region)
            .field("app_name", &self.app_name)
            .field("app_version", &self.app_version)
            .field("exclude_scopes", &self.exclude_scopes)
            // Claims an app signs into its assertions: shown as present, not quoted.
            .field("client_claims", &self.client_claims_json.is_some())
            .field("http_cache", &self.http_cache.is_some())
            .finish()
    }
}

display_as_debug!(AppConfig);

/// A confidential client's credential. Its string form (Kotlin `toString`,
/// Swift `description`, Python `str`/`repr`) names the kind and never the secret.
#[derive(Clone, uniffi::Enum)]
#[uniffi::export(Debug, Display)]
pub enum ClientCredential {
    /// A client secret sent in the form body (what Microsoft expects).
    Secret { secret: String },
    /// A client secret sent as HTTP Basic authentication.
    SecretBasic { secret: String },
    /// A certificate and its private key (PEM): a fresh signed assertion per request.
    Certificate {
        certificate_pem: String,
        private_key_pem: String,
        send_x5c: bool,
    },
    /// A pre-signed client assertion (e.g. a federated workload identity token).
    Assertion { assertion: String },
    /// A PKCS#12 (.pfx) file's bytes and its password. `thumbprint_kid`
    /// also sends the thumbprint as `kid` (MSAL.NET's header; msal Python
    /// sends none).
    Pkcs12 {
        pfx: Vec<u8>,
        password: Option<String>,
        send_x5c: bool,
        thumbprint_kid: bool,
    },
    /// A PEM private key, plain or encrypted (`passphrase`), with its
    /// certificate (PS256 + `x5t#S256`) or only the certificate's SHA-1
    /// thumbprint in hex (RS256 + `x5t`), as msal Python's dict takes them.
    PrivateKey {
        private_key_pem: String,
        passphrase: Option<String>,
        certificate_pem: Option<String>,
        sha1_thumbprint: Option<String>,
        send_x5c: bool,
        thumbprint_kid: bool,
    },
    /// Workload identity federation: the token in this file (or, with no
    /// path, the file `AZURE_FEDERATED_TOKEN_FILE` names), read before each request.
    FederatedTokenFile { path: Option<String> },
    /// The app's callback, asked for an assertion before each request.
    AssertionCallback {
        callback: Arc<dyn crate::credentials::ClientAssertionCallback>,
    },
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::types::REDACTED;
        match self {
            ClientCredential::Secret { .. } => f
                .debug_struct("ClientCredential::Secret")
                .field("secret", &REDACTED)
                .finish(),
            ClientCredential::SecretBasic { .. } => f
                .debug_struct("ClientCredential::SecretBasic")
                .field("secret", &REDACTED)
                .finish(),
            ClientCredential::Certificate { send_x5c, .. } => f
                .debug_struct("ClientCredential::Certificate")
                .field("certificate_pem", &REDACTED)
                .field("private_key_pem", &REDACTED)
                .field("send_x5c", send_x5c)
                .finish(),
            ClientCredential::Assertion { .. } => f
                .debug_struct("ClientCredential::Assertion")
                .field("assertion", &REDACTED)
                .finish(),
            ClientCredential::Pkcs12 { send_x5c, .. } => f
                .debug_struct("ClientCredential::Pkcs12")
                .field("pfx", &REDACTED)
                .field("password", &REDACTED)
                .field("send_x5c", send_x5c)
                .finish(),
            ClientCredential::PrivateKey {
                sha1_thumbprint,
                send_x5c,
                ..
            } => f
                .debug_struct("ClientCredential::PrivateKey")
                .field("private_key_pem", &REDACTED)
                .field("passphrase", &REDACTED)
                .field("sha1_thumbprint", sha1_thumbprint)
                .field("send_x5c", send_x5c)
                .finish(),
            ClientCredential::FederatedTokenFile { path } => f
                .debug_struct("ClientCredential::FederatedTokenFile")
                .field("path", path)
                .finish(),
            ClientCredential::AssertionCallback { .. } => f
                .debug_struct("ClientCredential::AssertionCallback")
                .finish_non_exhaustive(),
        }
    }
}

impl std::fmt::Display for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Optional parts of an authorize request.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct AuthorizeOptions {
    /// `none`, `login`, `consent`, `select_account` or `create`.
    #[uniffi(default = None)]
    pub prompt: Option<String>,
    #[uniffi(default = None)]
    pub login_hint: Option<String>,
    #[uniffi(default = None)]
    pub domain_hint: Option<String>,
    /// A claims request (JSON object), e.g. the claims of an interaction-required error.
    #[uniffi(default = None)]
    pub claims: Option<String>,
    /// The `state` to send instead of a random one (it must be unguessable).
    #[uniffi(default = None)]
    pub state: Option<String>,
    /// `query` (the default), `fragment` or `form_post`.
    #[uniffi(default = None)]
    pub response_mode: Option<String>,
    /// OIDC `max_age` in seconds; the id token's `auth_time` is checked.
    #[uniffi(default = None)]
    pub max_age: Option<u64>,
    /// Other resources' scopes to consent to in the same sign-in.
    #[uniffi(default = [])]
    pub extra_scopes_to_consent: Vec<String>,
}

/// Opens the sign-in page (the system browser by default). Apps and tests
/// implement it to show the page their own way.
#[uniffi::export(with_foreign)]
pub trait UrlOpener: Send + Sync {
    /// Shows `url` to the user; an error ends the sign-in as `authentication_ui_failed`.
    fn open_url(&self, url: String) -> Result<(), AuthError>;
}

/// Cancels a device-code poll or an interactive sign-in from another thread:
/// the flow ends promptly with `user_cancelled`.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    inner: idflow::CancelHandle,
}

impl CancelHandle {
    pub(crate) fn core(&self) -> &idflow::CancelHandle {
        &self.inner
    }
}

#[uniffi::export]
impl CancelHandle {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelHandle::default())
    }

    pub fn cancel(&self) {
        self.inner.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// A started device-code flow: show `message` to the user at once, then poll.
#[derive(Debug, uniffi::Object)]
pub struct DeviceCodeFlow {
    inner: idflow::DeviceFlow,
}

impl From<idflow::DeviceFlow> for DeviceCodeFlow {
    fn from(inner: idflow::DeviceFlow) -> Self {
        DeviceCodeFlow { inner }
    }
}

impl DeviceCodeFlow {
    pub(crate) fn core(&self) -> &idflow::DeviceFlow {
        &self.inner
    }
}

#[uniffi::export]
impl DeviceCodeFlow {
    pub fn user_code(&self) -> String {
        self.inner.user_code.clone()
    }
    pub fn verification_uri(&self) -> String {
        self.inner.verification_uri.clone()
    }
    /// The verification URI with the code filled in, when the provider sends one
    /// (RFC 8628 §3.3.1; the Microsoft identity platform does not).
    pub fn verification_uri_complete(&self) -> Option<String> {
        self.inner.verification_uri_complete.clone()
    }
    /// The text to show the user (where to go, which code to type).
    pub fn message(&self) -> String {
        self.inner.message.clone()
    }
    /// Unix seconds after which the code is no longer accepted.
    pub fn expires_at(&self) -> i64 {
        unix(self.inner.expires_at)
    }
    pub fn interval_secs(&self) -> u64 {
        self.inner.interval.as_secs()
    }
    pub fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
    pub fn correlation_id(&self) -> String {
        self.inner.correlation_id.clone()
    }
}

/// A started authorization-code flow: send the user to `auth_uri`, then
/// complete it with the redirect.
#[derive(Debug, uniffi::Object)]
pub struct AuthCodeFlow {
    inner: idflow::AuthCodeFlow,
}

impl From<idflow::AuthCodeFlow> for AuthCodeFlow {
    fn from(inner: idflow::AuthCodeFlow) -> Self {
        AuthCodeFlow { inner }
    }
}

impl AuthCodeFlow {
    pub(crate) fn core(&self) -> &idflow::AuthCodeFlow {
        &self.inner
    }
}

#[uniffi::export]
impl AuthCodeFlow {
    pub fn auth_uri(&self) -> String {
        self.inner.auth_uri.to_string()
    }
    pub fn redirect_uri(&self) -> String {
        self.inner.redirect_uri.clone()
    }
    /// The `state` the redirect must carry back (web apps store it in the session).
    pub fn state(&self) -> String {
        self.inner.state().expose().to_owned()
    }
    pub fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
}

fn invalid(message: &str) -> IdFlowError {
    IdFlowError::local(LocalCode::InvalidParameter, message)
}

/// `proxies` in a stable order, as the core takes them.
fn proxy_config(config: &AppConfig) -> idflow::ProxyConfig {
    let mut proxies: Vec<(String, String)> = config
        .proxies
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    proxies.sort();
    idflow::ProxyConfig {
        proxies,
        from_environment: config.proxies_from_environment,
    }
}

pub(crate) fn options(config: &AppConfig) -> Result<AppOptions, IdFlowError> {
    let mut o = AppOptions {
        validate_authority: config.validate_authority,
        ..AppOptions::default()
    };
    if let Some(ms) = config.timeout_ms {
        o.http_config.timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = config.connect_timeout_ms {
        o.http_config.connect_timeout = Duration::from_millis(ms);
    }
    o.http_config.proxy = proxy_config(config);
    if let Some(client) = &config.http_client {
        let http = crate::foreign_http::ForeignHttp::new(client.clone(), o.http_config.timeout);
        o = o.with_http_client(Arc::new(http));
    }
    if let Some(store) = &config.http_cache {
        o.http_cache = Some(Arc::new(crate::http_cache::ForeignHttpCache(store.clone())));
    }
    for pem in &config.extra_root_certificates_pem {
        o = o.with_extra_root_certificate(pem.as_bytes().to_vec());
    }
    if let Some(sku) = &config.client_sku {
        o.client_sku = sku.clone();
    }
    if let Some(cache) = &config.token_cache {
        o.token_cache = Some(cache.core().clone());
    }
    o.client_capabilities = config.client_capabilities.clone();
    o.retry.enabled = config.retry_enabled;
    if let Some(ms) = config.retry_delay_ms {
        o.retry.delay = Duration::from_millis(ms);
    }
    crate::region::apply(
        &mut o,
        config.azure_region.clone(),
        config.app_name.clone(),
        config.app_version.clone(),
        config.exclude_scopes.clone(),
        config.client_claims_json.as_deref(),
    )?;
    Ok(o)
}

pub(crate) fn authority(config: &AppConfig) -> Result<Authority, IdFlowError> {
    if config.oidc_authority {
        Authority::oidc(&config.authority)
    } else {
        Authority::parse(&config.authority)
    }
}

pub(crate) fn credential(c: ClientCredential) -> Result<CoreCredential, IdFlowError> {
    Ok(match c {
        ClientCredential::Secret { secret } => CoreCredential::Secret(ClientSecret::new(secret)),
        ClientCredential::SecretBasic { secret } => {
            CoreCredential::SecretBasic(ClientSecret::new(secret))
        }
        ClientCredential::Certificate {
            certificate_pem,
            private_key_pem,
            send_x5c,
        } => CoreCredential::Certificate(
            ClientCertificate::from_pem(&certificate_pem, &private_key_pem)?.with_x5c(send_x5c),
        ),
        ClientCredential::Assertion { assertion } => {
            CoreCredential::Assertion(ClientAssertion::new(assertion))
        }
        ClientCredential::Pkcs12 {
            pfx,
            password,
            send_x5c,
            thumbprint_kid,
        } => CoreCredential::Certificate(crate::credentials::pkcs12(
            &pfx,
            password,
            send_x5c,
            thumbprint_kid,
        )?),
        ClientCredential::PrivateKey {
            private_key_pem,
            passphrase,
            certificate_pem,
            sha1_thumbprint,
            send_x5c,
            thumbprint_kid,
        } => CoreCredential::Certificate(crate::credentials::private_key(
            &private_key_pem,
            passphrase,
            certificate_pem,
            sha1_thumbprint,
            send_x5c,
            thumbprint_kid,
        )?),
        ClientCredential::FederatedTokenFile { path } => {
            CoreCredential::Provider(crate::credentials::federated_token_file(path)?)
        }
        ClientCredential::AssertionCallback { callback } => {
            CoreCredential::Provider(Arc::new(crate::credentials::ForeignAssertion(callback)))
        }
    })
}

pub(crate) fn auth_options(o: AuthorizeOptions) -> Result<idflow::AuthCodeOptions, IdFlowError> {
    use idflow::Prompt;
    let prompt = match o.prompt.as_deref() {
        None => None,
        Some("none") => Some(Prompt::None),
        Some("login") => Some(Prompt::Login),
        Some("consent") => Some(Prompt::Consent),
        Some("select_account") => Some(Prompt::SelectAccount),
        Some("create") => Some(Prompt::Create),
        Some(_) => {
            return Err(invalid(
                "prompt must be none, login, consent, select_account or create",
            ))
        }
    };
    let response_mode = match o.response_mode.as_deref() {
        None => None,
        Some(m) => Some(
            idflow::ResponseMode::parse(m)
                .ok_or_else(|| invalid("response_mode must be query, fragment or form_post"))?,
        ),
    };
    Ok(idflow::AuthCodeOptions {
        prompt,
        login_hint: o.login_hint,
        domain_hint: o.domain_hint,
        claims: o.claims,
        state: o.state,
        response_mode,
        max_age: o.max_age,
        extra_scopes_to_consent: o.extra_scopes_to_consent,
        ..idflow::AuthCodeOptions::default()
    })
}

/// Adapts a foreign [`UrlOpener`] to the core's browser opener.
#[derive(Clone)]
pub(crate) struct ForeignOpener(pub Arc<dyn UrlOpener>);

impl std::fmt::Debug for ForeignOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignOpener")
    }
}

impl idflow::BrowserOpener for ForeignOpener {
    fn open(&self, url: &url::Url) -> Result<(), String> {
        // A panic while calling out (an unexpected foreign failure uniffi
        // cannot map) ends the sign-in like a thrown error.
        let opener = &self.0;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            opener.open_url(url.to_string())
        }))
        .map_err(|_| "the app's URL opener failed unexpectedly".to_owned())?
        .map_err(|e| e.info().message.clone())
    }
}

pub(crate) fn loopback(port: u16, redirect_host: Option<String>) -> LoopbackOptions {
    let mut l = LoopbackOptions {
        port,
        ..LoopbackOptions::default()
    };
    if let Some(h) = redirect_host {
        l.redirect_host = h;
    }
    l
}
