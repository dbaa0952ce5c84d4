//! The cache as one document: msal's `SerializableTokenCache` JSON, read
//! and written whole.

use super::store::{Layout, Store};
use super::TokenCache;
use crate::error::{IdFlowError, LocalCode};
use std::sync::atomic::Ordering;

/// Parses a cache document. The error names the position and the kind of
/// problem, never the text there (it may be a token).
pub(super) fn parse(json: &str) -> Result<Store, IdFlowError> {
    if json.trim().is_empty() {
        return Ok(Store::default());
    }
    Store::parse(json).map_err(|e| json_error(&e))
}

/// [`parse`] of the document's bytes, checked as UTF-8 while they are
/// parsed; bytes that are not UTF-8 give the same `invalid_cache_format`
/// error as bad JSON, naming the offset of the first bad byte.
pub(super) fn parse_utf8(json: &[u8]) -> Result<Store, IdFlowError> {
    if json.trim_ascii().is_empty() {
        return Ok(Store::default());
    }
    Store::parse_utf8(json).or_else(|e| match std::str::from_utf8(json) {
        Err(bad) => Err(IdFlowError::local(
            LocalCode::InvalidCacheFormat,
            format!(
                "the token cache is not UTF-8 text (invalid byte at offset {})",
                bad.valid_up_to()
            ),
        )),
        // Blank in Unicode's sense is empty, as for `parse`.
        Ok(text) if text.trim().is_empty() => Ok(Store::default()),
        Ok(_) => Err(json_error(&e)),
    })
}

fn json_error(e: &serde_json::Error) -> IdFlowError {
    IdFlowError::local(
        LocalCode::InvalidCacheFormat,
        format!(
            "the token cache is not a JSON document of the MSAL cache schema ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    )
}

impl TokenCache {
    /// The whole cache as msal's `SerializableTokenCache` JSON (compact).
    /// Resets [`TokenCache::has_state_changed`].
    pub fn serialize(&self) -> String {
        let s = self.read();
        self.inner.changed.store(false, Ordering::Release);
        s.to_json()
    }

    /// The length [`TokenCache::serialize`] would write when no string needs
    /// escaping (exact then, and an upper bound when an entry's extra members
    /// hold numbers): what a buffer for [`TokenCache::serialize_into`] is
    /// sized by.
    pub fn serialized_len_hint(&self) -> usize {
        let s = self.read();
        let layout = s.json_layout();
        // Read under the lock: no write moves it before this one ends.
        let generation = self.generation();
        *self.layout_memo() = Some((generation, layout));
        layout.len
    }

    /// [`TokenCache::serialize`] written into `buf` from its start, for a
    /// caller whose own string type must own the memory (the Python binding
    /// writes into a new `str`, saving a copy of the whole document). Gives
    /// the length written and whether it is all ASCII, and resets
    /// [`TokenCache::has_state_changed`]; or None, when the document does not
    /// fit (a string needed escaping, or the cache grew since the length was
    /// asked): then `buf` holds nothing usable, the flag is left as it was,
    /// and the caller serializes the ordinary way.
    ///
    /// A big document is written by two threads (see `store/json_out.rs`),
    /// cut where the hint just before this call found its middle, unless
    /// the cache changed since.
    pub fn serialize_into(&self, buf: &mut [u8]) -> Option<(usize, bool)> {
        let s = self.read();
        let generation = self.generation();
        let layout = self.layout_memo().take();
        let layout = layout.filter(|(g, _)| *g == generation).map(|(_, l)| l);
        let written = s.write_json_into(buf, layout)?;
        self.inner.changed.store(false, Ordering::Release);
        Some(written)
    }

    fn layout_memo(&self) -> std::sync::MutexGuard<'_, Option<(u64, Layout)>> {
        self.inner
            .layout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the content with a serialized cache (an empty string is an
    /// empty cache). Invalid JSON, or sections that are not objects of
    /// entry objects, give a client error `invalid_cache_format` and leave the
    /// cache unchanged. Resets [`TokenCache::has_state_changed`].
    pub fn deserialize(&self, json: &str) -> Result<(), IdFlowError> {
        self.replace(parse(json)?);
        Ok(())
    }

    /// [`TokenCache::deserialize`] from the JSON's UTF-8 bytes (what a file or
    /// a foreign caller holds, read in place). Bytes that are not UTF-8 give
    /// the same `invalid_cache_format` error as bad JSON.
    pub fn deserialize_utf8(&self, json: &[u8]) -> Result<(), IdFlowError> {
        self.replace(parse_utf8(json)?);
        Ok(())
    }

    fn replace(&self, mut fresh: Store) {
        let mut s = self.write();
        if s.journal.is_some() {
            // With storage attached, the replacement is this cache's change.
            fresh.journal_everything();
        }
        let old = std::mem::replace(&mut *s, fresh);
        self.inner.changed.store(false, Ordering::Release);
        drop(s);
        // The replaced content is freed after the lock is released (a big
        // one on a thread of its own): readers, writers and this caller do
        // not wait for it.
        old.release();
    }

    /// Whether anything changed since the last serialize / deserialize /
    /// persist (saves, removals and evictions all count).
    pub fn has_state_changed(&self) -> bool {
        self.inner.changed.load(Ordering::Acquire)
    }

    pub fn set_state_changed(&self, changed: bool) {
        self.inner.changed.store(changed, Ordering::Release);
    }
}
