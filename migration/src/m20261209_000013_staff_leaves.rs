//! Leave with a deputy (请假与代理): while a cadre is away, new orders, their SMS and the contact
//! cards go to the deputy. A cancelled leave keeps its row (the audit log and the ledger refer to it).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staff_leaves")
                .col(big_pk_auto("id"))
                .col(big_integer("staff_id"))
                .col(big_integer("deputy_id"))
                .col(timestamp_with_time_zone("from"))
                .col(timestamp_with_time_zone("to"))
                .col(string("reason"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("cancelled_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_staff_leaves_staff").table("staff_leaves").col("staff_id").col("to").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("staff_leaves").to_owned()).await
    }
}
