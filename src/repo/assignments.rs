//! Assignments (派单): a ticket given to a unit with its deadlines stored at creation.
use crate::domain::sla::AssignmentDeadlines;
use chrono::{DateTime, Utc};
use entity::assignments;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set, Value,
};

pub use entity::assignments::Model as Assignment;

pub struct NewAssignment {
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignee_id: Option<i64>,
    pub dispatched_by: Option<i64>,
    pub escalated_from_id: Option<i64>,
    pub reopened: bool,
    pub deadlines: AssignmentDeadlines,
}

pub async fn create<C: ConnectionTrait>(db: &C, a: NewAssignment, now: DateTime<Utc>) -> Result<Assignment, DbErr> {
    assignments::ActiveModel {
        ticket_id: Set(a.ticket_id),
        unit_id: Set(a.unit_id),
        assignee_id: Set(a.assignee_id),
        status: Set("active".into()),
        reopened: Set(a.reopened),
        escalated_from_id: Set(a.escalated_from_id),
        dispatched_by: Set(a.dispatched_by),
        dispatched_at: Set(now),
        respond_by: Set(a.deadlines.respond_by),
        progress_by: Set(a.deadlines.progress_by),
        resolve_by: Set(a.deadlines.resolve_by),
        respond_remind_at: Set(Some(a.deadlines.respond_remind_at)),
        progress_remind_at: Set(Some(a.deadlines.progress_remind_at)),
        resolve_remind_at: Set(Some(a.deadlines.resolve_remind_at)),
        // The first notice owed is the earliest reminder (respond ≤ progress ≤ resolve).
        next_check_at: Set(Some(a.deadlines.respond_remind_at)),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Assignment>, DbErr> {
    assignments::Entity::find_by_id(id).one(db).await
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Assignment>, DbErr> {
    assignments::Entity::find()
        .filter(assignments::Column::TicketId.eq(ticket_id))
        .order_by_asc(assignments::Column::Id)
        .all(db)
        .await
}

/// Sets columns on an assignment (accepted_at, resolved_at, status…).
pub async fn set<C: ConnectionTrait>(db: &C, id: i64, cols: Vec<(assignments::Column, Value)>) -> Result<(), DbErr> {
    let mut update = assignments::Entity::update_many().filter(assignments::Column::Id.eq(id));
    for (c, v) in cols {
        update = update.col_expr(c, Expr::value(v));
    }
    update.exec(db).await?;
    Ok(())
}

/// Ends the active assignment with `status` (returned, escalated, completed, superseded).
pub async fn end<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    set(
        db,
        id,
        vec![
            (assignments::Column::Status, status.into()),
            (assignments::Column::EndedAt, Some(now).into()),
            (assignments::Column::EndReason, reason.map(str::to_string).into()),
        ],
    )
    .await
}

/// Assignments of many tickets at once (list pages), keyed by id.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Assignment>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    assignments::Entity::find().filter(assignments::Column::Id.is_in(ids.to_vec())).all(db).await
}
