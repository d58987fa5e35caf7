//! Benchmark: the statistics queries over a county with 1,000,000 tickets (one assignment each),
//! 200,000 return visits and 20,000 reopenings, on SQLite and PostgreSQL.
//!
//!     cargo run --release --example bench_stats -- [sqlite|postgres|both] [tickets]
//!
//! Prints the time of `GET /api/v1/stats/units` (all units of the county, one year) and of
//! `GET /api/v1/stats/summary` (the county, one year), as the service computes them.
#[path = "common/county_year.rs"]
mod county_year;

use chrono::{TimeZone, Utc};
use county_year::{fresh, generate};
use minsheng::repo::stats::{Population, counts, unit_counts};
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
        measure("stats/units (county, 2026)", 5, async || Ok(unit_counts(&db.conn, "/1/", from, to, now).await?.len()))
            .await?;
        measure("stats/summary (county, 2026)", 5, async || {
            let c = counts(&db.conn, &Population::Region("/1/".into()), from, to, now).await?;
            Ok(c.received as usize)
        })
        .await?;
    }
    Ok(())
}
