//! The cadre's order page from the SMS link (`/w/{token}`): the signed link names the assignment and
//! the cadre; while that assignment is the ticket's current one the cadre signs for the order,
//! reports progress and resolves it with photos, gives it back (退单) or asks to escalate — through
//! the same actions, roles and ledger as the console.
use super::actions::ActionBody;
use super::change::worklink_key;
use super::tickets::{Loaded, load};
use super::uploads::{self, Uploader};
use crate::auth::StaffUser;
use crate::domain::ticket::Action;
use crate::domain::values::{AssignmentRole, AssignmentStatus, UnitKind};
use crate::domain::worklink::{self, LinkError, WorkLink};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::uploads::Upload;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub struct Opened {
    pub link: WorkLink,
    pub loaded: Loaded,
    pub assignment: Assignment,
    /// The cadre the link acts for (None: a unit's duty phone, or a deactivated account).
    pub staff: Option<StaffUser>,
    /// The assignment is still the ticket's active one (or, for an assisting part, still owed):
    /// the page may act.
    pub current: bool,
    /// 联合办理: the link is an assisting unit's part, not the order itself.
    pub part: bool,
}

/// Actions a cadre takes from the page (the path names of API.md; `escalate` is a request).
pub const PAGE_ACTIONS: [Action; 5] =
    [Action::Accept, Action::Progress, Action::Resolve, Action::Return, Action::Escalate];

/// What an assisting unit does from its part's page (联合办理).
pub const PART_ACTIONS: [Action; 2] = [Action::AssistAccept, Action::AssistReport];

/// Whether the page of this link takes `action`.
pub fn page_takes(part: bool, action: Action) -> bool {
    if part { PART_ACTIONS.contains(&action) } else { PAGE_ACTIONS.contains(&action) }
}

pub async fn open(state: &AppState, token: &str) -> ApiResult<Opened> {
    let link = worklink::verify(worklink_key(state), token, state.now()).map_err(|e| match e {
        LinkError::Invalid => ApiError::not_found("链接无效，请核对短信中的链接"),
        LinkError::Expired => ApiError::gone(codes::LINK_EXPIRED, "链接已过期，请登录工作台办理"),
    })?;
    let db = &state.db.conn;
    let assignment = repo::assignments::get(db, link.assignment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("链接无效，请核对短信中的链接"))?;
    let ticket =
        repo::tickets::by_id(db, assignment.ticket_id).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let loaded = load(db, &ticket.no).await?;
    let staff = match link.staff_id {
        Some(id) => match repo::staff::get(db, id).await?.filter(|s| s.active) {
            Some(s) => {
                let path = repo::regions::get(db, s.region_id).await?.map(|r| r.path).unwrap_or_default();
                Some(StaffUser::from_record(&s, &path))
            }
            None => None,
        },
        // A unit outside government has no console accounts: its duty phone's link acts as the unit.
        None => {
            match repo::regions::unit(db, assignment.unit_id).await?.filter(|u| u.kind == UnitKind::Outside && u.active)
            {
                Some(u) => {
                    let path = repo::regions::get(db, u.region_id).await?.map(|r| r.path).unwrap_or_default();
                    Some(StaffUser::duty_phone(&u, &path))
                }
                None => None,
            }
        }
    };
    let part = assignment.role == AssignmentRole::Assist;
    let current = if part {
        assignment.is_open_part()
    } else {
        assignment.status == AssignmentStatus::Active && loaded.ticket.current_assignment_id == Some(assignment.id)
    };
    Ok(Opened { link, loaded, assignment, staff, current, part })
}

/// Takes an action from the page as the link's cadre.
pub async fn act(state: &AppState, token: &str, action: Action, body: &ActionBody) -> ApiResult<()> {
    let o = open(state, token).await?;
    if !page_takes(o.part, action) {
        return Err(ApiError::not_found("该页面不支持此操作"));
    }
    let staff = o.staff.as_ref().ok_or_else(|| ApiError::forbidden("此链接仅供查看，请登录工作台办理"))?;
    if !o.current {
        return Err(ApiError::conflict(codes::ASSIGNMENT_ENDED, "该派单已结束，工单已不在您处办理"));
    }
    super::actions::act(state, staff, &o.loaded.ticket.no, action, body).await?;
    Ok(())
}

pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Photos per action from the page (the page states it).
pub const MAX_PHOTOS: usize = 9;
/// A text field of the page's forms (a note, result or reason), in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

pub fn photo_too_large() -> ApiError {
    let mb = MAX_PHOTO_BYTES / (1024 * 1024);
    ApiError::unprocessable(codes::PHOTO_TOO_LARGE, "photos", format!("每张照片不能超过{mb}MB"))
}

