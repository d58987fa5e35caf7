//! A recorded contact with the requester after resolution (回访).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "return_visits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub assignment_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub caller_id: Option<i64>,
    pub channel: String,
    pub reached: bool,
    pub solved: Option<String>,
    pub satisfaction: Option<String>,
    pub score_attitude: Option<i32>,
    pub score_capability: Option<i32>,
    pub score_convenience: Option<i32>,
    pub score_efficiency: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub comment: Option<String>,
    pub counted: bool,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
