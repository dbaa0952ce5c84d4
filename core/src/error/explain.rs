//! `explain`: the decision for an AADSTS number, an error code, or an error
//! body, without a live request.

use crate::error::{aadsts, classify_at, Flow, HttpResponse, IdFlowError, LocalCode};
use std::time::SystemTime;

/// The mitigation for an AADSTS number newer than idflow's table, given alone.
const UNKNOWN_NUMBER: &str = "This AADSTS number is newer than idflow's table, so only the \
    response's error and suberror can decide what to do. Explain the whole response (or the \
    number followed by its error and suberror), and look the number up in Microsoft's error \
    reference.";

/// Explains `query`: `AADSTS50079` (or `50079`, optionally followed by the
/// OAuth error and suberror it came with: `AADSTS50079 invalid_grant
/// basic_action`), an idflow code (`state_mismatch`), an OAuth error
/// (`invalid_grant`), or an error body (`{"error": ...}`), as a token-endpoint
/// answer unless the code belongs to another flow. A number missing from the
/// table still gets a decision (from its error and suberror when given) and
/// says so. Fails with `invalid_parameter` only for an empty or unreadable query.
pub fn explain(query: &str) -> Result<IdFlowError, IdFlowError> {
    let q = query.trim();
    if q.starts_with('{') {
        let e = from_body(400, q.as_bytes().to_vec(), Flow::Token);
        return Ok(note_unknown_numbers(e));
    }
    if let Some((digits, rest)) = aadsts_words(q) {
        let n: i64 = digits
            .parse()
            .map_err(|_| invalid(format!("{digits} is too long for an AADSTS number")))?;
        return explain_number(n, &rest);
    }
    if let Some(code) = LocalCode::parse(q) {
        return Ok(IdFlowError::local(
            code,
            format!("{q} (explained without a request)"),
        ));
    }
    if is_oauth_word(q) {
        let body = serde_json::json!({ "error": q }).to_string();
        return Ok(from_body(400, body.into_bytes(), flow_of(q)));
    }
    Err(invalid(
        "expected an AADSTS number, an error code, or a JSON error body",
    ))
}

/// `AADSTS50079`, `aadsts50079`, `50079` or `AADSTS50079:` as the first word:
/// its digits and the words after it.
fn aadsts_words(q: &str) -> Option<(&str, Vec<&str>)> {
    let mut words = q.split_whitespace();
    let first = words.next()?.trim_end_matches(':');
    let digits = first
        .strip_prefix("AADSTS")
        .or_else(|| first.strip_prefix("aadsts"))
        .unwrap_or(first);
    let is_number = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    is_number.then(|| (digits, words.collect()))
}

fn is_oauth_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The flow an OAuth error alone belongs to.
fn flow_of(error: &str) -> Flow {
    match error {
        "authorization_pending"
        | "slow_down"
        | "expired_token"
        | "authorization_declined"
        | "bad_verification_code" => Flow::DeviceCode,
        _ => Flow::Token,
    }
}

fn explain_number(n: i64, rest: &[&str]) -> Result<IdFlowError, IdFlowError> {
    let row = aadsts::lookup(n);
    let (error, suberror) = match rest {
        [] => (None, None),
        [e] => (Some(*e), None),
        [e, s] => (Some(*e), Some(*s)),
        _ => {
            return Err(invalid(
                "after the number, give at most an error and a suberror",
            ))
        }
    };
    if let Some(w) = [error, suberror]
        .into_iter()
        .flatten()
        .find(|w| !is_oauth_word(w))
    {
        return Err(invalid(format!("{w:?} is not an OAuth error or suberror")));
    }
    match (row, error) {
        (Some(row), None) => Ok(from_row(row)),
        (_, Some(error)) => {
            let mut body = serde_json::json!({
                "error": error,
                "error_description": match row {
                    Some(r) => format!("AADSTS{n}: {}.", r.name),
                    None => format!("AADSTS{n}"),
                },
                "error_codes": [n],
            });
            if let Some(s) = suberror {
                body["suberror"] = serde_json::json!(s);
            }
            let e = from_body(400, body.to_string().into_bytes(), flow_of(error));
            Ok(note_unknown_numbers(e))
        }
        (None, None) => {
            // Nothing but the number: the decision for an answer that carries
            // only it, and a pointer to what would decide better.
            let body = serde_json::json!({
                "error_description": format!("AADSTS{n}"),
                "error_codes": [n],
            });
            let mut e = from_body(400, body.to_string().into_bytes(), Flow::Token);
            e.message = format!(
                "AADSTS{n} is not in idflow's table ({} codes from Microsoft's reference of {}); \
                 without its error and suberror this is the decision for an answer carrying only \
                 the number. Give them (`AADSTS{n} invalid_grant`) or the whole response for a \
                 decision from them.",
                aadsts::AADSTS.len(),
                aadsts::table().source.date
            );
            e.mitigation = UNKNOWN_NUMBER;
            if let Some(s) = e.service.as_mut() {
                // An answer without `error` is not read as OAuth; keep the number anyway.
                s.error_codes = vec![n];
            }
            Ok(e)
        }
    }
}

