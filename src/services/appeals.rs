//! Appeals (申诉): the unit judged by a dissatisfied visit may contest it with evidence; a leader
//! decides. An upheld appeal takes that visit out of the unit's rates. Both steps are ledgered.
use super::change::{self, Effects};
use super::tickets::{load, visibility};
use crate::auth::StaffUser;
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::domain::values::{AppealStatus, Satisfaction, Solved};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::tickets::Actor;
use crate::repo::visits::Appeal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AppealRequest {
    pub reason: Option<String>,
    pub upload_ids: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecisionRequest {
    pub upheld: Option<bool>,
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct AppealView {
    pub id: i64,
    pub ticket_no: String,
    pub visit_id: i64,
    pub unit_id: i64,
    pub reason: String,
    pub upload_ids: Vec<String>,
    pub status: AppealStatus,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The visit appealed against, as the caller recorded it (what the villager said).
    pub visit: Option<serde_json::Value>,
}

async fn view(state: &AppState, a: Appeal) -> ApiResult<AppealView> {
    let no = repo::tickets::by_id(&state.db.conn, a.ticket_id).await?.map(|t| t.no).unwrap_or_default();
    let visit = repo::return_visits::get(&state.db.conn, a.visit_id).await?.map(|v| {
        json!({"channel": v.channel, "reached": v.reached, "solved": v.solved,
               "solved_label": v.solved.map(|s| s.label()), "satisfaction": v.satisfaction,
               "satisfaction_label": v.satisfaction.map(|s| s.label()), "comment": v.comment,
               "counted": v.counted, "at": v.at})
    });
    Ok(AppealView {
        id: a.id,
        ticket_no: no,
        visit_id: a.visit_id,
        unit_id: a.unit_id,
        reason: a.reason,
        upload_ids: a.upload_ids,
        status: a.status,
        created_at: a.created_at,
        decided_at: a.decided_at,
        decision_note: a.decision_note,
        visit,
    })
}

fn text(v: &Option<String>, field: &str, what: &str) -> ApiResult<String> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() && s.chars().count() <= 1000 => Ok(s.to_string()),
        Some(s) if !s.is_empty() => Err(ApiError::validation(field, format!("{what}不能超过1000个字"))),
        _ => Err(ApiError::validation(field, format!("请填写{what}"))),
    }
}

/// The unit's cadre appeals a dissatisfied (or unsolved) visit attributed to their unit.
pub async fn create(state: &AppState, user: &StaffUser, visit_id: i64, req: &AppealRequest) -> ApiResult<AppealView> {
    user.require_any(&[Role::Cadre])?;
    let db = &state.db.conn;
    let visit = repo::return_visits::get(db, visit_id).await?.ok_or_else(|| ApiError::not_found("回访记录不存在"))?;
    let unit = visit.unit_id.ok_or_else(|| ApiError::conflict(codes::NOT_APPEALABLE, "该回访没有对应的承办单位"))?;
    if !user.is_admin() && user.scope.unit_id != Some(unit) {
        return Err(ApiError::forbidden("只有被评价的承办单位可以申诉"));
    }
    let unfavourable = visit.satisfaction == Some(Satisfaction::Dissatisfied) || visit.solved == Some(Solved::No);
    if !visit.reached || !visit.counted || !unfavourable {
        return Err(ApiError::conflict(codes::NOT_APPEALABLE, "只能对不满意或未解决的回访提出申诉"));
    }
    if !repo::visits::appeals_of_visit(db, visit_id).await?.is_empty() {
        return Err(ApiError::conflict(codes::ALREADY_APPEALED, "该回访已提出过申诉"));
    }
    let reason = text(&req.reason, "reason", "申诉理由")?;
    let uploads = req.upload_ids.clone().unwrap_or_default();
    for id in &uploads {
        if !repo::uploads::is_free(db, id).await? {
            return Err(ApiError::unprocessable(codes::UNKNOWN_UPLOAD, "upload_ids", "证明材料不存在或已被使用"));
        }
    }
    let ticket = repo::tickets::by_id(db, visit.ticket_id).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let now = crate::domain::ledger::ledger_time(state.now());
    let tx = state.db.begin().await?;
    let appeal = repo::visits::insert_appeal(
        &*tx,
        repo::visits::NewAppeal {
            ticket_id: ticket.id,
            visit_id,
            unit_id: unit,
            reason: reason.clone(),
            upload_ids: uploads.clone(),
            created_by: user.id,
            created_at: now,
        },
    )
    .await?;
    let data = json!({"appeal_id": appeal.id, "visit_id": visit_id, "unit_id": unit, "upload_ids": uploads});
    let fx = Effects { upload_ids: uploads, ..Effects::entry(true, Some(reason), data) };
    change::commit_in(state, &*tx, &ticket, Action::Appeal, Actor::staff(user.id, &user.name), fx, now).await?;
    tx.commit().await?;
    view(state, appeal).await
}

pub async fn list(
    state: &AppState,
    user: &StaffUser,
    status: Option<&str>,
    page: Page,
) -> ApiResult<(Vec<AppealView>, u64)> {
    user.require_any(&[Role::Leader, Role::Inspector, Role::Cadre])?;
    let status = match status {
        Some(s) => Some(AppealStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status", format!("申诉状态不正确，可选：{}", AppealStatus::names()))
        })?),
        None => None,
    };
    let cond = repo::tickets::visibility_condition(&visibility(user));
    let (rows, total) = repo::visits::list_appeals(&state.db.conn, cond, status, page).await?;
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        out.push(view(state, a).await?);
    }
    Ok((out, total))
}

/// A leader upholds or rejects an appeal; upheld takes the visit out of the unit's rates.
pub async fn decide(state: &AppState, user: &StaffUser, id: i64, req: &DecisionRequest) -> ApiResult<AppealView> {
    user.require_any(&[Role::Leader])?;
    let upheld = req.upheld.ok_or_else(|| ApiError::validation("upheld", "请选择是否支持申诉"))?;
    let note = text(&req.note, "note", "裁定意见")?;
    let db = &state.db.conn;
    let appeal = repo::visits::appeal(db, id).await?.ok_or_else(|| ApiError::not_found("申诉不存在"))?;
    let ticket = repo::tickets::by_id(db, appeal.ticket_id).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let l = load(db, &ticket.no).await?;
    if !user.scope.can_read(&l.facts()) {
        return Err(ApiError::out_of_scope());
    }
    let now = crate::domain::ledger::ledger_time(state.now());
    let status = if upheld { AppealStatus::Upheld } else { AppealStatus::Rejected };
    let tx = state.db.begin().await?;
    if !repo::visits::decide_appeal(&*tx, id, status, user.id, Some(note.clone()), now).await? {
        return Err(ApiError::conflict(codes::ALREADY_DECIDED, "该申诉已经裁定"));
    }
    if upheld {
        repo::visits::set_visit_counted(&*tx, appeal.visit_id, false).await?;
    }
    let data = json!({"appeal_id": id, "visit_id": appeal.visit_id, "upheld": upheld});
    let fx = Effects::entry(true, Some(note), data);
    let actor = Actor::staff(user.id, &user.name);
    change::commit_in(state, &*tx, &ticket, Action::AppealDecision, actor, fx, now).await?;
    tx.commit().await?;
    let fresh = repo::visits::appeal(db, id).await?.ok_or_else(|| ApiError::not_found("申诉不存在"))?;
    view(state, fresh).await
}
