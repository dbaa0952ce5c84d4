//! The Python view: msal Python's dicts, or the exception msal would raise.

use super::joined_headers;
use crate::error::{IdFlowError, LocalCode, PythonForm};
use serde_json::{json, Map, Value};

/// What Python observes: a dict, `None`, or an exception.
#[derive(Clone, Debug, PartialEq)]
pub enum PythonView {
    Dict(Map<String, Value>),
    NoneResult,
    Raise {
        exception: PythonForm,
        message: String,
    },
}

/// The Python view of an error.
pub fn python(e: &IdFlowError) -> PythonView {
    let form = LocalCode::parse(&e.code).map_or(PythonForm::Dict, |c| c.spec().python);
    match form {
        PythonForm::Dict => PythonView::Dict(python_dict(e)),
        PythonForm::NoneResult => PythonView::NoneResult,
        other => PythonView::Raise {
            exception: other,
            message: e.to_string(),
        },
    }
}

/// msal Python's error dict: the server's keys as sent (or `error` and
/// `error_description` for failures without a server body), `classification`
/// where msal computes it (silent flows, when there is a suberror), plus
/// idflow's extras.
pub fn python_dict(e: &IdFlowError) -> Map<String, Value> {
    let mut d = match e.service.as_ref().and_then(|s| s.body.clone()) {
        // msal reduces an authorize redirect's error to these keys (no state, no codes).
        Some(mut body) if e.flow.is_authorize() => {
            body.retain(|k, _| matches!(k.as_str(), "error" | "error_description" | "error_uri"));
            body
        }
        Some(body) => body,
        None => {
            let mut m = Map::new();
            m.insert("error".into(), json!(e.code));
            m.insert("error_description".into(), json!(e.message));
            // A JSON body without `error` still gave its platform fields.
            if let Some(s) = &e.service {
                if !s.error_codes.is_empty() {
                    m.insert("error_codes".into(), json!(s.error_codes));
                }
                if let Some(v) = &s.suberror {
                    m.insert("suberror".into(), json!(v));
                }
                if let Some(v) = &s.claims {
                    m.insert("claims".into(), json!(v));
                }
            }
            m
        }
    };
    if e.flow == crate::Flow::Silent {
        if let Some(c) = crate::error::python_classification(e.suberror()) {
            d.insert("classification".into(), json!(c));
        }
    }
    if let Some(id) = &e.correlation_id {
        d.entry("correlation_id").or_insert_with(|| json!(id));
    }
    d.insert("error_kind".into(), json!(e.kind.as_str()));
    d.insert("action".into(), json!(e.action.as_str()));
    d.insert("mitigation".into(), json!(e.mitigation));
    d.insert("retryable".into(), json!(e.retryable));
    if let Some(r) = e.retry_after {
        d.insert("retry_after".into(), json!(r.as_secs()));
    }
    if let Some(s) = &e.service {
        d.insert("http_status".into(), json!(s.http_status));
        d.insert("headers".into(), json!(joined_headers(s)));
    }
    d
}

/// msal Python's success dict for a token response.
pub fn python_success(result: &Map<String, Value>) -> Map<String, Value> {
    let mut d = result.clone();
    d.insert("token_source".into(), json!("identity_provider"));
    d
}

impl PythonForm {
    pub const ALL: [PythonForm; 5] = [
        PythonForm::Dict,
        PythonForm::NoneResult,
        PythonForm::ValueError,
        PythonForm::ConnectionError,
        PythonForm::TimeoutError,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PythonForm::Dict => "dict",
            PythonForm::NoneResult => "None",
            PythonForm::ValueError => "ValueError",
            PythonForm::ConnectionError => "ConnectionError",
            PythonForm::TimeoutError => "TimeoutError",
        }
    }
}

/// msal Python's result dict for a token: the server's fields as msal keeps
/// them (`access_token`, `token_type`, `expires_in` counted from `now`,
/// `ext_expires_in`, `scope` space-joined, `refresh_token`, `id_token`,
/// `client_info`), plus `id_token_claims`, `token_source` and `refresh_on`.
pub fn python_token_result(
    r: &crate::AuthenticationResult,
    now: std::time::SystemTime,
) -> Map<String, Value> {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let mut d = Map::new();
    d.insert("access_token".into(), json!(r.access_token.expose()));
    d.insert("token_type".into(), json!(r.token_type));
    d.insert("expires_in".into(), json!(r.expires_in(now)));
    if r.token_source == crate::TokenSource::Cache {
        // msal's cache hit mimics a minimal response: no scope, no other tokens.
        d.insert("token_source".into(), json!("cache"));
        if let Some(on) = r.refresh_on {
            d.insert("refresh_on".into(), json!(secs(on)));
        }
        return d;
    }
    if let Some(ext) = r.ext_expires_on {
        d.insert(
            "ext_expires_in".into(),
            json!(ext.duration_since(now).map_or(0, |d| d.as_secs())),
        );
    }
    d.insert("scope".into(), json!(r.scopes.join(" ")));
    if let Some(rt) = &r.refresh_token {
        d.insert("refresh_token".into(), json!(rt.expose()));
    }
    if let Some(id) = &r.id_token {
        d.insert("id_token".into(), json!(id.expose()));
    }
    if let Some(ci) = &r.client_info {
        d.insert("client_info".into(), json!(ci));
    }
    if let Some(claims) = &r.id_token_claims {
        d.insert("id_token_claims".into(), Value::Object(claims.all.clone()));
    }
    let source = match r.token_source {
        crate::TokenSource::IdentityProvider => "identity_provider",
        crate::TokenSource::Cache => "cache",
    };
    d.insert("token_source".into(), json!(source));
    if let Some(on) = r.refresh_on {
        d.insert("refresh_on".into(), json!(secs(on)));
    }
    d
}
