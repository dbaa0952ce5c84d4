//! [`ManagedIdentityClient`]: the cache, then the source, as msal Python's
//! `ManagedIdentityClient.acquire_token_for_client` does it
//! (`msal/managed_identity.py`).
//!
//! - Tokens are cached in the app's token cache under msal Python's
//!   conventions: environment `localhost`, realm `managed_identity`, the
//!   identity's id (null for the system-assigned one) as `client_id`,
//!   the resource as the target. A msal cache and idflow's hold the same
//!   entries.
//! - A cached token with less than 5 minutes left is a miss; one past its
//!   `refresh_on` is refreshed, and returned if the refresh fails.
//! - A token living 2 hours or more gets `refresh_on` at half its life.
//! - `claims_challenge` skips the cache; the rejected token's SHA-256 goes to
//!   Service Fabric (`token_sha256_to_refresh`), with `xms_cc` for the client
//!   capabilities.
//! - A 429 or 5xx (or any answer with `Retry-After`) blocks repeats of the
//!   same request for its `Retry-After`, else 5 s (msal Python's
//!   `_ThrottledHttpClient`), through the library's client-side throttle.

use super::arc;
use super::environment::{ManagedIdentityEnvironment, ManagedIdentitySource, Target};
use super::identity::ManagedIdentity;
use super::request::{self, Ask};
use super::response::{self, SourceToken};
use super::retry::{ManagedIdentityRetry, Retries, RetryDecision};
use crate::app::AppOptions;
use crate::cache::{AccessTokenQuery, SaveRequest, TokenCache};
use crate::error::{Flow, IdFlowError};
use crate::net::http::{HttpClient, HttpRequest};
use crate::net::pinned::Thumbprint;
use crate::net::proxy::ProxyConfig;
use crate::net::retry::RetryPolicy;
use crate::net::sender::{Exchange, Sender};
use crate::net::throttle::{Throttle, ThrottleKey, MAX_RETRY_AFTER};
use crate::net::transport::{HttpConfig, ReqwestHttpClient};
use crate::protocol::token::{AuthenticationResult, TokenSource};
use crate::secret::AccessToken;
use aws_lc_rs::digest::{digest, SHA256};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The cache's environment for managed identity tokens (msal Python's `__instance`).
pub const CACHE_ENVIRONMENT: &str = "localhost";
/// The cache's realm for managed identity tokens (msal Python's `_tenant`).
pub const CACHE_REALM: &str = "managed_identity";
/// A cached token with less left than this is not used.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Tokens living at least this long get `refresh_on` at half-life.
pub const HALF_LIFE_FROM: u64 = 7200;
/// How long a 429 or 5xx without `Retry-After` blocks its repeats.
pub const DEFAULT_BLOCK: Duration = Duration::from_secs(5);

/// How a [`ManagedIdentityClient`] reaches its source.
#[derive(Clone, Debug, Default)]
pub struct ManagedIdentityOptions {
    /// HTTP client, clock, sleeper, token cache, client capabilities, sku.
    pub app: AppOptions,
    /// The variables that pick the source; `None` reads the process's own
    /// at each request (as msal does).
    pub environment: Option<ManagedIdentityEnvironment>,
    /// Azure Arc's token directory; `None` is the platform's.
    pub arc_key_directory: Option<PathBuf>,
    pub retry: ManagedIdentityRetry,
}

