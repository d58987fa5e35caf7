//! HTTP routes: thin handlers that extract, call a service and shape the answer.
pub mod admin;
pub mod auth;
pub mod cards;
pub mod console;
pub mod health;
pub mod orders;
pub mod pages;
pub mod sla;
pub mod stats;
pub mod tickets;
pub mod worklink;

use actix_web::web;
use serde::Serialize;

/// The list shape of API.md: `{items, total, page, per_page}`.
#[derive(Serialize)]
pub struct ListAnswer<T: Serialize> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T: Serialize> ListAnswer<T> {
    pub fn new(items: Vec<T>, total: u64, page: crate::repo::Page) -> Self {
        ListAnswer { items, total, page: page.page, per_page: page.per_page }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    pages::configure(cfg);
    console::configure(cfg);
    worklink::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(auth::configure)
            .configure(cards::configure)
            .configure(tickets::configure)
            .configure(stats::configure)
            .configure(admin::configure)
            .configure(sla::configure)
            .configure(orders::configure),
    );
}
