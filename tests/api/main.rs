//! HTTP-level tests of minsheng against a real database (SQLite or PostgreSQL, see helpers.rs).
mod auth;
mod cards;
mod cli;
mod health;
mod helpers;
mod intake;
mod ledger;
mod limits;
mod loop_;
mod pages;
mod scope;
mod stats;
mod transitions;
mod uploads;
mod villagers;
mod visits;
