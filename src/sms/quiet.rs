//! Quiet hours: when a non-urgent message to a villager may go out. The period is in county time
//! and may cross midnight (21:00–08:00).
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The end of the quiet period `now` falls in, or `None` when sending is fine now.
pub fn quiet_until(now: DateTime<Utc>, tz: Tz, start: NaiveTime, end: NaiveTime) -> Option<DateTime<Utc>> {
    if start == end {
        return None;
    }
    let local = now.with_timezone(&tz);
    let t = local.time();
    let today = local.date_naive();
    let end_on = |d: chrono::NaiveDate| tz.from_local_datetime(&d.and_time(end)).earliest().map(|x| x.to_utc());
    if start < end {
        (start <= t && t < end).then(|| end_on(today)).flatten()
    } else if t >= start {
        end_on(today + Duration::days(1))
    } else if t < end {
        end_on(today)
    } else {
        None
    }
}

/// Parses `HH:MM` (validated at start-up).
pub fn parse_hm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn night_window_crossing_midnight() {
        let tz = chrono_tz::Asia::Shanghai;
        let (s, e) = (parse_hm("21:00").unwrap(), parse_hm("08:00").unwrap());
        assert_eq!(quiet_until(at("2026-11-23T20:59:00+08:00"), tz, s, e), None);
        assert_eq!(quiet_until(at("2026-11-23T21:00:00+08:00"), tz, s, e), Some(at("2026-11-24T08:00:00+08:00")));
        assert_eq!(quiet_until(at("2026-11-24T03:10:00+08:00"), tz, s, e), Some(at("2026-11-24T08:00:00+08:00")));
        assert_eq!(quiet_until(at("2026-11-24T08:00:00+08:00"), tz, s, e), None);
    }

    #[test]
    fn same_day_window_and_empty_window() {
        let tz = chrono_tz::Asia::Shanghai;
        let (s, e) = (parse_hm("12:00").unwrap(), parse_hm("14:00").unwrap());
        assert_eq!(quiet_until(at("2026-11-23T13:00:00+08:00"), tz, s, e), Some(at("2026-11-23T14:00:00+08:00")));
        assert_eq!(quiet_until(at("2026-11-23T15:00:00+08:00"), tz, s, e), None);
        assert_eq!(quiet_until(at("2026-11-23T13:00:00+08:00"), tz, s, s), None);
    }
}
