//! Key material made fresh for every run: nothing private is committed.

use crate::{Error, Result};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a client assertion is valid: long enough for one request, short
/// enough that a captured one is useless.
const ASSERTION_LIFETIME_SECS: u64 = 120;

/// The private_key_jwt client's RSA key pair.
///
/// The public half is written as a JWKS file that the provider reads at
/// start; the private half stays in memory (and, for suites in other
/// languages, in a PKCS#8 PEM file in the same private temporary directory,
/// deleted when this value drops).
pub struct ClientKey {
    pair: RsaKeyPair,
    kid: String,
    dir: tempfile::TempDir,
    jwks_path: PathBuf,
    private_pem_path: PathBuf,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.kid)
            .field("jwks_path", &self.jwks_path)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl ClientKey {
    /// Generates a 2048-bit RSA key and writes its public JWKS (and private
    /// PEM) into a new temporary directory.
    pub fn generate() -> Result<ClientKey> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| Error::new("RSA key generation failed"))?;
        let kid = format!(
            "idflow-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let jwks = json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&components.n),
            "e": URL_SAFE_NO_PAD.encode(&components.e),
        }]});
        let pkcs8 = pair
            .as_der()
            .map_err(|_| Error::new("cannot encode the RSA key as PKCS#8"))?;
        let dir = tempfile::Builder::new()
            .prefix("idflow-client-key")
            .tempdir()?;
        let jwks_path = dir.path().join("client-jwks.json");
        std::fs::write(&jwks_path, serde_json::to_vec_pretty(&jwks)?)?;
        let private_pem_path = dir.path().join("client-key.pem");
        std::fs::write(&private_pem_path, pem("PRIVATE KEY", pkcs8.as_ref()))?;
        Ok(ClientKey {
            pair,
            kid,
            dir,
            jwks_path,
            private_pem_path,
        })
    }

    /// The key id in the JWKS (and in every assertion's header).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWKS file to pass to the provider (`--jwks-file`).
    pub fn jwks_path(&self) -> &Path {
        &self.jwks_path
    }

    /// The private key as a PKCS#8 PEM file, for suites in other languages
    /// (e.g. msal Python's `client_credential={"private_key": ...}`).
    pub fn private_key_pem_path(&self) -> &Path {
        &self.private_pem_path
    }

    /// The directory holding both files (removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An RFC 7523 client assertion: RS256, `iss` = `sub` = the client id,
    /// `aud` as given (the token endpoint or the issuer both work with
    /// oidc-provider), a fresh `jti`, two minutes of validity.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::new("the clock is before 1970"))?
            .as_secs();
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        self.sign_jwt(&header, &claims)
    }

    /// Signs any header and claims with RS256 (for tests that need a
    /// deliberately wrong assertion: expired, wrong audience, and so on).
    pub fn sign_jwt(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::new("RS256 signing failed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// A self-signed certificate for `IP:127.0.0.1` (and `DNS:localhost`), with
/// its key, in a private temporary directory removed on drop.
///
/// Clients trust exactly this certificate: reqwest through
/// [`crate::OidcProvider::http_client`], msal Python through
/// `REQUESTS_CA_BUNDLE=<cert_path>`.
#[derive(Debug)]
pub struct TlsCert {
    cert_pem: String,
    cert_path: PathBuf,
    key_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsCert {
    /// Generates the certificate and key with rcgen and writes both as PEM.
    pub fn self_signed_loopback() -> Result<TlsCert> {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names)
            .map_err(|e| Error::new(format!("cannot make the test certificate: {e}")))?;
        let cert_pem = certified.cert.pem();
        let dir = tempfile::Builder::new().prefix("idflow-tls").tempdir()?;
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, &cert_pem)?;
        std::fs::write(&key_path, certified.signing_key.serialize_pem())?;
        Ok(TlsCert {
            cert_pem,
            cert_path,
            key_path,
            _dir: dir,
        })
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate file (also the CA bundle to trust).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The private key file the server reads.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
