//! The transport-level retry: one more attempt for an answer that says "the
//! service failed just now", as MSAL.NET does for its token service.
//!
//! Retried once, after [`RetryPolicy::delay`] (waited through the app's
//! sleeper): an HTTP 5xx without `Retry-After`, and a request that timed
//! out. Never retried: any 4xx (the request itself is wrong, or the service
//! asked for a pause), any answer carrying `Retry-After` (the service said
//! when to come back; that wait is the app's, see [`crate::net::throttle`]), a
//! device-code poll whose 5xx body is an OAuth protocol error (the polling
//! loop decides those), and every other transport failure (a refused or
//! dropped connection is not cured by asking again at once).

use crate::error::{read_body, Body, HttpResponse, NetworkKind};
use crate::net::http::TransportError;
use std::time::Duration;

/// The delay before the one retry, unless the app sets another.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Whether and how long before the transport retries once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `false` sends every request exactly once (the app runs its own policy).
    pub enabled: bool,
    /// How long to wait before the retry.
    pub delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            delay: DEFAULT_RETRY_DELAY,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub const OFF: RetryPolicy = RetryPolicy {
        enabled: false,
        delay: Duration::ZERO,
    };
}

/// What kind of request is being sent, as far as retrying cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Any request: discovery, keys, a token grant, the device authorization.
    Ordinary,
    /// A device-code poll: an OAuth error in a 5xx body is still an answer
    /// for the polling loop, not a failure of the service.
    DevicePoll,
}

/// Whether an answer deserves the one retry.
pub fn should_retry_response(response: &HttpResponse, attempt: Attempt) -> bool {
    if !(500..600).contains(&response.status) {
        return false;
    }
    if response.header("retry-after").is_some() {
        // "Don't retry if the STS told us to back off."
        return false;
    }
    if attempt == Attempt::DevicePoll {
        if let Body::OAuthError(_) = read_body(&response.body, false) {
            return false;
        }
    }
    true
}

/// Whether a transport failure deserves the one retry: only a timeout.
pub fn should_retry_transport(error: &TransportError) -> bool {
    error.kind == NetworkKind::Timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse::new(
            status,
            headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn five_hundreds_without_retry_after_are_retried() {
        for status in [500, 502, 503, 504, 599] {
            assert!(
                should_retry_response(&resp(status, &[], ""), Attempt::Ordinary),
                "{status}"
            );
        }
        let body = r#"{"error":"server_error","error_description":"AADSTS90033"}"#;
        assert!(should_retry_response(
            &resp(500, &[], body),
            Attempt::Ordinary
        ));
    }

    #[test]
    fn retry_after_and_four_hundreds_are_never_retried() {
        assert!(!should_retry_response(
            &resp(503, &[("Retry-After", "5")], ""),
            Attempt::Ordinary
        ));
        assert!(!should_retry_response(
            &resp(503, &[("retry-after", "garbage")], ""),
            Attempt::Ordinary
        ));
        for status in [200, 400, 401, 404, 408, 429, 499, 600] {
            assert!(
                !should_retry_response(&resp(status, &[], ""), Attempt::Ordinary),
                "{status}"
            );
        }
    }

    #[test]
    fn device_poll_protocol_errors_are_not_retried() {
        let pending = r#"{"error":"authorization_pending"}"#;
        assert!(!should_retry_response(
            &resp(500, &[], pending),
            Attempt::DevicePoll
        ));
        assert!(should_retry_response(
            &resp(500, &[], "<html>proxy</html>"),
            Attempt::DevicePoll
        ));
    }

    #[test]
    fn only_timeouts_among_transport_failures() {
        assert!(should_retry_transport(&TransportError::new(
            NetworkKind::Timeout,
            "t"
        )));
        for k in NetworkKind::ALL {
            if k != NetworkKind::Timeout {
                assert!(
                    !should_retry_transport(&TransportError::new(k, "x")),
                    "{k:?}"
                );
            }
        }
    }
}