/// A managed identity token.
#[derive(Clone, Debug)]
pub struct ManagedIdentityResult {
    pub access_token: AccessToken,
    pub token_type: String,
    pub expires_on: SystemTime,
    /// Seconds left when the result was made.
    pub expires_in: u64,
    /// The resource the source says the token is for (`None` from the cache).
    pub resource: Option<String>,
    pub refresh_on: Option<SystemTime>,
    /// Seconds from issue to `refresh_on`, for a token from the source.
    pub refresh_in: Option<u64>,
    pub token_source: TokenSource,
    /// The source that issued the token (the current one for a cached token).
    pub source: ManagedIdentitySource,
    /// The request's correlation id (`None` from the cache).
    pub correlation_id: Option<String>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl ManagedIdentityResult {
    /// msal Python's result dict, key by key.
    pub fn python_dict(&self) -> Map<String, Value> {
        let mut d = Map::new();
        d.insert("access_token".into(), json!(self.access_token.expose()));
        match self.token_source {
            TokenSource::IdentityProvider => {
                d.insert("expires_in".into(), json!(self.expires_in));
                d.insert("resource".into(), json!(self.resource));
                d.insert("token_type".into(), json!(self.token_type));
                if let Some(r) = self.refresh_in {
                    d.insert("refresh_in".into(), json!(r));
                }
                d.insert("token_source".into(), json!("identity_provider"));
            }
            TokenSource::Cache => {
                d.insert("token_type".into(), json!(self.token_type));
                d.insert("expires_in".into(), json!(self.expires_in));
                d.insert("token_source".into(), json!("cache"));
            }
        }
        if let Some(on) = self.refresh_on {
            d.insert("refresh_on".into(), json!(secs(on)));
        }
        d
    }
}

/// The default transport, shared by every client with the same timeouts and
/// proxy settings (and no extra roots), so that the clients a process makes
/// (one per identity, or per request) reuse one another's connections to the
/// local endpoint. Building a transport is cheap since its TLS settings are
/// shared (`net/tls.rs`); the proxy settings are part of the key, or a client
/// would go through another's proxy, or around its own.
fn shared_transport(config: &HttpConfig) -> Result<Arc<dyn HttpClient>, IdFlowError> {
    type Key = (Duration, Duration, ProxyConfig);
    static SHARED: Mutex<Vec<(Key, Arc<dyn HttpClient>)>> = Mutex::new(Vec::new());
    if !config.extra_root_certificates.is_empty() {
        return Ok(Arc::new(ReqwestHttpClient::new(config)?));
    }
    let key = (config.connect_timeout, config.timeout, config.proxy.clone());
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, h)) = shared.iter().find(|(k, _)| *k == key) {
        return Ok(h.clone());
    }
    let h: Arc<dyn HttpClient> = Arc::new(ReqwestHttpClient::new(config)?);
    if shared.len() < 16 {
        shared.push((key, h.clone()));
    }
    Ok(h)
}

/// Acquires tokens for one managed identity. Cheap to clone (clones share
/// the cache and the throttle).
#[derive(Clone, Debug)]
pub struct ManagedIdentityClient {
    inner: Arc<Inner>,
}

/// What the cache holds for a request.
enum Lookup {
    /// Good as new: returned without a request.
    Fresh(ManagedIdentityResult),
    /// Past `refresh_on`: refreshed, and returned if the refresh fails.
    Aging(ManagedIdentityResult),
}

#[derive(Debug)]
struct Inner {
    identity: ManagedIdentity,
    sender: Sender,
    cache: TokenCache,
    throttle: Throttle,
    capabilities: Vec<String>,
    environment: Option<ManagedIdentityEnvironment>,
    arc_key_directory: Option<PathBuf>,
    retry: ManagedIdentityRetry,
    /// For Service Fabric: the transport pinned to the server thumbprint the
    /// environment names (built on first use), unless the app brought its
    /// own HTTP client (then pinning is that client's business).
    pinning: Option<Pinning>,
}

#[derive(Debug)]
struct Pinning {
    config: HttpConfig,
    built: Mutex<Option<(Thumbprint, Arc<dyn HttpClient>)>>,
}

impl Pinning {
    fn transport(&self, pin: Thumbprint) -> Result<Arc<dyn HttpClient>, IdFlowError> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((p, h)) = built.as_ref() {
            if *p == pin {
                return Ok(h.clone());
            }
        }
        let h: Arc<dyn HttpClient> =
            Arc::new(ReqwestHttpClient::with_pinned_server(&self.config, pin)?);
        *built = Some((pin, h.clone()));
        Ok(h)
    }
}

impl ManagedIdentityClient {
    pub fn new(
        identity: ManagedIdentity,
        options: ManagedIdentityOptions,
    ) -> Result<Self, IdFlowError> {
        let app = options.app;
        let pinning = app.http.is_none().then(|| Pinning {
            config: app.http_config.clone(),
            built: Mutex::new(None),
        });
        let http: Arc<dyn HttpClient> = match app.http {
            Some(h) => h,
            None => shared_transport(&app.http_config)?,
        };
        Ok(ManagedIdentityClient {
            inner: Arc::new(Inner {
                identity,
                sender: Sender {
                    http,
                    clock: app.clock,
                    sleeper: app.sleeper,
                    sku: app.client_sku,
                    version: app.client_version,
                    // The managed identity retries are this module's own.
                    retry: RetryPolicy::OFF,
                },
                cache: app.token_cache.unwrap_or_default(),
                throttle: Throttle::new(),
                capabilities: app.client_capabilities,
                environment: options.environment,
                arc_key_directory: options
                    .arc_key_directory
                    .or_else(arc::default_key_directory),
                retry: options.retry,
                pinning,
            }),
        })
    }

    pub fn identity(&self) -> &ManagedIdentity {
        &self.inner.identity
    }

