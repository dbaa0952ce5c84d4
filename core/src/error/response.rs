//! Reading an HTTP response from an identity provider into RFC 6749 §5.2
//! shapes, defensively: any body (HTML, truncated, huge, wrong types, invalid
//! UTF-8) yields a value, never a panic.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// At most this many bytes of a body are read when looking for an error.
/// Real error bodies are a few KiB; anything larger is not an OAuth error.
pub const MAX_ERROR_BODY_BYTES: usize = 256 * 1024;

/// Keys whose values are secrets; they are never kept from a body.
const SECRET_KEYS: [&str; 5] = [
    "access_token",
    "refresh_token",
    "id_token",
    "device_code",
    "code",
];

/// An HTTP response as received (headers in arrival order).
///
/// A success body holds tokens and `Set-Cookie` may hold a session: `Debug`
/// shows the status, the headers with cookies and credentials redacted, and
/// the body's length only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = [
                    "set-cookie",
                    "cookie",
                    "authorization",
                    "proxy-authorization",
                ]
                .iter()
                .any(|c| n.eq_ignore_ascii_case(c));
                (n.as_str(), if secret { "[redacted]" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            headers,
            body: body.into(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// An OAuth error body (RFC 6749 §5.2 plus the Microsoft identity platform's fields).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: Option<String>,
    pub error_codes: Vec<i64>,
    pub suberror: Option<String>,
    pub claims: Option<String>,
    pub correlation_id: Option<String>,
    pub trace_id: Option<String>,
    pub timestamp: Option<String>,
    pub error_uri: Option<String>,
    /// The object as sent, minus secret-bearing keys.
    pub raw: Map<String, Value>,
}

/// What a body turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Nothing at all (or only whitespace).
    Empty,
    /// A JSON object with a string `error`.
    OAuthError(Box<OAuthErrorBody>),
    /// A JSON object without an `error` (a token response, or junk).
    Object(Map<String, Value>),
    /// Not a JSON object: HTML, text, a JSON array, truncated JSON, or too large.
    Unreadable(Unreadable),
}

/// Why a body could not be read, for the error message (never the body itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    TooLarge,
    NotJson,
    NotAnObject,
}

/// Reads a body as a JSON object, or for authorize redirects as a query string
/// / URL (`?error=...&error_description=...`).
pub fn read_body(body: &[u8], form_encoded: bool) -> Body {
    read_body_checked(body, form_encoded).0
}

/// [`read_body`], and whether the body was UTF-8 as sent (not repaired;
/// `false` for a body over the cap, which is not read): the classifier
/// takes a token only from such a body, and need not check it again.
pub(crate) fn read_body_checked(body: &[u8], form_encoded: bool) -> (Body, bool) {
    if body.len() > MAX_ERROR_BODY_BYTES {
        return (Body::Unreadable(Unreadable::TooLarge), false);
    }
    let text = text_lossy(body);
    let utf8 = matches!(text, Cow::Borrowed(_));
    (parse_text(&text, form_encoded), utf8)
}

/// Bytes as text: borrowed when they are UTF-8 (`str`'s own check, which
/// runs through ASCII a word at a time), with replacement characters
/// otherwise. For bodies and header values, read on every answer.
pub(crate) fn text_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn parse_text(text: &str, form_encoded: bool) -> Body {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Body::Empty;
    }
    let object = if form_encoded && !trimmed.starts_with('{') {
        Some(parse_form(trimmed))
    } else {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Object(map)) => Some(map),
            Ok(_) => return Body::Unreadable(Unreadable::NotAnObject),
            Err(_) => None,
        }
    };
    match object {
        None => Body::Unreadable(Unreadable::NotJson),
        Some(map) => match parse_error_object(&map) {
            Some(e) => Body::OAuthError(Box::new(e)),
            None => Body::Object(map),
        },
    }
}

/// Parses an error body; `None` when it is not a JSON object with a string `error`.
pub fn parse_error_body(body: &[u8]) -> Option<OAuthErrorBody> {
    match read_body(body, false) {
        Body::OAuthError(e) => Some(*e),
        _ => None,
    }
}

fn parse_error_object(map: &Map<String, Value>) -> Option<OAuthErrorBody> {
    let error = map.get("error")?.as_str()?.trim();
    if error.is_empty() {
        return None;
    }
    Some(fields_of(map, error))
}

/// The Microsoft identity platform's error fields of a JSON object that has
/// no usable `error` (`error` is left empty). MSAL.NET reads `claims`,
/// `correlation_id`, `suberror` and `error_codes` from any body that parses,
/// whatever code the failure gets (AzureAD/microsoft-authentication-library-for-dotnet
/// src/client/Microsoft.Identity.Client/MsalServiceExceptionFactory.cs, `FromHttpResponse`).
pub fn error_fields(map: &Map<String, Value>) -> OAuthErrorBody {
    fields_of(map, "")
}

