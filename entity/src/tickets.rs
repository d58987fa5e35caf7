//! One citizen request (工单) and its current state.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub no: String,
    pub status: String,
    pub kind: String,
    pub category_code: String,
    pub channel: String,
    pub priority: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub requester_name: Option<String>,
    pub requester_phone: String,
    pub requester_openid: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub region_id: i64,
    pub region_path: String,
    pub card_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub current_assignment_id: Option<i64>,
    pub repeat_of_id: Option<i64>,
    pub repeat_count: i32,
    pub merged_into_id: Option<i64>,
    pub signoff_required: bool,
    pub event_seq: i32,
    pub last_hash: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub register_by: Option<DateTimeUtc>,
    pub registered_at: Option<DateTimeUtc>,
    pub first_dispatched_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub visit_by: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub dispatch_by: Option<DateTimeUtc>,
    /// When the retention job removed the requester's personal data (`None`: not anonymised).
    pub anonymized_at: Option<DateTimeUtc>,
    /// Derived (kept by every change of the ticket): from when the lead assignment's open response
    /// or result deadline has passed. `overdue` at `now` is `overdue_from < now`.
    pub overdue_from: Option<DateTimeUtc>,
    /// Derived likewise: from when the current step (registration, dispatch, the lead unit's
    /// steps, the return visit) is late. `late` at `now` is `late_from < now`.
    pub late_from: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
