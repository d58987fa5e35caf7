//! A county-sized year for the benchmarks (`bench_stats`, `bench_export`): a fresh database with the
//! demo county and `n` tickets generated in SQL over its 6 villages, 15 units and 7 categories,
//! each with its assignment, every fifth visited and every fiftieth reopened.
use chrono::Utc;
use minsheng::auth::password::HashParams;
use minsheng::db::Db;
use sea_orm::{ConnectionTrait, Database, DbBackend};
use std::time::Instant;

/// A fresh database `name` (PostgreSQL database or SQLite file in the temp dir) with the demo county.
pub async fn fresh(backend: &str, name: &str) -> anyhow::Result<(Db, String)> {
    let url = match backend {
        "postgres" => {
            let server =
                std::env::var("MINSHENG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let admin = Database::connect(format!("{server}/test")).await?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            format!("{server}/{name}")
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{name}.sqlite"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    minsheng::demo::seed(&db, HashParams { memory_kib: 1024, iterations: 1 }, "12345", "清河县", Utc::now()).await?;
    Ok((db, url))
}

/// SQL producing the integers 1..=n as column `i`.
fn series(backend: DbBackend, n: u64) -> String {
    match backend {
        DbBackend::Postgres => format!("SELECT i FROM generate_series(1, {n}) AS g(i)"),
        _ => format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"),
    }
}

/// SQL for the instant `seconds` after 2026-01-01 UTC, stored the way the application stores it.
fn at(backend: DbBackend, seconds: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("(timestamptz '2026-01-01 00:00:00+00' + ({seconds}) * interval '1 second')"),
        _ => format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', '2026-01-01 00:00:00', '+' || ({seconds}) || ' seconds')"),
    }
}

/// `n` tickets over 2026 spread over the demo's villages and units.
pub async fn generate(db: &Db, n: u64) -> anyhow::Result<()> {
    let b = db.backend();
    let c = &db.conn;
    // Numbered villages and units of the demo county, to spread tickets and orders over them.
    for stmt in [
        "DROP TABLE IF EXISTS bench_villages",
        "DROP TABLE IF EXISTS bench_units",
        "DROP TABLE IF EXISTS bench_categories",
        "CREATE TABLE bench_villages AS SELECT id, path, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM regions WHERE level = 'village'",
        "CREATE TABLE bench_units AS SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM units",
        "CREATE TABLE bench_categories AS SELECT code, ROW_NUMBER() OVER (ORDER BY code) - 1 AS k FROM categories \
         WHERE code LIKE '%.%' ORDER BY code LIMIT 7",
    ] {
        c.execute_unprepared(stmt).await?;
    }
    let start = Instant::now();
    c.execute_unprepared(&format!(
        "INSERT INTO tickets (id, no, status, kind, category_code, channel, priority, description, requester_phone, \
         region_id, region_path, unit_id, current_assignment_id, repeat_count, signoff_required, event_seq, last_hash, \
         created_at, updated_at, first_dispatched_at, resolved_at) \
         SELECT 100000 + s.i, 'B' || s.i, CASE WHEN s.i % 5 = 0 THEN 'in_progress' WHEN s.i % 5 = 1 THEN 'resolved' ELSE 'closed' END, \
           'help', c.code, 'qr', 'normal', '压测数据', {phone}, v.id, v.path, u.id, 100000 + s.i, 0, false, 0, '', \
           {t}, {t}, {t}, CASE WHEN s.i % 5 = 0 THEN NULL ELSE {r} END \
         FROM ({series}) s JOIN bench_villages v ON v.k = s.i % 6 JOIN bench_units u ON u.k = s.i % 15 \
         JOIN bench_categories c ON c.k = s.i % 7",
        t = at(b, "s.i * 31"),
        r = at(b, "s.i * 31 + 86400"),
        phone = match b {
            DbBackend::Postgres => "'139' || lpad((s.i % 100000000)::text, 8, '0')",
            _ => "'139' || printf('%08d', s.i % 100000000)",
        },

        series = series(b, n),
    ))
    .await?;
    c.execute_unprepared(&format!(
        "INSERT INTO assignments (id, ticket_id, unit_id, status, reopened, dispatched_at, respond_by, progress_by, resolve_by, \
         accepted_at, resolved_at) \
         SELECT t.id, t.id, t.unit_id, CASE WHEN t.resolved_at IS NULL THEN 'active' ELSE 'completed' END, false, \
           t.created_at, {respond}, {progress}, {resolve}, CASE WHEN (t.id % 10) = 3 THEN {late} ELSE {accept} END, t.resolved_at \
         FROM tickets t WHERE t.id >= 100000",
        respond = at(b, "(t.id - 100000) * 31 + 7200"),
        progress = at(b, "(t.id - 100000) * 31 + 86400"),
        resolve = at(b, "(t.id - 100000) * 31 + 259200"),
        late = at(b, "(t.id - 100000) * 31 + 9000"),
        accept = at(b, "(t.id - 100000) * 31 + 600"),
    ))
    .await?;
    // Every fifth ticket visited (200,000 of 1,000,000): mostly satisfied.
    c.execute_unprepared(&format!(
        "INSERT INTO return_visits (ticket_id, assignment_id, unit_id, channel, reached, solved, satisfaction, counted, at) \
         SELECT t.id, t.id, t.unit_id, 'phone', true, CASE WHEN t.id % 7 = 0 THEN 'no' ELSE 'yes' END, \
           CASE WHEN t.id % 7 = 0 THEN 'dissatisfied' WHEN t.id % 3 = 0 THEN 'basically_satisfied' ELSE 'satisfied' END, \
           true, {v} FROM tickets t WHERE t.id >= 100000 AND (t.id % 5) = 2",
        v = at(b, "(t.id - 100000) * 31 + 172800"),
    ))
    .await?;
    // Reopenings of 20,000 resolved tickets.
    c.execute_unprepared(&format!(
        "INSERT INTO events (ticket_id, seq, action, from_status, to_status, actor_kind, actor_name, data, public, at, prev_hash, hash) \
         SELECT t.id, 1, 'return_visit', 'resolved', 'reopened', 'staff', '回访员', '{{}}', true, {e}, '', '' \
         FROM tickets t WHERE t.id >= 100000 AND (t.id % 50) = 2",
        e = at(b, "(t.id - 100000) * 31 + 172800"),
    ))
    .await?;
    c.execute_unprepared("ANALYZE").await?;
    println!(
        "  generated {n} tickets, {n} assignments, {} visits, {} reopenings in {:.1} s",
        n / 5,
        n / 50,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The command line of a benchmark: `[sqlite|postgres|both] [tickets]` (both, 1,000,000).
pub fn args() -> (Vec<&'static str>, u64) {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let backends = match args.get(1).map(String::as_str) {
        Some("sqlite") => vec!["sqlite"],
        Some("postgres") => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    (backends, n)
}
