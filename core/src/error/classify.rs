//! The one place where an HTTP response becomes a decision.

use super::action::action_for_oauth_error;
use super::response::{read_body_checked, Body, Unreadable};
use super::{
    aadsts, mitigation_for, parse_retry_after, Action, Classification, ErrorKind, Flow,
    HttpResponse, IdFlowError, LocalCode, OAuthErrorBody, ServiceDetails,
};
use crate::error::Polling;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime};

/// Whether a response is a usable result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A token (or, for authorize, a code): use it.
    Success,
    /// Device code only: the user has not finished; poll again (see `polling`).
    Pending,
    /// A failure: see the error.
    Error,
}

/// The decision for one response.
#[derive(Clone, PartialEq)]
pub struct Classified {
    pub outcome: Outcome,
    /// Set for the device-code flow only.
    pub polling: Option<Polling>,
    /// Set unless `outcome == Success`.
    pub error: Option<IdFlowError>,
    /// The success body (holds tokens: never logged, `Debug` shows keys only).
    pub result: Option<Map<String, Value>>,
}

impl std::fmt::Debug for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classified")
            .field("outcome", &self.outcome)
            .field("polling", &self.polling)
            .field("error", &self.error)
            .field(
                "result_keys",
                &self.result.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

/// Classifies a response received just now. See [`classify_at`].
pub fn classify(response: &HttpResponse, flow: Flow) -> Classified {
    classify_at(response, flow, SystemTime::now())
}

/// Classifies a response received at `received_at` (used for a `Retry-After`
/// HTTP-date when the response has no `Date` header).
///
/// Never panics, whatever the body: unreadable bodies become
/// `non_parsable_oauth_error` (or the status-specific code), and bodies over
/// [`super::MAX_ERROR_BODY_BYTES`] are not parsed at all.
pub fn classify_at(response: &HttpResponse, flow: Flow, received_at: SystemTime) -> Classified {
    let status = response.status;
    let ok_status = (200..300).contains(&status) || flow.is_authorize();
    // JSON is UTF-8 (RFC 8259). An error body is read leniently (a proxy's
    // Latin-1 description still names the error), but a token is never taken
    // from bytes that had to be repaired: it would be a corrupted token.
    let (body, utf8) = read_body_checked(&response.body, flow.is_authorize());
    let mut fields = None;
    let failure = match body {
        Body::OAuthError(e) => return from_oauth_error(response, flow, *e, received_at),
        Body::Object(_) if ok_status && !utf8 => (
            LocalCode::NonParsableOAuthError,
            format!("HTTP {status} with a body that is not valid UTF-8"),
        ),
        Body::Object(map) if ok_status && is_success(&map, flow) => {
            return Classified {
                outcome: Outcome::Success,
                polling: (flow == Flow::DeviceCode).then_some(Polling::Stop),
                error: None,
                result: Some(map),
            }
        }
        Body::Object(_) if ok_status => (
            LocalCode::InvalidTokenResponse,
            format!("HTTP {status}: the response holds neither a token nor an OAuth error"),
        ),
        Body::Unreadable(why) => {
            let what = match why {
                Unreadable::TooLarge => {
                    format!("a body over {} bytes", super::MAX_ERROR_BODY_BYTES)
                }
                Unreadable::NotJson => "a body that is not JSON".to_owned(),
                Unreadable::NotAnObject => "JSON that is not an object".to_owned(),
            };
            let ctype = match response.content_type() {
                "" => String::new(),
                t => format!(" ({})", t.chars().take(80).collect::<String>()),
            };
            let msg = format!("HTTP {status} with {what}{ctype}");
            (
                status_code(status).unwrap_or(LocalCode::NonParsableOAuthError),
                msg,
            )
        }
        Body::Empty if ok_status => (
            LocalCode::NonParsableOAuthError,
            format!("HTTP {status} with an empty body"),
        ),
        other @ (Body::Empty | Body::Object(_)) => {
            if let Body::Object(map) = &other {
                fields = Some(super::response::error_fields(map));
            }
            let msg = format!("HTTP {status} with no OAuth error in the body");
            (
                status_code(status).unwrap_or(LocalCode::HttpStatusNotOk),
                msg,
            )
        }
    };
    let (code, message) = failure;
    let mut details = details(response, None);
    // The code stays the status's, but the platform's fields of a JSON body
    // without `error` are kept (MSAL.NET's MsalServiceExceptionFactory reads
    // them from any body that parses).
    let body_correlation_id = fields.as_ref().and_then(|f| f.correlation_id.clone());
    if let Some(f) = fields {
        details.error_codes = f.error_codes;
        details.suberror = f.suberror;
        details.claims = f.claims;
    }
    let retry_after = retry_after(response, received_at);
    let mut e = IdFlowError::local(code, message).with_flow(flow);
    e.retryable = is_retryable_status(status);
    e.retry_after = retry_after;
    e.correlation_id = correlation_id(response, body_correlation_id.as_deref());
    e.action = service_action(&e, code.spec().action);
    e.service = Some(Box::new(details));
    e.mitigation = mitigation_for(&e);
    Classified {
        outcome: Outcome::Error,
        polling: (flow == Flow::DeviceCode).then_some(Polling::Stop),
        error: Some(e),
        result: None,
    }
}

/// The one interaction-required rule (a union of MSAL.NET's and MSAL.js's,
/// with no substring matching on descriptions).
pub fn interaction_required(error: &str, suberror: Option<&str>, error_codes: &[i64]) -> bool {
    let sub = suberror.unwrap_or("");
    let by_error = matches!(
        error,
        "invalid_grant" | "interaction_required" | "consent_required" | "login_required"
    ) && !matches!(sub, "client_mismatch" | "protection_policy_required");
    let by_suberror = matches!(
        sub,
        "basic_action"
            | "additional_action"
            | "message_only"
            | "consent_required"
            | "user_password_expired"
            | "bad_token"
    );
    let password_reset = error == "invalid_request" && error_codes.contains(&50142);
    by_error || by_suberror || password_reset
}

fn from_oauth_error(
    response: &HttpResponse,
    flow: Flow,
    body: OAuthErrorBody,
    received_at: SystemTime,
) -> Classified {
    let error = body.error.clone();
    let suberror = body.suberror.clone();
    let user_declined = matches!(error.as_str(), "access_denied" | "authorization_declined")
        && matches!(
            flow,
            Flow::DeviceCode | Flow::Authorize | Flow::AuthorizePromptNone
        );
    // `claims` plays no part in the decision: MSAL.NET's factory decides on
    // `error` and `suberror` alone and only attaches the claims (a
    // MsalClaimsChallengeException is a UI-required error that carries them;
    // AzureAD/microsoft-authentication-library-for-dotnet
    // src/client/Microsoft.Identity.Client/MsalServiceExceptionFactory.cs).
    // They stay on every error that has them, whatever its kind.
    let kind = if user_declined {
        ErrorKind::Cancelled
    } else if interaction_required(&error, suberror.as_deref(), &body.error_codes) {
        ErrorKind::InteractionRequired
    } else {
        ErrorKind::Service
    };
    let classification = (kind == ErrorKind::InteractionRequired).then(|| {
        let c = Classification::from_suberror(suberror.as_deref());
        let prompt_none = flow == Flow::AuthorizePromptNone
            && matches!(error.as_str(), "login_required" | "interaction_required");
        if c == Classification::None && prompt_none {
            Classification::PromptNeverFailed
        } else {
            c
        }
    });
    let message = match &body.error_description {
        Some(d) => format!("{error}: {d}"),
        None => error.clone(),
    };
    let status = response.status;
    let retry_after = retry_after(response, received_at);
    let retryable = is_retryable_status(status) || error == "temporarily_unavailable";
    let correlation_id = correlation_id(response, body.correlation_id.as_deref());
    let mut e = IdFlowError {
        kind,
        code: error.clone(),
        message,
        correlation_id,
        classification,
        retryable,
        retry_after,
        action: Action::None,
        mitigation: "",
        network: None,
        service: Some(Box::new(details(response, Some(body)))),
        flow,
    };
    e.action = match kind {
        ErrorKind::InteractionRequired => Action::AcquireInteractively,
        ErrorKind::Cancelled => Action::None,
        _ => {
            let fallback = aadsts::best_match(&e.code, e.aadsts())
                .map(|r| r.service_action())
                .unwrap_or_else(|| action_for_oauth_error(&error));
            service_action(&e, fallback)
        }
    };
    e.mitigation = mitigation_for(&e);
    let polling = (flow == Flow::DeviceCode).then_some(match error.as_str() {
        "authorization_pending" => Polling::Continue,
        "slow_down" => Polling::SlowDown,
        _ => Polling::Stop,
    });
    let outcome = match polling {
        Some(Polling::Continue | Polling::SlowDown) => Outcome::Pending,
        _ => Outcome::Error,
    };
    Classified {
        outcome,
        polling,
        error: Some(e),
        result: None,
    }
}

/// Retry-After wins; then "retry once" for retryable answers; else the fallback.
fn service_action(e: &IdFlowError, fallback: Action) -> Action {
    if e.retry_after.is_some() {
        Action::RetryAfter
    } else if e.retryable {
        Action::Retry
    } else {
        fallback
    }
}

fn is_success(map: &Map<String, Value>, flow: Flow) -> bool {
    let key = if flow.is_authorize() {
        "code"
    } else {
        "access_token"
    };
    matches!(map.get(key), Some(Value::String(s)) if !s.is_empty())
}

fn is_retryable_status(status: u16) -> bool {
    (500..600).contains(&status) || status == 429 || status == 408
}

/// The code for a failure that carries no OAuth error, when the status alone says it.
fn status_code(status: u16) -> Option<LocalCode> {
    match status {
        404 => Some(LocalCode::NotFound),
        429 => Some(LocalCode::RequestThrottled),
        500..=599 => Some(LocalCode::ServiceNotAvailable),
        _ => None,
    }
}

fn retry_after(response: &HttpResponse, received_at: SystemTime) -> Option<Duration> {
    let value = response.header("retry-after")?;
    let reference = response
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(received_at);
    parse_retry_after(value, reference)
}

fn correlation_id(response: &HttpResponse, from_body: Option<&str>) -> Option<String> {
    from_body
        .or_else(|| response.header("client-request-id"))
        .map(|s| s.chars().take(128).collect())
}

fn details(response: &HttpResponse, body: Option<OAuthErrorBody>) -> ServiceDetails {
    let headers = response
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("set-cookie"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    let mut d = ServiceDetails {
        http_status: response.status,
        headers,
        ..Default::default()
    };
    if let Some(b) = body {
        d.error_description = b.error_description;
        d.error_codes = b.error_codes;
        d.suberror = b.suberror;
        d.claims = b.claims;
        d.trace_id = b.trace_id;
        d.timestamp = b.timestamp;
        d.error_uri = b.error_uri;
        d.body = Some(b.raw);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::aadsts;

    fn json(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, vec![], body.as_bytes().to_vec())
    }

    #[test]
    fn a_token_in_invalid_utf8_is_refused_but_an_error_is_still_read() {
        let mut body = br#"{"access_token":"abc"#.to_vec();
        body.extend_from_slice(&[0xff, 0xc0]);
        body.extend_from_slice(br#"","expires_in":3600}"#);
        let c = classify(&HttpResponse::new(200, vec![], body), Flow::Token);
        let e = c.error.expect("refused");
        assert_eq!(e.code, "non_parsable_oauth_error");
        assert!(c.result.is_none());
        let mut body =
            br#"{"error":"invalid_grant","error_description":"Kennwort abgelaufen "#.to_vec();
        body.extend_from_slice(&[0xe4, b'"', b'}']);
        let e = classify(&HttpResponse::new(400, vec![], body), Flow::Token)
            .error
            .expect("error");
        assert_eq!(e.code, "invalid_grant");
    }

    #[test]
    fn mitigation_follows_the_aadsts_number_that_matches_the_error() {
        let r = json(
            400,
            r#"{"error":"invalid_grant","error_codes":[70002,70008]}"#,
        );
        let e = classify(&r, Flow::Silent).error.expect("error");
        assert_eq!(e.kind, ErrorKind::InteractionRequired);
        assert_eq!(
            e.mitigation,
            aadsts::lookup(70008)
                .map(|r| r.mitigation)
                .unwrap_or_default()
        );
    }

    #[test]
    fn suberror_classification_wins_over_prompt_never_failed() {
        let r = json(302, "error=interaction_required&suberror=consent_required");
        let e = classify(&r, Flow::AuthorizePromptNone)
            .error
            .expect("error");
        assert_eq!(e.classification, Some(Classification::ConsentRequired));
    }

    #[test]
    fn retry_after_date_without_a_date_header_uses_the_receipt_time() {
        let received = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").expect("date");
        let r = HttpResponse::new(
            503,
            vec![("retry-after".into(), "Wed, 25 Nov 2026 10:00:10 GMT".into())],
            Vec::new(),
        );
        let e = classify_at(&r, Flow::Token, received).error.expect("error");
        assert_eq!(e.retry_after, Some(Duration::from_secs(10)));
        assert_eq!(e.action, Action::RetryAfter);
    }

    #[test]
    fn claims_do_not_decide_the_kind_but_stay_attached() {
        let claims = r#"{\"access_token\":{\"acrs\":{\"essential\":true,\"value\":\"c1\"}}}"#;
        for (error, suberror, kind) in [
            ("invalid_grant", Some("client_mismatch"), ErrorKind::Service),
            ("invalid_tenant", None, ErrorKind::Service),
            ("invalid_client", None, ErrorKind::Service),
            ("unauthorized_client", None, ErrorKind::Service),
            ("interaction_required", None, ErrorKind::InteractionRequired),
            ("invalid_grant", None, ErrorKind::InteractionRequired),
        ] {
            let sub = suberror.map_or(String::new(), |s| format!(r#","suberror":"{s}""#));
            let body = format!(r#"{{"error":"{error}"{sub},"claims":"{claims}"}}"#);
            let e = classify(&json(400, &body), Flow::Silent)
                .error
                .expect("error");
            assert_eq!(e.kind, kind, "{error} {suberror:?}");
            assert!(e.claims().is_some_and(|c| c.contains("acrs")), "{error}");
        }
        // A declined device-code sign-in stays cancelled, claims or not.
        let declined = format!(r#"{{"error":"access_denied","claims":"{claims}"}}"#);
        let d = classify(&json(400, &declined), Flow::DeviceCode)
            .error
            .expect("error");
        assert_eq!(d.kind, ErrorKind::Cancelled);
    }

    #[test]
    fn a_json_body_without_error_still_gives_its_fields() {
        let body = r#"{"error_codes":[50058],"suberror":"s","claims":"{}","correlation_id":"c-9","trace_id":"t"}"#;
        let e = classify(&json(403, body), Flow::Token)
            .error
            .expect("error");
        assert_eq!(e.code, "http_status_not_200");
        assert_eq!(e.aadsts(), &[50058]);
        assert_eq!(e.suberror(), Some("s"));
        assert_eq!(e.claims(), Some("{}"));
        assert_eq!(e.correlation_id.as_deref(), Some("c-9"));
        let e = classify(
            &json(404, r#"{"error_codes":["AADSTS90002"]}"#),
            Flow::Token,
        )
        .error
        .expect("error");
        assert_eq!((e.code.as_str(), e.aadsts()), ("not_found", &[90002][..]));
    }

    #[test]
    fn the_rule() {
        assert!(interaction_required("invalid_grant", None, &[]));
        assert!(interaction_required(
            "invalid_grant",
            Some("bad_token"),
            &[]
        ));
        assert!(!interaction_required(
            "invalid_grant",
            Some("client_mismatch"),
            &[]
        ));
        assert!(!interaction_required(
            "interaction_required",
            Some("protection_policy_required"),
            &[]
        ));
        assert!(interaction_required(
            "server_error",
            Some("user_password_expired"),
            &[]
        ));
        assert!(interaction_required("invalid_request", None, &[50142]));
        assert!(!interaction_required("invalid_request", None, &[90010]));
        assert!(!interaction_required("invalid_client", None, &[]));
        assert!(!interaction_required("access_denied", None, &[]));
    }
}
