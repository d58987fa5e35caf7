//! Server-rendered pages for villagers: the intake page behind the card (`/c/{code}`, a plain
//! multipart form that works without JavaScript, photos and voice notes included), the result page,
//! and tracking (`/t/{no}`). `assets/js/intake.js` enhances the form when JavaScript runs.
use super::multipart;
use super::uploads::{check_upload_limit, uploader_of};
use crate::auth::Caller;
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::domain::ticket::{Action, Status};
use crate::domain::values::CardStatus;
use crate::domain::values::{Satisfaction, VisitChannel};
use crate::error::codes;
use crate::error::{ApiError, FieldError};
use crate::html::{
    self, CategoryChoice, Frame, Handling, Hotline, IntakeLimits, IntakePage, LookupPage, Media, MessagePage, RatePage,
    Rated, RedBlackPage, RedBlackTier, ResultPage, SmsNote, StatusPage, TrackPage,
};
use crate::repo;
use crate::services::cards::{CardLookup, PublicCard};
use crate::services::{cards, intake, rating, return_visits, tracking, uploads, views};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// At most this many photos, plus one voice note, on the no-JavaScript form (the card page says so,
/// and `assets/js/intake.js` reads it from the form).
const MAX_PHOTOS: usize = 6;

/// Large-font mode asked for by the `large` query parameter (the no-JavaScript toggle).
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct View {
    large: Option<String>,
    phone_tail: Option<String>,
    /// The ticket number typed on the `/t/` lookup page.
    no: Option<String>,
}

impl View {
    fn large(&self) -> bool {
        self.large.as_deref() == Some("1")
    }
}

struct Ctx<'a> {
    state: &'a AppState,
    large: bool,
}

impl Ctx<'_> {
    fn county(&self) -> &str {
        &self.state.settings.county.name
    }

    /// The frame of a villager page.
    fn frame(&self, title: impl Into<String>, heading: impl Into<String>, sub: impl Into<String>) -> Frame {
        Frame::new(self.county(), title, heading, sub).large(self.large)
    }

    fn message(&self, status: StatusCode, title: &str, message: &str, hotline: Option<Hotline<'_>>) -> HttpResponse {
        let frame = self.frame(title, "民声直达", self.county());
        html::respond(status, &MessagePage { frame, title, message, hotline })
    }

    fn error(&self, e: ApiError) -> HttpResponse {
        let status = e.status;
        if status.is_server_error() {
            let _ = actix_web::ResponseError::error_response(&e); // logs the cause with an id
        }
        // A fault of ours is not explained; a condition the villager should know (a full disk) is.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "系统繁忙，请稍后再试，或拨打服务热线。".to_string()
        } else {
            e.message
        };
        self.message(status, "出错了", &message, None)
    }

    /// A card that cannot be used any more still answers with a helpful Chinese page.
    fn ended(&self, status: CardStatus, village: &str, hotline: &str) -> HttpResponse {
        let what = if status == CardStatus::Rotated { "已更换为新卡片" } else { "已停用" };
        self.message(
            StatusCode::GONE,
            "联系卡已更换",
            &format!("{village}的这张联系卡{what}。请扫描村里最新张贴的联系卡，或直接拨打服务热线反映问题。"),
            Some(Hotline { number: hotline, button: true }),
        )
    }

    fn unknown_card(&self) -> HttpResponse {
        self.message(StatusCode::NOT_FOUND, "未找到联系卡", "二维码无法识别，请核对后重新扫描，或拨打服务热线。", None)
    }
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "静态文件", content_type = "application/octet-stream")))]
#[get("/assets/{path:.*}")]
async fn asset(path: web::Path<String>) -> HttpResponse {
    match html::asset(&path) {
        Some((ctype, bytes)) => {
            HttpResponse::Ok().content_type(ctype).insert_header(("Cache-Control", "public, max-age=3600")).body(bytes)
        }
        None => HttpResponse::NotFound().finish(),
    }
}

