//! minsheng (民声直达): the backend and gateway for 接诉即办 citizen-request handling in a county.
pub mod auth;
pub mod cards;
pub mod configuration;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod html;
pub mod repo;
pub mod routes;
pub mod services;
pub mod sms;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod workers;
