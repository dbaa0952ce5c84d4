//! Answers in the platform's shape: the identifiers every answer carries,
//! its headers, and JSON or HTML bodies.

use crate::clock::aad_timestamp;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::time::SystemTime;

/// Per-request identifiers every answer carries.
#[derive(Clone, Debug)]
pub struct ReplyCtx {
    pub base_url: String,
    pub trace_id: String,
    /// The request's `client-request-id` when it sent a usable one, else a new id.
    pub correlation_id: String,
    /// Whether the request asked for `client-request-id` back (`return-client-request-id: true`).
    pub return_correlation: bool,
    pub timestamp: String,
}

impl ReplyCtx {
    /// `query_correlation` is the `client-request-id` query parameter: browser
    /// requests to `/authorize` carry the id there, not in a header.
    pub fn new(
        base_url: &str,
        headers: &HeaderMap,
        query_correlation: Option<&str>,
        now: SystemTime,
    ) -> ReplyCtx {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let correlation_id = header("client-request-id")
            .or(query_correlation.map(str::trim))
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        ReplyCtx {
            base_url: base_url.to_owned(),
            trace_id: uuid::Uuid::new_v4().to_string(),
            correlation_id,
            return_correlation: header("return-client-request-id")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            timestamp: aad_timestamp(now),
        }
    }

    /// The headers the platform puts on its answers.
    pub fn platform_headers(&self) -> Vec<(String, String)> {
        let mut h = vec![
            ("cache-control".to_owned(), "no-store, no-cache".to_owned()),
            ("pragma".to_owned(), "no-cache".to_owned()),
            ("x-ms-request-id".to_owned(), self.trace_id.clone()),
            ("x-ms-ests-server".to_owned(), "idflow-emulator".to_owned()),
        ];
        if self.return_correlation {
            h.push(("client-request-id".to_owned(), self.correlation_id.clone()));
        }
        h
    }
}

/// Builds a response; header names or values that are not valid HTTP are
/// skipped rather than failing the answer.
pub fn respond(status: u16, headers: Vec<(String, String)>, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// A JSON answer with the platform's headers.
pub fn json(status: u16, ctx: &ReplyCtx, body: &serde_json::Value) -> Response {
    let mut h = ctx.platform_headers();
    h.push((
        "content-type".into(),
        "application/json; charset=utf-8".into(),
    ));
    respond(status, h, body.to_string())
}

/// An HTML page with the platform's headers.
pub fn html(status: u16, ctx: &ReplyCtx, page: String) -> Response {
    let mut h = ctx.platform_headers();
    h.push(("content-type".into(), "text/html; charset=utf-8".into()));
    respond(status, h, page)
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
