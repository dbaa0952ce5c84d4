//! Device-code (RFC 8628) polling decisions.

use serde::Serialize;
use std::time::Duration;

/// What a device-code poll tells the poller to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polling {
    /// `authorization_pending`: wait the interval and poll again.
    Continue,
    /// `slow_down`: add [`SLOW_DOWN_STEP`] to the interval, then poll again.
    SlowDown,
    /// A token arrived, or a terminal error (declined, expired, bad code, anything else).
    Stop,
}

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the polling interval.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

impl Polling {
    /// The interval to wait before the next poll, given the current one.
    pub fn next_interval(self, current: Duration) -> Option<Duration> {
        match self {
            Polling::Continue => Some(current),
            Polling::SlowDown => Some(current.saturating_add(SLOW_DOWN_STEP)),
            Polling::Stop => None,
        }
    }
}
