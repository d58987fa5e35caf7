//! What the gateway needs to know about each message kind: who receives it, whether a villager may
//! opt out of it, whether it waits out quiet hours, and the order of its template variables.
use super::values::OutboxKind;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Villager,
    Staff,
}

/// Staff kinds go to cadres and leaders as part of their duty. The match is exhaustive, so a kind
/// added later gets its audience (and with it quiet hours and opt-outs) decided when it is added.
pub fn audience(kind: OutboxKind) -> Audience {
    match kind {
        OutboxKind::Assignment
        | OutboxKind::Urge
        | OutboxKind::Escalation
        | OutboxKind::Reminder
        | OutboxKind::WeeklyReport
        | OutboxKind::Recall
        | OutboxKind::Pause
        | OutboxKind::Assist
        | OutboxKind::CouncilNotice
        // Not a person at all: the city platform (channel `upstream`), never an SMS.
        | OutboxKind::UpstreamStatus => Audience::Staff,
        OutboxKind::Confirmation
        | OutboxKind::Otp
        | OutboxKind::RatingRequest
        | OutboxKind::ProactiveDone
        | OutboxKind::StatusReply
        | OutboxKind::Accepted => Audience::Villager,
    }
}

/// Sent even to a phone that replied TD: what the person asked for (one-time codes, the answer to a
/// status query texted in), and duty messages.
pub fn essential(kind: OutboxKind) -> bool {
    matches!(kind, OutboxKind::Otp | OutboxKind::StatusReply) || audience(kind) == Audience::Staff
}

/// Non-urgent villager messages wait for the morning; one-time codes never wait.
pub fn waits_out_quiet_hours(kind: OutboxKind, urgent: bool) -> bool {
    audience(kind) == Audience::Villager && !urgent && kind != OutboxKind::Otp
}

/// Default order of template variables for providers whose variables are positional (Tencent):
/// the templates registered with the provider must use this order (or configure `param_order`).
/// `template` is the outbox row's template name: a message kind, whose order is fixed here, or any
/// other name, whose variables go in key order.
pub fn param_names(template: &str, params: &Value) -> Vec<String> {
    let fixed: &[&str] = match OutboxKind::parse(template) {
        Some(OutboxKind::Assignment) => &["no", "category", "village", "deadline", "token"],
        Some(OutboxKind::Escalation) => &["no", "category", "deadline", "token"],
        Some(OutboxKind::Assist) => &["no", "category", "village", "lead", "deadline", "token"],

        Some(OutboxKind::Confirmation | OutboxKind::Urge | OutboxKind::Accepted) => &["no"],
        Some(OutboxKind::RatingRequest) => &["no", "token"],
        Some(OutboxKind::Reminder) => &["no", "step", "deadline", "token"],
        Some(OutboxKind::WeeklyReport) => &["week", "unit", "score", "rank", "units"],
        Some(OutboxKind::Recall) => &["no", "action"],
        Some(OutboxKind::Pause) => &["no", "what"],
        Some(OutboxKind::CouncilNotice) => &["village", "category", "decision"],
        Some(OutboxKind::StatusReply) => &["no", "status"],
        Some(OutboxKind::ProactiveDone) => &["no", "category", "unit"],

        Some(OutboxKind::Otp) => &["code"],
        Some(OutboxKind::UpstreamStatus) | None => &[],
    };
    if !fixed.is_empty() {
        return fixed.iter().map(|s| s.to_string()).collect();
    }
    // serde_json keeps object keys sorted, so this order is stable.
    params.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duty_messages_are_essential_and_ignore_quiet_hours() {
        use OutboxKind::*;
        assert!(essential(Assignment) && essential(Otp) && !essential(RatingRequest));
        // Every kind is placed by the exhaustive match; the villager kinds other than codes are optional.
        assert!(!essential(Confirmation));
        assert!(waits_out_quiet_hours(RatingRequest, false));
        assert!(!waits_out_quiet_hours(RatingRequest, true));
        assert!(!waits_out_quiet_hours(Otp, false));
        assert!(!waits_out_quiet_hours(Reminder, false));
    }

    #[test]
    fn positional_order_is_fixed_for_known_kinds_and_sorted_otherwise() {
        let p = serde_json::json!({"village": "v", "no": "n", "deadline": "d", "category": "c"});
        assert_eq!(param_names("assignment", &p), ["no", "category", "village", "deadline", "token"]);
        let q = serde_json::json!({"b": 1, "a": 2});
        assert_eq!(param_names("weekly_notice", &q), ["a", "b"]);
    }
}
