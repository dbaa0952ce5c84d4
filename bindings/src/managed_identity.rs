//! The managed identity client, as an object: the identity and the
//! configuration converted, one guarded core call per export.

use crate::cache::TokenCache;
use crate::guard::{call, call_async};
use crate::types::{display_as_debug, AuthError, REDACTED};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Which managed identity (msal's `SystemAssignedManagedIdentity` /
/// `UserAssignedManagedIdentity`).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ManagedIdentityId {
    SystemAssigned,
    ClientId { id: String },
    ResourceId { id: String },
    ObjectId { id: String },
}

impl From<ManagedIdentityId> for idflow::ManagedIdentity {
    fn from(id: ManagedIdentityId) -> Self {
        match id {
            ManagedIdentityId::SystemAssigned => idflow::ManagedIdentity::SystemAssigned,
            ManagedIdentityId::ClientId { id } => idflow::ManagedIdentity::ClientId(id),
            ManagedIdentityId::ResourceId { id } => idflow::ManagedIdentity::ResourceId(id),
            ManagedIdentityId::ObjectId { id } => idflow::ManagedIdentity::ObjectId(id),
        }
    }
}

/// The platform that serves the identity (MSAL.NET's `ManagedIdentitySource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ManagedIdentitySource {
    AppService,
    ServiceFabric,
    AzureArc,
    CloudShell,
    MachineLearning,
    Imds,
}

impl From<idflow::ManagedIdentitySource> for ManagedIdentitySource {
    fn from(s: idflow::ManagedIdentitySource) -> Self {
        use idflow::ManagedIdentitySource as S;
        match s {
            S::AppService => ManagedIdentitySource::AppService,
            S::ServiceFabric => ManagedIdentitySource::ServiceFabric,
            S::AzureArc => ManagedIdentitySource::AzureArc,
            S::CloudShell => ManagedIdentitySource::CloudShell,
            S::MachineLearning => ManagedIdentitySource::MachineLearning,
            S::Imds => ManagedIdentitySource::Imds,
        }
    }
}

/// How the client reaches its source. Its string form names the
/// `environment` variables without their values (`IDENTITY_HEADER` and
/// `MSI_SECRET` are secrets).
#[derive(Clone, Default, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ManagedIdentityConfig {
    /// Where tokens are kept; `None` gives the client its own in-memory cache.
    #[uniffi(default = None)]
    pub token_cache: Option<Arc<TokenCache>>,
    /// Sent to the sources that take them (Service Fabric's `xms_cc`).
    #[uniffi(default = [])]
    pub client_capabilities: Vec<String>,
    /// The library name sent as `x-client-sku` (each language layer sets its own).
    #[uniffi(default = None)]
    pub client_sku: Option<String>,
    /// The variables that pick the source; `None` reads the process's own
    /// at each request.
    #[uniffi(default = None)]
    pub environment: Option<HashMap<String, String>>,
    /// Azure Arc's key directory; `None` is the agent's.
    #[uniffi(default = None)]
    pub arc_key_directory: Option<String>,
    /// MSAL's retries of a failing source; off when the app retries itself.
    #[uniffi(default = true)]
    pub retry_enabled: bool,
    /// Whole-request timeout; the default is 30 s.
    #[uniffi(default = None)]
    pub timeout_ms: Option<u64>,
}

impl std::fmt::Debug for ManagedIdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.environment.as_ref().map(|env| {
            let mut names: Vec<&str> = env.keys().map(String::as_str).collect();
            names.sort_unstable();
            names
        });
        f.debug_struct("ManagedIdentityConfig")
            .field("token_cache", &self.token_cache.is_some())
            .field("client_capabilities", &self.client_capabilities)
            .field("client_sku", &self.client_sku)
            .field("environment", &names)
            .field("arc_key_directory", &self.arc_key_directory)
            .field("retry_enabled", &self.retry_enabled)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// A managed identity token. Its string form (Kotlin `toString`, Swift