#[utoipa::path(tag = "pages", params(View), responses((status = 200, description = "首页", content_type = "text/html")))]
#[get("/")]
async fn home(state: web::Data<AppState>, v: web::Query<View>) -> HttpResponse {
    let ctx = Ctx { state: &state, large: v.large() };
    ctx.message(
        StatusCode::OK,
        "民声直达",
        "请用手机扫描村里张贴的联系卡二维码反映问题，或拨打服务热线。",
        Some(Hotline { number: &state.settings.county.hotline, button: false }),
    )
}

/// What the villager typed, to put back into the form after an error.
#[derive(Default)]
struct Typed {
    fields: HashMap<String, String>,
    upload_ids: Vec<String>,
}

impl Typed {
    fn get(&self, k: &str) -> &str {
        self.fields.get(k).map(String::as_str).unwrap_or("")
    }
}

/// Where a wrong field of the intake request is shown on the card page: next to its own field.
fn form_field(field: &str) -> &str {
    match field {
        "location" => "address",
        f if f.starts_with("upload_ids") => "photo",
        f => f,
    }
}

/// The card page as the answer to a form that must be corrected: the whole-form message, or each
/// wrong field next to its field.
fn intake_errors(ctx: &Ctx<'_>, card: &PublicCard, typed: &Typed, e: &ApiError) -> HttpResponse {
    let fields: Vec<FieldError> = e
        .field_errors()
        .into_iter()
        .map(|f| FieldError { field: form_field(&f.field).to_string(), message: f.message })
        .filter(|f| FORM_FIELDS.contains(&f.field.as_str()))
        .collect();
    if fields.is_empty() {
        intake_page(ctx, card, typed, Some(&e.message), vec![])
    } else {
        intake_page(ctx, card, typed, None, fields)
    }
}

/// The fields of the card form that can carry their own message.
const FORM_FIELDS: [&str; 6] = ["category", "description", "photo", "phone", "name", "address"];

fn intake_page(
    ctx: &Ctx<'_>,
    card: &PublicCard,
    typed: &Typed,
    error: Option<&str>,
    field_errors: Vec<FieldError>,
) -> HttpResponse {
    let key = Some(typed.get("idempotency_key"))
        .filter(|k| intake::valid_idempotency_key(k))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let status =
        if error.is_some() || !field_errors.is_empty() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let village = card.village["name"].as_str().unwrap_or("");
    let township = card.township["name"].as_str().unwrap_or("");
    let page = IntakePage {
        frame: ctx
            .frame(format!("{village}联系卡"), village, format!("{} {township} · 民声直达", ctx.county()))
            .scripts(&["intake.js"]),
        notices_url: format!("/v/{}/notices", card.village["id"]),
        code: &card.code,
        hotline: &card.hotline,
        contacts: &card.contacts,
        categories: card.categories.iter().map(|c| CategoryChoice { code: &c.code, name: &c.name }).collect(),
        error,
        field_errors,
        tz: ctx.state.tz().name(),
        idempotency_key: key,
        upload_ids: &typed.upload_ids,
        typed: html::TypedFields {
            category: typed.get("category"),
            description: typed.get("description"),
            phone: typed.get("phone"),
            name: typed.get("name"),
            address: typed.get("address"),
            lat: typed.get("lat"),
            lng: typed.get("lng"),
        },
        limits: IntakeLimits {
            description: intake::DESCRIPTION_MAX,
            name: intake::NAME_MAX,
            address: intake::ADDRESS_MAX,
            photos: MAX_PHOTOS,
        },
    };
    html::respond(status, &page)
}

/// Counts one open of a card's page (in memory; the card_scans worker writes the counts).
fn count_scan(state: &AppState, card_id: i64) {
    let day = crate::services::card_admin::local_day(state, state.now());
    state.card_scans.record(card_id, day);
}

