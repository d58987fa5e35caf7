//! Reading `multipart/form-data` with hard size limits: text fields and files, nothing written to
//! disk until the content has been checked.
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use actix_multipart::Multipart;
use futures_util::TryStreamExt;
use std::collections::HashMap;

#[derive(Default)]
pub struct Form {
    pub fields: HashMap<String, String>,
    /// (field name, bytes) of every non-empty file part.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Text parts a form may carry: our forms have about a dozen; the bound keeps a form of 16 KB
/// parts from growing without end.
pub const MAX_TEXT_FIELDS: usize = 64;

/// Reads the whole form; a file over `max_file` bytes, more than `max_files` files or more than
/// `MAX_TEXT_FIELDS` text parts are refused.
pub async fn read(mut payload: Multipart, max_file: usize, max_files: usize) -> ApiResult<Form> {
    let mut form = Form::default();
    let mut text_parts = 0;
    let bad = |_| ApiError::validation("file", "上传的表单不完整，请重试");
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        let is_file = field.content_disposition().and_then(|cd| cd.get_filename()).is_some();
        if !is_file {
            text_parts += 1;
            if text_parts > MAX_TEXT_FIELDS {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    "表单的字段过多，请刷新页面后重新填写",
                ));
            }
        }
        let cap = if is_file { max_file } else { 16 * 1024 };
        let mut buf = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(bad)? {
            if buf.len() + chunk.len() > cap {
                return Err(if is_file {
                    crate::services::uploads::too_large(max_file)
                } else {
                    ApiError::validation(name.clone(), "填写的内容过长")
                });
            }
            buf.extend_from_slice(&chunk);
        }
        if is_file {
            if !buf.is_empty() {
                if form.files.len() >= max_files {
                    return Err(ApiError::validation(name, format!("附件最多{max_files}个")));
                }
                form.files.push((name, buf));
            }
        } else {
            form.fields.insert(name, String::from_utf8_lossy(&buf).into_owned());
        }
    }
    Ok(form)
}
