//! What the gateway needs to know about each message kind: who receives it, whether a villager may
//! opt out of it, whether it waits out quiet hours, and the order of its template variables.
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Villager,
    Staff,
}

/// Kinds that go to cadres and leaders as part of their duty.
const STAFF_KINDS: [&str; 5] = ["assignment", "urge", "escalation", "reminder", "weekly_report"];

/// Kinds not listed as staff kinds count as villager messages, so a kind added later is covered by
/// quiet hours and opt-outs until someone decides otherwise.
pub fn audience(kind: &str) -> Audience {
    if STAFF_KINDS.contains(&kind) { Audience::Staff } else { Audience::Villager }
}

/// Sent even to a phone that replied TD: one-time codes the person asked for, and duty messages.
pub fn essential(kind: &str) -> bool {
    kind == "otp" || audience(kind) == Audience::Staff
}

/// Non-urgent villager messages wait for the morning; one-time codes never wait.
pub fn waits_out_quiet_hours(kind: &str, urgent: bool) -> bool {
    audience(kind) == Audience::Villager && !urgent && kind != "otp"
}

/// Default order of template variables for providers whose variables are positional (Tencent):
/// the templates registered with the provider must use this order (or configure `param_order`).
pub fn param_names(kind: &str, params: &Value) -> Vec<String> {
    let fixed: &[&str] = match kind {
        "assignment" => &["no", "category", "village", "deadline", "token"],
        "escalation" => &["no", "category", "deadline", "token"],

        "confirmation" | "urge" => &["no"],
        "rating_request" => &["no", "token"],
        "reminder" => &["no", "step", "deadline", "token"],
        "weekly_report" => &["week", "unit", "score", "rank", "units"],

        "otp" => &["code"],
        _ => &[],
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
        assert!(essential("assignment") && essential("otp") && !essential("rating_request"));
        assert!(!essential("confirmation") && !essential("some_new_notice"));
        assert!(waits_out_quiet_hours("rating_request", false));
        assert!(!waits_out_quiet_hours("rating_request", true));
        assert!(!waits_out_quiet_hours("otp", false));
        assert!(!waits_out_quiet_hours("reminder", false));
    }

    #[test]
    fn positional_order_is_fixed_for_known_kinds_and_sorted_otherwise() {
        let p = serde_json::json!({"village": "v", "no": "n", "deadline": "d", "category": "c"});
        assert_eq!(param_names("assignment", &p), ["no", "category", "village", "deadline", "token"]);
        let q = serde_json::json!({"b": 1, "a": 2});
        assert_eq!(param_names("weekly_notice", &q), ["a", "b"]);
    }
}
