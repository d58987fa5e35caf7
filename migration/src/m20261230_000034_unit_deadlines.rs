//! A unit's overdue and late orders at county scale (issue 21): each assignment carries a copy of
//! its ticket's derived deadlines (`ticket_overdue_from`, `ticket_late_from`, kept with them by
//! `repo::tickets::refresh_deadlines`), indexed after the unit. A cadre's "overdue" and "late"
//! counts read the unit's range of that index instead of walking every overdue order of the county
//! and probing each for the unit (254 ms on SQLite at a million when few of them are the unit's).
use crate::derived;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COPIES: [(&str, &str); 2] =
    [("ticket_overdue_from", "ix_assignments_unit_overdue"), ("ticket_late_from", "ix_assignments_unit_late")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (c, _) in COPIES {
            m.alter_table(Table::alter().table("assignments").add_column(timestamp_with_time_zone_null(c)).to_owned())
                .await?;
        }
        let db = m.get_connection();
        db.execute_unprepared(&derived::copy_deadlines_sql("1 = 1")).await?;
        for (c, index) in COPIES {
            // With the ticket: the count reads its ids from the index alone (no row visits).
            db.execute_unprepared(&format!("CREATE INDEX {index} ON assignments (unit_id, {c}, ticket_id)")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (c, index) in COPIES {
            db.execute_unprepared(&format!("DROP INDEX {index}")).await?;
            m.alter_table(Table::alter().table("assignments").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}
