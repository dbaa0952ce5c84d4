//! Loading a client certificate from the forms apps keep it in: a PKCS#12
//! (.pfx) file and its password, a PEM private key that may be encrypted
//! (PKCS#8 `ENCRYPTED PRIVATE KEY`) and its passphrase, or msal Python's
//! `{"private_key", "thumbprint"}`: a key and the certificate's SHA-1
//! thumbprint in hex, without the certificate.
//!
//! What the assertion's header then carries follows msal Python
//! (`msal/application.py`, `ClientApplication._build_client`, and
//! `msal/oauth2cli/assertion.py`, `JwtAssertionCreator`): when the
//! certificate is known (a .pfx, or a `public_certificate` PEM without a
//! `thumbprint`) it signs PS256 with `x5t#S256`; with only a SHA-1
//! thumbprint it signs RS256 with `x5t`; `x5c` is sent for subject name /
//! issuer authentication when the app asks. Here that choice is
//! [`ClientCertificate::algorithm`]: PS256 whenever the SHA-256 thumbprint is
//! known.
//!
//! Every loader checks that the key belongs to the certificate, so a
//! mismatched pair is `certificate_key_mismatch` at construction, and a wrong
//! password is `certificate_password_incorrect`; neither message holds the
//! key or the password.

use super::assertion::{bad, check_key_matches, pem_blocks, ClientCertificate, Kid};
use crate::error::{IdFlowError, LocalCode};
use crate::protocol::jwt::RsaAlg;
use crate::secret::Passphrase;
use aws_lc_rs::signature::RsaKeyPair;
use p12_keystore::error::Error as P12Error;
use std::sync::Arc;

fn wrong_password(what: &str) -> IdFlowError {
    IdFlowError::local(
        LocalCode::CertificatePasswordIncorrect,
        format!("the {what} could not be decrypted: its password is wrong or missing"),
    )
}

/// An RSA key from PKCS#8 (or PKCS#1) DER.
fn rsa_key(der: &[u8]) -> Result<RsaKeyPair, IdFlowError> {
    RsaKeyPair::from_pkcs8(der)
        .or_else(|_| RsaKeyPair::from_der(der))
        .map_err(|e| bad(format!("the private key is not a usable RSA key: {e}")))
}

/// The private key of a PEM text, decrypting an `ENCRYPTED PRIVATE KEY`.
fn pem_private_key(
    private_key_pem: &str,
    passphrase: Option<&Passphrase>,
) -> Result<RsaKeyPair, IdFlowError> {
    if private_key_pem.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(bad(
            "a PEM key encrypted the legacy OpenSSL way (Proc-Type) is not supported: convert it \
             with `openssl pkcs8 -topk8` to an ENCRYPTED PRIVATE KEY",
        ));
    }
    let (label, der) = pem_blocks(private_key_pem)?
        .into_iter()
        .find(|(label, _)| label.ends_with("PRIVATE KEY"))
        .ok_or_else(|| bad("the private key PEM has no PRIVATE KEY block"))?;
    match label.as_str() {
        "ENCRYPTED PRIVATE KEY" => {
            let pass = passphrase.ok_or_else(|| wrong_password("encrypted private key"))?;
            let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                .map_err(|_| bad("the ENCRYPTED PRIVATE KEY block is not PKCS#8"))?;
            let plain = info
                .decrypt(pass.expose().as_bytes())
                .map_err(|_| wrong_password("encrypted private key"))?;
            // A wrong password that happens to unpad cleanly decrypts to garbage.
            rsa_key(plain.as_bytes()).map_err(|_| wrong_password("encrypted private key"))
        }
        "PRIVATE KEY" | "RSA PRIVATE KEY" => rsa_key(&der),
        other => Err(bad(format!("a {other} is not supported: use an RSA key"))),
    }
}

fn certificates(certificate_pem: &str) -> Result<Vec<Vec<u8>>, IdFlowError> {
    let chain: Vec<Vec<u8>> = pem_blocks(certificate_pem)?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| der)
        .collect();
    if chain.is_empty() {
        return Err(bad("the certificate PEM has no CERTIFICATE block"));
    }
    Ok(chain)
}

