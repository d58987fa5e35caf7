//! SLA windows by kind: a policy may name a ticket kind (咨询, 求助, 投诉 …) as well as a category,
//! so that a consultation's result is due sooner than a complaint's. NULL kind = any kind. The
//! index on (category, priority) becomes one on (category, kind, priority); uniqueness is checked
//! by the service (NULLs are distinct in a unique index on both databases).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("sla_policies").add_column(string_null("kind")).to_owned()).await?;
        m.drop_index(Index::drop().name("ix_sla_policies_category_code_priority").table("sla_policies").to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("ix_sla_policies_category_code_kind_priority")
                .table("sla_policies")
                .col("category_code")
                .col("kind")
                .col("priority")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop().name("ix_sla_policies_category_code_kind_priority").table("sla_policies").to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("sla_policies").drop_column("kind").to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_sla_policies_category_code_priority")
                .table("sla_policies")
                .col("category_code")
                .col("priority")
                .to_owned(),
        )
        .await
    }
}
