//! Reading `multipart/form-data` with hard size limits: text fields and files, nothing written to
//! disk until the content has been checked.
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

/// Reads the whole form; a file over `max_file` bytes or more than `max_files` files is refused.
pub async fn read(mut payload: Multipart, max_file: usize, max_files: usize) -> ApiResult<Form> {
    let mut form = Form::default();
    let bad = |_| ApiError::validation("file", "上传的表单不完整，请重试");
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        let is_file = field.content_disposition().and_then(|cd| cd.get_filename()).is_some();
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
