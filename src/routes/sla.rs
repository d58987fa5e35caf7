//! Deadlines administration: `/api/v1/sla-policies` (CRUD) and `/api/v1/calendar` (holiday years).
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::body::JsonBody;
use crate::services::sla_admin::{self, PolicyBody, YearBody};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, put, web};

#[utoipa::path(tag = "sla", responses((status = 200, description = "时限规则", body = Object)))]
#[get("/sla-policies")]
async fn list(state: web::Data<AppState>, user: StaffUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::list_policies(&state, &user).await?))
}

#[utoipa::path(tag = "sla", request_body = crate::services::sla_admin::PolicyBody, responses((status = 201, description = "新的时限规则", body = Object)))]
#[post("/sla-policies")]
async fn create(state: web::Data<AppState>, user: StaffUser, body: JsonBody<PolicyBody>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(sla_admin::create(&state, &user, &body).await?))
}

#[utoipa::path(tag = "sla", responses((status = 200, description = "时限规则", body = Object)))]
#[get("/sla-policies/{id}")]
async fn get_one(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::get_policy(&state, &user, *id).await?))
}

#[utoipa::path(tag = "sla", request_body = crate::services::sla_admin::PolicyBody, responses((status = 200, description = "修改后的时限规则", body = Object)))]
#[put("/sla-policies/{id}")]
async fn update(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<PolicyBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::update(&state, &user, *id, &body).await?))
}

#[utoipa::path(tag = "sla", responses((status = 204, description = "已删除")))]
#[delete("/sla-policies/{id}")]
async fn remove(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    sla_admin::delete(&state, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn year(raw: &str) -> ApiResult<i32> {
    raw.parse().map_err(|_| ApiError::validation("year", "年份应为四位数字"))
}

#[utoipa::path(tag = "sla", responses((status = 200, description = "已配置节假日的年份", body = Object)))]
#[get("/calendar")]
async fn years(state: web::Data<AppState>, user: StaffUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::years(&state, &user).await?))
}

#[utoipa::path(tag = "sla", responses((status = 200, description = "该年的节假日与调休上班日", body = Object)))]
#[get("/calendar/{year}")]
async fn get_year(state: web::Data<AppState>, user: StaffUser, y: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::year(&state, &user, year(&y)?).await?))
}

#[utoipa::path(tag = "sla", request_body = crate::services::sla_admin::YearBody, responses((status = 200, description = "已保存的节假日安排", body = Object)))]
#[put("/calendar/{year}")]
async fn put_year(
    state: web::Data<AppState>,
    user: StaffUser,
    y: web::Path<String>,
    body: JsonBody<YearBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sla_admin::put_year(&state, &user, year(&y)?, &body).await?))
}

#[utoipa::path(tag = "sla", responses((status = 204, description = "已删除")))]
#[delete("/calendar/{year}")]
async fn delete_year(state: web::Data<AppState>, user: StaffUser, y: web::Path<String>) -> ApiResult<HttpResponse> {
    sla_admin::delete_year(&state, &user, year(&y)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(remove)
        .service(years)
        .service(get_year)
        .service(put_year)
        .service(delete_year);
}
