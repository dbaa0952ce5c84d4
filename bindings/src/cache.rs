//! The token cache as a uniffi object, and the storage apps plug into it.

use crate::apps::{err, AccountInfo};
use crate::guard;
use crate::types::AuthError;
use idflow::error::IdFlowError;
use std::sync::Arc;

/// Tokens and accounts in msal's unified cache format. Give one to several
/// apps (through `AppConfig.token_cache`) to share sign-ins between them;
/// `serialize` / `deserialize` move it to and from your own storage, or
/// attach a [`CacheStorage`] and it is reloaded before every lookup and
/// saved after every change.
#[derive(Debug, Default, uniffi::Object)]
pub struct TokenCache {
    inner: idflow::TokenCache,
}

impl TokenCache {
    pub(crate) fn core(&self) -> &idflow::TokenCache {
        &self.inner
    }

    pub(crate) fn wrap(inner: idflow::TokenCache) -> Arc<TokenCache> {
        Arc::new(TokenCache { inner })
    }
}

#[uniffi::export]
impl TokenCache {
    /// An empty in-memory cache.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(TokenCache::default())
    }

    /// The whole cache as msal's JSON (holds tokens: store it as a secret).
    /// Clears `has_state_changed`.
    pub fn serialize(&self) -> String {
        self.inner.serialize()
    }

    /// Replaces the content with msal-format JSON (from msal or idflow).
    /// Throws `invalid_parameter`-style client errors for bad JSON and leaves
    /// the cache unchanged then.
    pub fn deserialize(&self, state: String) -> Result<(), AuthError> {
        guard(|| self.inner.deserialize(&state).map_err(err))
    }

    /// `deserialize` from the JSON's UTF-8 bytes, read in place: a large
    /// cache is not copied on its way in. Bytes that are not UTF-8 are
    /// rejected like bad JSON.
    pub fn deserialize_utf8(&self, state: &[u8]) -> Result<(), AuthError> {
        guard(|| self.inner.deserialize_utf8(state).map_err(err))
    }

    /// Whether the cache changed since it was last serialized, loaded or
    /// marked unchanged: persist it when true.
    pub fn has_state_changed(&self) -> bool {
        self.inner.has_state_changed()
    }

    pub fn set_state_changed(&self, changed: bool) {
        self.inner.set_state_changed(changed);
    }

    /// Persists the cache through `storage`: loaded now and before every
    /// lookup (when it changed), saved after every change.
    pub fn attach_storage(&self, storage: Arc<dyn CacheStorage>) -> Result<(), AuthError> {
        guard(|| {
            self.inner
                .attach_storage(Arc::new(ForeignStorage(storage)))
                .map_err(err)
        })
    }

    /// Persists the cache in a file (atomic replace, locked between
    /// processes, owner-only permissions). Its directory must exist.
    pub fn attach_file(&self, path: String) -> Result<(), AuthError> {
        guard(|| {
            self.inner
                .attach_storage(Arc::new(idflow::FileStorage::new(path)))
                .map_err(err)
        })
    }

    /// Entries per section (access tokens, refresh tokens, id tokens,
    /// accounts, app metadata), for diagnostics.
    pub fn counts(&self) -> CacheCounts {
        let c = self.inner.counts();
        CacheCounts {
            access_tokens: c.access_tokens as u64,
            refresh_tokens: c.refresh_tokens as u64,
            id_tokens: c.id_tokens as u64,
            accounts: c.accounts as u64,
            app_metadata: c.app_metadata as u64,
        }
    }
}

/// How many entries each section of a cache holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CacheCounts {
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub id_tokens: u64,
    pub accounts: u64,
    pub app_metadata: u64,
}

/// Where a cache keeps its bytes: the Keychain on Apple platforms, the
/// Android Keystore (an encrypted file), a database row. The bytes hold
/// tokens: keep them encrypted or access-controlled.
#[uniffi::export(with_foreign)]
pub trait CacheStorage: Send + Sync {
    /// The bytes last saved, or nothing when nothing was saved yet.
    fn load(&self) -> Result<Option<Vec<u8>>, AuthError>;
    /// Replaces the stored bytes (all at once: never leave half a write).
    fn save(&self, data: Vec<u8>) -> Result<(), AuthError>;
    /// A cheap value that changes whenever the stored bytes change (a
    /// modification date, a counter), so unchanged storage is not re-read
    /// before every lookup; nothing when you cannot tell.
    fn version(&self) -> Result<Option<String>, AuthError>;
}

/// Adapts a foreign [`CacheStorage`] to the core's.
struct ForeignStorage(Arc<dyn CacheStorage>);

impl std::fmt::Debug for ForeignStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignStorage")
    }
}

fn message(e: AuthError) -> String {
    e.info().message.clone()
}

/// Calls out to the foreign storage; a panic on the way (a failure uniffi
/// cannot map) is a storage failure like a thrown error.
fn calling<T>(f: impl FnOnce() -> Result<T, AuthError>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| "the app's cache storage failed unexpectedly".to_owned())?
        .map_err(message)
}

impl idflow::CacheStorage for ForeignStorage {
    fn load(&self) -> Result<Option<Vec<u8>>, String> {
        calling(|| self.0.load())
    }

    fn save(&self, data: &[u8]) -> Result<(), String> {
        calling(|| self.0.save(data.to_vec()))
    }

    fn version(&self) -> Result<Option<String>, String> {
        calling(|| self.0.version())
    }
}

