//! The one path every request takes: standard headers, a fresh correlation
//! id, the injected [`HttpClient`], and — for anything that is not a usable
//! answer — [`classify_at`], with the correlation id attached to the error.
//!
//! Every request gets the one transport retry [`crate::net::retry`] describes
//! here; the client-side throttle sits one level up, around the token POST
//! (`Engine::post_token`), where the request's identity (client, scopes,
//! grant) is known.

use crate::error::{
    classify_at, ErrorKind, Flow, HttpResponse, IdFlowError, LocalCode, ServiceDetails,
};
use crate::logging;
use crate::net::clock::{Clock, Sleeper};
use crate::net::http::{add_standard_headers, new_correlation_id, HttpClient, HttpRequest};
use crate::net::retry::{should_retry_response, should_retry_transport, Attempt, RetryPolicy};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::SystemTime;

/// A response together with what is needed to classify and report it.
#[derive(Debug)]
pub struct Exchange {
    pub response: HttpResponse,
    /// The `client-request-id` sent with the request.
    pub correlation_id: String,
    /// When the answer arrived, by the injected clock.
    pub received_at: SystemTime,
}

impl Exchange {
    /// The correlation id the server echoed, else the one sent.
    pub fn correlation_id(&self) -> String {
        self.response
            .header("client-request-id")
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(128).collect())
            .unwrap_or_else(|| self.correlation_id.clone())
    }

    /// The classified failure for this response in `flow`. Used for every
    /// answer that is not what the caller needed.
    pub fn failure(&self, flow: Flow) -> IdFlowError {
        let classified = classify_at(&self.response, flow, self.received_at);
        classified
            .error
            .unwrap_or_else(|| {
                // classify_at saw a success where the caller could not use
                // one (e.g. a token answer to a discovery request).
                IdFlowError::local(
                    LocalCode::InvalidTokenResponse,
                    format!(
                        "HTTP {}: the answer is not the document that was requested",
                        self.response.status
                    ),
                )
                .with_flow(flow)
            })
            .with_correlation_id(self.correlation_id.clone())
    }

    /// Attaches this exchange's correlation id to a failure decided locally
    /// after the answer arrived (an id token that fails validation, say).
    /// A service-kind code (an unusable answer) also gets the response's
    /// status and headers, as a classified answer has them.
    pub fn local(&self, code: LocalCode, message: impl Into<String>) -> IdFlowError {
        let mut e = IdFlowError::local(code, message).with_correlation_id(self.correlation_id());
        if e.kind == ErrorKind::Service {
            e.service = Some(Box::new(ServiceDetails {
                http_status: self.response.status,
                headers: self
                    .response
                    .headers
                    .iter()
                    .filter(|(n, _)| !n.eq_ignore_ascii_case("set-cookie"))
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                    .collect(),
                ..ServiceDetails::default()
            }));
        }
        e
    }
}

/// The injected services of an app: HTTP, time and the library's identity.
#[derive(Clone, Debug)]
pub struct Sender {
    pub http: Arc<dyn HttpClient>,
    pub clock: Arc<dyn Clock>,
    pub sleeper: Arc<dyn Sleeper>,
    pub sku: String,
    pub version: String,
    /// The one transport retry (on by default, 1 s).
    pub retry: RetryPolicy,
}

impl Sender {
    /// Sends a request with the standard headers and a new correlation id.
    /// A transport failure comes back as a network error carrying that id.
    /// A 5xx without `Retry-After`, or a timeout, is sent once more after the
    /// policy's delay (see [`crate::net::retry`]), with the same correlation id.
    pub async fn exchange(&self, request: HttpRequest) -> Result<Exchange, IdFlowError> {
        self.exchange_as(request, Attempt::Ordinary).await
    }

