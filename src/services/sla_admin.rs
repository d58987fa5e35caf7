//! Administration of deadlines: SLA policies per category, ticket kind and priority (changes apply to
//! assignments made afterwards: deadlines are stored on an assignment when it is made), and the holiday calendar
//! (a year's statutory days off and make-up workdays, as the State Council publishes them).
use crate::auth::StaffUser;
use crate::domain::roles::Role;
use crate::domain::sla::{ClockKind, DayKind, Policy};
use crate::domain::values::{Kind, Priority};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::catalog::SlaPolicy;
use crate::state::AppState;
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Body of POST / PUT `/api/v1/sla-policies`: every field optional so that a missing one is named.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PolicyBody {
    pub name: Option<String>,
    pub category_code: Option<String>,
    /// Ticket kind the policy is for (consultation, help, complaint …); empty or absent on create =
    /// any kind. On update, absent keeps the stored kind and "" clears it.
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub clock: Option<String>,
    pub register_minutes: Option<i64>,
    pub dispatch_minutes: Option<i64>,
    pub respond_minutes: Option<i64>,
    pub progress_minutes: Option<i64>,
    pub resolve_minutes: Option<i64>,
    pub visit_minutes: Option<i64>,
    pub signoff_required: Option<bool>,
}

pub fn policy_json(p: &SlaPolicy) -> Value {
    json!({"id": p.id, "name": p.name, "category_code": p.category_code, "kind": p.kind,
           "kind_label": p.kind.map(|k| k.label()), "priority": p.priority, "clock": p.policy.clock,
           "register_minutes": p.policy.register_minutes, "dispatch_minutes": p.policy.dispatch_minutes,
           "respond_minutes": p.policy.respond_minutes, "progress_minutes": p.policy.progress_minutes,
           "resolve_minutes": p.policy.resolve_minutes, "visit_minutes": p.policy.visit_minutes,
           "signoff_required": p.policy.signoff_required})
}

fn admin(user: &StaffUser) -> ApiResult<()> {
    if user.is_admin() { Ok(()) } else { Err(ApiError::forbidden("仅管理员可管理时限策略和节假日")) }
}

/// Staff may read the policies (the console shows them); only admins change them.
pub fn readable(user: &StaffUser) -> ApiResult<()> {
    user.require_any(&[Role::Operator, Role::Dispatcher, Role::Leader, Role::Inspector, Role::Caller, Role::Cadre])
}

struct ParsedPolicy {
    name: String,
    category: Option<String>,
    kind: Option<Kind>,
    priority: Priority,
    policy: Policy,
}

/// Fills a body over a base (the existing row for an update, DESIGN.md's defaults for a new one).
async fn parse(state: &AppState, b: &PolicyBody, base: Option<&SlaPolicy>) -> ApiResult<ParsedPolicy> {
    let name = match (b.name.as_deref().map(str::trim), base) {
        (Some(n), _) if !n.is_empty() && n.chars().count() <= 50 => n.to_string(),
        (Some(_), _) => return Err(ApiError::validation("name", "策略名称须为1到50个字")),
        (None, Some(p)) => p.name.clone(),
        (None, None) => return Err(ApiError::validation("name", "请填写策略名称")),
    };
    let priority = match (b.priority.as_deref(), base) {
        (Some(p), _) => {
            Priority::parse(p).ok_or_else(|| ApiError::validation("priority", "紧急程度只能是 normal 或 urgent"))?
        }
        (None, Some(p)) => p.priority,
        (None, None) => return Err(ApiError::validation("priority", "请选择紧急程度")),
    };
    let category = match (&b.category_code, base) {
        (Some(c), _) if c.trim().is_empty() => None,
        (Some(c), _) => {
            let c = c.trim();
            repo::catalog::category(&state.db.conn, c)
                .await?
                .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "category_code", "诉求分类不存在"))?;
            Some(c.to_string())
        }
        (None, Some(p)) => p.category_code.clone(),
        (None, None) => None,
    };
    let kind = match (b.kind.as_deref().map(str::trim), base) {
        (Some(""), _) => None,
        (Some(k), _) => Some(
            Kind::parse(k)
                .ok_or_else(|| ApiError::validation("kind", format!("诉求类型不正确，可选：{}", Kind::names())))?,
        ),
        (None, Some(p)) => p.kind,
        (None, None) => None,
    };
    let mut policy = match base {
        Some(p) => p.policy.clone(),
        None if priority == Priority::Urgent => Policy::default_urgent(),
        None => Policy::default_normal(),
    };
    if let Some(c) = b.clock.as_deref() {
        policy.clock =
            ClockKind::parse(c).ok_or_else(|| ApiError::validation("clock", "计时方式只能是 natural 或 workdays"))?;
    }
    for (v, slot) in [
        (b.register_minutes, &mut policy.register_minutes),
        (b.dispatch_minutes, &mut policy.dispatch_minutes),
        (b.respond_minutes, &mut policy.respond_minutes),
        (b.progress_minutes, &mut policy.progress_minutes),
        (b.resolve_minutes, &mut policy.resolve_minutes),
        (b.visit_minutes, &mut policy.visit_minutes),
    ] {
        if let Some(v) = v {
            *slot = v;
        }
    }
    if let Some(s) = b.signoff_required {
        policy.signoff_required = s;
    }
    policy.check().map_err(|(field, message)| ApiError::validation(field, message))?;
    Ok(ParsedPolicy { name, category, kind, priority, policy })
}

