//! A small SVG writer for card layouts, in millimetres. Text stays `<text>` (searchable, read by
//! screen readers, real text in the PDF); long names shrink to fit their column instead of running
//! into the next one.
use super::fonts;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Text for SVG (XML) content and attribute values.
pub fn escape(s: &str) -> String {
    crate::domain::text::escape_xml(s)
}

/// A number for SVG output: at most two decimals, no trailing zeros.
pub fn num(v: f32) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// Every character drawn as text in `markup` written by [`Svg`] (the content of its `<text>`
/// elements, unescaped): what an embedded font has to cover.
pub fn text_chars(markup: &str) -> BTreeSet<char> {
    let mut out = BTreeSet::new();
    let mut rest = markup;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let (Some(open), Some(close)) = (rest.find('>'), rest.find("</text>")) else { break };
        if open < close {
            let content = &rest[open + 1..close];
            let content = content
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
            out.extend(content.chars());
        }
        rest = &rest[close + "</text>".len()..];
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One line of text. `max_width` makes it shrink (down to `min_size`), then squeeze, to fit.
#[derive(Clone, Debug)]
pub struct Text<'a> {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub content: &'a str,
    pub fill: &'a str,
    pub anchor: Anchor,
    pub bold: bool,
    pub letter_spacing: f32,
    pub max_width: Option<f32>,
    pub min_size: f32,
}

impl<'a> Text<'a> {
    pub fn new(x: f32, y: f32, size: f32, content: &'a str, fill: &'a str) -> Self {
        Text {
            x,
            y,
            size,
            content,
            fill,
            anchor: Anchor::Start,
            bold: false,
            letter_spacing: 0.0,
            max_width: None,
            min_size: size * 0.6,
        }
    }

    pub fn anchor(mut self, a: Anchor) -> Self {
        self.anchor = a;
        self
    }

    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    pub fn spacing(mut self, letter_spacing: f32) -> Self {
        self.letter_spacing = letter_spacing;
        self
    }

    pub fn fit(mut self, max_width: f32) -> Self {
        self.max_width = Some(max_width);
        self
    }

    pub fn min(mut self, min_size: f32) -> Self {
        self.min_size = min_size;
        self
    }
}

#[derive(Default)]
pub struct Svg {
    out: String,
}

impl Svg {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: &str, radius: f32) {
        let rx = if radius > 0.0 { format!(" rx=\"{}\"", num(radius)) } else { String::new() };
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{rx} fill=\"{fill}\"/>",
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    pub fn frame(&mut self, (x, y, w, h): (f32, f32, f32, f32), stroke: &str, width: f32, radius: f32) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
            num(x),
            num(y),
            num(w),
            num(h),
            num(radius),
            num(width)
        );
    }

    pub fn line(&mut self, (x1, y1): (f32, f32), (x2, y2): (f32, f32), stroke: &str, width: f32) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(width)
        );
    }

    /// Writes the text and returns the width it occupies after fitting.
    pub fn text(&mut self, t: Text<'_>) -> f32 {
        let mut size = t.size;
        let mut spacing = t.letter_spacing;
        let mut width = fonts::advance(t.content, size, spacing);
        let mut squeeze = None;
        if let Some(max) = t.max_width
            && width > max
            && width > 0.0
        {
            let factor = (max / width).max(t.min_size / t.size);
            size = t.size * factor;
            spacing = t.letter_spacing * factor;
            width = fonts::advance(t.content, size, spacing);
            if width > max + 0.01 {
                squeeze = Some(max);
                width = max;
            }
        }
        let anchor = match t.anchor {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        };
        // The font has a single weight; a hairline outline in the fill colour makes the strong
        // lines (names, phones, hotline) bold on paper and in the PDF alike.
        let bold = if t.bold {
            format!(" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"", t.fill, num(size * 0.045))
        } else {
            String::new()
        };
        let ls = if spacing > 0.0 { format!(" letter-spacing=\"{}\"", num(spacing)) } else { String::new() };
        let squeeze = squeeze
            .map(|w| format!(" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\"", num(w)))
            .unwrap_or_default();
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{anchor}{bold}{ls}{squeeze}>{}</text>",
            num(t.x),
            num(t.y),
            num(size),
            t.fill,
            escape(t.content)
        );
        width
    }

    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(85.6), "85.6");
        assert_eq!(num(54.0), "54");
        assert_eq!(num(0.126), "0.13");
        assert_eq!(num(-0.001), "0");
    }

    #[test]
    fn long_text_shrinks_to_its_column_and_is_escaped() {
        let mut s = Svg::new();
        let w = s.text(Text::new(0.0, 5.0, 5.0, "新华村<第一>村民小组", "#000").fit(30.0).min(4.0));
        assert!(w <= 30.01, "{w}");
        let out = s.finish();
        assert!(out.contains("&lt;第一&gt;"), "{out}");
        assert!(out.contains("textLength=\"30\""), "{out}");
        let mut s = Svg::new();
        let w = s.text(Text::new(0.0, 5.0, 5.0, "李家庄村", "#000").fit(30.0));
        assert!((w - 20.0).abs() < 0.5, "{w}");
        assert!(s.finish().contains("font-size=\"5\""));
    }

    #[test]
    fn the_characters_of_all_text_elements_are_collected_unescaped() {
        let mut s = Svg::new();
        s.rect(0.0, 0.0, 1.0, 1.0, "#fff", 0.0);
        s.text(Text::new(0.0, 5.0, 5.0, "村<1>", "#000"));
        s.raw("<g><path d=\"M0 0\"/></g>");
        s.text(Text::new(0.0, 9.0, 5.0, "A&'", "#000").bold());
        let chars: String = text_chars(&s.finish()).into_iter().collect();
        assert_eq!(chars, "&'1<>A村");
    }
}
