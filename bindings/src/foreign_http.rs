//! The app's own HTTP stack as the core's transport: a foreign [`HttpClient`]
//! (Python's `requests.Session` or any msal `http_client`, Kotlin's
//! `java.net.http` or OkHttp, Swift's `URLSession`) behind the core's
//! `idflow::HttpClient` seam, so every flow, discovery, retry and throttle
//! runs over it unchanged.
//!
//! The foreign call is blocking (each language's simplest client is) and runs
//! on tokio's blocking pool; the flow stops waiting for it after the app's
//! timeout. Whatever the foreign side does — return, throw, panic, hang — the
//! flow sees an answer or a classified network failure, and the failure's
//! text never holds a form value or a credential header (the request body
//! holds secrets).

use crate::types::{display_as_debug, Header, NetworkKind};
use idflow::error::{HttpResponse, NetworkKind as CoreNet, MAX_ERROR_BODY_BYTES};
use idflow::{BoxFuture, HttpRequest, Method, TransportError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

/// Sends one request with the app's own HTTP stack. Implement it over your
/// platform's client and pass it as `AppConfig.http_client`.
///
/// Rules: send the request exactly as given (method, URL, headers, body);
/// return any HTTP status as a response (idflow classifies it); throw
/// [`HttpClientError::Failed`] with the [`NetworkKind`] when no answer came;
/// do not follow redirects and do not retry (idflow retries once itself).
/// Never put the request body in an error: it holds secrets.
#[uniffi::export(with_foreign)]
pub trait HttpClient: Send + Sync {
    fn send(&self, request: Arc<HttpClientRequest>) -> Result<HttpClientResponse, HttpClientError>;
}

impl std::fmt::Debug for dyn HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient(the app's own)")
    }
}

/// One form field of a POST body. Its string form shows the name only.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct FormField {
    pub name: String,
    pub value: String,
}

/// Form values are secrets: only the name is shown.
impl std::fmt::Debug for FormField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormField")
            .field("name", &self.name)
            .field("value", &crate::types::REDACTED)
            .finish()
    }
}

/// The request to send. Its string form (`toString`, `description`, `repr`)
/// shows the method, the URL without its query and the header names only.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct HttpClientRequest {
    inner: HttpRequest,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClientRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

#[uniffi::export]
impl HttpClientRequest {
    /// `GET` or `POST`.
    pub fn method(&self) -> String {
        match self.inner.method {
            Method::Get => "GET".into(),
            Method::Post => "POST".into(),
        }
    }
    /// The full URL, query included.
    pub fn url(&self) -> String {
        self.inner.url.to_string()
    }
    /// Header names are lower-case. `content-type` is included when there is a body.
    pub fn headers(&self) -> Vec<Header> {
        let mut headers: Vec<Header> = self
            .inner
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        if self.has_body() {
            headers.push(Header {
                name: "content-type".into(),
                value: "application/x-www-form-urlencoded".into(),
            });
        }
        headers
    }
    /// The form fields of a POST, in order (secrets among them: never log them).
    pub fn form(&self) -> Vec<FormField> {
        self.inner
            .form
            .iter()
            .map(|(name, value)| FormField {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    }
    /// The form, URL-encoded: the body to send (empty for a GET).
    pub fn body(&self) -> Vec<u8> {
        if !self.has_body() {
            return Vec::new();
        }
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.inner.form.iter())
            .finish()
            .into_bytes()
    }
    /// How long idflow waits for this answer; set the client's own timeout to it.
    pub fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)
    }
    /// Method, URL, headers, body and timeout in one call: what an adapter
    /// needs to send the request. Prefer it to the five methods above where
    /// each call crosses into the native library on its own (from the JVM,
    /// JNA's crossings cost ≈ 20 µs each, measured).
    pub fn parts(&self) -> HttpClientRequestParts {
        HttpClientRequestParts {
            method: self.method(),
            url: self.url(),
            headers: self.headers(),
            body: self.body(),
            timeout_ms: self.timeout_ms(),
        }
    }
}

impl HttpClientRequest {
    fn has_body(&self) -> bool {
        self.inner.method == Method::Post && !self.inner.form.is_empty()
    }
}

