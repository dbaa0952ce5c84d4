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
//! (the indexes are described in `store.rs`):
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

mod keys;
mod schema;
mod scopes;
mod storage;
mod store;
#[cfg(test)]
mod tests;

pub use scopes::{DEFAULT_SUFFIX, OIDC_SCOPES};

/// The scope set as the cache compares it (folded, OIDC scopes dropped,
/// sorted, de-duplicated), as one string: two requests with the same key
/// are the same request to the cache.
pub(crate) fn scope_set_key<S: AsRef<str>>(scopes: &[S]) -> String {
    scopes::set_key(&scopes::normalize(scopes.iter().map(AsRef::as_ref)))
}
pub use storage::FileStorage;

use crate::error::{IdFlowError, LocalCode};
use crate::protocol::token::{Account, AuthenticationResult};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use schema::{
    AcctEntry, AcctFields, AtEntry, AtFields, Document, IdtEntry, IdtFields, MetaEntry, MetaFields,
    RtEntry, RtFields,
};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{AtQuery, Store};

/// Limits of a [`TokenCache`].
#[derive(Clone, Debug, Default)]
pub struct CacheOptions {
    /// At most this many access tokens (the soonest-expiring are evicted
    /// first); `None` = unbounded.
    pub max_access_tokens: Option<usize>,
}

/// Everything one token answer writes into the cache, in one call.
#[derive(Debug)]
pub struct SaveRequest<'a> {
    pub client_id: &'a str,
    /// The authority host as msal writes it (`host[:port]`); stored lower-cased.
    pub environment: &'a str,
    /// The tenant id (the id token's `tid`, or the authority's tenant).
    pub realm: &'a str,
    /// What the app asked for (indexed too, so a repeat request hits in O(1)).
    pub requested_scopes: &'a [String],
    /// Granted scopes, tokens, expiries, account, family id.
    pub result: &'a AuthenticationResult,
    /// The grant that created the account (`authorization_code`, `password`,
    /// the device-code URN ...), written as the account's `account_source`.
    pub account_source: Option<&'a str>,
    /// `MSSTS`, `ADFS` or `Other`, as msal writes it.
    pub authority_type: &'a str,
    pub now: SystemTime,
}

/// Which access token a silent call wants.
#[derive(Clone, Copy, Debug)]
pub struct AccessTokenQuery<'a> {
    pub client_id: &'a str,
    pub environment: &'a str,
    pub realm: &'a str,
    /// `None` = an app-only token (client credentials).
    pub home_account_id: Option<&'a str>,
    pub scopes: &'a [String],
}

/// An access token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedAccessToken {
    pub secret: AccessToken,
    pub token_type: String,
    /// The granted scopes, as stored.
    pub scopes: Vec<String>,
    pub expires_on: SystemTime,
    pub ext_expires_on: Option<SystemTime>,
    /// When to refresh proactively, if the server said.
    pub refresh_on: Option<SystemTime>,
    pub cached_at: SystemTime,
    pub home_account_id: Option<String>,
    pub realm: String,
}

/// Which refresh token a silent call wants.
#[derive(Clone, Copy, Debug)]
pub struct RefreshTokenQuery<'a> {
    pub home_account_id: &'a str,
    pub environment: &'a str,
    pub client_id: &'a str,
    /// `Some("1")`: any refresh token of that family (FOCI); `None`: this client's own.
    pub family_id: Option<&'a str>,
}

/// A refresh token found in the cache.
#[derive(Clone, Debug)]
pub struct CachedRefreshToken {
    pub secret: RefreshToken,
    pub family_id: Option<String>,
    /// The client the token was issued to (another family member's, for a family query).
    pub client_id: String,
}

/// What the cache knows about a client app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppMetadata {
    /// The FOCI family the server said the app belongs to.
    pub family_id: Option<String>,
}

/// Entries per section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    pub id_tokens: usize,
    pub accounts: usize,
    pub app_metadata: usize,
}

