//! Client credentials that are keys: the certificates and public keys an app
//! registers to sign client assertions with, and test credentials the emulator
//! generates for apps that need a certificate to test with.

use crate::crypto::der;
use crate::crypto::jwt::{RsaPublic, RsaSigner};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How an app registers an assertion key: a PEM string (`CERTIFICATE`,
/// `PUBLIC KEY` or `RSA PUBLIC KEY`) or an RSA JWK object (`kty`, `n`, `e`,
/// optional `kid` and `x5c`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    Pem(String),
    Jwk(Map<String, Value>),
}

/// A registered key, ready to verify assertions.
#[derive(Clone, Debug)]
pub struct ClientKey {
    pub public: RsaPublic,
    /// base64url SHA-1 of the certificate (the `x5t` header), for certificates.
    pub x5t: Option<String>,
    /// base64url SHA-256 of the certificate (the `x5t#S256` header), for certificates.
    pub x5t_s256: Option<String>,
    /// The JWK's `kid`, when registered as a JWK.
    pub kid: Option<String>,
    /// Hex SHA-1 of the certificate: some libraries send it as the `kid`.
    pub thumbprint_hex: Option<String>,
}

/// What the admin API shows about a key (never the key itself).
#[derive(Clone, Debug, Serialize)]
pub struct KeySummary {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

impl ClientKey {
    /// Parses a registration; the error says what was wrong with it.
    pub fn parse(spec: &KeySpec) -> Result<ClientKey, String> {
        match spec {
            KeySpec::Pem(text) => {
                let (label, der) = der::pem_decode(text)
                    .ok_or("expected a PEM block (CERTIFICATE or PUBLIC KEY)")?;
                match label.as_str() {
                    "CERTIFICATE" => ClientKey::from_certificate(&der),
                    "PUBLIC KEY" | "RSA PUBLIC KEY" => Ok(ClientKey {
                        public: RsaPublic::from_der(&der).ok_or("not an RSA public key")?,
                        x5t: None,
                        x5t_s256: None,
                        kid: None,
                        thumbprint_hex: None,
                    }),
                    other => Err(format!("unsupported PEM block '{other}'")),
                }
            }
            KeySpec::Jwk(jwk) => {
                let text = |k: &str| jwk.get(k).and_then(Value::as_str);
                if text("kty") != Some("RSA") {
                    return Err("only RSA JWKs (kty RSA) are supported".into());
                }
                let member = |k: &str| {
                    text(k)
                        .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
                        .filter(|v| !v.is_empty())
                        .ok_or(format!("JWK member '{k}' is missing or not base64url"))
                };
                let mut key = match jwk.get("x5c").and_then(Value::as_array) {
                    Some(chain) => {
                        let first = chain.first().and_then(Value::as_str).ok_or("empty x5c")?;
                        let der = STANDARD.decode(first).map_err(|_| "x5c is not base64")?;
                        ClientKey::from_certificate(&der)?
                    }
                    None => ClientKey {
                        public: RsaPublic {
                            n: strip_zeros(member("n")?),
                            e: strip_zeros(member("e")?),
                        },
                        x5t: None,
                        x5t_s256: None,
                        kid: None,
                        thumbprint_hex: None,
                    },
                };
                if let Some(kid) = text("kid") {
                    key.kid = Some(kid.to_owned());
                }
                Ok(key)
            }
        }
    }

    fn from_certificate(der: &[u8]) -> Result<ClientKey, String> {
        let spki = der::certificate_spki(der).ok_or("not an X.509 certificate")?;
        Ok(ClientKey {
            public: RsaPublic::from_der(spki).ok_or("the certificate's key is not RSA")?,
            x5t: Some(thumbprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)),
            x5t_s256: Some(thumbprint(&digest::SHA256, der)),
            kid: None,
            thumbprint_hex: Some(hex(
                digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref()
            )),
        })
    }

    /// Whether an assertion's header names this key. A header that names no
    /// key, or a key registered without any identifier, matches (the
    /// assertion is then tried against the key's signature).
    pub fn named_by(&self, header: &Map<String, Value>) -> bool {
        if self.x5t.is_none() && self.kid.is_none() {
            return true;
        }
        let h = |k: &str| header.get(k).and_then(Value::as_str);
        let checks = [
            (h("x5t#S256"), self.x5t_s256.as_deref()),
            (h("x5t"), self.x5t.as_deref()),
            (h("kid"), self.kid.as_deref()),
        ];
        let mut named = false;
        for (sent, ours) in checks {
            if let Some(sent) = sent {
                named = true;
                if ours.is_some_and(|o| o == sent.trim_end_matches('=')) {
                    return true;
                }
            }
        }
        if let (Some(kid), Some(hex)) = (h("kid"), self.thumbprint_hex.as_deref()) {
            if kid.eq_ignore_ascii_case(hex) {
                return true;
            }
        }
        !named
    }

