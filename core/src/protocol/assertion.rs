//! Certificate credentials: the signed JWT a confidential client sends as
//! `client_assertion` (RFC 7523) instead of a secret.
//!
//! Claims: `aud` = the token endpoint, `iss` = `sub` = the client id, `iat`,
//! `nbf`, `exp` = now + [`ASSERTION_LIFETIME`], a random `jti`. Header: by
//! default PS256 with `x5t#S256` (the SHA-256 certificate thumbprint), which
//! the Microsoft identity platform prefers; [`RsaAlg::Rs256`] switches to the
//! older `x5t` (SHA-1 thumbprint) that every provider accepts, and is what a
//! credential known only by its SHA-1 thumbprint (msal's `{"private_key",
//! "thumbprint"}`) always uses. `kid` is the same thumbprint (as MSAL.NET
//! sends it) unless the app sets the key id its provider registered, or
//! leaves it out as msal Python does ([`ClientCertificate::without_kid`]).
//!
//! The loaders for PKCS#12, encrypted keys and thumbprint-only credentials
//! are in `certificate.rs`.

use crate::error::{IdFlowError, LocalCode};
use crate::protocol::jwt::{self, b64_standard, b64url, RsaAlg};
use crate::secret::ClientAssertion;
use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::der::Decode as _;

/// How long a client assertion is valid.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// A certificate and its RSA private key. `Debug` shows the thumbprint only.
#[derive(Clone)]
pub struct ClientCertificate {
    pub(super) key: Arc<RsaKeyPair>,
    /// DER certificates, leaf first (for `x5c`); empty when the app gave
    /// only the key and the certificate's SHA-1 thumbprint.
    pub(super) chain: Vec<Vec<u8>>,
    /// The leaf's SHA-1 thumbprint (`x5t`), raw bytes.
    pub(super) sha1: Vec<u8>,
    /// The leaf's SHA-256 thumbprint (`x5t#S256`), unknown without the certificate.
    pub(super) sha256: Option<Vec<u8>>,
    pub(super) alg: RsaAlg,
    pub(super) kid: Kid,
    pub(super) send_x5c: bool,
    /// The app's own claims (msal's `client_claims`), laid over the defaults.
    pub(super) extra_claims: Map<String, Value>,
}

/// What the `kid` header carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kid {
    /// The thumbprint also sent in `x5t` / `x5t#S256` (MSAL.NET's header).
    Thumbprint,
    /// No `kid` (msal Python's header).
    Omitted,
    /// The key id the provider registered.
    Named(String),
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.thumbprint_sha1())
            .field("x5t#S256", &self.thumbprint_sha256())
            .field("alg", &self.alg)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

