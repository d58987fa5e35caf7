//! Accountability (追责红线): the worker's pass that turns breaches of the configured rules into
//! records (one per breach key, however many instances run it), and the inspectors' list, detail,
//! decisions and counts. A record is the inspector's file about a ticket: the ticket's own ledger
//! is never changed here; each decision writes an audit row.
use super::stats::{PeriodQuery, period, scoped_region};
use super::tickets::{local_day_end, local_day_start};
use crate::auth::StaffUser;
use crate::domain::accountability::{
    AssignmentFacts, Breach, Decision, EventRef, RecordStatus, Rule, TicketFacts, evaluate,
};
use crate::domain::roles::Role;
use crate::domain::values::AssignmentStatus;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::accountability::{DecisionPatch, Filter, Record};
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Candidates one scan query reads at a time (keyset pages: every candidate is seen each pass).
const BATCH: u64 = 200;

/// Roles that read records; inspectors (and admins) also decide them.
const READERS: [Role; 2] = [Role::Inspector, Role::Leader];

fn event_ref(e: &repo::tickets::Event) -> EventRef {
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    let assignment_id = data["assignment_id"].as_i64().or_else(|| data["redo"]["assignment_id"].as_i64());
    EventRef {
        event_id: e.id,
        seq: e.seq,
        action: e.action.clone(),
        at: e.at,
        to_status: e.to_status.as_str().to_string(),
        assignment_id,
        unit_id: data["unit_id"].as_i64(),
    }
}

/// One ticket's facts for the rules, and its region path.
async fn facts(state: &AppState, ticket_id: i64) -> anyhow::Result<Option<(TicketFacts, String)>> {
    let db = &state.db.conn;
    let Some(ticket) = repo::tickets::by_id(db, ticket_id).await? else { return Ok(None) };
    let assignments = repo::assignments::of_ticket(db, ticket_id)
        .await?
        .into_iter()
        .map(|a| AssignmentFacts {
            id: a.id,
            unit_id: a.unit_id,
            active: a.status == AssignmentStatus::Active,
            respond_by: a.respond_by,
            accepted_at: a.accepted_at,
            ended_at: a.ended_at,
            resolve_by: a.resolve_by,
            resolved_at: a.resolved_at,
        })
        .collect();
    let events = repo::tickets::events_of(db, ticket_id).await?.iter().map(event_ref).collect();
    Ok(Some((TicketFacts { ticket_id, assignments, events }, ticket.region_path)))
}

/// The tickets the scans name as possibly in breach (bounded by the look-back window, by index).
async fn candidates(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<BTreeSet<i64>> {
    let cfg = &state.settings.accountability;
    let db = &state.db.conn;
    let since = now - Duration::days(cfg.lookback_days.max(1));
    let mut tickets = BTreeSet::new();
    if cfg.response_missed {
        let mut after = 0;
        loop {
            let page = repo::accountability::response_candidates(db, since, now, after, BATCH).await?;
            tickets.extend(page.iter().map(|(_, t)| *t));
            match page.last() {
                Some((id, _)) if page.len() as u64 == BATCH => after = *id,
                _ => break,
            }
        }
    }
    if let Some(days) = cfg.result_overdue_days {
        let (mut after, since) = (0, since - Duration::days(days));
        loop {
            let page =
                repo::accountability::overdue_candidates(db, since, now - Duration::days(days), after, BATCH).await?;
            tickets.extend(page.iter().map(|(_, t)| *t));
            match page.last() {
                Some((id, _)) if page.len() as u64 == BATCH => after = *id,
                _ => break,
            }
        }
    }
    let twice = [(cfg.returned_twice, "return", None), (cfg.reopened_twice, "return_visit", Some("reopened"))];
    for (on, action, to_status) in twice {
        if !on {
            continue;
        }
        let mut after = 0;
        loop {
            let page = repo::accountability::twice_candidates(db, action, to_status, since, after, BATCH).await?;
            tickets.extend(page.iter().copied());
            match page.last() {
                Some(id) if page.len() as u64 == BATCH => after = *id,
                _ => break,
            }
        }
    }
    Ok(tickets)
}

/// One pass of the rules at `now`: answers the records this pass wrote. Any number of instances
/// may run it at once; a breach's unique key lets one row in.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Vec<Breach>> {
    let rules = state.settings.accountability.rules();
    let mut written = Vec::new();
    for ticket_id in candidates(state, now).await? {
        let Some((facts, region_path)) = facts(state, ticket_id).await? else { continue };
        for b in evaluate(&rules, &facts, now) {
            if repo::accountability::insert_breach(&state.db.conn, &b, &region_path, now).await? {
                tracing::info!(rule = b.rule.as_str(), key = %b.key, "accountability record created");
                written.push(b);
            }
        }
    }
    Ok(written)
}