/// Parses a SHA-1 thumbprint in hex (`A1B2...`, colons and spaces allowed).
fn sha1_hex(thumbprint: &str) -> Result<Vec<u8>, IdFlowError> {
    let digits: Vec<u8> = thumbprint
        .bytes()
        .filter(|b| !matches!(b, b':' | b' '))
        .collect();
    let invalid = || bad("the thumbprint must be the certificate's SHA-1 hash in hex (40 digits)");
    if digits.len() != 40 {
        return Err(invalid());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

impl ClientCertificate {
    /// From a PKCS#12 (.pfx / .p12) file's bytes and its password (`None`
    /// for a file exported without one). The leaf is the certificate that
    /// holds the key's public half; the others follow it in `x5c`.
    pub fn from_pkcs12(pfx: &[u8], password: Option<&Passphrase>) -> Result<Self, IdFlowError> {
        let pw = password.map(Passphrase::expose).unwrap_or("");
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(pfx, pw).map_err(|e| match e {
            P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
                wrong_password("PKCS#12 file")
            }
            other => bad(format!("the PKCS#12 file could not be read: {other}")),
        })?;
        let bag = archive
            .keys
            .first()
            .ok_or_else(|| bad("the PKCS#12 file holds no private key"))?;
        let key = rsa_key(bag.key.as_der())?;
        if archive.certs.is_empty() {
            return Err(bad("the PKCS#12 file holds no certificate"));
        }
        let mut chain: Vec<Vec<u8>> = Vec::with_capacity(archive.certs.len());
        for c in &archive.certs {
            let der = c.cert.as_der().to_vec();
            if check_key_matches(&der, &key).is_ok() {
                chain.insert(0, der);
            } else {
                chain.push(der);
            }
        }
        ClientCertificate::new(chain, key)
    }

    /// From PEM: the certificate (one or more `CERTIFICATE` blocks, leaf
    /// first) and a private key that is either plain (`PRIVATE KEY`, `RSA
    /// PRIVATE KEY`) or encrypted (`ENCRYPTED PRIVATE KEY`, which needs
    /// `passphrase`).
    pub fn from_pem_with_passphrase(
        certificate_pem: &str,
        private_key_pem: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<Self, IdFlowError> {
        let key = pem_private_key(private_key_pem, passphrase)?;
        ClientCertificate::new(certificates(certificate_pem)?, key)
    }

    /// msal Python's `{"private_key": PEM, "thumbprint": hex}`: the key (plain
    /// or encrypted) and the SHA-1 thumbprint the app registration shows,
    /// without the certificate. Signs RS256 with `x5t`, since the SHA-256
    /// thumbprint cannot be known; the key cannot be checked against a
    /// certificate here, so a wrong pair is refused by the server
    /// (`invalid_client`).
    pub fn from_key_and_thumbprint(
        private_key_pem: &str,
        passphrase: Option<&Passphrase>,
        sha1_thumbprint_hex: &str,
    ) -> Result<Self, IdFlowError> {
        let sha1 = sha1_hex(sha1_thumbprint_hex)?;
        let key = pem_private_key(private_key_pem, passphrase)?;
        Ok(ClientCertificate {
            key: Arc::new(key),
            chain: Vec::new(),
            sha1,
            sha256: None,
            alg: RsaAlg::Rs256,
            kid: Kid::Thumbprint,
            send_x5c: false,
            extra_claims: serde_json::Map::new(),
        })
    }

    /// msal Python's `{"private_key", "thumbprint", "public_certificate"}`:
    /// a thumbprint-only credential whose certificate is also known, for
    /// `x5c`. The header stays RS256 + `x5t` as msal sends it; the key is
    /// checked against the certificate.
    pub fn with_certificate_for_x5c(mut self, certificate_pem: &str) -> Result<Self, IdFlowError> {
        let chain = certificates(certificate_pem)?;
        check_key_matches(&chain[0], &self.key)?;
        self.chain = chain;
        self.send_x5c = true;
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
