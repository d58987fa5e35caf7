//! 挂起: some orders cannot move for weeks through nobody's fault (waiting for the harvest, a court,
//! a budget). The unit holding a signed-for order asks to pause its clock with a reason and the date
//! it expects to go on; a leader of the ticket's region approves or refuses. While paused, the
//! order's open deadlines stand still: on approval they move by the planned length of the pause (so
//! every list, rate and reminder reads them unchanged), and on resuming — by the unit, a leader, or
//! the sweeper on the resume date — by the difference between the pause as planned and as it was.
//! Every step is a ledger event; the length of each pause is added up on the assignment for the
//! rankings' paused days.
use super::{ActionBody, Effects, required};
use crate::auth::StaffUser;
use crate::domain::values::PauseDecision;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo::assignments::{Assignment, AssignmentPatch};
use crate::services::orders::{fmt_local, unit_recipients};
use crate::services::tickets::{Loaded, local_day_start};
use crate::sms::templates;
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// The longest pause a unit may ask for, in days from today.
pub const MAX_PAUSE_DAYS: i64 = 180;
/// The hour of the resume date (local time) at which a pause ends by itself.
pub const RESUME_HOUR: i64 = 8;

fn active(l: &Loaded) -> ApiResult<&Assignment> {
    l.active().ok_or_else(|| ApiError::conflict(codes::NO_ASSIGNMENT, "工单没有在办的派单"))
}

/// The instant a pause until `day` ends: 08:00 of that day in the county's zone.
pub fn resume_instant(state: &AppState, day: NaiveDate) -> DateTime<Utc> {
    local_day_start(state, day) + Duration::hours(RESUME_HOUR)
}

/// A step already past its deadline cannot be paused: the pause would hide the breach.
fn refuse_if_overdue(state: &AppState, a: &Assignment, now: DateTime<Utc>) -> ApiResult<()> {
    match a.steps().iter().filter(|s| !s.done && s.due <= now).map(|s| s.due).min() {
        Some(due) => Err(ApiError::conflict(
            codes::PAUSE_OVERDUE,
            format!("工单已超过办理时限（{}），不能挂起，请先办理", fmt_local(state, due)),
        )),
        None => Ok(()),
    }
}

fn resume_on(state: &AppState, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<NaiveDate> {
    let raw = body.resume_on.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let Some(raw) = raw else {
        return Err(ApiError::validation("resume_on", "请填写预计恢复办理日期"));
    };
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ApiError::validation("resume_on", "预计恢复办理日期格式应为 YYYY-MM-DD"))?;
    let today = now.with_timezone(&state.tz()).date_naive();
    if day <= today || day > today + Duration::days(MAX_PAUSE_DAYS) {
        return Err(ApiError::validation("resume_on", format!("预计恢复办理日期须在明天到{MAX_PAUSE_DAYS}天之内")));
    }
    Ok(day)
}

/// The unit asks: ledgered (internal) with its reason and date; the clock runs until a leader decides.
pub fn request(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    if a.pause_pending() {
        return Err(ApiError::conflict(codes::PAUSE_PENDING, "已申请挂起，请等待领导审批"));
    }
    let reason = required(&body.reason, "reason", "挂起理由")?;
    let day = resume_on(state, body, now)?;
    refuse_if_overdue(state, a, now)?;
    let mut fx = Effects::new(false);
    fx.note = Some(reason.clone());
    fx.data = json!({"assignment_id": a.id, "resume_on": day.to_string()});
    let patch = AssignmentPatch {
        pause_requested_at: Some(now),
        pause_requested_by: Some(user.id),
        pause_reason: Some(reason),
        pause_resume_on: Some(day),
        pause_decided_at: Some(None),
        pause_decision: Some(None),
        pause_decided_by: Some(None),
        ..Default::default()
    };
    fx.assignment_update = Some((a.id, patch));
    Ok(fx)
}

fn pending(l: &Loaded) -> ApiResult<&Assignment> {
    let a = active(l)?;
    if !a.pause_pending() {
        return Err(ApiError::conflict(codes::NO_PAUSE_REQUEST, "该工单没有待审批的挂起申请"));
    }
    Ok(a)
}

async fn tell_unit<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    l: &Loaded,
    a: &Assignment,
    what: &str,
    fx: &mut Effects,
) -> ApiResult<()> {
    let sign = &state.settings.county.sms_sign;
    for (phone, _) in unit_recipients(db, a.unit_id, a.assignee_id).await? {
        fx.sms.push((templates::pause(sign, &l.ticket.no, what), phone));
    }
    Ok(())
}

