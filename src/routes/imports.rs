//! Bulk import (admins): `GET /api/v1/imports/{kind}/template.xlsx` and
//! `POST /api/v1/imports/{kind}?dry_run=true` with the file as multipart field `file` (XLSX or CSV).
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::services::import::{self, Kind};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

/// The largest spreadsheet accepted (2,000 staff in XLSX take about 100 KB).
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

fn kind(raw: &str) -> ApiResult<Kind> {
    Kind::parse(raw).ok_or_else(|| ApiError::not_found("导入类型应为 regions、units 或 staff"))
}

#[utoipa::path(tag = "imports", responses((status = 200, description = "导入模板", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
#[get("/imports/{kind}/template.xlsx")]
async fn template(user: StaffUser, path: web::Path<String>) -> ApiResult<HttpResponse> {
    user.require_any(&[])?;
    let kind = kind(&path)?;
    let bytes = import::template(kind).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{}-template.xlsx\"", path.as_str())))
        .body(bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    dry_run: Option<bool>,
}

#[utoipa::path(tag = "imports", request_body(content = crate::openapi::FileUpload, content_type = "multipart/form-data"), params(ImportQuery), responses((status = 200, description = "导入结果（试导入时只检查）", body = Object), (status = 422, description = "文件有错误，未导入任何行", body = Object)))]
#[post("/imports/{kind}")]
async fn upload(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<String>,
    q: web::Query<ImportQuery>,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    user.require_any(&[])?;
    let kind = kind(&path)?;
    let mut form = super::multipart::read(payload, MAX_FILE_BYTES, 1).await?;
    let Some(pos) = form.files.iter().position(|(name, _)| name == "file") else {
        return Err(ApiError::validation("file", "请选择要导入的文件（表单字段 file，XLSX 或 CSV）"));
    };
    let (_, bytes) = form.files.swap_remove(pos);
    let dry_run = q.dry_run.unwrap_or(false);
    let report = import::run(&state.db, state.now(), &user, kind, &bytes, dry_run, |_, _| {}).await?;
    // Regions and units may have been written.
    state.reference.changed();
    if !dry_run && !report.errors.is_empty() {
        let n = report.errors.len();
        let message = format!("文件中有{n}处错误，未导入任何数据，请改正后重新导入");
        let mut body = serde_json::to_value(&report).map_err(ApiError::internal)?;
        body["error"] = json!({"code": crate::error::codes::IMPORT_INVALID, "message": message, "field": "file"});
        return Ok(HttpResponse::UnprocessableEntity().json(body));
    }
    Ok(HttpResponse::Ok().json(report))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(template).service(upload);
}
