//! Applying a fault rule's effect to a request: the failure answers, the
//! delays, and the dropped or reset connections.

use crate::clock::Clock;
use crate::faults::bodies::{FillerBody, ResetBody};
use crate::faults::rules::{Effect, RetryAfter, StatusBody, MAX_DELAY_MS};
use crate::wire::aad_error::AadError;
use crate::wire::reply::{json, respond};
use crate::wire::request::{Endpoint, Req};
use axum::body::Body;
use axum::response::Response;
use std::time::Duration;

/// What applying an effect leads to.
pub enum Applied {
    /// Answer with this.
    Respond(Response),
    /// Carry on with the normal answer (after a delay).
    PassThrough,
    /// The connection has been told to close; never answer.
    Dropped,
    /// Carry on with the normal answer, less these members of its JSON body.
    StripMembers(&'static [&'static str]),
}

/// The members [`Effect::StripAccountInfo`] takes out of a token answer.
pub const ACCOUNT_INFO_MEMBERS: &[&str] = &["id_token", "client_info"];

/// `response` without `members` when it is a successful JSON object
/// answer; anything else is returned as it was (headers kept, the length
/// recomputed).
pub async fn strip_members(response: Response, members: &[&str]) -> Response {
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let stripped = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            for m in members {
                map.remove(*m);
            }
            serde_json::to_vec(&map).ok()
        }
        _ => None,
    };
    match stripped {
        Some(body) => {
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Applies `effect` to `req`. `clock` dates `Retry-After`; a token response
/// without an access token says `access_token_lifetime_secs` in `expires_in`.
pub async fn apply(
    effect: &Effect,
    req: &Req,
    clock: &Clock,
    access_token_lifetime_secs: u64,
) -> Applied {
    let ctx = &req.ctx;
    let retry_headers = |r: &Option<RetryAfter>| -> Vec<(String, String)> {
        match r {
            None => Vec::new(),
            Some(RetryAfter {
                seconds,
                http_date: false,
            }) => {
                vec![("retry-after".into(), seconds.to_string())]
            }
            Some(RetryAfter {
                seconds,
                http_date: true,
            }) => {
                let now = clock.now();
                let at = now + Duration::from_secs((*seconds).min(10 * 365 * 86_400));
                vec![
                    ("date".into(), crate::clock::http_date(now)),
                    ("retry-after".into(), crate::clock::http_date(at)),
                ]
            }
        }
    };
    let with_platform = |mut extra: Vec<(String, String)>| {
        let mut h = ctx.platform_headers();
        h.append(&mut extra);
        h
    };
    let typed = |content_type: &str| {
        with_platform(vec![("content-type".to_owned(), content_type.to_owned())])
    };
    let response = match effect {
        Effect::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis((*ms).min(MAX_DELAY_MS))).await;
            return Applied::PassThrough;
        }
        Effect::NoAnswer { ms } => {
            tokio::time::sleep(Duration::from_millis((*ms).min(MAX_DELAY_MS))).await;
            match &req.conn {
                Some(conn) => {
                    conn.drop_connection();
                    return Applied::Dropped;
                }
                None => respond(504, Vec::new(), Body::empty()),
            }
        }
        Effect::DropConnection => match &req.conn {
            Some(conn) => {
                conn.drop_connection();
                return Applied::Dropped;
            }
            // Not served by the emulator's own loop: the closest it can do.
            None => respond(500, Vec::new(), Body::empty()),
        },
        Effect::OauthError {
            error,
            error_description,
            error_codes,
            suberror,
            claims,
            status,
            retry_after,
        } => {
            let mut codes = error_codes.clone();
            if codes.is_empty() {
                codes.extend(
                    error_description
                        .as_deref()
                        .and_then(idflow::error::leading_aadsts),
                );
            }
            // Just a number: its usual error and suberror, from the table.
            let row = super::rules::table_row(&codes, None).filter(|_| error.trim().is_empty());
            let error = row.map_or_else(|| error.clone(), |r| r.error.to_owned());
            let suberror = suberror
                .clone()
                .or_else(|| row.and_then(|r| r.suberror).map(str::to_owned));
            let message = error_description.clone().unwrap_or_else(|| {
                codes
                    .first()
                    .and_then(|n| idflow::error::aadsts::lookup(*n))
                    .map_or_else(
                        || format!("{error} (injected by the emulator)."),
                        |r| format!("{}.", r.name),
                    )
            });
            let e = AadError {
                status: *status,
                error: error.clone(),
                codes,
                message,
                suberror: suberror.clone(),
                claims: claims.clone(),
                headers: retry_headers(retry_after),
            };
            if req.endpoint == Endpoint::Authorize {
                if let Some(uri) = req
                    .query
                    .get("redirect_uri")
                    .filter(|u| url::Url::parse(u).is_ok())
                {
                    let mode = req.query.get("response_mode").unwrap_or("query");
                    return Applied::Respond(e.redirect(ctx, uri, req.query.get("state"), mode));
                }
            }
            e.into_response(ctx)
        }
        Effect::Status {
            status,
            retry_after,
            body,
        } => {
            let (ctype, text) = match body {
                StatusBody::Empty => (None, String::new()),
                StatusBody::Html => (Some("text/html; charset=utf-8"), html_page(*status)),
                StatusBody::Text => (Some("text/plain"), format!("HTTP {status}")),
            };
            let mut extra = retry_headers(retry_after);
            extra.extend(ctype.map(|c| ("content-type".to_owned(), c.to_owned())));
            respond(*status, with_platform(extra), text)
        }
        Effect::MalformedJson { status } => respond(
            *status,
            typed("application/json; charset=utf-8"),
            r#"{"error":"invalid_grant","error_description":"AADSTS70000: The provided gr"#,
        ),
        Effect::HtmlPage { status } => respond(
            *status,
            typed("text/html; charset=utf-8"),
            html_page(*status),
        ),
        Effect::EmptyBody { status } => respond(*status, with_platform(Vec::new()), Body::empty()),
        Effect::OversizedBody { bytes, status } => respond(
            *status,
            typed("application/json; charset=utf-8"),
            Body::new(FillerBody::new(*bytes)),
        ),
        Effect::ResetMidBody { status } => respond(
            *status,
            typed("application/json; charset=utf-8"),
            Body::new(ResetBody::new(req.conn.clone())),
        ),
        Effect::MissingAccessToken => {
            let secs = access_token_lifetime_secs;
            json(
                200,
                ctx,
                &serde_json::json!({
                    "token_type": "Bearer",
                    "scope": req.params().get("scope").unwrap_or(""),
                    "expires_in": secs,
                    "ext_expires_in": secs,
                }),
            )
        }
        Effect::StripAccountInfo => return Applied::StripMembers(ACCOUNT_INFO_MEMBERS),
        Effect::InvalidUtf8 { status } => {
            let mut body =
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ0eXAiOiJKV1Qi"#
                    .to_vec();
            // A lone continuation byte and an overlong encoding: never UTF-8.
            body.extend_from_slice(&[0x80, 0xC0, 0xAF, 0xFF]);
            body.extend_from_slice(br#"fQ.e30.c2ln"}"#);
            respond(*status, typed("application/json; charset=utf-8"), body)
        }
        Effect::WrongJsonTypes => json(
            200,
            ctx,
            &serde_json::json!({
                "token_type": ["Bearer"],
                "scope": 42,
                "expires_in": {"seconds": 3600},
                "ext_expires_in": true,
                "access_token": "eyJ0eXAiOiJKV1QifQ.e30.c2ln",
                "refresh_token": 7,
            }),
        ),
        Effect::Raw {
            status,
            headers,
            body,
        } => respond(*status, headers.clone(), body.clone()),
        Effect::RequireClaims {
            claims,
            error,
            error_codes,
            status,
        } => {
            let sent = req
                .params()
                .get("claims")
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok());
            let wanted = serde_json::from_str::<serde_json::Value>(claims).ok();
            if let (Some(sent), Some(wanted)) = (&sent, &wanted) {
                if contains(sent, wanted) {
                    return Applied::PassThrough;
                }
            }
            let e = AadError {
                status: *status,
                error: error.clone(),
                codes: error_codes.clone(),
                message: error_codes
                    .first()
                    .and_then(|n| idflow::error::aadsts::lookup(*n))
                    .map_or_else(
                        || {
                            "The resource requires more claims (injected by the emulator)."
                                .to_owned()
                        },
                        |r| format!("{}.", r.name),
                    ),
                suberror: None,
                claims: Some(claims.clone()),
                headers: Vec::new(),
            };
            e.into_response(ctx)
        }
    };
    Applied::Respond(response)
}