/// The list's query string.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// open, reviewing or closed
    pub status: Option<String>,
    /// response_missed, result_overdue, returned_twice or reopened_twice
    pub rule: Option<String>,
    pub unit_id: Option<i64>,
    /// First local day of the breach (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last local day of the breach (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecideRequest {
    /// reviewing or closed
    pub status: Option<String>,
    /// upheld (问责) or dismissed (免责): required to close.
    pub decision: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct RecordView {
    pub id: i64,
    pub rule: Rule,
    pub rule_label: &'static str,
    pub breach_key: String,
    pub ticket_id: i64,
    pub ticket_no: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub assignment_id: Option<i64>,
    pub status: RecordStatus,
    pub status_label: &'static str,
    pub decision: Option<Decision>,
    pub decision_label: Option<&'static str>,
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub breached_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The ledger events that prove the breach; in the detail with their actor and note.
    pub evidence: Vec<Value>,
}

fn action_label(action: &str) -> Option<&'static str> {
    use crate::domain::ticket::{Action, VisitOutcome};
    match action {
        "return_visit" => Some(Action::ReturnVisit(VisitOutcome::Unsatisfied).label()),
        a => Action::from_path(a).map(|a| a.label()),
    }
}

fn day(v: &Option<String>, field: &str) -> ApiResult<Option<NaiveDate>> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD")),
    }
}

fn filter(state: &AppState, q: &ListQuery) -> ApiResult<Filter> {
    let status =
        match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(RecordStatus::parse(s).ok_or_else(|| {
                ApiError::validation("status", format!("状态不正确，可选：{}", RecordStatus::names()))
            })?),
            None => None,
        };
    let rule = match q.rule.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Rule::parse(s)
                .ok_or_else(|| ApiError::validation("rule", format!("规则不正确，可选：{}", Rule::names())))?,
        ),
        None => None,
    };
    let (from, to) = (day(&q.from, "from")?, day(&q.to, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::validation("from", "开始日期不能晚于结束日期"));
    }
    Ok(Filter {
        status,
        rule,
        unit_id: q.unit_id,
        from: from.map(|d| local_day_start(state, d)),
        to: to.map(|d| local_day_end(state, d)),
    })
}

async fn view(state: &AppState, r: Record, detailed: bool) -> ApiResult<RecordView> {
    let db = &state.db.conn;
    let ticket_no = repo::tickets::by_id(db, r.ticket_id).await?.map(|t| t.no).unwrap_or_default();
    let unit_name = repo::regions::unit(db, r.unit_id).await?.map(|u| u.name).unwrap_or_default();
    let evidence = if detailed {
        let ledger = repo::tickets::events_of(db, r.ticket_id).await?;
        r.evidence
            .iter()
            .map(|e| {
                let full = ledger.iter().find(|l| l.id == e.event_id);
                json!({"event_id": e.event_id, "seq": e.seq, "action": e.action, "at": e.at,
                       "action_label": action_label(&e.action),
                       "actor_name": full.map(|l| l.actor_name.clone()),
                       "note": full.and_then(|l| l.note.clone()),
                       "to_status": full.map(|l| l.to_status.as_str())})
            })
            .collect()
    } else {
        r.evidence
            .iter()
            .map(|e| json!({"event_id": e.event_id, "seq": e.seq, "action": e.action, "at": e.at}))
            .collect()
    };
    Ok(RecordView {
        id: r.id,
        rule: r.rule,
        rule_label: r.rule.label(),
        breach_key: r.breach_key,
        ticket_id: r.ticket_id,
        ticket_no,
        unit_id: r.unit_id,
        unit_name,
        assignment_id: r.assignment_id,
        status: r.status,
        status_label: r.status.label(),
        decision: r.decision,
        decision_label: r.decision.map(|d| d.label()),
        decision_note: r.decision_note,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        breached_at: r.breached_at,
        created_at: r.created_at,
        evidence,
    })
}

pub async fn list(state: &AppState, user: &StaffUser, q: &ListQuery, page: Page) -> ApiResult<(Vec<RecordView>, u64)> {
    user.require_any(&READERS)?;
    let f = filter(state, q)?;
    let (rows, total) = repo::accountability::list(&state.db.conn, &user.scope.region_path, &f, page).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(state, r, false).await?);
    }
    Ok((out, total))
}

