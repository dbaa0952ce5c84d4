//! Error answers in the identity platform's shapes: the JSON body of the token
//! and device-code endpoints (RFC 6749 §5.2 plus `error_codes`, `timestamp`,
//! `trace_id`, `correlation_id`, `error_uri`, and `suberror`/`claims` when they
//! apply), the redirect of the authorize endpoint, and the HTML error page the
//! authorize endpoint shows when it cannot trust the redirect URI.

use crate::wire::reply::{escape, html, json, respond, ReplyCtx};
use axum::response::Response;
use serde_json::{json, Value};

/// One failure, before it is rendered for an endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct AadError {
    pub status: u16,
    pub error: String,
    /// AADSTS numbers; the first one prefixes the description.
    pub codes: Vec<i64>,
    /// The description's text after the `AADSTSnnnn: ` prefix.
    pub message: String,
    pub suberror: Option<String>,
    /// A claims challenge (a JSON string).
    pub claims: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl AadError {
    pub fn new(status: u16, error: &str, code: i64, message: impl Into<String>) -> AadError {
        AadError {
            status,
            error: error.to_owned(),
            codes: vec![code],
            message: message.into(),
            suberror: None,
            claims: None,
            headers: Vec::new(),
        }
    }

    /// 400 with the given error and AADSTS number.
    pub fn bad(error: &str, code: i64, message: impl Into<String>) -> AadError {
        AadError::new(400, error, code, message)
    }

    /// 400 `invalid_request` AADSTS900144: a required parameter is missing.
    pub fn missing(param: &str) -> AadError {
        AadError::bad(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{param}'."),
        )
    }

    /// 400 `invalid_grant` with the given AADSTS number.
    pub fn grant(code: i64, message: impl Into<String>) -> AadError {
        AadError::bad("invalid_grant", code, message)
    }

    /// 401 `invalid_client` with the given AADSTS number.
    pub fn client(code: i64, message: impl Into<String>) -> AadError {
        AadError::new(401, "invalid_client", code, message)
    }

    pub fn with_suberror(mut self, suberror: &str) -> AadError {
        self.suberror = Some(suberror.to_owned());
        self
    }

    /// The same failure under another OAuth `error` (e.g. the authorize
    /// endpoint's `consent_required` for the token endpoint's `invalid_grant`).
    pub fn with_error(mut self, error: &str) -> AadError {
        self.error = error.to_owned();
        self
    }

    /// `AADSTSnnnn: message`, without the trace lines.
    pub fn short_description(&self) -> String {
        match self.codes.first() {
            Some(code) if !self.message.starts_with("AADSTS") => {
                format!("AADSTS{code}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }

    /// The full description, with the trace, correlation and timestamp lines
    /// the platform appends.
    pub fn description(&self, ctx: &ReplyCtx) -> String {
        format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.short_description(),
            ctx.trace_id,
            ctx.correlation_id,
            ctx.timestamp
        )
    }

    /// The JSON body.
    pub fn body(&self, ctx: &ReplyCtx) -> Value {
        let mut body = json!({
            "error": self.error,
            "error_description": self.description(ctx),
            "error_codes": self.codes,
            "timestamp": ctx.timestamp,
            "trace_id": ctx.trace_id,
            "correlation_id": ctx.correlation_id,
        });
        if let Some(code) = self.codes.first() {
            body["error_uri"] = json!(format!("{}/error?code={code}", ctx.base_url));
        }
        if let Some(s) = &self.suberror {
            body["suberror"] = json!(s);
        }
        if let Some(c) = &self.claims {
            body["claims"] = json!(c);
        }
        body
    }

    /// The token-endpoint answer: JSON with the status.
    pub fn into_response(self, ctx: &ReplyCtx) -> Response {
        let mut resp = json(self.status, ctx, &self.body(ctx));
        append_headers(&mut resp, &self.headers);
        resp
    }

    /// The authorize answer: a redirect carrying the error (query or fragment,
    /// as the request's `response_mode` asked), or for `form_post` a page that
    /// posts it.
    pub fn redirect(
        &self,
        ctx: &ReplyCtx,
        redirect_uri: &str,
        state: Option<&str>,
        mode: &str,
    ) -> Response {
        let mut pairs: Vec<(&str, String)> = vec![
            ("error", self.error.clone()),
            ("error_description", self.description(ctx)),
        ];
        if let Some(code) = self.codes.first() {
            pairs.push(("error_uri", format!("{}/error?code={code}", ctx.base_url)));
        }
        if let Some(s) = &self.suberror {
            pairs.push(("suberror", s.clone()));
        }
        if let Some(c) = &self.claims {
            pairs.push(("claims", c.clone()));
        }
        if let Some(s) = state {
            pairs.push(("state", s.to_owned()));
        }
        redirect_with(ctx, redirect_uri, &pairs, mode)
    }

    /// The page shown when the request cannot be redirected (unknown client,
    /// unregistered redirect URI): the platform does not send errors to an
    /// untrusted redirect URI.
    pub fn error_page(&self, ctx: &ReplyCtx) -> Response {
        let page = format!(
            "<!DOCTYPE html><html><head><title>Sign in - error</title></head><body>\
             <h1>Sorry, but we're having trouble signing you in.</h1>\
             <p id=\"error\">{}</p><p id=\"error_description\">{}</p>\
             <p>Request Id: {}<br>Correlation Id: {}<br>Timestamp: {}</p></body></html>",
            escape(&self.error),
            escape(&self.short_description()),
            escape(&ctx.trace_id),
            escape(&ctx.correlation_id),
            escape(&ctx.timestamp)
        );
        html(self.status, ctx, page)
    }
}

/// A redirect to `redirect_uri` with `pairs` in the query (default), the
/// fragment, or a self-posting form (`form_post`).
pub fn redirect_with(
    ctx: &ReplyCtx,
    redirect_uri: &str,
    pairs: &[(&str, String)],
    mode: &str,
) -> Response {
    if mode == "form_post" {
        let inputs: String = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                    escape(k),
                    escape(v)
                )
            })
            .collect();
        let page = format!(
            "<!DOCTYPE html><html><body onload=\"document.forms[0].submit()\">\
             <form method=\"POST\" action=\"{}\">{inputs}<noscript><button>Continue</button>\
             </noscript></form></body></html>",
            escape(redirect_uri)
        );
        return html(200, ctx, page);
    }
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let location = match mode {
        "fragment" => format!("{}#{encoded}", redirect_uri.split('#').next().unwrap_or("")),
        _ => {
            let base = redirect_uri.split('#').next().unwrap_or("");
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}{encoded}")
        }
    };
    let mut h = ctx.platform_headers();
    h.push(("location".into(), location));
    respond(302, h, "")
}