/// Says so in the message when none of the error's AADSTS numbers is in the table.
fn note_unknown_numbers(mut e: IdFlowError) -> IdFlowError {
    let codes = e.aadsts();
    if !codes.is_empty() && codes.iter().all(|n| aadsts::lookup(*n).is_none()) {
        let list: Vec<String> = codes.iter().map(|n| format!("AADSTS{n}")).collect();
        e.message = format!(
            "{} ({} not in idflow's table; decided from error and suberror)",
            e.message,
            list.join(", ")
        );
    }
    e
}

fn invalid(message: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::InvalidParameter, message)
}

/// The response an AADSTS row usually arrives in.
pub fn sample_response(row: &aadsts::AadstsRow) -> (HttpResponse, Flow) {
    let mut body = serde_json::json!({
        "error": row.error,
        "error_description": format!("AADSTS{}: {}.", row.number, row.name),
        "error_codes": [row.number],
    });
    if let Some(s) = row.suberror {
        body["suberror"] = serde_json::json!(s);
    }
    if row.number == 53000 || row.number == 50079 {
        // The shape Conditional Access uses: a claims challenge to pass on.
        body["claims"] = serde_json::json!(
            r#"{"access_token":{"capolids":{"essential":true,"values":["00000000-0000-0000-0000-000000000000"]}}}"#
        );
    }
    let status = if row.flow == Flow::Authorize || row.flow == Flow::AuthorizePromptNone {
        302
    } else {
        400
    };
    let bytes = if status == 302 {
        format!("error={}&error_description=AADSTS{}", row.error, row.number).into_bytes()
    } else {
        body.to_string().into_bytes()
    };
    (
        HttpResponse::new(
            status,
            vec![("content-type".into(), "application/json".into())],
            bytes,
        ),
        row.flow,
    )
}

fn from_row(row: &aadsts::AadstsRow) -> IdFlowError {
    let (resp, flow) = sample_response(row);
    from_body(resp.status, resp.body, flow)
}

fn from_body(status: u16, body: Vec<u8>, flow: Flow) -> IdFlowError {
    let resp = HttpResponse::new(
        status,
        vec![("content-type".into(), "application/json".into())],
        body,
    );
    let c = classify_at(&resp, flow, SystemTime::UNIX_EPOCH);
    c.error.unwrap_or_else(|| {
        IdFlowError::local(
            LocalCode::InvalidParameter,
            "this body is a success, not an error",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Classification, ErrorKind};

    #[test]
    fn seed_rows() {
        let e = explain("AADSTS50079").unwrap();
        assert_eq!(e.kind, ErrorKind::InteractionRequired);
        assert_eq!(e.action, Action::AcquireInteractively);
        let e = explain("AADSTS65001").unwrap();
        assert_eq!(e.classification, Some(Classification::ConsentRequired));
        let e = explain("AADSTS70002").unwrap();
        assert_eq!(
            (e.kind, e.action),
            (ErrorKind::Service, Action::FixConfiguration)
        );
        let e = explain("90010").unwrap();
        assert_eq!(e.action, Action::FixConfiguration);
        let e = explain("unknown_user").unwrap();
        assert_eq!(e.kind, ErrorKind::Client);
        assert!(explain("").is_err());
        assert!(explain("AADSTS99999999999999999999").is_err());
        assert!(explain("AADSTS50079 Invalid-Grant").is_err());
    }

    #[test]
    fn every_row_explains() {
        for row in crate::error::AADSTS {
            let e = explain(&format!("AADSTS{}", row.number)).unwrap();
            assert_eq!(e.aadsts(), &[row.number], "{}", row.number);
            assert!(!e.mitigation.is_empty());
        }
    }

    /// `idflow explain AADSTS700027` (a client assertion whose signature
    /// failed) used to answer "not an AADSTS number idflow knows".
    #[test]
    fn a_published_number_is_explained() {
        let e = explain("AADSTS700027").expect("explained");
        assert_eq!(
            (e.kind, e.action),
            (ErrorKind::Service, Action::FixConfiguration)
        );
        assert_eq!(e.code, "invalid_client");
        assert!(e.mitigation.contains("assertion"));
    }

    #[test]
    fn an_unknown_number_is_decided_not_refused() {
        let e = explain("AADSTS1").expect("a decision, not a refusal");
        assert_eq!(e.kind, ErrorKind::Service);
        assert_eq!(e.aadsts(), &[1]);
        assert!(e.message.contains("not in idflow's table"), "{}", e.message);
        assert_eq!(e.mitigation, UNKNOWN_NUMBER);
        // With the error (and suberror) it came with, the model's rules decide.
        let e = explain("AADSTS1 invalid_grant basic_action").expect("decided");
        assert_eq!(e.kind, ErrorKind::InteractionRequired);
        assert_eq!(e.classification, Some(Classification::BasicAction));
        assert!(
            e.message.contains("AADSTS1 not in idflow's table"),
            "{}",
            e.message
        );
        let e = explain("aadsts2: invalid_client").expect("decided");
        assert_eq!(
            (e.kind, e.action),
            (ErrorKind::Service, Action::FixConfiguration)
        );
        let e = explain(r#"{"error":"temporarily_unavailable","error_codes":[3]}"#).expect("body");
        assert_eq!(e.action, Action::Retry);
        assert!(e.message.contains("AADSTS3 not in idflow's table"));
        // A known number with another error: that error decides, the row's text explains.
        let e = explain("AADSTS70002 invalid_grant").expect("decided");
        assert_eq!(e.kind, ErrorKind::InteractionRequired);
        assert!(!e.message.contains("not in idflow's table"));
    }
}
