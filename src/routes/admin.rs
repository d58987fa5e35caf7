//! The county's directory (regions, units, staff, categories): lists readable by staff within their
//! scope (the console needs units to dispatch to), and administration by admins (`POST` creates,
//! `PATCH /{id}` changes or deactivates; `services::directory`), with the audit log of every change
//! at `GET /api/v1/audit`. The outbox lives in `routes::sms`.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::domain::phone::mask;
use crate::domain::values::RegionLevel;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::audit::Filter;
use crate::routes::body::JsonBody;
use crate::services::cards::category_tree;
use crate::services::directory::{self, CategoryBody, RegionBody, StaffBody, UnitBody};
use crate::services::leaves::{self, LeaveBody};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    level: Option<String>,
    parent_id: Option<i64>,
    region_id: Option<i64>,
    unit_id: Option<i64>,
    /// Text the name (or username) contains.
    q: Option<String>,
    /// Categories: deactivated ones too (admins).
    all: Option<bool>,
}

impl ListQuery {
    fn text(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

#[utoipa::path(tag = "admin", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "行政区划列表", body = crate::openapi::Page)))]
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
    let (rows, total) =
        repo::regions::list(&state.db.conn, &user.scope.region_path, level, q.parent_id, q.text(), page).await?;
    let items = rows
        .into_iter()
        .map(|r| json!({"id": r.id, "name": r.name, "level": r.level, "parent_id": r.parent_id, "path": r.path, "hotline": r.hotline, "active": r.active}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "admin", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "单位列表", body = crate::openapi::Page)))]
#[get("/units")]
async fn units(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (rows, total) =
        repo::regions::list_units(&state.db.conn, &user.scope.region_path, q.region_id, q.text(), page).await?;
    let items = rows
        .into_iter()
        .map(|(u, _)| json!({"id": u.id, "name": u.name, "level": u.level, "region_id": u.region_id, "kind": u.kind, "is_lead": u.is_lead, "phone": u.phone, "active": u.active}))
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "admin", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "人员列表（非管理员看到的电话已打码）", body = crate::openapi::Page)))]
#[get("/staff")]
async fn staff(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (rows, total) = repo::staff::list(&state.db.conn, &user.scope.region_path, q.unit_id, q.text(), page).await?;
    let admin = user.is_admin();
    let items = rows
        .into_iter()
        .map(|s| {
            let phone = s.phone.map(|p| if admin { p } else { mask(&p) });
            json!({"id": s.id, "username": s.username, "name": s.name, "roles": s.roles,
                   "region_id": s.region_id, "unit_id": s.unit_id, "phone": phone, "post": s.post, "active": s.active,
                   "must_change_password": s.must_change_password})
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "admin", params(ListQuery), responses((status = 200, description = "诉求分类列表", body = Object)))]
#[get("/categories")]
async fn categories(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let mut rows = if q.all == Some(true) && user.is_admin() {
        repo::catalog::every_category(&state.db.conn).await?
    } else {
        repo::catalog::all_categories(&state.db.conn).await?
    };
    if let Some(t) = q.text() {
        rows.retain(|c| c.name.contains(t) || c.code.contains(t));
    }
    let total = rows.len() as u64;
    let items: Vec<_> = rows.into_iter().map(|c| directory::category_json(&c)).collect();
    let per_page = total.max(1);
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": 1, "per_page": per_page,
                                       "tree": category_tree(&state.db.conn).await?})))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::RegionBody, responses((status = 201, description = "已创建的行政区划", body = Object)))]
#[post("/regions")]
async fn create_region(
    state: web::Data<AppState>,
    user: StaffUser,
    b: JsonBody<RegionBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(directory::create_region(&state, &user, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::RegionBody, responses((status = 200, description = "修改后的行政区划", body = Object)))]
#[patch("/regions/{id}")]
async fn update_region(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    b: JsonBody<RegionBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(directory::update_region(&state, &user, *id, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::UnitBody, responses((status = 201, description = "已创建的单位", body = Object)))]
#[post("/units")]
async fn create_unit(state: web::Data<AppState>, user: StaffUser, b: JsonBody<UnitBody>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(directory::create_unit(&state, &user, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::UnitBody, responses((status = 200, description = "修改后的单位", body = Object)))]
#[patch("/units/{id}")]
async fn update_unit(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    b: JsonBody<UnitBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(directory::update_unit(&state, &user, *id, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::StaffBody, responses((status = 201, description = "已创建的人员（含一次性初始密码）", body = Object)))]
#[post("/staff")]
async fn create_staff(state: web::Data<AppState>, user: StaffUser, b: JsonBody<StaffBody>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(directory::create_staff(&state, &user, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::StaffBody, responses((status = 200, description = "修改后的人员", body = Object)))]
#[patch("/staff/{id}")]
async fn update_staff(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    b: JsonBody<StaffBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(directory::update_staff(&state, &user, *id, &b).await?))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "新的一次性密码", body = Object)))]
#[post("/staff/{id}/reset-password")]
async fn reset_password(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(directory::reset_password(&state, &user, *id).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::leaves::LeaveBody, responses((status = 201, description = "已登记的请假", body = Object)))]
#[post("/staff/{id}/leaves")]
async fn create_leave(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    b: JsonBody<LeaveBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(leaves::create(&state, &user, *id, &b).await?))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "该人员的请假", body = Object)))]
#[get("/staff/{id}/leaves")]
async fn list_leaves(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(leaves::list(&state, &user, *id).await?))
}

#[utoipa::path(tag = "admin", responses((status = 200, description = "已取消的请假", body = Object)))]
#[delete("/staff/{id}/leaves/{leave_id}")]
async fn cancel_leave(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, leave_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(leaves::cancel(&state, &user, id, leave_id).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::CategoryBody, responses((status = 201, description = "已创建的分类", body = Object)))]
#[post("/categories")]
async fn create_category(
    state: web::Data<AppState>,
    user: StaffUser,
    b: JsonBody<CategoryBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(directory::create_category(&state, &user, &b).await?))
}

#[utoipa::path(tag = "admin", request_body = crate::services::directory::CategoryBody, responses((status = 200, description = "修改后的分类", body = Object)))]
#[patch("/categories/{code}")]
async fn update_category(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    b: JsonBody<CategoryBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(directory::update_category(&state, &user, &code, &b).await?))
}

#[utoipa::path(tag = "admin", params(Filter, crate::openapi::PageParams), responses((status = 200, description = "审计日志", body = crate::openapi::Page)))]
#[get("/audit")]
async fn audit(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<Filter>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = directory::audit_list(&state, &user, &q, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(regions)
        .service(units)
        .service(staff)
        .service(categories)
        .service(create_region)
        .service(update_region)
        .service(create_unit)
        .service(update_unit)
        .service(create_staff)
        .service(update_staff)
        .service(reset_password)
        .service(create_leave)
        .service(list_leaves)
        .service(cancel_leave)
        .service(create_category)
        .service(update_category)
        .service(audit);
}
