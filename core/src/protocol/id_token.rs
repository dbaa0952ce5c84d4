//! Id token validation (OpenID Connect Core §3.1.3.7): signature against the
//! provider's JWKS, `iss`, `aud` (and `azp`), `exp`/`nbf` with [`ID_TOKEN_SKEW`] by the
//! injected clock, and `nonce` when the request sent one.
//!
//! Failures are local errors: `nonce_mismatch` for a nonce that is missing
//! or different (a replayed or injected response), `invalid_jwt` for
//! everything else. Messages name the failed check, never the token.

use crate::error::{IdFlowError, LocalCode};
use crate::net::sender::Sender;
use crate::protocol::discovery::{Discovery, ResolvedAuthority};
use crate::protocol::jwt::{self, DecodedJwt, Jwk};
use crate::secret::constant_time_eq;
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Clock skew tolerated on `exp` and `nbf`.
pub const ID_TOKEN_SKEW: Duration = Duration::from_secs(5 * 60);

/// The claims of a validated id token. The common ones are typed; `all`
/// holds every claim as sent (they are personal data, not secrets: `Debug`
/// shows the issuer, tenant and the claim names only).
#[derive(Clone, PartialEq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: Option<u64>,
    pub iat: Option<u64>,
    pub nbf: Option<u64>,
    pub nonce: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub preferred_username: Option<String>,
    pub upn: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub all: Map<String, Value>,
}

impl std::fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("tid", &self.tid)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("claims", &self.all.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl IdTokenClaims {
    pub fn from_map(all: Map<String, Value>) -> IdTokenClaims {
        let text = |k: &str| all.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| {
            all.get(k).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            })
        };
        let aud = match all.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        IdTokenClaims {
            iss: text("iss").unwrap_or_default(),
            sub: text("sub").unwrap_or_default(),
            aud,
            exp: number("exp"),
            iat: number("iat"),
            nbf: number("nbf"),
            nonce: text("nonce"),
            tid: text("tid"),
            oid: text("oid"),
            preferred_username: text("preferred_username"),
            upn: text("upn"),
            name: text("name"),
            email: text("email"),
            all,
        }
    }

    /// `preferred_username`, else `upn` (what MSAL shows as the account's username).
    pub fn username(&self) -> Option<&str> {
        self.preferred_username.as_deref().or(self.upn.as_deref())
    }
}

/// What the id token must match.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The discovery document's issuer; `{tenantid}` is replaced by the token's `tid`.
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce sent in the authorize request (auth code flow only).
    pub nonce: Option<&'a str>,
    pub now: SystemTime,
}

/// A validation failure: the code and a message safe to log.
pub type Invalid = (LocalCode, String);

fn invalid(why: impl Into<String>) -> Invalid {
    (LocalCode::InvalidIdToken, why.into())
}

/// Checks the claims (not the signature) against `expected`.
pub fn check_claims(claims: &IdTokenClaims, expected: &Expected<'_>) -> Result<(), Invalid> {
    let issuer = match &claims.tid {
        Some(tid) => expected.issuer.replace("{tenantid}", tid),
        None => expected.issuer.to_owned(),
    };
    if claims.iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(invalid(format!(
            "the issuer '{}' is not the authority's issuer '{issuer}'",
            claims.iss
        )));
    }
    if !claims.aud.iter().any(|a| a == expected.client_id) {
        return Err(invalid("the audience is not this client id"));
    }
    // OpenID Connect Core §3.1.3.7 points 4 and 5: a token for several
    // audiences must say which one it was issued to (`azp`), and an `azp`
    // that is present must be this client.
    let azp = claims.all.get("azp");
    match azp {
        Some(Value::String(a)) if a == expected.client_id => {}
        Some(_) => {
            return Err(invalid(
                "the id token's authorized party (azp) is not this client id",
            ))
        }
        None if claims.aud.len() > 1 => {
            return Err(invalid(
                "the id token has several audiences but no authorized party (azp)",
            ))
        }
        None => {}
    }
    let now = expected.now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let skew = ID_TOKEN_SKEW.as_secs();
    match claims.exp {
        None => return Err(invalid("the id token has no exp claim")),
        Some(exp) if now.as_secs() > exp.saturating_add(skew) => {
            return Err(invalid("the id token has expired (check the device clock)"))
        }
        Some(_) => {}
    }
    if let Some(nbf) = claims.nbf {
        if nbf > now.as_secs().saturating_add(skew) {
            return Err(invalid(
                "the id token is not valid yet (check the device clock)",
            ));
        }
    }
    if let Some(sent) = expected.nonce {
        match claims.nonce.as_deref() {
            Some(got) if constant_time_eq(got, sent) => {}
            Some(_) => {
                return Err((
                    LocalCode::NonceMismatch,
                    "the id token's nonce differs from the request's".into(),
                ))
            }
            None => return Err((LocalCode::NonceMismatch, "the id token has no nonce".into())),
        }
    }
    Ok(())
}

