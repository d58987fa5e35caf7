//! Server-rendered pages for villagers: the intake page behind the card (`/c/{code}`, a plain form
//! that works without JavaScript), the result page, and tracking (`/t/{no}`).
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::error::ApiError;
use crate::html::{self, Vars, escape, render};
use crate::repo;
use crate::services::cards::{CardLookup, PublicCard};
use crate::services::{cards, intake, views};
use crate::state::AppState;
use actix_web::{HttpResponse, get, http::StatusCode, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

fn county(state: &AppState) -> &str {
    &state.settings.county.name
}

fn local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.tz()).format("%m月%d日 %H:%M").to_string()
}

fn message_page(state: &AppState, status: StatusCode, title: &str, message: &str, extra: String) -> HttpResponse {
    let content = render(html::MESSAGE, &Vars::new().text("title", title).text("message", message).raw("extra", extra));
    html(status, html::page(title, "民声直达", county(state), county(state), content))
}

#[get("/assets/{path:.*}")]
async fn asset(path: web::Path<String>) -> HttpResponse {
    match html::asset(&path) {
        Some((ctype, bytes)) => {
            HttpResponse::Ok().content_type(ctype).insert_header(("Cache-Control", "public, max-age=3600")).body(bytes)
        }
        None => HttpResponse::NotFound().finish(),
    }
}

#[get("/")]
async fn home(state: web::Data<AppState>) -> HttpResponse {
    message_page(
        &state,
        StatusCode::OK,
        "民声直达",
        "请用手机扫描村里张贴的联系卡二维码反映问题，或拨打服务热线。",
        format!("<p>服务热线：<a href=\"tel:{0}\">{0}</a></p>", escape(&state.settings.county.hotline)),
    )
}

#[derive(Default, Deserialize)]
struct IntakeForm {
    idempotency_key: Option<String>,
    category: Option<String>,
    description: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    address: Option<String>,
}

fn intake_page(state: &AppState, card: &PublicCard, form: &IntakeForm, error: Option<&str>) -> HttpResponse {
    let contacts: String = card
        .contacts
        .iter()
        .map(|c| {
            format!(
                "    <li><span class=\"who\">{}<small>{}</small></span><a class=\"call\" href=\"tel:{}\">拨打 {}</a></li>\n",
                escape(&c.name),
                escape(&c.post),
                escape(&c.phone),
                escape(&c.phone)
            )
        })
        .collect();
    let chosen = form.category.as_deref().unwrap_or("");
    let categories: String = card
        .categories
        .iter()
        .map(|c| {
            let checked = if c.code == chosen { " checked" } else { "" };
            format!(
                "        <label><input type=\"radio\" name=\"category\" value=\"{}\"{checked} required><span>{}</span></label>\n",
                escape(&c.code),
                escape(&c.name)
            )
        })
        .collect();
    let key = form
        .idempotency_key
        .clone()
        .filter(|k| intake::valid_idempotency_key(k))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let content = render(
        html::INTAKE,
        &Vars::new()
            .raw("contacts", contacts)
            .raw("categories", categories)
            .raw("error", error)
            .text("code", &card.code)
            .text("hotline", &card.hotline)
            .text("idempotency_key", key)
            .text("description", form.description.as_deref().unwrap_or(""))
            .text("phone", form.phone.as_deref().unwrap_or(""))
            .text("name", form.name.as_deref().unwrap_or(""))
            .text("address", form.address.as_deref().unwrap_or("")),
    );
    let village = card.village["name"].as_str().unwrap_or("");
    let township = card.township["name"].as_str().unwrap_or("");
    let sub = format!("{} {} · 民声直达", county(state), township);
    html(status, html::page(&format!("{village}联系卡"), village, &sub, county(state), content))
}

/// A card that cannot be used any more still answers with a helpful Chinese page, never an error.
fn ended_page(state: &AppState, status: &str, village: &str, hotline: &str) -> HttpResponse {
    let what = if status == "rotated" { "已更换为新卡片" } else { "已停用" };
    message_page(
        state,
        StatusCode::GONE,
        "联系卡已更换",
        &format!("{village}的这张联系卡{what}。请扫描村里最新张贴的联系卡，或直接拨打服务热线反映问题。"),
        format!("<p>服务热线：<a class=\"call\" href=\"tel:{0}\">{0}</a></p>", escape(hotline)),
    )
}

fn unknown_card(state: &AppState) -> HttpResponse {
    message_page(
        state,
        StatusCode::NOT_FOUND,
        "未找到联系卡",
        "二维码无法识别，请核对后重新扫描，或拨打服务热线。",
        String::new(),
    )
}

/// Counts one open of a card's page (in memory; the card_scans worker writes the counts).
fn count_scan(state: &AppState, card_id: i64) {
    let day = crate::services::card_admin::local_day(state, state.now());
    state.card_scans.record(card_id, day);
}

#[get("/c/{code}")]
async fn card_page(state: web::Data<AppState>, code: web::Path<String>) -> HttpResponse {
    match cards::lookup(&state, &code).await {
        Ok(CardLookup::Active(card)) => {
            count_scan(&state, card.card_id);
            intake_page(&state, &card, &IntakeForm::default(), None)
        }
        // Old cards still on a wall are counted too: the figures show where to post the new one.
        Ok(CardLookup::Ended { card_id, status, village, hotline }) => {
            count_scan(&state, card_id);
            ended_page(&state, &status, &village, &hotline)
        }
        Ok(CardLookup::Unknown) => unknown_card(&state),
        Err(e) => error_page(&state, e),
    }
}

