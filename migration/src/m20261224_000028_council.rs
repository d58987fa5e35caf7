//! 三老合议 and 下交签批: the village council's members (per village region), the desk's requests to
//! refer a ticket to the council with the leader's decision on each, and the council's published
//! decisions as the public village notice page shows them (copied out of the ledger at decision
//! time, free text already masked, so the public page never reads a ticket or its requester).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("council_members")
                .col(big_pk_auto("id"))
                .col(big_integer("region_id"))
                .col(string("name"))
                .col(string("title"))
                .col(string_null("phone"))
                .col(boolean("active").default(true))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_council_members_region")
                        .from("council_members", "region_id")
                        .to("regions", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_council_members_region").table("council_members").col("region_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("refer_requests")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(text("reason"))
                .col(big_integer_null("requested_by"))
                .col(timestamp_with_time_zone("requested_at"))
                .col(string_null("decision"))
                .col(text_null("decision_note"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_refer_requests_ticket")
                        .from("refer_requests", "ticket_id")
                        .to("tickets", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refer_requests_ticket_decided")
                .table("refer_requests")
                .col("ticket_id")
                .col("decided_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("council_notices")
                .col(big_pk_auto("id"))
                .col(big_integer("region_id"))
                .col(big_integer("ticket_id"))
                .col(string("category_code"))
                .col(text("decision"))
                .col(text("members"))
                .col(timestamp_with_time_zone("decided_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_council_notices_region")
                        .from("council_notices", "region_id")
                        .to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_council_notices_ticket")
                        .from("council_notices", "ticket_id")
                        .to("tickets", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_council_notices_region_decided")
                .table("council_notices")
                .col("region_id")
                .col("decided_at")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("council_notices").to_owned()).await?;
        m.drop_table(Table::drop().table("refer_requests").to_owned()).await?;
        m.drop_table(Table::drop().table("council_members").to_owned()).await
    }
}