pub fn too_many_photos() -> ApiError {
    ApiError::validation("photos", format!("照片最多{MAX_PHOTOS}张"))
}

/// Stores a photo taken on the page as an upload (not yet attached: the action attaches it),
/// through the one upload path: recognised by its bytes, re-encoded without EXIF/GPS, stored under
/// `upload_dir` like every other upload.
pub async fn store_photo(state: &AppState, o: &Opened, bytes: &[u8]) -> ApiResult<String> {
    // Only photos here (the type is read from the content); the one upload path does the rest.
    if !crate::domain::media::sniff(bytes).is_some_and(|m| m.is_image()) {
        return Err(ApiError::unprocessable(codes::UNSUPPORTED_MEDIA, "photos", "照片只支持 JPEG、PNG 或 WebP 格式"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(photo_too_large());
    }
    let uploader = Uploader {
        kind: crate::domain::values::UploaderKind::Staff,
        reference: o.link.staff_id.map(|s| s.to_string()),
    };
    let stored = uploads::store(state, bytes.to_vec(), uploader).await.map_err(|e| e.with_field("photos"))?;
    Ok(stored.upload_id)
}

/// Something the dispatcher (or the system) asked of the unit holding this assignment: the note of
/// the step that gave the order (派单, 改派, 提级) and of each 催办.
pub struct Asked {
    pub label: &'static str,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// What the cadre needs beside the description: what the villager sent with the request (photos,
/// a voice note; the location is on the ticket) and what was asked of the unit.
pub struct Brief {
    pub asked: Vec<Asked>,
    /// The request's own uploads, in the order they were sent.
    pub reported: Vec<Upload>,
}

/// Whether the link shows the brief: only while its assignment is the ticket's current one, and
/// to the cadre it names while active, or to the unit's duty phone. An ended assignment, or a
/// deactivated cadre's link, shows no more than it did before the brief existed.
pub fn shows_brief(o: &Opened) -> bool {
    o.current && (o.staff.is_some() || o.link.staff_id.is_none())
}

fn asked_label(action: &str) -> Option<&'static str> {
    Some(match action {
        a if a == Action::Dispatch.as_str() => "派单要求",
        a if a == Action::Redirect.as_str() => "改派说明",
        a if a == Action::Escalate.as_str() => "提级说明",
        a if a == Action::Urge.as_str() => "催办",
        a if a == Action::EscalateRefuse.as_str() => "提级申请未批准",
        _ => return None,
    })
}

/// The brief for an opened link, when it shows one (`shows_brief`).
pub async fn brief(state: &AppState, o: &Opened) -> ApiResult<Option<Brief>> {
    if !shows_brief(o) {
        return Ok(None);
    }
    let db = &state.db.conn;
    let t = &o.loaded.ticket;
    let events = repo::tickets::events_of(db, t.id).await?;
    let data = |e: &repo::tickets::Event| serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null);
    // The request's uploads: those its first event (the submission or the registered call) names.
    let named: Vec<String> = events
        .first()
        .map(|e| data(e)["upload_ids"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut reported: Vec<Upload> =
        repo::uploads::of_ticket(db, t.id).await?.into_iter().filter(|u| named.contains(&u.id)).collect();
    reported.sort_by_key(|u| named.iter().position(|id| *id == u.id));
    let asked = events
        .iter()
        .filter_map(|e| {
            let label = asked_label(&e.action)?;
            let note = e.note.as_deref().map(str::trim).filter(|n| !n.is_empty())?;
            // An assisting part was given by the dispatch that names it among `assisting`.
            let d = data(e);
            let part_of = |p: &Value| p["assignment_id"].as_i64() == Some(o.assignment.id);
            let mine = d["assignment_id"].as_i64() == Some(o.assignment.id)
                || d["assisting"].as_array().is_some_and(|parts| parts.iter().any(part_of));
            mine.then(|| Asked { label, at: e.at, note: note.to_string() })
        })
        .collect();
    Ok(Some(Brief { asked, reported }))
}

/// One of the request's uploads, for the page of a link that shows the brief; anything else (an
/// ended assignment, another ticket's upload, a cadre's own photo) is not found.
pub async fn reported_file(state: &AppState, token: &str, id: &str) -> ApiResult<(Upload, Vec<u8>)> {
    let o = open(state, token).await?;
    let not_found = || ApiError::not_found("文件不存在");
    let upload =
        brief(state, &o).await?.and_then(|b| b.reported.into_iter().find(|u| u.id == id)).ok_or_else(not_found)?;
    let file = uploads::file_path(state, &upload.storage_path);
    let bytes = tokio::fs::read(file).await.map_err(|_| ApiError::not_found("文件已不存在"))?;
    Ok((upload, bytes))
}
