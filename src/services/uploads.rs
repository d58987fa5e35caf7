//! Uploads: photos and voice notes, through this one path for the API, the no-JavaScript intake page
//! and the cadre's page. The type is read from the content, never from the name: voice notes are
//! proven by a walk of their whole container (`domain::media`), photos by decoding them
//! (`photo`: refused from the header when too large, decoded a few at a time, re-encoded without
//! metadata). Nothing is written until the file has passed. Files live under
//! `application.upload_dir`.
pub mod photo;

use crate::auth::Caller;
use crate::domain::values::{UploadKind, UploaderKind};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::tickets::load;
use crate::state::AppState;
use actix_web::http::StatusCode;
use photo::{PhotoError, PhotoLimits};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

pub use crate::domain::media::{Media, sniff};

/// How long a client that found every decoding slot taken should wait before trying again: a
/// photo takes well under a second to decode.
const BUSY_RETRY_AFTER_SECONDS: u64 = 2;

#[derive(Serialize)]
pub struct Stored {
    pub upload_id: String,
    pub kind: &'static str,
    pub mime: &'static str,
    pub size: usize,
}

/// Who uploaded: kept for audit and to let a signed-in villager see their own files.
pub struct Uploader {
    pub kind: UploaderKind,
    pub reference: Option<String>,
}

fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::UNSUPPORTED_MEDIA_TYPE,
        "只能上传照片（JPEG、PNG、WebP）或语音（WebM、Ogg、MP4、AMR）",
    )
    .with_field("file")
}

fn image_too_large(limits: &PhotoLimits, width: u32, height: u32) -> ApiError {
    let message = if u64::from(width) * u64::from(height) > limits.max_pixels {
        let wan = limits.max_pixels / 10_000;
        format!("照片尺寸太大（{width}×{height}像素），请缩小到{wan}万像素以内再上传")
    } else {
        "照片太大，无法处理，请缩小尺寸后再上传".to_string()
    };
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::IMAGE_TOO_LARGE, message).with_field("file")
}

fn photo_error(limits: &PhotoLimits, e: PhotoError) -> ApiError {
    match e {
        PhotoError::TooLarge { width, height, needs } => {
            tracing::info!(width, height, needs, "image upload too large to decode");
            image_too_large(limits, width, height)
        }
        PhotoError::Unreadable(why) => {
            tracing::info!(error = %why, "undecodable image upload");
            ApiError::unprocessable(codes::IMAGE_UNREADABLE, "file", "照片无法识别，请换一张重新上传")
        }
    }
}

/// Checks a photo from its header, waits briefly for a decoding slot and cleans it on a blocking
/// thread; the slot is held until that thread is done, even if the client has gone.
async fn clean_photo(state: &AppState, bytes: Vec<u8>, media: Media) -> ApiResult<(Vec<u8>, Media)> {
    let cfg = &state.settings.uploads;
    let limits = PhotoLimits {
        max_pixels: cfg.max_image_pixels,
        max_decode_bytes: cfg.max_decode_bytes,
        max_side: cfg.max_image_side,
    };
    photo::inspect(&bytes, media, &limits).map_err(|e| photo_error(&limits, e))?;
    let wait = Duration::from_millis(cfg.decode_wait_ms);
    let permit = match tokio::time::timeout(wait, state.photo_decodes.clone().acquire_owned()).await {
        Ok(permit) => permit.map_err(ApiError::internal)?,
        Err(_) => {
            metrics::counter!("minsheng_uploads_busy_total").increment(1);
            let mut e =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::SERVER_BUSY, "正在处理的照片较多，请稍后重试");
            e.retry_after = Some(BUSY_RETRY_AFTER_SECONDS);
            return Err(e);
        }
    };
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        photo::clean(&bytes, media, &limits)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| photo_error(&limits, e))
}