/// Where a cache is persisted. [`FileStorage`] is the file implementation;
/// apps may supply their own (a keychain item, a database row).
pub trait CacheStorage: Send + Sync + std::fmt::Debug {
    /// The last saved bytes, or `None` when nothing was saved yet.
    fn load(&self) -> Result<Option<Vec<u8>>, String>;
    /// Replaces the stored bytes atomically (a reader sees the old or the new
    /// bytes, never a mix).
    fn save(&self, data: &[u8]) -> Result<(), String>;
    /// A cheap value that changes whenever the stored bytes change (for a
    /// file: device, inode, length, modification time). `None` when the
    /// storage cannot tell: the cache then re-reads on every
    /// [`TokenCache::reload`] and merges on every [`TokenCache::persist`].
    fn version(&self) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// Takes the exclusive lock that other processes sharing this storage
    /// also take (blocking). The cache holds it from reading the stored state
    /// to writing the merged one.
    fn lock(&self) -> Result<(), String> {
        Ok(())
    }
    /// Releases what [`CacheStorage::lock`] took.
    fn unlock(&self) {}
}

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

fn time(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

fn storage_error(e: String) -> IdFlowError {
    IdFlowError::local(
        LocalCode::CacheStorageFailed,
        format!("token cache storage: {e}"),
    )
}

/// Parses a cache document. The error names the position and the kind of
/// problem, never the text there (it may be a token).
fn parse(json: &str) -> Result<Store, IdFlowError> {
    if json.trim().is_empty() {
        return Ok(Store::default());
    }
    let doc: Document = serde_json::from_str(json).map_err(|e| {
        IdFlowError::local(
            LocalCode::InvalidCacheFormat,
            format!(
                "the token cache is not a JSON document of the MSAL cache schema ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(Store::from_document(doc))
}

/// Releases the storage lock when dropped.
struct Held<'a>(&'a dyn CacheStorage);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
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

    fn mark_changed(&self) {
        self.inner.changed.store(true, Ordering::Release);
    }

    fn storage(&self) -> Option<Arc<dyn CacheStorage>> {
        self.inner
            .storage
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    // ---- msal unified schema ----

    /// The whole cache as msal's `SerializableTokenCache` JSON (compact).
    /// Resets [`TokenCache::has_state_changed`].
    pub fn serialize(&self) -> String {
        let s = self.read();
        self.inner.changed.store(false, Ordering::Release);
        serde_json::to_string(&*s).unwrap_or_default()
    }

    /// Replaces the content with a serialized cache (an empty string is an
    /// empty cache). Invalid JSON, or sections that are not objects of
    /// entry objects, give a client error `invalid_cache_format` and leave the
    /// cache unchanged. Resets [`TokenCache::has_state_changed`].
    pub fn deserialize(&self, json: &str) -> Result<(), IdFlowError> {
        let mut fresh = parse(json)?;
        let mut s = self.write();
        if s.journal.is_some() {
            // With storage attached, the replacement is this cache's change.
            fresh.journal_everything();
        }
        let old = std::mem::replace(&mut *s, fresh);
        self.inner.changed.store(false, Ordering::Release);
        drop(s);
        // The replaced content is freed after the lock is released: readers
        // and writers do not wait for it.
        drop(old);
        Ok(())
    }

    /// [`TokenCache::deserialize`] from the JSON's UTF-8 bytes (what a file or
    /// a foreign caller holds, read in place). Bytes that are not UTF-8 give
    /// the same `invalid_cache_format` error as bad JSON.
    pub fn deserialize_utf8(&self, json: &[u8]) -> Result<(), IdFlowError> {
        let text = std::str::from_utf8(json).map_err(|e| {
            IdFlowError::local(
                LocalCode::InvalidCacheFormat,
                format!(
                    "the token cache is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        self.deserialize(text)
    }

    /// Whether anything changed since the last serialize / deserialize /
    /// persist (saves, removals and evictions all count).
    pub fn has_state_changed(&self) -> bool {
        self.inner.changed.load(Ordering::Acquire)
    }

    pub fn set_state_changed(&self, changed: bool) {
        self.inner.changed.store(changed, Ordering::Release);
    }

    // ---- writing ----

    /// Writes what a token answer produced: the access token, and the
    /// refresh token, id token, account and app metadata as present (the
    /// entries msal Python writes for the same answer, under the same keys).
    /// Then drops expired access tokens and enforces the bound.
    pub fn save(&self, r: &SaveRequest<'_>) {
        let res = r.result;
        let env = scopes::fold(r.environment).into_owned();
        let now = secs(r.now);
        let home = res.account.as_ref().map(|a| a.home_account_id.as_str());
        let mut granted: Vec<&str> = res.scopes.iter().map(String::as_str).collect();
        granted.sort_unstable();
        let target = granted.join(" ");
        let family = res.family_id.as_deref();

        let mut at = AtEntry::new(AtFields {
            credential_type: Some("AccessToken"),
            secret: Some(res.access_token.expose()),
            home_account_id: home,
            environment: Some(&env),
            client_id: Some(r.client_id),
            realm: Some(r.realm),
            target: Some(&target),
            token_type: Some(&res.token_type),
            ..AtFields::default()
        });
        at.cached_at = Some(now);
        at.expires_on = Some(secs(res.expires_on));
        at.extended_expires_on = Some(secs(res.ext_expires_on.unwrap_or(res.expires_on)));
        at.refresh_on = res.refresh_on.map(secs);
        if home.is_none() {
            // msal matches app tokens on `"home_account_id": null`.
            at.extra.push(("home_account_id".into(), Value::Null));
        }
        let acct = res.account.as_ref().map(|a| {
            AcctEntry::new(AcctFields {
                home_account_id: Some(&a.home_account_id),
                environment: Some(&env),
                realm: Some(r.realm),
                local_account_id: Some(&a.local_account_id),
                username: Some(&a.username),
                authority_type: Some(r.authority_type),
                account_source: r.account_source,
            })
        });
        let idt = res.id_token.as_ref().map(|t| {
            IdtEntry::new(IdtFields {
                credential_type: Some("IdToken"),
                secret: Some(t.expose()),
                home_account_id: home,
                environment: Some(&env),
                realm: Some(r.realm),
                client_id: Some(r.client_id),
            })
        });
        let rt = res.refresh_token.as_ref().map(|t| {
            let mut e = RtEntry::new(RtFields {
                credential_type: Some("RefreshToken"),
                secret: Some(t.expose()),
                home_account_id: home,
                environment: Some(&env),
                client_id: Some(r.client_id),
                target: Some(&target),
                family_id: family,
            });
            e.last_modification_time = Some(now);
            e
        });
        let meta = MetaEntry::new(MetaFields {
            client_id: Some(r.client_id),
            environment: Some(&env),
            family_id: family,
        });

        let mut s = self.write();
        s.save_access_token(at, r.requested_scopes);
        if let Some(a) = acct {
            s.put_acct(a);
        }
        if let Some(i) = idt {
            s.put_idt(i);
        }
        if let Some(t) = rt {
            s.put_rt(t);
        }
        s.put_meta(meta);
        s.evict(now, self.inner.options.max_access_tokens);
        drop(s);
        self.mark_changed();
    }

    // ---- reading ----

    /// The unexpired (`expires_on > now`) access token whose scopes cover
    /// the requested ones (see the module docs for the matching rules), the
    /// one expiring last when several do. Expired tokens met on the way are
    /// dropped. The caller applies its own expiry margin to the result.
    pub fn access_token(
        &self,
        q: &AccessTokenQuery<'_>,
        now: SystemTime,
    ) -> Option<CachedAccessToken> {
        let now_s = secs(now);
        let mut expired = Vec::new();
        let found = {
            let s = self.read();
            let query = AtQuery {
                client_id: q.client_id,
                environment: q.environment,
                realm: q.realm,
                home: q.home_account_id.unwrap_or(""),
                scopes: q.scopes,
            };
            s.find_at(&query, now_s, &mut expired)
                .and_then(|id| s.at.get(id))
                .map(|e| CachedAccessToken {
                    secret: AccessToken::new(e.secret().unwrap_or("")),
                    token_type: e
                        .token_type()
                        .map(str::to_owned)
                        .unwrap_or_else(|| "Bearer".into()),
                    scopes: e
                        .target()
                        .unwrap_or("")
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    expires_on: time(e.expires_on.unwrap_or(0)),
                    ext_expires_on: e.extended_expires_on.map(time),
                    refresh_on: e.refresh_on.map(time),
                    cached_at: time(e.cached_at.unwrap_or(0)),
                    home_account_id: e.home_account_id().map(str::to_owned),
                    realm: e.realm().map(str::to_owned).unwrap_or_default(),
                })
        };
        if !expired.is_empty() && self.write().evict_expired(&expired, now_s) > 0 {
            self.mark_changed();
        }
        found
    }

    /// The account's refresh token for this client (`family_id` None) or for
    /// a family (`Some("1")`): the newest by `last_modification_time`; scopes
    /// are ignored (the platform's refresh tokens are scope-independent).
    pub fn refresh_token(&self, q: &RefreshTokenQuery<'_>) -> Option<CachedRefreshToken> {
        let s = self.read();
        let ids = s.rts_of(q.home_account_id, q.environment, q.client_id, q.family_id);
        let e = s.rt.get(s.newest_rt(ids)?)?;
        Some(CachedRefreshToken {
            secret: RefreshToken::new(e.secret().unwrap_or("")),
            family_id: e.family_id().map(str::to_owned).filter(|f| !f.is_empty()),
            client_id: e.client_id().map(str::to_owned).unwrap_or_default(),
        })
    }

    /// The id token saved for this account, environment, realm and client.
    pub fn id_token(
        &self,
        home_account_id: &str,
        environment: &str,
        realm: &str,
        client_id: &str,
    ) -> Option<IdToken> {
        let s = self.read();
        let eq = |a: Option<&str>, b: &str| scopes::fold(a.unwrap_or("")) == scopes::fold(b);
        s.idts_of(environment, home_account_id)
            .iter()
            .filter_map(|&id| s.idt.get(id))
            .find(|e| eq(e.realm(), realm) && eq(e.client_id(), client_id))
            .map(|e| IdToken::new(e.secret().unwrap_or("")))
    }

    /// The app's metadata (its FOCI family), if a token answer for it was saved.
    pub fn app_metadata(&self, environment: &str, client_id: &str) -> Option<AppMetadata> {
        self.read()
            .meta_of(environment, client_id)
            .map(|m| AppMetadata {
                family_id: m.family_id().map(str::to_owned).filter(|f| !f.is_empty()),
            })
    }

    /// Records whether the app is in a family (members idflow does not know
    /// are kept).
    pub fn set_app_family(&self, environment: &str, client_id: &str, family_id: Option<&str>) {
        let mut s = self.write();
        let env = scopes::fold(environment);
        let fields = MetaFields {
            client_id: Some(client_id),
            environment: Some(&env),
            family_id,
        };
        let e = match s.meta_of(environment, client_id) {
            Some(old) => old.with_fields(fields),
            None => MetaEntry::new(fields),
        };
        s.put_meta(e);
        drop(s);
        self.mark_changed();
    }

    /// Accounts holding a refresh token this client can use: its own, or one
    /// of its family (the family in its app metadata; when the app has no
    /// metadata yet, family `"1"`, which msal also tries first). One per home
    /// account (the record of the home tenant when there are several),
    /// ordered by home account id; `username` filters case-insensitively.
    /// Costs O(accounts of this client), never a walk over tokens.
    pub fn accounts(
        &self,
        environment: &str,
        client_id: &str,
        username: Option<&str>,
    ) -> Vec<Account> {
        let s = self.read();
        let family = match s.meta_of(environment, client_id) {
            Some(m) => m.family_id().filter(|f| !f.is_empty()),
            None => Some("1"),
        };
        // The record of the home tenant when there are several, else the first.
        let pick = |home: &str| -> Option<&AcctEntry> {
            let utid = home.split_once('.').map(|(_, t)| t);
            let mut first = None;
            for &id in s.accts_of(environment, home) {
                let Some(a) = s.acct.get(id) else { continue };
                if utid.is_some_and(|t| scopes::folded_eq(a.realm().unwrap_or(""), t)) {
                    return Some(a);
                }
                first.get_or_insert(a);
            }
            first
        };
        let account = |rec: &AcctEntry| Account {
            home_account_id: rec.home_account_id().map(str::to_owned).unwrap_or_default(),
            environment: rec.environment().map(str::to_owned).unwrap_or_default(),
            realm: rec.realm().map(str::to_owned).unwrap_or_default(),
            username: rec.username().map(str::to_owned).unwrap_or_default(),
            local_account_id: rec
                .local_account_id()
                .map(str::to_owned)
                .unwrap_or_default(),
        };
        let Some(wanted) = username else {
            let homes = s.homes_with_rt(environment, client_id, family);
            let mut out = Vec::with_capacity(homes.len());
            out.extend(homes.into_iter().filter_map(pick).map(account));
            return out;
        };
        // Only the records of that username, through its index.
        let mut homes: Vec<_> = s
            .accts_of_user(environment, wanted)
            .iter()
            .filter_map(|&id| s.acct.get(id))
            .map(|a| scopes::fold(a.home_account_id().unwrap_or("")))
            .collect();
        homes.sort_unstable();
        homes.dedup();
        homes
            .iter()
            .filter(|home| s.home_has_rt(environment, client_id, family, home))
            .filter_map(|home| pick(home))
            .filter(|rec| scopes::folded_eq(rec.username().unwrap_or(""), wanted))
            .map(account)
            .collect()
    }

    /// Signs the account out of this client, as msal does: removes its
    /// refresh tokens issued to this client or to the client's family, all
    /// its access tokens and id tokens in this environment (every realm), and
    /// its account records.
    pub fn remove_account(&self, account: &Account, client_id: &str) {
        let env = account.environment.as_str();
        let home = account.home_account_id.as_str();
        let mut s = self.write();
        let family = s
            .meta_of(env, client_id)
            .and_then(|m| m.family_id().map(str::to_owned))
            .filter(|f| !f.is_empty());
        let rts: Vec<_> = s
            .rts_of_home(env, home)
            .iter()
            .copied()
            .filter(|&id| {
                s.rt.get(id).is_some_and(|e| {
                    e.client_id()
                        .is_some_and(|c| c.eq_ignore_ascii_case(client_id))
                        || (family.is_some() && e.family_id() == family.as_deref())
                })
            })
            .collect();
        for id in rts {
            s.remove_rt(id, true);
        }
        for id in s.ats_of_home(env, home) {
            s.remove_at(id, true);
        }
        for id in s.idts_of(env, home).to_vec() {
            s.remove_idt(id, true);
        }
        for id in s.accts_of(env, home).to_vec() {
            s.remove_acct(id, true);
        }
        drop(s);
        self.mark_changed();
    }

    /// Removes one refresh token: the account's token for the query's client
    /// or family that holds exactly `secret` (a newer one saved meanwhile stays).
    pub fn remove_refresh_token(&self, q: &RefreshTokenQuery<'_>, secret: &RefreshToken) {
        let mut s = self.write();
        let ids: Vec<_> = s
            .rts_of(q.home_account_id, q.environment, q.client_id, q.family_id)
            .iter()
            .copied()
            .filter(|&id| {
                s.rt.get(id)
                    .and_then(|e| e.secret())
                    .is_some_and(|t| crate::secret::constant_time_eq(t, secret.expose()))
            })
            .collect();
        let any = !ids.is_empty();
        for id in ids {
            s.remove_rt(id, true);
        }
        drop(s);
        if any {
            self.mark_changed();
        }
    }

    /// Entries per section.
    pub fn counts(&self) -> CacheCounts {
        counts_of(&self.read())
    }

    // ---- persistence ----

    /// Attaches storage: what it holds is merged in at once (entries already
    /// in this cache win and are written at the next [`TokenCache::persist`]).
    /// Replaces any storage attached before.
    pub fn attach_storage(&self, storage: Arc<dyn CacheStorage>) -> Result<(), IdFlowError> {
        {
            let _sync = self
                .inner
                .sync_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *self
                .inner
                .storage
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(storage);
            *self
                .inner
                .synced
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            let mut s = self.write();
            s.journal_everything();
            if s.journal.as_ref().is_some_and(|j| !j.is_empty()) {
                self.mark_changed();
            }
        }
        self.reload().map(|_| ())
    }

    /// Re-reads the attached storage when it changed since this cache last
    /// read or wrote it (one [`CacheStorage::version`] call otherwise), keeping
    /// this cache's unsaved changes on top. Returns whether it re-read. A
    /// stored state that cannot be parsed is an `invalid_cache_format` error
    /// and leaves the cache unchanged.
    pub fn reload(&self) -> Result<bool, IdFlowError> {
        let Some(st) = self.storage() else {
            return Ok(false);
        };
        let version = st.version().map_err(storage_error)?;
        if version.is_some() && *self.synced() == version {
            return Ok(false);
        }
        let _sync = self
            .inner
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let version = st.version().map_err(storage_error)?;
        if version.is_some() && *self.synced() == version {
            return Ok(false);
        }
        let bytes = st.load().map_err(storage_error)?;
        let mut base = parse(&String::from_utf8_lossy(
            bytes.as_deref().unwrap_or_default(),
        ))?;
        let mut s = self.write();
        s.replay_onto(&mut base);
        base.journal = Some(s.journal.take().unwrap_or_default());
        *s = base;
        drop(s);
        *self.synced() = version;
        Ok(true)
    }

    fn synced(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.inner
            .synced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes this cache's changes to the attached storage, merged under the
    /// storage's lock with what other processes stored meanwhile (see the
    /// module docs). Nothing happens without storage or without changes.
    /// A stored state that cannot be parsed is replaced.
    pub fn persist(&self) -> Result<(), IdFlowError> {
        let Some(st) = self.storage() else {
            return Ok(());
        };
        let _sync = self
            .inner
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.read().journal.as_ref().is_none_or(|j| j.is_empty()) {
            return Ok(());
        }
        st.lock().map_err(storage_error)?;
        let _held = Held(st.as_ref());
        let version = st.version().map_err(storage_error)?;
        let stale = version.is_none() || *self.synced() != version;
        // Parsed before taking the write lock: readers keep going meanwhile.
        let base = if stale {
            let bytes = st.load().map_err(storage_error)?;
            let text = String::from_utf8_lossy(bytes.as_deref().unwrap_or_default());
            Some(parse(&text).unwrap_or_default())
        } else {
            None
        };
        let pending = {
            let mut s = self.write();
            match base {
                Some(mut base) => {
                    s.replay_onto(&mut base);
                    let pending = s.journal.take().unwrap_or_default();
                    base.journal = Some(Default::default());
                    *s = base;
                    pending
                }
                None => s.journal.replace(Default::default()).unwrap_or_default(),
            }
        };
        let json = {
            let s = self.read();
            self.inner.changed.store(false, Ordering::Release);
            serde_json::to_string(&*s).unwrap_or_default()
        };
        if let Err(e) = st.save(json.as_bytes()) {
            let mut s = self.write();
            let j = s.journal.get_or_insert_with(Default::default);
            for (k, v) in pending {
                j.entry(k).or_insert(v);
            }
            drop(s);
            self.mark_changed();
            return Err(storage_error(e));
        }
        *self.synced() = st.version().map_err(storage_error)?;
        Ok(())
    }
}
