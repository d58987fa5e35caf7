//! The villagers' pages: the card page with its no-JavaScript form, the result page, tracking and
//! the one-tap rating page.
use super::{Frame, LocalTime, TimelineItem};
use crate::domain::card::Contact;
use crate::error::FieldError;
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
    /// A message for the whole form (an upload refused, the form already sent…).
    pub error: Option<&'a str>,
    /// Each wrong field with its message, shown next to the field; the first gets the focus.
    pub field_errors: Vec<FieldError>,
    /// The county's time zone, for the enhanced result the script draws (`respond_by`).
    pub tz: &'a str,
    pub idempotency_key: String,
    /// Uploads kept from an earlier try of the same form (hidden fields).
    pub upload_ids: &'a [String],
    pub typed: TypedFields<'a>,
    pub limits: IntakeLimits,
    /// The village council's public notice page (三老合议公告), linked under the form.
    pub notices_url: String,
}

impl IntakePage<'_> {
    /// The message for form field `field`, if it is wrong.
    pub fn err(&self, field: &str) -> Option<&str> {
        self.field_errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// Whether `field` is the first wrong one (it gets `autofocus`: the page opens scrolled to it).
    pub fn is_first(&self, field: &str) -> bool {
        self.field_errors.first().is_some_and(|e| e.field == field)
    }
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
    /// The requester's phone, masked (`138****5678`).
    pub phone: String,
    /// The tracking page, opened with the phone's last four digits the villager has just typed.
    pub track_href: String,
    /// The answer to a form already sent (back button, resend): said so, with a way to a new form.
    pub replayed: bool,
    pub card_code: &'a str,
}

/// Tracking, first step: asks for the phone's last four digits.
#[derive(Template)]
#[template(path = "track.html")]
pub struct TrackPage<'a> {
    pub frame: Frame,
    pub no: &'a str,
    pub error: Option<&'a str>,
}

/// `/t/`: find a request again by its number and the phone's last four digits; with JavaScript,
/// also "我的诉求" after an SMS code.
#[derive(Template)]
#[template(path = "lookup.html")]
pub struct LookupPage<'a> {
    pub frame: Frame,
    pub no: &'a str,
    pub no_error: Option<&'a str>,
    pub tail_error: Option<&'a str>,
}

/// An unknown address asked for by a browser: a Chinese page with the ways on.
#[derive(Template)]
#[template(path = "notfound.html")]
pub struct NotFoundPage<'a> {
    pub frame: Frame,
    pub message: &'a str,
}

/// Who handles the request and by when, on the tracking page.
pub enum Handling {
    RespondBy {
        unit: String,
        by: LocalTime,
    },
    ResolveBy {
        unit: String,
        by: LocalTime,
    },
    Unit {
        unit: String,
    },
    /// 挂起: paused with a leader's approval until a day.
    Paused {
        unit: String,
        until: String,
    },
    /// Not yet with a unit: when the villager will be contacted at the latest, while it still lies ahead.
    Pending {
        by: Option<LocalTime>,
    },
}

/// One of the requester's own attachments on the tracking page, by a short-lived signed link.
pub struct Media {
    pub url: String,
    pub audio: bool,
}

/// The requester's rating of the result, once given.
pub struct Rated {
    pub label: &'static str,
    pub comment: Option<String>,
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
    /// What the villager wrote, and their photos and voice note.
    pub description: &'a str,
    pub media: Vec<Media>,
    pub rating: Option<Rated>,
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
