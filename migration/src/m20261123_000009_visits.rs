//! Return visits: the calling task of each resolved ticket (tries, next try, the caller's lease),
//! the log of who saw a requester's full phone number, and units' appeals against dissatisfied visits.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("visit_tasks")
                .col(big_integer("ticket_id").primary_key())
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone_null("next_try_at"))
                // due, unreachable
                .col(string("status"))
                .col(big_integer_null("claimed_by"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_visit_tasks_status")
                .table("visit_tasks")
                .col("status")
                .col("next_try_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("phone_access_log")
                .col(big_pk_auto("id"))
                .col(big_integer("staff_id"))
                .col(big_integer("ticket_id"))
                .col(string("purpose"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_phone_access_log_ticket").table("phone_access_log").col("ticket_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("appeals")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer("visit_id"))
                .col(big_integer("unit_id"))
                .col(text("reason"))
                .col(text("upload_ids"))
                // pending, upheld, rejected
                .col(string("status"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decision_note"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_appeals_visit").table("appeals").col("visit_id").to_owned()).await?;
        m.create_index(Index::create().name("ix_appeals_status").table("appeals").col("status").to_owned()).await?;
        m.create_index(
            Index::create().name("ix_return_visits_unit").table("return_visits").col("unit_id").col("at").to_owned(),
        )
        .await?;
        // The latest visit of each assignment (per-unit rates).
        m.create_index(
            Index::create()
                .name("ix_return_visits_assignment")
                .table("return_visits")
                .col("assignment_id")
                .col("id")
                .to_owned(),
        )
        .await?;

        Ok(())
    }
}
