//! Open311 API keys: an admin gives one to an outside application (a city app, a partner's
//! platform) so it can file requests through the GeoReport v2 facade. As with screen tokens only
//! the SHA-256 of a key is kept, and revoking stamps `revoked_at` (kept for the ledger's sake:
//! tickets filed with a key name it). Each key carries its own intake limits.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("open311_keys")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("key_hash"))
                .col(integer("per_minute"))
                .col(integer("per_day"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_open311_keys_created_by")
                        .from("open311_keys", "created_by")
                        .to("staff", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_open311_keys_key_hash").table("open311_keys").col("key_hash").unique().to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("open311_keys").to_owned()).await
    }
}
