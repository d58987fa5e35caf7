//! Reference data lists (regions, units, staff, categories). Lists are readable by staff within
//! their scope (the console needs units to dispatch to). The outbox lives in `routes::sms`.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::domain::phone::mask;
use crate::domain::values::RegionLevel;
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
}

#[get("/regions")]
async fn regions(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let level =
        match q.level.as_deref().filter(|l| !l.is_empty()) {
            Some(l) => Some(RegionLevel::parse(l).ok_or_else(|| {
                ApiError::validation("level", format!("地区层级不正确，可选：{}", RegionLevel::names()))
            })?),
            None => None,
        };
    let (rows, total) = repo::regions::list(&state.db.conn, &user.scope.region_path, level, q.parent_id, page).await?;
    let items = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "name": r.name, "level": r.level, "parent_id": r.parent_id, "path": r.path, "hotline": r.hotline}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/units")]
async fn units(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (rows, total) = repo::regions::list_units(&state.db.conn, &user.scope.region_path, q.region_id, page).await?;
    let items = rows
        .into_iter()
        .map(|(u, _)| json!({"id": u.id, "name": u.name, "level": u.level, "region_id": u.region_id, "kind": u.kind, "is_lead": u.is_lead, "active": u.active}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/staff")]
async fn staff(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (rows, total) = repo::staff::list(&state.db.conn, &user.scope.region_path, q.unit_id, page).await?;
    let admin = user.is_admin();
    let items = rows
        .into_iter()
        .map(|s| {
            let phone = s.phone.map(|p| if admin { p } else { mask(&p) });
            json!({"id": s.id, "username": s.username, "name": s.name, "roles": s.roles,
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
        .map(|c| json!({"code": c.code, "name": c.name, "parent_code": c.parent_code, "level": c.level, "unit_id": c.unit_id}))
        .collect();
    let per_page = total.max(1);
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": 1, "per_page": per_page,
                                       "tree": category_tree(&state.db.conn).await?})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(regions).service(units).service(staff).service(categories);
}
