//! Partition-aware cache access: each call tells storage which partition it
//! touches, and only that partition is loaded and saved.
//!
//! A confidential client serving many tenants or users cannot load and save
//! one blob holding everybody's tokens around every call: the blob grows
//! without bound and two instances saving it lose each other's entries.
//! MSAL.NET instead hands its cache callbacks a suggested key per call
//! (`TokenCacheNotificationArgs.SuggestedCacheKey`, computed in
//! AzureAD/microsoft-authentication-library-for-dotnet
//! `src/client/Microsoft.Identity.Client/Cache/SuggestedWebCacheKeyFactory.cs`):
//! `<client id>_<tenant id>_AppTokenCache` for client credentials, the
//! account's home account id for user tokens, the user assertion's hash for
//! on-behalf-of. [`PartitionKey`] computes the same keys.
//!
//! Attach a [`PartitionStore`] with [`TokenCache::attach_partitioned`]. The
//! in-memory cache is then the first level (L1): a partition is read from
//! the store when the call touches it and it was not read within the L1 time
//! to live; what the call changed is written back to its own partition
//! alone, merged with what other instances stored meanwhile (the store's
//! compare-and-set: [`PartitionStore::save`] with the version read).
//!
//! Storage never fails a call: a store that is down, slow or answers
//! garbage is logged (one `warn` per episode, one `info` when it answers
//! again) and the call goes on with the in-memory cache and the network;
//! unwritten changes wait for the next call's write. A stored partition that
//! cannot be read is dropped (and overwritten by the next write).

use super::document::parse;
pub use super::partition_key::PartitionKey;
use super::TokenCache;
use crate::net::http::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A partition as stored: msal's cache JSON of that partition alone, and the
/// store's version of it (`None` for a store without compare-and-set).
#[derive(Clone, Default)]
pub struct StoredPartition {
    pub data: Vec<u8>,
    pub version: Option<String>,
}

impl std::fmt::Debug for StoredPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The data holds tokens: only its size is shown.
        f.debug_struct("StoredPartition")
            .field("bytes", &self.data.len())
            .field("version", &self.version)
            .finish()
    }
}

/// What a cross-process lease attempt found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lease {
    /// Taken: release it with this token once the result is stored.
    Acquired(String),
    /// Another process holds it: wait for its result in the store.
    Busy,
}

/// A store of partitions: a key-value service, a database table. Redis is
/// built in ([`super::RedisStore`]). Errors are text for the log; they never
/// fail a call.
pub trait PartitionStore: Send + Sync + std::fmt::Debug {
    /// The stored partition, or `None` when there is none.
    fn load<'a>(
        &'a self,
        partition: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredPartition>, String>>;

    /// Stores `data` as the partition when its stored version is still
    /// `expected` (`None`: no partition is stored); returns `false` when
    /// another writer got there first (the cache then reloads, merges and
    /// tries again). A store without versions saves unconditionally.
    /// `expires_at` is the latest expiry the partition holds: the store may
    /// forget the partition after it.
    fn save<'a>(
        &'a self,
        partition: &'a str,
        data: Vec<u8>,
        expected: Option<String>,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, String>>;

    /// Tries to take a short lease named `name` for `ttl`, so that one
    /// process of many fetches the token. The default (no coordination
    /// between processes) always acquires.
    fn acquire_lease<'a>(
        &'a self,
        _name: &'a str,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<Lease, String>> {
        Box::pin(async { Ok(Lease::Acquired(String::new())) })
    }

    /// Releases a lease this process holds (only while `token` still holds it).
    fn release_lease<'a>(&'a self, _name: &'a str, _token: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// How the cache uses a [`PartitionStore`].
#[derive(Clone, Debug)]
pub struct PartitionOptions {
    /// How long a partition read from the store is trusted in memory before
    /// the next call touching it reads it again (the L1 time to live).
    pub l1_ttl: Duration,
    /// How long a stored user partition is kept after its last write when it
    /// holds a refresh token (the server does not say the refresh token's
    /// lifetime; 90 days is the platform's default).
    pub refresh_token_lifetime: Duration,
    /// A cross-process lease's lifetime: past it, a holder that died no
    /// longer blocks anyone.
    pub lease_ttl: Duration,
    /// How long a process waits for another's lease before sending its own
    /// request.
    pub lease_wait: Duration,
    /// Pause between two looks at the store while waiting for a lease.
    pub lease_poll: Duration,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            l1_ttl: Duration::from_secs(30),
            refresh_token_lifetime: Duration::from_secs(90 * 24 * 3600),
            lease_ttl: Duration::from_secs(10),
            lease_wait: Duration::from_secs(10),
            lease_poll: Duration::from_millis(25),
        }
    }
}

