//! Server-rendered HTML: the pages are askama templates in `templates/`, compiled into the binary
//! and checked when the crate compiles (a variable the page struct does not have, or a misspelt
//! field, fails the build) and HTML-escaped by default (`{{ value }}` cannot insert markup). Every
//! page extends one layout (`templates/layout.html`, fed by [`Frame`]); the timeline is one partial
//! (`templates/partials/timeline.html`, fed by [`TimelineItem`]); every time on a page is a
//! [`LocalTime`]. This module also serves the static files under `/assets/`.
mod council;
mod message;
mod redblack;
mod villager;
mod weekly_report;
mod worklink;

pub use council::{NoticeLine, NoticesPage};
pub use message::{Hotline, MessagePage};
pub use redblack::{RedBlackPage, RedBlackRow, RedBlackTier};
pub use villager::{
    CategoryChoice, Handling, IntakeLimits, IntakePage, LookupPage, Media, NotFoundPage, RatePage, Rated, ResultPage,
    SmsNote, StatusPage, TrackPage, TypedFields,
};
pub use weekly_report::{HotspotLine, OverdueLine, RateLine, WeeklyReport, WeeklyReportHtml, WeeklyReportText};
pub use worklink::{
    AskedRow, BriefView, CallPage, DeadlineRow, Forms, OrderPage, Overdue, Position, Refused, ReportedFile, StepState,
};

use crate::services::views::PublicEvent;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt;

/// The staff consoles: static shells (no server-side values) whose scripts speak the JSON API.
pub const CONSOLE: &str = include_str!("../../assets/console.html");
pub const CONSOLE_VISITS: &str = include_str!("../../assets/console/visits.html");
/// The hall's big screen (`/screen/`).
pub const SCREEN: &str = include_str!("../../assets/screen.html");

/// Static files under `/assets/`: (content type, bytes).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match path {
        "css/app.css" => ("text/css; charset=utf-8", include_bytes!("../../assets/css/app.css")),
        "js/intake.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/intake.js")),
        "js/mine.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/mine.js")),
        "js/font.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/font.js")),
        "console/visits.css" => ("text/css; charset=utf-8", include_bytes!("../../assets/console/visits.css")),
        "console/visits.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/console/visits.js")),
        "css/console.css" => ("text/css; charset=utf-8", include_bytes!("../../assets/css/console.css")),
        "js/admin.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/admin.js")),
        "js/directory.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/directory.js")),
        "js/queues.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/queues.js")),
        "js/hotspots.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/hotspots.js")),
        "js/accountability.js" => {
            ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/accountability.js"))
        }
        "js/council.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/council.js")),
        "js/screens.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/screens.js")),
        "js/dashboard.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/dashboard.js")),
        "js/console.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/console.js")),
        "js/staff.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/staff.js")),
        "css/screen.css" => ("text/css; charset=utf-8", include_bytes!("../../assets/css/screen.css")),
        "js/screen.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/screen.js")),
        "js/worklink.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/js/worklink.js")),
        _ => return None,
    })
}

/// The frame every page carries into `templates/layout.html`: titles, large-font mode, and the
/// stylesheets (`/assets/css/`) and scripts (`/assets/js/`, after `font.js`) beyond the common ones.
pub struct Frame {
    pub title: String,
    pub heading: String,
    pub subheading: String,
    pub county: String,
    pub large: bool,
    /// Query parameters the large-font link keeps (`phone_tail=1234&`, encoded, ending in `&`), so the
    /// no-JavaScript switch does not drop what the page was opened with.
    pub keep: String,
    pub styles: &'static [&'static str],
    pub scripts: &'static [&'static str],
}

impl Frame {
    pub fn new(county: &str, title: impl Into<String>, heading: impl Into<String>, sub: impl Into<String>) -> Self {
        Frame {
            title: title.into(),
            heading: heading.into(),
            subheading: sub.into(),
            county: county.to_string(),
            large: false,
            keep: String::new(),
            styles: &[],
            scripts: &[],
        }
    }

