//! SeaORM entities for the minsheng schema (see `migration/`). Only `src/repo` uses them.

pub mod app_secrets;
pub mod appeals;
pub mod assignments;
pub mod audit_log;
pub mod calendar_days;
pub mod calendar_years;
pub mod card_scans;
pub mod cards;
pub mod categories;
pub mod events;
pub mod idempotency_keys;
pub mod outbox;
pub mod phone_access_log;
pub mod refresh_families;
pub mod regions;
pub mod return_visits;
pub mod sla_policies;
pub mod sms_attempts;
pub mod sms_opt_outs;
pub mod sms_replies;
pub mod staff;
pub mod ticket_counters;
pub mod tickets;
pub mod units;
pub mod uploads;
pub mod visit_tasks;
