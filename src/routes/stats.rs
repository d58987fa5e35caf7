//! `GET /api/v1/stats/summary`.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::services::stats::{self, PeriodQuery};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};

#[get("/stats/summary")]
async fn summary(state: web::Data<AppState>, user: StaffUser, q: web::Query<PeriodQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(stats::summary(&state, &user, &q).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(summary);
}
