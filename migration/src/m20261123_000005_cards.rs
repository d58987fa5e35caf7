//! Cards, issue 5: scan counts per card and county-local day, and at most one active card per village
//! enforced by the database (two concurrent issues cannot both leave an active card behind).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("card_scans")
                .col(big_integer("card_id"))
                // County-local calendar day of the scans (a DATE on both databases).
                .col(date("day"))
                .col(big_integer("scans"))
                .primary_key(Index::create().col("card_id").col("day"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_card_scans_card_id")
                        .from("card_scans", "card_id")
                        .to("cards", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_card_scans_day").table("card_scans").col("day").to_owned()).await?;
        // A partial unique index: the same statement works on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_cards_one_active ON cards (region_id) WHERE status = 'active'")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ux_cards_one_active").await?;
        m.drop_table(Table::drop().table("card_scans").to_owned()).await
    }
}