/// Whether `have` holds every member of `want`: objects member by member,
/// arrays as sets (every wanted element somewhere in `have`), scalars equal.
pub fn contains(have: &serde_json::Value, want: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => {
            w.iter().all(|wv| h.iter().any(|hv| contains(hv, wv)))
        }
        (h, w) => h == w,
    }
}

fn html_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{status} Service Unavailable</title></head>\
         <body><h1>The service is temporarily unavailable</h1>\
         <p>HTTP {status} from a front-end server. Please try again later.</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::{contains, strip_members, ACCOUNT_INFO_MEMBERS};
    use axum::body::Body;
    use axum::response::Response;
    use serde_json::json;

    async fn body_of(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn strips_account_info_from_a_token_answer_only() {
        let answer = json!({"access_token": "a", "refresh_token": "r", "id_token": "i",
                            "client_info": "c", "expires_in": 3600});
        let ok = Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("content-length", answer.to_string().len())
            .body(Body::from(answer.to_string()))
            .unwrap();
        let r = strip_members(ok, ACCOUNT_INFO_MEMBERS).await;
        assert!(r.headers().get("content-length").is_none());
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            body_of(r).await,
            json!({"access_token": "a", "refresh_token": "r", "expires_in": 3600})
        );
        let error = json!({"error": "invalid_grant", "id_token": "kept"});
        let bad = Response::builder()
            .status(400)
            .body(Body::from(error.to_string()))
            .unwrap();
        assert_eq!(
            body_of(strip_members(bad, ACCOUNT_INFO_MEMBERS).await).await,
            error
        );
    }

    #[test]
    fn deep_subset() {
        let sent = json!({"access_token": {"xms_cc": {"values": ["cp1", "llt"]},
                          "acrs": {"essential": true, "value": "c1"}}});
        assert!(contains(&sent, &json!({})));
        assert!(contains(
            &sent,
            &json!({"access_token": {"acrs": {"value": "c1"}}})
        ));
        assert!(contains(
            &sent,
            &json!({"access_token": {"xms_cc": {"values": ["llt"]}}})
        ));
        assert!(!contains(
            &sent,
            &json!({"access_token": {"acrs": {"value": "c2"}}})
        ));
        assert!(!contains(&sent, &json!({"id_token": {}})));
        assert!(!contains(&json!("x"), &json!({"a": 1})));
    }
}
