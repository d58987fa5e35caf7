//! Tickets: intake and staff registration, lists, detail, actions, ledger, public tracking, visits.
use super::ListAnswer;
use crate::auth::Caller;
use crate::auth::StaffUser;
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::domain::ticket::{ALL_STATUSES, Action, Status};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo::Page;
use crate::repo::tickets::{ListFilter, Sort};
use crate::routes::body::JsonBody;
use crate::services::actions::ActionBody;
use crate::services::return_visits::VisitRequest;
use crate::services::tickets::{LIST_ROLES, load_readable, local_day_end, local_day_start, visibility};
use crate::services::{intake, ledger, return_visits, tracking, views};
use crate::state::AppState;
use crate::{repo, services};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;

#[utoipa::path(tag = "tickets", security((), ("bearer" = [])), params(crate::openapi::IdempotencyKey), request_body = crate::services::intake::IntakeRequest, responses((status = 201, description = "已受理", body = crate::services::intake::IntakeAnswer), (status = 200, description = "同一幂等键的重复提交：第一次的回答", body = crate::services::intake::IntakeAnswer)))]
#[post("/tickets")]
async fn file(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let key = req.headers().get("Idempotency-Key").map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let ip = super::client_ip(&req, &state);
    let (status, answer) = intake::file(&state, &body, key.as_deref(), &caller, &ip).await?;
    Ok(HttpResponse::build(status).json(answer))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// One status, or several separated by commas (a tab of the work list).
    status: Option<String>,
    region_id: Option<i64>,
    unit_id: Option<i64>,
    category: Option<String>,
    overdue: Option<bool>,
    repeated: Option<bool>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// The current step's deadline has passed (any step, registration to return visit).
    late: Option<bool>,
    /// `pending`: the unit asked to escalate and waits for the dispatcher.
    escalation: Option<String>,
    /// `pending`: the unit asked to pause the order (挂起) and waits for a leader.
    pause: Option<String>,
    /// `pending`: the desk asked to refer the ticket to the village council (下交) and waits for a leader.
    refer: Option<String>,
    registration_late: Option<bool>,
    /// The requester's phone (exact): a caller's earlier requests.
    phone: Option<String>,
    /// `created_at`, `no`, `status`, `category`, `region`, `unit`, `deadline`; `-` first for descending.
    sort: Option<String>,
}

fn date(v: &Option<String>, field: &str) -> ApiResult<Option<NaiveDate>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD"))
        })
        .transpose()
}

/// The list's filters, as the list and its counts read them.
pub(crate) async fn list_filter(state: &AppState, q: &ListQuery) -> ApiResult<ListFilter> {
    let statuses = match q.status.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => s
            .split(',')
            .map(|one| Status::parse(one.trim()).ok_or_else(|| ApiError::validation("status", "状态取值不正确")))
            .collect::<ApiResult<Vec<Status>>>()?,
        None => vec![],
    };
    let region_path = match q.region_id {
        Some(id) => Some(
            repo::regions::get(&state.db.conn, id)
                .await?
                .ok_or_else(|| ApiError::validation("region_id", "地区不存在"))?
                .path,
        ),
        None => None,
    };
    let phone = match q.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => {
            Some(Phone::parse(p).ok_or_else(|| ApiError::validation("phone", "手机号格式不正确"))?.as_str().to_string())
        }
        None => None,
    };
    let sort = match q.sort.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Sort::parse(s).ok_or_else(|| {
            ApiError::validation("sort", format!("排序字段不正确，可选：{}（前加 - 为倒序）", Sort::names()))
        })?,
        None => Sort::default(),
    };
    let now = state.now();
    Ok(ListFilter {
        statuses,
        region_path,
        unit_id: q.unit_id,
        category: q.category.clone().filter(|c| !c.is_empty()),
        overdue_at: q.overdue.unwrap_or(false).then_some(now),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        from: date(&q.from, "from")?.map(|d| local_day_start(state, d)),
        to: date(&q.to, "to")?.map(|d| local_day_end(state, d)),
        repeated: q.repeated.unwrap_or(false),
        late_at: q.late.unwrap_or(false).then_some(now),
        escalation_pending: match q.escalation.as_deref() {
            None | Some("") => false,
            Some("pending") => true,
            Some(_) => return Err(ApiError::validation("escalation", "escalation 只能是 pending")),
        },
        pause_pending: match q.pause.as_deref() {
            None | Some("") => false,
            Some("pending") => true,
            Some(_) => return Err(ApiError::validation("pause", "pause 只能是 pending")),
        },
        refer_pending: match q.refer.as_deref() {
            None | Some("") => false,
            Some("pending") => true,
            Some(_) => return Err(ApiError::validation("refer", "refer 只能是 pending")),
        },
        registration_late: q.registration_late.unwrap_or(false),
        phone,
        sort,
    })
}