fn append_headers(resp: &mut Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;
    use std::time::UNIX_EPOCH;

    fn ctx() -> ReplyCtx {
        ReplyCtx::new("http://127.0.0.1:1", &HeaderMap::new(), None, UNIX_EPOCH)
    }

    #[test]
    fn body_has_the_platform_fields() {
        let e = AadError::grant(70008, "The refresh token has expired.").with_suberror("bad_token");
        let b = e.body(&ctx());
        assert_eq!(b["error_codes"], json!([70008]));
        assert_eq!(b["suberror"], "bad_token");
        assert_eq!(b["timestamp"], "1970-01-01 00:00:00Z");
        assert_eq!(b["error_uri"], "http://127.0.0.1:1/error?code=70008");
        let d = b["error_description"].as_str().unwrap();
        assert!(d.starts_with("AADSTS70008: The refresh token"));
        assert!(d.contains("\r\nTrace ID: ") && d.contains("\r\nCorrelation ID: "));
    }

    #[test]
    fn redirects_keep_existing_query() {
        let e = AadError::bad("access_denied", 65004, "declined");
        let r = e.redirect(
            &ctx(),
            "http://localhost:1/cb?x=1#frag",
            Some("s t"),
            "query",
        );
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.starts_with("http://localhost:1/cb?x=1&error=access_denied&"));
        assert!(loc.ends_with("state=s+t"));
        let r = e.redirect(&ctx(), "http://localhost:1/cb", None, "fragment");
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/cb#error="));
        assert_eq!(
            e.redirect(&ctx(), "http://x", None, "form_post").status(),
            200
        );
    }
}
