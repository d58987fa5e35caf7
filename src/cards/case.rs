//! The case file of one ticket (一案一档) as A4 pages: the printing pipeline that draws the cards
//! also sets this document — text wrapped by the card font's advances, photos as embedded JPEG
//! thumbnails, a header and a footer (page, time made, ledger check) on every page.
use super::pdf::{A4_MM, from_pages};
use super::{RenderError, document, fonts, svg};
use std::fmt::Write;

/// One ledger event as the case file prints it.
pub struct CaseEvent {
    /// "#3 2026-12-06 20:39:53 派单 · 陈刚（工作人员） 已登记 → 已派单"
    pub head: String,
    pub note: Option<String>,
    pub hash: String,
    pub prev_hash: String,
}

/// Everything the case file shows, already in words.
pub struct CaseSheet {
    pub no: String,
    /// 诉求信息: (label, value).
    pub fields: Vec<(&'static str, String)>,
    pub events: Vec<CaseEvent>,
    pub verified: bool,
    /// One line per sign-off, or a sentence saying why there is none.
    pub signoffs: Vec<String>,
    /// (label, JPEG base64, height / width) of each photo.
    pub photos: Vec<(String, String, f32)>,
    /// Evidence that is not a photo (or could not be read), by label.
    pub other_evidence: Vec<String>,
    pub made_at: String,
}

const MARGIN: f32 = 18.0;
const TOP: f32 = 24.0;
const BOTTOM: f32 = 20.0;
const BODY: f32 = 3.4;
const SMALL: f32 = 2.5;
const HEADING: f32 = 4.6;
const THUMBS_PER_ROW: usize = 4;

/// Text set on a page, or an image, at millimetre positions.
enum Mark {
    Text { x: f32, y: f32, size: f32, text: String, color: &'static str, bold: bool },
    Image { x: f32, y: f32, w: f32, h: f32, jpeg_base64: String },
    Rule { y: f32 },
}

/// Lays marks out top to bottom, starting a new page when one is full.
struct Flow {
    pages: Vec<Vec<Mark>>,
    y: f32,
}

impl Flow {
    fn new() -> Flow {
        Flow { pages: vec![vec![]], y: TOP }
    }

    fn width() -> f32 {
        A4_MM.0 - 2.0 * MARGIN
    }

    fn room(&mut self, h: f32) {
        if self.y + h > A4_MM.1 - BOTTOM {
            self.pages.push(vec![]);
            self.y = TOP;
        }
    }

    fn push(&mut self, m: Mark) {
        if let Some(p) = self.pages.last_mut() {
            p.push(m);
        }
    }

    /// A paragraph wrapped to the text width (less `indent`), each line on the page that has room.
    fn para(&mut self, text: &str, size: f32, color: &'static str, bold: bool, indent: f32) {
        for line in wrap(text, size, Flow::width() - indent) {
            self.room(size * 1.5);
            self.y += size * 1.25;
            self.push(Mark::Text { x: MARGIN + indent, y: self.y, size, text: line, color, bold });
            self.y += size * 0.25;
        }
    }

    fn heading(&mut self, text: &str) {
        self.room(HEADING * 3.0);
        self.y += HEADING * 0.8;
        self.para(text, HEADING, "#1a1a1a", true, 0.0);
        self.push(Mark::Rule { y: self.y + 0.8 });
        self.y += 2.5;
    }

