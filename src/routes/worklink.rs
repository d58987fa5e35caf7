//! The cadre's order page from the assignment SMS (`/w/{token}`): server-rendered, so it works on a
//! cheap phone without JavaScript; forms post as multipart (with photos) and redirect back.
use crate::domain::phone::Phone;
use crate::domain::ticket::{Action, Status};
use crate::error::ApiError;
use crate::html::{self, Vars, escape, render};
use crate::services::actions::ActionBody;
use crate::services::actions::escalation::pending;
use crate::services::worklink::{self, MAX_PHOTO_BYTES, MAX_PHOTOS, Opened};
use crate::services::{order_view, views};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;

fn page(status: StatusCode, state: &AppState, title: &str, content: String) -> HttpResponse {
    let county = &state.settings.county.name;
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(html::page(title, "承办工单", &format!("{county} · 民声直达"), county, content))
}

fn message(state: &AppState, e: &ApiError) -> HttpResponse {
    let text = if e.status.is_server_error() {
        let _ = actix_web::ResponseError::error_response(e); // logs the cause with an id
        "系统繁忙，请稍后再试。".to_string()
    } else {
        e.message.clone()
    };
    let content = render(html::MESSAGE, &Vars::new().text("title", "无法打开工单").text("message", text));
    page(e.status, state, "承办工单", content)
}

fn local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.tz()).format("%m月%d日 %H:%M").to_string()
}

fn deadline_items(state: &AppState, o: &Opened, now: DateTime<Utc>) -> String {
    let a = &o.assignment;
    let rows = [
        ("签收", a.respond_by, a.accepted_at),
        ("首次反馈", a.progress_by, a.first_progress_at),
        ("办结", a.resolve_by, a.resolved_at),
    ];
    rows.iter()
        .map(|(label, by, done)| {
            let (class, state_text) = match done {
                Some(at) if at <= by => ("done", format!("已于{}完成", local(state, *at))),
                Some(at) => ("done late", format!("已于{}完成（超时）", local(state, *at))),
                None if *by < now && o.current => ("late", "已超时".to_string()),
                None => ("", String::new()),
            };
            format!(
                "<li class=\"{class}\"><span>{label}时限</span><time>{}</time><em>{}</em></li>",
                escape(&local(state, *by)),
                escape(&state_text)
            )
        })
        .collect()
}

fn photo_input() -> &'static str {
    "<label class=\"lbl\">现场照片（可选，最多9张）</label>\
     <input type=\"file\" name=\"photos\" accept=\"image/jpeg,image/png,image/webp\" capture=\"environment\" multiple>"
}

fn forms(token: &str, o: &Opened) -> String {
    let t = escape(token);
    if o.staff.is_none() {
        return "<section class=\"card\"><p class=\"hint\">此链接仅供查看。请登录工作台办理。</p></section>".into();
    }
    if !o.current {
        return "<section class=\"card\"><p class=\"hint\">该派单已结束，工单已不在您处办理。</p></section>".into();
    }
    let form = |action: &str, body: String| {
        format!(
            "<form method=\"post\" action=\"/w/{t}/{action}\" enctype=\"multipart/form-data\" class=\"act\" id=\"form-{action}\">{body}</form>"
        )
    };
    let mut out = String::from("<section class=\"card\"><h2>办理</h2>");
    match o.loaded.status() {
        Status::Dispatched => {
            out.push_str(&form(
                "accept",
                "<div class=\"field\"><input type=\"text\" name=\"note\" placeholder=\"备注（可选，如：已电话联系群众）\"></div>\
                 <button class=\"primary\" type=\"submit\">签收</button>"
                    .into(),
            ));
        }
        Status::Accepted | Status::InProgress => {
            out.push_str(&form(
                "progress",
                format!(
                    "<div class=\"field\"><label class=\"lbl\" for=\"progress-note\">办理进展</label>\
                     <textarea id=\"progress-note\" name=\"note\" required placeholder=\"已做了什么、下一步打算\"></textarea></div>\
                     <div class=\"field\">{}</div><button class=\"primary\" type=\"submit\">反馈进展</button>",
                    photo_input()
                ),
            ));
            out.push_str(&form(
                "resolve",
                format!(
                    "<div class=\"field\"><label class=\"lbl\" for=\"resolve-result\">办理结果</label>\
                     <textarea id=\"resolve-result\" name=\"result\" required placeholder=\"问题如何解决的\"></textarea></div>\
                     <div class=\"field\">{}</div><button class=\"primary ok\" type=\"submit\">办结</button>",
                    photo_input()
                ),
            ));
        }
        _ => {}
    }
    out.push_str("</section>");
    let mut more = String::new();
    if o.loaded.status() == Status::Dispatched || o.loaded.status() == Status::Accepted {
        more.push_str(&format!(
            "<details><summary>退单（不属于本单位职责）</summary>{}</details>",
            form(
                "return",
                "<div class=\"field\"><textarea name=\"reason\" required placeholder=\"退单理由（必填）\"></textarea></div>\
                 <button class=\"secondary\" type=\"submit\">确认退单</button>"
                    .into()
            )
        ));
    }
    if pending(&o.assignment) {
        more.push_str("<p class=\"hint\">已申请提级，等待派单员审批。</p>");
    } else {
        more.push_str(&format!(
            "<details><summary>申请提级（需上级协调）</summary>{}</details>",
            form(
                "escalate",
                "<div class=\"field\"><textarea name=\"reason\" required placeholder=\"提级理由（必填）\"></textarea></div>\
                 <button class=\"secondary\" type=\"submit\">提交申请</button>"
                    .into()
            )
        ));
    }
    out.push_str(&format!("<section class=\"card more\">{more}</section>"));
    out
}

