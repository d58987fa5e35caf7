//! A message waiting to be sent, written in the transaction that caused it.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub template: String,
    #[sea_orm(column_type = "Text")]
    pub params: String,
    pub ticket_id: Option<i64>,
    pub urgent: bool,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub last_error: Option<String>,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    /// The provider's delivery-receipt code (`DELIVERED`, `DELIVRD`, or the failure code).
    pub receipt_code: Option<String>,
    pub receipt_at: Option<DateTimeUtc>,
    /// Set on a message that must be written once (the weekly report of a week to one leader):
    /// unique where set.
    pub dedup_key: Option<String>,
    /// The last send may have reached a provider (timeout, or a worker died holding the claim):
    /// since when; the worker asks before sending again.
    pub doubt_since: Option<DateTimeUtc>,
    /// The provider that may have it (none: any configured provider).
    pub doubt_provider: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