/// Partitions whose read time is remembered (the L1 bookkeeping is bounded;
/// the L1 entries themselves are bounded by
/// [`super::CacheOptions::max_access_tokens`] of the cache).
const MAX_SEEN: usize = 100_000;

/// Attempts at a compare-and-set write before the changes wait for the next call.
const CAS_ATTEMPTS: usize = 32;

/// The attached store and what this process knows of each partition.
#[derive(Debug)]
pub(crate) struct Partitions {
    store: Arc<dyn PartitionStore>,
    pub(crate) options: PartitionOptions,
    /// Partition → when it was last read or written.
    seen: Mutex<HashMap<String, Instant>>,
    /// Set while the store fails: one `warn` per episode.
    degraded: AtomicBool,
    /// Set once the partial account list has been explained in the log.
    accounts_noted: AtomicBool,
    /// Partition → writes of it under way in this process. Any call may
    /// write another call's changes (the journal goes whole to whichever call
    /// ends first), so a call waits here until its own partition's writes
    /// have landed: a lease holder must not let the next process read the
    /// partition before the token it fetched is there.
    writing: Mutex<HashMap<String, usize>>,
    /// Woken whenever a write ends.
    written: tokio::sync::Notify,
}

/// A write of a partition under way, registered in [`Partitions::writing`]
/// until dropped (also when the writing call is cancelled).
struct Writing {
    partitions: Arc<Partitions>,
    key: String,
}

impl Drop for Writing {
    fn drop(&mut self) {
        {
            let mut w = self.partitions.writing();
            if let Some(n) = w.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    w.remove(&self.key);
                }
            }
        }
        self.partitions.written.notify_waiters();
    }
}

impl Partitions {
    fn writing(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.writing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a write of `key` (see [`Writing`]).
    fn begin(self: &Arc<Self>, key: &str) -> Writing {
        *self.writing().entry(key.to_owned()).or_insert(0) += 1;
        Writing {
            partitions: Arc::clone(self),
            key: key.to_owned(),
        }
    }

    /// Returns once no write of `key` is under way.
    async fn settled(&self, key: &str) {
        loop {
            let notified = self.written.notified();
            tokio::pin!(notified);
            // Registered before the look, so a write ending in between wakes it.
            notified.as_mut().enable();
            if !self.writing().contains_key(key) {
                return;
            }
            notified.await;
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn failed(&self, what: &str, e: &str) {
        if !self.degraded.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                target: "idflow::cache",
                "token cache store unavailable ({what}: {e}); going on with the in-memory cache \
                 and the network until it answers again"
            );
        }
    }

    fn answered(&self) {
        if self.degraded.swap(false, Ordering::AcqRel) {
            tracing::info!(target: "idflow::cache", "token cache store answers again");
        }
    }

    /// Whether the store is failing now (for tests and health checks).
    pub(crate) fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Acquire)
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl TokenCache {
    /// Attaches a partition store (replacing any attached before); see the
    /// module docs. Entries already in memory are written to their
    /// partitions by the next call that changes the cache.
    pub fn attach_partitioned(&self, store: Arc<dyn PartitionStore>, options: PartitionOptions) {
        {
            let mut s = self.write();
            if s.journal.is_none() {
                s.journal_everything();
            }
        }
        *self
            .inner
            .partitions
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(Partitions {
            store,
            options,
            seen: Mutex::new(HashMap::new()),
            degraded: AtomicBool::new(false),
            accounts_noted: AtomicBool::new(false),
            writing: Mutex::new(HashMap::new()),
            written: tokio::sync::Notify::new(),
        }));
    }

