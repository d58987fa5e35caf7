//! A published decision of a village council, as the public village notice page shows it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "council_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub region_id: i64,
    pub ticket_id: i64,
    pub category_code: String,
    #[sea_orm(column_type = "Text")]
    pub decision: String,
    /// JSON text: `[{"name", "title"}]` of the members who took part.
    #[sea_orm(column_type = "Text")]
    pub members: String,
    pub decided_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
