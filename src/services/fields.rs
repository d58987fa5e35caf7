//! Fields of action bodies as they come from outside: free text checked (`clean_text`) and bounded,
//! evidence uploads checked to exist and be unused.
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::state::AppState;

/// A required free-text field (its visible characters count, at most 2000).
pub fn required(v: &Option<String>, field: &str, what: &str) -> ApiResult<String> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref() {
        Some(s) if crate::domain::text::visible_len(s) > 0 => {
            if s.chars().count() > 2000 {
                Err(ApiError::validation(field, format!("{what}不能超过2000个字")))
            } else {
                Ok(s.to_string())
            }
        }
        _ => Err(ApiError::validation(field, format!("请填写{what}"))),
    }
}

pub fn optional(v: &Option<String>, field: &str) -> ApiResult<Option<String>> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref().filter(|s| crate::domain::text::visible_len(s) > 0) {
        Some(s) if s.chars().count() > 2000 => Err(ApiError::validation(field, "备注不能超过2000个字")),
        other => Ok(other.map(str::to_string)),
    }
}

pub async fn validate_uploads(state: &AppState, ids: &Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let ids = ids.clone().unwrap_or_default();
    if ids.len() > 9 {
        return Err(ApiError::validation("upload_ids", "附件最多9个"));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        if !seen.insert(id) || !repo::uploads::is_free(&state.db.conn, id).await? {
            return Err(ApiError::unprocessable(codes::UNKNOWN_UPLOAD, "upload_ids", "附件不存在或已被使用"));
        }
    }
    Ok(ids)
}
