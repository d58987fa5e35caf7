//! Accountability rules (追责红线): the facts of one ticket (its assignments and ledger events) in,
//! the breaches out, each with a stable key so one breach is recorded once however often (and by
//! however many instances) the rules are checked. Pure: `now` is a parameter.
//!
//! The rules:
//! - `response_missed`: an assignment's response deadline passed before its unit signed for it
//!   (accepted late, or never accepted while it was held past the deadline). One per assignment.
//! - `result_overdue`: an assignment resolved more than N days after its result deadline, or still
//!   held (active, unresolved) more than N days after it. One per assignment.
//! - `returned_twice`: the same unit returned (退单) the same ticket twice. "Without reason" cannot
//!   be judged by a machine; two returns of one order by one unit is the red line the inspector then
//!   reviews (dismissing the record when the returns were justified). One per (ticket, unit).
//! - `reopened_twice`: the ticket was reopened twice by dissatisfied return visits (重办 twice),
//!   attributed to the unit whose result the second visit rejected. One per ticket.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    ResponseMissed,
    ResultOverdue,
    ReturnedTwice,
    ReopenedTwice,
}

pub const ALL_RULES: [Rule; 4] = [Rule::ResponseMissed, Rule::ResultOverdue, Rule::ReturnedTwice, Rule::ReopenedTwice];

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ResponseMissed => "response_missed",
            Rule::ResultOverdue => "result_overdue",
            Rule::ReturnedTwice => "returned_twice",
            Rule::ReopenedTwice => "reopened_twice",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        ALL_RULES.iter().copied().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Rule::ResponseMissed => "超时未签收",
            Rule::ResultOverdue => "办理严重超期",
            Rule::ReturnedTwice => "同一单位两次退单",
            Rule::ReopenedTwice => "两次不满意重办",
        }
    }

    pub fn names() -> String {
        ALL_RULES.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("、")
    }
}

super::values::str_enum!(
    /// Where an accountability record stands in the inspector's review.
    RecordStatus {
        Open => "open", "待审查";
        Reviewing => "reviewing", "审查中";
        Closed => "closed", "已办结";
    }
);

super::values::str_enum!(
    /// The inspector's finding when closing a record: 问责 (upheld) or 免责 (dismissed).
    Decision {
        Upheld => "upheld", "问责";
        Dismissed => "dismissed", "免责";
    }
);

/// Which rules are on, with their thresholds (from configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub response_missed: bool,
    /// Days past the result deadline; `None`: the rule is off.
    pub result_overdue_days: Option<i64>,
    pub returned_twice: bool,
    pub reopened_twice: bool,
}

impl Rules {
    pub const ALL_ON: Rules =
        Rules { response_missed: true, result_overdue_days: Some(3), returned_twice: true, reopened_twice: true };
}

