//! Small batch lookups for list pages: names of many units or regions in one query, and the
//! duplicates merged into a ticket.
use entity::{categories, regions, tickets, units};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

pub async fn unit_names<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<HashMap<i64, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = units::Entity::find()
        .select_only()
        .column(units::Column::Id)
        .column(units::Column::Name)
        .filter(units::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn region_names<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<HashMap<i64, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .column(regions::Column::Name)
        .filter(regions::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn category_names<C: ConnectionTrait>(db: &C, codes: &[String]) -> Result<HashMap<String, String>, DbErr> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = categories::Entity::find()
        .select_only()
        .column(categories::Column::Code)
        .column(categories::Column::Name)
        .filter(categories::Column::Code.is_in(codes.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Numbers of the tickets merged into `id`, oldest first.
pub async fn merged_from<C: ConnectionTrait>(db: &C, id: i64) -> Result<Vec<String>, DbErr> {
    tickets::Entity::find()
        .select_only()
        .column(tickets::Column::No)
        .filter(tickets::Column::MergedIntoId.eq(id))
        .order_by_asc(tickets::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// Numbers of many tickets by id.
pub async fn ticket_nos<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<HashMap<i64, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = tickets::Entity::find()
        .select_only()
        .column(tickets::Column::Id)
        .column(tickets::Column::No)
        .filter(tickets::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
