//! The token cache: MSAL's unified schema, O(1) lookups, optional persistence.
//!
//! # Compatibility
//! [`TokenCache::serialize`] writes, and [`TokenCache::deserialize`] reads,
//! the JSON of msal Python's `SerializableTokenCache` (the schema every MSAL
//! library shares): sections `AccessToken`, `RefreshToken`, `IdToken`,
//! `Account`, `AppMetadata`, each an object of key → entry, timestamps as
//! strings of epoch seconds, keys computed as msal computes them (see
//! [`keys`]). Members idflow does not know — in an entry or at the top level —
//! are kept and written back unchanged.
//!
//! # Lookups
//! Every read is a few hash lookups, whatever the number of cached tokens
//! (the indexes are described in `store/mod.rs`):
//!
//! * an access token matches when it belongs to the same client,
//!   environment, realm and account (or is an app token for an app query) and
//!   its scopes are a superset of the requested ones, compared case-folded,
//!   de-duplicated and with `openid`, `profile`, `offline_access` ignored;
//! * a repeat of a request hits at once: the requested set is indexed beside
//!   the granted one (when the server granted it: every requested scope is
//!   among the granted, or is `<resource>/.default`, or was granted in its
//!   short form);
//! * `<resource>/.default` requests match a token saved for that same
//!   request, or else a token whose granted scopes all lie on that resource
//!   (`api://x/read api://x/write` for `api://x/.default`); bare scopes
//!   such as `User.Read` name no resource and never match a `.default` request
//!   this way;
//! * a request of only OpenID Connect scopes matches only a token saved for
//!   exactly such a request;
//! * among several matches, the one expiring last wins.
//!
//! Reads share a read lock and never wait for one another. An expired access
//! token met by a lookup is dropped afterwards under the write lock (only
//! then is the write lock taken); every save also drops the expired tokens,
//! soonest-expiring first.
//!
//! # Bound
//! [`CacheOptions::max_access_tokens`] caps the number of access tokens. When
//! a save goes over it, the tokens that expire soonest are evicted first
//! (O(log n) each). Expiry order, rather than least-recently-used, keeps hits
//! free of writes: recency would need the write lock on every hit.
//!
//! # Persistence
//! Attach a [`CacheStorage`] (e.g. [`FileStorage`]) with
//! [`TokenCache::attach_storage`]. Then:
//!
//! * call [`TokenCache::reload`] before a lookup: it costs one
//!   [`CacheStorage::version`] check (a `stat` for a file) and re-reads the
//!   stored state only when it changed;
//! * call [`TokenCache::persist`] after a mutation: under the storage's
//!   exclusive lock it reads the stored state if another process changed it,
//!   applies this cache's own changes onto it (saves, and removals of the
//!   very credential that was removed here), and writes the result. Two
//!   processes sharing one file therefore never lose each other's entries.
//!
//! Expired-token drops and bound evictions are local memory policy and are
//! not propagated as removals.

mod account_view;
mod document;
mod document_reader;
mod json_text;
mod keys;
mod lookup;
mod on_behalf_of;
mod partition;
mod partition_key;
#[cfg(test)]
mod partition_tests;
mod persist;
mod query;
mod redis;
mod schema;
mod scopes;
mod storage;
mod store;
#[cfg(test)]
mod tests;
mod types;
mod write;

pub use account_view::{AccountsView, ViewStep};
pub use partition::{Lease, PartitionKey, PartitionOptions, PartitionStore, StoredPartition};
pub use query::{CacheEntry, CredentialType};
pub use redis::{RedisOptions, RedisStore};
pub use scopes::{DEFAULT_SUFFIX, OIDC_SCOPES};
pub use storage::{CacheStorage, FileStorage};
pub use types::{
    AccessTokenQuery, AppMetadata, CacheCounts, CacheOptions, CachedAccessToken,
    CachedRefreshToken, RefreshTokenQuery, SaveRequest,
};