/// An assignment as far as the rules are concerned.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentFacts {
    pub id: i64,
    pub unit_id: i64,
    /// Still held by its unit.
    pub active: bool,
    pub respond_by: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub resolve_by: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A ledger event: what it did and which assignment and unit it names (from its data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRef {
    pub event_id: i64,
    pub seq: i32,
    pub action: String,
    pub at: DateTime<Utc>,
    #[serde(skip)]
    pub to_status: String,
    #[serde(skip)]
    pub assignment_id: Option<i64>,
    #[serde(skip)]
    pub unit_id: Option<i64>,
}

/// One ticket's facts: its assignments and its ledger in order.
#[derive(Clone, Debug, Default)]
pub struct TicketFacts {
    pub ticket_id: i64,
    pub assignments: Vec<AssignmentFacts>,
    pub events: Vec<EventRef>,
}

/// A rule that fired, with the events that prove it.
#[derive(Clone, Debug, PartialEq)]
pub struct Breach {
    pub rule: Rule,
    pub key: String,
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignment_id: Option<i64>,
    /// When the red line was crossed (the missed deadline, the second return or reopen).
    pub at: DateTime<Utc>,
    pub evidence: Vec<EventRef>,
}

fn naming(events: &[EventRef], assignment_id: i64) -> Vec<EventRef> {
    events.iter().filter(|e| e.assignment_id == Some(assignment_id)).cloned().collect()
}

fn response_missed(t: &TicketFacts, a: &AssignmentFacts, now: DateTime<Utc>) -> Option<Breach> {
    // When the unit answered (signed) or the order left it; either after the deadline is a miss.
    let answered = a.accepted_at.or(a.ended_at);
    let until = answered.unwrap_or(now);
    let missed = until > a.respond_by;
    missed.then(|| Breach {
        rule: Rule::ResponseMissed,
        key: format!("response_missed:assignment:{}", a.id),
        ticket_id: t.ticket_id,
        unit_id: a.unit_id,
        assignment_id: Some(a.id),
        at: a.respond_by,
        evidence: naming(&t.events, a.id).into_iter().filter(|e| e.at <= until).collect(),
    })
}

fn result_overdue(t: &TicketFacts, a: &AssignmentFacts, days: i64, now: DateTime<Utc>) -> Option<Breach> {
    let limit = a.resolve_by + Duration::days(days);
    let overdue = match a.resolved_at {
        Some(at) => at > limit,
        None => a.active && now > limit,
    };
    overdue.then(|| Breach {
        rule: Rule::ResultOverdue,
        key: format!("result_overdue:assignment:{}", a.id),
        ticket_id: t.ticket_id,
        unit_id: a.unit_id,
        assignment_id: Some(a.id),
        at: limit,
        evidence: naming(&t.events, a.id),
    })
}

fn returned_twice(t: &TicketFacts) -> Vec<Breach> {
    let returns: Vec<&EventRef> = t.events.iter().filter(|e| e.action == "return" && e.unit_id.is_some()).collect();
    let mut units: Vec<i64> = returns.iter().filter_map(|e| e.unit_id).collect();
    units.sort_unstable();
    units.dedup();
    units
        .into_iter()
        .filter_map(|unit| {
            let by_unit: Vec<EventRef> =
                returns.iter().filter(|e| e.unit_id == Some(unit)).map(|e| (*e).clone()).collect();
            let second = by_unit.get(1)?.clone();
            Some(Breach {
                rule: Rule::ReturnedTwice,
                key: format!("returned_twice:ticket:{}:unit:{unit}", t.ticket_id),
                ticket_id: t.ticket_id,
                unit_id: unit,
                assignment_id: second.assignment_id,
                at: second.at,
                evidence: by_unit,
            })
        })
        .collect()
}

fn reopened_twice(t: &TicketFacts) -> Option<Breach> {
    let reopens: Vec<EventRef> =
        t.events.iter().filter(|e| e.action == "return_visit" && e.to_status == "reopened").cloned().collect();
    let second = reopens.get(1)?;
    // The unit whose result the second visit rejected: the last one to resolve before it.
    let judged = t
        .assignments
        .iter()
        .filter(|a| a.resolved_at.is_some_and(|r| r <= second.at))
        .max_by_key(|a| (a.resolved_at, a.id))?;
    let resolutions = t.events.iter().filter(|e| e.action == "resolve" && e.at <= second.at).cloned();
    let mut evidence: Vec<EventRef> = reopens.iter().take(2).cloned().chain(resolutions).collect();
    evidence.sort_by_key(|e| e.seq);
    Some(Breach {
        rule: Rule::ReopenedTwice,
        key: format!("reopened_twice:ticket:{}", t.ticket_id),
        ticket_id: t.ticket_id,
        unit_id: judged.unit_id,
        assignment_id: Some(judged.id),
        at: second.at,
        evidence,
    })
}

/// Every breach of the enabled rules in one ticket's facts at `now`.
pub fn evaluate(rules: &Rules, t: &TicketFacts, now: DateTime<Utc>) -> Vec<Breach> {
    let mut out = Vec::new();
    for a in &t.assignments {
        if rules.response_missed
            && let Some(b) = response_missed(t, a, now)
        {
            out.push(b);
        }
        if let Some(days) = rules.result_overdue_days
            && let Some(b) = result_overdue(t, a, days, now)
        {
            out.push(b);
        }
    }
    if rules.returned_twice {
        out.extend(returned_twice(t));
    }
    if rules.reopened_twice
        && let Some(b) = reopened_twice(t)
    {
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn ev(seq: i32, action: &str, h: i64, assignment: Option<i64>, unit: Option<i64>, to: &str) -> EventRef {
        EventRef {
            event_id: 100 + seq as i64,
            seq,
            action: action.into(),
            at: at(h),
            to_status: to.into(),
            assignment_id: assignment,
            unit_id: unit,
        }
    }

    fn assignment(id: i64, unit: i64) -> AssignmentFacts {
        AssignmentFacts {
            id,
            unit_id: unit,
            active: true,
            respond_by: at(2),
            accepted_at: Some(at(1)),
            ended_at: None,
            resolve_by: at(48),
            resolved_at: None,
        }
    }

    fn facts(assignments: Vec<AssignmentFacts>, events: Vec<EventRef>) -> TicketFacts {
        TicketFacts { ticket_id: 7, assignments, events }
    }

    #[test]
    fn a_clean_ticket_breaks_no_rule() {
        let mut a = assignment(1, 10);
        a.resolved_at = Some(at(20));
        a.active = false;
        let t = facts(
            vec![a],
            vec![ev(1, "dispatch", 0, Some(1), Some(10), "dispatched"), ev(2, "accept", 1, Some(1), None, "accepted")],
        );
        assert!(evaluate(&Rules::ALL_ON, &t, at(1000)).is_empty());
    }

    #[test]
    fn response_missed_fires_on_a_late_or_missing_acceptance_with_its_events() {
        let mut late = assignment(1, 10);
        late.accepted_at = Some(at(5));
        let t = facts(
            vec![late],
            vec![ev(1, "dispatch", 0, Some(1), Some(10), "dispatched"), ev(2, "accept", 5, Some(1), None, "accepted")],
        );
        let b = evaluate(&Rules::ALL_ON, &t, at(6));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].key, "response_missed:assignment:1");
        assert_eq!(b[0].unit_id, 10);
        assert_eq!(b[0].evidence.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);

        let mut waiting = assignment(2, 10);
        waiting.accepted_at = None;
        let t = facts(vec![waiting], vec![ev(1, "dispatch", 0, Some(2), Some(10), "dispatched")]);
        assert!(evaluate(&Rules::ALL_ON, &t, at(1)).is_empty(), "the deadline has not passed yet");
        assert_eq!(evaluate(&Rules::ALL_ON, &t, at(3))[0].rule, Rule::ResponseMissed);
        let off = Rules { response_missed: false, ..Rules::ALL_ON };
        assert!(evaluate(&off, &t, at(3)).is_empty());
    }

    #[test]
    fn an_order_returned_in_time_missed_no_response() {
        let mut returned = assignment(3, 10);
        returned.accepted_at = None;
        returned.active = false;
        returned.ended_at = Some(at(1));
        let t = facts(vec![returned], vec![ev(2, "return", 1, Some(3), Some(10), "registered")]);
        assert!(evaluate(&Rules::ALL_ON, &t, at(500)).is_empty());
    }

    #[test]
    fn result_overdue_fires_past_the_threshold_only() {
        let a = assignment(4, 11);
        let t = facts(vec![a.clone()], vec![ev(1, "dispatch", 0, Some(4), Some(11), "dispatched")]);
        assert!(evaluate(&Rules::ALL_ON, &t, at(48 + 72)).is_empty(), "exactly three days late is not more");
        let b = evaluate(&Rules::ALL_ON, &t, at(48 + 73));
        assert_eq!(b[0].key, "result_overdue:assignment:4");
        let mut resolved_late = a;
        resolved_late.active = false;
        resolved_late.resolved_at = Some(at(48 + 100));
        let t = facts(vec![resolved_late], vec![ev(3, "resolve", 148, Some(4), None, "resolved")]);
        assert_eq!(evaluate(&Rules::ALL_ON, &t, at(1000))[0].evidence[0].action, "resolve");
        let off = Rules { result_overdue_days: None, ..Rules::ALL_ON };
        assert!(evaluate(&off, &t, at(1000)).is_empty());
    }

    #[test]
    fn returned_twice_fires_per_unit_that_returned_twice() {
        let t = facts(
            vec![],
            vec![
                ev(2, "return", 1, Some(1), Some(10), "registered"),
                ev(4, "return", 3, Some(2), Some(11), "registered"),
                ev(6, "return", 5, Some(3), Some(10), "registered"),
            ],
        );
        let b = evaluate(&Rules::ALL_ON, &t, at(6));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].key, "returned_twice:ticket:7:unit:10");
        assert_eq!(b[0].evidence.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 6]);
        assert_eq!(b[0].assignment_id, Some(3));
    }

    #[test]
    fn reopened_twice_names_the_unit_whose_result_was_rejected() {
        let mut first = assignment(1, 10);
        first.active = false;
        first.resolved_at = Some(at(10));
        let mut redo = assignment(2, 12);
        redo.active = false;
        redo.resolved_at = Some(at(30));
        let events = vec![
            ev(4, "resolve", 10, Some(1), None, "resolved"),
            ev(5, "return_visit", 12, None, None, "reopened"),
            ev(7, "resolve", 30, Some(2), None, "resolved"),
            ev(8, "return_visit", 32, None, None, "reopened"),
        ];
        let once = facts(vec![first.clone()], events[..2].to_vec());
        assert!(evaluate(&Rules::ALL_ON, &once, at(40)).is_empty());
        let t = facts(vec![first, redo], events);
        let b = evaluate(&Rules::ALL_ON, &t, at(40));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].key, "reopened_twice:ticket:7");
        assert_eq!(b[0].unit_id, 12);
        assert_eq!(b[0].evidence.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5, 7, 8]);
    }

    #[test]
    fn rule_names_read_back() {
        for r in ALL_RULES {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
        }
        assert_eq!(Rule::parse("late"), None);
    }
}
