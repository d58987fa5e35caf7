//! 联合办理: an order given to a lead unit and assisting units. Each assisting unit holds its own
//! assignment (`role = 'assist'`) with its own deadlines; its report (协办反馈) is kept on the row.
//! Every existing assignment is a lead one.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "assignments";

fn columns() -> Vec<ColumnDef> {
    vec![string_len("role", 16).default("lead").to_owned(), text_null("report_note")]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for mut c in columns() {
            m.alter_table(Table::alter().table(TABLE).add_column(&mut c).to_owned()).await?;
        }
        // The assisting parts of a ticket are looked up with the ticket's assignments; the open
        // ones by role and status for the lead's resolve guard.
        m.create_index(
            Index::create().name("ix_assignments_ticket_role").table(TABLE).col("ticket_id").col("role").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_assignments_ticket_role").table(TABLE).to_owned()).await?;
        for c in columns().into_iter().rev() {
            m.alter_table(Table::alter().table(TABLE).drop_column(c.get_column_name()).to_owned()).await?;
        }
        Ok(())
    }
}
