//! Reading a source's answer: a token (normalized to OAuth's `expires_in`),
//! or an error shaped as msal Python shapes it (`msal/managed_identity.py`,
//! `_obtain_token_on_*`), so the error dict of both libraries agree key by
//! key. Each error is then classified by the one classifier, which keeps
//! the status, the headers and `Retry-After`.

use super::environment::ManagedIdentitySource;
use super::identity::ManagedIdentity;
use crate::error::{classify_at, Flow, HttpResponse, IdFlowError, LocalCode};
use crate::net::sender::Exchange;
use crate::secret::AccessToken;
use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// A token as the source gave it, normalized.
#[derive(Clone, Debug)]
pub(crate) struct SourceToken {
    pub access_token: AccessToken,
    /// Seconds from the answer's arrival.
    pub expires_in: i64,
    pub resource: Option<String>,
    pub token_type: String,
}

/// An integer, or a string holding one (Service Fabric and App Service send
/// strings), as Python's `int()` reads them.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn non_empty<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    m.get(k).filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    })
}

fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The answer of `source` (for Azure Arc: the answer to the request that
/// carried the key).
pub(crate) fn read(
    source: ManagedIdentitySource,
    identity: &ManagedIdentity,
    ex: &Exchange,
) -> Result<SourceToken, IdFlowError> {
    use ManagedIdentitySource::*;
    let text = String::from_utf8_lossy(&ex.response.body).into_owned();
    let parsed = serde_json::from_slice::<Value>(&ex.response.body).ok();
    let payload = match parsed {
        Some(Value::Object(m)) => m,
        Some(_) | None if source == AzureArc => {
            return Err(shaped(ex, "invalid_request", &text));
        }
        _ => {
            return Err(ex.local(
                LocalCode::InvalidManagedIdentityResponse,
                format!(
                    "HTTP {}: the {} managed identity endpoint answered with a body that is not a JSON object",
                    ex.response.status,
                    source.as_str()
                ),
            ))
        }
    };
    let token = non_empty(&payload, "access_token").and_then(Value::as_str);
    let token_type = payload
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer")
        .to_owned();
    let resource = payload
        .get("resource")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // IMDS and Arc give `expires_in`; App Service, Service Fabric and Azure
    // ML `expires_on`; Cloud Shell both (its `expires_in` is used first).
    let relative = || non_empty(&payload, "expires_in").and_then(int_of);
    let absolute = || {
        non_empty(&payload, "expires_on")
            .and_then(int_of)
            .map(|on| on - secs(ex.received_at))
    };
    let expires_in = match source {
        Imds | AzureArc => relative(),
        CloudShell => relative().or_else(absolute),
        _ => absolute(),
    };
    if let (Some(t), Some(expires_in)) = (token, expires_in) {
        if source == AzureArc {
            confirm_arc_identity(identity, &payload, ex)?;
        }
        return Ok(SourceToken {
            access_token: AccessToken::new(t),
            expires_in,
            resource,
            token_type,
        });
    }
    Err(match source {
        // IMDS's (and Cloud Shell's) error is an OAuth error already: as sent.
        Imds | CloudShell => {
            if payload.get("error").is_some() {
                ex.failure(Flow::Token)
            } else {
                ex.local(
                    LocalCode::InvalidManagedIdentityResponse,
                    format!(
                        "HTTP {}: the {} managed identity endpoint answered with neither a token nor an error",
                        ex.response.status,
                        source.as_str()
                    ),
                )
            }
        }
        // "Empirically, wrong resource ends up with a vague statusCode=500".
        AppService => shaped(
            ex,
            "invalid_scope",
            &format!(
                "{}, {}",
                py_str(payload.get("statusCode")),
                py_str(payload.get("message"))
            ),
        ),
        MachineLearning => shaped(
            ex,
            "invalid_scope",
            &py_repr(&Value::Object(payload.clone())),
        ),
        ServiceFabric => {
            let code = payload
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str);
            let error = match code {
                Some("SecretHeaderNotFound") => "unauthorized_client",
                Some("ManagedIdentityNotFound") => "invalid_client",
                Some("ArgumentNullOrEmpty") => "invalid_scope",
                _ => "invalid_request",
            };
            shaped(ex, error, &text)
        }
        AzureArc => shaped(ex, "invalid_request", &text),
    })
}

/// A legacy Azure Arc agent ignores a user-assigned selector and answers
/// with the system-assigned identity; an agent that honours it echoes the
/// id. Without the echo the token is refused, as msal Python 1.39 does
/// (`_raise_if_arc_did_not_honor_user_assigned_identity`).
fn confirm_arc_identity(
    identity: &ManagedIdentity,
    payload: &Map<String, Value>,
    ex: &Exchange,
) -> Result<(), IdFlowError> {
    let (echoed, wanted) = match identity {
        ManagedIdentity::SystemAssigned => return Ok(()),
        ManagedIdentity::ClientId(id) => (payload.get("client_id"), id),
        ManagedIdentity::ObjectId(id) => (payload.get("object_id"), id),
        ManagedIdentity::ResourceId(id) => (
            payload
                .get("msi_res_id")
                .or_else(|| payload.get("mi_res_id")),
            id,
        ),
    };
    match echoed.and_then(Value::as_str) {
        Some(e) if e.eq_ignore_ascii_case(wanted) => Ok(()),
        _ => Err(IdFlowError::local(
            LocalCode::ManagedIdentityRequestFailed,
            "Azure Arc did not confirm the requested user-assigned managed identity in its \
             answer (the agent likely serves only the system-assigned identity)",
        )
        .with_correlation_id(ex.correlation_id())),
    }
}

/// The classified error for an answer msal Python turns into
/// `{"error": error, "error_description": description}`.
fn shaped(ex: &Exchange, error: &str, description: &str) -> IdFlowError {
    let body = json!({"error": error, "error_description": description}).to_string();
    let response = HttpResponse::new(ex.response.status, ex.response.headers.clone(), body);
    classify_at(&response, Flow::Token, ex.received_at)
        .error
        .unwrap_or_else(|| {
            IdFlowError::local(LocalCode::InvalidManagedIdentityResponse, "unusable answer")
        })
        .with_correlation_id(ex.correlation_id())
}

/// Python's `str()` of a JSON value as `json.loads` gives it.
fn py_str(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => py_repr(other),
    }
}

/// Python's `repr()` of a JSON value as `json.loads` gives it (dicts keep
/// the document's key order only approximately: serde_json sorts them).
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn python_repr_of_json() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":"x'y","c":[true,null]}"#).unwrap();
        assert_eq!(py_repr(&v), r#"{'a': 1, 'b': "x'y", 'c': [True, None]}"#);
        assert_eq!(py_str(None), "None");
        assert_eq!(py_str(Some(&json!(500))), "500");
    }

    #[test]
    fn ints_from_numbers_and_strings() {
        assert_eq!(int_of(&json!("3599")), Some(3599));
        assert_eq!(int_of(&json!(86399)), Some(86399));
        assert_eq!(int_of(&json!("soon")), None);
    }
}
