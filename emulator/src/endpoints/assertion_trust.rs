//! Client assertions that are not signed by a key registered on the app:
//! subject name / issuer authentication (the certificate travels in `x5c`
//! and the app trusts its subject name), and workload identity federation
//! (a token from an external issuer, matched against the app's federated
//! identity credentials by issuer, subject and audience).

use crate::crypto::credentials::{ClientKey, KeySpec};
use crate::crypto::der;
use crate::crypto::jwt::{Jwt, RsaPublic};
use crate::model::directory::Client;
use crate::model::state::State;
use crate::wire::aad_error::AadError;
use aws_lc_rs::digest;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Clock skew tolerated on `exp`/`nbf`, in seconds.
const SKEW: i64 = 300;

/// The leaf certificate of an `x5c` header (standard base64; the line breaks
/// some libraries leave in are ignored).
fn x5c_leaf(jwt: &Jwt) -> Option<Vec<u8>> {
    let first = jwt.header.get("x5c")?.as_array()?.first()?.as_str()?;
    let compact: String = first.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// Subject name / issuer authentication. `None` when it does not apply (no
/// `x5c`, or the app trusts no subject), so the caller falls back to the
/// registered keys.
pub fn subject_name(client: &Client, jwt: &Jwt) -> Option<Result<(), AadError>> {
    if client.spec.trusted_subjects.is_empty() || !jwt.header.contains_key("x5c") {
        return None;
    }
    let invalid = |why: &str| {
        AadError::client(
            700027,
            format!("Client assertion failed subject name / issuer validation: {why}."),
        )
    };
    let Some(leaf) = x5c_leaf(jwt) else {
        return Some(Err(invalid("x5c is not a base64 certificate")));
    };
    let thumb = |alg| URL_SAFE_NO_PAD.encode(digest::digest(alg, &leaf).as_ref());
    let named = [
        ("x5t", thumb(&digest::SHA1_FOR_LEGACY_USE_ONLY)),
        ("x5t#S256", thumb(&digest::SHA256)),
    ];
    let mut thumbprint_sent = false;
    for (header, ours) in &named {
        if let Some(sent) = jwt.header_str(header) {
            thumbprint_sent = true;
            if sent.trim_end_matches('=') != ours {
                return Some(Err(invalid(&format!(
                    "{header} is not the thumbprint of the x5c certificate"
                ))));
            }
        }
    }
    if !thumbprint_sent {
        return Some(Err(invalid("the header has neither x5t nor x5t#S256")));
    }
    let subject = der::certificate_subject_cn(&leaf).unwrap_or_default();
    let trusted = client
        .spec
        .trusted_subjects
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&subject));
    if !trusted {
        return Some(Err(invalid(&format!(
            "the certificate's subject '{subject}' is not trusted by the app '{}'",
            client.id()
        ))));
    }
    let key = der::certificate_spki(&leaf).and_then(RsaPublic::from_der);
    Some(match key {
        Some(k) if jwt.verified_by(&k) => Ok(()),
        Some(_) => Err(invalid(
            "the signature is not valid for the x5c certificate",
        )),
        None => Err(invalid("the x5c certificate's key is not RSA")),
    })
}

/// Workload identity federation: the assertion is a token from an issuer the
/// app trusts. `None` when the app has no federated credential or the token
/// names the app itself as its issuer (an ordinary client assertion).
pub fn federated(
    client: &Client,
    jwt: &Jwt,
    state: &State,
    now: i64,
) -> Option<Result<(), AadError>> {
    let iss = jwt.claim_str("iss").unwrap_or_default();
    let creds = &client.spec.federated_credentials;
    if creds.is_empty() || iss.eq_ignore_ascii_case(client.id()) {
        return None;
    }
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let by_issuer: Vec<_> = creds.iter().filter(|c| same(&c.issuer, iss)).collect();
    if by_issuer.is_empty() {
        return Some(Err(AadError::client(
            700211,
            format!("No matching federated identity record found for presented assertion issuer '{iss}'."),
        )));
    }
    let sub = jwt.claim_str("sub").unwrap_or_default();
    let by_subject: Vec<_> = by_issuer.into_iter().filter(|c| c.subject == sub).collect();
    if by_subject.is_empty() {
        return Some(Err(AadError::client(
            700213,
            format!("No matching federated identity record found for presented assertion subject '{sub}'."),
        )));
    }
    let Some(cred) = by_subject
        .into_iter()
        .find(|c| c.audiences.iter().any(|a| jwt.has_audience(|x| same(x, a))))
    else {
        return Some(Err(AadError::client(
            700212,
            "No matching federated identity record found for presented assertion audience.",
        )));
    };
    let exp = jwt.claim_time("exp").unwrap_or(i64::MIN);
    let nbf = jwt.claim_time("nbf").unwrap_or(i64::MIN);
    if exp.saturating_add(SKEW) < now || nbf.saturating_sub(SKEW) > now {
        return Some(Err(AadError::client(
            700024,
            "The federated assertion is not within its valid time range (exp / nbf).",
        )));
    }
    let keys: Vec<RsaPublic> = if cred.keys.is_empty() {
        state.own_key.iter().cloned().collect()
    } else {
        cred.keys
            .iter()
            .filter_map(|k: &KeySpec| ClientKey::parse(k).ok())
            .filter(|k| k.named_by(&jwt.header))
            .map(|k| k.public)
            .collect()
    };
    Some(if keys.iter().any(|k| jwt.verified_by(k)) {
        Ok(())
    } else {
        Err(AadError::client(
            700027,
            "The federated assertion's signature is not valid for its issuer's keys.",
        ))
    })
}
