//! Deadlines (SLA): a policy in minutes per step, and the clock that turns minutes into instants —
//! natural time, or working days under a holiday calendar (statutory holidays and make-up workdays).
use super::values::str_enum;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

str_enum!(
    /// How a policy counts its minutes (the `clock` of an SLA policy).
    ClockKind {
        Natural => "natural", "自然日";
        Workdays => "workdays", "工作日";
    }
);

str_enum!(
    /// An exceptional day of a stored calendar year (the `kind` of a calendar day).
    DayKind {
        Holiday => "holiday", "法定节假日";
        Workday => "workday", "调休上班";
    }
);

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

impl Policy {
    /// Checks an admin's policy: every step at least a minute, at most 180 days, and the assignment
    /// steps in order (respond ≤ progress ≤ resolve) so that stored deadlines are monotonic.
    /// On failure: (field, Chinese message).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        const MAX: i64 = 180 * 24 * 60;
        for (field, what, v) in [
            ("register_minutes", "登记时限", self.register_minutes),
            ("dispatch_minutes", "派单时限", self.dispatch_minutes),
            ("respond_minutes", "响应时限", self.respond_minutes),
            ("progress_minutes", "首次反馈时限", self.progress_minutes),
            ("resolve_minutes", "办结时限", self.resolve_minutes),
            ("visit_minutes", "回访时限", self.visit_minutes),
        ] {
            if !(1..=MAX).contains(&v) {
                return Err((field, format!("{what}须为1到{MAX}分钟（180天）")));
            }
        }
        if self.progress_minutes < self.respond_minutes {
            return Err(("progress_minutes", "首次反馈时限不能短于响应时限".into()));
        }
        if self.resolve_minutes < self.progress_minutes {
            return Err(("resolve_minutes", "办结时限不能短于首次反馈时限".into()));
        }
        Ok(())
    }
}

/// Deadlines stored on an assignment when it is created, with the instants at which the sweeper
/// reminds (80 % of each step's time on the policy's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignmentDeadlines {
    pub respond_by: DateTime<Utc>,
    pub progress_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
    pub respond_remind_at: DateTime<Utc>,
    pub progress_remind_at: DateTime<Utc>,
    pub resolve_remind_at: DateTime<Utc>,
}

