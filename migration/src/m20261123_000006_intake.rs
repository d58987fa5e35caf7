//! Villager intake: tickets filed from the WeChat mini-program remember the requester's openid, so
//! `GET /api/v1/me/tickets` finds them.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("tickets").add_column(string_null("requester_openid")).to_owned()).await?;
        m.create_index(
            Index::create().name("ix_tickets_requester_openid").table("tickets").col("requester_openid").to_owned(),
        )
        .await?;
        Ok(())
    }
}
