//! The SQLite ceiling for `bench/ceiling.sh` (issue 21 point 1): how many three-insert transactions
//! (a ticket-, an event- and an outbox-shaped row, each its own commit, as one intake is) SQLite
//! itself commits per second with minsheng's pragmas (WAL, synchronous=NORMAL, foreign keys, busy
//! timeout; `Db::connect`), through the same driver (sqlx, prepared statements cached per
//! connection), on one connection: SQLite has one writer, so this is what any number of clients can
//! get. Prints one line of figures; asserts nothing.
//!
//! cargo run --release --example bench_ceiling -- [seconds=10]
use minsheng::db::Db;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait, Value};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("ceiling.sqlite").display());
    let db = Db::connect(&url, 1).await?;
    let conn = &db.conn;
    for ddl in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, no TEXT NOT NULL UNIQUE, region_id INTEGER NOT NULL, category TEXT NOT NULL, \
         description TEXT NOT NULL, requester_phone TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE e (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES t(id), seq INTEGER NOT NULL, \
         action TEXT NOT NULL, data TEXT NOT NULL, at TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        "CREATE TABLE o (id INTEGER PRIMARY KEY, ticket_id INTEGER REFERENCES t(id), kind TEXT NOT NULL, recipient TEXT NOT NULL, \
         body TEXT NOT NULL, status TEXT NOT NULL, next_attempt_at TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE INDEX t_created ON t (created_at)",
        "CREATE INDEX e_ticket ON e (ticket_id, seq)",
        "CREATE INDEX o_due ON o (status, next_attempt_at)",
    ] {
        conn.execute_unprepared(ddl).await?;
    }
    let backend = db.backend();
    let text = "村东头自来水停了三天了，请尽快处理。村里的老人孩子都没水喝，希望有关部门尽快派人来修。";
    let hash = "9f2c".repeat(16);
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut n: i64 = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let t0 = Instant::now();
        let now = chrono::Utc::now().to_rfc3339();
        let tx = conn.begin().await?;
        let id: i64 = tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO t (no, region_id, category, description, requester_phone, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'submitted', $6) RETURNING id",
                [
                    Value::from(format!("20261207-{n:06}")),
                    Value::from(3i64),
                    Value::from("water.supply"),
                    Value::from(text),
                    Value::from(format!("138{n:08}")),
                    Value::from(now.clone()),
                ],
            ))
            .await?
            .expect("id")
            .try_get_by_index(0)?;
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO e (ticket_id, seq, action, data, at, prev_hash, hash) VALUES ($1, 1, 'submit', $2, $3, $4, $5)",
            [
                Value::from(id),
                Value::from(r#"{"channel":"h5","category":"water.supply"}"#),
                Value::from(now.clone()),
                Value::from(hash.clone()),
                Value::from(hash.clone()),
            ],
        ))
        .await?;
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO o (ticket_id, kind, recipient, body, status, next_attempt_at, created_at) \
             VALUES ($1, 'confirmation', $2, $3, 'pending', $4, $4)",
            [Value::from(id), Value::from(format!("138{n:08}")), Value::from(text), Value::from(now)],
        ))
        .await?;
        tx.commit().await?;
        latencies.push(t0.elapsed());
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "sqlite-ceiling transactions={n} seconds={secs:.1} per_second={:.0} p50_ms={:.3} p99_ms={:.3}",
        n as f64 / secs,
        pct(0.50),
        pct(0.99)
    );
    Ok(())
}