    pub fn summary(&self) -> KeySummary {
        KeySummary {
            kind: if self.x5t.is_some() {
                "certificate"
            } else {
                "public_key"
            },
            x5t: self.x5t.clone(),
            x5t_s256: self.x5t_s256.clone(),
            kid: self.kid.clone(),
        }
    }
}

fn strip_zeros(v: Vec<u8>) -> Vec<u8> {
    let first = v
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(v.len().saturating_sub(1));
    v[first..].to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn thumbprint(alg: &'static digest::Algorithm, der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(alg, der).as_ref())
}

/// A key pair and self-signed certificate for testing certificate
/// credentials. The private key is for the app under test; the emulator
/// keeps only the certificate.
#[derive(Clone, Serialize)]
pub struct TestCredential {
    /// Unencrypted PKCS#8 private key, PEM (`PRIVATE KEY`).
    pub private_key_pem: String,
    /// The self-signed certificate, PEM (`CERTIFICATE`).
    pub certificate_pem: String,
    /// base64url SHA-1 thumbprint (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 thumbprint (`x5t#S256`).
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
    /// Hex SHA-1 thumbprint, the form MSAL.NET and msal Python are configured with.
    pub thumbprint_hex: String,
}

impl std::fmt::Debug for TestCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCredential")
            .field("x5t", &self.x5t)
            .field("private_key_pem", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl TestCredential {
    /// A fresh RSA-2048 key and a certificate for `subject`, valid from
    /// `not_before` for ten years (Unix seconds).
    pub fn generate(subject: &str, not_before: i64) -> Result<TestCredential, String> {
        let signer = RsaSigner::generate()?;
        let spki = signer
            .pair()
            .public_key()
            .as_der()
            .map_err(|_| "public key encoding failed")?;
        let mut serial = [0u8; 16];
        aws_lc_rs::rand::fill(&mut serial).map_err(|_| "no randomness")?;
        serial[0] &= 0x7f;
        let name = der::common_name(subject);
        let tbs = der::sequence(&[
            &der::tlv(0xa0, &der::integer(&[2])),
            &der::integer(&serial),
            &der::sha256_with_rsa(),
            &name,
            &der::sequence(&[
                &der::generalized_time(not_before),
                &der::generalized_time(not_before.saturating_add(10 * 366 * 86_400)),
            ]),
            &name,
            spki.as_ref(),
        ]);
        let signature = signer.sign(&tbs)?;
        let mut bits = vec![0u8];
        bits.extend(signature);
        let cert = der::sequence(&[&tbs, &der::sha256_with_rsa(), &der::tlv(0x03, &bits)]);
        let pkcs8: Pkcs8V1Der = signer
            .pair()
            .as_der()
            .map_err(|_| "private key encoding failed")?;
        let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert);
        Ok(TestCredential {
            private_key_pem: der::pem_encode("PRIVATE KEY", pkcs8.as_ref()),
            certificate_pem: der::pem_encode("CERTIFICATE", &cert),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: thumbprint(&digest::SHA256, &cert),
            thumbprint_hex: hex(sha1.as_ref()),
        })
    }

    /// The signer for this credential's private key (to build assertions in Rust tests).
    pub fn signer(&self) -> Result<RsaSigner, String> {
        let (_, der) = der::pem_decode(&self.private_key_pem).ok_or("bad private key PEM")?;
        RsaSigner::from_pkcs8(&der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generated_certificates_parse_back() {
        let cred = TestCredential::generate("idflow test", 1_700_000_000).unwrap();
        let key = ClientKey::parse(&KeySpec::Pem(cred.certificate_pem.clone())).unwrap();
        assert_eq!(key.x5t.as_deref(), Some(cred.x5t.as_str()));
        assert_eq!(&key.public, cred.signer().unwrap().public());
        let mut header = Map::new();
        assert!(key.named_by(&header));
        header.insert("x5t".into(), json!("nope"));
        assert!(!key.named_by(&header));
        header.insert("x5t#S256".into(), json!(cred.x5t_s256));
        assert!(key.named_by(&header));
    }

    #[test]
    fn jwk_and_bad_registrations() {
        let signer = RsaSigner::generate().unwrap();
        let (n, e) = signer.public().jwk_members();
        let jwk = json!({"kty": "RSA", "n": n, "e": e, "kid": "k"});
        let Value::Object(jwk) = jwk else {
            unreachable!()
        };
        let key = ClientKey::parse(&KeySpec::Jwk(jwk)).unwrap();
        assert_eq!(&key.public, signer.public());
        assert_eq!(key.kid.as_deref(), Some("k"));
        for bad in [
            "",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        ] {
            assert!(ClientKey::parse(&KeySpec::Pem(bad.into())).is_err());
        }
        assert!(ClientKey::parse(&KeySpec::Jwk(Map::new())).is_err());
    }
}
