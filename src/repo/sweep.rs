//! The SLA sweeper's queries: claim the assignments whose next notice is due, lock a ticket without
//! waiting, and record the notices sent with a guard that makes each one happen once.
use crate::domain::sweep::Step;
use crate::domain::values::AssignmentStatus;
use crate::repo::assignments::Assignment;
use crate::repo::tickets::Ticket;
use chrono::{DateTime, Utc};
use entity::{assignments, tickets};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic, QueryFilter, Statement,
    Value,
};

/// Active assignments whose next notice is due at `now`, earliest first. On PostgreSQL the rows are
/// locked and rows another sweeper holds are skipped, so concurrent sweepers share the work; SQLite
/// runs this inside its single write transaction. The predicate matches the partial index
/// `ix_assignments_next_check`.
pub async fn claim_due<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, limit: u64) -> Result<Vec<Assignment>, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "SELECT * FROM assignments WHERE status = 'active' AND next_check_at IS NOT NULL AND next_check_at <= $1 \
         ORDER BY next_check_at LIMIT {limit}{lock}"
    );
    let rows = assignments::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .all(db)
        .await?;
    super::assignments::typed(rows)
}

/// The ticket, locked for this transaction — or `None` when another transaction holds it
/// (PostgreSQL). Never waits: a sweeper that waited on a ticket while holding assignment rows could
/// deadlock with an action that locks the ticket first.
pub async fn lock_ticket_nowait<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Ticket>, DbErr> {
    let backend = db.get_database_backend();
    let row = if backend != DbBackend::Postgres {
        tickets::Entity::find_by_id(id).one(db).await?
    } else {
        let sql = "SELECT * FROM tickets WHERE id = $1 FOR UPDATE SKIP LOCKED";
        tickets::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, [id.into()])).one(db).await?
    };
    row.map(Ticket::try_from).transpose()
}

/// `lock_ticket_nowait` for several tickets in one statement: those another transaction holds are
/// left out of the answer.
pub async fn lock_tickets_nowait<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Ticket>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let backend = db.get_database_backend();
    let ids = super::rollups::Ids::new(backend, ids);
    let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!("SELECT * FROM tickets WHERE {}{lock}", ids.test("id", 1));
    let rows = tickets::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, vec![ids.value()]))
        .all(db)
        .await?;
    rows.into_iter().map(Ticket::try_from).collect()
}

/// What `record_all` writes for one assignment: the assignment as read, its marks, its next check.
pub type Record<'a> = (&'a Assignment, Vec<Mark>, Option<DateTime<Utc>>);

/// A notice the sweeper sent: (step, reminder or urge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub step: Step,
    pub urge: bool,
}

/// Writes the notice marks and the next check, only if the row still has the `next_check_at` the
/// sweeper read: a second sweeper that somehow read the same row writes nothing and sends nothing.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    a: &Assignment,
    marks: &[Mark],
    now: DateTime<Utc>,
    next_check: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    use assignments::Column as C;
    let mut update = assignments::Entity::update_many()
        .col_expr(C::NextCheckAt, Expr::value(next_check))
        .filter(C::Id.eq(a.id))
        .filter(C::Status.eq(AssignmentStatus::Active.as_str()));
    update = match a.next_check_at {
        Some(t) => update.filter(assignments::Column::NextCheckAt.eq(t)),
        None => update.filter(assignments::Column::NextCheckAt.is_null()),
    };
    for m in marks {
        update = update.col_expr(mark_column(*m), Expr::value(Some(now)));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

fn mark_column(m: Mark) -> assignments::Column {
    use assignments::Column as C;
    match (m.step, m.urge) {
        (Step::Respond, false) => C::RespondRemindedAt,
        (Step::Respond, true) => C::RespondUrgedAt,
        (Step::Progress, false) => C::ProgressRemindedAt,
        (Step::Progress, true) => C::ProgressUrgedAt,
        (Step::Resolve, false) => C::ResolveRemindedAt,
        (Step::Resolve, true) => C::ResolveUrgedAt,
    }
}

/// `record` for several assignments, one statement per set of marks: answers how many rows still
/// were as read (each guarded like `record`), which the caller compares with how many it gave.
pub async fn record_all<C: ConnectionTrait>(db: &C, items: &[Record<'_>], now: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut shapes =
        super::bulk::Shapes::new("assignments", "id", vec!["status", "next_check_at"], vec!["next_check_at"]);
    for (a, marks, next_check) in items {
        let mut names: Vec<&str> = marks.iter().map(|m| mark_column(*m).as_str()).collect();
        names.sort();
        names.dedup();
        let head: Vec<Value> =
            vec![a.id.into(), AssignmentStatus::Active.as_str().into(), a.next_check_at.into(), (*next_check).into()];
        shapes.push(head, names.into_iter().map(|c| (c, Value::from(Some(now)))).collect());
    }
    shapes.update(db).await
}
