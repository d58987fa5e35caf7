//! The subject tree of requests, each with a default handling level.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub sort: i32,
    pub active: bool,
    /// The unit that handles this category at its level, when the county names one (a county
    /// department for a county-level category); children without one inherit their parent's.
    pub unit_id: Option<i64>,
    /// A card intake in this category is dispatched at once to the suggested unit, by the system.
    pub auto_dispatch: bool,
    /// The kind a request in this category usually is (`domain::values::Kind`), taken when the
    /// request names none.
    pub default_kind: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
