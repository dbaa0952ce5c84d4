//! `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.

use std::time::{Duration, SystemTime};

/// Parses a `Retry-After` value into a wait.
///
/// An HTTP-date is measured from `reference`: the response's own `Date`
/// header when it has one (so a skewed client clock does not distort the
/// wait), else the time the response was received. A date in the past gives
/// zero. Garbage gives `None`.
pub fn parse_retry_after(value: &str, reference: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Absurd values saturate rather than fail: the server clearly means "a long time".
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(reference).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_seconds() {
        assert_eq!(
            parse_retry_after("120", SystemTime::UNIX_EPOCH),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(" 0 ", SystemTime::UNIX_EPOCH),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_date_from_reference() {
        let reference = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", reference),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", reference),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage() {
        for v in ["", "-5", "soon", "1.5", "12 s"] {
            assert_eq!(parse_retry_after(v, SystemTime::UNIX_EPOCH), None, "{v}");
        }
    }
}
