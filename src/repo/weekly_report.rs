//! What the weekly report reads besides the statistics: the open orders past their deadline, per
//! unit, as of a moment (the same definition as the work list's "overdue" filter).
use super::tickets::overdue_condition;
use chrono::{DateTime, Utc};
use entity::tickets;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

/// (unit id, overdue orders) for every unit with any at `now`, most first.
pub async fn overdue_by_unit<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>, DbErr> {
    let mut rows: Vec<(i64, i64)> = tickets::Entity::find()
        .select_only()
        .column(tickets::Column::UnitId)
        .column_as(Expr::col((tickets::Entity, tickets::Column::Id)).count(), "n")
        .filter(tickets::Column::UnitId.is_not_null())
        .filter(overdue_condition(now))
        .group_by(tickets::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(rows)
}
