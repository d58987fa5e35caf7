//! The desk's request to refer a ticket to the village council (下交) and a leader's decision (签批).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "refer_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub requested_by: Option<i64>,
    pub requested_at: DateTimeUtc,
    pub decision: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
