//! The city 12345 platform as a source of orders: which upstream order became which ticket (the
//! unique upstream id is what makes pulling idempotent, also between two workers racing on the same
//! order) with the upstream's deadline, and the pull cursor the platform hands back page by page.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("upstream_orders")
                .col(big_pk_auto("id"))
                .col(string("upstream_id"))
                .col(big_integer("ticket_id"))
                .col(string_null("region_code"))
                .col(timestamp_with_time_zone_null("deadline"))
                .col(timestamp_with_time_zone("pulled_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_upstream_orders_ticket")
                        .from("upstream_orders", "ticket_id")
                        .to("tickets", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_upstream_orders_upstream_id")
                .table("upstream_orders")
                .col("upstream_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_upstream_orders_ticket")
                .table("upstream_orders")
                .col("ticket_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("upstream_cursors")
                .col(ColumnDef::new("name").string().not_null().primary_key())
                .col(string_null("cursor"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("upstream_cursors").to_owned()).await?;
        m.drop_table(Table::drop().table("upstream_orders").to_owned()).await
    }
}
