//! Server-side HTML: the page templates from `assets/` (compiled in, so the binary serves them from
//! any directory) and a tiny renderer. `{{key}}` is HTML-escaped; `{{{key}}}` inserts trusted markup
//! built by our own code from escaped parts.
use std::collections::HashMap;

pub const PAGE: &str = include_str!("../assets/page.html");
pub const INTAKE: &str = include_str!("../assets/intake.html");
pub const RESULT: &str = include_str!("../assets/result.html");
pub const TRACK: &str = include_str!("../assets/track.html");
pub const STATUS: &str = include_str!("../assets/status.html");
pub const MESSAGE: &str = include_str!("../assets/message.html");
pub const RATE: &str = include_str!("../assets/rate.html");
pub const CONSOLE_VISITS: &str = include_str!("../assets/console/visits.html");
pub const WORKLINK: &str = include_str!("../assets/worklink.html");
pub const CONSOLE: &str = include_str!("../assets/console.html");

/// Static files under `/assets/`: (content type, bytes).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match path {
        "css/app.css" => ("text/css; charset=utf-8", include_bytes!("../assets/css/app.css")),
        "js/intake.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/js/intake.js")),
        "js/font.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/js/font.js")),
        "console/visits.css" => ("text/css; charset=utf-8", include_bytes!("../assets/console/visits.css")),
        "console/visits.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/console/visits.js")),
        "css/console.css" => ("text/css; charset=utf-8", include_bytes!("../assets/css/console.css")),
        "js/console.js" => ("text/javascript; charset=utf-8", include_bytes!("../assets/js/console.js")),
        _ => return None,
    })
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Values for a template: escaped text and raw markup.
#[derive(Default)]
pub struct Vars {
    text: HashMap<&'static str, String>,
    raw: HashMap<&'static str, String>,
}

impl Vars {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.text.insert(k, v.into());
        self
    }

    pub fn raw(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.raw.insert(k, v.into());
        self
    }
}

/// Replaces `{{{k}}}` (raw) then `{{k}}` (escaped); unknown keys become empty.
pub fn render(template: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") { (true, 3, "}}}") } else { (false, 2, "}}") };
        match after[open..].find(close) {
            Some(end) => {
                let key = after[open..open + end].trim();
                if raw {
                    out.push_str(vars.raw.get(key).map(String::as_str).unwrap_or(""));
                } else {
                    out.push_str(&escape(vars.text.get(key).map(String::as_str).unwrap_or("")));
                }
                rest = &after[open + end + close.len()..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A whole page: the frame with its heading around `content`.
pub fn page(title: &str, heading: &str, subheading: &str, county: &str, content: String) -> String {
    page_with(&Frame { title, heading, subheading, county, large: false, scripts: &[] }, content)
}

/// The frame of a villager page: titles, large-font mode, scripts (from `/assets/js/`).
pub struct Frame<'a> {
    pub title: &'a str,
    pub heading: &'a str,
    pub subheading: &'a str,
    pub county: &'a str,
    pub large: bool,
    pub scripts: &'a [&'a str],
}

pub fn page_with(f: &Frame<'_>, content: String) -> String {
    let scripts: String = ["font.js"]
        .iter()
        .chain(f.scripts)
        .map(|s| format!("<script src=\"/assets/js/{}\" defer></script>\n", escape(s)))
        .collect();
    render(
        PAGE,
        &Vars::new()
            .text("title", f.title)
            .text("heading", f.heading)
            .text("subheading", f.subheading)
            .text("county", f.county)
            .text("body_class", if f.large { "large" } else { "" })
            .text("font_href", if f.large { "?large=0" } else { "?large=1" })
            .text("font_label", if f.large { "标准字" } else { "大字" })
            .raw("content", content)
            .raw("scripts", scripts),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_raw_is_not() {
        let v = Vars::new().text("a", "<b>&\"'").raw("b", "<i>x</i>");
        assert_eq!(render("{{a}}|{{{b}}}|{{missing}}|{", &v), "&lt;b&gt;&amp;&quot;&#39;|<i>x</i>||{");
    }
}
