//! How often a card's QR code was opened on one county-local day (written by the card_scans worker).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "card_scans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub card_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub scans: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