    /// A label and its value on one line (the value wrapped under itself).
    fn field(&mut self, label: &str, value: &str) {
        let indent = 24.0;
        let lines = wrap(value, BODY, Flow::width() - indent);
        for (i, line) in lines.iter().enumerate() {
            self.room(BODY * 1.5);
            self.y += BODY * 1.25;
            if i == 0 {
                let text = label.to_string();
                self.push(Mark::Text { x: MARGIN, y: self.y, size: BODY, text, color: "#555555", bold: false });
            }
            let text = line.clone();
            self.push(Mark::Text { x: MARGIN + indent, y: self.y, size: BODY, text, color: "#1a1a1a", bold: false });
            self.y += BODY * 0.25;
        }
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }
}

/// Breaks `text` into lines no wider than `width` at `size` (Chinese breaks anywhere; a line break
/// in the text starts a new line).
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut out = vec![];
    for para in text.split('\n') {
        let mut line = String::new();
        let mut w = 0.0;
        for c in para.chars().filter(|c| !c.is_control()) {
            let cw = fonts::advance(c.encode_utf8(&mut [0u8; 4]), size, 0.0);
            if w + cw > width && !line.is_empty() {
                out.push(std::mem::take(&mut line));
                w = 0.0;
            }
            line.push(c);
            w += cw;
        }
        out.push(line);
    }
    out
}

fn page_svg(marks: &[Mark], header: &str, footer: &str) -> String {
    let mut body = String::new();
    let text = |body: &mut String, x: f32, y: f32, size: f32, t: &str, color: &str, bold: bool, end: bool| {
        let _ = write!(
            body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{color}\"{}{}>{}</text>",
            svg::num(x),
            svg::num(y),
            svg::num(size),
            if bold { " font-weight=\"bold\"" } else { "" },
            if end { " text-anchor=\"end\"" } else { "" },
            svg::escape(t)
        );
    };
    text(&mut body, MARGIN, 12.0, SMALL, header, "#777777", false, false);
    text(&mut body, A4_MM.0 - MARGIN, A4_MM.1 - 10.0, SMALL, footer, "#777777", false, true);
    for m in marks {
        match m {
            Mark::Text { x, y, size, text: t, color, bold } => text(&mut body, *x, *y, *size, t, color, *bold, false),
            Mark::Image { x, y, w, h, jpeg_base64 } => {
                let _ = write!(
                    body,
                    "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"xMidYMid meet\" href=\"data:image/jpeg;base64,{jpeg_base64}\"/>",
                    svg::num(*x),
                    svg::num(*y),
                    svg::num(*w),
                    svg::num(*h)
                );
            }
            Mark::Rule { y } => {
                let _ = write!(
                    body,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999999\" stroke-width=\"0.2\"/>",
                    svg::num(MARGIN),
                    svg::num(*y),
                    svg::num(A4_MM.0 - MARGIN),
                    svg::num(*y)
                );
            }
        }
    }
    body
}

/// The case file as a PDF.
pub fn render(c: &CaseSheet) -> Result<Vec<u8>, RenderError> {
    let mut f = Flow::new();
    f.para(&format!("一案一档 · 工单 {}", c.no), 6.0, "#1a1a1a", true, 0.0);
    f.gap(2.0);
    f.heading("诉求信息");
    for (label, value) in &c.fields {
        f.field(label, value);
    }
    let check = if c.verified { "校验通过" } else { "校验未通过" };
    f.heading(&format!("办理记录（共{}条，哈希链{check}）", c.events.len()));
    for e in &c.events {
        f.room(BODY * 6.0);
        f.para(&e.head, BODY, "#1a1a1a", true, 0.0);
        if let Some(n) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
            f.para(n, BODY, "#1a1a1a", false, 4.0);
        }
        f.para(&format!("本条哈希 {}", e.hash), SMALL, "#666666", false, 4.0);
        let prev = if e.prev_hash.is_empty() { "（首条）" } else { &e.prev_hash };
        f.para(&format!("前序哈希 {prev}"), SMALL, "#666666", false, 4.0);
        f.gap(1.5);
    }
    f.heading("会签记录");
    for s in &c.signoffs {
        f.para(s, BODY, "#1a1a1a", false, 0.0);
    }
    f.heading(&format!("佐证材料（{}件）", c.photos.len() + c.other_evidence.len()));
    if c.photos.is_empty() && c.other_evidence.is_empty() {
        f.para("无附件。", BODY, "#1a1a1a", false, 0.0);
    }
    let gap = 4.0;
    let w = (Flow::width() - gap * (THUMBS_PER_ROW as f32 - 1.0)) / THUMBS_PER_ROW as f32;
    for row in c.photos.chunks(THUMBS_PER_ROW) {
        let h = row.iter().map(|(_, _, r)| (w * r).min(w * 1.4)).fold(0.0, f32::max);
        f.room(h + SMALL * 3.0);
        let top = f.y + 1.0;
        for (i, (label, jpeg, ratio)) in row.iter().enumerate() {
            let x = MARGIN + i as f32 * (w + gap);
            let ih = (w * ratio).min(w * 1.4);
            f.push(Mark::Image { x, y: top, w, h: ih, jpeg_base64: jpeg.clone() });
            let text = label.clone();
            f.push(Mark::Text { x, y: top + h + SMALL * 1.3, size: SMALL, text, color: "#555555", bold: false });
        }
        f.y = top + h + SMALL * 2.5;
    }
    for o in &c.other_evidence {
        f.para(o, BODY, "#1a1a1a", false, 0.0);
    }
    let total = f.pages.len();
    let title = format!("一案一档 · 工单 {}", c.no);
    let header = format!("民声直达 · {title}");
    let desc = format!("{title}，共{total}页");
    let pages: Vec<String> = f
        .pages
        .iter()
        .enumerate()
        .map(|(i, marks)| {
            let ok = if c.verified { "通过" } else { "未通过" };
            let footer = format!("第{}/{total}页 · 生成于{} · 账本校验{ok}", i + 1, c.made_at);
            document(A4_MM.0, A4_MM.1, &title, &desc, &page_svg(marks, &header, &footer))
        })
        .collect();
    from_pages(&pages, &title)
}

