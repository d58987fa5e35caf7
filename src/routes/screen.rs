//! The hall's big screen: `GET /screen/` (a static page whose script reads the API) and
//! `GET /api/v1/screen/overview` (every panel's numbers). Both the stream and the overview accept a
//! staff access token or a screen token (`services::screens::Viewer`).
use crate::error::{ApiError, ApiResult, codes};
use crate::html;
use crate::services::screen;
use crate::services::screens::Viewer;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};

/// The viewer of a request: the bearer token, else `query_token` (for EventSource, which cannot
/// send headers).
pub async fn viewer(req: &HttpRequest, state: &AppState, query_token: Option<String>) -> ApiResult<Viewer> {
    let token = crate::auth::extract::bearer(req)
        .map(str::to_string)
        .or(query_token)
        .ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "请先登录"))?;
    Viewer::authenticate(state, &token, req.path()).await
}

#[utoipa::path(tag = "pages", responses((status = 308, description = "跳转到 /screen/")))]
#[get("/screen")]
async fn screen_redirect(req: HttpRequest) -> HttpResponse {
    let q = req.query_string();
    let to = if q.is_empty() { "/screen/".to_string() } else { format!("/screen/?{q}") };
    HttpResponse::PermanentRedirect().insert_header(("Location", to)).finish()
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "大屏页面", content_type = "text/html")))]
#[get("/screen/")]
async fn screen_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html::SCREEN)
}

#[derive(serde::Deserialize)]
struct OverviewQuery {
    region_id: Option<i64>,
}

/// Every panel of the big screen for the viewer's region (a staff viewer may pick one in scope).
#[utoipa::path(tag = "screens", params(crate::openapi::RegionParam), responses((status = 200, description = "大屏全部面板的数据", body = Object)))]
#[get("/screen/overview")]
async fn overview(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let q = web::Query::<OverviewQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::validation("region_id", "地区编号应为整数"))?;
    let viewer = viewer(&req, &state, None).await?;
    let region = screen::region_of(&state, &viewer, q.region_id).await?;
    let answer = screen::cached_overview(&state, &region).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(&*answer))
}

/// The page, outside `/api/v1`.
pub fn configure_page(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(screen_redirect).service(screen_page);
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(overview);
}
