//! When a failed message tries again: exponential backoff with jitter, and the end of a provider's
//! rate-limit window. Pure functions of the time given.
use super::Window;
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The backoff ceiling after `attempts` failures: base · 2^attempts, capped.
pub fn backoff(base_seconds: i64, max_seconds: i64, attempts: i32) -> Duration {
    let shift = attempts.clamp(0, 20) as u32;
    Duration::seconds(base_seconds.saturating_mul(1i64 << shift).min(max_seconds).max(1))
}

/// Backoff with "equal jitter": between half and all of the ceiling. The jitter is derived from the
/// message id and attempt, so messages that failed together spread out, and a test can predict it.
pub fn retry_delay(base_seconds: i64, max_seconds: i64, id: i64, attempts: i32) -> Duration {
    let ceiling = backoff(base_seconds, max_seconds, attempts).num_milliseconds();
    let fraction = (mix(id as u64 ^ ((attempts as u64) << 48)) % 1000) as i64;
    Duration::milliseconds(ceiling / 2 + ceiling / 2 * fraction / 1000)
}

/// splitmix64: a cheap, well-spread hash.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// When a message deferred by a provider's rate limit may try again.
pub fn resume_at(now: DateTime<Utc>, tz: Tz, window: Window) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    let start_of = |l: chrono::NaiveDateTime| tz.from_local_datetime(&l).earliest().map(|d| d.to_utc());
    let floor_minute = local.naive_local().with_second(0).and_then(|t| t.with_nanosecond(0));
    let next = match window {
        Window::Seconds(s) => Some(now + Duration::seconds(s.max(1))),
        Window::Minute => floor_minute.and_then(|t| start_of(t + Duration::minutes(1))),
        Window::Hour => floor_minute.and_then(|t| t.with_minute(0)).and_then(|t| start_of(t + Duration::hours(1))),
        Window::Day => (local.date_naive() + Duration::days(1)).and_hms_opt(0, 0, 0).and_then(start_of),
        Window::Month => {
            let (y, m) = if local.month() == 12 { (local.year() + 1, 1) } else { (local.year(), local.month() + 1) };
            chrono::NaiveDate::from_ymd_opt(y, m, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).and_then(start_of)
        }
    };
    // A few seconds past the boundary, so clocks that differ slightly agree the window has turned.
    next.unwrap_or(now + Duration::hours(1)) + Duration::seconds(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(30, 3600, 0).num_seconds(), 30);
        assert_eq!(backoff(30, 3600, 1).num_seconds(), 60);
        assert_eq!(backoff(30, 3600, 20).num_seconds(), 3600);
    }

    #[test]
    fn jitter_stays_between_half_and_the_ceiling_and_differs_between_messages() {
        let mut seen = std::collections::HashSet::new();
        for id in 1..200 {
            for attempts in 0..6 {
                let d = retry_delay(30, 3600, id, attempts);
                let c = backoff(30, 3600, attempts);
                assert!(d >= c / 2 && d <= c, "{id} {attempts} {d}");
                if attempts == 0 {
                    seen.insert(d.num_milliseconds());
                }
            }
        }
        assert!(seen.len() > 50, "jitter spreads messages out");
        assert_eq!(retry_delay(30, 3600, 7, 2), retry_delay(30, 3600, 7, 2));
    }

    #[test]
    fn rate_limit_windows_end_at_natural_boundaries_in_county_time() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = at("2026-11-23T23:41:17+08:00");
        assert_eq!(resume_at(now, tz, Window::Seconds(30)), at("2026-11-23T23:41:52+08:00"));
        assert_eq!(resume_at(now, tz, Window::Minute), at("2026-11-23T23:42:05+08:00"));
        assert_eq!(resume_at(now, tz, Window::Hour), at("2026-11-24T00:00:05+08:00"));
        assert_eq!(resume_at(now, tz, Window::Day), at("2026-11-24T00:00:05+08:00"));
        assert_eq!(resume_at(at("2026-12-31T10:00:00+08:00"), tz, Window::Month), at("2027-01-01T00:00:05+08:00"));
    }
}
