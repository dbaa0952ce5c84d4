//! Client authentication at the token endpoint: which registration is
//! calling, and whether its credential (a secret in the body or in HTTP
//! Basic, or a signed client assertion) is right — with the platform's
//! answers when it is not.

use crate::crypto::jwt::Jwt;
use crate::endpoints::assertion_trust;
use crate::model::directory::{tenant_id, Client};
use crate::model::state::State;
use crate::wire::aad_error::AadError;
use crate::wire::request::Req;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The only `client_assertion_type` the platform accepts.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on assertion `exp`/`nbf`, in seconds.
const SKEW: i64 = 300;

/// How the client authenticated (the `azpacr` claim: 0 public, 1 secret, 2 key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Secret,
    Assertion,
}

impl ClientAuth {
    pub fn azpacr(self) -> &'static str {
        match self {
            ClientAuth::None => "0",
            ClientAuth::Secret => "1",
            ClientAuth::Assertion => "2",
        }
    }
}

/// Whether the grant may be used by a client without a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Public-client flows: auth code, refresh, device code, ROPC.
    PublicAllowed,
    /// Confidential-only flows: client credentials, on-behalf-of.
    Credential,
}

/// Authenticates for a grant a public client may use.
pub fn public_or_confidential(
    req: &Req,
    state: &State,
    now: i64,
) -> Result<(Client, ClientAuth), AadError> {
    authenticate(req, state, now, Need::PublicAllowed)
}

/// Identifies and authenticates the calling client.
pub fn authenticate(
    req: &Req,
    state: &State,
    now: i64,
    need: Need,
) -> Result<(Client, ClientAuth), AadError> {
    let basic = basic_credentials(req)?;
    let form_id = req.form.get("client_id");
    let client_id = match (&basic, form_id) {
        (Some((id, _)), Some(f)) if !id.eq_ignore_ascii_case(f) => {
            return Err(AadError::bad(
                "invalid_request",
                9002313,
                "The client_id in the Authorization header and in the body differ.",
            ))
        }
        (Some((id, _)), _) => id.clone(),
        (None, Some(f)) => f.to_owned(),
        (None, None) => return Err(AadError::missing("client_id")),
    };
    let tenant = req.tenant.as_deref().unwrap_or("common");
    let client = state
        .client(&client_id)
        .cloned()
        .ok_or_else(|| unknown_client(&client_id, tenant))?;
    let secret = basic
        .as_ref()
        .map(|(_, s)| s.as_str())
        .or_else(|| req.form.get("client_secret"));
    let assertion = req.form.get("client_assertion");
    if secret.is_some() && assertion.is_some() {
        return Err(AadError::bad(
            "invalid_request",
            9002313,
            "Send either client_secret or client_assertion, not both.",
        ));
    }
    if !client.spec.confidential {
        if secret.is_some() || assertion.is_some() {
            return Err(AadError::client(
                700025,
                "The client is public, so it must not send client_assertion or client_secret.",
            ));
        }
        if need == Need::Credential {
            return Err(missing_credential());
        }
        return Ok((client, ClientAuth::None));
    }
    if let Some(secret) = secret {
        let ok = client
            .spec
            .secrets
            .iter()
            .any(|s| same(s.as_bytes(), secret.as_bytes()));
        return if ok {
            Ok((client, ClientAuth::Secret))
        } else {
            Err(AadError::client(
                7000215,
                format!(
                    "Invalid client secret provided. Send the secret's value (not its id) for the \
                     app '{}'.",
                    client.id()
                ),
            ))
        };
    }
    if let Some(assertion) = assertion {
        verify_assertion(req, &client, state, assertion, tenant, now)?;
        return Ok((client, ClientAuth::Assertion));
    }
    if need == Need::PublicAllowed && client.spec.allow_public_client {
        return Ok((client, ClientAuth::None));
    }
    Err(missing_credential())
}

/// 400 `unauthorized_client` AADSTS700016.
pub fn unknown_client(client_id: &str, tenant: &str) -> AadError {
    AadError::bad(
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. \
             The app may not be installed in this tenant, or the request went to the wrong tenant."
        ),
    )
}

