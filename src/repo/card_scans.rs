//! Scan counts of cards per county-local day: added in batches by the worker, summed for staff.
use chrono::NaiveDate;
use entity::card_scans;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashMap;

/// Adds `n` scans to a card's day (creating the row on the first scan of the day).
pub async fn add<C: ConnectionTrait>(db: &C, card_id: i64, day: NaiveDate, n: i64) -> Result<(), DbErr> {
    card_scans::Entity::insert(card_scans::ActiveModel { card_id: Set(card_id), day: Set(day), scans: Set(n) })
        .on_conflict(
            OnConflict::columns([card_scans::Column::CardId, card_scans::Column::Day])
                .value(card_scans::Column::Scans, Expr::cust("card_scans.scans + excluded.scans"))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// SUM over BIGINT is NUMERIC on PostgreSQL; cast back so both databases answer an i64.
fn sum() -> Expr {
    Expr::cust("CAST(SUM(scans) AS BIGINT)")
}

fn in_period(card_ids: &[i64], from: Option<NaiveDate>, to: Option<NaiveDate>) -> sea_orm::Select<card_scans::Entity> {
    let mut q = card_scans::Entity::find().filter(card_scans::Column::CardId.is_in(card_ids.iter().copied()));
    if let Some(f) = from {
        q = q.filter(card_scans::Column::Day.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(card_scans::Column::Day.lte(t));
    }
    q
}

/// Scans per card between `from` and `to` (inclusive; `None` = unbounded). Cards without scans are absent.
pub async fn per_card<C: ConnectionTrait>(
    db: &C,
    card_ids: &[i64],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<HashMap<i64, i64>, DbErr> {
    if card_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = in_period(card_ids, from, to)
        .select_only()
        .column(card_scans::Column::CardId)
        .column_as(sum(), "scans")
        .group_by(card_scans::Column::CardId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Scans per day over the given cards, oldest first; days without scans are absent.
pub async fn per_day<C: ConnectionTrait>(
    db: &C,
    card_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, DbErr> {
    if card_ids.is_empty() {
        return Ok(vec![]);
    }
    in_period(card_ids, Some(from), Some(to))
        .select_only()
        .column(card_scans::Column::Day)
        .column_as(sum(), "scans")
        .group_by(card_scans::Column::Day)
        .order_by_asc(card_scans::Column::Day)
        .into_tuple()
        .all(db)
        .await
}
