//! Helpers for orders shared by the actions, the return-visit redo and the SLA sweeper: who hears
//! about a unit's order, the deadlines of a new assignment, and time shown in messages.
use crate::domain::routing::{Place, UnitChoice, suggest};
use crate::domain::sla::{AssignmentDeadlines, Calendar, Clock, Policy};
use crate::domain::values::HandlingLevel;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

/// A time as messages and pages show it: month, day and minute in the county's time zone.
pub fn fmt_local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.tz()).format("%m月%d日%H:%M").to_string()
}

/// Who hears about a unit's order: the named assignee, else the unit's cadres, else its duty phone
/// (no staff member behind it). Each as (phone, staff id).
pub async fn unit_recipients<C: ConnectionTrait>(
    db: &C,
    unit_id: i64,
    assignee: Option<i64>,
) -> ApiResult<Vec<(String, Option<i64>)>> {
    if let Some(id) = assignee
        && let Some(s) = repo::staff::get(db, id).await?
        && let Some(p) = s.phone
    {
        return Ok(vec![(p, Some(s.id))]);
    }
    let cadres: Vec<(String, Option<i64>)> = repo::staff::cadres_of_unit(db, unit_id)
        .await?
        .into_iter()
        .filter_map(|s| s.phone.map(|p| (p, Some(s.id))))
        .collect();
    if !cadres.is_empty() {
        return Ok(cadres);
    }
    Ok(repo::regions::unit(db, unit_id).await?.and_then(|u| u.phone).map(|p| (p, None)).into_iter().collect())
}

/// The holiday calendar as stored now (an admin may have added a year a minute ago).
pub async fn calendar<C: ConnectionTrait>(db: &C) -> ApiResult<Calendar> {
    Ok(repo::calendar::load(db).await?)
}

/// `minutes` of the policy's clock after `start`.
pub async fn after<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    policy: &Policy,
    start: DateTime<Utc>,
    minutes: i64,
) -> ApiResult<DateTime<Utc>> {
    let cal = calendar(db).await?;
    let tz = state.tz();
    let end = Clock { calendar: &cal, tz }.add(policy.clock, start, minutes);
    if policy.clock == crate::domain::sla::ClockKind::Workdays {
        // A year whose holiday arrangement is not entered yet counts Monday to Friday: say so, loudly
        // enough for operations to enter it (GET/PUT /api/v1/calendar/{year}).
        use chrono::Datelike;
        let (first, last) = (start.with_timezone(&tz).year(), end.with_timezone(&tz).year());
        for year in (first..=last).filter(|y| !cal.knows_year(*y)) {
            tracing::warn!(
                year,
                "working-day deadline runs through a year without a holiday calendar; counting Monday to Friday"
            );
            metrics::counter!("minsheng_calendar_year_missing_total").increment(1);
        }
    }
    Ok(end)
}

/// Desk deadlines (registration, dispatch) run on natural time: the hotline desk and the
/// dispatchers work around the clock, while a policy's working-day clock is for the units.
pub fn desk_deadline(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    start + Duration::minutes(minutes)
}

/// The policy of a ticket and the deadlines of an assignment created at `now`.
pub async fn assignment_deadlines<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &Ticket,
    now: DateTime<Utc>,
) -> ApiResult<AssignmentDeadlines> {
    let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
    let cal = calendar(db).await?;
    assignment_deadlines_with(state, db, t, &policy, &cal, now).await
}

/// `assignment_deadlines` with the ticket's policy and the calendar already read (a batch of
/// escalations reads them once).
pub async fn assignment_deadlines_with<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &Ticket,
    policy: &Policy,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> ApiResult<AssignmentDeadlines> {
    let dl = Clock { calendar: cal, tz: state.tz() }.assignment(policy, now);
    // An order of the city 12345 platform is due when the platform says: the unit's deadlines end
    // there at the latest (kept in order: respond ≤ progress ≤ resolve).
    if t.channel == crate::domain::values::Channel::Hotline
        && let Some(due) = repo::upstream::order_of_ticket(db, t.id).await?.and_then(|o| o.deadline)
    {
        return Ok(capped(dl, due));
    }
    Ok(dl)
}

/// Deadlines that end by `due` at the latest; a reminder never falls after its deadline.
pub fn capped(dl: AssignmentDeadlines, due: DateTime<Utc>) -> AssignmentDeadlines {
    let resolve_by = dl.resolve_by.min(due);
    let progress_by = dl.progress_by.min(resolve_by);
    let respond_by = dl.respond_by.min(progress_by);
    AssignmentDeadlines {
        respond_by,
        progress_by,
        resolve_by,
        respond_remind_at: dl.respond_remind_at.min(respond_by),
        progress_remind_at: dl.progress_remind_at.min(progress_by),
        resolve_remind_at: dl.resolve_remind_at.min(resolve_by),
    }
}

fn choice(u: &crate::repo::regions::Unit) -> UnitChoice {
    UnitChoice { id: u.id, name: u.name.clone(), level: u.level }
}

/// The unit the category's default level gives for the ticket's village (`domain::routing`): the
/// village committee, the township's office, or at county level the department the category (or
/// its nearest ancestor) names, else the county centre.
pub async fn suggested_unit<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Option<UnitChoice>> {
    let Some(category) = repo::catalog::category(db, &t.category_code).await? else { return Ok(None) };
    let level = HandlingLevel::parse(&category.level).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "categories.level of {} holds {:?}, not a known value",
            category.code,
            category.level
        ))
    })?;
    // The named unit: the category's own or its nearest ancestor's (the tree is a few levels deep).
    let (mut named_id, mut parent) = (category.unit_id, category.parent_code.clone());
    for _ in 0..8 {
        let Some(code) = parent.take().filter(|_| named_id.is_none()) else { break };
        let Some(up) = repo::catalog::category(db, &code).await? else { break };
        (named_id, parent) = (up.unit_id, up.parent_code);
    }
    let named = match named_id {
        Some(id) => repo::regions::unit(db, id).await?.filter(|u| u.active).map(|u| choice(&u)),
        None => None,
    };
    let Some(region) = repo::regions::get(db, t.region_id).await? else { return Ok(None) };
    let lineage = repo::regions::lineage(db, &region).await?;
    let ids: Vec<i64> = lineage.iter().map(|r| r.id).collect();
    let leads: Vec<(i64, UnitChoice)> =
        repo::regions::lead_units(db, &ids).await?.iter().map(|u| (u.region_id, choice(u))).collect();
    let places: Vec<Place<'_>> = lineage
        .iter()
        .map(|r| Place { level: r.level, lead: leads.iter().find(|(id, _)| *id == r.id).map(|(_, u)| u) })
        .collect();
    Ok(suggest(level, &places, named.as_ref()).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_deadline_caps_every_step_in_order() {
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let h = |n: i64| t0 + Duration::hours(n);
        let dl = AssignmentDeadlines {
            respond_by: h(2),
            progress_by: h(24),
            resolve_by: h(72),
            respond_remind_at: h(1),
            progress_remind_at: h(20),
            resolve_remind_at: h(60),
        };
        let c = capped(dl, h(10));
        assert_eq!((c.respond_by, c.progress_by, c.resolve_by), (h(2), h(10), h(10)));
        assert_eq!((c.respond_remind_at, c.progress_remind_at, c.resolve_remind_at), (h(1), h(10), h(10)));
        // A later deadline changes nothing.
        assert_eq!(capped(dl, h(100)), dl);
    }
}
