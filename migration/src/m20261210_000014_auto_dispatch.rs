//! A category may be dispatched by the system: a card intake in it goes at once to the unit that
//! routing suggests (issue 16 point 5), without waiting for a dispatcher. A category may also hint
//! the kind of request it usually is (咨询, 投诉, …): a request that names no kind takes it.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("categories").add_column(boolean("auto_dispatch").default(false)).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("categories").add_column(string_null("default_kind")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("categories").drop_column("default_kind").to_owned()).await?;
        m.alter_table(Table::alter().table("categories").drop_column("auto_dispatch").to_owned()).await
    }
}