    pub(crate) fn partitions(&self) -> Option<Arc<Partitions>> {
        self.inner
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the attached partition store is failing now.
    pub fn partition_store_degraded(&self) -> bool {
        self.partitions().is_some_and(|p| p.is_degraded())
    }

    /// Before a call reads `partition`: reads it from the store unless it
    /// was read within the L1 time to live (`force` reads it anyway).
    pub async fn before_access(&self, partition: &PartitionKey, force: bool) {
        let Some(p) = self.partitions() else { return };
        let key = partition.as_str();
        if !force
            && p.seen()
                .get(key)
                .is_some_and(|at| at.elapsed() < p.options.l1_ttl)
        {
            return;
        }
        match p.store.load(key).await {
            Ok(stored) => {
                p.answered();
                let data = stored.map_or(Vec::new(), |s| s.data);
                match std::str::from_utf8(&data)
                    .map_err(|_| ())
                    .and_then(|t| parse(t).map_err(|_| ()))
                {
                    Ok(base) => {
                        self.write().absorb(base);
                    }
                    Err(()) => tracing::warn!(
                        target: "idflow::cache",
                        "a stored token cache partition cannot be read: dropped, the next write replaces it"
                    ),
                }
                let mut seen = p.seen();
                if seen.len() >= MAX_SEEN {
                    // Forgetting when partitions were read costs re-reads only.
                    seen.clear();
                }
                seen.insert(key.to_owned(), Instant::now());
            }
            Err(e) => p.failed("read", &e),
        }
    }

    /// After a call: writes what it changed, each entry to its own partition
    /// (removals and app metadata to `partition`, the call's), merged with
    /// the stored state by compare-and-set. Changes that cannot be written
    /// now wait for the next call. Returns once no write of `partition` is
    /// under way in this process, including one of another call that took
    /// this call's changes with its own.
    pub async fn after_access(&self, partition: &PartitionKey) {
        let Some(p) = self.partitions() else { return };
        // Boxed: the writes' state (a whole store, the storage's own future:
        // ≈ 6.8 KB) would otherwise be part of the future of every token
        // call, with a partition store or without, and be moved with it at
        // each level of every call.
        Box::pin(self.write_partitions(&p, partition)).await;
    }

    async fn write_partitions(&self, p: &Arc<Partitions>, partition: &PartitionKey) {
        let parts: Vec<_> = {
            let mut s = self.write();
            // Registered while the journal is still locked: a call whose
            // changes are among these sees the write under way.
            s.split_journal(partition.as_str())
                .into_iter()
                .map(|(key, mine)| (p.begin(&key), key, mine))
                .collect()
        };
        for (writing, key, mine) in parts {
            if let Err(mine) = self.write_partition(p, &key, mine).await {
                self.write().restore_journal(mine);
                self.mark_changed();
            }
            drop(writing);
        }
        p.settled(partition.as_str()).await;
    }

    async fn write_partition(
        &self,
        p: &Partitions,
        key: &str,
        mine: super::store::Store,
    ) -> Result<(), super::store::Store> {
        for attempt in 0..CAS_ATTEMPTS {
            // Always the stored state first: the in-memory copy may miss
            // entries another instance stored, or hold ones never stored.
            let (mut merged, expected) = match p.store.load(key).await {
                Ok(stored) => {
                    let (data, version) =
                        stored.map_or((Vec::new(), None), |s| (s.data, s.version));
                    let base = std::str::from_utf8(&data)
                        .ok()
                        .and_then(|t| parse(t).ok())
                        .unwrap_or_default();
                    (base, version)
                }
                Err(e) => {
                    p.failed("read", &e);
                    return Err(mine);
                }
            };
            mine.replay_onto(&mut merged);
            let now = unix(SystemTime::now());
            let expires = merged.latest_expiry(now, p.options.refresh_token_lifetime.as_secs());
            let json = merged.to_json().into_bytes();
            match p
                .store
                .save(
                    key,
                    json,
                    expected,
                    UNIX_EPOCH + Duration::from_secs(expires),
                )
                .await
            {
                Ok(true) => {
                    p.answered();
                    // What the others stored comes into memory too.
                    merged.journal = None;
                    self.write().absorb(merged);
                    p.seen().insert(key.to_owned(), Instant::now());
                    return Ok(());
                }
                Ok(false) => {
                    // Lost the race: back off a random moment, growing with
                    // the attempts, so that two writers in lockstep part.
                    let mut b = [0u8; 2];
                    let _ = aws_lc_rs::rand::fill(&mut b);
                    let cap = 1 + (attempt as u64) * 2;
                    let wait = u64::from(u16::from_le_bytes(b)) % (cap * 1000);
                    tokio::time::sleep(Duration::from_micros(wait)).await;
                }
                Err(e) => {
                    p.failed("write", &e);
                    return Err(mine);
                }
            }
        }
        tracing::warn!(
            target: "idflow::cache",
            "a token cache partition kept changing under this write: the changes wait for the next call"
        );
        Err(mine)
    }

    /// Says once (at `info`) that an account list of a partitioned cache
    /// holds only the partitions this process has read: the store is not
    /// enumerated. Nothing without a partition store.
    pub fn note_partial_accounts(&self) {
        if let Some(p) = self.partitions() {
            if !p.accounts_noted.swap(true, Ordering::AcqRel) {
                tracing::info!(
                    target: "idflow::cache",
                    "with a partition store, get_accounts lists the accounts of the partitions \
                     this process has read; ask for one by its home account id (get_account)"
                );
            }
        }
    }

    /// Tries the cross-process lease `name`; `None` without a partition store
    /// or when the store fails (the caller then fetches on its own).
    pub async fn acquire_lease(&self, name: &str) -> Option<Lease> {
        let p = self.partitions()?;
        match p.store.acquire_lease(name, p.options.lease_ttl).await {
            Ok(l) => {
                p.answered();
                Some(l)
            }
            Err(e) => {
                p.failed("lease", &e);
                None
            }
        }
    }

    pub async fn release_lease(&self, name: &str, token: &str) {
        if let Some(p) = self.partitions() {
            p.store.release_lease(name, token).await;
        }
    }
}
