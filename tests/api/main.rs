//! HTTP-level tests of minsheng against a real database (SQLite or PostgreSQL, see helpers.rs).
mod auth;
mod card_admin;
mod card_render;
mod card_scans;
mod cards;
mod cli;
mod health;
mod helpers;
mod intake;
mod ledger;
mod loop_;
mod pages;
mod scope;
mod stats;
mod transitions;
