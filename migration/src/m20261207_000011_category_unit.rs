//! A category may name the unit that handles it at its level (县住房和城乡建设局 for housing, …), so
//! the dispatcher is offered that department rather than the county centre.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("categories").add_column(big_integer_null("unit_id")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("categories").drop_column("unit_id").to_owned()).await
    }
}
