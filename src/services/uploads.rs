//! Uploads: photos and voice notes. The type is read from the content, never from the name; photos
//! are decoded, turned upright, scaled down and re-encoded, which drops EXIF (GPS position, camera,
//! time) and every other piece of metadata. Files live under `application.upload_dir`.
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::tickets::load;
use crate::state::AppState;
use actix_web::http::StatusCode;
use entity::uploads;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use sea_orm::Set;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    Jpeg,
    Png,
    Webp,
    Webm,
    Ogg,
    Mp4Audio,
    Amr,
}

impl Media {
    pub fn is_image(self) -> bool {
        matches!(self, Media::Jpeg | Media::Png | Media::Webp)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Media::Jpeg => "image/jpeg",
            Media::Png => "image/png",
            Media::Webp => "image/webp",
            Media::Webm => "audio/webm",
            Media::Ogg => "audio/ogg",
            Media::Mp4Audio => "audio/mp4",
            Media::Amr => "audio/amr",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Media::Jpeg => "jpg",
            Media::Png => "png",
            Media::Webp => "webp",
            Media::Webm => "webm",
            Media::Ogg => "ogg",
            Media::Mp4Audio => "m4a",
            Media::Amr => "amr",
        }
    }
}

/// Recognises the accepted formats by their leading bytes (magic numbers).
pub fn sniff(b: &[u8]) -> Option<Media> {
    let starts = |m: &[u8]| b.len() >= m.len() && &b[..m.len()] == m;
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(Media::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some(Media::Png)
    } else if starts(b"RIFF") && b.len() >= 12 && &b[8..12] == b"WEBP" {
        Some(Media::Webp)
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(Media::Webm)
    } else if starts(b"OggS") {
        Some(Media::Ogg)
    } else if b.len() >= 12 && &b[4..8] == b"ftyp" {
        // ISO media (MediaRecorder on iPhones records audio/mp4); the brand tells audio from video
        // only loosely, so any ISO media brand is accepted as a voice note container.
        Some(Media::Mp4Audio)
    } else if starts(b"#!AMR") {
        Some(Media::Amr)
    } else {
        None
    }
}

/// Decodes, orients, scales to `max_side` and re-encodes: JPEG for photos, PNG when the source is PNG
/// (screenshots keep their sharp text). The output carries no metadata.
pub fn clean_image(bytes: &[u8], max_side: u32) -> Result<(Vec<u8>, Media), String> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let source_png = matches!(reader.format(), Some(image::ImageFormat::Png));
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    // A damaged EXIF block only costs the orientation, never the photo.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > max_side {
        img = img.resize(max_side, max_side, image::imageops::FilterType::Triangle);
    }
    let mut out = Cursor::new(Vec::new());
    if source_png {
        img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
        Ok((out.into_inner(), Media::Png))
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        rgb.write_with_encoder(encoder).map_err(|e| e.to_string())?;
        Ok((out.into_inner(), Media::Jpeg))
    }
}

#[derive(Serialize)]
pub struct Stored {
    pub upload_id: String,
    pub kind: &'static str,
    pub mime: &'static str,
    pub size: usize,
}

/// Who uploaded: kept for audit and to let a signed-in villager see their own files.
pub struct Uploader {
    pub kind: &'static str,
    pub reference: Option<String>,
}

/// Checks, cleans and stores one file.
pub async fn store(state: &AppState, bytes: Vec<u8>, uploader: Uploader) -> ApiResult<Stored> {
    let cfg = &state.settings.uploads;
    if bytes.is_empty() {
        return Err(ApiError::validation("file", "文件是空的"));
    }
    let media = sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "只能上传照片（JPEG、PNG、WebP）或语音（WebM、Ogg、MP4、AMR）",
        )
        .with_field("file")
    })?;
    let limit = if media.is_image() { cfg.max_image_bytes } else { cfg.max_audio_bytes };
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    let (data, media) = if media.is_image() {
        let max_side = cfg.max_image_side;
        tokio::task::spawn_blocking(move || clean_image(&bytes, max_side)).await.map_err(ApiError::internal)?.map_err(
            |e| {
                tracing::info!(error = %e, "undecodable image upload");
                ApiError::unprocessable("image_unreadable", "file", "照片无法识别，请换一张重新上传")
            },
        )?
    } else {
        (bytes, media)
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = state.now();
    let rel = PathBuf::from(now.format("%Y/%m").to_string()).join(format!("{id}.{}", media.ext()));
    let full = PathBuf::from(&state.settings.application.upload_dir).join(&rel);
    if let Some(dir) = full.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(ApiError::internal)?;
    }
    tokio::fs::write(&full, &data).await.map_err(ApiError::internal)?;
    let size = data.len();
    let sha = hex::encode(Sha256::digest(&data));
    let kind = if media.is_image() { "image" } else { "audio" };
    repo::uploads::insert(
        &state.db.conn,
        uploads::ActiveModel {
            id: Set(id.clone()),
            kind: Set(kind.into()),
            mime: Set(media.mime().into()),
            size: Set(size as i64),
            sha256: Set(sha),
            storage_path: Set(rel.to_string_lossy().into_owned()),
            ticket_id: Set(None),
            uploader_kind: Set(uploader.kind.into()),
            uploader_ref: Set(uploader.reference),
            created_at: Set(now),
        },
    )
    .await?;
    metrics::counter!("minsheng_uploads_total", "kind" => kind).increment(1);
    Ok(Stored { upload_id: id, kind, mime: media.mime(), size })
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
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
        (Caller::Anonymous, _) => return Err(ApiError::unauthorized("unauthorized", "请先登录")),
        (Caller::Staff(s), Some(ticket_id)) => {
            let t = repo::tickets::by_id(&state.db.conn, ticket_id).await?.ok_or_else(not_found)?;
            let l = load(&state.db.conn, &t.no).await?;
            s.scope.can_read(&l.facts())
        }
        (Caller::Staff(s), None) => upload.uploader_kind == "staff" && upload.uploader_ref == Some(s.id.to_string()),
        (Caller::Villager(v), Some(ticket_id)) => {
            let t = repo::tickets::by_id(&state.db.conn, ticket_id).await?.ok_or_else(not_found)?;
            v.phone.as_deref() == Some(t.requester_phone.as_str())
                || (v.openid.is_some() && v.openid == t.requester_openid)
        }
        (Caller::Villager(v), None) => {
            upload.uploader_kind == "villager" && upload.uploader_ref.as_deref() == Some(v.sub.as_str())
        }
    };
    if !allowed {
        return Err(ApiError::forbidden("无权查看该文件"));
    }
    let bytes = tokio::fs::read(file_path(state, &upload.storage_path)).await.map_err(ApiError::internal)?;
    let mime = match upload.mime.as_str() {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        "audio/webm" => "audio/webm",
        "audio/ogg" => "audio/ogg",
        "audio/mp4" => "audio/mp4",
        "audio/amr" => "audio/amr",
        _ => "application/octet-stream",
    };
    Ok((mime, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(Media::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Media::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Media::Webp));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]), Some(Media::Webm));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Media::Ogg));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0"), Some(Media::Mp4Audio));
        assert_eq!(sniff(b"#!AMR\n"), Some(Media::Amr));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"GIF89a"), None);
    }
}
