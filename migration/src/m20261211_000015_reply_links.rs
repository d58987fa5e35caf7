//! The operators' queue of SMS replies: how a reply was taken off the queue (a note only, linked to
//! an existing ticket, or a new ticket filed from it) and which ticket it then went to.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        m.alter_table(Table::alter().table("sms_replies").add_column(string_null("handled_as")).to_owned()).await?;
        m.alter_table(Table::alter().table("sms_replies").add_column(big_integer_null("handled_ticket_id")).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("sms_replies").drop_column("handled_ticket_id").to_owned()).await?;
        m.alter_table(Table::alter().table("sms_replies").drop_column("handled_as").to_owned()).await
    }
}
