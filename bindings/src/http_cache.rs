//! msal's `http_cache` from the app: a key → bytes store the core keeps
//! GET answers in (discovery, instance metadata, signing keys), so another
//! app over the same store sends none of them again.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The app's store of HTTP answers (Python: msal's dict-like `http_cache`,
/// which the app may pickle). The values hold no tokens. A store that
/// cannot answer returns nothing: the request is then sent.
#[uniffi::export(with_foreign)]
pub trait HttpCache: Send + Sync {
    /// The bytes stored under `key`, if any.
    fn get(&self, key: String) -> Option<Vec<u8>>;
    /// Stores `value` under `key` (replacing what was there).
    fn set(&self, key: String, value: Vec<u8>);
}

impl std::fmt::Debug for dyn HttpCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpCache")
    }
}

/// Adapts a foreign [`HttpCache`] to the core's store; a failing store
/// (a panic on the way back) counts as a miss / a lost write.
pub(crate) struct ForeignHttpCache(pub Arc<dyn HttpCache>);

impl std::fmt::Debug for ForeignHttpCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignHttpCache")
    }
}

impl idflow::HttpCacheStore for ForeignHttpCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        catch_unwind(AssertUnwindSafe(|| self.0.get(key.to_owned()))).unwrap_or(None)
    }

    fn set(&self, key: &str, value: Vec<u8>) {
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.set(key.to_owned(), value)));
    }
}