#[utoipa::path(tag = "tickets", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "工单列表", body = crate::openapi::TicketPage)))]
#[get("/tickets")]
async fn list(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    user.require_any(&LIST_ROLES)?;
    let filter = list_filter(&state, &q).await?;
    let listed = repo::tickets::list(&state.db.conn, &visibility(&user), &filter, page).await?;
    let items = services::order_view::rows(&state.db.conn, &listed.items, state.now()).await?;
    Ok(HttpResponse::Ok().json(super::CappedListAnswer {
        items,
        total: listed.total,
        total_capped: listed.capped,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// The work list's tabs: per-status counts, `overdue` and `late`, over the same scope and filters
/// as the list (every status is named, zero or not). Each count stops at 1,000
/// (`repo::tickets::COUNTS_CAP`): `capped` names the counts that reached it (lower bounds; `total`
/// is capped when one of the statuses is).
#[utoipa::path(tag = "tickets", params(ListQuery), responses((status = 200, description = "各状态数量与超期数", body = Object)))]
#[get("/tickets/counts")]
async fn counts(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    user.require_any(&LIST_ROLES)?;
    let filter = list_filter(&state, &q).await?;
    let c = repo::tickets::counts(&state.db.conn, &visibility(&user), &filter, state.now()).await?;
    let mut out = serde_json::Map::new();
    for s in ALL_STATUSES {
        let n = c.by_status.iter().find(|(st, _)| *st == s).map_or(0, |(_, n)| *n);
        out.insert(s.as_str().into(), n.into());
    }
    out.insert("overdue".into(), c.overdue.into());
    out.insert("late".into(), c.late.into());
    out.insert("pause_pending".into(), c.pause_pending.into());
    out.insert("refer_pending".into(), c.refer_pending.into());
    out.insert("total".into(), c.total.into());
    out.insert("capped".into(), c.capped.into());
    Ok(HttpResponse::Ok().json(out))
}

fn ticket_no(no: &str) -> ApiResult<TicketNo> {
    TicketNo::parse(no).ok_or_else(|| ApiError::not_found("工单不存在"))
}

#[utoipa::path(tag = "tickets", responses((status = 200, description = "工单详情（含台账）", body = crate::services::views::TicketView)))]
#[get("/tickets/{no}")]
async fn detail(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    let l = load_readable(&state, &user, no.as_str()).await?;
    Ok(HttpResponse::Ok().json(services::order_view::staff_view(&state, &user, &l).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PublicQuery {
    phone_tail: Option<String>,
}

/// The requester's view. A wrong number and a wrong phone tail get the same 404.
#[utoipa::path(tag = "tickets", security(()), params(PublicQuery), responses((status = 200, description = "村民可见的工单进度（无姓名电话）", body = crate::services::views::PublicTicket)))]
#[get("/tickets/{no}/public")]
async fn public(
    state: web::Data<AppState>,
    req: HttpRequest,
    no: web::Path<String>,
    q: web::Query<PublicQuery>,
) -> ApiResult<HttpResponse> {
    let ip = super::client_ip(&req, &state);
    let t = tracking::find_for_requester(&state, &no, q.phone_tail.as_deref().unwrap_or(""), &ip).await?;
    Ok(HttpResponse::Ok().json(views::public_view(&state.db.conn, &t).await?))
}

/// 一案一档: the case file of one ticket as a PDF, for staff who may read the ticket.
#[utoipa::path(tag = "tickets", responses((status = 200, description = "一案一档 PDF", content_type = "application/pdf")))]
#[get("/tickets/{no}/case.pdf")]
async fn case_file(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    let (name, pdf) = services::case_file::render(&state, &user, no.as_str()).await?;
    tracing::info!(ticket_no = %no.as_str(), user = user.id, "case file made");
    Ok(pdf_answer(true, format!("case-{}.pdf", no.as_str()), name, pdf))
}

/// A PDF made for one person (never stored by a cache), with an ASCII file name and the Chinese one
/// (RFC 6266): downloaded (`attachment`) or shown in the browser.
fn pdf_answer(attachment: bool, ascii_name: String, name: String, pdf: Vec<u8>) -> HttpResponse {
    use actix_web::http::header::{
        CacheControl, CacheDirective, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    };
    let disposition = ContentDisposition {
        disposition: if attachment { DispositionType::Attachment } else { DispositionType::Inline },
        parameters: vec![
            DispositionParam::Filename(ascii_name),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    };
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(disposition)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(pdf)
}

#[utoipa::path(tag = "tickets", responses((status = 200, description = "台账校验结果", body = Object)))]
#[get("/tickets/{no}/ledger/verify")]
async fn verify(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Ok().json(ledger::verify_ticket(&state, &user, no.as_str()).await?))
}

#[utoipa::path(tag = "visits", request_body = crate::services::return_visits::VisitRequest, responses((status = 201, description = "回访已记录", body = Object)))]
#[post("/tickets/{no}/return-visits")]
async fn return_visit(
    state: web::Data<AppState>,
    user: StaffUser,
    no: web::Path<String>,
    body: JsonBody<VisitRequest>,
) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Created().json(return_visits::record(&state, &user, no.as_str(), &body).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RatingBody {
    token: Option<String>,
    satisfaction: Option<String>,
    comment: Option<String>,
}

/// The requester's own rating, authorised by the signed link from the rating SMS.
#[utoipa::path(tag = "tickets", security(()), request_body = RatingBody, responses((status = 201, description = "评价已记录", body = Object)))]
#[post("/tickets/{no}/rating")]
async fn rating(
    state: web::Data<AppState>,
    no: web::Path<String>,
    body: JsonBody<RatingBody>,
) -> ApiResult<HttpResponse> {
    let token = body
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::validation("token", "缺少评价链接凭证"))?;
    let comment = body.comment.clone().filter(|c| !c.trim().is_empty());
    let answer =
        services::rating::rate(&state, token, Some(&no), body.satisfaction.as_deref().unwrap_or(""), comment).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"outcome": answer.outcome, "status": answer.ticket.status})))
}

/// The requester (signed in through the mini-program) records the subscribe-message templates they
/// accepted for their ticket (`wx.requestSubscribeMessage`): each allows one progress message.
#[utoipa::path(tag = "tickets", request_body = crate::services::wechat_notices::SubscriptionRequest, responses((status = 200, description = "已记录订阅", body = Object)))]
#[post("/tickets/{no}/wechat-subscriptions")]
async fn wechat_subscriptions(
    state: web::Data<AppState>,
    me: crate::auth::VillagerUser,
    no: web::Path<String>,
    body: JsonBody<services::wechat_notices::SubscriptionRequest>,
) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Ok().json(services::wechat_notices::subscribe(&state, &me, no.as_str(), &body).await?))
}

#[utoipa::path(tag = "tickets", request_body = crate::services::actions::ActionBody, responses((status = 200, description = "办理后的工单", body = crate::services::views::TicketView)))]
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
        // As `JsonBody` reads: first JSON at all, then the action's fields, naming the one that
        // does not fit (in Chinese, like every other body error).
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            ApiError::new(actix_web::http::StatusCode::BAD_REQUEST, codes::INVALID_BODY, "请求体不是有效的 JSON")
        })?;
        crate::error::typed_json(value)?
    };
    services::actions::act(&state, &user, no.as_str(), action, &body).await?;
    let l = services::tickets::load(&state.db.conn, no.as_str()).await?;
    Ok(HttpResponse::Ok().json(services::order_view::staff_view(&state, &user, &l).await?))
}

