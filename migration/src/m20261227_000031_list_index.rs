//! The staff list at county scale (issue 21): the current step's deadlines kept on the ticket row
//! (`overdue_from`, `late_from`: overdue / late is one indexed range) and a text index of each
//! ticket's number, description and address by character pairs (`ticket_search`: an FTS5 table on
//! SQLite, a GIN-indexed array on PostgreSQL), both filled here for existing tickets.
use crate::derived;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tickets read per statement while filling the text index.
const BATCH: i64 = 1000;

/// Writes the text index rows of a few tickets: (id, tokens).
pub async fn insert_search_rows<C: ConnectionTrait>(db: &C, rows: &[(i64, Vec<String>)]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 2);
    let mut sql = match backend {
        DbBackend::Sqlite => String::from("INSERT INTO ticket_search (rowid, grams) VALUES "),
        _ => String::from("INSERT INTO ticket_search (ticket_id, grams) VALUES "),
    };
    for (k, (id, tokens)) in rows.iter().enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        let n = values.len();
        match backend {
            DbBackend::Sqlite => sql.push_str(&format!("(${}, ${})", n + 1, n + 2)),
            _ => sql.push_str(&format!("(${}, string_to_array(${}, ' '))", n + 1, n + 2)),
        }
        values.push((*id).into());
        values.push(tokens.join(" ").into());
    }
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in ["overdue_from", "late_from"] {
            m.alter_table(Table::alter().table("tickets").add_column(timestamp_with_time_zone_null(c)).to_owned())
                .await?;
        }
        let db = m.get_connection();
        db.execute_unprepared(&derived::refresh_deadlines_sql("1 = 1")).await?;
        db.execute_unprepared("CREATE INDEX ix_tickets_overdue_from ON tickets (overdue_from)").await?;
        db.execute_unprepared("CREATE INDEX ix_tickets_late_from ON tickets (late_from)").await?;
        let backend = m.get_database_backend();
        match backend {
            DbBackend::Sqlite => {
                // Contentless (the text stays in `tickets`), rows deletable, no positions: a search
                // is an AND of its character pairs, checked against the text itself afterwards.
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE ticket_search USING fts5(grams, content='', contentless_delete=1, \
                     detail=none)",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TABLE ticket_search (ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id) \
                     ON DELETE CASCADE, grams TEXT[] NOT NULL)",
                )
                .await?;
                db.execute_unprepared("CREATE INDEX ix_ticket_search_grams ON ticket_search USING GIN (grams)").await?;
            }
        }
        let mut after = 0i64;
        loop {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT id, no, description, address FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
                    [after.into(), BATCH.into()],
                ))
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get::<i64>("", "id")?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let text = derived::ticket_text(
                    &r.try_get::<String>("", "no")?,
                    &r.try_get::<String>("", "description")?,
                    r.try_get::<Option<String>>("", "address")?.as_deref(),
                );
                out.push((r.try_get::<i64>("", "id")?, derived::bigrams(&text)));
            }
            insert_search_rows(db, &out).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP TABLE ticket_search").await?;
        db.execute_unprepared("DROP INDEX ix_tickets_late_from").await?;
        db.execute_unprepared("DROP INDEX ix_tickets_overdue_from").await?;
        for c in ["late_from", "overdue_from"] {
            m.alter_table(Table::alter().table("tickets").drop_column(c).to_owned()).await?;
        }
        Ok(())
    }
}
