//! The registration desk's actions: register (classify and start the dispatch clock), merge
//! duplicates, and declare a request invalid (下交 and the council's decision: `council`).
use super::{ActionBody, Effects, optional, required};
use crate::auth::StaffUser;
use crate::domain::ticket::Status;
use crate::domain::values::{Kind, Priority};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::tickets::{Loaded, load};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::json;

pub async fn register(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let mut category = t.category_code.clone();
    if let Some(c) = optional(&body.category, "category")? {
        repo::catalog::category(db, &c)
            .await?
            .filter(|c| c.active)
            .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "category", "诉求分类不存在"))?;
        category = c;
    }
    let kind = match body.kind.as_deref() {
        Some(k) => Kind::parse(k)
            .ok_or_else(|| ApiError::validation("kind", format!("诉求类型不正确，可选：{}", Kind::names())))?,
        None => t.kind,
    };
    let priority = match body.priority.as_deref() {
        Some(p) => {
            Priority::parse(p).ok_or_else(|| ApiError::validation("priority", "紧急程度只能是 normal 或 urgent"))?
        }
        None => t.priority,
    };
    let policy = state.reference.policy_for(state, &category, kind, priority).await?;
    let dispatch_by = super::desk_deadline(now, policy.dispatch_minutes);
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"category": category, "kind": kind.as_str(), "priority": priority.as_str(),
                     "register_by": t.register_by, "late": t.register_by.is_some_and(|by| now > by),
                     "dispatch_by": dispatch_by});
    fx.patch = crate::repo::tickets::TicketPatch {
        category_code: Some(category),
        kind: Some(kind),
        priority: Some(priority),
        signoff_required: Some(policy.signoff_required),
        registered_at: Some(now),
        dispatch_by: Some(Some(dispatch_by)),
        ..Default::default()
    };
    Ok(fx)
}

pub async fn merge(state: &AppState, user: &StaffUser, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let t = &l.ticket;
    let into_no = required(&body.into, "into", "合并到的工单编号")?;
    let into = load(&state.db.conn, &into_no)
        .await
        .map_err(|_| ApiError::unprocessable(codes::UNKNOWN_TICKET, "into", "要合并到的工单不存在"))?;
    if into.ticket.id == t.id {
        return Err(ApiError::unprocessable(codes::MERGE_INTO_SELF, "into", "不能合并到自身"));
    }
    if !user.scope.can_read(&into.facts()) || matches!(into.status(), Status::Merged | Status::Invalid) {
        return Err(ApiError::unprocessable(codes::MERGE_TARGET_UNUSABLE, "into", "要合并到的工单不可用"));
    }
    let mut fx = Effects::new(true);
    let note = optional(&body.note, "note")?;
    fx.note = Some(match note {
        Some(n) => format!("已合并至工单{}：{n}", into.ticket.no),
        None => format!("已合并至工单{}", into.ticket.no),
    });
    fx.data = json!({"into": into.ticket.no});
    fx.patch.merged_into_id = Some(into.ticket.id);
    Ok(fx)
}

pub fn invalid(body: &ActionBody) -> ApiResult<Effects> {
    let mut fx = Effects::new(true);
    fx.note = Some(required(&body.reason, "reason", "作废理由")?);
    Ok(fx)
}
