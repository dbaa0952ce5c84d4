//! Compact JWS, just enough for idflow: decode a JWT, verify its signature
//! against a JWK, and sign a client assertion. Crypto is aws-lc-rs (the
//! provider rustls already uses). Only asymmetric algorithms are accepted:
//! `none` and the HMAC family are refused, so a token can never choose to be
//! verified with a key the attacker knows.

use aws_lc_rs::signature::{self, RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

/// base64url without padding, as JOSE and PKCE use it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, tolerating padding (some servers add it).
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Standard base64 (the `x5c` header uses it).
pub fn b64_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A decoded, not yet verified, JWT.
#[derive(Clone, Debug)]
pub struct DecodedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    signing_input: String,
    signature: Vec<u8>,
}

impl DecodedJwt {
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// Splits and decodes a compact JWS. The error says which part is broken,
/// never the token itself.
pub fn decode(token: &str) -> Result<DecodedJwt, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS (three dot-separated parts)".to_owned());
    };
    let object = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = b64url_decode(part).ok_or_else(|| format!("the {what} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(format!("the {what} is not a JSON object")),
        }
    };
    Ok(DecodedJwt {
        header: object(h, "header")?,
        claims: object(p, "payload")?,
        signing_input: format!("{h}.{p}"),
        signature: b64url_decode(s).ok_or("the signature is not base64url")?,
    })
}

/// A public key from a JWKS document (RFC 7517); unknown members are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Jwk {
    #[serde(default)]
    pub kty: String,
    pub kid: Option<String>,
    pub alg: Option<String>,
    #[serde(rename = "use")]
    pub use_: Option<String>,
    pub n: Option<String>,
    pub e: Option<String>,
    pub crv: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
}

/// Algorithms whose signatures idflow verifies.
pub const SUPPORTED_ALGS: [&str; 5] = ["RS256", "RS384", "RS512", "PS256", "ES256"];

impl Jwk {
    /// Whether this key could have produced a signature with `alg`.
    pub fn fits(&self, alg: &str) -> bool {
        let kty_ok = match alg {
            "ES256" => self.kty == "EC" && self.crv.as_deref() == Some("P-256"),
            a if SUPPORTED_ALGS.contains(&a) => self.kty == "RSA",
            _ => false,
        };
        let use_ok = self.use_.as_deref().is_none_or(|u| u == "sig");
        let alg_ok = self.alg.as_deref().is_none_or(|a| a == alg);
        kty_ok && use_ok && alg_ok
    }
}

/// Verifies the JWT's signature with `key`. False for any unsupported or
/// mismatched algorithm, malformed key, or bad signature.
pub fn verify(jwt: &DecodedJwt, key: &Jwk) -> bool {
    let alg = jwt.alg();
    if !key.fits(alg) {
        return false;
    }
    let msg = jwt.signing_input.as_bytes();
    let sig = jwt.signature.as_slice();
    let decoded = |v: &Option<String>| v.as_deref().and_then(b64url_decode);
    if alg == "ES256" {
        let (Some(x), Some(y)) = (decoded(&key.x), decoded(&key.y)) else {
            return false;
        };
        if x.len() != 32 || y.len() != 32 {
            return false;
        }
        let mut point = vec![0x04];
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        return UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(msg, sig)
            .is_ok();
    }
    let params: &signature::RsaParameters = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        _ => return false,
    };
    let (Some(n), Some(e)) = (decoded(&key.n), decoded(&key.e)) else {
        return false;
    };
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(params, msg, sig)
        .is_ok()
}

/// RSA signature schemes for signing client assertions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaAlg {
    /// RSASSA-PSS with SHA-256 (what the Microsoft identity platform prefers).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (what every OpenID provider accepts).
    Rs256,
}

impl RsaAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            RsaAlg::Ps256 => "PS256",
            RsaAlg::Rs256 => "RS256",
        }
    }
}

/// Signs `header` (its `alg` is set here) and `claims` into a compact JWS.
pub fn sign(
    key: &RsaKeyPair,
    alg: RsaAlg,
    mut header: Map<String, Value>,
    claims: &Map<String, Value>,
) -> Result<String, String> {
    header.insert("alg".into(), Value::String(alg.as_str().into()));
    header.insert("typ".into(), Value::String("JWT".into()));
    let h = b64url(Value::Object(header).to_string().as_bytes());
    let p = b64url(Value::Object(claims.clone()).to_string().as_bytes());
    let input = format!("{h}.{p}");
    let encoding: &'static dyn signature::RsaEncoding = match alg {
        RsaAlg::Ps256 => &signature::RSA_PSS_SHA256,
        RsaAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
    };
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        encoding,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "the RSA key could not sign".to_owned())?;
    Ok(format!("{input}.{}", b64url(&sig)))
}

/// The public half of an RSA key as a JWK (`kty`, `n`, `e`, and `kid` when
/// given): what a provider publishes in its JWKS, and what a test server or
/// an app registering a `private_key_jwt` client needs.
pub fn rsa_public_jwk(key: &RsaKeyPair, kid: Option<&str>) -> Value {
    use aws_lc_rs::signature::KeyPair as _;
    let public = key.public_key();
    let mut jwk = serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "n": b64url(public.modulus().big_endian_without_leading_zero()),
        "e": b64url(public.exponent().big_endian_without_leading_zero()),
    });
    if let (Some(kid), Some(obj)) = (kid, jwk.as_object_mut()) {
        obj.insert("kid".into(), Value::String(kid.to_owned()));
    }
    jwk
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::KeySize;

    fn jwk_of(key: &RsaKeyPair) -> Jwk {
        serde_json::from_value(rsa_public_jwk(key, None)).unwrap()
    }

    #[test]
    fn sign_then_verify_both_algorithms() {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), "me".into());
        for alg in [RsaAlg::Ps256, RsaAlg::Rs256] {
            let token = sign(&key, alg, Map::new(), &claims).unwrap();
            let jwt = decode(&token).unwrap();
            assert_eq!(jwt.alg(), alg.as_str());
            assert_eq!(jwt.claims["sub"], "me");
            assert!(verify(&jwt, &jwk_of(&key)));
        }
    }

    #[test]
    fn refuses_tampering_none_and_wrong_keys() {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let other = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let token = sign(&key, RsaAlg::Rs256, Map::new(), &Map::new()).unwrap();
        let jwt = decode(&token).unwrap();
        assert!(!verify(&jwt, &jwk_of(&other)));
        let mut none = jwt.clone();
        none.header.insert("alg".into(), "none".into());
        assert!(!verify(&none, &jwk_of(&key)));
        let mut tampered = jwt;
        tampered.signing_input.push('x');
        assert!(!verify(&tampered, &jwk_of(&key)));
        assert!(decode("a.b").is_err());
        assert!(decode("!!.e30.").is_err());
    }
}
