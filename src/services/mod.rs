//! Use cases. Each one that writes runs in one transaction: the state change, its ledger event and
//! any outbox message commit together or not at all.
pub mod actions;
pub mod appeals;
pub mod auth;
pub mod card_admin;
pub mod card_render;
pub mod cards;
pub mod intake;
pub mod ledger;
pub mod order_view;
pub mod rating;
pub mod return_visits;
pub mod sla_admin;
pub mod sms_receipts;
pub mod sms_replies;
pub mod stats;
pub mod tickets;
pub mod tracking;
pub mod uploads;
pub mod views;
pub mod villagers;
pub mod visit_queue;
pub mod worklink;
