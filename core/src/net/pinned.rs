//! TLS that trusts one server certificate, named by its SHA-1 thumbprint, and
//! nothing else.
//!
//! Service Fabric's managed identity endpoint presents the cluster's own
//! certificate, which no public root signs; the platform hands the app its
//! thumbprint (`IDENTITY_SERVER_THUMBPRINT`) to pin instead. As msal Python
//! does (`msal/managed_identity.py`, `_ServiceFabricHTTPSConnection`: the
//! SHA-1 of the leaf's DER must equal the thumbprint), the chain and the host
//! name are not checked; the handshake's signatures still are, with the
//! crypto provider's algorithms, so only the holder of that certificate's key
//! can answer.

use crate::error::{IdFlowError, LocalCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// A SHA-1 certificate thumbprint: 20 bytes, written as 40 hex digits
/// (spaces and colons ignored, any case).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Thumbprint([u8; 20]);

impl Thumbprint {
    /// Reads the hex form; `invalid_parameter` when it is not 40 hex digits.
    pub fn parse(text: &str) -> Result<Self, IdFlowError> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b':'))
            .collect();
        let bad = || {
            IdFlowError::local(
                LocalCode::InvalidParameter,
                "a server certificate thumbprint must be 40 hex digits (its SHA-1)",
            )
        };
        if digits.len() != 40 {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Thumbprint(out))
    }

    /// The thumbprint of a DER certificate.
    pub fn of(der: &[u8]) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
        let mut out = [0u8; 20];
        out.copy_from_slice(digest.as_ref());
        Thumbprint(out)
    }
}

impl std::fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The verifier: the leaf must have the pinned thumbprint.
#[derive(Debug)]
struct PinnedServer {
    pin: Thumbprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Thumbprint::of(end_entity.as_ref()) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration that accepts exactly the server whose
/// certificate has `pin` as its thumbprint.
pub fn client_config(pin: Thumbprint) -> Result<rustls::ClientConfig, IdFlowError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            IdFlowError::local(
                LocalCode::InvalidParameter,
                format!("the pinned TLS setup was rejected: {e}"),
            )
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer { pin, provider }))
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn thumbprints_read_as_msal_normalises_them() {
        let t = Thumbprint::parse("AB:cd 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23")
            .unwrap();
        assert_eq!(format!("{t:?}"), "abcd0123456789abcdef0123456789abcdef0123");
        for bad in ["", "abcd", "zz".repeat(20).as_str(), &"a".repeat(41)] {
            let e = Thumbprint::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_parameter", "{bad:?}");
        }
    }
}