pub(crate) fn account_info(a: &idflow::Account) -> AccountInfo {
    AccountInfo {
        home_account_id: a.home_account_id.clone(),
        environment: a.environment.clone(),
        tenant_id: a.realm.clone(),
        username: a.username.clone(),
        local_account_id: a.local_account_id.clone(),
    }
}

pub(crate) fn core_account(a: AccountInfo) -> idflow::Account {
    idflow::Account {
        home_account_id: a.home_account_id,
        environment: a.environment,
        realm: a.tenant_id,
        username: a.username,
        local_account_id: a.local_account_id,
    }
}

/// msal Python's account dicts (`get_accounts`), as one compact JSON list,
/// written straight into one buffer (no intermediate JSON values: this runs
/// once per account of a possibly large cache).
pub(crate) fn accounts_json(accounts: &[idflow::Account]) -> String {
    fn field(out: &mut Vec<u8>, name: &str, value: &str) {
        out.extend_from_slice(name.as_bytes());
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
    }
    let mut out = Vec::with_capacity(64 + accounts.len() * 320);
    out.push(b'[');
    for (i, a) in accounts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let authority_type = if a.realm.eq_ignore_ascii_case("adfs") {
            "ADFS"
        } else {
            "MSSTS"
        };
        field(&mut out, "{\"home_account_id\":", &a.home_account_id);
        field(&mut out, ",\"environment\":", &a.environment);
        field(&mut out, ",\"username\":", &a.username);
        field(&mut out, ",\"authority_type\":", authority_type);
        field(&mut out, ",\"local_account_id\":", &a.local_account_id);
        field(&mut out, ",\"realm\":", &a.realm);
        out.push(b'}');
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_default()
}

/// msal Python's dict for a cache hit, as JSON (the one-crossing hot path).
pub(crate) fn hit_json(
    hit: Result<Option<idflow::AuthenticationResult>, IdFlowError>,
) -> Result<Option<String>, AuthError> {
    match hit {
        Ok(Some(r)) => {
            let d = idflow::idioms::python_token_result(&r, std::time::SystemTime::now());
            Ok(Some(serde_json::Value::Object(d).to_string()))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

type Lookup = dyn Fn() -> Result<Option<idflow::AuthenticationResult>, IdFlowError> + Send + Sync;

/// One prepared cache lookup (an account's or the app's token for fixed
/// scopes): the hot path of language layers whose every FFI string costs
/// more than the lookup itself (Python). [`CachedTokenProbe::probe`] takes
/// and returns only integers, so a hit crosses the boundary once with no
/// buffer; the caller keeps the token it got from
/// [`CachedTokenProbe::fetch_json`] and reuses it while `probe` says it is
/// still the cached one.
#[derive(uniffi::Object)]
pub struct CachedTokenProbe {
    lookup: Box<Lookup>,
    /// The token `fetch_json` last returned (its secret and expiry).
    last: std::sync::Mutex<Option<(idflow::secret::AccessToken, i64)>>,
}

impl std::fmt::Debug for CachedTokenProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachedTokenProbe")
    }
}

/// `probe`: nothing usable is cached (the caller goes to the network path).
pub const PROBE_MISS: i64 = -1;
/// `probe`: a usable token is cached, but not the one `fetch_json` returned last.
pub const PROBE_CHANGED: i64 = -2;

impl CachedTokenProbe {
    pub(crate) fn new(lookup: Box<Lookup>) -> Arc<Self> {
        Arc::new(CachedTokenProbe {
            lookup,
            last: std::sync::Mutex::new(None),
        })
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Option<(idflow::secret::AccessToken, i64)>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl CachedTokenProbe {
    /// The cached token's `expires_on` (Unix seconds) when it is the one
    /// `fetch_json` returned last and still usable; `-2` when another usable
    /// token is cached now (call `fetch_json`); `-1` when none is (or the
    /// lookup failed: the full call then reports why).
    pub fn probe(&self) -> i64 {
        let hit = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.lookup)())) {
            Ok(Ok(Some(hit))) => hit,
            _ => return PROBE_MISS,
        };
        let expires_on = crate::apps::unix(hit.expires_on);
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
    /// `probe`; nothing when none is usable.
    pub fn fetch_json(&self) -> Result<Option<String>, AuthError> {
        guard(|| {
            let hit = (self.lookup)().map_err(err)?;
            let Some(hit) = hit else {
                *self.last() = None;
                return Ok(None);
            };
            *self.last() = Some((hit.access_token.clone(), crate::apps::unix(hit.expires_on)));
            hit_json(Ok(Some(hit)))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::accounts_json;

    #[test]
    fn accounts_json_is_msal_account_dicts() {
        let a = |home: &str, realm: &str, user: &str| idflow::Account {
            home_account_id: home.into(),
            environment: "login.example".into(),
            realm: realm.into(),
            username: user.into(),
            local_account_id: "oid".into(),
        };
        assert_eq!(accounts_json(&[]), "[]");
        let text = accounts_json(&[a("u.t", "t", "Ann \"Q\" \u{e9}"), a("v.adfs", "ADFS", "b")]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"home_account_id": "u.t", "environment": "login.example",
                 "username": "Ann \"Q\" \u{e9}", "authority_type": "MSSTS",
                 "local_account_id": "oid", "realm": "t"},
                {"home_account_id": "v.adfs", "environment": "login.example",
                 "username": "b", "authority_type": "ADFS",
                 "local_account_id": "oid", "realm": "ADFS"},
            ])
        );
    }
}