    /// [`exchange`](Self::exchange) for a request of the given kind.
    pub async fn exchange_as(
        &self,
        mut request: HttpRequest,
        attempt: Attempt,
    ) -> Result<Exchange, IdFlowError> {
        let correlation_id = new_correlation_id();
        add_standard_headers(&mut request, &correlation_id, &self.sku, &self.version);
        let pii = logging::pii_logging_enabled();
        let method = request.method;
        tracing::trace!(
            target: "idflow::http",
            correlation_id = %correlation_id,
            form_keys = ?request.form.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            "request form keys (values never logged)"
        );
        let retries = if self.retry.enabled { 1 } else { 0 };
        let mut tried = 0;
        loop {
            tracing::debug!(
                target: "idflow::http",
                pii,
                ?method,
                url = %logging::url_for_log(&request.url),
                correlation_id = %correlation_id,
                attempt = tried + 1,
                "request sent"
            );
            let started = std::time::Instant::now();
            // Lent, not copied: the request is kept for the one retry.
            let sent = self.http.send_ref(&request).await;
            let elapsed_ms = started.elapsed().as_millis();
            match &sent {
                Ok(response) => tracing::debug!(
                    target: "idflow::http",
                    pii,
                    ?method,
                    url = %logging::url_for_log(&request.url),
                    status = response.status,
                    correlation_id = %correlation_id,
                    elapsed_ms,
                    body_bytes = response.body.len(),
                    "response received"
                ),
                // The transport's detail names the URL (a tenant): PII.
                Err(t) => tracing::warn!(
                    target: "idflow::http",
                    pii,
                    ?method,
                    url = %logging::url_for_log(&request.url),
                    network = ?t.kind,
                    detail = %logging::mask(&t.detail, pii),
                    correlation_id = %correlation_id,
                    elapsed_ms,
                    "no answer"
                ),
            }
            let again = tried < retries
                && match &sent {
                    Ok(response) => should_retry_response(response, attempt),
                    Err(t) => should_retry_transport(t),
                };
            if again {
                tried += 1;
                tracing::info!(
                    target: "idflow::http",
                    correlation_id = %correlation_id,
                    delay_ms = self.retry.delay.as_millis(),
                    "retrying once after a 5xx without Retry-After or a timeout"
                );
                self.sleeper.sleep(self.retry.delay).await;
                continue;
            }
            return match sent {
                Ok(response) => Ok(Exchange {
                    response,
                    correlation_id,
                    received_at: self.clock.now(),
                }),
                Err(t) => Err(t.into_error().with_correlation_id(correlation_id)),
            };
        }
    }

    /// GETs a JSON document (discovery, JWKS). Anything but a 2xx JSON object
    /// without an `error` member is classified as a failure; `what` names
    /// the document in the error message.
    pub async fn get_json(
        &self,
        url: url::Url,
        what: &str,
    ) -> Result<(Map<String, Value>, Exchange), IdFlowError> {
        let shown = url.as_str().to_owned();
        let exchange = self.exchange(HttpRequest::get(url)).await?;
        let status = exchange.response.status;
        if (200..300).contains(&status) {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&exchange.response.body)
            {
                if !map.contains_key("error") {
                    return Ok((map, exchange));
                }
            }
        }
        let mut e = exchange.failure(Flow::Token);
        e.message = format!("{what} ({shown}): {}", e.message);
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(echoed: Option<&str>) -> Exchange {
        let headers = echoed
            .map(|v| vec![("client-request-id".to_owned(), v.to_owned())])
            .unwrap_or_default();
        Exchange {
            response: HttpResponse::new(200, headers, Vec::new()),
            correlation_id: "sent-id".to_owned(),
            received_at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_echoed_correlation_id_is_kept_to_128_characters() {
        assert_eq!(exchange(None).correlation_id(), "sent-id");
        assert_eq!(exchange(Some("")).correlation_id(), "sent-id");
        assert_eq!(exchange(Some("echo-1")).correlation_id(), "echo-1");
        let ascii = "a".repeat(128);
        assert_eq!(exchange(Some(&ascii)).correlation_id(), ascii);
        assert_eq!(
            exchange(Some(&"b".repeat(300))).correlation_id(),
            "b".repeat(128)
        );
        // Characters, not bytes: 100 two-byte ones are kept whole.
        let wide = "é".repeat(100);
        assert_eq!(exchange(Some(&wide)).correlation_id(), wide);
        assert_eq!(
            exchange(Some(&"é".repeat(200))).correlation_id(),
            "é".repeat(128)
        );
    }
}