/// A written urge (催办单) as one printable A4 page: the case file's typesetting, another form.
pub struct UrgeSheet {
    pub county: String,
    /// The notice's number, e.g. "催字〔2026〕QH20261206-0001-5号".
    pub number: String,
    pub ticket_no: String,
    /// (label, value) lines of the form: category, unit urged, deadlines, level, issuer, date.
    pub fields: Vec<(&'static str, String)>,
    pub note: String,
    pub made_at: String,
}

/// The 催办单 as a PDF.
pub fn render_urge(u: &UrgeSheet) -> Result<Vec<u8>, RenderError> {
    let mut f = Flow::new();
    f.para(&format!("{}接诉即办", u.county), HEADING, "#1a1a1a", true, 0.0);
    f.para("催办单", 8.0, "#b00000", true, 0.0);
    f.para(&u.number, BODY, "#1a1a1a", false, 0.0);
    f.push(Mark::Rule { y: f.y + 1.0 });
    f.gap(4.0);
    f.field("工单编号", &u.ticket_no);
    for (label, value) in &u.fields {
        f.field(label, value);
    }
    f.heading("催办事项");
    let note = if u.note.trim().is_empty() {
        "请按时限要求抓紧办理，并及时反馈办理进展。"
    } else {
        u.note.as_str()
    };
    f.para(note, BODY, "#1a1a1a", false, 0.0);
    f.gap(6.0);
    f.para("请收到本催办单后立即办理，并在办理时限内将办理结果反馈。", BODY, "#1a1a1a", false, 0.0);
    f.gap(12.0);
    f.para(&format!("{}接诉即办工作机构（盖章）", u.county), BODY, "#1a1a1a", false, 90.0);
    f.para(&u.made_at, BODY, "#1a1a1a", false, 90.0);
    let title = format!("催办单 · 工单 {}", u.ticket_no);
    let header = format!("民声直达 · {title}");
    let total = f.pages.len();
    let pages: Vec<String> = f
        .pages
        .iter()
        .enumerate()
        .map(|(i, marks)| {
            let footer = format!("第{}/{total}页 · {}", i + 1, u.number);
            document(A4_MM.0, A4_MM.1, &title, &title, &page_svg(marks, &header, &footer))
        })
        .collect();
    from_pages(&pages, &title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_within_the_width_and_keep_every_character() {
        let text = "村东头的自来水管道破裂，已经停水三天了，家里老人孩子用水很困难，希望尽快派人维修。\n第二段";
        let lines = wrap(text, BODY, 60.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for l in &lines {
            assert!(fonts::advance(l, BODY, 0.0) <= 60.0 + 0.01, "{l}");
        }
        assert_eq!(lines.concat(), text.replace('\n', ""));
        assert_eq!(lines.last().unwrap(), "第二段", "a line break starts a new line");
    }
}