/// Checks, cleans and stores one file.
pub async fn store(state: &AppState, bytes: Vec<u8>, uploader: Uploader) -> ApiResult<Stored> {
    let cfg = &state.settings.uploads;
    if bytes.is_empty() {
        return Err(ApiError::validation("file", "文件是空的"));
    }
    let media = sniff(&bytes).ok_or_else(unsupported)?;
    let limit = if media.is_image() { cfg.max_image_bytes } else { cfg.max_audio_bytes };
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    let (data, media) = if media.is_image() {
        clean_photo(state, bytes, media).await?
    } else {
        if let Err(why) = crate::domain::media::probe_audio(&bytes, media) {
            tracing::info!(reason = %why, claimed = media.mime(), "voice note refused by the container probe");
            return Err(unsupported());
        }
        (bytes, media)
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = state.now();
    let rel = PathBuf::from(now.format("%Y/%m").to_string()).join(format!("{id}.{}", media.ext()));
    let full = PathBuf::from(&state.settings.application.upload_dir).join(&rel);
    write_whole(&full, &data).await?;
    let size = data.len();
    let sha = hex::encode(Sha256::digest(&data));
    let kind = if media.is_image() { UploadKind::Image } else { UploadKind::Audio };
    repo::uploads::insert(
        &state.db.conn,
        repo::uploads::NewUpload {
            id: id.clone(),
            kind,
            mime: media.mime(),
            size: size as i64,
            sha256: sha,
            storage_path: rel.to_string_lossy().into_owned(),
            uploader_kind: uploader.kind,
            uploader_ref: uploader.reference,
            created_at: now,
        },
    )
    .await
    .inspect_err(|_| {
        // A file without its row is never served: do not keep it.
        let _ = std::fs::remove_file(&full);
    })?;
    let kind = kind.as_str();
    metrics::counter!("minsheng_uploads_total", "kind" => kind).increment(1);
    Ok(Stored { upload_id: id, kind, mime: media.mime(), size })
}

/// Writes the file whole or not at all: into a temporary name beside it, synced, then renamed. A
/// full disk (or quota) is the county's to fix, not the villager's fault: a 507 saying so, logged
/// as an error and counted (`minsheng_upload_storage_full_total`) for alerting; the partial file is
/// removed.
async fn write_whole(full: &std::path::Path, data: &[u8]) -> ApiResult<()> {
    let partial = full.with_extension("partial");
    // Plain blocking writes on the blocking pool: every error is seen here (a buffered async file
    // would report a failed write only to a later flush).
    let (path, tmp, bytes) = (full.to_path_buf(), partial.clone(), data.to_vec());
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })
    .await
    .map_err(ApiError::internal)?;
    let Err(e) = written else { return Ok(()) };
    let _ = tokio::fs::remove_file(&partial).await;
    if storage_full(&e) {
        tracing::error!(path = %full.display(), error = %e, "upload storage is full: uploads are refused until space is freed");
        metrics::counter!("minsheng_upload_storage_full_total").increment(1);
        return Err(ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            codes::STORAGE_FULL,
            "服务器存储空间已满，附件暂时无法保存。请稍后再试，或先不带附件提交",
        )
        .with_field("file"));
    }
    Err(ApiError::internal(e))
}

fn storage_full(e: &std::io::Error) -> bool {
    // ENOSPC (28) and EDQUOT (122) on Linux.
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        codes::PAYLOAD_TOO_LARGE,
        format!("文件太大，不能超过{}MB", limit / (1024 * 1024)),
    )
    .with_field("file")
}

/// Where a stored upload's file is: `storage_path` is relative to `application.upload_dir`. Rows
/// written by the first cadre page kept the whole path; those are found where they are.
pub fn file_path(state: &AppState, storage_path: &str) -> PathBuf {
    let stored = std::path::Path::new(storage_path);
    let under = PathBuf::from(&state.settings.application.upload_dir).join(stored);
    if !under.exists() && stored.exists() { stored.to_path_buf() } else { under }
}

/// Reads an upload for the caller: staff who can see its ticket, or the requester of that ticket.
pub async fn read(state: &AppState, caller: &Caller, id: &str) -> ApiResult<(&'static str, Vec<u8>)> {
    let not_found = || ApiError::not_found("文件不存在");
    let upload = repo::uploads::get(&state.db.conn, id).await?.ok_or_else(not_found)?;
    let allowed = match (caller, upload.ticket_id) {
        (Caller::Anonymous, _) => return Err(ApiError::unauthorized(codes::UNAUTHORIZED, "请先登录")),
        (Caller::Staff(s), Some(ticket_id)) => {
            let t = repo::tickets::by_id(&state.db.conn, ticket_id).await?.ok_or_else(not_found)?;
            let l = load(&state.db.conn, &t.no).await?;
            s.scope.can_read(&l.facts())
        }
        (Caller::Staff(s), None) => {
            upload.uploader_kind == UploaderKind::Staff && upload.uploader_ref == Some(s.id.to_string())
        }
        (Caller::Villager(v), Some(ticket_id)) => {
            let t = repo::tickets::by_id(&state.db.conn, ticket_id).await?.ok_or_else(not_found)?;
            v.phone.as_deref() == Some(t.requester_phone.as_str())
                || (v.openid.is_some() && v.openid == t.requester_openid)
        }
        (Caller::Villager(v), None) => {
            upload.uploader_kind == UploaderKind::Villager && upload.uploader_ref.as_deref() == Some(v.sub.as_str())
        }
    };
    if !allowed {
        return Err(ApiError::forbidden("无权查看该文件"));
    }
    let bytes = tokio::fs::read(file_path(state, &upload.storage_path)).await.map_err(ApiError::internal)?;
    Ok((served_type(&upload.mime), bytes))
}

/// The content type an upload is served with: one of the types uploads are recognised as, never a
/// stored string as it is.
pub fn served_type(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        "audio/webm" => "audio/webm",
        "audio/ogg" => "audio/ogg",
        "audio/mp4" => "audio/mp4",
        "audio/amr" => "audio/amr",
        "audio/amr-wb" => "audio/amr-wb",
        _ => "application/octet-stream",
    }
}
