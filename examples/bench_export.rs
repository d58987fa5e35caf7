//! Benchmark: exporting a county's year of tickets (1,000,000 by default) as CSV and as XLSX over
//! HTTP, on SQLite and PostgreSQL: the time to the last byte, the size, and the peak resident memory
//! of this process (server and client) during each export, reset before each one.
//!
//!     cargo run --release --example bench_export -- [sqlite|postgres|both] [tickets]
#[path = "common/county_year.rs"]
mod county_year;

use county_year::{fresh, generate};
use minsheng::configuration::{AppEnvironment, load};
use minsheng::startup::{Application, build_state};
use secrecy::SecretString;
use std::time::Instant;

/// A memory figure of this process from /proc/self/status (`VmHWM` peak, `VmRSS` now), in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (backends, n) = county_year::args();
    for backend in backends {
        println!("== {backend}");
        let (db, url) = fresh(backend, "ms_bench_export").await?;
        generate(&db, n).await?;
        let mut settings = load(AppEnvironment::Local)?;
        settings.application.port = 0;
        settings.application.workers_enabled = false;
        settings.application.export_max_rows = n + 10_000;
        settings.database.url = SecretString::from(url);
        settings.redis.url = None;
        let state = build_state(settings, db).await?;
        let app = Application::with_state(state)?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::new();
        let login: serde_json::Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "leader", "password": minsheng::demo::DEMO_PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        let token = login["access_token"].as_str().unwrap_or_default().to_string();
        for ext in ["csv", "xlsx"] {
            reset_peak();
            let before = status_mib("VmRSS:");
            let start = Instant::now();
            let mut r = http.get(format!("{base}/api/v1/exports/tickets.{ext}")).bearer_auth(&token).send().await?;
            anyhow::ensure!(r.status().is_success(), "export {ext}: {}", r.status());
            let (mut bytes, mut lines) = (0usize, 0usize);
            while let Some(chunk) = r.chunk().await? {
                bytes += chunk.len();
                lines += chunk.iter().filter(|b| **b == b'\n').count();
            }
            let rows = if ext == "csv" { format!("{} rows", lines.saturating_sub(1)) } else { "zipped".into() };
            println!(
                "  tickets.{ext:<5} {:>7.1} s   {:>7.1} MiB   {rows:<14} RSS before {:>6.1} MiB, peak {:>6.1} MiB",
                start.elapsed().as_secs_f64(),
                bytes as f64 / 1048576.0,
                before,
                status_mib("VmHWM:")
            );
        }
        server.abort();
    }
    Ok(())
}
