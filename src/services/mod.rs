//! Use cases. Each one that writes runs in one transaction: the state change, its ledger event and
//! any outbox message commit together or not at all.
pub mod accountability;
pub mod actions;
pub mod appeals;
pub mod auth;
pub mod card_admin;
pub mod card_render;
pub mod cards;
pub mod case_file;
pub mod catalogue;
pub mod change;
pub mod council;
pub mod directory;
pub mod exports;
pub mod fields;
pub mod hotspots;
pub mod import;
pub mod intake;
pub mod leaves;
pub mod ledger;
pub mod live;
pub mod open311;
pub mod open311_keys;
pub mod order_view;
pub mod orders;
pub mod proactive;
pub mod rating;
pub mod redblack;
pub mod reference;
pub mod retention;
pub mod return_visits;
pub mod screen;
pub mod screens;
pub mod sla_admin;
pub mod sms_admin;
pub mod sms_receipts;
pub mod sms_replies;
pub mod stats;
pub mod tickets;
pub mod tracking;
pub mod uploads;
pub mod urges;
pub mod views;
pub mod villagers;
pub mod visit_queue;
pub mod wechat_notices;
pub mod weekly_report;
pub mod worklink;

/// A free-text field from outside, checked (`domain::text`): trimmed, control characters refused
/// with the field named, direction overrides dropped.
pub fn clean_text(raw: &str, field: &str) -> crate::error::ApiResult<String> {
    crate::domain::text::clean(raw.trim())
        .map(|c| c.trim().to_string())
        .map_err(|e| crate::error::ApiError::validation(field, e.message()))
}