/// Whether one of `keys` verifies the signature; `None` when no key fits
/// the token's `kid`/`alg` (so the caller may refetch the key set).
pub fn verify_with(jwt: &DecodedJwt, keys: &[Jwk]) -> Option<bool> {
    let candidates: Vec<&Jwk> = keys
        .iter()
        .filter(|k| match jwt.kid() {
            Some(kid) => k.kid.as_deref() == Some(kid),
            None => true,
        })
        .filter(|k| k.fits(jwt.alg()))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    Some(candidates.iter().any(|k| jwt::verify(jwt, k)))
}

/// Validates a raw id token for `resolved`'s authority: decode, signature
/// (JWKS from discovery, refetched once when the `kid` is unknown), claims.
///
/// A failed check is a local `invalid_jwt` / `nonce_mismatch`; a JWKS
/// request that fails is returned as classified (network or service), since
/// the token itself was not found wanting.
pub async fn validate(
    discovery: &Discovery,
    sender: &Sender,
    resolved: &ResolvedAuthority,
    raw: &str,
    client_id: &str,
    nonce: Option<&str>,
) -> Result<IdTokenClaims, IdFlowError> {
    let local = |(code, why): Invalid| IdFlowError::local(code, why);
    let jwt = jwt::decode(raw)
        .map_err(|why| local(invalid(format!("the id token is malformed: {why}"))))?;
    if !jwt::SUPPORTED_ALGS.contains(&jwt.alg()) {
        return Err(local(invalid(format!(
            "the id token's algorithm '{}' is not accepted",
            jwt.alg().chars().take(20).collect::<String>()
        ))));
    }
    let Some(jwks_uri) = &resolved.jwks_uri else {
        return Err(local(invalid(
            "the provider's discovery document has no jwks_uri",
        )));
    };
    let keys = discovery.jwks(sender, jwks_uri, false).await?;
    let verdict = match verify_with(&jwt, &keys) {
        Some(v) => Some(v),
        None => verify_with(&jwt, &discovery.jwks(sender, jwks_uri, true).await?),
    };
    match verdict {
        Some(true) => {}
        Some(false) => return Err(local(invalid("the id token's signature does not verify"))),
        None => {
            return Err(local(invalid(
                "no key of the provider matches the id token's kid and alg",
            )))
        }
    }
    let claims = IdTokenClaims::from_map(jwt.claims);
    let expected = Expected {
        issuer: &resolved.issuer,
        client_id,
        nonce,
        now: sender.clock.now(),
    };
    check_claims(&claims, &expected).map_err(local)?;
    tracing::debug!(
        target: "idflow::id_token",
        pii = crate::logging::pii_logging_enabled(),
        oid = %crate::logging::Pii(claims.oid.as_deref().unwrap_or("")),
        tid = %crate::logging::Pii(claims.tid.as_deref().unwrap_or("")),
        username = %crate::logging::Pii(claims.username().unwrap_or("")),
        "id token validated"
    );
    Ok(claims)
}

#[cfg(test)]
mod tests;