/// `description`, Python `str`/`repr`) shows `[redacted]` for the token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ManagedIdentityTokenResult {
    pub access_token: String,
    pub token_type: String,
    /// Unix seconds.
    pub expires_on: i64,
    pub expires_in: u64,
    pub resource: Option<String>,
    /// Unix seconds.
    pub refresh_on: Option<i64>,
    /// `true` when the token came from the cache.
    pub from_cache: bool,
    pub source: ManagedIdentitySource,
    pub correlation_id: Option<String>,
    /// msal Python's result dict, as JSON.
    pub python_json: String,
}

impl std::fmt::Debug for ManagedIdentityTokenResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentityTokenResult")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_on", &self.expires_on)
            .field("expires_in", &self.expires_in)
            .field("resource", &self.resource)
            .field("refresh_on", &self.refresh_on)
            .field("from_cache", &self.from_cache)
            .field("source", &self.source)
            .field("correlation_id", &self.correlation_id)
            .field("python_json", &REDACTED)
            .finish()
    }
}

display_as_debug!(ManagedIdentityConfig, ManagedIdentityTokenResult);

fn unix(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn result(r: idflow::ManagedIdentityResult) -> ManagedIdentityTokenResult {
    ManagedIdentityTokenResult {
        access_token: r.access_token.expose().to_owned(),
        token_type: r.token_type.clone(),
        expires_on: unix(r.expires_on),
        expires_in: r.expires_in,
        resource: r.resource.clone(),
        refresh_on: r.refresh_on.map(unix),
        from_cache: r.token_source == idflow::TokenSource::Cache,
        source: r.source.into(),
        correlation_id: r.correlation_id.clone(),
        python_json: serde_json::Value::Object(r.python_dict()).to_string(),
    }
}

/// Tokens for a managed identity (msal's `ManagedIdentityClient`, MSAL for
/// Java's `ManagedIdentityApplication`).
#[derive(Debug, uniffi::Object)]
pub struct ManagedIdentityClient {
    pub(crate) inner: idflow::ManagedIdentityClient,
}

#[uniffi::export(async_runtime = "tokio")]
impl ManagedIdentityClient {
    #[uniffi::constructor]
    pub fn new(
        identity: ManagedIdentityId,
        config: ManagedIdentityConfig,
    ) -> Result<Arc<Self>, AuthError> {
        call(
            || {
                let mut app = idflow::AppOptions::default();
                if let Some(sku) = &config.client_sku {
                    app.client_sku = sku.clone();
                }
                if let Some(cache) = &config.token_cache {
                    app.token_cache = Some(cache.core().clone());
                }
                if let Some(ms) = config.timeout_ms {
                    app.http_config.timeout = Duration::from_millis(ms);
                }
                app.client_capabilities = config.client_capabilities.clone();
                let options = idflow::ManagedIdentityOptions {
                    app,
                    environment: config
                        .environment
                        .clone()
                        .map(idflow::ManagedIdentityEnvironment::from_pairs),
                    arc_key_directory: config.arc_key_directory.clone().map(Into::into),
                    retry: if config.retry_enabled {
                        idflow::ManagedIdentityRetry::Msal
                    } else {
                        idflow::ManagedIdentityRetry::Off
                    },
                };
                idflow::ManagedIdentityClient::new(identity.into(), options)
            },
            |inner| Arc::new(ManagedIdentityClient { inner }),
        )
    }

    /// The source requests go to now (read from the environment).
    pub fn source(&self) -> ManagedIdentitySource {
        self.inner.source().into()
    }

    /// msal Python's dict (JSON) of a cached token that needs no request, or
    /// `None`: a synchronous probe, so a cache hit skips the async machinery.
    pub fn cached_token_json(&self, resource: String) -> Result<Option<String>, AuthError> {
        crate::guard::guard(|| {
            Ok(self
                .inner
                .cached_token(&resource)
                .map(|r| serde_json::Value::Object(r.python_dict()).to_string()))
        })
    }

    /// A token for `resource`: the cache, else the source.
    /// `claims_challenge` skips the cached token.
    pub async fn acquire_token_for_client(
        &self,
        resource: String,
        claims_challenge: Option<String>,
    ) -> Result<ManagedIdentityTokenResult, AuthError> {
        call_async(
            self.inner
                .acquire_token_for_client(&resource, claims_challenge.as_deref()),
            result,
        )
        .await
    }
}
