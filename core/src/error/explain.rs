//! `explain`: the decision for an AADSTS number, an error code, or an error
//! body, without a live request.

use crate::error::{aadsts, classify_at, Flow, HttpResponse, IdFlowError, LocalCode, AADSTS};
use std::time::SystemTime;

/// Explains `query`: `AADSTS50079` (or `50079`), an idflow code
/// (`state_mismatch`), an OAuth error (`invalid_grant`), or an error body
/// (`{"error": ...}`), as a token-endpoint answer unless the code belongs to
/// another flow. Fails with `invalid_parameter` for an AADSTS number idflow
/// does not know or an empty query.
pub fn explain(query: &str) -> Result<IdFlowError, IdFlowError> {
    let q = query.trim();
    if q.starts_with('{') {
        return Ok(from_body(400, q.as_bytes().to_vec(), Flow::Token));
    }
    let digits = q
        .strip_prefix("AADSTS")
        .or_else(|| q.strip_prefix("aadsts"))
        .unwrap_or(q);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = digits.parse().map_err(|_| unknown(q))?;
        let row = aadsts::lookup(n).ok_or_else(|| unknown(q))?;
        return Ok(from_row(row));
    }
    if let Some(code) = LocalCode::parse(q) {
        return Ok(IdFlowError::local(
            code,
            format!("{q} (explained without a request)"),
        ));
    }
    if !q.is_empty() && q.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        let flow = match q {
            "authorization_pending"
            | "slow_down"
            | "expired_token"
            | "authorization_declined"
            | "bad_verification_code" => Flow::DeviceCode,
            _ => Flow::Token,
        };
        let body = serde_json::json!({ "error": q }).to_string();
        return Ok(from_body(400, body.into_bytes(), flow));
    }
    Err(IdFlowError::local(
        crate::LocalCode::InvalidParameter,
        "expected an AADSTS number, an error code, or a JSON error body",
    ))
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

fn unknown(q: &str) -> IdFlowError {
    let known: Vec<String> = AADSTS.iter().map(|r| r.number.to_string()).collect();
    IdFlowError::local(
        LocalCode::InvalidParameter,
        format!(
            "{q} is not an AADSTS number idflow knows (it knows {}); explain the whole response with --response instead",
            known.join(", ")
        ),
    )
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
        assert!(explain("AADSTS1").is_err());
        assert!(explain("").is_err());
    }

    #[test]
    fn every_row_explains() {
        for row in AADSTS {
            let e = explain(&format!("AADSTS{}", row.number)).unwrap();
            assert_eq!(e.aadsts(), &[row.number], "{}", row.number);
            assert!(!e.mitigation.is_empty());
        }
    }
}
