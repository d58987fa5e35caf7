//! Benchmark: the statistics queries over a county with 1,000,000 tickets (one assignment each),
//! 200,000 return visits and 20,000 reopenings, on SQLite and PostgreSQL.
//!
//!     cargo run --release --example bench_stats -- [sqlite|postgres|both] [tickets]
//!
//! Builds the statistics roll-ups from the generated rows (timed), then prints the time of
//! `GET /api/v1/stats/units` (all units of the county, one year) and of `GET /api/v1/stats/summary`
//! (the county, one year) as the service computes them — catching up deadlines that passed, then
//! summing the day rows — and, for comparison, the same counts recounted from the tickets,
//! assignments, visits and ledger (what both endpoints did before roll-ups). Also the queries of the
//! big screen's answer (`GET /api/v1/screen/overview`) for the county.
#[path = "common/county_year.rs"]
mod county_year;

use chrono::{NaiveDate, TimeZone, Utc};
use county_year::{fresh, generate};
use minsheng::repo::stats::{Population, counts, unit_counts};
use minsheng::repo::{rollups, screen};
use std::time::Instant;

async fn measure(label: &str, runs: usize, mut f: impl AsyncFnMut() -> anyhow::Result<usize>) -> anyhow::Result<()> {
    let mut times = vec![];
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        rows = f().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    println!(
        "  {label:<28} median {:>8.1} ms   min {:>8.1} ms   ({rows} rows, {runs} runs)",
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (backends, n) = county_year::args();
    let from = Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    for backend in backends {
        println!("== {backend}");
        let (db, _) = fresh(backend, "ms_bench_stats").await?;
        generate(&db, n).await?;
        let offset = 8 * 3600;
        let t = Instant::now();
        let tx = db.begin().await?;
        rollups::rebuild(&*tx, offset, now).await?;
        tx.commit().await?;
        let rows = |sql: &'static str| {
            let db = db.clone();
            async move {
                let stmt = sea_orm::Statement::from_string(db.backend(), sql.to_string());
                let r = sea_orm::ConnectionTrait::query_one_raw(&db.conn, stmt).await?.expect("a count");
                anyhow::Ok(r.try_get_by_index::<i64>(0)?)
            }
        };
        println!(
            "  roll-ups built in {:.1} s: day rows {} (region × category), {} (unit × region × category), \
             {} (region), {} (unit)",
            t.elapsed().as_secs_f64(),
            rows("SELECT COUNT(*) FROM stats_ticket_days").await?,
            rows("SELECT COUNT(*) FROM stats_order_days").await?,
            rows("SELECT COUNT(*) FROM stats_region_days").await?,
            rows("SELECT COUNT(*) FROM stats_unit_days").await?
        );
        let (first, last) =
            (NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        measure("  catch-up alone", 20, async || Ok(rollups::catch_up(&db, offset, now).await?)).await?;
        measure("  unit sums alone", 20, async || Ok(rollups::unit_counts(&db.conn, "/1/", first, last).await?.len()))
            .await?;
        measure("stats/units (roll-ups)", 20, async || {
            rollups::catch_up(&db, offset, now).await?;
            Ok(rollups::unit_counts(&db.conn, "/1/", first, last).await?.len())
        })
        .await?;
        measure("stats/summary (roll-ups)", 20, async || {
            rollups::catch_up(&db, offset, now).await?;
            Ok(rollups::region_counts(&db.conn, "/1/", first, last).await?.received as usize)
        })
        .await?;
        // What every change of a ticket now adds to its transaction.
        let mut k = 0;
        measure("refresh of one ticket (write)", 50, async || {
            k += 7919;
            let tx = db.begin().await?;
            rollups::refresh(&*tx, &[100_001 + (k % n as i64)], offset, now).await?;
            tx.commit().await?;
            Ok(1)
        })
        .await?;
        // The big screen's answer (`services::screen::overview`): its queries, one after another,
        // for the county as of the end of the year (30 days, 12 weeks, today).
        let month = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let month_start = Utc.with_ymd_and_hms(2026, 12, 1, 16, 0, 0).unwrap();
        let today = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
        measure("  screen: mean times (30 d)", 10, async || {
            Ok(screen::durations(&db.conn, "/1/", month_start, now).await?.responded as usize)
        })
        .await?;
        measure("  screen: open per unit", 10, async || Ok(screen::open_by_unit(&db.conn, "/1/", now).await?.len()))
            .await?;
        measure("  screen: heat table (30 d)", 10, async || {
            Ok(screen::received_by_place(&db.conn, "/1/", month, last).await?.len())
        })
        .await?;
        measure("screen overview (queries)", 10, async || {
            rollups::catch_up(&db, offset, now).await?;
            let mut n = screen::intake_by_channel_hour(&db.conn, "/1/", today, now, offset).await?.len();
            n += screen::resolved_between(&db.conn, "/1/", today, now).await? as usize;
            n += screen::open_by_unit(&db.conn, "/1/", now).await?.len();
            n += rollups::region_counts(&db.conn, "/1/", month, last).await?.received as usize;
            for w in 0..12 {
                let monday = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap() - chrono::Duration::weeks(w);
                n += rollups::region_counts(&db.conn, "/1/", monday, monday + chrono::Duration::days(6)).await?.received
                    as usize;
            }
            n += screen::durations(&db.conn, "/1/", month_start, now).await?.responded as usize;
            n += minsheng::repo::stats::overdue_orders(&db.conn, "/1/", now, 6).await?.0.len();
            n += screen::received_by_place(&db.conn, "/1/", month, last).await?.len();
            n += screen::latest(&db.conn, "/1/", 20).await?.len();
            Ok(n)
        })
        .await?;
        measure("stats/units (recount)", 3, async || Ok(unit_counts(&db.conn, "/1/", from, to, now).await?.len()))
            .await?;
        measure("stats/summary (recount)", 3, async || {
            let c = counts(&db.conn, &Population::Region("/1/".into()), from, to, now).await?;
            Ok(c.received as usize)
        })
        .await?;
    }
    Ok(())
}