fn error_page(state: &AppState, e: ApiError) -> HttpResponse {
    let status = e.status;
    let message = if status.is_server_error() {
        let _ = actix_web::ResponseError::error_response(&e); // logs the cause with an id
        "系统繁忙，请稍后再试，或拨打服务热线。".to_string()
    } else {
        e.message
    };
    message_page(state, status, "出错了", &message, String::new())
}

#[post("/c/{code}")]
async fn card_submit(state: web::Data<AppState>, code: web::Path<String>, form: web::Form<IntakeForm>) -> HttpResponse {
    let card = match cards::lookup(&state, &code).await {
        Ok(CardLookup::Active(card)) => card,
        Ok(CardLookup::Ended { status, village, hotline, .. }) => {
            return ended_page(&state, &status, &village, &hotline);
        }
        Ok(CardLookup::Unknown) => return unknown_card(&state),
        Err(e) => return error_page(&state, e),
    };
    let body = json!({
        "card_code": card.code,
        "category": form.category,
        "description": form.description,
        "phone": form.phone,
        "name": form.name.as_deref().filter(|s| !s.trim().is_empty()),
        "address": form.address.as_deref().filter(|s| !s.trim().is_empty()),
    });
    let key = form.idempotency_key.as_deref().filter(|k| intake::valid_idempotency_key(k));
    match intake::file(&state, &body, key, None).await {
        Ok((_, answer)) => {
            let phone = form.phone.as_deref().and_then(Phone::parse).map(|p| p.masked()).unwrap_or_default();
            let content = render(
                html::RESULT,
                &Vars::new()
                    .text("ticket_no", &answer.ticket_no)
                    .text("respond_by", local(&state, answer.respond_by))
                    .text("phone", phone)
                    .text("tracking_url", &answer.tracking_url),
            );
            let village = card.village["name"].as_str().unwrap_or("");
            html(StatusCode::CREATED, html::page("提交成功", village, "诉求已受理", county(&state), content))
        }
        Err(e) if e.code == "idempotency_key_reused" => intake_page(
            &state,
            &card,
            &IntakeForm { idempotency_key: None, ..form.into_inner() },
            Some("这张表单已经提交过。如需反映新的问题，请再次点击提交。"),
        ),
        Err(e) if e.status.is_client_error() => intake_page(&state, &card, &form, Some(&e.message)),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct TrackQuery {
    phone_tail: Option<String>,
}

#[get("/t/{no}")]
async fn track(state: web::Data<AppState>, no: web::Path<String>, q: web::Query<TrackQuery>) -> HttpResponse {
    let Some(no) = TicketNo::parse(&no) else {
        return message_page(
            &state,
            StatusCode::NOT_FOUND,
            "未找到工单",
            "工单编号不正确，请核对短信中的编号。",
            String::new(),
        );
    };
    let ask = |error: Option<&str>| {
        let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
        let content = render(html::TRACK, &Vars::new().text("no", no.as_str()).raw("error", error));
        html(StatusCode::OK, html::page("办理进度", "办理进度查询", county(&state), county(&state), content))
    };
    let Some(tail) = q.phone_tail.as_deref().filter(|t| !t.is_empty()) else {
        return ask(None);
    };
    let found = match repo::tickets::by_no(&state.db.conn, no.as_str()).await {
        Ok(t) => t.filter(|t| Phone::parse(&t.requester_phone).is_some_and(|p| p.tail4() == tail)),
        Err(e) => return error_page(&state, e.into()),
    };
    let Some(ticket) = found else {
        return ask(Some("工单编号与手机号后四位不匹配，请核对后重试。"));
    };
    let view = match views::public_view(&state.db.conn, &ticket).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, e.into()),
    };
    let timeline: String = view
        .timeline
        .iter()
        .rev()
        .map(|e| {
            let unit = e.unit.as_deref().map(|u| format!("（{}）", escape(u))).unwrap_or_default();
            let note = e.note.as_deref().map(|n| format!("<br>{}", escape(n))).unwrap_or_default();
            format!(
                "    <li><time>{}</time><strong>{}</strong>{unit}{note}</li>\n",
                escape(&local(&state, e.at)),
                escape(&e.label)
            )
        })
        .collect();
    let handling = match (&view.handling_unit, view.resolve_by) {
        (Some(u), Some(by)) => format!("承办单位：{u}，办理时限：{}", local(&state, by)),
        (Some(u), None) => format!("承办单位：{u}"),
        _ => "正在登记分派中".to_string(),
    };
    let content = render(
        html::STATUS,
        &Vars::new()
            .text("no", &view.no)
            .text("status_label", view.status_label)
            .text("category", &view.category.name)
            .text("village", &view.village)
            .text("phone", &view.phone)
            .text("handling", handling)
            .raw("timeline", timeline),
    );
    html(StatusCode::OK, html::page("办理进度", "办理进度查询", county(&state), county(&state), content))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(asset).service(home).service(card_page).service(card_submit).service(track);
}
