//! One breach of an accountability rule (追责红线) and the inspector's review of it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "accountability_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule: String,
    pub breach_key: String,
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignment_id: Option<i64>,
    pub region_path: String,
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    pub status: String,
    pub decision: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub breached_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
