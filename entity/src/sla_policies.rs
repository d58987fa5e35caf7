//! Deadlines per category and priority, in minutes.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sla_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub category_code: Option<String>,
    /// None: any kind of ticket; else a `Kind` (consultation, complaint …).
    pub kind: Option<String>,
    pub priority: String,
    pub clock: String,
    pub register_minutes: i32,
    pub dispatch_minutes: i32,
    pub respond_minutes: i32,
    pub progress_minutes: i32,
    pub resolve_minutes: i32,
    pub visit_minutes: i32,
    pub signoff_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