/// [`HttpClientRequest::parts`]: the request as plain values. Its string form
/// shows the method, the URL with its query redacted, the headers (credential
/// values redacted) and the body's length only: the body holds secrets.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct HttpClientRequestParts {
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL, query included.
    pub url: String,
    /// As [`HttpClientRequest::headers`] (`content-type` included with a body).
    pub headers: Vec<Header>,
    /// The URL-encoded form (empty for a GET).
    pub body: Vec<u8>,
    /// How long idflow waits for the answer.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for HttpClientRequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match self.url.split_once('?') {
            Some((path, _)) => format!("{path}?[redacted]"),
            None => self.url.clone(),
        };
        f.debug_struct("HttpClientRequestParts")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// The answer: any status, its headers and its body (bytes as received).
/// Its string form shows the body's length only.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct HttpClientResponse {
    pub status: u16,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

/// The body holds tokens: only its length is shown.
impl std::fmt::Debug for HttpClientResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

display_as_debug!(FormField, HttpClientRequestParts, HttpClientResponse);

/// No answer came: say which kind of network failure it was.
#[derive(Clone, Debug, thiserror::Error, uniffi::Error)]
pub enum HttpClientError {
    /// `detail` is shown to the developer: never put the request body in it.
    #[error("{detail}")]
    Failed { kind: NetworkKind, detail: String },
}

/// Any other exception the app's client throws (uniffi's catch-all).
impl From<uniffi::UnexpectedUniFFICallbackError> for HttpClientError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpClientError::Failed {
            kind: NetworkKind::ConnectionLost,
            detail: format!("the app's HTTP client failed: {}", e.reason),
        }
    }
}

/// The core's transport over a foreign [`HttpClient`].
#[derive(Clone, Debug)]
pub(crate) struct ForeignHttp {
    client: Arc<dyn HttpClient>,
    timeout: Duration,
}

impl ForeignHttp {
    pub(crate) fn new(client: Arc<dyn HttpClient>, timeout: Duration) -> Self {
        ForeignHttp { client, timeout }
    }

    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let secrets = secret_values(&request);
        let scrub = |text: String| scrub(text, &secrets);
        let request = Arc::new(HttpClientRequest {
            inner: request,
            timeout: self.timeout,
        });
        let client = self.client.clone();
        let call = tokio::task::spawn_blocking(move || {
            catch_unwind(AssertUnwindSafe(|| client.send(request)))
        });
        let unexpected = || {
            TransportError::new(
                CoreNet::ConnectionLost,
                "the app's HTTP client failed unexpectedly",
            )
        };
        let answer = match tokio::time::timeout(self.timeout, call).await {
            Err(_) => {
                return Err(TransportError::new(
                    CoreNet::Timeout,
                    format!(
                        "the app's HTTP client gave no answer within {} ms",
                        self.timeout.as_millis()
                    ),
                ))
            }
            Ok(Err(_)) | Ok(Ok(Err(_))) => return Err(unexpected()),
            Ok(Ok(Ok(answer))) => answer,
        };
        match answer {
            Ok(mut response) => {
                response.body.truncate(MAX_ERROR_BODY_BYTES + 1);
                Ok(HttpResponse::new(
                    response.status,
                    response
                        .headers
                        .into_iter()
                        .map(|h| (h.name.to_ascii_lowercase(), h.value))
                        .collect(),
                    response.body,
                ))
            }
            Err(HttpClientError::Failed { kind, detail }) => {
                Err(TransportError::new(kind.into(), scrub(detail)))
            }
        }
    }
}

impl idflow::HttpClient for ForeignHttp {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(self.exchange(request))
    }
}

