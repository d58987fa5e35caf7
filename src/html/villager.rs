//! The villagers' pages: the card page with its no-JavaScript form, the result page, tracking and
//! the one-tap rating page.
use super::{Frame, LocalTime, TimelineItem};
use crate::domain::card::Contact;
use askama::Template;

/// The limits the card page states and its form applies, from the constants the server enforces.
pub struct IntakeLimits {
    pub description: usize,
    pub name: usize,
    pub address: usize,
    pub photos: usize,
}

/// A category button on the card page.
pub struct CategoryChoice<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

/// What the villager typed, put back into the form after an error.
#[derive(Default)]
pub struct TypedFields<'a> {
    pub category: &'a str,
    pub description: &'a str,
    pub phone: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub lat: &'a str,
    pub lng: &'a str,
}

#[derive(Template)]
#[template(path = "intake.html")]
pub struct IntakePage<'a> {
    pub frame: Frame,
    pub code: &'a str,
    pub hotline: &'a str,
    pub contacts: &'a [Contact],
    pub categories: Vec<CategoryChoice<'a>>,
    pub error: Option<&'a str>,
    pub idempotency_key: String,
    /// Uploads kept from an earlier try of the same form (hidden fields).
    pub upload_ids: &'a [String],
    pub typed: TypedFields<'a>,
    pub limits: IntakeLimits,
}

/// The SMS line of the result page: a number that has had its day's confirmations gets none, and
/// the page must not promise one.
pub enum SmsNote {
    SentTo(String),
    DailyLimitReached,
}

#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage<'a> {
    pub frame: Frame,
    pub ticket_no: &'a str,
    pub respond_by: LocalTime,
    pub sms: SmsNote,
    pub tracking_url: &'a str,
}

/// Tracking, first step: asks for the phone's last four digits.
#[derive(Template)]
#[template(path = "track.html")]
pub struct TrackPage<'a> {
    pub frame: Frame,
    pub no: &'a str,
    pub error: Option<&'a str>,
}

/// Who handles the request and by when, on the tracking page.
pub enum Handling {
    RespondBy { unit: String, by: LocalTime },
    ResolveBy { unit: String, by: LocalTime },
    Unit { unit: String },
    Pending,
}

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage<'a> {
    pub frame: Frame,
    pub no: &'a str,
    pub status_label: &'a str,
    pub category: &'a str,
    pub village: &'a str,
    /// Masked (`138****5678`).
    pub phone: &'a str,
    pub handling: Handling,
    pub timeline: Vec<TimelineItem>,
}

#[derive(Template)]
#[template(path = "rate.html")]
pub struct RatePage<'a> {
    pub frame: Frame,
    pub no: &'a str,
    pub category: &'a str,
    pub village: &'a str,
    pub result: &'a str,
    pub token: &'a str,
    pub comment_max: usize,
}
