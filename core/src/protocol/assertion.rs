//! Certificate credentials: the signed JWT a confidential client sends as
//! `client_assertion` (RFC 7523) instead of a secret.
//!
//! Claims: `aud` = the token endpoint, `iss` = `sub` = the client id, `iat`,
//! `nbf`, `exp` = now + [`ASSERTION_LIFETIME`], a random `jti`. Header: by
//! default PS256 with `x5t#S256` (the SHA-256 certificate thumbprint), which
//! the Microsoft identity platform prefers; [`RsaAlg::Rs256`] switches to the
//! older `x5t` (SHA-1 thumbprint) that every provider accepts. `kid` is the
//! same thumbprint unless the app sets the key id its provider registered.

use crate::error::{IdFlowError, LocalCode};
use crate::protocol::jwt::{self, b64_standard, b64url, RsaAlg};
use crate::secret::ClientAssertion;
use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a client assertion is valid.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// A certificate and its RSA private key. `Debug` shows the thumbprint only.
#[derive(Clone)]
pub struct ClientCertificate {
    key: Arc<RsaKeyPair>,
    /// DER certificates, leaf first (for `x5c`).
    chain: Vec<Vec<u8>>,
    alg: RsaAlg,
    kid: Option<String>,
    send_x5c: bool,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint_sha256())
            .field("alg", &self.alg)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

fn bad(why: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::InvalidParameter, why)
}

impl ClientCertificate {
    /// From PEM text: one or more `CERTIFICATE` blocks (leaf first) and an
    /// unencrypted `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
    /// Fails with `invalid_parameter`, naming what is wrong.
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, IdFlowError> {
        let chain: Vec<Vec<u8>> = pem_blocks(certificate_pem)?
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| der)
            .collect();
        let (label, key_der) = pem_blocks(private_key_pem)?
            .into_iter()
            .find(|(label, _)| label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| bad("the private key PEM has no PRIVATE KEY block"))?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&key_der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&key_der),
            _ => return Err(bad(format!("a {label} is not supported: decrypt it first"))),
        }
        .map_err(|e| bad(format!("the private key is not a usable RSA key: {e}")))?;
        ClientCertificate::new(chain, key)
    }

    /// From DER: the certificate and a PKCS#8 (or PKCS#1) RSA private key.
    pub fn from_der(certificate_der: &[u8], private_key_der: &[u8]) -> Result<Self, IdFlowError> {
        let key = RsaKeyPair::from_pkcs8(private_key_der)
            .or_else(|_| RsaKeyPair::from_der(private_key_der))
            .map_err(|e| bad(format!("the private key is not a usable RSA key: {e}")))?;
        ClientCertificate::new(vec![certificate_der.to_vec()], key)
    }

    fn new(chain: Vec<Vec<u8>>, key: RsaKeyPair) -> Result<Self, IdFlowError> {
        if chain.is_empty() {
            return Err(bad("no certificate was given"));
        }
        Ok(ClientCertificate {
            key: Arc::new(key),
            chain,
            alg: RsaAlg::Ps256,
            kid: None,
            send_x5c: false,
        })
    }

    /// PS256 + `x5t#S256` (default) or RS256 + `x5t`.
    pub fn with_algorithm(mut self, alg: RsaAlg) -> Self {
        self.alg = alg;
        self
    }

    /// The `kid` header, when the provider registered the key under its own id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Sends the chain in `x5c` (subject-name/issuer authentication).
    pub fn with_x5c(mut self, send: bool) -> Self {
        self.send_x5c = send;
        self
    }

    /// base64url SHA-256 thumbprint of the leaf certificate (`x5t#S256`).
    pub fn thumbprint_sha256(&self) -> String {
        b64url(digest(&SHA256, self.leaf()).as_ref())
    }

    /// base64url SHA-1 thumbprint of the leaf certificate (`x5t`).
    pub fn thumbprint_sha1(&self) -> String {
        b64url(digest(&SHA1_FOR_LEGACY_USE_ONLY, self.leaf()).as_ref())
    }

    fn leaf(&self) -> &[u8] {
        self.chain.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// A fresh assertion for `client_id` at `audience` (the token endpoint).
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
    ) -> Result<ClientAssertion, IdFlowError> {
        let (thumb_key, thumb) = match self.alg {
            RsaAlg::Ps256 => ("x5t#S256", self.thumbprint_sha256()),
            RsaAlg::Rs256 => ("x5t", self.thumbprint_sha1()),
        };
        let mut header = Map::new();
        header.insert(
            "kid".into(),
            Value::String(self.kid.clone().unwrap_or_else(|| thumb.clone())),
        );
        header.insert(thumb_key.into(), Value::String(thumb));
        if self.send_x5c {
            let chain: Vec<Value> = self.chain.iter().map(|c| b64_standard(c).into()).collect();
            header.insert("x5c".into(), Value::Array(chain));
        }
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": iat,
            "nbf": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        let Value::Object(claims) = claims else {
            return Err(bad("internal: assertion claims are not an object"));
        };
        jwt::sign(&self.key, self.alg, header, &claims)
            .map(ClientAssertion::new)
            .map_err(|why| IdFlowError::local(LocalCode::InternalError, why))
    }
}

/// The `(label, der)` blocks of a PEM text.
fn pem_blocks(pem: &str) -> Result<Vec<(String, Vec<u8>)>, IdFlowError> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pem.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_owned(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take() {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .map_err(|_| bad(format!("the PEM {label} block is not base64")))?;
                blocks.push((label, der));
            }
        } else if let Some((_, body)) = current.as_mut() {
            if !line.contains(':') {
                body.push_str(line);
            }
        }
    }
    if blocks.is_empty() {
        return Err(bad("no PEM block was found"));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests;
