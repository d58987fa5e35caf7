//! The cadre's order page from the assignment SMS (`/w/{token}`): server-rendered, so it works on a
//! cheap phone without JavaScript; forms post as multipart (with photos) and redirect back.
use crate::domain::phone::Phone;
use crate::domain::ticket::{Action, Status};
use crate::domain::values::UploadKind;
use crate::error::ApiError;
use crate::html::{self, CallPage, DeadlineRow, Forms, Frame, MessagePage, OrderPage, Overdue, StepState};
use crate::services::actions::ActionBody;
use crate::services::actions::escalation::pending;
use crate::services::worklink::{self, MAX_PHOTO_BYTES, MAX_PHOTOS, MAX_TEXT_BYTES, Opened};
use crate::services::{order_view, uploads, views};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_RANGE, ETAG, HeaderValue, IF_NONE_MATCH, RANGE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;

/// The frame of the cadre's pages.
fn frame(state: &AppState, title: impl Into<String>, large: bool) -> Frame {
    let county = &state.settings.county.name;
    Frame::new(county, title, "承办工单", format!("{county} · 民声直达")).large(large)
}

/// The link's token is in the page's address: never sent on as a referrer (the security
/// middleware says so for every page too; this page does not rely on it).
fn page(status: StatusCode, page: &impl askama::Template) -> HttpResponse {
    let mut res = html::respond(status, page);
    res.headers_mut().insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

fn message(state: &AppState, e: &ApiError, large: bool) -> HttpResponse {
    if e.status.is_server_error() {
        let _ = actix_web::ResponseError::error_response(e); // logs the cause with an id
    }
    // A fault of ours is not explained; a condition the cadre should know (a full disk) is.
    let text = if e.status == StatusCode::INTERNAL_SERVER_ERROR {
        "系统繁忙，请稍后再试。".to_string()
    } else {
        e.message.clone()
    };
    let frame = frame(state, "承办工单", large);
    page(e.status, &MessagePage { frame, title: "无法打开工单", message: &text, hotline: None })
}

fn deadline_rows(state: &AppState, o: &Opened, now: DateTime<Utc>) -> Vec<DeadlineRow> {
    let a = &o.assignment;
    [
        ("签收", a.respond_by, a.accepted_at),
        ("首次反馈", a.progress_by, a.first_progress_at),
        ("办结", a.resolve_by, a.resolved_at),
    ]
    .into_iter()
    .map(|(label, by, done)| {
        let state_now = match done {
            Some(at) if at <= by => StepState::Done(html::local(state, at)),
            Some(at) => StepState::DoneLate(html::local(state, at)),
            None if by < now && o.current => StepState::Late,
            None => StepState::Open,
        };
        DeadlineRow { label, by: html::local(state, by), state: state_now }
    })
    .collect()
}

fn forms(o: &Opened) -> Forms {
    if o.staff.is_none() {
        return Forms::ViewOnly;
    }
    if !o.current {
        return if o.part { Forms::PartDone } else { Forms::Ended };
    }
    if o.part {
        return Forms::Assist { accept: o.assignment.accepted_at.is_none() };
    }
    let status = o.loaded.status();
    Forms::Act {
        accept: status == Status::Dispatched,
        report: matches!(status, Status::Accepted | Status::InProgress),
        give_back: matches!(status, Status::Dispatched | Status::Accepted),
        escalation_pending: pending(&o.assignment),
    }
}

/// What the page shows beside the order: flash message, error (and the form it refused),
/// large-font mode.
#[derive(Default)]
struct Shown<'a> {
    flash: Option<&'a str>,
    error: Option<(&'a str, StatusCode)>,
    refused: Option<html::Refused<'a>>,
    large: bool,
}

/// The brief as the page shows it: files under the page's own link.
fn brief_view(state: &AppState, token: &str, o: &Opened, b: worklink::Brief) -> html::BriefView {
    let file = |u: &crate::repo::uploads::Upload| html::ReportedFile {
        url: format!("/w/{token}/files/{}", u.id),
        mime: uploads::served_type(&u.mime),
    };
    let t = &o.loaded.ticket;
    html::BriefView {
        asked: b
            .asked
            .into_iter()
            .map(|a| html::AskedRow { label: a.label, at: html::local(state, a.at), note: a.note })
            .collect(),
        photos: b.reported.iter().filter(|u| u.kind == UploadKind::Image).map(file).collect(),
        voices: b.reported.iter().filter(|u| u.kind == UploadKind::Audio).map(file).collect(),
        position: t.lat.zip(t.lng).and_then(|(lat, lng)| html::Position::new(lat, lng)),
    }
}

async fn show(state: &AppState, token: &str, shown: Shown<'_>) -> HttpResponse {
    let o = match worklink::open(state, token).await {
        Ok(o) => o,
        Err(e) => return message(state, &e, shown.large),
    };
    // The timeline as the requester sees it (no internal notes).
    let view = match views::public_view(&state.db.conn, &o.loaded.ticket).await {
        Ok(v) => v,
        Err(e) => return message(state, &ApiError::from(e), shown.large),
    };
    let brief = match worklink::brief(state, &o).await {
        Ok(b) => b.map(|b| brief_view(state, token, &o, b)),
        Err(e) => return message(state, &e, shown.large),
    };
    let now = state.now();
    let t = &o.loaded.ticket;
    let current = if o.part {
        Some(&o.assignment)
    } else {
        t.current_assignment_id.and_then(|id| o.loaded.assignments.iter().find(|a| a.id == id))
    };
    let overdue = order_view::current_deadline(t, current, now)
        .filter(|d| d.late && o.current)
        .map(|d| Overdue { label: d.label, at: html::local(state, d.at) });
    let order = OrderPage {
        frame: frame(state, format!("工单{}", t.no), shown.large).styles(&["console.css"]).scripts(&["worklink.js"]),
        token,
        no: &t.no,
        status_label: o.loaded.status().label(),
        category: &view.category.name,
        village: &view.village,
        description: &t.description,
        requester: t.requester_name.as_deref().unwrap_or("群众"),
        masked_phone: Phone::parse(&t.requester_phone).map(|p| p.masked()).unwrap_or_default(),
        can_act: o.current && o.staff.is_some(),
        address: t.address.as_deref().unwrap_or("—"),
        flash: shown.flash,
        overdue,
        error: shown.error.map(|(m, _)| m),
        refused: shown.refused,
        brief,
        deadlines: deadline_rows(state, &o, now),
        forms: forms(&o),
        max_photos: MAX_PHOTOS,
        timeline: html::timeline(state, &view.timeline),
    };
    page(shown.error.map(|(_, s)| s).unwrap_or(StatusCode::OK), &order)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ShowQuery {
    done: Option<String>,
    large: Option<String>,
}

impl ShowQuery {
    fn large(&self) -> bool {
        self.large.as_deref() == Some("1")
    }
}

#[utoipa::path(tag = "pages", params(ShowQuery), responses((status = 200, description = "承办人短信工单页", content_type = "text/html")))]
#[get("/w/{token}")]
async fn order_page(state: web::Data<AppState>, token: web::Path<String>, q: web::Query<ShowQuery>) -> HttpResponse {
    let flash = match q.done.as_deref() {
        Some("accept") => Some("已签收，请尽快联系群众。"),
        Some("progress") => Some("进展已反馈。"),
        Some("resolve") => Some("已办结，等待回访。"),
        Some("return") => Some("已退单，工单退回派单员。"),
        Some("escalate") => Some("提级申请已提交，等待派单员审批。"),
        _ => None,
    };
    show(&state, &token, Shown { flash, large: q.large(), ..Shown::default() }).await
}

/// The requester's full number for the cadre handling the order now, with a tap-to-call link; each
/// view is logged (`phone_access_log`, purpose `handling`). Anyone else gets the masked page.
#[utoipa::path(tag = "pages", params(ShowQuery), responses((status = 200, description = "拨号页", content_type = "text/html")))]
#[get("/w/{token}/call")]
async fn call_page(state: web::Data<AppState>, token: web::Path<String>, q: web::Query<ShowQuery>) -> HttpResponse {
    let large = q.large();
    let o = match worklink::open(&state, &token).await {
        Ok(o) => o,
        Err(e) => return message(&state, &e, large),
    };
    let Some(staff) = o.staff.as_ref().filter(|_| o.current) else {
        return message(&state, &ApiError::forbidden("该工单已不在您处办理，不能查看群众电话"), large);
    };
    let t = &o.loaded.ticket;
    let logged = crate::repo::visits::log_phone_access(&state.db.conn, staff.id, t.id, "handling", state.now()).await;
    if let Err(e) = logged {
        return message(&state, &ApiError::from(e), large);
    }
    tracing::info!(ticket_no = %t.no, staff_id = staff.id, "requester phone shown to the handling cadre");
    let call = CallPage {
        frame: frame(&state, format!("工单{}", t.no), large),
        token: &token,
        no: &t.no,
        requester: t.requester_name.as_deref().unwrap_or("群众"),
        phone: &t.requester_phone,
    };
    page(StatusCode::OK, &call)
}

/// A photo or voice note the villager sent with the request, for the page of a link that shows it
/// (`worklink::shows_brief`): the same signed link, only that ticket's request uploads. Never stored
/// by a shared cache nor used without asking again (`no-cache`: an ended assignment stops showing
/// it; the `ETag` keeps asking again cheap), and the link's token never goes on as a referrer.
#[utoipa::path(tag = "pages", responses((status = 200, description = "附件", content_type = "application/octet-stream"), (status = 206, description = "附件的一段", content_type = "application/octet-stream"), (status = 304, description = "未修改")))]
#[get("/w/{token}/files/{id}")]
async fn reported_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (token, id) = path.into_inner();
    let (upload, bytes) = match worklink::reported_file(&state, &token, &id).await {
        Ok(found) => found,
        Err(e) => return message(&state, &e, false),
    };
    let etag = format!("\"{}\"", upload.sha256);
    let len = bytes.len() as u64;
    let range = req.headers().get(RANGE).and_then(|v| v.to_str().ok()).and_then(|v| byte_range(v, len));
    let mut res = if req.headers().get(IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        HttpResponse::NotModified().finish()
    } else {
        // Media players ask for parts (Safari plays audio only from a server that answers them).
        match range {
            None => HttpResponse::Ok().content_type(uploads::served_type(&upload.mime)).body(bytes),
            Some(Some((start, end))) => HttpResponse::PartialContent()
                .content_type(uploads::served_type(&upload.mime))
                .insert_header((CONTENT_RANGE, format!("bytes {start}-{end}/{len}")))
                .body(bytes[start as usize..=end as usize].to_vec()),
            Some(None) => {
                HttpResponse::RangeNotSatisfiable().insert_header((CONTENT_RANGE, format!("bytes */{len}"))).finish()
            }
        }
    };
    let h = res.headers_mut();
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    res
}

/// A `Range: bytes=…` header of one range over `len` bytes: None to answer the whole file (no
/// range we read: several ranges, another unit), Some(None) when it cannot be satisfied, else the
/// first and last byte.
fn byte_range(header: &str, len: u64) -> Option<Option<(u64, u64)>> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    let range = match (first.is_empty(), last.is_empty()) {
        // The last `n` bytes.
        (true, false) => {
            let n = parse(last)?.min(len);
            (n > 0).then_some((len - n, len - 1))
        }
        (false, _) => {
            let start = parse(first)?;
            let end = if last.is_empty() { len.saturating_sub(1) } else { parse(last)?.min(len.saturating_sub(1)) };
            (start < len && start <= end).then_some((start, end))
        }
        (true, true) => return None,
    };
    Some(range)
}

