//! The cadre's pages from the SMS link: the order page (`/w/{token}`) and the call page.
use super::{Frame, LocalTime, TimelineItem};
use askama::Template;

/// A step's deadline on the order page.
pub struct DeadlineRow {
    pub label: &'static str,
    pub by: LocalTime,
    pub state: StepState,
}

pub enum StepState {
    Done(LocalTime),
    DoneLate(LocalTime),
    /// Missed, and the order is still with this cadre.
    Late,
    Open,
}

impl StepState {
    /// The row's class in `css/console.css`.
    pub fn class(&self) -> &'static str {
        match self {
            StepState::Done(_) => "done",
            StepState::DoneLate(_) => "done late",
            StepState::Late => "late",
            StepState::Open => "",
        }
    }
}

/// The current step's deadline when it has passed.
pub struct Overdue {
    pub label: &'static str,
    pub at: LocalTime,
}

/// What the cadre may do from the page.
pub enum Forms {
    /// The link names no active cadre (a unit's duty phone, a deactivated account).
    ViewOnly,
    /// The assignment is no longer the ticket's current one.
    Ended,
    Act {
        accept: bool,
        /// Progress and resolve.
        report: bool,
        /// 退单.
        give_back: bool,
        escalation_pending: bool,
    },
    /// 联合办理: an assisting unit's open part — sign for it (until done), report it.
    Assist { accept: bool },
    /// An assisting part already reported or released.
    PartDone,
}

/// Something asked of the unit (派单要求, 催办 …), as the page shows it.
pub struct AskedRow {
    pub label: &'static str,
    pub at: LocalTime,
    pub note: String,
}

/// A file the villager sent with the request, served under the page's own link.
pub struct ReportedFile {
    pub url: String,
    pub mime: &'static str,
}

/// What was reported and what was asked, shown while the order is with the link's cadre.
pub struct BriefView {
    pub asked: Vec<AskedRow>,
    pub photos: Vec<ReportedFile>,
    pub voices: Vec<ReportedFile>,
    /// The position the villager sent, as text (WGS-84, as the phone measured it).
    pub position: Option<Position>,
}

pub struct Position {
    /// `北纬39.91234°，东经116.40123°`.
    pub text: String,
    /// `geo:` URI: the phone's map app, nothing loaded by the page.
    pub geo: String,
}

impl Position {
    pub fn new(lat: f64, lng: f64) -> Option<Position> {
        if !(lat.is_finite() && lng.is_finite()) {
            return None;
        }
        let ns = if lat >= 0.0 { "北纬" } else { "南纬" };
        let ew = if lng >= 0.0 { "东经" } else { "西经" };
        Some(Position {
            text: format!("{ns}{:.5}°，{ew}{:.5}°", lat.abs(), lng.abs()),
            geo: format!("geo:{lat:.6},{lng:.6}?q={lat:.6},{lng:.6}"),
        })
    }
}

/// A form the server refused: which one, the field named by the error (its message is shown next
/// to it), and the text the cadre had typed (kept, not lost).
pub struct Refused<'a> {
    pub action: &'a str,
    pub field: Option<&'a str>,
    pub message: &'a str,
    pub kept: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "worklink.html")]
pub struct OrderPage<'a> {
    pub frame: Frame,
    pub token: &'a str,
    pub no: &'a str,
    pub status_label: &'a str,
    pub category: &'a str,
    pub village: &'a str,
    pub description: &'a str,
    pub requester: &'a str,
    pub masked_phone: String,
    /// The cadre holds the order now: the page offers the call page and the forms.
    pub can_act: bool,
    pub address: &'a str,
    pub flash: Option<&'a str>,
    pub overdue: Option<Overdue>,
    pub error: Option<&'a str>,
    /// The form the error belongs to, when it belongs to one.
    pub refused: Option<Refused<'a>>,
    pub brief: Option<BriefView>,
    pub deadlines: Vec<DeadlineRow>,
    pub forms: Forms,
    pub max_photos: usize,
    pub timeline: Vec<TimelineItem>,
}

impl OrderPage<'_> {
    /// The server's message for a field of a form, shown next to it.
    pub fn field_msg(&self, action: &str, field: &str) -> Option<&str> {
        self.refused.as_ref().filter(|r| r.action == action && r.field == Some(field)).map(|r| r.message)
    }

    /// The text the cadre had typed in a refused form.
    pub fn kept(&self, action: &str) -> &str {
        self.refused.as_ref().filter(|r| r.action == action).and_then(|r| r.kept).unwrap_or("")
    }

    /// Whether a form (one behind a `<details>`) opens by itself: its submission was refused.
    pub fn is_refused(&self, action: &str) -> bool {
        self.refused.as_ref().is_some_and(|r| r.action == action)
    }
}

#[derive(Template)]
#[template(path = "worklink_call.html")]
pub struct CallPage<'a> {
    pub frame: Frame,
    pub token: &'a str,
    pub no: &'a str,
    pub requester: &'a str,
    /// In full: this page is for the cadre holding the order, and each view is logged.
    pub phone: &'a str,
}
