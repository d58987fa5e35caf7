//! Deadlines (SLA): a policy in minutes per step, and the clock that turns minutes into instants —
//! natural time, or working days under a holiday calendar (statutory holidays and make-up workdays).
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKind {
    Natural,
    Workdays,
}

impl ClockKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "natural" => Some(Self::Natural),
            "workdays" => Some(Self::Workdays),
            _ => None,
        }
    }
}

/// Minutes allowed for each step (DESIGN.md "Deadlines").
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub clock: ClockKind,
    pub register_minutes: i64,
    pub dispatch_minutes: i64,
    pub respond_minutes: i64,
    pub progress_minutes: i64,
    pub resolve_minutes: i64,
    pub visit_minutes: i64,
    pub signoff_required: bool,
}

impl Policy {
    /// DESIGN.md defaults: normal 15 min / 20 min / 2 h / 24 h / 72 h / 48 h.
    pub fn default_normal() -> Self {
        Self {
            clock: ClockKind::Natural,
            register_minutes: 15,
            dispatch_minutes: 20,
            respond_minutes: 120,
            progress_minutes: 24 * 60,
            resolve_minutes: 72 * 60,
            visit_minutes: 48 * 60,
            signoff_required: false,
        }
    }

    /// DESIGN.md defaults: urgent 15 min / 10 min / 30 min / 6 h / 24 h / 24 h.
    pub fn default_urgent() -> Self {
        Self {
            clock: ClockKind::Natural,
            register_minutes: 15,
            dispatch_minutes: 10,
            respond_minutes: 30,
            progress_minutes: 6 * 60,
            resolve_minutes: 24 * 60,
            visit_minutes: 24 * 60,
            signoff_required: false,
        }
    }
}

/// Deadlines stored on an assignment when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignmentDeadlines {
    pub respond_by: DateTime<Utc>,
    pub progress_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

#[derive(Deserialize)]
struct YearFile {
    year: i32,
    holidays: Vec<HolidayRange>,
    workdays: Vec<NaiveDate>,
}

#[derive(Deserialize)]
struct HolidayRange {
    from: NaiveDate,
    to: NaiveDate,
}

/// Statutory holidays and make-up workdays for the years that have been published.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    years: BTreeMap<i32, (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>)>,
}

impl Calendar {
    /// The calendar shipped with minsheng (2026).
    pub fn builtin() -> Self {
        let mut c = Calendar::default();
        // The shipped file is checked by the tests below; a broken edit fails them.
        let _ = c.add_year_json(include_str!("holidays_2026.json"));
        c
    }

    /// Adds a year from the JSON shape of `holidays_2026.json`.
    pub fn add_year_json(&mut self, json: &str) -> Result<(), serde_json::Error> {
        let f: YearFile = serde_json::from_str(json)?;
        let mut off = BTreeSet::new();
        for r in f.holidays {
            off.extend(r.from.iter_days().take_while(|d| *d <= r.to));
        }
        self.years.insert(f.year, (off, f.workdays.into_iter().collect()));
        Ok(())
    }

    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `d` is a working day; `None` for a year whose arrangement is not published yet.
    pub fn is_workday(&self, d: NaiveDate) -> Option<bool> {
        let (off, makeup) = self.years.get(&d.year())?;
        Some(makeup.contains(&d) || (!off.contains(&d) && !is_weekend(d)))
    }

    /// Working-day test used for deadlines: an unpublished year falls back to Monday–Friday.
    fn counts(&self, d: NaiveDate) -> bool {
        self.is_workday(d).unwrap_or(!is_weekend(d))
    }

    /// The `n`th working day after `d` (n ≥ 1).
    pub fn add_workdays(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut cur = d;
        let mut left = n;
        while left > 0 {
            cur = cur.succ_opt().unwrap_or(cur);
            if self.counts(cur) {
                left -= 1;
            }
        }
        cur
    }

