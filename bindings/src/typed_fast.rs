//! The typed twin of the Python fast path, for Kotlin (and Swift): a cache
//! hit through a [`CachedTokenProbe`] crosses the boundary once with an
//! integer, and the token record only when the cached token changed. Over
//! JNA each crossing and each record costs more than the lookup itself.

use crate::convert::{token_result, unix};
use crate::guard::guard;
use crate::python_fast::CachedTokenProbe;
use crate::types::{AuthError, TokenResult};

#[uniffi::export]
impl CachedTokenProbe {
    /// The cached token as a [`TokenResult`], remembered for `probe` (which
    /// then answers its `expires_on` while it stays the cached one); nothing
    /// when no usable token is cached.
    pub fn fetch(&self) -> Result<Option<TokenResult>, AuthError> {
        guard(|| {
            let hit = (self.lookup)()?;
            let Some(hit) = hit else {
                *self.last() = None;
                return Ok(None);
            };
            *self.last() = Some((hit.access_token.clone(), unix(hit.expires_on)));
            Ok(Some(token_result(hit)))
        })
    }
}
