//! Reference data lists (regions, units, staff, categories) and the outbox. Lists are readable by
//! staff within their scope (the console needs units to dispatch to); the outbox is for admins.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::domain::phone::mask;
use crate::domain::roles::{Role, parse_roles};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::services::cards::category_tree;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct ListQuery {
    level: Option<String>,
    parent_id: Option<i64>,
    region_id: Option<i64>,
    unit_id: Option<i64>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[get("/regions")]
async fn regions(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let page = Page::new(q.page, q.per_page);
    let (rows, total) =
        repo::regions::list(&state.db.conn, &user.scope.region_path, q.level.as_deref(), q.parent_id, page).await?;
    let items = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "name": r.name, "level": r.level, "parent_id": r.parent_id, "path": r.path, "hotline": r.hotline}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/units")]
async fn units(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let page = Page::new(q.page, q.per_page);
    let (rows, total) = repo::regions::list_units(&state.db.conn, &user.scope.region_path, q.region_id, page).await?;
    let items = rows
        .into_iter()
        .map(|(u, _)| json!({"id": u.id, "name": u.name, "level": u.level, "region_id": u.region_id, "kind": u.kind, "is_lead": u.is_lead, "active": u.active}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/staff")]
async fn staff(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let page = Page::new(q.page, q.per_page);
    let (rows, total) = repo::staff::list(&state.db.conn, &user.scope.region_path, q.unit_id, page).await?;
    let admin = user.is_admin();
    let items = rows
        .into_iter()
        .map(|s| {
            let phone = s.phone.map(|p| if admin { p } else { mask(&p) });
            json!({"id": s.id, "username": s.username, "name": s.name, "roles": parse_roles(&s.roles),
                   "region_id": s.region_id, "unit_id": s.unit_id, "phone": phone, "post": s.post, "active": s.active})
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/categories")]
async fn categories(state: web::Data<AppState>, _user: StaffUser) -> ApiResult<HttpResponse> {
    let rows = repo::catalog::all_categories(&state.db.conn).await?;
    let total = rows.len() as u64;
    let items: Vec<_> = rows
        .into_iter()
        .map(|c| json!({"code": c.code, "name": c.name, "parent_code": c.parent_code, "level": c.level}))
        .collect();
    let per_page = total.max(1);
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": 1, "per_page": per_page,
                                       "tree": category_tree(&state.db.conn).await?})))
}

#[derive(Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    phone: Option<String>,
    ticket_no: Option<String>,
    kind: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[get("/outbox")]
async fn outbox(state: web::Data<AppState>, user: StaffUser, q: web::Query<OutboxQuery>) -> ApiResult<HttpResponse> {
    if !user.has(Role::Admin) {
        return Err(ApiError::forbidden("仅管理员可查看待发消息"));
    }
    let ticket_id = match q.ticket_no.as_deref().filter(|s| !s.is_empty()) {
        Some(no) => Some(repo::tickets::by_no(&state.db.conn, no).await?.map(|t| t.id).unwrap_or(-1)),
        None => None,
    };
    let filter = repo::outbox::OutboxFilter {
        status: q.status.clone().filter(|s| !s.is_empty()),
        phone: q.phone.as_deref().and_then(crate::domain::phone::Phone::parse).map(|p| p.as_str().to_string()),
        ticket_id,
        kind: q.kind.clone().filter(|s| !s.is_empty()),
        provider: None,
    };
    let page = Page::new(q.page, q.per_page);
    let (rows, total) = repo::outbox::list(&state.db.conn, &filter, page).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            json!({"id": m.id, "kind": m.kind, "channel": m.channel, "phone": mask(&m.recipient), "body": m.body,
                   "status": m.status, "attempts": m.attempts, "ticket_id": m.ticket_id, "provider": m.provider,
                   "last_error": m.last_error, "created_at": m.created_at, "sent_at": m.sent_at})
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(regions).service(units).service(staff).service(categories).service(outbox);
}