/// The scope set as the cache compares it (folded, OIDC scopes dropped,
/// sorted, de-duplicated), as one string: two requests with the same key
/// are the same request to the cache.
pub(crate) fn scope_set_key<S: AsRef<str>>(scopes: &[S]) -> String {
    scopes::set_key(&scopes::normalize(scopes.iter().map(AsRef::as_ref)))
}

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::Store;

/// The token cache. Clones share one store; `Send + Sync`.
#[derive(Clone, Debug, Default)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    store: RwLock<Store>,
    changed: AtomicBool,
    /// Counts write-lock acquisitions (every change takes one).
    generation: AtomicU64,
    options: CacheOptions,
    storage: RwLock<Option<Arc<dyn CacheStorage>>>,
    /// The storage version this cache last read or wrote.
    synced: Mutex<Option<String>>,
    /// One reload or persist at a time in this process.
    sync_lock: Mutex<()>,
    /// The partition store, when one is attached (`partition.rs`).
    partitions: RwLock<Option<Arc<partition::Partitions>>>,
    /// On-behalf-of tokens, kept apart (`on_behalf_of.rs`).
    on_behalf_of: std::sync::OnceLock<TokenCache>,
    /// The document's layout as the last length hint counted it, with the
    /// generation it counted: what the write that follows the hint is cut
    /// by (`document.rs`).
    layout: Mutex<Option<(u64, store::Layout)>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            store: RwLock::new(Store::default()),
            changed: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            options: CacheOptions::default(),
            storage: RwLock::new(None),
            synced: Mutex::new(None),
            sync_lock: Mutex::new(()),
            partitions: RwLock::new(None),
            on_behalf_of: std::sync::OnceLock::new(),
            layout: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field(
                "counts",
                &counts_of(&self.store.read().unwrap_or_else(PoisonError::into_inner)),
            )
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn counts_of(s: &Store) -> CacheCounts {
    CacheCounts {
        access_tokens: s.at.len(),
        refresh_tokens: s.rt.len(),
        id_tokens: s.idt.len(),
        accounts: s.acct.len(),
        app_metadata: s.meta.len(),
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The last second of the year 9999, the latest time a cache file's entry
/// is read as. The schema accepts up to 19 digits (msal writes whatever a
/// token response gave it), more than a `SystemTime` holds.
pub(crate) const MAX_CACHE_TIME_SECS: u64 = 253_402_300_799;

/// A time read from a cache entry, capped at [`MAX_CACHE_TIME_SECS`] (the
/// order of entries is kept; never an overflow panic).
fn time(s: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(s.min(MAX_CACHE_TIME_SECS)))
        .unwrap_or(UNIX_EPOCH)
}

impl TokenCache {
    /// An empty, unbounded cache.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_options(o: CacheOptions) -> Self {
        TokenCache {
            inner: Arc::new(Inner {
                options: o,
                ..Inner::default()
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        let guard = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Counted while the lock is held: a reader that sees the new number
        // and then takes the read lock sees this write's result.
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        guard
    }

    /// A number that changes whenever the content may have changed (every
    /// save, removal, eviction, load or re-read moves it; it may also move
    /// without a change). What a caller derived from the cache — an account
    /// list — is still current while this number stays the same, provided
    /// the number was read before the derived value was.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// A number that changes whenever an account list of this cache
    /// ([`Self::accounts`], [`Self::for_each_account`]) may have changed —
    /// an account, refresh token or app metadata entry added, removed, or
    /// replaced by one that may list differently, a load — and at no other
    /// change: a token refresh, which rewrites the account's entries with
    /// the same accounts, leaves it. A list read after the number is current
    /// while it stays the same.
    pub fn accounts_generation(&self) -> u64 {
        self.read().accounts_stamp()
    }

    fn mark_changed(&self) {
        self.inner.changed.store(true, Ordering::Release);
    }
}
