//! The TLS settings of the default transport, made once per process for each
//! set of extra root certificates.
//!
//! reqwest makes them anew for every client it builds, and on Linux that
//! reads and parses every certificate of the system's store (≈ 4 ms of CPU on
//! the project's machines): creating an app cost that much each time, which a
//! web app that creates its app per request, as MSAL's web samples do, paid
//! on every request. The settings here are the ones reqwest makes itself —
//! its platform verifier over the system's roots plus the extra ones, the
//! process's crypto provider (aws-lc-rs unless the app installed another),
//! every TLS version rustls offers, no client certificate, HTTP/1.1 by ALPN —
//! shared instead of rebuilt. Each client keeps its own connections. A root
//! store changed on the machine while the process runs is seen once the
//! process restarts (as with any client kept for the process's life).

use crate::error::{IdFlowError, LocalCode};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::ClientConfig;
use std::sync::{Arc, Mutex};

/// Distinct sets of extra roots kept at most; beyond that a client gets
/// settings of its own (an app making ever new roots is not one to optimise).
const KEPT: usize = 16;

/// What one shared setting is made from: the extra roots as given, and the
/// process's crypto provider when the app installed one.
#[derive(PartialEq, Eq)]
struct Key {
    extra_roots: Vec<Vec<u8>>,
    provider: Option<usize>,
}

/// The TLS settings for a client that trusts the system's roots and
/// `extra_roots` (each PEM, one or more certificates, or DER). Fails
/// (`invalid_parameter`) on an extra root that is not a certificate, or
/// when the system's roots cannot be read.
pub(crate) fn client_config(extra_roots: &[Vec<u8>]) -> Result<ClientConfig, IdFlowError> {
    Ok(ClientConfig::clone(&*shared(extra_roots)?))
}

/// The kept settings for `extra_roots` (made now if there are none yet).
fn shared(extra_roots: &[Vec<u8>]) -> Result<Arc<ClientConfig>, IdFlowError> {
    static KEPT_CONFIGS: Mutex<Vec<(Key, Arc<ClientConfig>)>> = Mutex::new(Vec::new());
    let installed = CryptoProvider::get_default();
    let key = Key {
        extra_roots: extra_roots.to_vec(),
        provider: installed.map(|p| Arc::as_ptr(p) as usize),
    };
    let find = |configs: &[(Key, Arc<ClientConfig>)]| {
        configs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| c.clone())
    };
    if let Some(config) = find(&KEPT_CONFIGS.lock().unwrap_or_else(|p| p.into_inner())) {
        return Ok(config);
    }
    // Made outside the lock: reading the system's roots takes milliseconds,
    // and two threads racing here both make a correct one.
    let provider = installed
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let config = Arc::new(make(extra_roots, provider)?);
    let mut configs = KEPT_CONFIGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(config) = find(&configs) {
        return Ok(config);
    }
    if configs.len() < KEPT {
        configs.push((key, config.clone()));
    }
    Ok(config)
}

fn make(
    extra_roots: &[Vec<u8>],
    provider: Arc<CryptoProvider>,
) -> Result<ClientConfig, IdFlowError> {
    let extra = certificates(extra_roots)?;
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| unbuildable(&e))?
    } else {
        with_extra_roots(extra, provider.clone())?
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| unbuildable(&e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // reqwest is built without HTTP/2 here: HTTP/1.1 is what it offers.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(any(all(unix, not(target_os = "android")), target_os = "windows"))]
fn with_extra_roots(
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, IdFlowError> {
    rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
        .map_err(|e| unbuildable(&e))
}

/// Where the platform's verifier trusts its own store only (Android), as
/// reqwest does there.
#[cfg(not(any(all(unix, not(target_os = "android")), target_os = "windows")))]
fn with_extra_roots(
    _extra: Vec<CertificateDer<'static>>,
    _provider: Arc<CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, IdFlowError> {
    Err(IdFlowError::local(
        LocalCode::InvalidParameter,
        "extra root certificates are not supported on this platform: its verifier trusts the system's store only",
    ))
}

/// Each extra root as DER, checked to be a certificate a root store takes.
fn certificates(extra_roots: &[Vec<u8>]) -> Result<Vec<CertificateDer<'static>>, IdFlowError> {
    let mut out = Vec::new();
    for (i, bytes) in extra_roots.iter().enumerate() {
        let is_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
        let certs: Vec<CertificateDer<'static>> = if is_pem {
            CertificateDer::pem_slice_iter(bytes)
                .collect::<Result<_, _>>()
                .map_err(|e| bad_root(i, e.to_string()))?
        } else {
            vec![CertificateDer::from(bytes.clone())]
        };
        if certs.is_empty() {
            return Err(bad_root(i, "no certificate in the PEM text".into()));
        }
        for cert in &certs {
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| bad_root(i, e.to_string()))?;
        }
        out.extend(certs);
    }
    Ok(out)
}

fn bad_root(index: usize, why: String) -> IdFlowError {
    IdFlowError::local(
        LocalCode::InvalidParameter,
        format!("extra root certificate #{index} is not a PEM or DER certificate: {why}"),
    )
}

fn unbuildable(e: &rustls::Error) -> IdFlowError {
    IdFlowError::local(
        LocalCode::InvalidParameter,
        format!("the HTTP client's TLS settings could not be made: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_roots_are_read_once_per_set_of_extra_roots() {
        let a = shared(&[]).expect("system roots");
        let b = shared(&[]).expect("system roots");
        assert!(
            Arc::ptr_eq(&a, &b),
            "a second client read the system's roots again"
        );
        assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);

        let root = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .expect("certificate")
            .cert
            .pem()
            .into_bytes();
        let c = shared(std::slice::from_ref(&root)).expect("extra root");
        assert!(!Arc::ptr_eq(&a, &c), "other roots need other settings");
        let d = shared(&[root]).expect("extra root");
        assert!(Arc::ptr_eq(&c, &d));
    }
}
