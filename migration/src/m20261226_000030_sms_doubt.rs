//! An SMS whose last send may have reached its provider (a timeout after the request went out, or a
//! worker that died holding the claim): since when, and at which provider (none: any of them). The
//! worker asks the provider before sending it again.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "outbox";

fn columns() -> Vec<ColumnDef> {
    vec![timestamp_with_time_zone_null("doubt_since"), string_null("doubt_provider")]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for mut c in columns() {
            m.alter_table(Table::alter().table(TABLE).add_column(&mut c).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in columns().into_iter().rev() {
            m.alter_table(Table::alter().table(TABLE).drop_column(c.get_column_name()).to_owned()).await?;
        }
        Ok(())
    }
}
