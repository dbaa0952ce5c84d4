//! Compact JWTs: signing the tokens the emulator issues, and reading and
//! verifying the ones it receives (client assertions, on-behalf-of assertions).
//!
//! Only what the identity platform uses: RS256 for what it signs; RS256,
//! RS384, RS512, PS256, PS384 and PS512 for what it verifies (msal Python
//! signs client assertions with PS256, MSAL.NET with RS256).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, RsaParameters};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// Tokens longer than this are refused unread (real ones are a few KiB).
pub const MAX_JWT_LEN: usize = 32 * 1024;

/// An RSA public key as its two components (big-endian, no leading zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublic {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

impl RsaPublic {
    /// From DER: a SubjectPublicKeyInfo or a PKCS#1 RSAPublicKey.
    pub fn from_der(der: &[u8]) -> Option<RsaPublic> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der).ok()?;
        let c = PublicKeyComponents::<Vec<u8>>::from(&key);
        Some(RsaPublic { n: c.n, e: c.e })
    }

    /// Whether `signature` over `message` is valid for this key with JWS `alg`.
    pub fn verifies(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        let Some(params) = verification_params(alg) else {
            return false;
        };
        let key = PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        };
        key.verify(params, message, signature).is_ok()
    }

    /// The JWK members `n` and `e`.
    pub fn jwk_members(&self) -> (String, String) {
        (
            URL_SAFE_NO_PAD.encode(&self.n),
            URL_SAFE_NO_PAD.encode(&self.e),
        )
    }
}

fn verification_params(alg: &str) -> Option<&'static RsaParameters> {
    Some(match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
        "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// A private RSA key that signs RS256 JWTs.
pub struct RsaSigner {
    pair: KeyPair,
    public: RsaPublic,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigner").finish_non_exhaustive()
    }
}

impl RsaSigner {
    /// A fresh 2048-bit key.
    pub fn generate() -> Result<RsaSigner, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA key generation failed".to_owned())?;
        Ok(RsaSigner::from_pair(pair))
    }

    /// From an unencrypted PKCS#8 (DER) private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<RsaSigner, String> {
        let pair = KeyPair::from_pkcs8(der).map_err(|e| format!("not an RSA PKCS#8 key: {e}"))?;
        Ok(RsaSigner::from_pair(pair))
    }

    fn from_pair(pair: KeyPair) -> RsaSigner {
        let c = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        RsaSigner {
            public: RsaPublic { n: c.n, e: c.e },
            pair,
        }
    }

    pub fn public(&self) -> &RsaPublic {
        &self.public
    }

    /// The key pair, for callers that encode it (certificates, PKCS#8 export).
    pub fn pair(&self) -> &KeyPair {
        &self.pair
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        self.sign_with(&signature::RSA_PKCS1_SHA256, message)
    }

    /// A signature with the given padding (PS256 signers use `RSA_PSS_SHA256`).
    pub fn sign_with(
        &self,
        padding: &'static dyn signature::RsaEncoding,
        message: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| "RSA signing failed".to_owned())?;
        Ok(sig)
    }

    /// A compact JWT with `header` (alg RS256 is set here) and `claims`.
    pub fn sign_jwt(
        &self,
        mut header: Map<String, Value>,
        claims: &Value,
    ) -> Result<String, String> {
        header.insert("alg".into(), json!("RS256"));
        header.entry("typ").or_insert(json!("JWT"));
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// A JWT taken apart, not yet verified.
#[derive(Clone, Debug)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWS; `None` for anything malformed or oversized.
    pub fn parse(token: &str) -> Option<Jwt> {
        if token.len() > MAX_JWT_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let object = |part: &str| -> Option<Map<String, Value>> {
            let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
            match serde_json::from_slice(&bytes).ok()? {
                Value::Object(m) => Some(m),
                _ => None,
            }
        };
        Some(Jwt {
            header: object(h)?,
            claims: object(c)?,
            signing_input: format!("{h}.{c}"),
            signature: URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header_str("alg").unwrap_or("")
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`); numbers sent as strings are accepted.
    pub fn claim_time(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether `aud` is `expected` or, as an array, contains it.
    pub fn has_audience(&self, expected: impl Fn(&str) -> bool) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(s)) => expected(s),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(expected),
            _ => false,
        }
    }

    /// Whether the signature is valid for `key` (only RSA algorithms are accepted).
    pub fn verified_by(&self, key: &RsaPublic) -> bool {
        key.verifies(self.alg(), self.signing_input.as_bytes(), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let signer = RsaSigner::generate().unwrap();
        let mut header = Map::new();
        header.insert("kid".into(), json!("k1"));
        let token = signer
            .sign_jwt(header, &json!({"aud": ["a", "b"], "exp": "5"}))
            .unwrap();
        let jwt = Jwt::parse(&token).unwrap();
        assert!(jwt.verified_by(signer.public()));
        assert_eq!(jwt.header_str("kid"), Some("k1"));
        assert!(jwt.has_audience(|a| a == "b"));
        assert_eq!(jwt.claim_time("exp"), Some(5));
        let other = RsaSigner::generate().unwrap();
        assert!(!jwt.verified_by(other.public()));
        let tampered = token.replacen('.', ".e30", 1);
        assert!(Jwt::parse(&tampered).is_none_or(|j| !j.verified_by(signer.public())));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "e30.e30.!!",
            "W10.e30.",
            "e30.e30",
        ] {
            assert!(Jwt::parse(t).is_none(), "{t}");
        }
        assert!(Jwt::parse(&"e".repeat(MAX_JWT_LEN + 1)).is_none());
        let jwt = Jwt::parse("eyJhbGciOiJub25lIn0.e30.").unwrap();
        let key = RsaSigner::generate().unwrap();
        assert!(!jwt.verified_by(key.public()));
    }
}
