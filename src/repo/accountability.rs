//! Accountability records (追责红线): the worker's candidate scans, the insert that writes one row per
//! breach key whatever the number of workers, and the inspectors' list, counts and decisions.
use super::{Page, like_prefix, stored};
use crate::domain::accountability::{Breach, Decision, EventRef, RecordStatus, Rule};
use chrono::{DateTime, Utc};
use entity::{accountability_records as rec, assignments, events};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

/// A record as the service sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub id: i64,
    pub rule: Rule,
    pub breach_key: String,
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignment_id: Option<i64>,
    pub region_path: String,
    pub evidence: Vec<EventRef>,
    pub status: RecordStatus,
    pub decision: Option<Decision>,
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub breached_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<rec::Model> for Record {
    type Error = DbErr;

    fn try_from(m: rec::Model) -> Result<Record, DbErr> {
        let evidence = serde_json::from_str(&m.evidence)
            .map_err(|e| DbErr::Type(format!("accountability_records.evidence of row {}: {e}", m.id)))?;
        let decision = match m.decision.as_deref() {
            Some(d) => Some(stored("accountability_records", "decision", m.id, d, Decision::parse)?),
            None => None,
        };
        Ok(Record {
            rule: stored("accountability_records", "rule", m.id, &m.rule, Rule::parse)?,
            status: stored("accountability_records", "status", m.id, &m.status, RecordStatus::parse)?,
            decision,
            evidence,
            id: m.id,
            breach_key: m.breach_key,
            ticket_id: m.ticket_id,
            unit_id: m.unit_id,
            assignment_id: m.assignment_id,
            region_path: m.region_path,
            decision_note: m.decision_note,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            breached_at: m.breached_at,
            created_at: m.created_at,
        })
    }
}

/// Writes the record of a breach unless its key is recorded already (by this or another worker).
/// Answers whether this call wrote it.
pub async fn insert_breach<C: ConnectionTrait>(
    db: &C,
    b: &Breach,
    region_path: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let evidence = serde_json::to_string(&b.evidence).map_err(|e| DbErr::Custom(e.to_string()))?;
    let row = rec::ActiveModel {
        rule: Set(b.rule.as_str().into()),
        breach_key: Set(b.key.clone()),
        ticket_id: Set(b.ticket_id),
        unit_id: Set(b.unit_id),
        assignment_id: Set(b.assignment_id),
        region_path: Set(region_path.into()),
        evidence: Set(evidence),
        status: Set(RecordStatus::Open.as_str().into()),
        breached_at: Set(b.at),
        created_at: Set(now),
        ..Default::default()
    };
    let written = rec::Entity::insert(row).on_conflict_do_nothing_on([rec::Column::BreachKey]).exec(db).await?;
    Ok(matches!(written, sea_orm::TryInsertResult::Inserted(_)))
}

/// Assignments recorded already under `rule` (a subquery, so the scans skip them).
fn recorded(rule: Rule) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(rec::Column::AssignmentId)
        .from(rec::Entity)
        .and_where(rec::Column::Rule.eq(rule.as_str()))
        .and_where(rec::Column::AssignmentId.is_not_null())
        .to_owned()
}