/// Category, village and the timeline (as the requester sees it: no internal notes).
struct Extras {
    category: String,
    village: String,
    timeline: String,
}

fn render_order(
    state: &AppState,
    token: &str,
    o: &Opened,
    x: &Extras,
    flash: Option<&str>,
    error: Option<&str>,
) -> String {
    let now = state.now();
    let t = &o.loaded.ticket;
    // The page shows the number masked: the handling cadre opens it in full (and calls) through
    // `/w/{token}/call`, and that view is written to the phone access log.
    let masked = escape(&Phone::parse(&t.requester_phone).map(|p| p.masked()).unwrap_or_default());
    let phone = if o.current && o.staff.is_some() {
        format!("{masked} <a class=\"call\" href=\"/w/{}/call\">查看号码并拨打</a>", escape(token))
    } else {
        masked
    };
    let flash =
        flash.map(|m| format!("<p class=\"success-msg\" role=\"status\">{}</p>", escape(m))).unwrap_or_default();
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let current = t.current_assignment_id.and_then(|id| o.loaded.assignments.iter().find(|a| a.id == id));
    let overdue = order_view::current_deadline(t, current, now).filter(|d| d.late && o.current);
    let banner = overdue
        .map(|d| {
            format!(
                "<p class=\"error\" role=\"alert\">{}时限已过（{}），请尽快办理。</p>",
                d.label,
                escape(&local(state, d.at))
            )
        })
        .unwrap_or_default();
    render(
        html::WORKLINK,
        &Vars::new()
            .text("no", &t.no)
            .text("status_label", o.loaded.status().label())
            .text("description", &t.description)
            .text("requester", t.requester_name.as_deref().unwrap_or("群众"))
            .raw("phone", phone)
            .text("address", t.address.as_deref().unwrap_or("—"))
            .raw("deadlines", deadline_items(state, o, now))
            .raw("flash", flash)
            .raw("error", format!("{banner}{error}"))
            .raw("forms", forms(token, o))
            .text("category", &x.category)
            .text("village", &x.village)
            .raw("timeline", x.timeline.clone()),
    )
}

async fn show(state: &AppState, token: &str, flash: Option<&str>, error: Option<(&str, StatusCode)>) -> HttpResponse {
    let o = match worklink::open(state, token).await {
        Ok(o) => o,
        Err(e) => return message(state, &e),
    };
    let x = match extras(state, &o).await {
        Ok(x) => x,
        Err(e) => return message(state, &e),
    };
    let content = render_order(state, token, &o, &x, flash, error.map(|(m, _)| m));
    let status = error.map(|(_, s)| s).unwrap_or(StatusCode::OK);
    page(status, state, &format!("工单{}", o.loaded.ticket.no), content)
}

