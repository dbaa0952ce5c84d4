//! The emulator's clock: real time plus an offset the admin API can move.
//!
//! Every expiry the emulator enforces (device codes, authorization codes,
//! refresh tokens, the `iat`/`exp` of the tokens it signs, the validity window
//! of client assertions) reads this clock, so a test can let a device code
//! expire by advancing the clock instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far the clock may be moved from real time: a hundred years.
pub const MAX_OFFSET_SECS: i64 = 100 * 366 * 86_400;

/// Real time shifted by an adjustable number of seconds.
#[derive(Debug, Default)]
pub struct Clock {
    /// Kept within ±[`MAX_OFFSET_SECS`], so `now()` never overflows.
    offset_secs: AtomicI64,
}

impl Clock {
    /// The emulator's notion of now.
    pub fn now(&self) -> SystemTime {
        let offset = self.offset_secs.load(Ordering::Relaxed);
        let real = SystemTime::now();
        if offset >= 0 {
            real.checked_add(Duration::from_secs(offset.unsigned_abs()))
                .unwrap_or(real)
        } else {
            real.checked_sub(Duration::from_secs(offset.unsigned_abs()))
                .unwrap_or(UNIX_EPOCH)
        }
    }

    /// Now, as seconds since the Unix epoch (the unit of JWT time claims).
    pub fn unix(&self) -> i64 {
        unix_secs(self.now())
    }

    /// Moves the clock forward (or back, with a negative value) by `secs`;
    /// returns the new offset. The offset is clamped to ±[`MAX_OFFSET_SECS`].
    pub fn advance(&self, secs: i64) -> i64 {
        let mut current = self.offset_secs.load(Ordering::Relaxed);
        loop {
            let next = current
                .saturating_add(secs)
                .clamp(-MAX_OFFSET_SECS, MAX_OFFSET_SECS);
            match self.offset_secs.compare_exchange(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => current = seen,
            }
        }
    }

    /// Sets the offset from real time, in seconds (clamped like [`Clock::advance`]).
    pub fn set_offset(&self, secs: i64) {
        self.offset_secs.store(
            secs.clamp(-MAX_OFFSET_SECS, MAX_OFFSET_SECS),
            Ordering::Relaxed,
        );
    }

    pub fn offset(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The timestamp format the identity platform uses in error bodies:
/// `2016-01-09 02:02:12Z`.
pub fn aad_timestamp(t: SystemTime) -> String {
    let secs = unix_secs(t);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// An HTTP-date (`Wed, 25 Nov 2026 10:00:00 GMT`), for `Date` and `Retry-After`.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// (Howard Hinnant's civil-from-days algorithm.)
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_identity_platform() {
        let t = UNIX_EPOCH + Duration::from_secs(1_452_304_932);
        assert_eq!(aad_timestamp(t), "2016-01-09 02:02:12Z");
        assert_eq!(aad_timestamp(UNIX_EPOCH), "1970-01-01 00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(aad_timestamp(leap), "2000-02-29 00:00:00Z");
    }

    #[test]
    fn advancing_moves_now() {
        let c = Clock::default();
        let before = c.unix();
        assert_eq!(c.advance(1000), 1000);
        assert!(c.unix() >= before + 1000);
        c.set_offset(i64::MAX);
        assert_eq!(c.advance(5), MAX_OFFSET_SECS);
        c.set_offset(i64::MIN);
        assert!(c.unix() < 0, "a century back is before the epoch");
    }
}