/// A leader approves: the order is paused until 08:00 of the resume date, its open deadlines moved
/// by that much. The event is public: the requester reads why and until when (no names).
pub async fn approve(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = pending(l)?;
    let day = a.pause_resume_on.ok_or_else(|| ApiError::conflict(codes::NO_PAUSE_REQUEST, "挂起申请缺少恢复日期"))?;
    let until = resume_instant(state, day);
    if until <= now {
        return Err(ApiError::conflict(codes::NO_PAUSE_REQUEST, "申请的恢复日期已过，请让承办单位重新申请"));
    }
    refuse_if_overdue(state, a, now)?;
    let reason = a.pause_reason.clone().unwrap_or_default();
    let remark = super::optional(&body.note, "note")?;
    let mut fx = Effects::new(true);
    fx.note = Some(format!("{reason}（预计{}恢复办理）", day.format("%Y年%m月%d日")));
    fx.data = json!({"assignment_id": a.id, "resume_on": day.to_string(), "pause_until": until,
                     "requested_by": a.pause_requested_by, "reason": reason, "remark": remark});
    let patch = AssignmentPatch {
        pause_decided_at: Some(Some(now)),
        pause_decision: Some(Some(PauseDecision::Approved)),
        pause_decided_by: Some(Some(user.id)),
        paused_at: Some(Some(now)),
        pause_until: Some(Some(until)),
        // The sweeper looks again when the pause ends; the moved reminders all fall after it.
        next_check_at: Some(Some(until)),
        ..a.shift_open_deadlines(until - now)
    };
    fx.assignment_update = Some((a.id, patch));
    let what = format!("挂起申请已批准，计时暂停至{}", day.format("%m月%d日"));
    tell_unit(state, &state.db.conn, l, a, &what, &mut fx).await?;
    Ok(fx)
}

/// A leader refuses with a reason: the unit keeps working to its deadlines.
pub async fn refuse(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = pending(l)?;
    let mut fx = Effects::new(false);
    fx.note = Some(required(&body.reason, "reason", "驳回理由")?);
    fx.data = json!({"assignment_id": a.id, "requested_reason": a.pause_reason, "resume_on": a.pause_resume_on});
    fx.assignment_update = Some((
        a.id,
        AssignmentPatch {
            pause_decided_at: Some(Some(now)),
            pause_decision: Some(Some(PauseDecision::Refused)),
            pause_decided_by: Some(Some(user.id)),
            ..Default::default()
        },
    ));
    tell_unit(state, &state.db.conn, l, a, "挂起申请未获批准，请按原时限办理", &mut fx).await?;
    Ok(fx)
}

/// Resumes a paused order at `now` (the unit, a leader, or the sweeper with `by` None): the open
/// deadlines move by the difference between the pause as planned and as it was, the pause's length
/// is added to the assignment, and the sweeper's next look comes from the moved instants.
pub async fn resume<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    l: &Loaded,
    body: &ActionBody,
    by: Option<&StaffUser>,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    let (Some(paused_at), Some(until)) = (a.paused_at, a.pause_until) else {
        return Err(ApiError::conflict(codes::NO_ASSIGNMENT, "该工单没有在挂起中的派单"));
    };
    let paused = now - paused_at;
    let minutes = paused.num_minutes().max(0);
    let mut patch = a.shift_open_deadlines(now - until);
    patch.paused_at = Some(None);
    patch.pause_until = Some(None);
    patch.paused_minutes = Some(a.paused_minutes.saturating_add(minutes.min(i32::MAX as i64) as i32));
    // What the sweeper owes next, from the moved instants.
    let moved = Assignment {
        respond_by: patch.respond_by.unwrap_or(a.respond_by),
        progress_by: patch.progress_by.unwrap_or(a.progress_by),
        resolve_by: patch.resolve_by.unwrap_or(a.resolve_by),
        respond_remind_at: patch.respond_remind_at.or(a.respond_remind_at),
        progress_remind_at: patch.progress_remind_at.or(a.progress_remind_at),
        resolve_remind_at: patch.resolve_remind_at.or(a.resolve_remind_at),
        ..a.clone()
    };
    patch.next_check_at = Some(crate::domain::sweep::plan(&moved.steps(), now).next_check);
    let mut fx = Effects::new(true);
    fx.note = match by {
        Some(_) => super::optional(&body.note, "note")?,
        None => Some("挂起期满，自动恢复办理".into()),
    };
    let days = (minutes as f64 / 1440.0 * 10.0).round() / 10.0;
    fx.data = json!({"assignment_id": a.id, "paused_at": paused_at, "pause_until": until, "paused_minutes": minutes,
                     "paused_days": days, "auto": by.is_none(), "early": now < until,
                     "resolve_by": moved.resolve_by});
    fx.assignment_update = Some((a.id, patch));
    let deadline = fmt_local(state, moved.resolve_by);
    match by {
        // The unit resuming its own order needs no message about it.
        Some(u) if u.scope.unit_id == Some(a.unit_id) => {}
        Some(_) => tell_unit(state, db, l, a, &format!("已由领导恢复办理，办结时限{deadline}"), &mut fx).await?,
        None => tell_unit(state, db, l, a, &format!("挂起期满，已恢复计时，办结时限{deadline}"), &mut fx).await?,
    }
    Ok(fx)
}
