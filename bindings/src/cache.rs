//! The token cache as a uniffi object, and the storage apps plug into it.

use crate::guard::guard;
use crate::types::AuthError;
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
        guard(|| Ok(self.inner.deserialize(&state)?))
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
            Ok(self
                .inner
                .attach_storage(Arc::new(ForeignStorage(storage)))?)
        })
    }

    /// Persists the cache in a file (atomic replace, locked between
    /// processes, owner-only permissions). Its directory must exist.
    pub fn attach_file(&self, path: String) -> Result<(), AuthError> {
        guard(|| {
            let storage = Arc::new(idflow::FileStorage::new(path));
            Ok(self.inner.attach_storage(storage)?)
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