/// The values an error text must not echo: every form value (codes, tokens,
/// secrets, assertions, passwords) and credential headers, raw and encoded.
fn secret_values(request: &HttpRequest) -> Vec<String> {
    let mut values: Vec<String> = request.form.iter().map(|(_, v)| v.clone()).collect();
    values.extend(
        request
            .headers
            .iter()
            .filter(|(n, _)| matches!(n.as_str(), "authorization" | "cookie"))
            .map(|(_, v)| v.clone()),
    );
    let encoded: Vec<String> = values
        .iter()
        .map(|v| url::form_urlencoded::byte_serialize(v.as_bytes()).collect())
        .collect();
    values.extend(encoded);
    // Short values (a `grant_type`, a scope) are not secrets and would
    // redact ordinary words.
    values.retain(|v| v.len() >= 8);
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

fn scrub(mut text: String, secrets: &[String]) -> String {
    for s in secrets {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), "[redacted]");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use idflow::HttpClient as _;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Scripted {
        seen: Mutex<Vec<(String, String, Vec<u8>)>>,
        fail: Option<(NetworkKind, bool)>,
        hang: bool,
        panic: bool,
    }

    impl HttpClient for Scripted {
        fn send(
            &self,
            request: Arc<HttpClientRequest>,
        ) -> Result<HttpClientResponse, HttpClientError> {
            self.seen
                .lock()
                .unwrap()
                .push((request.method(), request.url(), request.body()));
            if self.panic {
                panic!("boom");
            }
            if self.hang {
                std::thread::sleep(Duration::from_secs(5));
            }
            if let Some((kind, echo)) = self.fail {
                let detail = if echo {
                    format!(
                        "refused: {}",
                        String::from_utf8(request.body()).unwrap_or_default()
                    )
                } else {
                    "refused".into()
                };
                return Err(HttpClientError::Failed { kind, detail });
            }
            Ok(HttpClientResponse {
                status: 200,
                headers: vec![Header {
                    name: "Content-Type".into(),
                    value: "application/json".into(),
                }],
                body: b"{}".to_vec(),
            })
        }
    }

    fn request() -> HttpRequest {
        HttpRequest::post_form(
            url::Url::parse("http://127.0.0.1:1/t/oauth2/v2.0/token?x=1").unwrap(),
            vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_secret".into(), "top secret/value+1".into()),
            ],
        )
    }

    fn run(
        client: Scripted,
        timeout_ms: u64,
    ) -> (Result<HttpResponse, TransportError>, Arc<Scripted>) {
        let client = Arc::new(client);
        let http = ForeignHttp::new(client.clone(), Duration::from_millis(timeout_ms));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = rt.block_on(http.send(request()));
        // A hung client's thread is left behind, as in an app.
        rt.shutdown_background();
        (answer, client)
    }

    #[test]
    fn passes_the_request_and_lower_cases_answer_headers() {
        let (answer, client) = run(Scripted::default(), 5_000);
        let answer = answer.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let seen = client.seen.lock().unwrap();
        assert_eq!(seen[0].0, "POST");
        assert_eq!(seen[0].1, "http://127.0.0.1:1/t/oauth2/v2.0/token?x=1");
        assert_eq!(
            String::from_utf8(seen[0].2.clone()).unwrap(),
            "grant_type=client_credentials&client_secret=top+secret%2Fvalue%2B1"
        );
    }

    #[test]
    fn failures_keep_their_kind_and_never_echo_the_body() {
        let client = Scripted {
            fail: Some((NetworkKind::ConnectionRefused, true)),
            ..Scripted::default()
        };
        let e = run(client, 5_000).0.unwrap_err();
        assert_eq!(e.kind, CoreNet::ConnectionRefused);
        assert!(!e.detail.contains("top"), "{}", e.detail);
        assert!(!e.detail.contains("value"), "{}", e.detail);
        assert!(e.detail.starts_with("refused: "), "{}", e.detail);
    }

    #[test]
    fn panic_and_hang_become_network_failures() {
        let e = run(
            Scripted {
                panic: true,
                ..Scripted::default()
            },
            5_000,
        )
        .0
        .unwrap_err();
        assert_eq!(e.kind, CoreNet::ConnectionLost);
        let e = run(
            Scripted {
                hang: true,
                ..Scripted::default()
            },
            50,
        )
        .0
        .unwrap_err();
        assert_eq!(e.kind, CoreNet::Timeout);
    }

    #[test]
    fn request_string_form_hides_secrets() {
        let r = HttpClientRequest {
            inner: request(),
            timeout: Duration::from_secs(1),
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("top secret"), "{shown}");
        assert!(!shown.contains("x=1"), "{shown}");
    }

    #[test]
    fn parts_are_the_methods_answers_in_one_call() {
        let mut inner = request();
        inner
            .headers
            .push(("authorization".into(), "Basic c2VjcmV0OnNlY3JldA==".into()));
        let r = HttpClientRequest {
            inner,
            timeout: Duration::from_millis(1_500),
        };
        let parts = r.parts();
        assert_eq!(parts.method, r.method());
        assert_eq!(parts.url, r.url());
        assert_eq!(parts.headers, r.headers());
        assert_eq!(parts.body, r.body());
        assert_eq!(parts.timeout_ms, 1_500);
        assert!(parts.headers.iter().any(|h| h.name == "content-type"));
        for shown in [format!("{parts:?}"), parts.to_string()] {
            for secret in ["top+secret", "top secret", "x=1", "c2VjcmV0"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(shown.contains("body_len"), "{shown}");
            assert!(shown.contains("oauth2/v2.0/token?[redacted]"), "{shown}");
        }
    }
}
