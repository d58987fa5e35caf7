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
pub const WORKLINK: &str = include_str!("../assets/worklink.html");
pub const CONSOLE: &str = include_str!("../assets/console.html");

/// Static files under `/assets/`: (content type, bytes).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match path {
        "css/app.css" => ("text/css; charset=utf-8", include_bytes!("../assets/css/app.css")),
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
    render(
        PAGE,
        &Vars::new()
            .text("title", title)
            .text("heading", heading)
            .text("subheading", subheading)
            .text("county", county)
            .raw("content", content),
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