pub(super) fn bad(why: impl Into<String>) -> IdFlowError {
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
            _ => {
                return Err(bad(format!(
                    "an {label} needs its passphrase (load it with from_pem_with_passphrase)"
                )))
            }
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

    /// Checks that the leaf certificate holds the key's public half, so a
    /// mismatched pair fails here rather than as `invalid_client` later.
    pub(super) fn new(chain: Vec<Vec<u8>>, key: RsaKeyPair) -> Result<Self, IdFlowError> {
        let Some(leaf) = chain.first() else {
            return Err(bad("no certificate was given"));
        };
        check_key_matches(leaf, &key)?;
        Ok(ClientCertificate {
            sha1: digest(&SHA1_FOR_LEGACY_USE_ONLY, leaf).as_ref().to_vec(),
            sha256: Some(digest(&SHA256, leaf).as_ref().to_vec()),
            key: Arc::new(key),
            chain,
            alg: RsaAlg::Ps256,
            kid: Kid::Thumbprint,
            send_x5c: false,
            extra_claims: Map::new(),
        })
    }

    /// PS256 + `x5t#S256` (default) or RS256 + `x5t`. PS256 needs the
    /// certificate's SHA-256 thumbprint: a credential built from a SHA-1
    /// thumbprint alone signs RS256 whatever is asked.
    pub fn with_algorithm(mut self, alg: RsaAlg) -> Self {
        self.alg = alg;
        self
    }

    /// The `kid` header, when the provider registered the key under its own id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Kid::Named(kid.into());
        self
    }

    /// Sends no `kid` header, only the thumbprint (msal Python's header).
    pub fn without_kid(mut self) -> Self {
        self.kid = Kid::Omitted;
        self
    }

    /// The algorithm the assertion is signed with (see [`Self::with_algorithm`]).
    pub fn algorithm(&self) -> RsaAlg {
        match (self.alg, &self.sha256) {
            (RsaAlg::Ps256, Some(_)) => RsaAlg::Ps256,
            _ => RsaAlg::Rs256,
        }
    }

    /// Sends the chain in `x5c` (subject-name/issuer authentication). Without
    /// the certificate (a thumbprint-only credential) there is nothing to send.
    pub fn with_x5c(mut self, send: bool) -> Self {
        self.send_x5c = send;
        self
    }

    /// Claims added to every assertion (msal's `client_claims`, e.g.
    /// `{"client_ip": "x.x.x.x"}`). They win over the defaults of the same
    /// name (`aud`, `iss`, `sub`, `exp`, `iat`, `jti`, `nbf`), as msal
    /// Python lays them over its payload
    /// (msal/oauth2cli/assertion.py `JwtAssertionCreator.create_normal_assertion`).
    pub fn with_claims(mut self, claims: Map<String, Value>) -> Self {
        self.extra_claims = claims;
        self
    }

    /// base64url SHA-256 thumbprint of the leaf certificate (`x5t#S256`);
    /// empty for a credential known only by its SHA-1 thumbprint.
    pub fn thumbprint_sha256(&self) -> String {
        self.sha256.as_deref().map(b64url).unwrap_or_default()
    }

    /// base64url SHA-1 thumbprint of the leaf certificate (`x5t`).
    pub fn thumbprint_sha1(&self) -> String {
        b64url(&self.sha1)
    }

    /// A fresh assertion for `client_id` at `audience` (the token endpoint).
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
    ) -> Result<ClientAssertion, IdFlowError> {
        let alg = self.algorithm();
        let (thumb_key, thumb) = match alg {
            RsaAlg::Ps256 => ("x5t#S256", self.thumbprint_sha256()),
            RsaAlg::Rs256 => ("x5t", self.thumbprint_sha1()),
        };
        let mut header = Map::new();
        match &self.kid {
            Kid::Thumbprint => {
                header.insert("kid".into(), Value::String(thumb.clone()));
            }
            Kid::Named(kid) => {
                header.insert("kid".into(), Value::String(kid.clone()));
            }
            Kid::Omitted => {}
        }
        header.insert(thumb_key.into(), Value::String(thumb));
        if self.send_x5c && !self.chain.is_empty() {
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
        let Value::Object(mut claims) = claims else {
            return Err(bad("internal: assertion claims are not an object"));
        };
        for (name, value) in &self.extra_claims {
            claims.insert(name.clone(), value.clone());
        }
        jwt::sign(&self.key, alg, header, &claims)
            .map(ClientAssertion::new)
            .map_err(|why| IdFlowError::local(LocalCode::InternalError, why))
    }
}

/// Fails unless `certificate_der` is an X.509 certificate for `key`'s public half.
pub(super) fn check_key_matches(
    certificate_der: &[u8],
    key: &RsaKeyPair,
) -> Result<(), IdFlowError> {
    let cert = x509_cert::Certificate::from_der(certificate_der)
        .map_err(|_| bad("the certificate is not an X.509 certificate (DER or PEM)"))?;
    let spki = cert.tbs_certificate().subject_public_key_info();
    // Both sides are the PKCS#1 RSAPublicKey DER, so equal keys are equal bytes.
    if spki.subject_public_key.raw_bytes() == key.public_key().as_ref() {
        Ok(())
    } else {
        Err(mismatch())
    }
}

fn mismatch() -> IdFlowError {
    IdFlowError::local(
        LocalCode::CertificateKeyMismatch,
        "the private key does not match the certificate's public key",
    )
}

/// The `(label, der)` blocks of a PEM text.
pub(super) fn pem_blocks(pem: &str) -> Result<Vec<(String, Vec<u8>)>, IdFlowError> {
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
