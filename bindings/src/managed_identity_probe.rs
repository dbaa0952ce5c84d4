//! The managed identity cache hit in one integer crossing, for Python: the
//! twin of [`crate::python_fast::CachedTokenProbe`] for a managed identity
//! client's cached tokens. A prepared probe per resource answers the cached
//! token's `expires_on` while it is the one whose dict the caller already
//! holds, so a hit builds no dict and no JSON here (Python then pays only
//! its own call and a dict copy, as msal Python does for its own hit).

use crate::guard::guard;
use crate::managed_identity::ManagedIdentityClient;
use crate::python_fast::{PROBE_CHANGED, PROBE_MISS};
use crate::types::AuthError;
use idflow::secret::AccessToken;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::UNIX_EPOCH;

/// One prepared cached-token lookup of a managed identity client for one
/// resource (see the module docs).
#[derive(uniffi::Object)]
pub struct ManagedIdentityProbe {
    client: idflow::ManagedIdentityClient,
    resource: String,
    /// The token `fetch_json` last returned: its secret and `expires_on`.
    last: Mutex<Option<(AccessToken, i64)>>,
}

impl std::fmt::Debug for ManagedIdentityProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentityProbe")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

fn unix(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl ManagedIdentityProbe {
    fn last(&self) -> MutexGuard<'_, Option<(AccessToken, i64)>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl ManagedIdentityClient {
    /// A prepared [`Self::cached_token_json`] for `resource`, for callers
    /// that repeat the same lookup.
    pub fn cached_token_probe(&self, resource: String) -> Arc<ManagedIdentityProbe> {
        Arc::new(ManagedIdentityProbe {
            client: self.inner.clone(),
            resource,
            last: Mutex::new(None),
        })
    }
}

#[uniffi::export]
impl ManagedIdentityProbe {
    /// The cached token's `expires_on` (Unix seconds) when it is the one
    /// `fetch_json` returned last and needs no request; `-2` when another
    /// such token is cached now (call `fetch_json`); `-1` when none is (the
    /// full call then decides, and reports any failure).
    pub fn probe(&self) -> i64 {
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.client.cached_token(&self.resource)
        }));
        let Ok(Some(hit)) = hit else {
            return PROBE_MISS;
        };
        let expires_on = unix(hit.expires_on);
        match &*self.last() {
            Some((secret, exp))
                if *exp == expires_on && secret.expose() == hit.access_token.expose() =>
            {
                expires_on
            }
            _ => PROBE_CHANGED,
        }
    }

    /// The cached token as msal Python's dict (JSON), remembered for
    /// `probe`; nothing when a request is needed.
    pub fn fetch_json(&self) -> Result<Option<String>, AuthError> {
        guard(|| {
            let Some(hit) = self.client.cached_token(&self.resource) else {
                *self.last() = None;
                return Ok(None);
            };
            *self.last() = Some((hit.access_token.clone(), unix(hit.expires_on)));
            Ok(Some(
                serde_json::Value::Object(hit.python_dict()).to_string(),
            ))
        })
    }
}
