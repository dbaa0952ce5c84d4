//! Persistence: attaching a [`CacheStorage`], re-reading it when another
//! process changed it, and writing this cache's changes merged with theirs.

use super::document::parse;
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

/// Releases the storage lock when dropped.
struct Held<'a>(&'a dyn CacheStorage);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

impl TokenCache {
    fn storage(&self) -> Option<Arc<dyn CacheStorage>> {
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