#[utoipa::path(tag = "pages", params(View), responses((status = 200, description = "扫码后的诉求填写页", content_type = "text/html")))]
#[get("/c/{code}")]
async fn card_page(state: web::Data<AppState>, code: web::Path<String>, v: web::Query<View>) -> HttpResponse {
    let ctx = Ctx { state: &state, large: v.large() };
    match cards::lookup(&state, &code).await {
        Ok(CardLookup::Active(card)) => {
            count_scan(&state, card.card_id);
            intake_page(&ctx, &card, &Typed::default(), None, vec![])
        }
        // Old cards still on a wall are counted too: the figures show where to post the new one.
        Ok(CardLookup::Ended { card_id, status, village, hotline }) => {
            count_scan(&state, card_id);
            ctx.ended(status, &village, &hotline)
        }
        Ok(CardLookup::Unknown) => ctx.unknown_card(),
        Err(e) => ctx.error(e),
    }
}

/// Stores the photos and voice note of the no-JavaScript form as uploads.
async fn store_files(state: &AppState, form: multipart::Form, ip: &str) -> Result<Typed, ApiError> {
    let mut typed = Typed { fields: form.fields, upload_ids: vec![] };
    // Uploads kept from an earlier try of the same form come back as hidden fields.
    if let Some(ids) = typed.fields.remove("upload_ids") {
        typed.upload_ids.extend(ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
    }
    if !form.files.is_empty() {
        check_upload_limit(state, &Caller::Anonymous, ip).await?;
    }
    for (_, bytes) in form.files {
        let stored = uploads::store(state, bytes, uploader_of(&Caller::Anonymous, ip)).await?;
        typed.upload_ids.push(stored.upload_id);
    }
    Ok(typed)
}

async fn result_page(ctx: &Ctx<'_>, card: &PublicCard, answer: &intake::IntakeAnswer, replayed: bool) -> HttpResponse {
    // The phone the ticket was filed with (a resent form may carry another one typed since).
    let phone = match repo::tickets::by_no(&ctx.state.db.conn, &answer.ticket_no).await {
        Ok(t) => t.and_then(|t| Phone::parse(&t.requester_phone)),
        Err(e) => return ctx.error(e.into()),
    };
    let masked = phone.as_ref().map(Phone::masked).unwrap_or_default();
    let sms = if answer.confirmation_sms == Some(false) {
        SmsNote::DailyLimitReached
    } else {
        SmsNote::SentTo(masked.clone())
    };
    let village = card.village["name"].as_str().unwrap_or("");
    let mut track_href = format!("/t/{}", answer.ticket_no);
    if let Some(p) = &phone {
        track_href.push_str(&format!("?phone_tail={}", p.tail4()));
    }
    let page = ResultPage {
        frame: ctx.frame("提交成功", village, "诉求已受理"),
        ticket_no: &answer.ticket_no,
        respond_by: html::local(ctx.state, answer.respond_by),
        sms,
        phone: masked,
        track_href,
        replayed,
        card_code: &card.code,
    };
    html::respond(if replayed { StatusCode::OK } else { StatusCode::CREATED }, &page)
}

/// The cookie that marks, on the browser that sent it, the card form last filed (its idempotency
/// key: unguessable, so it opens that answer to that browser only).
const FILED_COOKIE: &str = "ms_filed";
const FILED_HOURS: i64 = 24;

/// The answer to the form this browser filed last from this card, when `fields` ask for the very
/// same thing again (same category, description and phone): a form sent again after the back button,
/// which shows the page afresh with a new key. A different request is filed as usual.
async fn sent_again(
    state: &AppState,
    req: &HttpRequest,
    card: &PublicCard,
    fields: &HashMap<String, String>,
) -> Result<Option<intake::IntakeAnswer>, ApiError> {
    let Some(key) = req.cookie(FILED_COOKIE).map(|c| c.value().to_string()) else { return Ok(None) };
    if !intake::valid_idempotency_key(&key) {
        return Ok(None);
    }
    let Some(answer) = intake::answer_for_key(state, &key).await? else { return Ok(None) };
    let Some(t) = repo::tickets::by_no(&state.db.conn, &answer.ticket_no).await? else { return Ok(None) };
    let field = |k: &str| fields.get(k).map(|s| s.trim()).unwrap_or("");
    let same = t.card_id == Some(card.card_id)
        && t.category_code == field("category")
        && t.description.trim() == field("description")
        && Phone::parse(field("phone")).is_some_and(|p| p.as_str() == t.requester_phone);
    Ok(same.then_some(answer))
}

#[utoipa::path(tag = "pages", request_body(content = crate::openapi::IntakeForm, content_type = "multipart/form-data"), params(View), responses((status = 200, description = "提交结果页", content_type = "text/html"), (status = 303, description = "提交成功，跳转到结果页"), (status = 201, description = "已受理", content_type = "text/html")))]
#[post("/c/{code}")]
async fn card_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    v: web::Query<View>,
    payload: Multipart,
) -> HttpResponse {
    let ctx = Ctx { state: &state, large: v.large() };
    let card = match cards::lookup(&state, &code).await {
        Ok(CardLookup::Active(card)) => card,
        Ok(CardLookup::Ended { status, village, hotline, .. }) => return ctx.ended(status, &village, &hotline),
        Ok(CardLookup::Unknown) => return ctx.unknown_card(),
        Err(e) => return ctx.error(e),
    };
    let ip = super::client_ip(&req, &state);
    let cfg = &state.settings.uploads;
    let form = match multipart::read(payload, cfg.max_image_bytes.max(cfg.max_audio_bytes), MAX_PHOTOS + 1).await {
        Ok(f) => f,
        Err(e) => return intake_page(&ctx, &card, &Typed::default(), Some(&e.message), vec![]),
    };
    // A resend of a form already filed (back button, flaky network) shows the same result.
    let form_key = form.fields.get("idempotency_key").filter(|k| intake::valid_idempotency_key(k)).cloned();
    if let Some(k) = &form_key {
        match intake::answer_for_key(&state, k).await {
            Ok(Some(answer)) => return result_page(&ctx, &card, &answer, true).await,
            Ok(None) => {}
            Err(e) => return ctx.error(e),
        }
    }
    // The back button shows the card page afresh (pages are never cached), with a new key: the same
    // request sent again from this browser is still the first one.
    match sent_again(&state, &req, &card, &form.fields).await {
        Ok(Some(answer)) => return result_page(&ctx, &card, &answer, true).await,
        Ok(None) => {}
        Err(e) => return ctx.error(e),
    }
    let typed_fields = form.fields.clone();
    let typed = match store_files(&state, form, &ip).await {
        Ok(t) => t,
        Err(e) if e.status.is_client_error() => return intake_errors(&ctx, &card, &Typed::default(), &e),
        // Every photo decoding slot taken (503 with Retry-After), or the upload disk full (507): the
        // form again with what was typed, the reason and the same status; it can go without photos.
        Err(e) if e.retry_after.is_some() || e.status == StatusCode::INSUFFICIENT_STORAGE => {
            let typed = Typed { fields: typed_fields, upload_ids: vec![] };
            let mut page = intake_page(&ctx, &card, &typed, Some(&e.message), vec![]);
            *page.status_mut() = e.status;
            if let Some(v) = e.retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                page.headers_mut().insert(RETRY_AFTER, v);
            }
            return page;
        }
        Err(e) => return ctx.error(e),
    };
    let text = |k: &str| Some(typed.get(k)).filter(|s| !s.trim().is_empty());
    let location =
        match (text("lat").and_then(|s| s.parse::<f64>().ok()), text("lng").and_then(|s| s.parse::<f64>().ok())) {
            (Some(lat), Some(lng)) => json!({"lat": lat, "lng": lng}),
            _ => serde_json::Value::Null,
        };
    let mut body = json!({
        "card_code": card.code,
        "category": text("category"),
        "description": text("description"),
        "phone": text("phone"),
        "name": text("name"),
        "address": text("address"),
        "upload_ids": typed.upload_ids,
    });
    if !location.is_null() {
        body["location"] = location;
    }
    let key = text("idempotency_key").filter(|k| intake::valid_idempotency_key(k));
    match intake::file(&state, &body, key, &Caller::Anonymous, &ip).await {
        Ok((_, answer)) => {
            let mut page = result_page(&ctx, &card, &answer, false).await;
            if let Some(k) = key {
                // Marks this browser's form as filed (see `sent_again`).
                let cookie = Cookie::build(FILED_COOKIE, k.to_string())
                    .path(format!("/c/{}", card.code))
                    .http_only(true)
                    .secure(state.public_url().starts_with("https://"))
                    .same_site(SameSite::Lax)
                    .max_age(actix_web::cookie::time::Duration::hours(FILED_HOURS))
                    .finish();
                let _ = page.add_cookie(&cookie);
            }
            page
        }
        Err(e) if e.code == codes::IDEMPOTENCY_KEY_REUSED => {
            let mut fresh = typed;
            fresh.fields.remove("idempotency_key");
            let again = "这张表单已经提交过。如需反映新的问题，请再次点击提交。";
            intake_page(&ctx, &card, &fresh, Some(again), vec![])
        }
        Err(e) if e.status.is_client_error() => intake_errors(&ctx, &card, &typed, &e),
        Err(e) => ctx.error(e),
    }
}

