//! The staff list at county scale, second part (issue 21): an index for the combination that still
//! scanned at a million tickets. `(status, category_code, created_at)` answers a status with a
//! category, and proves an empty combination in a few index probes instead of a scan of the
//! status. On PostgreSQL, statistics of status and category together: the two are not
//! independent, and a planner that multiplies their shares expects thousands of matches where
//! there are none, and scans.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_tickets_status_category_created ON tickets (status, category_code, created_at)",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "CREATE STATISTICS st_tickets_status_category (mcv, dependencies) ON status, category_code FROM tickets",
            )
            .await?;
        }
        db.execute_unprepared("ANALYZE tickets").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP STATISTICS st_tickets_status_category").await?;
        }
        db.execute_unprepared("DROP INDEX ix_tickets_status_category_created").await?;
        Ok(())
    }
}