/// Tickets with an assignment, after `after_id`, whose response deadline (in `[since, now)`) passed
/// before the unit signed for it or let it go, and that is not recorded yet: (assignment id,
/// ticket id), at most `limit`, by assignment id.
pub async fn response_candidates<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let late = Condition::any()
        .add(Expr::col(assignments::Column::AcceptedAt).gt(Expr::col(assignments::Column::RespondBy)))
        .add(
            Condition::all().add(assignments::Column::AcceptedAt.is_null()).add(
                Condition::any()
                    .add(assignments::Column::EndedAt.is_null())
                    .add(Expr::col(assignments::Column::EndedAt).gt(Expr::col(assignments::Column::RespondBy))),
            ),
        );
    assignments::Entity::find()
        .select_only()
        .columns([assignments::Column::Id, assignments::Column::TicketId])
        .filter(assignments::Column::RespondBy.gte(since))
        .filter(assignments::Column::RespondBy.lt(now))
        .filter(assignments::Column::Id.gt(after_id))
        .filter(late)
        .filter(assignments::Column::Id.not_in_subquery(recorded(Rule::ResponseMissed)))
        .order_by_asc(assignments::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Tickets with an assignment whose result deadline (in `[since, before)`) passed while it was
/// held or before it was resolved, not recorded yet: (assignment id, ticket id). How late is the
/// rule's to judge (`domain::accountability`); `before` is `now` less the days allowed.
pub async fn overdue_candidates<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
    before: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let late = Condition::any()
        .add(Expr::col(assignments::Column::ResolvedAt).gt(Expr::col(assignments::Column::ResolveBy)))
        .add(
            Condition::all()
                .add(assignments::Column::ResolvedAt.is_null())
                .add(assignments::Column::Status.eq(crate::domain::values::AssignmentStatus::Active.as_str())),
        );
    assignments::Entity::find()
        .select_only()
        .columns([assignments::Column::Id, assignments::Column::TicketId])
        .filter(assignments::Column::ResolveBy.gte(since))
        .filter(assignments::Column::ResolveBy.lt(before))
        .filter(assignments::Column::Id.gt(after_id))
        .filter(late)
        .filter(assignments::Column::Id.not_in_subquery(recorded(Rule::ResultOverdue)))
        .order_by_asc(assignments::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Tickets with at least two events of `action` (landing in `to_status` when given), one of them
/// since `since`: the candidates for the twice-rules, by ticket id after `after_id`.
pub async fn twice_candidates<C: ConnectionTrait>(
    db: &C,
    action: &str,
    to_status: Option<&str>,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<i64>, DbErr> {
    let mut recent = Query::select()
        .column(events::Column::TicketId)
        .from(events::Entity)
        .and_where(events::Column::Action.eq(action))
        .and_where(events::Column::At.gte(since))
        .to_owned();
    let mut all = Condition::all().add(events::Column::Action.eq(action));
    if let Some(s) = to_status {
        recent.and_where(events::Column::ToStatus.eq(s));
        all = all.add(events::Column::ToStatus.eq(s));
    }
    events::Entity::find()
        .select_only()
        .column(events::Column::TicketId)
        .filter(all)
        .filter(events::Column::TicketId.gt(after_id))
        .filter(events::Column::TicketId.in_subquery(recent))
        .group_by(events::Column::TicketId)
        .having(Expr::expr(Func::count(Expr::col(events::Column::Id))).gte(2))
        .order_by_asc(events::Column::TicketId)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The filters of the list (also its query string, read by the service).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<RecordStatus>,
    pub rule: Option<Rule>,
    pub unit_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn scoped(under_path: &str, f: &Filter) -> Condition {
    let mut c = Condition::all().add(rec::Column::RegionPath.like(like_prefix(under_path)));
    if let Some(s) = f.status {
        c = c.add(rec::Column::Status.eq(s.as_str()));
    }
    if let Some(r) = f.rule {
        c = c.add(rec::Column::Rule.eq(r.as_str()));
    }
    if let Some(u) = f.unit_id {
        c = c.add(rec::Column::UnitId.eq(u));
    }
    if let Some(t) = f.from {
        c = c.add(rec::Column::BreachedAt.gte(t));
    }
    if let Some(t) = f.to {
        c = c.add(rec::Column::BreachedAt.lt(t));
    }
    c
}

/// Records about tickets under `under_path`, newest breach first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    f: &Filter,
    page: Page,
) -> Result<(Vec<Record>, u64), DbErr> {
    let q = rec::Entity::find().filter(scoped(under_path, f));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(rec::Column::BreachedAt)
        .order_by_desc(rec::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let items = rows.into_iter().map(Record::try_from).collect::<Result<_, _>>()?;
    Ok((items, total))
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Record>, DbErr> {
    rec::Entity::find_by_id(id).one(db).await?.map(Record::try_from).transpose()
}

/// (unit id, rule, records) under `under_path` with a breach in `[from, to)`.
pub async fn counts<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<(i64, String, i64)>, DbErr> {
    let f = Filter { from, to, ..Default::default() };
    rec::Entity::find()
        .select_only()
        .column(rec::Column::UnitId)
        .column(rec::Column::Rule)
        .column_as(Expr::expr(Func::count(Expr::col(rec::Column::Id))), "n")
        .filter(scoped(under_path, &f))
        .group_by(rec::Column::UnitId)
        .group_by(rec::Column::Rule)
        .order_by_asc(rec::Column::UnitId)
        .order_by_asc(rec::Column::Rule)
        .into_tuple()
        .all(db)
        .await
}

/// The inspector's step, applied only if the record is still `from` (zero rows: someone else
/// decided first).
pub struct DecisionPatch {
    pub from: RecordStatus,
    pub to: RecordStatus,
    pub decision: Option<Decision>,
    pub note: Option<String>,
    pub by: i64,
    pub at: DateTime<Utc>,
}

pub async fn decide<C: ConnectionTrait>(db: &C, id: i64, p: DecisionPatch) -> Result<bool, DbErr> {
    let r = rec::Entity::update_many()
        .col_expr(rec::Column::Status, Expr::value(p.to.as_str()))
        .col_expr(rec::Column::Decision, Expr::value(p.decision.map(|d| d.as_str().to_string())))
        .col_expr(rec::Column::DecisionNote, Expr::value(p.note))
        .col_expr(rec::Column::DecidedBy, Expr::value(p.by))
        .col_expr(rec::Column::DecidedAt, Expr::value(p.at))
        .filter(rec::Column::Id.eq(id))
        .filter(rec::Column::Status.eq(p.from.as_str()))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}
