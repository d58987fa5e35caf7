//! `POST /api/v1/uploads` (one file in the multipart field `file`) and `GET /api/v1/uploads/{id}`.
use crate::auth::Caller;
use crate::domain::values::UploaderKind;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::services::uploads::{self, Uploader};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

/// Who an upload is recorded against.
pub fn uploader_of(caller: &Caller, ip: &str) -> Uploader {
    match caller {
        Caller::Staff(s) => Uploader { kind: UploaderKind::Staff, reference: Some(s.id.to_string()) },
        Caller::Villager(v) => Uploader { kind: UploaderKind::Villager, reference: Some(v.sub.clone()) },
        Caller::Anonymous => Uploader { kind: UploaderKind::Villager, reference: Some(format!("ip:{ip}")) },
    }
}

/// Abuse limit for uploads from the public.
pub async fn check_upload_limit(state: &AppState, caller: &Caller, ip: &str) -> ApiResult<()> {
    if matches!(caller, Caller::Staff(_)) {
        return Ok(());
    }
    let limit = state.settings.limits.upload_per_ip;
    state
        .limiter
        .hit(&format!("upload:ip:{ip}"), limit, state.now())
        .await
        .map_err(|e| ApiError::too_many(codes::RATE_LIMITED, "上传过于频繁，请稍后再试", e.retry_after))
}

#[utoipa::path(tag = "uploads", security((), ("bearer" = [])), request_body(content = crate::openapi::FileUpload, content_type = "multipart/form-data"), responses((status = 201, description = "已上传", body = Object)))]
#[post("/uploads")]
async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    payload: Multipart,
) -> ApiResult<HttpResponse> {
    let ip = super::client_ip(&req, &state);
    check_upload_limit(&state, &caller, &ip).await?;
    let max = state.settings.uploads.max_image_bytes.max(state.settings.uploads.max_audio_bytes);
    let mut form = super::multipart::read(payload, max, 1).await?;
    let Some(pos) = form.files.iter().position(|(name, _)| name == "file") else {
        return Err(ApiError::validation("file", "请选择要上传的文件（表单字段 file）"));
    };
    let (_, bytes) = form.files.swap_remove(pos);
    let stored = uploads::store(&state, bytes, uploader_of(&caller, &ip)).await?;
    Ok(HttpResponse::Created().json(stored))
}

#[utoipa::path(tag = "uploads", security((), ("bearer" = [])), responses((status = 200, description = "文件", content_type = "application/octet-stream")))]
#[get("/uploads/{id}")]
async fn download(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let (mime, bytes) = uploads::read(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload).service(download);
}
