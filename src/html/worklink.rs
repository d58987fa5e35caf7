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
    pub deadlines: Vec<DeadlineRow>,
    pub forms: Forms,
    pub max_photos: usize,
    pub timeline: Vec<TimelineItem>,
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
