//! SeaORM entities for the minsheng schema (see `migration/`). Only `src/repo` uses them.

pub mod regions;
pub mod units;
pub mod staff;
pub mod categories;
pub mod sla_policies;
pub mod cards;
pub mod ticket_counters;
pub mod tickets;
pub mod assignments;
pub mod events;
pub mod return_visits;
pub mod outbox;
pub mod uploads;
pub mod idempotency_keys;