#[utoipa::path(tag = "visits", params(crate::openapi::PageParams), responses((status = 200, description = "待回访队列", body = crate::openapi::Page)))]
#[get("/return-visits/queue")]
async fn visit_queue(state: web::Data<AppState>, user: StaffUser, page: Page) -> ApiResult<HttpResponse> {
    let (items, total) = services::visit_queue::queue(&state, &user, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "visits", params(crate::openapi::PageParams), responses((status = 200, description = "联系不上的回访", body = crate::openapi::Page)))]
#[get("/return-visits/unreachable")]
async fn visits_unreachable(state: web::Data<AppState>, user: StaffUser, page: Page) -> ApiResult<HttpResponse> {
    let (items, total) = services::visit_queue::unreachable(&state, &user, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "visits", responses((status = 200, description = "领取成功与租约到期时间", body = Object)))]
#[post("/return-visits/{no}/claim")]
async fn visit_claim(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    Ok(HttpResponse::Ok().json(services::visit_queue::claim(&state, &user, no.as_str()).await?))
}

#[utoipa::path(tag = "visits", responses((status = 204, description = "已释放")))]
#[delete("/return-visits/{no}/claim")]
async fn visit_release(state: web::Data<AppState>, user: StaffUser, no: web::Path<String>) -> ApiResult<HttpResponse> {
    let no = ticket_no(&no)?;
    services::visit_queue::release(&state, &user, no.as_str()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// 催办单: the printable notice of a written urge (ledger event `seq`), for staff who may read the
/// ticket; 404 for any other event or urge type.
#[utoipa::path(tag = "tickets", params(("no" = String, Path, description = "工单编号"), ("seq" = i32, Path, description = "催办记录的账本序号")), responses((status = 200, description = "催办单 PDF", content_type = "application/pdf")))]
#[get("/tickets/{no}/urges/{seq}.pdf")]
async fn urge_notice(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (raw_no, raw_seq) = path.into_inner();
    let no = ticket_no(&raw_no)?;
    let seq: i32 = raw_seq.parse().map_err(|_| ApiError::validation("seq", "催办记录序号应为正整数"))?;
    let (name, pdf) = services::urges::notice_pdf(&state, &user, no.as_str(), seq).await?;
    tracing::info!(ticket_no = %no.as_str(), seq, user = user.id, "urge notice made");
    Ok(pdf_answer(false, format!("urge-{}-{seq}.pdf", no.as_str()), name, pdf))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(file)
        .service(list)
        .service(counts)
        .service(visit_queue)
        .service(visits_unreachable)
        .service(visit_claim)
        .service(visit_release)
        .service(detail)
        .service(public)
        .service(case_file)
        .service(urge_notice)
        .service(verify)
        .service(return_visit)
        .service(rating)
        .service(wechat_subscriptions)
        .service(act);
}
