//! Screen tokens: a hall's big-screen PC shows the dashboard of one region without anyone's
//! password. Only the SHA-256 of each token is kept; revoking stamps `revoked_at` (kept for the
//! audit trail, never deleted).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("screens")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(big_integer("region_id"))
                .col(string("token_hash"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(
                    ForeignKey::create().name("fk_screens_region").from("screens", "region_id").to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create().name("fk_screens_created_by").from("screens", "created_by").to("staff", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_screens_token_hash").table("screens").col("token_hash").unique().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("screens").to_owned()).await
    }
}
