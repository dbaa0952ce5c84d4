//! Index keys hashed straight from their parts, without building them.
//!
//! An index key is its parts (ids, hosts, realms) lower-cased and joined,
//! and the indexes keep only its hash ([`super::index::Hashed`], the access
//! tokens' partitions). Building the key first — a pass to check the parts
//! are ASCII, a byte-by-byte lower-casing copy, a UTF-8 check of the copy,
//! then the hash reading it once more — was the largest single cost of
//! indexing a loaded cache (≈ 16 % of the indexing threads' time at 100k
//! users, with each refresh token filed under five such keys). Here each
//! part is read once, 8 bytes at a time, lower-cased in the register and
//! mixed in; only a part that is not ASCII is folded the ordinary way first.
//!
//! Two keys equal once folded hash the same: a part hashes as its folded
//! text, whichever way it was folded. Keys that differ may collide (64 bits
//! name a key only very probably): every reader checks the entries' own
//! fields, so a collision shares a list, never an answer.

use crate::cache::scopes::fold;
use std::hash::BuildHasher;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// Odd constants with their bits well spread (the fractional digits of π).
const MUL: u64 = 0x243f_6a88_85a3_08d3;
const FINAL: u64 = 0x1319_8a2e_0370_7344;

/// The upper and lower halves of the 128-bit product, xored: the mixing
/// step (a multiplication spreads each input bit over the high half).
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// `w` with its ASCII capitals lower-cased; every other byte (non-ASCII
/// ones included) as it is.
#[inline]
fn lower(w: u64) -> u64 {
    // Without the high bits no byte carries into the next: from `A` (0x41)
    // up, `+ 0x3f` sets a byte's high bit; from `[` (0x5b) up, `+ 0x25`.
    let low = w & !HIGHS;
    let upper = low.wrapping_add(ONES * 0x3f) & !low.wrapping_add(ONES * 0x25) & !w & HIGHS;
    // 0x80 >> 2 is 0x20, the case bit.
    w | (upper >> 2)
}

/// Hashes index keys; seeded at random per hasher, as the standard maps are.
#[derive(Clone, Copy)]
pub(super) struct KeyHasher {
    seed: u64,
}

impl Default for KeyHasher {
    fn default() -> Self {
        KeyHasher {
            seed: foldhash::fast::RandomState::default().hash_one(MUL),
        }
    }
}

impl KeyHasher {
    /// The hash of `parts` folded and joined.
    #[inline]
    pub fn hash(&self, parts: &[&str]) -> u64 {
        let mut h = self.seed;
        for p in parts {
            h = match mix_ascii(h, p.as_bytes()) {
                Some(next) => next,
                // Not ASCII: the folded text (ASCII capitals are already
                // lower there, so `lower` leaves every byte as it is).
                None => mix(h, fold(p).as_bytes()),
            };
        }
        folded_multiply(h ^ FINAL, FINAL.rotate_left(32) ^ self.seed)
    }
}

/// Mixes `b` (lower-cased) into `h`; None when `b` is not ASCII, whose
/// folding `lower` does not do.
#[inline]
fn mix_ascii(h: u64, b: &[u8]) -> Option<u64> {
    let (h, seen) = mix_words(h, b);
    (seen & HIGHS == 0).then_some(h)
}

/// Mixes `b` (lower-cased) into `h`.
fn mix(h: u64, b: &[u8]) -> u64 {
    mix_words(h, b).0
}

/// Mixes `b` into `h` a word at a time, the last word zero-padded and
/// marked with the length's low byte (so `"a"` and `"a\0"` differ; lengths
/// 256 apart differ in their number of words); also the bytes' bits or-ed
/// together (is any byte not ASCII?).
#[inline]
fn mix_words(mut h: u64, b: &[u8]) -> (u64, u64) {
    let mut seen = 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let w = word(w);
        seen |= w;
        h = folded_multiply(h ^ lower(w), MUL);
    }
    let w = last_word(b);
    seen |= w;
    // The last word holds at most 7 bytes: its top byte is free.
    let len = (b.len() as u64) << 56;
    (folded_multiply(h ^ lower(w) ^ len, MUL), seen)
}