/// `/t/`: the lookup form (ticket number and the phone's last four digits); filled in, it opens that
/// ticket's tracking page.
#[utoipa::path(tag = "pages", params(View), responses((status = 200, description = "查询页", content_type = "text/html"), (status = 303, description = "跳转到工单跟踪页")))]
#[get("/t/")]
async fn lookup(state: web::Data<AppState>, q: web::Query<View>) -> HttpResponse {
    let ctx = Ctx { state: &state, large: q.large() };
    let no = q.no.as_deref().map(str::trim).unwrap_or("");
    let tail = q.phone_tail.as_deref().map(str::trim).unwrap_or("");
    let page = |status: StatusCode, no_error: Option<&str>, tail_error: Option<&str>| {
        let frame = ctx.frame("查询办理进度", "办理进度查询", ctx.county()).scripts(&["mine.js"]);
        html::respond(status, &LookupPage { frame, no, no_error, tail_error })
    };
    if q.no.is_none() && q.phone_tail.is_none() {
        return page(StatusCode::OK, None, None);
    }
    let parsed = TicketNo::parse(no);
    let no_error = match parsed {
        _ if no.is_empty() => Some("请填写工单编号"),
        None => Some("工单编号不正确，请核对短信中的编号（如 20261201-000001）"),
        Some(_) => None,
    };
    let tail_ok = tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_digit());
    let tail_error = (!tail_ok).then_some("请填写手机号码的后四位数字");
    match parsed {
        Some(parsed) if tail_ok => {
            let large = if ctx.large { "&large=1" } else { "" };
            let to = format!("/t/{}?phone_tail={tail}{large}", parsed.as_str());
            HttpResponse::SeeOther().insert_header((LOCATION, to)).insert_header((CACHE_CONTROL, "no-store")).finish()
        }
        _ => page(StatusCode::UNPROCESSABLE_ENTITY, no_error, tail_error),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WeekView {
    week: Option<String>,
    large: Option<String>,
}

/// `/redblack`: the published red/black list of a week (default the latest), for everyone.
#[utoipa::path(tag = "pages", params(WeekView), responses((status = 200, description = "红黑榜", content_type = "text/html")))]
#[get("/redblack")]
async fn redblack_page(state: web::Data<AppState>, q: web::Query<WeekView>) -> HttpResponse {
    use crate::services::redblack;
    let ctx = Ctx { state: &state, large: q.large.as_deref() == Some("1") };
    let list = match redblack::find(&state, q.week.as_deref()).await {
        Ok(list) => list,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return ctx.message(
                StatusCode::NOT_FOUND,
                "红黑榜",
                "该周的红黑榜尚未发布。榜单每周一 8:00 发布上一周的结果。",
                None,
            );
        }
        Err(e) => return ctx.error(e),
    };
    let (weeks, chain_ok) = match (repo::redblack::weeks(&state.db.conn, 104).await, redblack::chain_ok(&state).await) {
        (Ok(w), Ok(ok)) => (w, ok),
        (Err(e), _) => return ctx.error(e.into()),
        (_, Err(e)) => return ctx.error(e),
    };
    let v = redblack::view(&list);
    let tiers = RedBlackTier::all_of(&v["tiers"]);
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M").to_string();
    let rules: Vec<String> =
        v["rules"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect();
    let frame = ctx.frame(format!("{} 红黑榜", list.week), "红黑榜", ctx.county());
    let page = RedBlackPage {
        frame,
        week: &list.week,
        period: format!("{} 至 {}", v["from"].as_str().unwrap_or(""), v["to"].as_str().unwrap_or("")),
        published: local(list.published_at),
        tiers,
        formula: &list.formula,
        rules,
        weeks,
        chain_ok,
    };
    html::respond(StatusCode::OK, &page)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NoticesView {
    page: Option<String>,
    large: Option<String>,
}

/// `/v/{id}/notices`: the village council's published decisions (三老合议), for everyone; 20 a page,
/// newest first.
#[utoipa::path(tag = "pages", params(NoticesView), responses((status = 200, description = "村民议事会合议公告", content_type = "text/html")))]
#[get("/v/{id}/notices")]
async fn notices_page(state: web::Data<AppState>, id: web::Path<String>, q: web::Query<NoticesView>) -> HttpResponse {
    use crate::services::council;
    let ctx = Ctx { state: &state, large: q.large.as_deref() == Some("1") };
    let Ok(id) = id.parse::<i64>() else {
        return ctx.message(StatusCode::NOT_FOUND, "合议公告", "没有找到这个村。", None);
    };
    let page = match repo::Page::parse(q.page.as_deref(), None) {
        Ok(p) => p,
        Err(_) => return ctx.message(StatusCode::BAD_REQUEST, "合议公告", "页码不正确。", None),
    };
    let (village, items, total) = match council::notices(&state, id, page).await {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return ctx.message(StatusCode::NOT_FOUND, "合议公告", "没有找到这个村。", None);
        }
        Err(e) => return ctx.error(e),
    };
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&state.tz()).format("%Y-%m-%d").to_string();
    let items = items
        .into_iter()
        .map(|n| html::NoticeLine {
            date: local(n.decided_at),
            category: n.category_name,
            decision: n.decision,
            members: n
                .members
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| format!("{}（{}）", m["name"].as_str().unwrap_or(""), m["title"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect();
    let frame =
        ctx.frame(format!("{}合议公告", village.name), "合议公告", format!("{} · {}", ctx.county(), village.name));
    let p = html::NoticesPage {
        frame,
        village: &village.name,
        total,
        items,
        page: page.page,
        prev: (page.page > 1).then(|| page.page - 1),
        next: (page.page * page.per_page < total).then(|| page.page + 1),
    };
    html::respond(StatusCode::OK, &p)
}

/// `/t` without the slash: the lookup page.
#[utoipa::path(tag = "pages", params(View), responses((status = 308, description = "跳转到 /t/")))]
#[get("/t")]
async fn lookup_bare(q: web::Query<View>) -> HttpResponse {
    let to = if q.large() { "/t/?large=1" } else { "/t/" };
    HttpResponse::PermanentRedirect().insert_header((LOCATION, to)).finish()
}

#[utoipa::path(tag = "pages", params(View), responses((status = 200, description = "工单跟踪页", content_type = "text/html")))]
#[get("/t/{no}")]
async fn track(
    state: web::Data<AppState>,
    req: HttpRequest,
    no: web::Path<String>,
    q: web::Query<View>,
) -> HttpResponse {
    let ctx = Ctx { state: &state, large: q.large() };
    let Some(no) = TicketNo::parse(&no) else {
        return ctx.message(StatusCode::NOT_FOUND, "未找到工单", "工单编号不正确，请核对短信中的编号。", None);
    };
    let frame = || ctx.frame("办理进度", "办理进度查询", ctx.county());
    let ask = |status: StatusCode, error: Option<&str>| {
        html::respond(status, &TrackPage { frame: frame(), no: no.as_str(), error })
    };
    let Some(tail) = q.phone_tail.as_deref().filter(|t| !t.is_empty()) else { return ask(StatusCode::OK, None) };
    let ip = super::client_ip(&req, &state);
    let ticket = match crate::services::tracking::find_for_requester(&state, no.as_str(), tail, &ip).await {
        Ok(t) => t,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => return ask(e.status, Some(&e.message)),
        Err(e) if e.status.is_client_error() => {
            return ask(StatusCode::NOT_FOUND, Some("工单编号与手机号后四位不匹配，请核对后重试。"));
        }
        Err(e) => return ctx.error(e),
    };
    match status_page(&ctx, &ticket, tail).await {
        Ok(page) => page,
        Err(e) => ctx.error(e),
    }
}

/// The tracking page of a ticket whose phone tail has just been proved.
async fn status_page(ctx: &Ctx<'_>, ticket: &repo::tickets::Ticket, tail: &str) -> Result<HttpResponse, ApiError> {
    let state = ctx.state;
    let db = &state.db.conn;
    let view = views::public_view(db, ticket).await?;
    let handling = match (view.handling_unit.clone(), view.respond_by, view.resolve_by) {
        (Some(unit), _, _) if view.paused_until.is_some() => Handling::Paused {
            unit,
            until: view.paused_until.map(|d| d.format("%m月%d日").to_string()).unwrap_or_default(),
        },
        (Some(unit), Some(r), _) => Handling::RespondBy { unit, by: html::local(state, r) },
        (Some(unit), None, Some(by)) => Handling::ResolveBy { unit, by: html::local(state, by) },
        (Some(unit), None, None) => Handling::Unit { unit },
        _ if matches!(ticket.status, Status::Submitted | Status::Registered) => {
            // Not with a unit yet: the time the result page promised, while it lies ahead.
            let policy = state.reference.policy_for(state, &ticket.category_code, ticket.kind, ticket.priority).await?;
            let by = ticket.created_at + chrono::Duration::minutes(policy.respond_minutes);
            Handling::Pending { by: (by > state.now()).then(|| html::local(state, by)) }
        }
        _ => Handling::Pending { by: None },
    };
    // The villager's own attachments, as filed (not the cadres' evidence).
    let events = repo::tickets::events_of(db, ticket.id).await?;
    let filed: Vec<String> = events
        .iter()
        .find(|e| e.action == "submit")
        .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.data).ok())
        .and_then(|d| d["upload_ids"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut media = vec![];
    for id in &filed {
        if let Some(u) = repo::uploads::get(db, id).await?
            && u.ticket_id == Some(ticket.id)
        {
            let audio = u.mime.starts_with("audio/");
            media.push(Media { url: tracking::media_url(state, &ticket.no, &u.id), audio });
        }
    }
    let visits = repo::return_visits::of_ticket(db, ticket.id).await?;
    let rating = visits.iter().rev().find_map(|v| {
        v.satisfaction.map(|s: Satisfaction| Rated {
            label: s.label(),
            // The villager's own words from the rating link; a caller's notes stay internal.
            comment: v
                .comment
                .as_deref()
                .map(crate::domain::privacy::mask_personal_numbers)
                .filter(|_| v.channel == VisitChannel::Sms),
        })
    });
    let frame = ctx.frame("办理进度", "办理进度查询", ctx.county()).keep(&[("phone_tail", tail)]);
    let page = StatusPage {
        frame,
        no: &view.no,
        status_label: view.status_label,
        category: &view.category.name,
        village: &view.village,
        phone: &view.phone,
        handling,
        // The page opens with the number and four digits of the phone: phones and ID numbers typed
        // into the request are masked as the phone is.
        description: &crate::domain::privacy::mask_personal_numbers(&ticket.description),
        media,
        rating,
        timeline: html::timeline(state, &view.timeline),
    };
    Ok(html::respond(StatusCode::OK, &page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MediaLink {
    until: i64,
    sig: String,
}

/// A requester's own photo or voice note, by the short-lived signed link of their tracking page.
#[utoipa::path(tag = "pages", params(MediaLink), responses((status = 200, description = "工单的照片或语音", content_type = "application/octet-stream")))]
#[get("/t/{no}/media/{id}")]
async fn track_media(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    link: web::Query<MediaLink>,
) -> HttpResponse {
    let (no, id) = path.into_inner();
    match tracking::open_media(&state, &no, &id, link.until, &link.sig).await {
        Ok((mime, bytes)) => {
            HttpResponse::Ok().content_type(mime).insert_header((CACHE_CONTROL, "private, max-age=600")).body(bytes)
        }
        Err(e) => {
            let ctx = Ctx { state: &state, large: false };
            if e.status.is_client_error() {
                ctx.message(e.status, "无法查看", &e.message, None)
            } else {
                ctx.error(e)
            }
        }
    }
}

#[utoipa::path(tag = "pages", params(View), responses((status = 200, description = "评价页", content_type = "text/html")))]
#[get("/r/{token}")]
async fn rate_page(state: web::Data<AppState>, token: web::Path<String>, v: web::Query<View>) -> HttpResponse {
    let ctx = Ctx { state: &state, large: v.large() };
    let ticket = match rating::open(&state, &token).await {
        Ok(t) => t,
        Err(e) if e.status.is_client_error() => return ctx.message(e.status, "评价", &e.message, None),
        Err(e) => return ctx.error(e),
    };
    let view = match views::public_view(&state.db.conn, &ticket).await {
        Ok(v) => v,
        Err(e) => return ctx.error(e.into()),
    };
    let result = view
        .timeline
        .iter()
        .rev()
        .find(|e| e.action == Action::Resolve.as_str() || e.action == Action::CouncilDecision.as_str())
        .and_then(|e| e.note.clone());
    let page = RatePage {
        frame: ctx.frame("办理评价", "办理评价", ctx.county()),
        no: &view.no,
        category: &view.category.name,
        village: &view.village,
        result: result.as_deref().unwrap_or("已办结"),
        token: token.as_str(),
        comment_max: return_visits::COMMENT_MAX,
    };
    html::respond(StatusCode::OK, &page)
}

/// The return-visit desk for callers (a static page that talks to the API with the caller's token).
#[utoipa::path(tag = "pages", responses((status = 200, description = "回访工作台", content_type = "text/html")))]
#[get("/console/visits")]
async fn caller_console() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html::CONSOLE_VISITS)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RateForm {
    satisfaction: Option<String>,
    comment: Option<String>,
}

#[utoipa::path(tag = "pages", request_body(content = RateForm, content_type = "application/x-www-form-urlencoded"), params(View), responses((status = 200, description = "评价结果", content_type = "text/html"), (status = 201, description = "已评价", content_type = "text/html")))]
#[post("/r/{token}")]
async fn rate_submit(
    state: web::Data<AppState>,
    token: web::Path<String>,
    v: web::Query<View>,
    form: web::Form<RateForm>,
) -> HttpResponse {
    let ctx = Ctx { state: &state, large: v.large() };
    let comment = form.comment.clone().filter(|c| !c.trim().is_empty());
    match rating::rate(&state, &token, None, form.satisfaction.as_deref().unwrap_or(""), comment).await {
        Ok(answer) => {
            let message = if answer.outcome == "reopened" {
                "感谢您的评价。我们会重新办理，并尽快与您联系。"
            } else {
                "感谢您的评价！您的意见会用于考核承办单位。"
            };
            ctx.message(StatusCode::CREATED, "评价成功", message, None)
        }
        Err(e) if e.status.is_client_error() => ctx.message(e.status, "评价", &e.message, None),
        Err(e) => ctx.error(e),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(asset)
        .service(home)
        .service(card_page)
        .service(card_submit)
        .service(lookup)
        .service(lookup_bare)
        .service(redblack_page)
        .service(notices_page)
        .service(track_media)
        .service(track)
        .service(rate_page)
        .service(rate_submit)
        .service(caller_console);
}
