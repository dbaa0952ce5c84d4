//! The HTTP boundary: one object-safe trait, [`HttpClient`], between the flows
//! and the network.
//!
//! The flows build an [`HttpRequest`] (with the standard headers and a fresh
//! `client-request-id`) and get back either an
//! [`HttpResponse`] — any status, any body; the
//! classifier decides what it means — or a [`TransportError`] saying which
//! kind of transport failure happened. An implementation must not follow
//! redirects, must not retry, and should cap the body it reads (see
//! [`crate::net::transport::ReqwestHttpClient`], the default).

use crate::error::{HttpResponse, IdFlowError, NetworkKind};
use std::future::Future;
use std::pin::Pin;
use url::Url;

/// A boxed, sendable future: what the injectable traits return, so that they
/// stay object-safe (`Arc<dyn HttpClient>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The two methods the identity flows use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

/// One request. Form values and the `Authorization` header hold secrets
/// (codes, refresh tokens, client secrets, passwords): `Debug` shows the form's
/// keys only and redacts credentials.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: Url,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    /// Sent as `application/x-www-form-urlencoded` when non-empty (POST only).
    pub form: Vec<(String, String)>,
}

impl HttpRequest {
    pub fn get(url: Url) -> Self {
        HttpRequest {
            method: Method::Get,
            url,
            headers: Vec::new(),
            form: Vec::new(),
        }
    }

    pub fn post_form(url: Url, form: Vec<(String, String)>) -> Self {
        HttpRequest {
            method: Method::Post,
            url,
            headers: Vec::new(),
            form,
        }
    }

    /// Adds a header (name lower-cased), replacing one of the same name.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set_lowercase_header(name.to_ascii_lowercase(), value.into());
        self
    }

    /// Sets a header whose name is lower-case already (the sender's
    /// standard headers, on every request: no copy of the name), replacing
    /// one of that name.
    pub(crate) fn set_lowercase_header(&mut self, name: String, value: String) {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A form parameter's value (tests and the flows use it; never log it).
    pub fn form_value(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `client-request-id` this request carries, if any.
    pub fn correlation_id(&self) -> Option<&str> {
        self.header(CLIENT_REQUEST_ID)
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let shown = if is_credential_header(n) {
                    "[redacted]"
                } else {
                    v.as_str()
                };
                (n.as_str(), shown)
            })
            .collect();
        let mut url = self.url.clone();
        url.set_query(self.url.query().map(|_| "[redacted]"));
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &url.as_str())
            .field("headers", &headers)
            .field(
                "form_keys",
                &self
                    .form
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Whether a header's value is a credential (any case): shown as
/// `[redacted]` wherever a header is printed.
pub fn is_credential_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "cookie" | "proxy-authorization"
            // The managed identity endpoints' secrets (App Service, Service
            // Fabric, Azure Machine Learning).
            | "x-identity-header" | "secret"
    )
}

/// The request never got an HTTP answer. `detail` is safe to log (it never
/// holds the request body).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct TransportError {
    pub kind: NetworkKind,
    pub detail: String,
}

impl TransportError {
    pub fn new(kind: NetworkKind, detail: impl Into<String>) -> Self {
        TransportError {
            kind,
            detail: detail.into(),
        }
    }

    /// The classified error the flows return for it.
    pub fn into_error(self) -> IdFlowError {
        IdFlowError::network(self.kind, self.detail)
    }
}

/// `?` from a transport failure to the classified error.
impl From<TransportError> for IdFlowError {
    fn from(e: TransportError) -> Self {
        e.into_error()
    }
}

/// Sends one request and returns the raw answer.
///
/// Implement it to route idflow's traffic through an app's own HTTP stack, or
/// to script answers in tests. Rules: any HTTP status is an `Ok` (the
/// classifier interprets it); only a missing answer is an `Err`; do not
/// follow redirects or retry; read at most a bounded body.
pub trait HttpClient: Send + Sync + std::fmt::Debug {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>>;

    /// [`send`](Self::send) for a request the caller keeps (to send it again
    /// on a retry). The default sends a copy; a client that only reads the
    /// request (the default transport) overrides it and copies nothing.
    fn send_ref<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        self.send(request.clone())
    }
}

/// Header carrying the per-request correlation id.
pub const CLIENT_REQUEST_ID: &str = "client-request-id";

/// What every idflow request says about itself (MSAL sends the same set): the
/// correlation id and the request to echo it, the ability to honour
/// Retry-After and HTTP 429, and the library's name and version. Each
/// replaces a header of that name the request already has; written straight
/// into the request's list, since this runs for every request.
pub(crate) fn add_standard_headers(
    request: &mut HttpRequest,
    correlation_id: &str,
    sku: &str,
    version: &str,
) {
    let headers = [
        (CLIENT_REQUEST_ID, correlation_id),
        ("return-client-request-id", "true"),
        ("x-ms-lib-capability", "retry-after, h429"),
        ("x-client-sku", sku),
        ("x-client-ver", version),
        ("x-client-os", std::env::consts::OS),
    ];
    request.headers.reserve(headers.len());
    for (name, value) in headers {
        if request.headers.iter().any(|(n, _)| n == name) {
            request.set_lowercase_header(name.to_owned(), value.to_owned());
        } else {
            request.headers.push((name.to_owned(), value.to_owned()));
        }
    }
}

/// A fresh correlation id (a random UUID), one per request.
pub fn new_correlation_id() -> String {
    // The random bits from AWS-LC's generator (in process, reseeded by it
    // from the system), where `Uuid::new_v4` makes a `getrandom` system call
    // per id; the system's own source if that ever fails. Encoded straight
    // into its 36 bytes (no formatter): this runs once per request.
    let mut bytes = [0u8; 16];
    let id = match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => uuid::Builder::from_random_bytes(bytes).into_uuid(),
        Err(_) => uuid::Uuid::new_v4(),
    };
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_form_values_credentials_and_queries() {
        let url = Url::parse("https://login.example/t/oauth2/v2.0/token?x=secret-q").unwrap();
        let req =
            HttpRequest::post_form(url, vec![("client_secret".into(), "s3cr3t-value".into())])
                .with_header("Authorization", "Basic c2VjcmV0")
                .with_header("client-request-id", "abc");
        let shown = format!("{req:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(!shown.contains("secret-q"), "{shown}");
        assert!(shown.contains("client_secret"));
        assert_eq!(req.correlation_id(), Some("abc"));
    }

    #[test]
    fn standard_headers_carry_the_correlation_id() {
        let url = Url::parse("https://login.example/t/oauth2/v2.0/token").unwrap();
        let mut req = HttpRequest::get(url)
            .with_header("X-Client-SKU", "an-app's-own")
            .with_header("accept", "application/json");
        add_standard_headers(&mut req, "id-1", "idflow.rust", "1.0");
        let h = &req.headers;
        assert!(h.contains(&("client-request-id".into(), "id-1".into())));
        assert!(h.contains(&("x-ms-lib-capability".into(), "retry-after, h429".into())));
        // A header of the same name is replaced, others are kept.
        assert_eq!(req.header("x-client-sku"), Some("idflow.rust"));
        assert_eq!(h.iter().filter(|(n, _)| n == "x-client-sku").count(), 1);
        assert_eq!(req.header("accept"), Some("application/json"));
        assert_eq!(h.len(), 7);
        assert_ne!(new_correlation_id(), new_correlation_id());
        let id = new_correlation_id();
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(parsed.to_string(), id, "lower-case, hyphenated");
    }
}
