//! The credential forms beyond a secret and a PEM certificate: a PKCS#12
//! file, an (encrypted) PEM key with its certificate or SHA-1 thumbprint,
//! a federated token file, and an app callback asked for an assertion
//! before each token request. Converted to the core's, nothing decided here.

use crate::types::AuthError;
use idflow::error::IdFlowError;
use idflow::secret::{ClientAssertion, Passphrase};
use idflow::{AssertionRequest, ClientAssertionProvider, ClientCertificate, FederatedTokenFile};
use std::sync::Arc;

/// Asked for a client assertion before each token request (msal Python's
/// `{"client_assertion": callable}`, a Kotlin lambda, a Swift closure).
/// Return a fresh JWT for `token_endpoint`; a thrown error ends the request
/// as `client_assertion_unavailable`.
#[uniffi::export(with_foreign)]
pub trait ClientAssertionCallback: Send + Sync {
    fn client_assertion(
        &self,
        client_id: String,
        token_endpoint: String,
    ) -> Result<String, AuthError>;
}

/// Adapts a foreign callback to the core's provider.
pub(crate) struct ForeignAssertion(pub Arc<dyn ClientAssertionCallback>);

impl std::fmt::Debug for ForeignAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignAssertion")
    }
}

impl ClientAssertionProvider for ForeignAssertion {
    fn client_assertion(&self, r: AssertionRequest<'_>) -> Result<ClientAssertion, IdFlowError> {
        let call = || {
            self.0
                .client_assertion(r.client_id.to_owned(), r.token_endpoint.to_owned())
        };
        // The app's error text is its own and may quote what it read: not repeated.
        let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
            .map_err(|_| {
                idflow::assertion_unavailable("the app's client assertion callback failed")
            })?
            .map_err(|_| {
                idflow::assertion_unavailable("the app's client assertion callback raised an error")
            })?;
        let value = ClientAssertion::new(value);
        if value.expose().trim().is_empty() {
            return Err(idflow::assertion_unavailable(
                "the app's client assertion callback returned an empty assertion",
            ));
        }
        Ok(value)
    }
}

fn passphrase(p: Option<String>) -> Option<Passphrase> {
    p.filter(|p| !p.is_empty()).map(Passphrase::new)
}

/// A PKCS#12 file's credential.
pub(crate) fn pkcs12(
    pfx: &[u8],
    password: Option<String>,
    send_x5c: bool,
    thumbprint_kid: bool,
) -> Result<ClientCertificate, IdFlowError> {
    let cert =
        ClientCertificate::from_pkcs12(pfx, passphrase(password).as_ref())?.with_x5c(send_x5c);
    Ok(kid(cert, thumbprint_kid))
}

/// msal Python's `{"private_key", "passphrase", "thumbprint", "public_certificate"}`:
/// with a thumbprint, RS256 + `x5t` (and `x5c` from the certificate when
/// `send_x5c`); without one, the certificate is required and gives PS256.
pub(crate) fn private_key(
    private_key_pem: &str,
    passphrase_value: Option<String>,
    certificate_pem: Option<String>,
    sha1_thumbprint: Option<String>,
    send_x5c: bool,
    thumbprint_kid: bool,
) -> Result<ClientCertificate, IdFlowError> {
    let pass = passphrase(passphrase_value);
    let cert = match (sha1_thumbprint.filter(|t| !t.is_empty()), certificate_pem) {
        (Some(thumb), certificate) => {
            let c =
                ClientCertificate::from_key_and_thumbprint(private_key_pem, pass.as_ref(), &thumb)?;
            match certificate {
                Some(pem) if send_x5c => c.with_certificate_for_x5c(&pem)?,
                _ => c,
            }
        }
        (None, Some(pem)) => {
            ClientCertificate::from_pem_with_passphrase(&pem, private_key_pem, pass.as_ref())?
                .with_x5c(send_x5c)
        }
        (None, None) => {
            return Err(IdFlowError::local(
                idflow::error::LocalCode::InvalidParameter,
                "a private key needs its certificate or the certificate's SHA-1 thumbprint",
            ))
        }
    };
    Ok(kid(cert, thumbprint_kid))
}

fn kid(cert: ClientCertificate, thumbprint_kid: bool) -> ClientCertificate {
    if thumbprint_kid {
        cert
    } else {
        cert.without_kid()
    }
}

/// The federated token file at `path`, or the one `AZURE_FEDERATED_TOKEN_FILE` names.
pub(crate) fn federated_token_file(
    path: Option<String>,
) -> Result<Arc<dyn ClientAssertionProvider>, IdFlowError> {
    Ok(Arc::new(match path.filter(|p| !p.is_empty()) {
        Some(p) => FederatedTokenFile::new(p),
        None => FederatedTokenFile::from_env()?,
    }))
}
