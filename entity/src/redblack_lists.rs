//! A published weekly red/black list: immutable, hash-chained to the list published before it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "redblack_lists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// ISO week, e.g. `2026-W49`.
    pub week: String,
    pub published_at: DateTimeUtc,
    /// The list and its inputs (every unit's counts and rates), JSON.
    pub payload: String,
    pub formula: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
