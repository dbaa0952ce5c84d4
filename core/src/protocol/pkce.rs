//! PKCE (RFC 7636, S256 only) and the random values of an interactive request.
//!
//! The verifier is 32 random bytes in base64url (43 characters, the RFC's
//! minimum length and msal Python's choice); `state` and `nonce` are 32
//! random bytes too. All come from the operating system's CSPRNG.

use crate::error::{IdFlowError, LocalCode};
use crate::protocol::jwt::b64url;
use crate::secret::{FlowSecret, PkceVerifier};
use aws_lc_rs::digest::{digest, SHA256};

/// A verifier and its S256 challenge.
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: PkceVerifier,
    /// `base64url(sha256(verifier))`: sent in the authorize URL (not secret).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    pub fn generate() -> Result<Self, IdFlowError> {
        Ok(Pkce::from_verifier(PkceVerifier::new(random_token()?)))
    }

    /// The pair for a given verifier (tests use RFC 7636's example).
    pub fn from_verifier(verifier: PkceVerifier) -> Self {
        let challenge = s256_challenge(verifier.expose());
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// `code_challenge` for `code_challenge_method=S256`.
pub fn s256_challenge(verifier: &str) -> String {
    b64url(digest(&SHA256, verifier.as_bytes()).as_ref())
}

/// 32 random bytes, base64url: unguessable, URL-safe.
pub fn random_token() -> Result<String, IdFlowError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| {
        IdFlowError::local(
            LocalCode::InternalError,
            "the system random number generator failed",
        )
    })?;
    Ok(b64url(&bytes))
}

/// A fresh `state` or `nonce`.
pub fn random_flow_secret() -> Result<FlowSecret, IdFlowError> {
    random_token().map(FlowSecret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let p = Pkce::from_verifier(PkceVerifier::new(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ));
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_verifiers_are_43_unreserved_chars_and_differ() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        let v = a.verifier.expose();
        assert_eq!(v.len(), 43);
        assert!(v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)));
        assert_ne!(v, b.verifier.expose());
        assert_eq!(a.challenge, s256_challenge(v));
    }
}