/// The bytes of `b` after its last whole word, zero-padded (as
/// little-endian `u64`). Read with whole loads, not copied into a buffer
/// first: a copy's byte stores cannot be forwarded to the word load that
/// follows, and that stall was most of a short key's hash.
#[inline]
fn last_word(b: &[u8]) -> u64 {
    let n = b.len();
    let r = n % 8;
    if r == 0 {
        0
    } else if let Some(w) = n.checked_sub(8).and_then(|at| b.get(at..n)) {
        // The last 8 bytes, the ones already mixed shifted out.
        word(w) >> (8 * (8 - r))
    } else if r >= 4 {
        // Two overlapping 4-byte loads (the shared bytes are the same).
        let lo = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let hi = u64::from(u32::from_le_bytes([b[r - 4], b[r - 3], b[r - 2], b[r - 1]]));
        lo | (hi << (8 * (r - 4)))
    } else {
        // 1 to 3 bytes: the first, the middle and the last cover them.
        u64::from(b[0])
            | (u64::from(b[r / 2]) << (8 * (r / 2)))
            | (u64::from(b[r - 1]) << (8 * (r - 1)))
    }
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_changes_ascii_capitals_only() {
        for b in 0..=255u8 {
            let w = u64::from_le_bytes([b, b'Q', 0xc1, b, 0x5b, b'@', 0xda, b]);
            let want: Vec<u8> = w.to_le_bytes().iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(lower(w).to_le_bytes().to_vec(), want, "byte {b:#x}");
        }
    }

    #[test]
    fn last_word_is_the_tail_zero_padded() {
        let text: Vec<u8> = (1..=40).collect();
        for n in 0..text.len() {
            let b = &text[..n];
            let tail = &b[n - n % 8..];
            let mut want = [0u8; 8];
            want[..tail.len()].copy_from_slice(tail);
            assert_eq!(last_word(b), u64::from_le_bytes(want), "length {n}");
        }
    }

    #[test]
    fn keys_equal_once_folded_hash_the_same() {
        let k = KeyHasher::default();
        let h = |p: &[&str]| k.hash(p);
        assert_eq!(
            h(&["Client-ID", "LOGIN.microsoftonline.com", "Contoso"]),
            h(&["client-id", "login.microsoftonline.com", "contoso"])
        );
        // A part that is not ASCII hashes as its folded text, whatever the
        // other parts are.
        assert_eq!(h(&["ÄBC", "Tenant"]), h(&["äbc", "tenant"]));
        assert_eq!(h(&["äbc"]), h(&[&fold("ÄBC")]));
        assert_eq!(h(&["", ""]), h(&["", ""]));
        assert_ne!(h(&["a", "bc"]), h(&["ab", "c"]));
        assert_ne!(h(&["a"]), h(&["a\0"]));
        assert_ne!(h(&["", "a"]), h(&["a", ""]));
        assert_ne!(h(&["abcdefgh"]), h(&["abcdefgi"]));
        assert_ne!(h(&["äbc"]), h(&["abc"]));
    }

    #[test]
    fn hashes_agree_with_the_folded_keys() {
        // Random parts from an alphabet with ASCII and non-ASCII capitals:
        // two keys hash the same exactly when their folded parts are equal
        // (64 bits collide here only by a bug).
        let alphabet = ['a', 'A', 'z', 'Z', '-', '.', '0', 'ä', 'Ä', 'K', 'ß', '@'];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let k = KeyHasher::default();
        let mut seen = std::collections::HashMap::new();
        for _ in 0..20_000 {
            let parts: Vec<String> = (0..2)
                .map(|_| {
                    let len = (next() % 20) as usize;
                    (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let folded: Vec<String> = refs.iter().map(|p| fold(p).into_owned()).collect();
            let h = k.hash(&refs);
            if let Some(prev) = seen.insert(h, folded.clone()) {
                assert_eq!(prev, folded, "{refs:?}");
            }
            let frefs: Vec<&str> = folded.iter().map(String::as_str).collect();
            assert_eq!(k.hash(&frefs), h, "{refs:?}");
        }
    }
}