async fn extras(state: &AppState, o: &Opened) -> Result<Extras, ApiError> {
    let view = views::public_view(&state.db.conn, &o.loaded.ticket).await?;
    let timeline = view
        .timeline
        .iter()
        .rev()
        .map(|e| {
            let unit = e.unit.as_deref().map(|u| format!("（{}）", escape(u))).unwrap_or_default();
            let note = e.note.as_deref().map(|n| format!("<br>{}", escape(n))).unwrap_or_default();
            format!(
                "<li><time>{}</time><strong>{}</strong>{unit}{note}</li>",
                escape(&local(state, e.at)),
                escape(&e.label)
            )
        })
        .collect();
    Ok(Extras { category: view.category.name, village: view.village, timeline })
}

#[derive(Deserialize)]
struct ShowQuery {
    done: Option<String>,
}

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
    show(&state, &token, flash, None).await
}

/// The requester's full number for the cadre handling the order now, with a tap-to-call link; each
/// view is logged (`phone_access_log`, purpose `handling`). Anyone else gets the masked page.
#[get("/w/{token}/call")]
async fn call_page(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let o = match worklink::open(&state, &token).await {
        Ok(o) => o,
        Err(e) => return message(&state, &e),
    };
    let Some(staff) = o.staff.as_ref().filter(|_| o.current) else {
        return message(&state, &ApiError::forbidden("该工单已不在您处办理，不能查看群众电话"));
    };
    let t = &o.loaded.ticket;
    let logged = crate::repo::visits::log_phone_access(&state.db.conn, staff.id, t.id, "handling", state.now()).await;
    if let Err(e) = logged {
        return message(&state, &ApiError::from(e));
    }
    tracing::info!(ticket_no = %t.no, staff_id = staff.id, "requester phone shown to the handling cadre");
    let content = format!(
        "<section class=\"card\"><h1>联系群众</h1><p>工单 {no}，反映人：{name}</p>\
         <p><a class=\"call big\" href=\"tel:{phone}\">拨打 {phone}</a></p>\
         <p class=\"meta\">本次查看已记录。请只为办理本工单联系群众，不要外传号码。</p>\
         <p><a href=\"/w/{token}\">返回工单</a></p></section>",
        no = escape(&t.no),
        name = escape(t.requester_name.as_deref().unwrap_or("群众")),
        phone = escape(&t.requester_phone),
        token = escape(&token),
    );
    page(StatusCode::OK, &state, &format!("工单{}", t.no), content)
}

/// Reads the form: text fields and photos (stored as uploads as they arrive).
async fn read_form(state: &AppState, token: &str, mut payload: Multipart) -> Result<ActionBody, ApiError> {
    let o = worklink::open(state, token).await?;
    if o.staff.is_none() || !o.current {
        return Ok(ActionBody::default());
    }
    let mut body = ActionBody::default();
    let mut photos = vec![];
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| ApiError::validation("", "表单格式不正确"))?;
        let name = field.name().unwrap_or("").to_string();
        let limit = if name == "photos" { MAX_PHOTO_BYTES } else { 8 * 1024 };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| ApiError::validation(name.clone(), "上传中断，请重试"))?;
            if bytes.len() + chunk.len() > limit {
                return Err(match name.as_str() {
                    "photos" => ApiError::unprocessable("photo_too_large", "photos", "每张照片不能超过10MB"),
                    _ => ApiError::validation(name.clone(), "内容过长"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "photos" if !bytes.is_empty() => {
                if photos.len() >= MAX_PHOTOS {
                    return Err(ApiError::validation("photos", "照片最多9张"));
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
    Ok(body)
}

#[post("/w/{token}/{action}")]
async fn order_action(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> HttpResponse {
    let (token, action_name) = path.into_inner();
    let Some(action) = Action::from_path(&action_name).filter(|a| worklink::PAGE_ACTIONS.contains(a)) else {
        return message(&state, &ApiError::not_found("该页面不支持此操作"));
    };
    let result = match read_form(&state, &token, payload).await {
        Ok(body) => worklink::act(&state, &token, action, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header(("Location", format!("/w/{token}?done={}", action.as_str())))
            .finish(),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::GONE => {
            show(&state, &token, None, Some((&e.message, e.status))).await
        }
        Err(e) => message(&state, &e),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(order_page).service(call_page).service(order_action);
}
