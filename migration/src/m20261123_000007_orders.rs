//! Work orders in full (issue 7): reminder instants and the sweeper's next check on assignments, the
//! cadre's escalation request, the dispatch deadline on tickets, and the holiday calendar as data
//! (2026 shipped here: 国务院办公厅关于2026年部分节假日安排的通知).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns added to `assignments`. One ALTER per column: SQLite takes one change per statement.
const ASSIGNMENT_TIMES: [&str; 6] = [
    // 80 % of each step's time, computed with the policy's clock when the assignment is created.
    "respond_remind_at",
    "progress_remind_at",
    "resolve_remind_at",
    // The earliest notice still to send; the sweeper's index. NULL once nothing is left to send.
    "next_check_at",
    "escalation_requested_at",
    "escalation_decided_at",
];

/// 2026: (name, first day off, last day off) and the make-up workdays.
const HOLIDAYS_2026: [(&str, &str, &str); 7] = [
    ("元旦", "2026-01-01", "2026-01-03"),
    ("春节", "2026-02-15", "2026-02-23"),
    ("清明节", "2026-04-04", "2026-04-06"),
    ("劳动节", "2026-05-01", "2026-05-05"),
    ("端午节", "2026-06-19", "2026-06-21"),
    ("中秋节", "2026-09-25", "2026-09-27"),
    ("国庆节", "2026-10-01", "2026-10-07"),
];
const WORKDAYS_2026: [(&str, &str); 6] = [
    ("元旦调休", "2026-01-04"),
    ("春节调休", "2026-02-14"),
    ("春节调休", "2026-02-28"),
    ("劳动节调休", "2026-05-09"),
    ("国庆节调休", "2026-09-20"),
    ("国庆节调休", "2026-10-10"),
];

fn add(table: &'static str, col: ColumnDef) -> TableAlterStatement {
    Table::alter().table(table).add_column(col).to_owned()
}

/// Days from `from` to `to` inclusive, for ISO dates within one year (no date library here).
fn days_between(from: &str, to: &str) -> Vec<String> {
    let parse = |s: &str| -> (i32, u32, u32) {
        let p: Vec<&str> = s.split('-').collect();
        (p[0].parse().unwrap_or(0), p[1].parse().unwrap_or(1), p[2].parse().unwrap_or(1))
    };
    let (y, mut m, mut d) = parse(from);
    let end = parse(to);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_len = |m: u32| match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let mut out = vec![];
    while (y, m, d) <= end && out.len() < 40 {
        out.push(format!("{y:04}-{m:02}-{d:02}"));
        d += 1;
        if d > month_len(m) {
            d = 1;
            m += 1;
        }
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ASSIGNMENT_TIMES {
            m.alter_table(add("assignments", timestamp_with_time_zone_null(col))).await?;
        }
        m.alter_table(add("assignments", big_integer_null("escalation_requested_by"))).await?;
        m.alter_table(add("assignments", text_null("escalation_reason"))).await?;
        // approved | refused once the dispatcher has decided.
        m.alter_table(add("assignments", string_null("escalation_decision"))).await?;
        m.alter_table(add("tickets", timestamp_with_time_zone_null("dispatch_by"))).await?;

        let db = m.get_connection();
        // Assignments made before this migration: let the sweeper look at them at once; it falls back
        // to 80 % of natural time where no reminder instant was stored.
        db.execute_unprepared(
            "UPDATE assignments SET next_check_at = dispatched_at WHERE status = 'active' AND next_check_at IS NULL",
        )
        .await?;
        // Only active assignments with something left to send are indexed: the sweeper's scan stays
        // as small as the work that is due, however many assignments exist.
        db.execute_unprepared(
            "CREATE INDEX ix_assignments_next_check ON assignments (next_check_at) \
             WHERE status = 'active' AND next_check_at IS NOT NULL",
        )
        .await?;
        // Overdue and late orders: each missed step is found from a partial index on its deadline.
        for (name, col, open) in [
            ("respond_open", "respond_by", "accepted_at IS NULL"),
            ("progress_open", "progress_by", "first_progress_at IS NULL AND resolved_at IS NULL"),
            ("resolve_open", "resolve_by", "resolved_at IS NULL"),
        ] {
            db.execute_unprepared(&format!(
                "CREATE INDEX ix_assignments_{name} ON assignments ({col}) WHERE status = 'active' AND {open}"
            ))
            .await?;
        }
        // A cadre's list: the tickets ever given to their unit.
        db.execute_unprepared("CREATE INDEX ix_assignments_unit_ticket ON assignments (unit_id, ticket_id)").await?;
        db.execute_unprepared("CREATE INDEX ix_tickets_current_assignment ON tickets (current_assignment_id)").await?;
        // The staff list: newest first within a status, and the waiting-for-dispatch deadline.
        db.execute_unprepared("CREATE INDEX ix_tickets_created_at_id ON tickets (created_at, id)").await?;
        db.execute_unprepared("CREATE INDEX ix_tickets_category_created ON tickets (category_code, created_at)")
            .await?;
        db.execute_unprepared("CREATE INDEX ix_tickets_unit_created ON tickets (unit_id, created_at)").await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // LIKE 'prefix%' on the region path uses a btree only with pattern ops (or the "C" collation).
            db.execute_unprepared(
                "CREATE INDEX ix_tickets_region_path_pattern ON tickets (region_path text_pattern_ops)",
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table("calendar_years")
                .col(integer("year").primary_key())
                .col(text_null("source"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("calendar_days")
                .col(big_pk_auto("id"))
                .col(integer("year"))
                // ISO date "YYYY-MM-DD": the same text on both databases, compared as text.
                .col(string("day"))
                // holiday (a statutory day off) or workday (a make-up working day on a weekend).
                .col(string("kind"))
                .col(string("name"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_calendar_days_day").table("calendar_days").col("day").unique().to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_calendar_days_year").table("calendar_days").col("year").to_owned())
            .await?;

        let mut rows: Vec<(String, &str, &str)> = vec![];
        for (name, from, to) in HOLIDAYS_2026 {
            rows.extend(days_between(from, to).into_iter().map(|d| (d, "holiday", name)));
        }
        rows.extend(WORKDAYS_2026.iter().map(|(name, d)| (String::from(*d), "workday", *name)));
        let mut insert = Query::insert();
        insert.into_table("calendar_days").columns(["year", "day", "kind", "name"]);
        for (day, kind, name) in rows {
            insert.values_panic([2026.into(), day.into(), kind.into(), name.into()]);
        }
        m.exec_stmt(insert).await?;
        let year = Query::insert()
            .into_table("calendar_years")
            .columns(["year", "source", "updated_at"])
            .values_panic([
                2026.into(),
                "国务院办公厅关于2026年部分节假日安排的通知（2025-11-04）".into(),
                Expr::current_timestamp(),
            ])
            .to_owned();
        m.exec_stmt(year).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_ranges_cross_month_ends() {
        assert_eq!(super::days_between("2026-02-15", "2026-02-23").len(), 9);
        assert_eq!(super::days_between("2026-09-30", "2026-10-02"), ["2026-09-30", "2026-10-01", "2026-10-02"]);
    }
}
