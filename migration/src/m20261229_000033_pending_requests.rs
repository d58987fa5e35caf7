//! The work list's "waiting for a leader" counts at county scale (issue 21): a request to pause
//! (挂起) or to escalate (提级) that nobody has decided yet is found from a partial index of the
//! few assignments in that state, instead of a scan of every assignment (265 ms at a million
//! orders, in every `GET /tickets/counts`). The list writes the same three conditions as literals
//! (`repo::tickets::request_pending_condition`), which is what lets a planner use these indexes.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] = [
    ("ix_assignments_pause_pending", "pause_requested_at IS NOT NULL AND pause_decided_at IS NULL"),
    ("ix_assignments_escalation_pending", "escalation_requested_at IS NOT NULL AND escalation_decided_at IS NULL"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, open) in INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON assignments (id) WHERE status = 'active' AND {open}"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