pub async fn create(state: &AppState, user: &StaffUser, b: &PolicyBody) -> ApiResult<Value> {
    admin(user)?;
    let p = parse(state, b, None).await?;
    let tx = state.db.begin().await?;
    if repo::sla_policies::find_exact(&*tx, p.category.as_deref(), p.kind, p.priority).await?.is_some() {
        return Err(ApiError::conflict(codes::POLICY_EXISTS, "该分类、诉求类型和紧急程度已有时限策略，请修改原策略"));
    }
    let row =
        repo::sla_policies::save(&*tx, None, &p.name, p.category.as_deref(), p.kind, p.priority, &p.policy).await?;
    tx.commit().await?;
    state.reference.changed();
    tracing::info!(policy_id = row.id, by = user.id, "sla policy created");
    Ok(policy_json(&row))
}

pub async fn update(state: &AppState, user: &StaffUser, id: i64, b: &PolicyBody) -> ApiResult<Value> {
    admin(user)?;
    let tx = state.db.begin().await?;
    let old = repo::sla_policies::get(&*tx, id).await?.ok_or_else(|| ApiError::not_found("时限策略不存在"))?;
    let p = parse(state, b, Some(&old)).await?;
    if let Some(other) = repo::sla_policies::find_exact(&*tx, p.category.as_deref(), p.kind, p.priority).await?
        && other.id != id
    {
        return Err(ApiError::conflict(codes::POLICY_EXISTS, "该分类、诉求类型和紧急程度已有时限策略，请修改原策略"));
    }
    let row =
        repo::sla_policies::save(&*tx, Some(id), &p.name, p.category.as_deref(), p.kind, p.priority, &p.policy).await?;
    tx.commit().await?;
    state.reference.changed();
    tracing::info!(policy_id = id, by = user.id, "sla policy changed");
    Ok(policy_json(&row))
}

/// Deleting a category's (or a kind's) policy lets the less specific one apply; the county defaults
/// (no category, any kind) themselves stay (change them instead), so every ticket always has a policy from the table.
pub async fn delete(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<()> {
    admin(user)?;
    let tx = state.db.begin().await?;
    let old = repo::sla_policies::get(&*tx, id).await?.ok_or_else(|| ApiError::not_found("时限策略不存在"))?;
    if old.category_code.is_none() && old.kind.is_none() {
        return Err(ApiError::conflict(codes::DEFAULT_POLICY, "县级默认策略不能删除，可以修改"));
    }
    repo::sla_policies::delete(&*tx, id).await?;
    tx.commit().await?;
    state.reference.changed();
    tracing::info!(policy_id = id, by = user.id, "sla policy deleted");
    Ok(())
}

/// Body of PUT `/api/v1/calendar/{year}`: the shape of the State Council's notice.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct YearBody {
    pub source: Option<String>,
    pub holidays: Option<Vec<HolidayBody>>,
    pub workdays: Option<Vec<WorkdayBody>>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct HolidayBody {
    pub name: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A make-up workday: a date, with an optional name ("国庆节调休").
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum WorkdayBody {
    Date(String),
    Named { date: String, name: Option<String> },
}

fn date(s: &str, field: &str, year: i32) -> ApiResult<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD"))?;
    if d.year() != year {
        return Err(ApiError::validation(field, format!("日期须在{year}年内")));
    }
    Ok(d)
}

fn year_json(y: &repo::calendar::CalendarYear, days: &[repo::calendar::CalendarDay]) -> Value {
    // Consecutive days off with the same name are shown as one range, as the notice lists them.
    let mut holidays: Vec<Value> = vec![];
    let mut ranges: BTreeMap<(String, NaiveDate), NaiveDate> = BTreeMap::new();
    let mut last: Option<(String, NaiveDate, NaiveDate)> = None;
    for d in days.iter().filter(|d| d.kind == DayKind::Holiday) {
        let day = d.day;
        match &mut last {
            Some((name, _, to)) if *name == d.name && to.succ_opt() == Some(day) => *to = day,
            _ => {
                if let Some((n, f, t)) = last.take() {
                    ranges.insert((n, f), t);
                }
                last = Some((d.name.clone(), day, day));
            }
        }
    }
    if let Some((n, f, t)) = last {
        ranges.insert((n, f), t);
    }
    let mut sorted: Vec<_> = ranges.into_iter().collect();
    sorted.sort_by_key(|((_, from), _)| *from);
    for ((name, from), to) in sorted {
        holidays.push(json!({"name": name, "from": from, "to": to, "days": (to - from).num_days() + 1}));
    }
    let workdays: Vec<Value> =
        days.iter().filter(|d| d.kind == DayKind::Workday).map(|d| json!({"date": d.day, "name": d.name})).collect();
    json!({"year": y.year, "source": y.source, "updated_at": y.updated_at, "holidays": holidays,
           "workdays": workdays})
}

pub async fn years(state: &AppState, user: &StaffUser) -> ApiResult<Value> {
    readable(user)?;
    let cal = repo::calendar::load(&state.db.conn).await?;
    let mut items = vec![];
    for y in repo::calendar::years(&state.db.conn).await? {
        let workdays = NaiveDate::from_ymd_opt(y.year, 1, 1)
            .map(|start| {
                start
                    .iter_days()
                    .take_while(|d| d.year() == y.year)
                    .filter(|d| cal.is_workday(*d) == Some(true))
                    .count()
            })
            .unwrap_or(0);
        items.push(json!({"year": y.year, "source": y.source, "updated_at": y.updated_at, "workdays": workdays}));
    }
    let total = items.len();
    Ok(json!({"items": items, "total": total, "page": 1, "per_page": total.max(1)}))
}

pub async fn year(state: &AppState, user: &StaffUser, year: i32) -> ApiResult<Value> {
    readable(user)?;
    let (y, days) = repo::calendar::year(&state.db.conn, year)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("尚未录入{year}年的节假日安排")))?;
    Ok(year_json(&y, &days))
}

