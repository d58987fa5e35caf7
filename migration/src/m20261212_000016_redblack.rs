//! The weekly red/black list (红黑榜): one row per ISO week, written once when published, never
//! changed or deleted (append-only triggers as on `events`), each row hash-chained to the one before.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("redblack_lists")
                .col(big_pk_auto("id"))
                .col(string_uniq("week"))
                .col(timestamp_with_time_zone("published_at"))
                .col(text("payload"))
                .col(text("formula"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION redblack_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'published lists are append-only'; END $$;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER redblack_append_only BEFORE UPDATE OR DELETE ON redblack_lists \
                     FOR EACH ROW EXECUTE FUNCTION redblack_append_only();",
                )
                .await?;
            }
            _ => {
                for (name, op) in [("redblack_no_update", "UPDATE"), ("redblack_no_delete", "DELETE")] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {op} ON redblack_lists \
                         BEGIN SELECT RAISE(ABORT, 'published lists are append-only'); END;"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("redblack_lists").to_owned()).await
    }
}
