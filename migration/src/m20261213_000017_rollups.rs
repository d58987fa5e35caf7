//! Statistics roll-ups (issue 17): what each ticket and each assignment contributes to the counts
//! behind the rates ("parts", one row per ticket and per assignment, with the time at which a
//! deadline will change them), and their sums per local day — tickets per region × category,
//! assignments per unit × region × category — and the same sums per region and per unit. Written in the transaction of every change of a ticket;
//! rebuilt from scratch by the application when `stats_rollup_state` is empty.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counted columns of parts and day rows (the application reads and writes them in this order).
pub const COUNTS: [&str; 21] = [
    "received",
    "dispatched",
    "response_due",
    "responded_in_time",
    "resolved_or_closed",
    "resolutions",
    "reopenings",
    "visited",
    "solved",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "overdue",
    "attitude_sum",
    "attitude_count",
    "capability_sum",
    "capability_count",
    "convenience_sum",
    "convenience_count",
    "efficiency_sum",
    "efficiency_count",
];

fn table(name: &str, keys: &[&str], primary: &[&str], recheck: bool) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name));
    for k in keys {
        let mut c = ColumnDef::new(Alias::new(*k));
        if *k == "category_code" {
            c.string();
        } else {
            c.big_integer();
        }
        t.col(c.not_null());
    }
    for c in COUNTS {
        t.col(ColumnDef::new(Alias::new(c)).big_integer().not_null().default(0));
    }
    if recheck {
        // Seconds since 1970 (UTC), compared with an integer on both databases.
        t.col(ColumnDef::new(Alias::new("recheck_at")).big_integer().null());
    }
    let mut pk = Index::create();
    for p in primary {
        pk.col(Alias::new(*p));
    }
    t.primary_key(&mut pk);
    t.to_owned()
}

fn index(name: &str, table: &str, col: &str) -> IndexCreateStatement {
    Index::create().name(name).table(Alias::new(table)).col(Alias::new(col)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let ticket_key = ["day", "region_id", "category_code"];
        let order_key = ["day", "unit_id", "region_id", "category_code"];
        let ticket_part = ["ticket_id", "day", "region_id", "category_code"];
        let order_part = ["assignment_id", "ticket_id", "day", "unit_id", "region_id", "category_code"];
        m.create_table(table("stats_ticket_parts", &ticket_part, &["ticket_id"], true)).await?;
        m.create_table(table("stats_order_parts", &order_part, &["assignment_id"], true)).await?;
        m.create_table(table("stats_ticket_days", &ticket_key, &ticket_key, false)).await?;
        m.create_table(table("stats_order_days", &order_key, &order_key, false)).await?;
        // The same sums without region and category: what a county's summary and ranking read.
        m.create_table(table("stats_region_days", &["day", "region_id"], &["day", "region_id"], false)).await?;
        m.create_table(table("stats_unit_days", &["day", "unit_id"], &["day", "unit_id"], false)).await?;
        m.create_index(index("stats_ticket_parts_recheck", "stats_ticket_parts", "recheck_at")).await?;
        m.create_index(index("stats_order_parts_recheck", "stats_order_parts", "recheck_at")).await?;
        m.create_index(index("stats_order_parts_ticket", "stats_order_parts", "ticket_id")).await?;
        m.create_table(
            Table::create()
                .table(Alias::new("stats_rollup_state"))
                .col(ColumnDef::new(Alias::new("id")).integer().not_null().primary_key())
                .col(ColumnDef::new(Alias::new("offset_seconds")).integer().not_null())
                .col(ColumnDef::new(Alias::new("built_at")).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in
            ["stats_rollup_state", "stats_order_days", "stats_ticket_days", "stats_order_parts", "stats_ticket_parts"]
        {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
