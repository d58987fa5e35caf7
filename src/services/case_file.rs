//! 一案一档: the case file of one ticket as a PDF (issue 17 point 6) — the request, every ledger
//! event with its hash and the hash before it, the sign-offs, the evidence as thumbnails, and the
//! result of verifying the hash chain when the file was made. A4 pages drawn as SVG and turned into
//! PDF by the card printing pipeline (text stays text in the embedded font). Phones are masked.
use super::ledger::verify_ticket;
use super::tickets::load_readable;
use crate::auth::StaffUser;
use crate::cards::pdf::{A4_MM, from_pages};
use crate::cards::{document, fonts, svg};
use crate::domain::phone::mask;
use crate::domain::ticket::Action;
use crate::domain::values::UploadKind;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::{Event, Ticket};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::fmt::Write;

const MARGIN: f32 = 18.0;
const TOP: f32 = 24.0;
const BOTTOM: f32 = 20.0;
const BODY: f32 = 3.4;
const SMALL: f32 = 2.5;
const HEADING: f32 = 4.6;
/// Thumbnails per row and at most how many (a ticket's photos rarely pass a dozen).
const THUMBS_PER_ROW: usize = 4;
const THUMBS_MAX: usize = 24;
const THUMB_PX: u32 = 480;

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

/// The Chinese name of a stored ledger action.
fn action_label(stored: &str) -> &str {
    match stored {
        "submit" => "提交诉求",
        "return_visit" => "回访",
        "appeal" => "申诉",
        "appeal_decision" => "申诉裁定",
        "escalate_request" => "申请提级",
        "escalate_refuse" => "驳回提级申请",
        "sms_reply" => "短信回复",
        other => Action::from_path(other).map_or(other, |a| a.label()),
    }
}

fn actor_label(kind: &str) -> &'static str {
    match kind {
        "villager" => "群众",
        "system" => "系统",
        _ => "工作人员",
    }
}

/// A photo as a JPEG thumbnail (base64), or None when it cannot be read or decoded.
fn thumbnail(bytes: &[u8]) -> Option<(String, f32)> {
    use base64::Engine as _;
    let img = image::load_from_memory(bytes).ok()?.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let ratio = img.height() as f32 / img.width().max(1) as f32;
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75).encode_image(&img).ok()?;
    Some((base64::engine::general_purpose::STANDARD.encode(out.into_inner()), ratio))
}

/// What the case file shows, gathered before the (blocking) drawing.
struct CaseData {
    ticket: Ticket,
    category: String,
    place: String,
    unit: String,
    events: Vec<Event>,
    verified: bool,
    /// (label, JPEG base64, height / width) of each photo; other evidence by label only.
    photos: Vec<(String, String, f32)>,
    other_evidence: Vec<String>,
    made_at: String,
}

fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M").to_string()
}

/// The case file of ticket `no` for a staff member who may read it: (file name, PDF bytes).
pub async fn render(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<(String, Vec<u8>)> {
    let l = load_readable(state, user, no).await?;
    let verified = verify_ticket(state, user, no).await?.ok;
    let db = &state.db.conn;
    let t = l.ticket;
    let category = repo::catalog::category(db, &t.category_code).await?.map_or(t.category_code.clone(), |c| c.name);
    let place = match repo::regions::get(db, t.region_id).await? {
        Some(r) => {
            repo::regions::lineage(db, &r).await?.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(" / ")
        }
        None => String::new(),
    };
    let unit = match t.unit_id {
        Some(id) => repo::regions::unit(db, id).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    let events = repo::tickets::events_of(db, t.id).await?;
    let mut photos = vec![];
    let mut other_evidence = vec![];
    for (i, u) in repo::uploads::of_ticket(db, t.id).await?.into_iter().enumerate() {
        let label = format!("附件{} · {}", i + 1, local(state, u.created_at));
        if u.kind == UploadKind::Image && photos.len() < THUMBS_MAX {
            let bytes = tokio::fs::read(super::uploads::file_path(state, &u.storage_path)).await.ok();
            match bytes.as_deref().and_then(thumbnail) {
                Some((jpeg, ratio)) => photos.push((label, jpeg, ratio)),
                None => other_evidence.push(format!("{label}（照片无法读取）")),
            }
        } else {
            other_evidence.push(format!("{label}（{}）", u.kind.label()));
        }
    }
    let data = CaseData {
        ticket: t,
        category,
        place,
        unit,
        events,
        verified,
        photos,
        other_evidence,
        made_at: local(state, state.now()),
    };
    let tz = state.tz();
    let name = format!("一案一档-{no}.pdf");
    let pdf = tokio::task::spawn_blocking(move || draw(&data, tz))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("case file: {e}")))?;
    Ok((name, pdf))
}

