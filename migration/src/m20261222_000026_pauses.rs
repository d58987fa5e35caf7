//! 挂起: a unit's request to pause an order's clock and the leader's decision, kept on the
//! assignment that holds the order. While `paused_at` is set the order is paused until
//! `pause_until` (the sweeper resumes it then); `paused_minutes` adds up every pause of the
//! assignment, for the rankings' paused days per unit.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "assignments";

fn columns() -> Vec<ColumnDef> {
    vec![
        timestamp_with_time_zone_null("pause_requested_at"),
        big_integer_null("pause_requested_by"),
        text_null("pause_reason"),
        date_null("pause_resume_on"),
        timestamp_with_time_zone_null("pause_decided_at"),
        string_null("pause_decision"),
        big_integer_null("pause_decided_by"),
        timestamp_with_time_zone_null("paused_at"),
        timestamp_with_time_zone_null("pause_until"),
        integer("paused_minutes").default(0).to_owned(),
    ]
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
