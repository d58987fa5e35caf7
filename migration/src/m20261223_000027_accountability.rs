//! Accountability records (追责红线): one row per breach of a configured rule, for the inspectors to
//! review and close. `breach_key` is unique, so several workers checking the same rules insert one
//! row per breach (insert … on conflict do nothing). Evidence is the ledger events that prove the
//! breach (JSON text of `{event_id, seq, action, at}`); the ticket's own ledger is not touched.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("accountability_records")
                .col(big_pk_auto("id"))
                .col(string("rule"))
                .col(string("breach_key"))
                .col(big_integer("ticket_id"))
                .col(big_integer("unit_id"))
                .col(big_integer_null("assignment_id"))
                .col(string("region_path"))
                .col(text("evidence"))
                .col(string("status"))
                .col(string_null("decision"))
                .col(text_null("decision_note"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(timestamp_with_time_zone("breached_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_accountability_records_ticket")
                        .from("accountability_records", "ticket_id")
                        .to("tickets", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_accountability_records_unit")
                        .from("accountability_records", "unit_id")
                        .to("units", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_accountability_records_breach_key")
                .table("accountability_records")
                .col("breach_key")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_accountability_records_rule_assignment")
                .table("accountability_records")
                .col("rule")
                .col("assignment_id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_accountability_records_status_created")
                .table("accountability_records")
                .col("status")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_accountability_records_unit_breached")
                .table("accountability_records")
                .col("unit_id")
                .col("breached_at")
                .to_owned(),
        )
        .await?;
        // The worker's scans of passed deadlines (all assignments, not only active ones: a late
        // acceptance or a late result is a breach after the order ended too).
        m.create_index(
            Index::create().name("ix_assignments_respond_by").table("assignments").col("respond_by").to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_assignments_resolve_by").table("assignments").col("resolve_by").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_assignments_resolve_by").table("assignments").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_assignments_respond_by").table("assignments").to_owned()).await?;
        m.drop_table(Table::drop().table("accountability_records").to_owned()).await
    }
}
