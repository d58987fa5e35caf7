//! `GET /api/v1/exports/tickets.csv` and `/exports/tickets.xlsx`: the work list's filters (the same
//! query as `GET /api/v1/tickets`) within the caller's scope, streamed. At most two exports run at
//! once on an instance; a third is asked to wait (429).
use super::tickets::{ListQuery, list_filter};
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult, codes};
use crate::services::exports::{self, Names, Query};
use crate::services::tickets::{LIST_ROLES, visibility};
use crate::state::AppState;
use actix_web::http::header::{CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use futures_util::StreamExt;
use std::sync::{Arc, LazyLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const TICKETS: (&str, &str) = ("tickets", "工单导出");

static RUNNING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(2)));

fn permit() -> ApiResult<OwnedSemaphorePermit> {
    RUNNING
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::too_many(codes::EXPORT_BUSY, "正在进行的导出任务较多，请稍后再试", 30))
}

/// `工单导出-20261206-1530.csv`, with an ASCII fallback name (`tickets-…`) for old clients.
fn attachment(state: &AppState, (ascii, chinese): (&str, &str), ext: &str) -> ContentDisposition {
    let stamp = state.now().with_timezone(&state.tz()).format("%Y%m%d-%H%M");
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("{ascii}-{stamp}.{ext}")),
            DispositionParam::FilenameExt(actix_web::http::header::ExtendedValue {
                charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: format!("{chinese}-{stamp}.{ext}").into_bytes(),
            }),
        ],
    }
}

async fn prepare(state: &AppState, user: &StaffUser, q: &ListQuery) -> ApiResult<(Query, Names, u64)> {
    user.require_any(&LIST_ROLES)?;
    let query = Query { vis: visibility(user), filter: list_filter(state, q).await? };
    let rows = exports::check_size(state, &query).await?;
    Ok((query, Names::load(state).await?, rows))
}

#[utoipa::path(tag = "exports", params(ListQuery), responses((status = 200, description = "工单 CSV", content_type = "text/csv")))]
#[get("/exports/tickets.csv")]
async fn tickets_csv(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let (query, names, rows) = prepare(&state, &user, &q).await?;
    let running = permit()?;
    tracing::info!(user = user.id, rows, format = "csv", "tickets exported");
    let stream = exports::csv_stream(state.get_ref().clone(), query, names).map(move |chunk| {
        let _held = &running; // released when the last chunk has gone
        chunk
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(attachment(&state, TICKETS, "csv"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .streaming(stream))
}

#[utoipa::path(tag = "exports", params(ListQuery), responses((status = 200, description = "工单 Excel", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
#[get("/exports/tickets.xlsx")]
async fn tickets_xlsx(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let (query, names, rows) = prepare(&state, &user, &q).await?;
    let running = permit()?;
    let file = exports::xlsx_file(state.get_ref().clone(), query, names).await?;
    drop(running);
    tracing::info!(user = user.id, rows, format = "xlsx", "tickets exported");
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(attachment(&state, TICKETS, "xlsx"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .streaming(exports::file_stream(file)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UnitsQuery {
    from: Option<String>,
    to: Option<String>,
    region_id: Option<i64>,
}

/// The unit rankings of a period (the same rows as `/stats/units`, every unit) as XLSX.
#[utoipa::path(tag = "exports", params(UnitsQuery), responses((status = 200, description = "单位考核 Excel", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
#[get("/exports/units.xlsx")]
async fn units_xlsx(state: web::Data<AppState>, user: StaffUser, q: web::Query<UnitsQuery>) -> ApiResult<HttpResponse> {
    let period = crate::services::stats::PeriodQuery { from: q.from.clone(), to: q.to.clone(), region_id: q.region_id };
    let all = crate::repo::Page { page: 1, per_page: 100_000 };
    let answer = crate::services::stats::units(&state, &user, &period, all).await?;
    let bytes = tokio::task::spawn_blocking(move || exports::units_xlsx(&answer))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(attachment(&state, ("units", "单位排名"), "xlsx"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(bytes))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(tickets_csv).service(tickets_xlsx).service(units_xlsx);
}