/// Enters (or replaces) a year. Days off may fall on any day; a make-up workday must be a Saturday
/// or Sunday, and no day may be both. Deadlines already stored are not recomputed.
pub async fn put_year(state: &AppState, user: &StaffUser, year: i32, b: &YearBody) -> ApiResult<Value> {
    admin(user)?;
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::validation("year", "年份须在2000到2100之间"));
    }
    let holidays = b.holidays.as_ref().ok_or_else(|| ApiError::validation("holidays", "请填写法定节假日"))?;
    let mut days: Vec<repo::calendar::NewDay> = vec![];
    for (i, h) in holidays.iter().enumerate() {
        let field = |k: &str| format!("holidays[{i}].{k}");
        let name = h.name.as_deref().map(str::trim).filter(|n| !n.is_empty() && n.chars().count() <= 20);
        let name = name.ok_or_else(|| ApiError::validation(field("name"), "请填写节日名称（不超过20个字）"))?;
        let from = date(h.from.as_deref().unwrap_or(""), &field("from"), year)?;
        let to = date(h.to.as_deref().unwrap_or(""), &field("to"), year)?;
        if to < from || (to - from).num_days() > 30 {
            return Err(ApiError::validation(field("to"), "放假结束日期须不早于开始日期，且一次不超过31天"));
        }
        days.extend(from.iter_days().take_while(|d| *d <= to).map(|d| (d, DayKind::Holiday, name.to_string())));
    }
    for (i, w) in b.workdays.iter().flatten().enumerate() {
        let field = format!("workdays[{i}]");
        let (raw, name) = match w {
            WorkdayBody::Date(d) => (d.as_str(), None),
            WorkdayBody::Named { date, name } => (date.as_str(), name.clone()),
        };
        let d = date(raw, &field, year)?;
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            return Err(ApiError::validation(field, format!("{d}不是周末，无需调休上班")));
        }
        days.push((d, DayKind::Workday, name.unwrap_or_else(|| "调休上班".into())));
    }
    let mut seen = std::collections::HashSet::new();
    for (d, _, _) in &days {
        if !seen.insert(*d) {
            return Err(ApiError::validation("holidays", format!("{d}重复出现（同一天不能既放假又上班，也不能重复）")));
        }
    }
    let source = b.source.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(500).collect());
    let now = state.now();
    let tx = state.db.begin().await?;
    repo::calendar::put_year(&*tx, year, source, &days, user.id, now).await?;
    tx.commit().await?;
    tracing::info!(year, days = days.len(), by = user.id, "holiday calendar year saved");
    self::year(state, user, year).await
}

pub async fn delete_year(state: &AppState, user: &StaffUser, year: i32) -> ApiResult<()> {
    admin(user)?;
    let tx = state.db.begin().await?;
    let existed = repo::calendar::delete_year(&*tx, year).await?;
    tx.commit().await?;
    if !existed {
        return Err(ApiError::not_found(format!("尚未录入{year}年的节假日安排")));
    }
    Ok(())
}

pub async fn list_policies(state: &AppState, user: &StaffUser) -> ApiResult<Value> {
    readable(user)?;
    let rows = repo::sla_policies::list(&state.db.conn).await?;
    let total = rows.len();
    let items: Vec<Value> = rows.iter().map(policy_json).collect();
    Ok(json!({"items": items, "total": total, "page": 1, "per_page": total.max(1)}))
}

pub async fn get_policy(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Value> {
    readable(user)?;
    let p = repo::sla_policies::get(&state.db.conn, id).await?.ok_or_else(|| ApiError::not_found("时限策略不存在"))?;
    Ok(policy_json(&p))
}
