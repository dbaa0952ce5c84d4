//! Time, injectable: every expiry check reads a [`Clock`] and every wait goes
//! through a [`Sleeper`], so tests (and apps with their own scheduler) never
//! depend on the wall clock or really wait.
//!
//! The defaults are [`SystemClock`] and [`TokioSleeper`]. [`ManualTime`]
//! implements both for tests: sleeping advances its clock at once and records
//! the duration, so a device-code poll that would take minutes runs in
//! microseconds and the test can assert the exact back-off.

use crate::net::http::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The current time. Expiry decisions (device code, id token `exp`, token
/// `expires_on`) are all taken against this.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// An asynchronous wait. Implementations must not block the thread.
pub trait Sleeper: Send + Sync + std::fmt::Debug {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Waits on the tokio timer (the flows already run on tokio, as reqwest does).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to, and a sleeper that moves it.
///
/// Clone it freely: clones share the same time. Use one instance as both the
/// app's clock and its sleeper.
#[derive(Clone, Debug)]
pub struct ManualTime {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: SystemTime,
    sleeps: Vec<Duration>,
}

impl ManualTime {
    /// Starts at `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualTime {
            inner: Arc::new(Mutex::new(ManualState {
                now: start,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Starts at the real current time (tokens issued by a real server stay valid).
    pub fn starting_now() -> Self {
        ManualTime::new(SystemTime::now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.with(|s| s.now += by);
    }

    /// Every duration slept so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.with(|s| s.sleeps.clone())
    }

    fn with<T>(&self, f: impl FnOnce(&mut ManualState) -> T) -> T {
        // A poisoned lock only means another test thread panicked; the state
        // (a time and a list) is still consistent.
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

impl Clock for ManualTime {
    fn now(&self) -> SystemTime {
        self.with(|s| s.now)
    }
}

impl Sleeper for ManualTime {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.with(|s| {
            s.now += duration;
            s.sleeps.push(duration);
        });
        // Yield once so a concurrent cancel gets to run, as with a real timer.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_time_moves_only_when_slept_or_advanced() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let t = ManualTime::new(start);
        assert_eq!(t.now(), start);
        t.sleep(Duration::from_secs(5)).await;
        t.advance(Duration::from_secs(1));
        assert_eq!(t.now(), start + Duration::from_secs(6));
        assert_eq!(t.sleeps(), vec![Duration::from_secs(5)]);
    }
}
