//! 一案一档: the case file of one ticket as a PDF (issue 17 point 6) — the request, every ledger
//! event with its hash and the hash before it, the sign-offs, the evidence as thumbnails, and the
//! result of verifying the hash chain when the file was made. A4 pages drawn as SVG and turned into
//! PDF by the card printing pipeline (text stays text in the embedded font). Phones are masked.
use super::ledger::verify_ticket;
use super::tickets::load_readable;
use crate::auth::StaffUser;
use crate::cards::case::{CaseEvent, CaseSheet};
use crate::domain::privacy::mask_personal_numbers;
use crate::domain::ticket::Action;
use crate::domain::values::UploadKind;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::Event;
use crate::state::AppState;
use chrono::{DateTime, Utc};

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
        "unit" => "承办单位",
        _ => "工作人员",
    }
}

/// Photos in the case file: at most this many, each scaled to fit this many pixels.
const THUMBS_MAX: usize = 24;
const THUMB_PX: u32 = 480;

/// A photo as a JPEG thumbnail (base64), or None when it cannot be read or decoded.
fn thumbnail(bytes: &[u8]) -> Option<(String, f32)> {
    use base64::Engine as _;
    let img = image::load_from_memory(bytes).ok()?.thumbnail(THUMB_PX, THUMB_PX).to_rgb8();
    let ratio = img.height() as f32 / img.width().max(1) as f32;
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75).encode_image(&img).ok()?;
    Some((base64::engine::general_purpose::STANDARD.encode(out.into_inner()), ratio))
}

fn case_event(e: &Event, at: &str) -> CaseEvent {
    let from = e.from_status.map(|s| s.label()).unwrap_or("—");
    CaseEvent {
        head: format!(
            "#{} {at} {} · {}（{}） {from} → {}",
            e.seq,
            action_label(&e.action),
            e.actor_name,
            actor_label(&e.actor_kind),
            e.to_status.label()
        ),
        note: e.note.as_deref().map(mask_personal_numbers),
        hash: e.hash.clone(),
        prev_hash: e.prev_hash.clone(),
    }
}

fn signoff_line(e: &Event, at: &str) -> String {
    let party = serde_json::from_str::<serde_json::Value>(&e.data)
        .ok()
        .and_then(|v| v["party"].as_str().and_then(crate::domain::roles::SignoffParty::parse))
        .map_or("—", |p| p.label());
    format!("{party} · {} · {at}", e.actor_name)
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
    let time = |at: DateTime<Utc>| at.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M:%S").to_string();
    let mut fields = vec![
        ("工单编号", t.no.clone()),
        ("当前状态", t.status.label().to_string()),
        ("受理时间", time(t.created_at)),
        ("来源渠道", t.channel.label().to_string()),
        ("诉求分类", category),
        ("诉求类型", t.kind.label().to_string()),
        ("紧急程度", t.priority.label().to_string()),
        ("所在地区", place),
        ("诉求人", t.requester_name.clone().unwrap_or_else(|| "（未留姓名）".into())),
        ("联系电话", super::views::shown_phone(&t)),
    ];
    if let Some(a) = &t.address {
        fields.push(("地址", a.clone()));
    }
    fields.push(("诉求内容", mask_personal_numbers(&t.description)));
    fields.push(("承办单位", if unit.is_empty() { "（尚未派单）".into() } else { unit }));
    let mut signoffs: Vec<String> =
        events.iter().filter(|e| e.action == "signoff").map(|e| signoff_line(e, &time(e.at))).collect();
    if signoffs.is_empty() {
        let why = if t.signoff_required {
            "本工单需四方会签，尚无会签记录。"
        } else {
            "本工单无需会签。"
        };
        signoffs.push(why.into());
    }
    let sheet = CaseSheet {
        no: t.no.clone(),
        fields,
        events: events.iter().map(|e| case_event(e, &time(e.at))).collect(),
        verified,
        signoffs,
        photos,
        other_evidence,
        made_at: local(state, state.now()),
    };
    let name = format!("一案一档-{no}.pdf");
    let pdf = tokio::task::spawn_blocking(move || crate::cards::case::render(&sheet))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("case file: {e}")))?;
    Ok((name, pdf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_action_has_a_chinese_name() {
        for a in
            ["submit", "register", "dispatch", "accept", "resolve", "return_visit", "appeal", "sms_reply", "signoff"]
        {
            assert!(action_label(a).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{a}");
        }
    }
}
