//! The core schema: the region tree, units and staff, categories and SLA policies, cards, tickets with
//! their assignments and hash-chained events, return visits, the outbox, uploads and idempotency keys.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", cols.join("_"))).table(table);
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("regions")
                .col(big_pk_auto("id"))
                .col(big_integer_null("parent_id"))
                .col(string("level"))
                .col(string("name"))
                .col(string_null("code"))
                // Materialised path "/1/4/9/" so scope checks are one prefix comparison.
                .col(string("path"))
                .col(string_null("hotline"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("regions", "parent_id", "regions"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("regions", &["parent_id"])).await?;
        m.create_index(index("regions", &["path"])).await?;

        m.create_table(
            Table::create()
                .table("units")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("level"))
                .col(string("kind"))
                .col(big_integer("region_id"))
                // The unit that answers for its region: target of escalation from the level below.
                .col(boolean("is_lead").default(false))
                .col(string_null("phone"))
                .col(boolean("active").default(true))
                .col(ts("created_at"))
                .foreign_key(&mut fk("units", "region_id", "regions"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("units", &["region_id"])).await?;

        m.create_table(
            Table::create()
                .table("staff")
                .col(big_pk_auto("id"))
                .col(string_uniq("username"))
                .col(string("name"))
                .col(string("password_hash"))
                .col(string("roles"))
                .col(big_integer("region_id"))
                .col(big_integer_null("unit_id"))
                .col(string_null("phone"))
                .col(string_null("post"))
                .col(boolean("active").default(true))
                .col(integer("failed_logins").default(0))
                .col(ts_null("locked_until"))
                .col(integer("token_version").default(0))
                .col(ts("created_at"))
                .foreign_key(&mut fk("staff", "region_id", "regions"))
                .foreign_key(&mut fk("staff", "unit_id", "units"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("staff", &["unit_id"])).await?;

        m.create_table(
            Table::create()
                .table("categories")
                .col(string("code").primary_key())
                .col(string("name"))
                .col(string_null("parent_code"))
                // Default handling level (小事村办、难事乡镇担、大事县管): village, township or county.
                .col(string("level"))
                .col(integer("sort").default(0))
                .col(boolean("active").default(true))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sla_policies")
                .col(big_pk_auto("id"))
                .col(string("name"))
                // NULL category = the county default; a category's policy also covers its children.
                .col(string_null("category_code"))
                .col(string("priority"))
                .col(string("clock").default("natural"))
                .col(integer("register_minutes"))
                .col(integer("dispatch_minutes"))
                .col(integer("respond_minutes"))
                .col(integer("progress_minutes"))
                .col(integer("resolve_minutes"))
                .col(integer("visit_minutes"))
                .col(boolean("signoff_required").default(false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sla_policies", &["category_code", "priority"])).await?;

        m.create_table(
            Table::create()
                .table("cards")
                .col(big_pk_auto("id"))
                .col(string_uniq("code"))
                .col(big_integer("region_id"))
                .col(integer("version"))
                .col(string("status"))
                .col(text("contacts"))
                .col(string("hotline"))
                .col(big_integer_null("issued_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("rotated_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk("cards", "region_id", "regions"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("cards", &["region_id", "status"])).await?;

        m.create_table(
            Table::create()
                .table("ticket_counters")
                .col(string("day").primary_key())
                .col(big_integer("last"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("tickets")
                .col(big_pk_auto("id"))
                .col(string_uniq("no"))
                .col(string("status"))
                .col(string("kind"))
                .col(string("category_code"))
                .col(string("channel"))
                .col(string("priority"))
                .col(text("description"))
                .col(string_null("requester_name"))
                .col(string("requester_phone"))
                .col(string_null("address"))
                .col(double_null("lat"))
                .col(double_null("lng"))
                .col(big_integer("region_id"))
                .col(string("region_path"))
                .col(big_integer_null("card_id"))
                .col(big_integer_null("unit_id"))
                .col(big_integer_null("current_assignment_id"))
                .col(big_integer_null("repeat_of_id"))
                .col(integer("repeat_count").default(0))
                .col(big_integer_null("merged_into_id"))
                .col(boolean("signoff_required").default(false))
                // Last ledger sequence number and hash: the version for conditional updates.
                .col(integer("event_seq").default(0))
                .col(string("last_hash"))
                .col(big_integer_null("created_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("register_by"))
                .col(ts_null("registered_at"))
                .col(ts_null("first_dispatched_at"))
                .col(ts_null("resolved_at"))
                .col(ts_null("visit_by"))
                .col(ts_null("closed_at"))
                .foreign_key(&mut fk("tickets", "region_id", "regions"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tickets_category_code")
                        .from("tickets", "category_code")
                        .to("categories", "code")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("tickets", &["status", "created_at"])).await?;
        m.create_index(index("tickets", &["region_path", "created_at"])).await?;
        m.create_index(index("tickets", &["unit_id", "status"])).await?;
        m.create_index(index("tickets", &["requester_phone", "created_at"])).await?;
        m.create_index(index("tickets", &["first_dispatched_at"])).await?;

        m.create_table(
            Table::create()
                .table("assignments")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer("unit_id"))
                .col(big_integer_null("assignee_id"))
                // active while it is the ticket's current assignment; then returned, escalated,
                // completed or superseded.
                .col(string("status"))
                .col(boolean("reopened").default(false))
                .col(big_integer_null("escalated_from_id"))
                .col(big_integer_null("dispatched_by"))
                .col(ts("dispatched_at"))
                .col(ts("respond_by"))
                .col(ts("progress_by"))
                .col(ts("resolve_by"))
                .col(ts_null("accepted_at"))
                .col(ts_null("first_progress_at"))
                .col(ts_null("resolved_at"))
                .col(ts_null("ended_at"))
                .col(string_null("end_reason"))
                .col(ts_null("respond_reminded_at"))
                .col(ts_null("respond_urged_at"))
                .col(ts_null("progress_reminded_at"))
                .col(ts_null("progress_urged_at"))
                .col(ts_null("resolve_reminded_at"))
                .col(ts_null("resolve_urged_at"))
                .foreign_key(&mut fk("assignments", "ticket_id", "tickets"))
                .foreign_key(&mut fk("assignments", "unit_id", "units"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("assignments", &["ticket_id"])).await?;
        m.create_index(index("assignments", &["unit_id", "dispatched_at"])).await?;
        m.create_index(index("assignments", &["status", "respond_by"])).await?;

        m.create_table(
            Table::create()
                .table("events")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(integer("seq"))
                .col(string("action"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(string("actor_kind"))
                .col(big_integer_null("actor_id"))
                .col(string("actor_name"))
                .col(text_null("note"))
                // Canonical JSON text (not jsonb): the hash covers these exact bytes.
                .col(text("data"))
                .col(boolean("public"))
                .col(ts("at"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .foreign_key(&mut fk("events", "ticket_id", "tickets"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("events", &["ticket_id", "seq"]).unique().to_owned()).await?;
        m.create_index(index("events", &["action", "at"])).await?;

        m.create_table(
            Table::create()
                .table("return_visits")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer_null("assignment_id"))
                .col(big_integer_null("unit_id"))
                .col(big_integer_null("caller_id"))
                .col(string("channel"))
                .col(boolean("reached"))
                .col(string_null("solved"))
                .col(string_null("satisfaction"))
                .col(integer_null("score_attitude"))
                .col(integer_null("score_capability"))
                .col(integer_null("score_convenience"))
                .col(integer_null("score_efficiency"))
                .col(text_null("comment"))
                // False once an appeal against this visit is upheld: it leaves the unit's rates.
                .col(boolean("counted").default(true))
                .col(ts("at"))
                .foreign_key(&mut fk("return_visits", "ticket_id", "tickets"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("return_visits", &["ticket_id", "at"])).await?;

        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(string("channel"))
                .col(string("recipient"))
                .col(text("body"))
                .col(string("template"))
                .col(text("params"))
                .col(big_integer_null("ticket_id"))
                .col(boolean("urgent").default(false))
                .col(string("status"))
                .col(integer("attempts").default(0))
                .col(ts("next_attempt_at"))
                .col(ts_null("locked_until"))
                .col(text_null("last_error"))
                .col(string_null("provider"))
                .col(string_null("provider_message_id"))
                .col(ts("created_at"))
                .col(ts_null("sent_at"))
                .col(ts_null("delivered_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("outbox", &["status", "next_attempt_at"])).await?;
        m.create_index(index("outbox", &["ticket_id"])).await?;

        m.create_table(
            Table::create()
                .table("uploads")
                .col(string("id").primary_key())
                .col(string("kind"))
                .col(string("mime"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(string("storage_path"))
                .col(big_integer_null("ticket_id"))
                .col(string("uploader_kind"))
                .col(string_null("uploader_ref"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("uploads", &["ticket_id"])).await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("scope"))
                .col(string("key"))
                .col(string("request_hash"))
                .col(integer("status_code"))
                .col(text("response"))
                .col(ts("created_at"))
                .primary_key(Index::create().col("scope").col("key"))
                .to_owned(),
        )
        .await?;

        // The ledger is append-only: the database itself refuses to change or delete an event.
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'events are append-only'; END $$;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events \
                     FOR EACH ROW EXECUTE FUNCTION events_append_only();",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events \
                     BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events \
                     BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
                )
                .await?;
            }
        }
        Ok(())
    }
}
