//! The retries of a managed identity request, as MSAL.NET makes them.
//!
//! IMDS (`src/client/Microsoft.Identity.Client/Http/Retry/ImdsRetryPolicy.cs`,
//! `HttpRetryConditions.Imds`, `ExponentialRetryStrategy.cs`): 404, 408, 410,
//! 429 and every 5xx, and a timeout, are retried; up to 3 times with waits
//! of 1, 2 and 4 s, except that a first answer of 410 (IMDS is being
//! updated) allows 7 retries, 10 s apart.
//!
//! The other sources (`DefaultRetryPolicy.cs`, `HttpRetryConditions.DefaultManagedIdentity`):
//! 404, 408, 429, 500, 503 and 504, and a timeout, up to 3 times, 1 s apart
//! or after the answer's `Retry-After`.
//!
//! `Retry-After` is honoured by both: the wait is at least what it asks
//! (MSAL.NET's IMDS policy ignores it; idflow does not send sooner than the
//! service asked). When it asks for more than [`MAX_RETRY_AFTER_WAIT`], the
//! request is not retried: the error goes back to the app, and the client's
//! throttle blocks repeats until then.

use super::environment::ManagedIdentitySource;
use crate::error::{parse_retry_after, HttpResponse, NetworkKind};
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` waited through inside one call.
pub const MAX_RETRY_AFTER_WAIT: Duration = Duration::from_secs(60);

/// Whether the retries are made (`Off` when the app runs its own policy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ManagedIdentityRetry {
    /// MSAL.NET's policy for the source.
    #[default]
    Msal,
    Off,
}

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    Stop,
    RetryAfter(Duration),
}

/// The state of one request's retries.
#[derive(Debug)]
pub(crate) struct Retries {
    source: ManagedIdentitySource,
    policy: ManagedIdentityRetry,
    done: u32,
    max: u32,
}

impl Retries {
    pub fn new(source: ManagedIdentitySource, policy: ManagedIdentityRetry) -> Self {
        Retries {
            source,
            policy,
            done: 0,
            max: 3,
        }
    }

    fn retryable_status(&self, status: u16) -> bool {
        if self.source == ManagedIdentitySource::Imds {
            matches!(status, 404 | 408 | 410 | 429 | 500..=599)
        } else {
            matches!(status, 404 | 408 | 429 | 500 | 503 | 504)
        }
    }

    fn base_delay(&self, status: Option<u16>) -> Duration {
        if self.source != ManagedIdentitySource::Imds {
            return Duration::from_secs(1);
        }
        if status == Some(410) {
            return Duration::from_secs(10);
        }
        // 1 s, then 2^(n-1) * 2 s, at most 4 s.
        match self.done {
            0 => Duration::from_secs(1),
            n => Duration::from_secs((2u64 << (n - 1).min(8)).min(4)),
        }
    }

    /// After an answer arrived at `now`.
    pub fn after_response(&mut self, response: &HttpResponse, now: SystemTime) -> RetryDecision {
        if self.done == 0 && self.source == ManagedIdentitySource::Imds && response.status == 410 {
            self.max = 7;
        }
        if self.policy == ManagedIdentityRetry::Off
            || self.done >= self.max
            || !self.retryable_status(response.status)
        {
            return RetryDecision::Stop;
        }
        let asked = response
            .header("retry-after")
            .and_then(|v| parse_retry_after(v, now));
        if asked.is_some_and(|d| d > MAX_RETRY_AFTER_WAIT) {
            return RetryDecision::Stop;
        }
        let wait = self
            .base_delay(Some(response.status))
            .max(asked.unwrap_or_default());
        self.done += 1;
        RetryDecision::RetryAfter(wait)
    }

    /// After the transport failed: only a timeout is retried.
    pub fn after_transport(&mut self, kind: NetworkKind) -> RetryDecision {
        if self.policy == ManagedIdentityRetry::Off
            || self.done >= self.max
            || kind != NetworkKind::Timeout
        {
            return RetryDecision::Stop;
        }
        let wait = self.base_delay(None);
        self.done += 1;
        RetryDecision::RetryAfter(wait)
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use ManagedIdentitySource::*;

    fn resp(status: u16, retry_after: Option<&str>) -> HttpResponse {
        let headers = retry_after
            .map(|v| vec![("Retry-After".to_owned(), v.to_owned())])
            .unwrap_or_default();
        HttpResponse::new(status, headers, Vec::new())
    }

    fn waits(source: ManagedIdentitySource, first: u16, then: u16) -> Vec<u64> {
        let mut r = Retries::new(source, ManagedIdentityRetry::Msal);
        let now = SystemTime::UNIX_EPOCH;
        let mut out = Vec::new();
        let mut status = first;
        while let RetryDecision::RetryAfter(d) = r.after_response(&resp(status, None), now) {
            out.push(d.as_secs());
            status = then;
        }
        out
    }

    #[test]
    fn imds_backs_off_exponentially_three_times() {
        assert_eq!(waits(Imds, 500, 500), vec![1, 2, 4]);
        assert_eq!(waits(Imds, 404, 503), vec![1, 2, 4]);
        assert_eq!(waits(Imds, 429, 429), vec![1, 2, 4]);
        assert!(waits(Imds, 400, 500).is_empty());
        assert!(waits(Imds, 401, 500).is_empty());
    }

    #[test]
    fn imds_gone_retries_seven_times_ten_seconds_apart() {
        assert_eq!(waits(Imds, 410, 410), vec![10; 7]);
    }

    #[test]
    fn other_sources_retry_three_times_a_second_apart() {
        assert_eq!(waits(AppService, 500, 500), vec![1, 1, 1]);
        assert!(waits(AppService, 502, 500).is_empty());
        assert!(waits(ServiceFabric, 410, 500).is_empty());
    }

    #[test]
    fn retry_after_is_honoured_and_long_ones_stop() {
        let now = SystemTime::UNIX_EPOCH;
        let mut r = Retries::new(Imds, ManagedIdentityRetry::Msal);
        assert_eq!(
            r.after_response(&resp(429, Some("7")), now),
            RetryDecision::RetryAfter(Duration::from_secs(7))
        );
        let mut r = Retries::new(AppService, ManagedIdentityRetry::Msal);
        assert_eq!(
            r.after_response(&resp(503, Some("3600")), now),
            RetryDecision::Stop
        );
        let mut r = Retries::new(Imds, ManagedIdentityRetry::Off);
        assert_eq!(r.after_response(&resp(500, None), now), RetryDecision::Stop);
    }

    #[test]
    fn only_timeouts_among_transport_failures() {
        let mut r = Retries::new(Imds, ManagedIdentityRetry::Msal);
        assert_eq!(
            r.after_transport(NetworkKind::ConnectionRefused),
            RetryDecision::Stop
        );
        assert_eq!(
            r.after_transport(NetworkKind::Timeout),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
    }
}