fn draw(d: &CaseData, tz: chrono_tz::Tz) -> Result<Vec<u8>, crate::cards::RenderError> {
    let time = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
    let t = &d.ticket;
    let mut f = Flow::new();
    f.para(&format!("一案一档 · 工单 {}", t.no), 6.0, "#1a1a1a", true, 0.0);
    f.gap(2.0);
    f.heading("诉求信息");
    f.field("工单编号", &t.no);
    f.field("当前状态", t.status.label());
    f.field("受理时间", &time(t.created_at));
    f.field("来源渠道", t.channel.label());
    f.field("诉求分类", &d.category);
    f.field("诉求类型", t.kind.label());
    f.field("紧急程度", t.priority.label());
    f.field("所在地区", &d.place);
    f.field("诉求人", t.requester_name.as_deref().unwrap_or("（未留姓名）"));
    f.field("联系电话", &mask(&t.requester_phone));
    if let Some(a) = &t.address {
        f.field("地址", a);
    }
    f.field("诉求内容", &t.description);
    f.field("承办单位", if d.unit.is_empty() { "（尚未派单）" } else { &d.unit });

    f.heading(&format!(
        "办理记录（共{}条，哈希链{}）",
        d.events.len(),
        if d.verified { "校验通过" } else { "校验未通过" }
    ));
    for e in &d.events {
        let from = e.from_status.map(|s| s.label()).unwrap_or("—");
        let head = format!(
            "#{} {} {} · {}（{}） {} → {}",
            e.seq,
            time(e.at),
            action_label(&e.action),
            e.actor_name,
            actor_label(&e.actor_kind),
            from,
            e.to_status.label()
        );
        f.room(BODY * 6.0);
        f.para(&head, BODY, "#1a1a1a", true, 0.0);
        if let Some(n) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
            f.para(n, BODY, "#1a1a1a", false, 4.0);
        }
        f.para(&format!("本条哈希 {}", e.hash), SMALL, "#666666", false, 4.0);
        f.para(
            &format!("前序哈希 {}", if e.prev_hash.is_empty() { "（首条）" } else { &e.prev_hash }),
            SMALL,
            "#666666",
            false,
            4.0,
        );
        f.gap(1.5);
    }

    f.heading("会签记录");
    let signoffs: Vec<&Event> = d.events.iter().filter(|e| e.action == "signoff").collect();
    if signoffs.is_empty() {
        f.para(
            if t.signoff_required {
                "本工单需四方会签，尚无会签记录。"
            } else {
                "本工单无需会签。"
            },
            BODY,
            "#1a1a1a",
            false,
            0.0,
        );
    }
    for e in signoffs {
        let party = serde_json::from_str::<serde_json::Value>(&e.data)
            .ok()
            .and_then(|v| v["party"].as_str().map(str::to_string))
            .and_then(|p| crate::domain::roles::SignoffParty::parse(&p))
            .map_or("—", |p| p.label());
        f.para(&format!("{} · {} · {}", party, e.actor_name, time(e.at)), BODY, "#1a1a1a", false, 0.0);
    }

    f.heading(&format!("佐证材料（{}件）", d.photos.len() + d.other_evidence.len()));
    if d.photos.is_empty() && d.other_evidence.is_empty() {
        f.para("无附件。", BODY, "#1a1a1a", false, 0.0);
    }
    let gap = 4.0;
    let w = (Flow::width() - gap * (THUMBS_PER_ROW as f32 - 1.0)) / THUMBS_PER_ROW as f32;
    for row in d.photos.chunks(THUMBS_PER_ROW) {
        let h = row.iter().map(|(_, _, r)| (w * r).min(w * 1.4)).fold(0.0, f32::max);
        f.room(h + SMALL * 3.0);
        let top = f.y + 1.0;
        for (i, (label, jpeg, ratio)) in row.iter().enumerate() {
            let x = MARGIN + i as f32 * (w + gap);
            let ih = (w * ratio).min(w * 1.4);
            f.push(Mark::Image { x, y: top, w, h: ih, jpeg_base64: jpeg.clone() });
            f.push(Mark::Text {
                x,
                y: top + h + SMALL * 1.3,
                size: SMALL,
                text: label.clone(),
                color: "#555555",
                bold: false,
            });
        }
        f.y = top + h + SMALL * 2.5;
    }
    for o in &d.other_evidence {
        f.para(o, BODY, "#1a1a1a", false, 0.0);
    }

    let total = f.pages.len();
    let title = format!("一案一档 · 工单 {}", t.no);
    let header = format!("民声直达 · {title}");
    let pages: Vec<String> = f
        .pages
        .iter()
        .enumerate()
        .map(|(i, marks)| {
            let footer = format!(
                "第{}/{}页 · 生成于{} · 账本校验{}",
                i + 1,
                total,
                d.made_at,
                if d.verified { "通过" } else { "未通过" }
            );
            let desc = format!("{title}，共{total}页");
            document(A4_MM.0, A4_MM.1, &title, &desc, &page_svg(marks, &header, &footer))
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

    #[test]
    fn every_stored_action_has_a_chinese_name() {
        for a in
            ["submit", "register", "dispatch", "accept", "resolve", "return_visit", "appeal", "sms_reply", "signoff"]
        {
            assert!(action_label(a).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{a}");
        }
    }
}
