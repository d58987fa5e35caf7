//! Retention: `tickets.anonymized_at` marks a ticket whose requester's personal data the retention
//! job has removed (phone replaced by a placeholder, name, address and openid cleared, uploads
//! deleted). The index serves the job's search for closed tickets not yet anonymised.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("tickets").add_column(timestamp_with_time_zone_null("anonymized_at")).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_tickets_retention")
                .table("tickets")
                .col("anonymized_at")
                .col("status")
                .col("closed_at")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_tickets_retention").table("tickets").to_owned()).await?;
        m.alter_table(Table::alter().table("tickets").drop_column("anonymized_at").to_owned()).await
    }
}
