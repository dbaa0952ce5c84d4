//! The cache document written into memory the caller allocated: the Python
//! binding creates the `str` the document becomes, and the core writes into
//! that string's own bytes; the Kotlin binding allocates native memory that
//! it copies once into its `ByteArray`. Each saves copies of the whole
//! document (342 MiB at 100k users, whose fresh pages cost as much as
//! writing it).
//!
//! The one place this crate takes a raw address, so the one module where
//! `unsafe` is allowed. Only foreign code that owns the memory (ctypes, in
//! `python/idflow/_bulk.py`; JNA, in `kotlin/.../NativeBuffer.kt`) calls
//! these exports.

use crate::cache::TokenCache;
use crate::guard::guard;
use crate::types::AuthError;
use idflow::error::{IdFlowError, LocalCode};

/// What [`TokenCache::serialize_into_address`] wrote.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FilledDocument {
    /// Bytes written from the start of the buffer.
    pub len: u64,
    /// Whether every byte is ASCII (else the text is UTF-8).
    pub ascii: bool,
}

#[uniffi::export]
impl TokenCache {
    /// The length `serialize` writes when no string needs escaping (see
    /// `serialize_into_address`).
    pub fn serialized_len_hint(&self) -> u64 {
        self.core().serialized_len_hint() as u64
    }

    /// `serialize`, written into the `capacity` bytes at `address`; nothing
    /// when the document does not fit (a string needed escaping, or the
    /// cache grew since its length was asked): then serialize the ordinary
    /// way. A zero address or a capacity too large for one allocation is
    /// refused as misuse.
    ///
    /// The caller must own `capacity` writable bytes at `address`, touched
    /// by nothing else until this returns.
    pub fn serialize_into_address(
        &self,
        address: u64,
        capacity: u64,
    ) -> Result<Option<FilledDocument>, AuthError> {
        guard(|| {
            let (Ok(addr), Ok(len)) = (usize::try_from(address), usize::try_from(capacity)) else {
                return Err(misuse());
            };
            if addr == 0 || len > isize::MAX as usize {
                return Err(misuse());
            }
            #[allow(unsafe_code)]
            // SAFETY: the caller's contract above: `len` writable bytes at a
            // non-null `addr` (a size one allocation can have), not read or
            // written elsewhere while this call holds them. Any alignment
            // suits `u8`.
            let buf = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len) };
            Ok(self
                .core()
                .serialize_into(buf)
                .map(|(len, ascii)| FilledDocument {
                    len: len as u64,
                    ascii,
                }))
        })
    }
}

fn misuse() -> AuthError {
    AuthError::from_core(&IdFlowError::local(
        LocalCode::InvalidParameter,
        "serialize_into_address needs a non-null address and a capacity one allocation can have",
    ))
}
