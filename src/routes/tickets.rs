//! Tickets: intake and staff registration, lists, detail, actions, ledger, public tracking, visits.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::auth::extract::MaybeStaff;
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::domain::ticket::{Action, Status};
use crate::error::{ApiError, ApiResult};
use crate::repo::Page;
use crate::repo::tickets::ListFilter;
use crate::services::return_visits::VisitRequest;
use crate::services::tickets::{ActionBody, LIST_ROLES, load_readable, local_day_end, local_day_start, visibility};
use crate::services::{intake, ledger, return_visits, views};
use crate::state::AppState;
use crate::{repo, services};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;

#[post("/tickets")]
async fn file(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: MaybeStaff,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let key = req.headers().get("Idempotency-Key").map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let (status, answer) = intake::file(&state, &body, key.as_deref(), staff.0.as_ref()).await?;
    Ok(HttpResponse::build(status).json(answer))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    region_id: Option<i64>,
    unit_id: Option<i64>,
    category: Option<String>,
    overdue: Option<bool>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
    /// The current step's deadline has passed (any step, registration to return visit).
    late: Option<bool>,
    /// `pending`: the unit asked to escalate and waits for the dispatcher.
    escalation: Option<String>,
    registration_late: Option<bool>,
}

fn date(v: &Option<String>, field: &str) -> ApiResult<Option<NaiveDate>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD"))
        })
        .transpose()
}

#[get("/tickets")]
async fn list(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    user.require_any(&LIST_ROLES)?;
    if let Some(s) = q.status.as_deref()
        && Status::parse(s).is_none()
    {
        return Err(ApiError::validation("status", "状态取值不正确"));
    }
    let region_path = match q.region_id {
        Some(id) => Some(
            repo::regions::get(&state.db.conn, id)
                .await?
                .ok_or_else(|| ApiError::validation("region_id", "地区不存在"))?
                .path,
        ),
        None => None,
    };
    let now = state.now();
    let filter = ListFilter {
        status: q.status.clone(),
        region_path,
        unit_id: q.unit_id,
        category: q.category.clone().filter(|c| !c.is_empty()),
        overdue_at: q.overdue.unwrap_or(false).then_some(now),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        from: date(&q.from, "from")?.map(|d| local_day_start(&state, d)),
        to: date(&q.to, "to")?.map(|d| local_day_end(&state, d)),
        late_at: q.late.unwrap_or(false).then_some(now),
        escalation_pending: match q.escalation.as_deref() {
            None | Some("") => false,
            Some("pending") => true,
            Some(_) => return Err(ApiError::validation("escalation", "escalation 只能是 pending")),
        },
        registration_late: q.registration_late.unwrap_or(false),
    };
    let page = Page::new(q.page, q.per_page);
    let (tickets, total) = repo::tickets::list(&state.db.conn, &visibility(&user), &filter, page).await?;
    let items = services::order_view::rows(&state.db.conn, &tickets, now).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

fn ticket_no(no: &str) -> ApiResult<TicketNo> {
    TicketNo::parse(no).ok_or_else(|| ApiError::not_found("工单不存在"))
}

#[get("/tickets/{no}")]
async fn detail(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    let l = load_readable(&state, &user, no.as_str()).await?;
    Ok(HttpResponse::Ok().json(services::order_view::staff_view(&state, &user, &l).await?))
}

#[derive(Deserialize)]
struct PublicQuery {
    phone_tail: Option<String>,
}

/// The requester's view. A wrong number and a wrong phone tail get the same 404.
#[get("/tickets/{no}/public")]
async fn public(
    state: web::Data<AppState>,
    no: web::Path<String>,
    q: web::Query<PublicQuery>,
) -> ApiResult<HttpResponse> {
    let tail = q.phone_tail.as_deref().unwrap_or("");
    if tail.len() != 4 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("phone_tail", "请输入手机号后四位"));
    }
    let not_found = || ApiError::not_found("未找到该工单，请核对工单编号和手机号后四位");
    let no = TicketNo::parse(&no).ok_or_else(not_found)?;
    let t = repo::tickets::by_no(&state.db.conn, no.as_str()).await?.ok_or_else(not_found)?;
    let matches = Phone::parse(&t.requester_phone).is_some_and(|p| p.tail4() == tail);
    if !matches {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(views::public_view(&state.db.conn, &t).await?))
}

#[get("/tickets/{no}/ledger/verify")]
async fn verify(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Ok().json(ledger::verify_ticket(&state, &user, no.as_str()).await?))
}

#[post("/tickets/{no}/return-visits")]
async fn return_visit(
    state: web::Data<AppState>,
    user: StaffUser,
    no: web::Path<String>,
    body: web::Json<VisitRequest>,
) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Created().json(return_visits::record(&state, &user, no.as_str(), &body).await?))
}

#[post("/tickets/{no}/{action}")]
async fn act(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (no, action) = path.into_inner();
    let action = Action::from_path(&action).ok_or_else(|| ApiError::not_found(format!("未知操作：{action}")))?;
    let no = ticket_no(&no)?;
    let body: ActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::validation("", format!("请求体不是有效的 JSON：{e}")))?
    };
    services::tickets::act(&state, &user, no.as_str(), action, &body).await?;
    let l = services::tickets::load(&state.db.conn, no.as_str()).await?;
    Ok(HttpResponse::Ok().json(services::order_view::staff_view(&state, &user, &l).await?))
}

#[derive(Deserialize)]
struct QueueQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

#[get("/return-visits/queue")]
async fn visit_queue(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<QueueQuery>,
) -> ApiResult<HttpResponse> {
    user.require_any(&[crate::domain::roles::Role::Caller])?;
    let page = Page::new(q.page, q.per_page);
    let cond = repo::tickets::visibility_condition(&visibility(&user));
    let (tickets, total) = repo::return_visits::queue(&state.db.conn, cond, page).await?;
    let now = state.now();
    let mut items = Vec::with_capacity(tickets.len());
    for t in &tickets {
        let mut row =
            serde_json::to_value(views::ticket_row(&state.db.conn, t, now).await?).map_err(ApiError::internal)?;
        row["visit_by"] = serde_json::json!(t.visit_by);
        items.push(row);
    }
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(file)
        .service(list)
        .service(visit_queue)
        .service(detail)
        .service(public)
        .service(verify)
        .service(return_visit)
        .service(act);
}
