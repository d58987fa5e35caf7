//! Use cases. Each one that writes runs in one transaction: the state change, its ledger event and
//! any outbox message commit together or not at all.
pub mod actions;
pub mod auth;
pub mod cards;
pub mod intake;
pub mod ledger;
pub mod order_view;
pub mod return_visits;
pub mod sla_admin;
pub mod stats;
pub mod tickets;
pub mod views;
pub mod worklink;
