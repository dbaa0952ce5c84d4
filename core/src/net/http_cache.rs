//! msal's `http_cache`: answers worth keeping across app instances, in a
//! store the app owns (msal Python keeps it in any dict-like object the app
//! may pickle; AzureAD/microsoft-authentication-library-for-python
//! `msal/throttled_http_client.py` and the `http_cache` parameter of
//! `msal/application.py`).
//!
//! What is kept is msal's rule for GETs: a 2xx answer to a GET (the
//! authority's OpenID configuration, instance metadata, signing keys) for
//! 24 hours, keyed by the URL. A second app built over the same store sends
//! none of those requests again. POST answers are never stored: msal keeps
//! its 429 / 5xx / 400 throttle state there, idflow keeps that per app in
//! memory ([`crate::net::throttle`]). GET answers of the identity platform
//! hold no tokens and no personal data, so the store needs no encryption.
//!
//! A stored value is idflow's own JSON record (status, headers, body in
//! base64, expiry); a value it cannot read is ignored and replaced.

use super::clock::Clock;
use super::http::{BoxFuture, HttpClient, HttpRequest, Method, TransportError};
use crate::error::HttpResponse;
use base64::Engine as _;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// How long a GET answer is reused (msal's 24 hours).
pub const HTTP_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The app's store of HTTP answers (msal's `http_cache`): a key → bytes map
/// it may persist. Implementations must not fail; a lost entry only means a
/// request sent again.
pub trait HttpCacheStore: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn set(&self, key: &str, value: Vec<u8>);
}

/// An [`HttpClient`] answering GETs from an [`HttpCacheStore`] while the
/// stored answer is fresh, and storing fresh 2xx GET answers.
#[derive(Debug)]
pub struct CachingHttpClient {
    inner: Arc<dyn HttpClient>,
    store: Arc<dyn HttpCacheStore>,
    clock: Arc<dyn Clock>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    expires_at: u64,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn key(request: &HttpRequest) -> String {
    format!("idflow GET {} 2xx", request.url.as_str())
}

impl CachingHttpClient {
    pub fn new(
        inner: Arc<dyn HttpClient>,
        store: Arc<dyn HttpCacheStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        CachingHttpClient {
            inner,
            store,
            clock,
        }
    }

    fn now(&self) -> u64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn cached(&self, key: &str) -> Option<HttpResponse> {
        let r: Record = serde_json::from_slice(&self.store.get(key)?).ok()?;
        if r.expires_at <= self.now() {
            return None;
        }
        let body = base64::engine::general_purpose::STANDARD
            .decode(r.body)
            .ok()?;
        Some(HttpResponse::new(r.status, r.headers, body))
    }

    fn keep(&self, key: &str, response: &HttpResponse) {
        let r = Record {
            expires_at: self.now() + HTTP_CACHE_TTL.as_secs(),
            status: response.status,
            headers: response.headers.clone(),
            body: base64::engine::general_purpose::STANDARD.encode(&response.body),
        };
        if let Ok(bytes) = serde_json::to_vec(&r) {
            self.store.set(key, bytes);
        }
    }
}

impl HttpClient for CachingHttpClient {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move { self.send_ref(&request).await })
    }

    fn send_ref<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            if request.method != Method::Get {
                return self.inner.send_ref(request).await;
            }
            let k = key(request);
            if let Some(hit) = self.cached(&k) {
                return Ok(hit);
            }
            let response = self.inner.send_ref(request).await?;
            if (200..300).contains(&response.status) {
                self.keep(&k, &response);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::clock::ManualTime;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Map(Mutex<HashMap<String, Vec<u8>>>);
    impl HttpCacheStore for Map {
        fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.0.lock().unwrap().get(key).cloned()
        }
        fn set(&self, key: &str, value: Vec<u8>) {
            self.0.lock().unwrap().insert(key.into(), value);
        }
    }

    #[derive(Debug, Default)]
    struct Counting(Mutex<u32>);
    impl HttpClient for Counting {
        fn send(&self, r: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
            *self.0.lock().unwrap() += 1;
            let status = if r.url.path() == "/missing" { 404 } else { 200 };
            Box::pin(async move {
                Ok(HttpResponse::new(
                    status,
                    vec![("a".into(), "b".into())],
                    b"{}".to_vec(),
                ))
            })
        }
    }

    #[tokio::test]
    async fn fresh_get_answers_come_from_the_store_across_clients() {
        let store: Arc<Map> = Arc::default();
        let time = ManualTime::new(UNIX_EPOCH + Duration::from_secs(1_000));
        let url = url::Url::parse("https://login.example/t/v2.0/.well-known/openid-configuration")
            .unwrap();
        let first_net: Arc<Counting> = Arc::default();
        let first =
            CachingHttpClient::new(first_net.clone(), store.clone(), Arc::new(time.clone()));
        assert_eq!(
            first
                .send(HttpRequest::get(url.clone()))
                .await
                .unwrap()
                .body,
            b"{}"
        );
        // Another client over the same store: no request.
        let second_net: Arc<Counting> = Arc::default();
        let second =
            CachingHttpClient::new(second_net.clone(), store.clone(), Arc::new(time.clone()));
        let hit = second.send(HttpRequest::get(url.clone())).await.unwrap();
        assert_eq!(
            (hit.status, hit.body.as_slice(), hit.headers.len()),
            (200, &b"{}"[..], 1)
        );
        assert_eq!(*second_net.0.lock().unwrap(), 0);
        // POSTs and errors are never stored; a stale answer is fetched again.
        second
            .send(HttpRequest::post_form(url.clone(), vec![]))
            .await
            .unwrap();
        let missing = url.join("/missing").unwrap();
        second
            .send(HttpRequest::get(missing.clone()))
            .await
            .unwrap();
        second.send(HttpRequest::get(missing)).await.unwrap();
        assert_eq!(*second_net.0.lock().unwrap(), 3);
        time.advance(HTTP_CACHE_TTL);
        second.send(HttpRequest::get(url)).await.unwrap();
        assert_eq!(*second_net.0.lock().unwrap(), 4);
        assert_eq!(*first_net.0.lock().unwrap(), 1);
    }
}
