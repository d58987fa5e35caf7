//! An SMS a phone sent us, how it was handled, and (when no rule applied) its place in the
//! operators' queue.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sms_replies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub dedup_key: String,
    pub phone: String,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub received_at: DateTimeUtc,
    pub outcome: String,
    #[sea_orm(column_type = "Text")]
    pub detail: Option<String>,
    pub ticket_id: Option<i64>,
    pub outbox_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub queue_status: Option<String>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub handled_note: Option<String>,
    /// `noted`, `linked` (to an existing ticket) or `filed` (a new ticket filed from it).
    pub handled_as: Option<String>,
    pub handled_ticket_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
