//! Screen tokens for the halls' big screens: made, listed and revoked by an admin.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::services::screens::{self, NewScreenBody};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};

#[utoipa::path(tag = "screens", request_body = crate::services::screens::NewScreenBody, responses((status = 201, description = "大屏凭证（只显示一次）", body = Object)))]
#[post("/screens")]
async fn create(
    state: web::Data<AppState>,
    user: StaffUser,
    body: web::Json<NewScreenBody>,
) -> ApiResult<HttpResponse> {
    let made = screens::create(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(made))
}

#[utoipa::path(tag = "screens", responses((status = 200, description = "大屏列表（不含凭证）", body = Object)))]
#[get("/screens")]
async fn list(state: web::Data<AppState>, user: StaffUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": screens::list(&state, &user).await?})))
}

#[utoipa::path(tag = "screens", responses((status = 204, description = "已停用")))]
#[delete("/screens/{id}")]
async fn revoke(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    screens::revoke(&state, &user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create).service(list).service(revoke);
}