/// Reads the form into `body`: text fields and photos (stored as uploads as they arrive). On an
/// error `body` keeps the text read so far (the text fields come before the photos), so the page
/// can give it back.
async fn read_form(
    state: &AppState,
    token: &str,
    mut payload: Multipart,
    body: &mut ActionBody,
) -> Result<(), ApiError> {
    let o = worklink::open(state, token).await?;
    if o.staff.is_none() || !o.current {
        return Ok(());
    }
    let mut photos = vec![];
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| ApiError::validation("", "表单格式不正确"))?;
        let name = field.name().unwrap_or("").to_string();
        let limit = if name == "photos" { MAX_PHOTO_BYTES } else { MAX_TEXT_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| ApiError::validation(name.clone(), "上传中断，请重试"))?;
            if bytes.len() + chunk.len() > limit {
                return Err(match name.as_str() {
                    "photos" => worklink::photo_too_large(),
                    _ => ApiError::validation(name.clone(), "内容过长"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "photos" if !bytes.is_empty() => {
                if photos.len() >= MAX_PHOTOS {
                    return Err(worklink::too_many_photos());
                }
                photos.push(worklink::store_photo(state, &o, &bytes).await?);
            }
            "note" | "result" | "reason" => {
                let text =
                    String::from_utf8(bytes).map_err(|_| ApiError::validation(name.clone(), "文字编码不正确"))?;
                match name.as_str() {
                    "note" => body.note = Some(text),
                    "result" => body.result = Some(text),
                    _ => body.reason = Some(text),
                }
            }
            _ => {}
        }
    }
    if !photos.is_empty() {
        body.upload_ids = Some(photos);
    }
    Ok(())
}

#[utoipa::path(tag = "pages", request_body(content = crate::openapi::FileUpload, content_type = "multipart/form-data"), responses((status = 303, description = "已办理，跳转回工单页")))]
#[post("/w/{token}/{action}")]
async fn order_action(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> HttpResponse {
    let (token, action_name) = path.into_inner();
    let Some(action) = Action::from_path(&action_name)
        .filter(|a| worklink::PAGE_ACTIONS.contains(a) || worklink::PART_ACTIONS.contains(a))
    else {
        return message(&state, &ApiError::not_found("该页面不支持此操作"), false);
    };
    let mut body = ActionBody::default();
    let result = match read_form(&state, &token, payload, &mut body).await {
        Ok(()) => worklink::act(&state, &token, action, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header(("Location", format!("/w/{token}?done={}", action.as_str())))
            .finish(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::GONE => {
            // The message goes next to the field it names, in the form that was sent, with the
            // text typed there; the top of the page says it too.
            let kept = match action {
                Action::Resolve => body.result.as_deref(),
                Action::Return | Action::Escalate => body.reason.as_deref(),
                _ => body.note.as_deref(),
            };
            let refused = html::Refused {
                action: action.as_str(),
                field: e.field.as_deref().filter(|f| !f.is_empty()),
                message: &e.message,
                kept,
            };
            let shown = Shown { error: Some((&e.message, e.status)), refused: Some(refused), ..Shown::default() };
            show(&state, &token, shown).await
        }
        Err(e) => message(&state, &e, false),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(order_page).service(call_page).service(reported_file).service(order_action);
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn one_byte_range_is_read_and_anything_else_is_the_whole_file_or_unsatisfiable() {
        assert_eq!(byte_range("bytes=0-", 10), Some(Some((0, 9))));
        assert_eq!(byte_range("bytes=2-4", 10), Some(Some((2, 4))));
        assert_eq!(byte_range("bytes=5-99", 10), Some(Some((5, 9))));
        assert_eq!(byte_range("bytes=-3", 10), Some(Some((7, 9))));
        assert_eq!(byte_range("bytes=-30", 10), Some(Some((0, 9))));
        assert_eq!(byte_range("bytes=10-", 10), Some(None));
        assert_eq!(byte_range("bytes=4-2", 10), Some(None));
        assert_eq!(byte_range("bytes=-0", 10), Some(None));
        assert_eq!(byte_range("bytes=0-", 0), Some(None));
        assert_eq!(byte_range("bytes=0-1,4-5", 10), None);
        assert_eq!(byte_range("items=0-1", 10), None);
        assert_eq!(byte_range("bytes=a-b", 10), None);
        assert_eq!(byte_range("bytes=-", 10), None);
    }
}
