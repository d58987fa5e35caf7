//! WeChat subscribe messages (订阅消息): each template a villager accepted in the mini-program
//! (`wx.requestSubscribeMessage`) for one of their tickets allows ONE message. A row per accepted
//! tap; `used_at` is set, with the outbox row that used it, when a message is written for it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("wechat_subscriptions")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(string("openid"))
                .col(string("template_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(big_integer_null("outbox_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_wechat_subscriptions_ticket")
                        .from("wechat_subscriptions", "ticket_id")
                        .to("tickets", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_wechat_subscriptions_ticket_template")
                .table("wechat_subscriptions")
                .col("ticket_id")
                .col("template_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("wechat_subscriptions").to_owned()).await
    }
}