fn missing_credential() -> AadError {
    AadError::client(
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(req: &Req) -> Result<Option<(String, String)>, AadError> {
    let Some(h) = req.header("authorization") else {
        return Ok(None);
    };
    let Some(encoded) = h
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, v)| v.trim())
    else {
        return Ok(None);
    };
    let malformed = || AadError::client(7000215, "The HTTP Basic credentials are malformed.");
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn verify_assertion(
    req: &Req,
    client: &Client,
    state: &State,
    assertion: &str,
    tenant: &str,
    now: i64,
) -> Result<(), AadError> {
    let malformed = |why: &str| {
        AadError::client(
            50027,
            format!("The client assertion is invalid or malformed: {why}."),
        )
    };
    if req.form.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
        return Err(AadError::bad(
            "invalid_request",
            900144,
            format!("The request body must contain client_assertion_type={JWT_BEARER_ASSERTION} with a client_assertion."),
        ));
    }
    let jwt = Jwt::parse(assertion).ok_or_else(|| malformed("not a compact JWS"))?;
    if !matches!(
        jwt.alg(),
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512"
    ) {
        return Err(malformed(
            "the algorithm must be RS256 or PS256 (or their SHA-384/512 forms)",
        ));
    }
    if let Some(outcome) = assertion_trust::federated(client, &jwt, state, now) {
        return outcome;
    }
    let id = client.id();
    let matches_id = |c: Option<&str>| c.is_some_and(|v| v.eq_ignore_ascii_case(id));
    if !matches_id(jwt.claim_str("iss")) || !matches_id(jwt.claim_str("sub")) {
        return Err(AadError::client(
            700021,
            "The client assertion's iss and sub must both be the client_id.",
        ));
    }
    let base = &req.ctx.base_url;
    let tid = tenant_id(tenant);
    let mut accepted = vec![
        format!("{base}/{tenant}/oauth2/v2.0/token"),
        format!("{base}/{tid}/oauth2/v2.0/token"),
        format!("{base}/{tenant}/v2.0"),
        format!("{base}/{tid}/v2.0"),
    ];
    // Clients that accept only https authorities (msal Python) reach the
    // plain-http loopback emulator through a transport that rewrites the
    // scheme, so their assertions name the https form of the same endpoint.
    if let Some(rest) = base.strip_prefix("http://") {
        let https: Vec<String> = accepted
            .iter()
            .map(|a| a.replacen(&format!("http://{rest}"), &format!("https://{rest}"), 1))
            .collect();
        accepted.extend(https);
    }
    if !jwt.has_audience(|a| {
        accepted
            .iter()
            .any(|x| x.eq_ignore_ascii_case(a.trim_end_matches('/')))
    }) {
        return Err(malformed(&format!(
            "its aud must be the token endpoint, {}",
            accepted[0]
        )));
    }
    let exp = jwt
        .claim_time("exp")
        .ok_or_else(|| malformed("it has no exp"))?;
    let nbf = jwt.claim_time("nbf").unwrap_or(i64::MIN);
    if exp.saturating_add(SKEW) < now || nbf.saturating_sub(SKEW) > now {
        return Err(AadError::client(
            700024,
            "The client assertion is not within its valid time range (exp / nbf).",
        ));
    }
    let candidates: Vec<_> = client
        .keys
        .iter()
        .filter(|k| k.named_by(&jwt.header))
        .collect();
    if candidates.is_empty() {
        // No registered key: the certificate may be trusted by its subject name.
        if let Some(outcome) = assertion_trust::subject_name(client, &jwt) {
            return outcome;
        }
    }
    if client.keys.is_empty() {
        return Err(AadError::client(
            700027,
            format!("The app '{id}' has no certificate or key registered for client assertions."),
        ));
    }
    if candidates.is_empty() {
        return Err(AadError::client(
            700027,
            format!("No certificate registered on the app '{id}' matches the x5t / kid the assertion names."),
        ));
    }
    if candidates.iter().any(|k| jwt.verified_by(&k.public)) {
        Ok(())
    } else {
        Err(AadError::client(
            700027,
            "The client assertion's signature is not valid.",
        ))
    }
}
