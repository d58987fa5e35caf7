//! E-mail through the outbox: a `dedup_key` on outbox rows, unique where set, so a message that must
//! go once (the weekly report of a week to one leader) is written once however many instances try.
//! SMS rows leave it empty (NULLs never collide in a unique index, on SQLite or PostgreSQL).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("outbox").add_column(string_null("dedup_key")).to_owned()).await?;
        m.create_index(Index::create().name("ix_outbox_dedup_key").table("outbox").col("dedup_key").unique().to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_outbox_dedup_key").table("outbox").to_owned()).await?;
        m.alter_table(Table::alter().table("outbox").drop_column("dedup_key").to_owned()).await
    }
}
