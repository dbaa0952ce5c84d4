//! HTTPS for the emulator. The MSAL libraries refuse an authority that is not
//! `https://`, so an app under test can only reach the emulator through TLS.
//! Either the emulator makes its own certificate authority at start (its key
//! lives only in memory) and a leaf certificate for `127.0.0.1` and
//! `localhost` signed by it — the caller hands the CA certificate to the app's
//! trust store — or the caller brings a certificate chain and key in PEM.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::fmt;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the server's certificate comes from.
#[derive(Clone, Default)]
pub enum TlsSetup {
    /// A CA generated at start, and a leaf for `127.0.0.1` and `localhost`
    /// signed by it.
    #[default]
    Generate,
    /// The caller's certificate chain (leaf first) and private key, PEM.
    Pem { chain: String, key: String },
}

// The key is a secret: never printed.
impl fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsSetup::Generate => f.write_str("Generate"),
            TlsSetup::Pem { .. } => f.write_str("Pem { chain, key: <redacted> }"),
        }
    }
}

/// A server configuration ready to accept, and the certificate a client
/// should trust: the generated CA, or (for a caller's chain) its last
/// certificate.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub trust_pem: String,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl TlsSetup {
    /// Builds the server configuration; the error says what is wrong with
    /// the caller's PEM (never quoting the key).
    pub fn build(&self) -> Result<Tls, String> {
        let (chain, key, trust_pem) = match self {
            TlsSetup::Generate => generate()?,
            TlsSetup::Pem { chain, key } => from_pem(chain, key)?,
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the TLS certificate and key do not fit together: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            trust_pem,
        })
    }
}

type Material = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String);

fn generate() -> Result<Material, String> {
    let fail = |e: rcgen::Error| format!("cannot generate the TLS certificates: {e}");
    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca.distinguished_name
        .push(DnType::CommonName, "idflow emulator local CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "idflow emulator (test only)");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().map_err(fail)?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(fail)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Python 3.13's strict verification wants the authority key identifier.
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(fail)?;

    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    Ok((
        vec![leaf_cert.der().clone(), ca_cert.der().clone()],
        key,
        ca_cert.pem(),
    ))
}

fn from_pem(chain: &str, key: &str) -> Result<Material, String> {
    let certs = CertificateDer::pem_slice_iter(chain.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the TLS certificate file is not valid PEM: {e}"))?;
    let Some(last) = certs.last() else {
        return Err("the TLS certificate file holds no CERTIFICATE block".into());
    };
    let trust_pem = pem_block("CERTIFICATE", last);
    // The error names the problem, never the key's bytes.
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| {
        format!("the TLS key file holds no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}")
    })?;
    Ok((certs, key, trust_pem))
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_builds_and_trusts_the_ca() {
        let tls = TlsSetup::Generate.build().unwrap();
        assert!(tls.trust_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn bad_pem_is_a_clear_error_without_the_key() {
        let setup = TlsSetup::Pem {
            chain: "not a certificate".into(),
            key: "SECRET-KEY-BYTES".into(),
        };
        let err = setup.build().unwrap_err();
        assert!(err.contains("no CERTIFICATE block"), "{err}");
        assert!(!format!("{setup:?}").contains("SECRET"));

        let (chain, _, _) = generate().unwrap();
        let setup = TlsSetup::Pem {
            chain: pem_block("CERTIFICATE", &chain[0]),
            key: "SECRET-KEY-BYTES".into(),
        };
        let err = setup.build().unwrap_err();
        assert!(err.contains("no usable private key"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
    }
}
