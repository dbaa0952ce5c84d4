//! A scripted [`HttpClient`] for unit tests of code built on idflow: answers
//! are queued per method and URL (query ignored), every request is recorded.
//! It is a trait-boundary double, not a server: tests of real transport
//! behaviour use real sockets.

use crate::error::HttpResponse;
use crate::net::http::{BoxFuture, HttpClient, HttpRequest, Method, TransportError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

type Answer = Result<HttpResponse, TransportError>;

#[derive(Debug)]
struct Route {
    method: Method,
    url: String,
    answers: VecDeque<Answer>,
    /// The only queued answer has been served (at least) once.
    last_served: bool,
}

/// Queued answers per (method, URL without query), each served once in
/// order, except that the last one repeats until a new answer is queued
/// behind it. An unscripted request gets an empty HTTP 404. Clones share the
/// script and the record.
#[derive(Clone, Default)]
pub struct ScriptedHttp {
    inner: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ScriptedHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Scripted answers hold whatever tokens a test made up: count only.
        let (routes, requests) = self.with(|s| (s.routes.len(), s.requests.len()));
        f.debug_struct("ScriptedHttp")
            .field("routes", &routes)
            .field("requests", &requests)
            .finish()
    }
}

#[derive(Debug, Default)]
struct State {
    routes: Vec<Route>,
    requests: Vec<HttpRequest>,
}

impl ScriptedHttp {
    pub fn new() -> Self {
        ScriptedHttp::default()
    }

    /// Queues an answer for `method url` (the URL's query is ignored).
    pub fn on(&self, method: Method, url: &str, answer: Answer) -> &Self {
        let url = strip_query(url);
        self.with(|s| {
            match s
                .routes
                .iter_mut()
                .find(|r| r.method == method && r.url == url)
            {
                Some(r) => {
                    if r.last_served {
                        // It repeated while it was last; a new answer replaces it.
                        r.answers.clear();
                        r.last_served = false;
                    }
                    r.answers.push_back(answer);
                }
                None => s.routes.push(Route {
                    method,
                    url,
                    answers: VecDeque::from([answer]),
                    last_served: false,
                }),
            }
        });
        self
    }

    /// Queues a JSON answer.
    pub fn json(&self, method: Method, url: &str, status: u16, body: serde_json::Value) -> &Self {
        self.on(method, url, Ok(json_response(status, &body)))
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.with(|s| s.requests.clone())
    }

    /// The requests sent to `url` (query ignored).
    pub fn requests_to(&self, url: &str) -> Vec<HttpRequest> {
        let url = strip_query(url);
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| strip_query(r.url.as_str()) == url)
                .cloned()
                .collect()
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl HttpClient for ScriptedHttp {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Answer> {
        let url = strip_query(request.url.as_str());
        let method = request.method;
        let answer = self.with(|s| {
            s.requests.push(request);
            let route = s
                .routes
                .iter_mut()
                .find(|r| r.method == method && r.url == url)?;
            if route.answers.len() > 1 {
                route.answers.pop_front()
            } else {
                route.last_served = true;
                route.answers.front().cloned()
            }
        });
        let answer = answer.unwrap_or_else(|| Ok(HttpResponse::new(404, Vec::new(), Vec::new())));
        Box::pin(async move { answer })
    }
}

/// An `application/json` response.
pub fn json_response(status: u16, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::new(
        status,
        vec![("content-type".into(), "application/json".into())],
        body.to_string().into_bytes(),
    )
}

fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}