    pub fn token_cache(&self) -> &TokenCache {
        &self.inner.cache
    }

    fn environment(&self) -> ManagedIdentityEnvironment {
        self.inner
            .environment
            .clone()
            .unwrap_or_else(ManagedIdentityEnvironment::from_process)
    }

    /// The source this client's requests go to now.
    pub fn source(&self) -> ManagedIdentitySource {
        self.environment().source()
    }

    /// A token for `resource`: from the cache when one is good, else from
    /// the source. `claims_challenge` (from a resource's `WWW-Authenticate`)
    /// skips the cached token and asks for a new one.
    pub async fn acquire_token_for_client(
        &self,
        resource: &str,
        claims_challenge: Option<&str>,
    ) -> Result<ManagedIdentityResult, IdFlowError> {
        let inner = &self.inner;
        let env = self.environment();
        let source = env.source();
        let mut to_refresh: Option<AccessToken> = None;
        let mut fallback: Option<ManagedIdentityResult> = None;
        match self.lookup(resource, source) {
            Some(Lookup::Fresh(hit)) if claims_challenge.is_none() => return Ok(hit),
            Some(Lookup::Aging(hit)) if claims_challenge.is_none() => fallback = Some(hit),
            Some(Lookup::Fresh(hit) | Lookup::Aging(hit)) => to_refresh = Some(hit.access_token),
            None => {}
        }
        let hash = to_refresh.as_ref().map(|t| {
            digest(&SHA256, t.expose().as_bytes())
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        let fetched = async {
            let target = env.target()?;
            let ask = Ask {
                identity: &inner.identity,
                resource,
                token_sha256_to_refresh: hash.as_deref(),
                client_capabilities: &inner.capabilities,
            };
            let request = request::build(&target, &ask)?;
            self.obtain(&target, request).await
        }
        .await;
        match fetched {
            Ok((token, ex)) => Ok(self.save(token, resource, &ex, source)),
            Err(e) => match fallback {
                Some(hit) => {
                    tracing::info!(
                        target: "idflow::managed_identity",
                        code = %e.code,
                        "refresh of an aging token failed; the cached token is returned"
                    );
                    Ok(hit)
                }
                None => Err(e),
            },
        }
    }

    /// A cached token for `resource` that needs no request: unexpired by more
    /// than 5 minutes and not past its `refresh_on`. `None` means
    /// [`acquire_token_for_client`](Self::acquire_token_for_client) would
    /// ask the source. For callers that probe the cache before going async.
    pub fn cached_token(&self, resource: &str) -> Option<ManagedIdentityResult> {
        match self.lookup(resource, self.source()) {
            Some(Lookup::Fresh(hit)) => Some(hit),
            _ => None,
        }
    }

    fn lookup(&self, resource: &str, source: ManagedIdentitySource) -> Option<Lookup> {
        let inner = &self.inner;
        let now = inner.sender.clock.now();
        let scopes = [resource.to_owned()];
        let at = inner
            .cache
            .access_token(
                &AccessTokenQuery {
                    client_id: inner.identity.cache_client_id(),
                    environment: CACHE_ENVIRONMENT,
                    realm: CACHE_REALM,
                    home_account_id: None,
                    scopes: &scopes,
                },
                now,
            )
            .filter(|at| at.expires_on > now + EXPIRY_MARGIN)?;
        let hit = ManagedIdentityResult {
            access_token: at.secret.clone(),
            token_type: at.token_type.clone(),
            expires_on: at.expires_on,
            expires_in: at.expires_on.duration_since(now).map_or(0, |d| d.as_secs()),
            resource: None,
            refresh_on: at.refresh_on,
            refresh_in: None,
            token_source: TokenSource::Cache,
            source,
            correlation_id: None,
        };
        Some(match at.refresh_on {
            Some(on) if on < now => Lookup::Aging(hit),
            _ => Lookup::Fresh(hit),
        })
    }

    /// Sends `request` (with the retries and the throttle) and reads the
    /// token; Azure Arc's challenge is answered here.
    async fn obtain(
        &self,
        target: &Target,
        request: HttpRequest,
    ) -> Result<(SourceToken, Exchange), IdFlowError> {
        let ex = self.send(target, request.clone()).await?;
        if target.source == ManagedIdentitySource::AzureArc && ex.response.status == 401 {
            let path = arc::challenge_path(ex.response.header("www-authenticate"))
                .map_err(|e| e.with_correlation_id(ex.correlation_id()))?;
            let key = arc::read_key(&path, self.inner.arc_key_directory.as_deref())
                .map_err(|e| e.with_correlation_id(ex.correlation_id()))?;
            let second = request.with_header("Authorization", format!("Basic {}", key.expose()));
            let ex = self.send(target, second).await?;
            return response::read(target.source, &self.inner.identity, &ex).map(|t| (t, ex));
        }
        response::read(target.source, &self.inner.identity, &ex).map(|t| (t, ex))
    }

    /// One request with the source's retries, behind the throttle.
    async fn send(&self, target: &Target, request: HttpRequest) -> Result<Exchange, IdFlowError> {
        let inner = &self.inner;
        let source = target.source;
        // Service Fabric over https: trust only the certificate the
        // environment pins (msal Python's `_ServiceFabricHTTPSConnection`).
        let pinned_sender;
        let sender = match (&inner.pinning, &target.server_thumbprint) {
            (Some(pinning), Some(pin)) if target.endpoint.scheme() == "https" => {
                let http = pinning.transport(Thumbprint::parse(pin)?)?;
                pinned_sender = Sender {
                    http,
                    ..inner.sender.clone()
                };
                &pinned_sender
            }
            _ => &inner.sender,
        };
        let key = ThrottleKey {
            app_scopes: format!(
                "managed_identity\n{}\n{}",
                request.url.as_str(),
                request
                    .form
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            ),
            subject: request
                .header("authorization")
                .map(|_| "challenge-answered".to_owned())
                .unwrap_or_default(),
        };
        if let Some(e) = inner
            .throttle
            .check(&key, Flow::Token, inner.sender.clock.now())
        {
            return Err(e);
        }
        let mut retries = Retries::new(source, inner.retry);
        loop {
            match sender.exchange(request.clone()).await {
                Ok(ex) => {
                    let status = ex.response.status;
                    if let RetryDecision::RetryAfter(wait) =
                        retries.after_response(&ex.response, ex.received_at)
                    {
                        tracing::info!(
                            target: "idflow::managed_identity",
                            status,
                            delay_ms = wait.as_millis(),
                            source = source.as_str(),
                            "retrying the managed identity request"
                        );
                        inner.sender.sleeper.sleep(wait).await;
                        continue;
                    }
                    let blocks = status == 429
                        || (500..600).contains(&status)
                        || ex.response.header("retry-after").is_some();
                    if blocks {
                        let e = ex.failure(Flow::Token);
                        let d = e.retry_after.unwrap_or(DEFAULT_BLOCK).min(MAX_RETRY_AFTER);
                        if !d.is_zero() {
                            inner.throttle.record_for(key, &e, d, ex.received_at);
                        }
                    }
                    return Ok(ex);
                }
                Err(e) => {
                    if let Some(kind) = e.network {
                        if let RetryDecision::RetryAfter(wait) = retries.after_transport(kind) {
                            inner.sender.sleeper.sleep(wait).await;
                            continue;
                        }
                    }
                    return Err(e);
                }
            }
        }
    }

    fn save(
        &self,
        token: SourceToken,
        resource: &str,
        ex: &Exchange,
        source: ManagedIdentitySource,
    ) -> ManagedIdentityResult {
        let inner = &self.inner;
        let now = ex.received_at;
        let expires_in = token.expires_in.max(0) as u64;
        let refresh_in = (expires_in >= HALF_LIFE_FROM).then_some(expires_in / 2);
        let expires_on = now + Duration::from_secs(expires_in);
        let refresh_on = refresh_in.map(|r| now + Duration::from_secs(r));
        let scopes = vec![resource.to_owned()];
        let result = AuthenticationResult {
            access_token: token.access_token.clone(),
            token_type: token.token_type.clone(),
            expires_on,
            ext_expires_on: Some(expires_on),
            refresh_on,
            scopes: scopes.clone(),
            refresh_token: None,
            id_token: None,
            id_token_claims: None,
            account: None,
            client_info: None,
            family_id: None,
            correlation_id: ex.correlation_id(),
            token_source: TokenSource::IdentityProvider,
            received_at: now,
        };
        inner.cache.save(&SaveRequest {
            client_id: inner.identity.cache_client_id(),
            environment: CACHE_ENVIRONMENT,
            realm: CACHE_REALM,
            requested_scopes: &scopes,
            result: &result,
            account_source: None,
            authority_type: "MSSTS",
            now,
        });
        ManagedIdentityResult {
            access_token: token.access_token,
            token_type: token.token_type,
            expires_on,
            expires_in,
            resource: token.resource,
            refresh_on,
            refresh_in,
            token_source: TokenSource::IdentityProvider,
            source,
            correlation_id: Some(ex.correlation_id()),
        }
    }
}
