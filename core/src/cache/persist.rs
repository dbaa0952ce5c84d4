//! Persistence: attaching a [`CacheStorage`], re-reading it when another
//! process changed it, and writing this cache's changes merged with theirs.
//!
//! What the storage holds and cannot be read as a cache (not UTF-8, not the
//! schema) is never overwritten: it is read once more under the lock (a
//! writer that replaces the file in place, as msal-extensions does, may have
//! been caught mid-write), then moved aside ([`CacheStorage::set_aside`]) and
//! reported as `invalid_cache_format` and in a `warn` event.

use super::document::parse_utf8;
use super::store::Store;
use super::{CacheStorage, TokenCache};
use crate::error::{IdFlowError, LocalCode};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

fn storage_error(e: String) -> IdFlowError {
    IdFlowError::local(
        LocalCode::CacheStorageFailed,
        format!("token cache storage: {e}"),
    )
}

/// The stored bytes as a cache: strict UTF-8, and the schema.
fn decode(bytes: Option<&[u8]>) -> Result<Store, IdFlowError> {
    parse_utf8(bytes.unwrap_or_default())
}

/// Moves unreadable stored bytes aside and says so: the error to return.
fn set_aside(st: &dyn CacheStorage, e: IdFlowError) -> IdFlowError {
    let kept = match st.set_aside() {
        Ok(Some(aside)) => format!("it was moved to {aside}"),
        Ok(None) => "it was left in place and nothing was saved over it".to_owned(),
        Err(err) => format!("it was left in place and nothing was saved over it ({err})"),
    };
    tracing::warn!(target: "idflow::cache", "unreadable token cache storage: {kept}");
    IdFlowError::local(
        LocalCode::InvalidCacheFormat,
        format!("{}; {kept}", e.message),
    )
}

/// Runs blocking storage work (the cross-process lock, file I/O) without
/// holding up an async runtime's worker thread: on a multi-thread tokio
/// runtime the worker hands its other tasks over first.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Releases the storage lock when dropped.
struct Held<'a>(&'a dyn CacheStorage);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

impl TokenCache {
    pub(in crate::cache) fn storage(&self) -> Option<Arc<dyn CacheStorage>> {
        self.inner
            .storage
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

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
        let r = self.reload().map(|_| ());
        if r.is_err() {
            let _sync = self
                .inner
                .sync_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *self
                .inner
                .storage
                .write()
                .unwrap_or_else(PoisonError::into_inner) = None;
            *self.synced() = None;
        }
        r
    }

    /// Re-reads the attached storage when it changed since this cache last
    /// read or wrote it (one [`CacheStorage::version`] call otherwise), keeping
    /// this cache's unsaved changes on top. Returns whether it re-read. A
    /// stored state that cannot be read (see the module docs) is moved aside
    /// and is an `invalid_cache_format` error; the cache is left unchanged.
    pub fn reload(&self) -> Result<bool, IdFlowError> {
        let Some(st) = self.storage() else {
            return Ok(false);
        };
        blocking(|| self.reload_from(st.as_ref()))
    }

    fn reload_from(&self, st: &dyn CacheStorage) -> Result<bool, IdFlowError> {
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
        let mut base = match decode(bytes.as_deref()) {
            Ok(base) => base,
            Err(_) => {
                // Once more under the lock: a concurrent in-place write is
                // over then.
                st.lock().map_err(storage_error)?;
                let _held = Held(st);
                let bytes = st.load().map_err(storage_error)?;
                decode(bytes.as_deref()).map_err(|e| set_aside(st, e))?
            }
        };
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
    /// A stored state that cannot be read is moved aside, never replaced: an
    /// `invalid_cache_format` error, and this cache's changes wait for the
    /// next persist.
    pub fn persist(&self) -> Result<(), IdFlowError> {
        let Some(st) = self.storage() else {
            return Ok(());
        };
        blocking(|| self.persist_to(st.as_ref()))
    }

    fn persist_to(&self, st: &dyn CacheStorage) -> Result<(), IdFlowError> {
        let _sync = self
            .inner
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.read().journal.as_ref().is_none_or(|j| j.is_empty()) {
            return Ok(());
        }
        st.lock().map_err(storage_error)?;
        let _held = Held(st);
        // Always re-read under the lock and merge: a version can look
        // unchanged while another writer changed the bytes (a storage that
        // cannot tell, a file rewritten in place within one time stamp).
        // Parsed before taking the write lock: readers keep going meanwhile.
        let bytes = st.load().map_err(storage_error)?;
        let mut base = decode(bytes.as_deref()).map_err(|e| set_aside(st, e))?;
        let pending = {
            let mut s = self.write();
            s.replay_onto(&mut base);
            let pending = s.journal.take().unwrap_or_default();
            base.journal = Some(Default::default());
            *s = base;
            pending
        };
        let json = {
            let s = self.read();
            self.inner.changed.store(false, Ordering::Release);
            s.to_json()
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