    /// Large-font mode (`?large=1`, the no-JavaScript toggle).
    pub fn large(mut self, on: bool) -> Self {
        self.large = on;
        self
    }

    /// Keeps `pairs` in the large-font link.
    pub fn keep(mut self, pairs: &[(&str, &str)]) -> Self {
        self.keep = pairs
            .iter()
            .map(|(k, v)| {
                let v = percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC);
                format!("{k}={v}&")
            })
            .collect();
        self
    }

    pub fn styles(mut self, styles: &'static [&'static str]) -> Self {
        self.styles = styles;
        self
    }

    pub fn scripts(mut self, scripts: &'static [&'static str]) -> Self {
        self.scripts = scripts;
        self
    }
}

/// A page as the answer: HTML, never cached (pages carry tokens, phone tails and live state). A
/// template that fails to render (only a failing `Display` could) answers a plain 500, which the
/// error middleware turns into the Chinese error page.
pub fn respond(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("系统繁忙，请稍后再试。")
        }
    }
}

/// A moment as a page shows it: month, day and time in the county's time zone (`03月10日 10:00`,
/// Asia/Shanghai unless configured otherwise). The one time format of every page.
#[derive(Clone, Copy, Debug)]
pub struct LocalTime(DateTime<Tz>);

impl LocalTime {
    pub fn new(t: DateTime<Utc>, tz: Tz) -> Self {
        LocalTime(t.with_timezone(&tz))
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%m月%d日 %H:%M"))
    }
}

/// `t` in the county's time zone, for a page.
pub fn local(state: &AppState, t: DateTime<Utc>) -> LocalTime {
    LocalTime::new(t, state.tz())
}

/// One line of the requester's timeline (`templates/partials/timeline.html`).
pub struct TimelineItem {
    pub at: LocalTime,
    pub label: String,
    pub unit: Option<String>,
    pub note: Option<String>,
}

/// The public timeline of a ticket, newest first, as the tracking page and the cadre's page show it.
pub fn timeline(state: &AppState, events: &[PublicEvent]) -> Vec<TimelineItem> {
    events
        .iter()
        .rev()
        .map(|e| TimelineItem {
            at: local(state, e.at),
            label: e.label.clone(),
            unit: e.unit.clone(),
            note: e.note.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new("清河县", "标题", "民声直达", "清河县")
    }

    #[test]
    fn times_are_shown_in_the_county_zone_in_one_format() {
        let t = "2026-10-01T16:05:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(LocalTime::new(t, chrono_tz::Asia::Shanghai).to_string(), "10月02日 00:05");
    }

    #[test]
    fn values_are_escaped_in_text_and_attributes() {
        let page = MessagePage {
            frame: frame(),
            title: "<script>alert(1)</script>",
            message: "\"><img src=x onerror=alert(1)>",
            hotline: Some(Hotline { number: "\"><b>", button: true }),
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{html}");
        assert!(html.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"), "{html}");
        assert!(html.contains("href=\"tel:&#34;&#62;&#60;b&#62;\""), "{html}");
    }

    #[test]
    fn the_layout_carries_large_font_mode_and_only_outside_scripts_and_styles() {
        let page = MessagePage {
            frame: frame().large(true).scripts(&["intake.js"]).styles(&["console.css"]),
            title: "t",
            message: "m",
            hotline: None,
        };
        let html = page.render().unwrap();
        assert!(html.contains("<body class=\"large\">") && html.contains("href=\"?large=0\">标准字</a>"), "{html}");
        assert!(html.contains("<script src=\"/assets/js/font.js\" defer></script>\n<script src=\"/assets/js/intake.js\" defer></script>"), "{html}");
        assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/css/console.css\">"), "{html}");
        assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains("style="), "{html}");
        let plain = MessagePage { frame: frame(), title: "t", message: "m", hotline: None }.render().unwrap();
        assert!(plain.contains("<body class=\"\">") && plain.contains("href=\"?large=1\">大字</a>"), "{plain}");
    }
}
