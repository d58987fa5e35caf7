//! `GET /api/v1/stats/summary`, `/stats/units`, `/stats/overdue` and friends.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::services::stats::{self, PeriodQuery};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};

#[utoipa::path(tag = "stats", params(PeriodQuery), responses((status = 200, description = "五率与计数", body = Object)))]
#[get("/stats/summary")]
async fn summary(state: web::Data<AppState>, user: StaffUser, q: web::Query<PeriodQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(stats::summary(&state, &user, &q).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UnitsQuery {
    from: Option<String>,
    to: Option<String>,
    region_id: Option<i64>,
}

#[utoipa::path(tag = "stats", params(UnitsQuery, crate::openapi::PageParams), responses((status = 200, description = "单位排名", body = crate::openapi::Page)))]
#[get("/stats/units")]
async fn units(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<UnitsQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let period = PeriodQuery { from: q.from.clone(), to: q.to.clone(), region_id: q.region_id };
    Ok(HttpResponse::Ok().json(stats::units(&state, &user, &period, page).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WeekQuery {
    week: Option<String>,
}

/// The published red/black list of a week (default the latest), with the other weeks.
#[utoipa::path(tag = "stats", params(WeekQuery), responses((status = 200, description = "红黑榜", body = Object)))]
#[get("/stats/redblack")]
async fn redblack(state: web::Data<AppState>, user: StaffUser, q: web::Query<WeekQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::services::redblack::for_staff(&state, &user, q.week.as_deref()).await?))
}

/// Where requests of one category keep coming from, with the change against the period before.
#[utoipa::path(tag = "stats", params(crate::services::hotspots::HotspotQuery), responses((status = 200, description = "热点", body = Object)))]
#[get("/stats/hotspots")]
async fn hotspots(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<crate::services::hotspots::HotspotQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::services::hotspots::hotspots(&state, &user, &q).await?))
}

/// Open orders past their deadline in scope, longest overdue first (the console's dashboard).
#[utoipa::path(tag = "stats", params(stats::RegionQuery), responses((status = 200, description = "超期工单", body = Object)))]
#[get("/stats/overdue")]
async fn overdue(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<stats::RegionQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(stats::overdue(&state, &user, &q).await?))
}

/// Urges (催办) per unit urged over a period: by type and level, with the automatic ones apart.
#[utoipa::path(tag = "stats", params(PeriodQuery), responses((status = 200, description = "各单位被催办次数", body = Object)))]
#[get("/stats/urges")]
async fn urges(state: web::Data<AppState>, user: StaffUser, q: web::Query<PeriodQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::services::urges::counts(&state, &user, &q).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(summary).service(units).service(redblack).service(hotspots).service(overdue).service(urges);
}
