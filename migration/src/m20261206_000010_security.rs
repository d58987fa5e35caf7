//! Security state that must be shared by every instance: the signing secret generated on first start
//! when none is configured (one row per name, created once under its unique key), and the families
//! of rotating refresh tokens (one per login; a reused token revokes its family).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("app_secrets")
                .col(string("name").primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("refresh_families")
                .col(string("id").primary_key())
                .col(big_integer("staff_id"))
                // The jti of the one refresh token of this family that may still be used.
                .col(string("current_jti"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_null("revoked_reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_refresh_families_staff").table("refresh_families").col("staff_id").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("refresh_families").to_owned()).await?;
        m.drop_table(Table::drop().table("app_secrets").to_owned()).await
    }
}
