//! What the SLA sweeper owes an assignment at a given instant: for each step (respond, first
//! progress, result) a reminder at 80 % of its time and an urge (催办) at breach, each exactly once.
//! Pure: the worker loads the facts, asks `plan`, and writes what it says.
use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Respond,
    Progress,
    Resolve,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Respond => "respond",
            Step::Progress => "progress",
            Step::Resolve => "resolve",
        }
    }

    /// The step as a cadre reads it in a message.
    pub fn label(self) -> &'static str {
        match self {
            Step::Respond => "签收",
            Step::Progress => "反馈进展",
            Step::Resolve => "办结",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    Reminder,
    Urge,
}

/// One step of an assignment as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepState {
    pub step: Step,
    /// The step is done (accepted, progress reported, resolved): nothing more is owed.
    pub done: bool,
    pub remind_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub reminded: bool,
    pub urged: bool,
}

/// What to do for one step now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub step: Step,
    /// The message to send, if any.
    pub send: Option<Notice>,
    /// Set the step's `*_reminded_at` (also when a reminder is skipped because the breach came first).
    pub mark_reminded: bool,
    pub mark_urged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub decisions: Vec<Decision>,
    /// When to look at the assignment again: the earliest notice still owed, `None` when nothing is.
    pub next_check: Option<DateTime<Utc>>,
}

/// Decides the notices owed at `now`. A reminder whose moment passed together with the deadline is
/// not sent (the urge says more); a done step owes nothing.
pub fn plan(steps: &[StepState], now: DateTime<Utc>) -> Plan {
    let mut decisions = vec![];
    let mut next: Option<DateTime<Utc>> = None;
    for s in steps.iter().filter(|s| !s.done) {
        let (mut reminded, mut urged) = (s.reminded, s.urged);
        let mut d = Decision { step: s.step, send: None, mark_reminded: false, mark_urged: false };
        if !urged && now >= s.due {
            d.send = Some(Notice::Urge);
            d.mark_urged = true;
            urged = true;
            if !reminded {
                d.mark_reminded = true;
                reminded = true;
            }
        } else if !reminded && now >= s.remind_at {
            d.send = Some(Notice::Reminder);
            d.mark_reminded = true;
            reminded = true;
        }
        if d.send.is_some() {
            decisions.push(d);
        }
        let owed = if !reminded {
            Some(s.remind_at)
        } else if !urged {
            Some(s.due)
        } else {
            None
        };
        if let Some(t) = owed {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    }
    Plan { decisions, next_check: next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap() + Duration::minutes(h)
    }

    fn respond(done: bool, reminded: bool, urged: bool) -> StepState {
        StepState { step: Step::Respond, done, remind_at: t(96), due: t(120), reminded, urged }
    }

    #[test]
    fn before_80_percent_nothing_is_sent_and_the_reminder_is_next() {
        let p = plan(&[respond(false, false, false)], t(95));
        assert!(p.decisions.is_empty());
        assert_eq!(p.next_check, Some(t(96)));
    }

    #[test]
    fn at_80_percent_a_reminder_then_the_urge_at_breach_each_once() {
        let p = plan(&[respond(false, false, false)], t(96));
        assert_eq!(p.decisions[0].send, Some(Notice::Reminder));
        assert_eq!(p.next_check, Some(t(120)));
        let p = plan(&[respond(false, true, false)], t(100));
        assert!(p.decisions.is_empty());
        let p = plan(&[respond(false, true, false)], t(120));
        assert_eq!(p.decisions[0].send, Some(Notice::Urge));
        assert_eq!(p.next_check, None);
        assert!(plan(&[respond(false, true, true)], t(500)).decisions.is_empty());
    }

    #[test]
    fn a_missed_reminder_is_not_sent_after_the_breach() {
        let p = plan(&[respond(false, false, false)], t(130));
        assert_eq!(p.decisions.len(), 1);
        assert_eq!(p.decisions[0].send, Some(Notice::Urge));
        assert!(p.decisions[0].mark_reminded && p.decisions[0].mark_urged);
    }

    #[test]
    fn done_steps_owe_nothing_and_the_earliest_open_step_sets_the_next_check() {
        let progress = StepState {
            step: Step::Progress,
            done: false,
            remind_at: t(1152),
            due: t(1440),
            reminded: false,
            urged: false,
        };
        let p = plan(&[respond(true, false, false), progress], t(200));
        assert!(p.decisions.is_empty());
        assert_eq!(p.next_check, Some(t(1152)));
        assert_eq!(plan(&[respond(true, false, false)], t(0)).next_check, None);
    }
}
