//! A ticket given to a unit (派单) with its stored deadlines.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignee_id: Option<i64>,
    pub status: String,
    pub reopened: bool,
    pub escalated_from_id: Option<i64>,
    pub dispatched_by: Option<i64>,
    pub dispatched_at: DateTimeUtc,
    pub respond_by: DateTimeUtc,
    pub progress_by: DateTimeUtc,
    pub resolve_by: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub first_progress_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
    pub respond_reminded_at: Option<DateTimeUtc>,
    pub respond_urged_at: Option<DateTimeUtc>,
    pub progress_reminded_at: Option<DateTimeUtc>,
    pub progress_urged_at: Option<DateTimeUtc>,
    pub resolve_reminded_at: Option<DateTimeUtc>,
    pub resolve_urged_at: Option<DateTimeUtc>,
    pub respond_remind_at: Option<DateTimeUtc>,
    pub progress_remind_at: Option<DateTimeUtc>,
    pub resolve_remind_at: Option<DateTimeUtc>,
    pub next_check_at: Option<DateTimeUtc>,
    pub escalation_requested_at: Option<DateTimeUtc>,
    pub escalation_decided_at: Option<DateTimeUtc>,
    pub escalation_requested_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub escalation_reason: Option<String>,
    pub escalation_decision: Option<String>,
    pub pause_requested_at: Option<DateTimeUtc>,
    pub pause_requested_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub pause_reason: Option<String>,
    pub pause_resume_on: Option<Date>,
    pub pause_decided_at: Option<DateTimeUtc>,
    pub pause_decision: Option<String>,
    pub pause_decided_by: Option<i64>,
    pub paused_at: Option<DateTimeUtc>,
    pub pause_until: Option<DateTimeUtc>,
    pub paused_minutes: i32,
    pub role: String,
    #[sea_orm(column_type = "Text")]
    pub report_note: Option<String>,
    /// Copies of the ticket's derived `overdue_from` / `late_from` (kept with them): a unit's
    /// overdue and late orders are one range of an index that starts with the unit.
    pub ticket_overdue_from: Option<DateTimeUtc>,
    pub ticket_late_from: Option<DateTimeUtc>,
    /// Copy of the ticket's status (kept with the deadline copies): a unit's orders of one status
    /// are one range of an index that starts with the unit.
    pub ticket_status: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