/// Share of a step's time after which the assignee is reminded (DESIGN.md: 80 %).
pub const REMIND_NUMERATOR: i64 = 4;
pub const REMIND_DENOMINATOR: i64 = 5;

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

    /// Adds (or replaces) a year from its days off and make-up workdays.
    pub fn add_year(
        &mut self,
        year: i32,
        off: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
    ) {
        self.years.insert(year, (off.into_iter().collect(), workdays.into_iter().collect()));
    }

    /// The years this calendar knows, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
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
        let remind =
            |minutes: i64| self.add(policy.clock, at, (minutes * REMIND_NUMERATOR / REMIND_DENOMINATOR).max(1));
        AssignmentDeadlines {
            respond_by: self.add(policy.clock, at, policy.respond_minutes),
            progress_by: self.add(policy.clock, at, policy.progress_minutes),
            resolve_by: self.add(policy.clock, at, policy.resolve_minutes),
            respond_remind_at: remind(policy.respond_minutes),
            progress_remind_at: remind(policy.progress_minutes),
            resolve_remind_at: remind(policy.resolve_minutes),
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
    fn stored_clock_day_kind_and_priority_round_trip_and_refuse_unknown_values() {
        use crate::domain::values::Priority;
        for c in ClockKind::ALL {
            assert_eq!(ClockKind::parse(c.as_str()), Some(*c));
        }
        for k in DayKind::ALL {
            assert_eq!(DayKind::parse(k.as_str()), Some(*k));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(*p));
        }
        assert_eq!((ClockKind::Workdays.as_str(), DayKind::Holiday.as_str()), ("workdays", "holiday"));
        for raw in ["", "Natural", "weekdays", "day_off", "high"] {
            assert_eq!(
                (ClockKind::parse(raw), DayKind::parse(raw), Priority::parse(raw)),
                (None, None, None),
                "{raw:?}"
            );
        }
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
    fn reminders_fall_at_80_percent_of_working_time() {
        let c = Calendar::builtin();
        let tz: Tz = chrono_tz::Asia::Shanghai;
        let clock = Clock { calendar: &c, tz };
        // Friday 2026-10-09 20:00 local, a 24 h workday policy: 4 h left on Friday, Saturday 10 Oct is a
        // make-up workday. 80 % = 19 h 12 min → Saturday 15:12; the deadline is Saturday 20:00.
        let at = tz.with_ymd_and_hms(2026, 10, 9, 20, 0, 0).unwrap().with_timezone(&Utc);
        let p = Policy { clock: ClockKind::Workdays, respond_minutes: 24 * 60, ..Policy::default_normal() };
        let dl = clock.assignment(&p, at);
        assert_eq!(dl.respond_by, tz.with_ymd_and_hms(2026, 10, 10, 20, 0, 0).unwrap().with_timezone(&Utc));
        assert_eq!(dl.respond_remind_at, tz.with_ymd_and_hms(2026, 10, 10, 15, 12, 0).unwrap().with_timezone(&Utc));
        // Friday 2026-09-18 20:00 with 8 h: Saturday 19 Sep is a normal weekend, Sunday 20 Sep a make-up
        // workday → the deadline is Sunday 04:00.
        let at = tz.with_ymd_and_hms(2026, 9, 18, 20, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(
            clock.add(ClockKind::Workdays, at, 8 * 60),
            tz.with_ymd_and_hms(2026, 9, 20, 4, 0, 0).unwrap().with_timezone(&Utc)
        );
        // Spring Festival: 2026-02-13 (Fri) 12:00 + 48 h of working time: 12 h on the 13th, the 14th
        // (make-up Saturday) 24 h, then 15–23 off, 12 h more on Tue 24 Feb.
        let at = tz.with_ymd_and_hms(2026, 2, 13, 12, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(
            clock.add(ClockKind::Workdays, at, 48 * 60),
            tz.with_ymd_and_hms(2026, 2, 24, 12, 0, 0).unwrap().with_timezone(&Utc)
        );
    }

    #[test]
    fn a_policy_must_keep_its_steps_in_order() {
        assert!(Policy::default_normal().check().is_ok());
        assert!(Policy::default_urgent().check().is_ok());
        let p = Policy { progress_minutes: 60, respond_minutes: 120, ..Policy::default_normal() };
        assert_eq!(p.check().unwrap_err().0, "progress_minutes");
        let p = Policy { resolve_minutes: 0, ..Policy::default_normal() };
        assert_eq!(p.check().unwrap_err().0, "resolve_minutes");
    }

    #[test]
    fn a_year_added_from_data_is_known() {
        let mut c = Calendar::default();
        assert_eq!(c.is_workday(d("2026-10-08")), None);
        c.add_year(2026, [d("2026-10-08")], [d("2026-10-10")]);
        assert_eq!(c.is_workday(d("2026-10-08")), Some(false));
        assert_eq!(c.is_workday(d("2026-10-10")), Some(true));
        assert_eq!(c.years(), vec![2026]);
    }

    proptest::proptest! {
        /// Deadlines are monotonic: for any start and any ordered policy, on either clock,
        /// start < remind ≤ deadline for each step and respond ≤ progress ≤ resolve; more minutes
        /// never give an earlier instant.
        #[test]
        fn deadlines_are_monotonic(
            start_min in 0i64..(365 * 24 * 60),
            respond in 1i64..(3 * 24 * 60),
            extra1 in 0i64..(10 * 24 * 60),
            extra2 in 0i64..(30 * 24 * 60),
            workdays in proptest::bool::ANY,
        ) {
            let c = Calendar::builtin();
            let clock = Clock { calendar: &c, tz: chrono_tz::Asia::Shanghai };
            let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(start_min);
            let p = Policy {
                clock: if workdays { ClockKind::Workdays } else { ClockKind::Natural },
                respond_minutes: respond,
                progress_minutes: respond + extra1,
                resolve_minutes: respond + extra1 + extra2,
                ..Policy::default_normal()
            };
            proptest::prop_assert!(p.check().is_ok());
            let dl = clock.assignment(&p, at);
            proptest::prop_assert!(at < dl.respond_remind_at && dl.respond_remind_at <= dl.respond_by);
            proptest::prop_assert!(at < dl.progress_remind_at && dl.progress_remind_at <= dl.progress_by);
            proptest::prop_assert!(at < dl.resolve_remind_at && dl.resolve_remind_at <= dl.resolve_by);
            proptest::prop_assert!(dl.respond_by <= dl.progress_by && dl.progress_by <= dl.resolve_by);
            let later = clock.add(p.clock, at, respond + 1);
            proptest::prop_assert!(later > dl.respond_by);
        }
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