    /// Adds `minutes` of clock time, counting only time that falls on working days (local dates).
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64, tz: Tz) -> DateTime<Utc> {
        let mut cur = start;
        let mut left = Duration::minutes(minutes);
        // Bounded walk: at most a few hundred days for the longest policy (90 days of work).
        for _ in 0..2000 {
            let local = cur.with_timezone(&tz);
            let next_midnight = local_midnight(tz, local.date_naive().succ_opt().unwrap_or(local.date_naive()));
            if self.counts(local.date_naive()) {
                let span = next_midnight - cur;
                if left <= span {
                    return cur + left;
                }
                left -= span;
            }
            cur = next_midnight;
        }
        cur + left
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// Clock: turns a policy's minutes into instants.
pub struct Clock<'a> {
    pub calendar: &'a Calendar,
    pub tz: Tz,
}

impl Clock<'_> {
    pub fn add(&self, kind: ClockKind, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        match kind {
            ClockKind::Natural => start + Duration::minutes(minutes),
            ClockKind::Workdays => self.calendar.add_working_minutes(start, minutes, self.tz),
        }
    }

    /// Deadlines of a new assignment dispatched at `at`. Each is measured from dispatch, so they
    /// are monotonic: respond ≤ progress ≤ resolve whenever the policy's minutes are.
    pub fn assignment(&self, policy: &Policy, at: DateTime<Utc>) -> AssignmentDeadlines {
        AssignmentDeadlines {
            respond_by: self.add(policy.clock, at, policy.respond_minutes),
            progress_by: self.add(policy.clock, at, policy.progress_minutes),
            resolve_by: self.add(policy.clock, at, policy.resolve_minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_2026_calendar_matches_the_state_council_notice() {
        let c = Calendar::builtin();
        for (day, work) in [
            ("2026-01-04", true),
            ("2026-02-14", true),
            ("2026-02-23", false),
            ("2026-02-24", true),
            ("2026-09-20", true),
            ("2026-10-08", true),
            ("2026-10-10", true),
            ("2026-05-06", true),
            ("2026-10-07", false),
            ("2026-01-03", false),
        ] {
            assert_eq!(c.is_workday(d(day)), Some(work), "{day}");
        }
        let mut n = 0;
        let mut day = d("2026-01-01");
        while day.year() == 2026 {
            n += c.is_workday(day).unwrap() as i32;
            day = day.succ_opt().unwrap();
        }
        assert_eq!(n, 248);
        assert_eq!(c.is_workday(d("2027-01-04")), None);
    }

    #[test]
    fn adding_workdays_skips_holidays_and_counts_makeup_days() {
        let c = Calendar::builtin();
        assert_eq!(c.add_workdays(d("2026-02-13"), 1), d("2026-02-14"));
        assert_eq!(c.add_workdays(d("2026-02-12"), 3), d("2026-02-24"));
        assert_eq!(c.add_workdays(d("2026-09-30"), 1), d("2026-10-08"));
        assert_eq!(c.add_workdays(d("2026-04-30"), 1), d("2026-05-06"));
        assert_eq!(c.add_workdays(d("2026-09-18"), 1), d("2026-09-20"));
    }

    #[test]
    fn working_minutes_stop_over_the_national_day_holiday() {
        let c = Calendar::builtin();
        let tz: Tz = chrono_tz::Asia::Shanghai;
        // 2026-09-30 18:00 local; 72 h of working time: 6 h left on the 30th, then Oct 1–7 off,
        // Oct 8 (24 h), Oct 9 (24 h), Oct 10 make-up Saturday (18 h) → 2026-10-10 18:00 local.
        let start = tz.with_ymd_and_hms(2026, 9, 30, 18, 0, 0).unwrap().with_timezone(&Utc);
        let clock = Clock { calendar: &c, tz };
        let end = clock.add(ClockKind::Workdays, start, 72 * 60);
        assert_eq!(end, tz.with_ymd_and_hms(2026, 10, 10, 18, 0, 0).unwrap().with_timezone(&Utc));
        assert_eq!(clock.add(ClockKind::Natural, start, 120), start + Duration::hours(2));
    }

    #[test]
    fn assignment_deadlines_follow_the_default_policy() {
        let c = Calendar::builtin();
        let clock = Clock { calendar: &c, tz: chrono_tz::Asia::Shanghai };
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        let dl = clock.assignment(&Policy::default_normal(), at);
        assert_eq!(dl.respond_by - at, Duration::hours(2));
        assert_eq!(dl.progress_by - at, Duration::hours(24));
        assert_eq!(dl.resolve_by - at, Duration::hours(72));
    }
}
