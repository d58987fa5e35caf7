//! 未诉先办: a proactive ticket names the requests that raised it (`linked_tickets`). One row per
//! link, written once with the proactive ticket and never changed; a request is found from either
//! side (the proactive ticket's detail lists its requests, a request's detail names its proactive
//! ticket).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("ticket_links")
                .col(big_pk_auto("id"))
                .col(big_integer("proactive_ticket_id"))
                .col(big_integer("linked_ticket_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ticket_links_proactive")
                        .from("ticket_links", "proactive_ticket_id")
                        .to("tickets", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ticket_links_linked")
                        .from("ticket_links", "linked_ticket_id")
                        .to("tickets", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_ticket_links_pair")
                .table("ticket_links")
                .col("proactive_ticket_id")
                .col("linked_ticket_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_ticket_links_linked").table("ticket_links").col("linked_ticket_id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("ticket_links").to_owned()).await
    }
}