/// A record inside the caller's region, or 404 (another township's records are not disclosed).
async fn scoped(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Record> {
    repo::accountability::get(&state.db.conn, id)
        .await?
        .filter(|r| user.covers_region(&r.region_path))
        .ok_or_else(|| ApiError::not_found("追责记录不存在"))
}

pub async fn get(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<RecordView> {
    user.require_any(&READERS)?;
    let r = scoped(state, user, id).await?;
    view(state, r, true).await
}

/// Reads and checks a decision: the step it asks for and the finding when it closes.
fn parse_decision(req: &DecideRequest) -> ApiResult<(RecordStatus, Option<Decision>, Option<String>)> {
    let to = match req.status.as_deref().map(RecordStatus::parse) {
        Some(Some(s @ (RecordStatus::Reviewing | RecordStatus::Closed))) => s,
        _ => return Err(ApiError::validation("status", "状态只能是 reviewing（审查中）或 closed（办结）")),
    };
    let decision = match req.decision.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => Some(
            Decision::parse(d)
                .ok_or_else(|| ApiError::validation("decision", "处理结论只能是 upheld（问责）或 dismissed（免责）"))?,
        ),
        None => None,
    };
    if to == RecordStatus::Closed && decision.is_none() {
        return Err(ApiError::validation("decision", "办结时请选择处理结论：问责或免责"));
    }
    if to == RecordStatus::Reviewing && decision.is_some() {
        return Err(ApiError::validation("decision", "审查中不能给出处理结论，请在办结时选择"));
    }
    let note = req.note.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::validation("note", "处理意见不能超过1000个字"));
    }
    if decision == Some(Decision::Upheld) && note.is_none() {
        return Err(ApiError::validation("note", "问责时请填写处理意见"));
    }
    Ok((to, decision, note))
}

/// An inspector moves a record to review or closes it with a finding; the audit log keeps both
/// the record before and after.
pub async fn decide(state: &AppState, user: &StaffUser, id: i64, req: &DecideRequest) -> ApiResult<RecordView> {
    user.require_any(&[Role::Inspector])?;
    let (to, decision, note) = parse_decision(req)?;
    let before = scoped(state, user, id).await?;
    let allowed = matches!(
        (before.status, to),
        (RecordStatus::Open, RecordStatus::Reviewing | RecordStatus::Closed)
            | (RecordStatus::Reviewing, RecordStatus::Closed)
    );
    if !allowed {
        return Err(ApiError::conflict(
            codes::ALREADY_DECIDED,
            format!("该记录{}，不能再改为{}", before.status.label(), to.label()),
        ));
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    let patch = DecisionPatch { from: before.status, to, decision, note: note.clone(), by: user.id, at: now };
    if !repo::accountability::decide(&*tx, id, patch).await? {
        return Err(ApiError::conflict(codes::ALREADY_DECIDED, "该记录刚被他人处理，请刷新后再试"));
    }
    let snapshot = |status: RecordStatus, decision: Option<Decision>, note: &Option<String>| {
        json!({"status": status.as_str(), "decision": decision.map(|d| d.as_str()), "note": note}).to_string()
    };
    repo::audit::record(
        &*tx,
        repo::audit::NewEntry {
            at: now,
            actor_id: user.id,
            actor_name: &user.name,
            action: "accountability.decide",
            entity: "accountability_record",
            entity_id: id.to_string(),
            region_path: &before.region_path,
            before: Some(snapshot(before.status, before.decision, &before.decision_note)),
            after: Some(snapshot(to, decision, &note)),
        },
    )
    .await?;
    tx.commit().await?;
    get(state, user, id).await
}

/// Records per unit and rule in a period (local dates, inclusive) of a region in the caller's scope.
pub async fn counts(state: &AppState, user: &StaffUser, q: &PeriodQuery) -> ApiResult<Value> {
    user.require_any(&READERS)?;
    let (from, to) = period(state, q)?;
    let region = scoped_region(state, user, q.region_id).await?;
    let rows = repo::accountability::counts(
        &state.db.conn,
        &region.path,
        Some(local_day_start(state, from)),
        Some(local_day_end(state, to)),
    )
    .await?;
    let mut units: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for (unit, rule, n) in rows {
        units.entry(unit).or_default().insert(rule, n);
    }
    let mut items = Vec::with_capacity(units.len());
    for (unit_id, by_rule) in units {
        let name = repo::regions::unit(&state.db.conn, unit_id).await?.map(|u| u.name).unwrap_or_default();
        let total: i64 = by_rule.values().sum();
        items.push(json!({"unit_id": unit_id, "unit_name": name, "total": total, "by_rule": by_rule}));
    }
    items.sort_by(|a, b| b["total"].as_i64().cmp(&a["total"].as_i64()));
    Ok(json!({"region": {"id": region.id, "name": region.name}, "from": from, "to": to,
              "rules": crate::domain::accountability::ALL_RULES.iter()
                  .map(|r| json!({"rule": r.as_str(), "label": r.label()})).collect::<Vec<_>>(),
              "items": items}))
}
