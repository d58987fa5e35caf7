//! The public village notice page of the council's published decisions (`/v/{id}/notices`).
use super::Frame;
use askama::Template;

/// One decision in words: local date, category name, masked text, "王德厚（老党员）、…".
pub struct NoticeLine {
    pub date: String,
    pub category: String,
    pub decision: String,
    pub members: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
pub struct NoticesPage<'a> {
    pub frame: Frame,
    pub village: &'a str,
    pub total: u64,
    pub items: Vec<NoticeLine>,
    pub page: u64,
    pub prev: Option<u64>,
    pub next: Option<u64>,
}
