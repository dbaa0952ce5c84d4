//! Encryption at rest for stored partitions: AES-256-GCM with the app's key,
//! a random 96-bit nonce per write, and the Redis key as associated data (a
//! partition copied under another key does not decrypt).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

/// The app's key. `Debug` shows nothing of it.
pub(super) struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(AES-256-GCM)")
    }
}

impl Sealer {
    /// `None` unless the key is 32 bytes.
    pub fn new(key: &[u8]) -> Option<Self> {
        let key = UnboundKey::new(&AES_256_GCM, key).ok()?;
        Some(Sealer {
            key: LessSafeKey::new(key),
        })
    }

    /// nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &str, plain: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| "no randomness for a nonce".to_owned())?;
        let mut buf = plain;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// The plaintext, or `None` when the bytes were not sealed by this key
    /// for this Redis key (tampered, another key, garbage).
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_same_key_and_redis_key() {
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = s.seal("k1", b"secret-token".to_vec()).unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"secret-token"));
        assert_eq!(s.open("k1", &sealed).unwrap(), b"secret-token");
        assert!(s.open("k2", &sealed).is_none());
        assert!(Sealer::new(&[8u8; 32])
            .unwrap()
            .open("k1", &sealed)
            .is_none());
        assert!(s.open("k1", b"short").is_none());
        assert!(Sealer::new(&[1u8; 16]).is_none());
    }
}