fn fields_of(map: &Map<String, Value>, error: &str) -> OAuthErrorBody {
    let text = |k: &str| -> Option<String> {
        match map.get(k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    };
    let error_description = text("error_description");
    let mut error_codes = match map.get("error_codes") {
        Some(Value::Array(items)) => items.iter().filter_map(as_code).collect(),
        Some(single) => as_code(single).into_iter().collect(),
        None => Vec::new(),
    };
    if error_codes.is_empty() {
        error_codes.extend(error_description.as_deref().and_then(leading_aadsts));
    }
    let claims = match map.get("claims") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v @ Value::Object(_)) => Some(v.to_string()),
        _ => None,
    };
    let mut raw = map.clone();
    for k in SECRET_KEYS {
        raw.remove(k);
    }
    OAuthErrorBody {
        error: error.to_owned(),
        error_description,
        error_codes,
        suberror: text("suberror"),
        claims,
        correlation_id: text("correlation_id"),
        trace_id: text("trace_id"),
        timestamp: text("timestamp"),
        error_uri: text("error_uri"),
        raw,
    }
}

/// AADSTS numbers arrive as JSON numbers (msal4j) or strings (MSAL.NET reads them so).
fn as_code(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|n| *n >= 0),
        Value::String(s) => s.trim().trim_start_matches("AADSTS").parse().ok(),
        _ => None,
    }
}

/// `AADSTS50079: ...` → 50079.
pub fn leading_aadsts(description: &str) -> Option<i64> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    digits.parse().ok()
}

/// A query string, fragment or whole redirect URL, into a flat object.
fn parse_form(s: &str) -> Map<String, Value> {
    let query = match s.find(['?', '#']) {
        Some(i) if s.contains("://") || i == 0 => &s[i + 1..],
        _ => s,
    };
    let mut map = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(percent_decode(k))
            .or_insert(Value::String(percent_decode(v)));
    }
    map
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_the_body_nor_cookies() {
        let r = HttpResponse::new(
            200,
            vec![
                ("Set-Cookie".into(), "esctx=SESSION-SECRET".into()),
                ("client-request-id".into(), "c-1".into()),
            ],
            br#"{"access_token":"AT-SECRET"}"#.to_vec(),
        );
        let shown = format!("{r:?}");
        assert!(!shown.contains("SESSION-SECRET"), "{shown}");
        assert!(
            !shown.contains("AT-SECRET") && !shown.contains("123, 34"),
            "{shown}"
        );
        assert!(
            shown.contains("c-1") && shown.contains("body_bytes: 28"),
            "{shown}"
        );
    }

    #[test]
    fn reads_wrong_types_leniently() {
        let b = br#"{"error":"invalid_grant","error_codes":"50079","suberror":7,"claims":{"a":1},"access_token":"secret"}"#;
        let e = parse_error_body(b).unwrap();
        assert_eq!(e.error_codes, vec![50079]);
        assert_eq!(e.suberror, None);
        assert_eq!(e.claims.as_deref(), Some(r#"{"a":1}"#));
        assert!(!e.raw.contains_key("access_token"));
    }

    #[test]
    fn error_must_be_a_string() {
        assert!(parse_error_body(br#"{"error":42}"#).is_none());
        assert!(parse_error_body(br#"{"error":""}"#).is_none());
        assert!(parse_error_body(b"[1,2]").is_none());
    }

    #[test]
    fn aadsts_from_description() {
        assert_eq!(
            leading_aadsts("AADSTS50079: Due to a configuration change"),
            Some(50079)
        );
        assert_eq!(leading_aadsts("no code"), None);
        assert_eq!(
            leading_aadsts("AADSTS99999999999999999999"),
            Some(999999999)
        );
    }

    #[test]
    fn unreadable_bodies() {
        assert_eq!(
            read_body(b"<html>oops</html>", false),
            Body::Unreadable(Unreadable::NotJson)
        );
        assert_eq!(read_body(b"  \n", false), Body::Empty);
        assert_eq!(
            read_body(br#"{"error":"#, false),
            Body::Unreadable(Unreadable::NotJson)
        );
        assert_eq!(
            read_body(&[0xff, 0xfe, b'{'], false),
            Body::Unreadable(Unreadable::NotJson)
        );
        let big = vec![b' '; MAX_ERROR_BODY_BYTES + 1];
        assert_eq!(
            read_body(&big, false),
            Body::Unreadable(Unreadable::TooLarge)
        );
    }

    #[test]
    fn redirect_urls_and_queries() {
        let b = read_body(b"http://localhost:1234/cb?error=access_denied&error_description=AADSTS65004%3A+declined&state=x", true);
        match b {
            Body::OAuthError(e) => {
                assert_eq!(e.error, "access_denied");
                assert_eq!(
                    e.error_description.as_deref(),
                    Some("AADSTS65004: declined")
                );
                assert_eq!(e.error_codes, vec![65004]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_body(b"code=abc&state=s", true),
            Body::Object(_)
        ));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
