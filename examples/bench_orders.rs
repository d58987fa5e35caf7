//! Benchmark of work orders at county scale: the SLA sweeper over 1,000,000 open assignments and the
//! staff list query (filters + paging) over 1,000,000 tickets, on SQLite and PostgreSQL. Prints
//! time per call; asserts nothing (figures are recorded in bench/orders.md).
//!
//! cargo run --release --example bench_orders -- [--rows N] [--db sqlite|postgres|both] [--pg URL]
use chrono::{DateTime, Duration, Utc};
use minsheng::auth::password::HashParams;
use minsheng::configuration::{AppEnvironment, load};
use minsheng::db::Db;
use minsheng::domain::ledger::GENESIS;
use minsheng::repo::tickets::{ListFilter, Visibility};
use minsheng::repo::{self, Page};
use minsheng::services::order_view;
use minsheng::state::AppState;
use minsheng::workers::sla_sweeper;
use sea_orm::{ConnectionTrait, Database, Statement, Value};
use secrecy::SecretString;
use std::time::Instant;

struct Args {
    rows: usize,
    /// Keep the database afterwards (to look at query plans).
    keep: bool,
    /// Measure a database kept earlier instead of filling a new one.
    reuse: Option<String>,
    dbs: Vec<String>,
    pg: String,
    /// With `--reuse`: also time the SLA sweeper (it changes the kept database: each run needs its
    /// own `--offset` so that its 1,000 missed responses are assignments not escalated before).
    sweep: bool,
    /// Shifts the rows the sweeper passes make due (`--reuse --sweep` on a database swept before).
    offset: usize,
}

fn args() -> Args {
    let mut a = Args {
        rows: 1_000_000,
        keep: false,
        reuse: None,
        dbs: vec!["sqlite".into(), "postgres".into()],
        pg: "postgres://postgres@127.0.0.1:5432".into(),
        sweep: false,
        offset: 0,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        match v[i].as_str() {
            "--rows" => a.rows = v.get(i + 1).and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(a.rows),
            "--db" => {
                a.dbs = match v.get(i + 1).map(String::as_str) {
                    Some("both") | None => vec!["sqlite".into(), "postgres".into()],
                    Some(x) => vec![x.to_string()],
                }
            }
            "--pg" => a.pg = v.get(i + 1).cloned().unwrap_or(a.pg),
            "--reuse" => a.reuse = v.get(i + 1).cloned(),
            "--offset" => a.offset = v.get(i + 1).and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(0),
            "--sweep" => {
                a.sweep = true;
                i += 1;
                continue;
            }
            "--keep" => {
                a.keep = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 2;
    }
    a
}

/// A place a bench ticket belongs to: (region id, region path, unit id).
struct Place {
    region_id: i64,
    path: String,
    unit_id: i64,
}

async fn places(db: &Db) -> anyhow::Result<Vec<Place>> {
    let page = Page { page: 1, per_page: 100 };
    let (regions, _) =
        repo::regions::list(&db.conn, "/", Some(minsheng::domain::values::RegionLevel::Village), None, None, page)
            .await?;
    let (units, _) = repo::regions::list_units(&db.conn, "/", None, None, page).await?;
    Ok(regions
        .into_iter()
        .filter_map(|r| {
            let unit = units.iter().find(|(u, _)| u.region_id == r.id && u.is_lead)?;
            Some(Place { region_id: r.id, path: r.path.clone(), unit_id: unit.0.id })
        })
        .collect())
}

const CATEGORIES: [&str; 10] = [
    "water.supply",
    "water.quality",
    "roads.damage",
    "roads.lights",
    "utilities.power",
    "sanitation.garbage",
    "land",
    "neighbours",
    "social.aid",
    "other",
];

use migration::derived as minsheng_text;

/// The `i`-th bench order's response deadline and whether it was accepted: one in twenty missed
/// its response an hour ago (never accepted), the others are due in one to two days.
fn deadlines(i: usize, now: DateTime<Utc>) -> (DateTime<Utc>, bool) {
    let overdue = i.is_multiple_of(20);
    let respond_by = if overdue { now - Duration::hours(1) } else { now + Duration::minutes(1440 + (i % 1440) as i64) };
    (respond_by, !overdue && i % 10 >= 5)
}

/// The `i`-th bench order's derived deadlines as the application keeps them (see
/// `migration::derived`): its assignment is never resolved nor reported on; an unaccepted one owes
/// its response. The ticket holds them, and its assignment a copy.
fn derived(i: usize, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let (respond_by, accepted) = deadlines(i, now);
    let (progress_by, resolve_by) = (respond_by + Duration::hours(22), respond_by + Duration::hours(70));
    let overdue_from = if accepted { resolve_by } else { respond_by.min(resolve_by) };
    let late_from = if accepted { progress_by.min(resolve_by) } else { respond_by.min(progress_by) };
    (overdue_from, late_from)
}

/// The status of the `i`th generated ticket: half dispatched, three in ten accepted, the rest in
/// progress.
fn status_of(i: usize) -> &'static str {
    match i % 10 {
        0..=4 => "dispatched",
        5..=7 => "accepted",
        _ => "in_progress",
    }
}

/// Inserts `n` open tickets, each with an active assignment, in multi-row statements. Times are
/// bound values (the application's own encoding on either database). All deadlines lie in the
/// future except for one order in twenty, which is overdue and already urged: a sweeper pass finds
/// nothing due until the benchmark makes some rows due.
async fn fill(db: &Db, n: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
    let places = places(db).await?;
    let backend = db.backend();
    const CHUNK: usize = 500;
    let mut done = 0;
    while done < n {
        let rows = CHUNK.min(n - done);
        let tx = db.begin().await?;
        let mut sql = String::from(
            "INSERT INTO tickets (no, status, kind, category_code, channel, priority, description, requester_phone, \
             region_id, region_path, unit_id, repeat_count, signoff_required, event_seq, last_hash, created_at, \
             updated_at, register_by, registered_at, first_dispatched_at, overdue_from, late_from) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(rows * 22);
        let mut search: Vec<(i64, Vec<String>)> = Vec::with_capacity(rows);
        for k in 0..rows {
            let i = done + k;
            let p = &places[i % places.len()];
            let created = now - Duration::minutes((i % 525_600) as i64 + 30);
            let status = status_of(i);
            let base = values.len();
            sql.push_str(if k == 0 { "(" } else { ", (" });
            sql.push_str(&(1..=22).map(|j| format!("${}", base + j)).collect::<Vec<_>>().join(", "));
            sql.push(')');
            let (overdue_from, late_from) = derived(i, now);
            let no = format!("B{:08}-{:06}", i / 1_000_000, i % 1_000_000);
            let description = format!("第{i}号测试诉求：村里道路和饮水问题，请尽快处理");
            search.push(((i + 1) as i64, minsheng_text::bigrams(&minsheng_text::ticket_text(&no, &description, None))));
            values.extend([
                no.into(),
                status.into(),
                "help".into(),
                CATEGORIES[i % CATEGORIES.len()].into(),
                "qr".into(),
                "normal".into(),
                description.into(),
                format!("138{:08}", i % 100_000_000).into(),
                p.region_id.into(),
                p.path.clone().into(),
                p.unit_id.into(),
                0i32.into(),
                false.into(),
                0i32.into(),
                GENESIS.into(),
                created.into(),
                created.into(),
                (created + Duration::minutes(15)).into(),
                (created + Duration::minutes(5)).into(),
                (created + Duration::minutes(10)).into(),
                Some(overdue_from).into(),
                Some(late_from).into(),
            ]);
        }
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
        migration::insert_search_rows(&*tx, &search).await?;

        let mut sql = String::from(
            "INSERT INTO assignments (ticket_id, unit_id, status, reopened, dispatched_at, respond_by, progress_by, \
             resolve_by, accepted_at, respond_remind_at, progress_remind_at, resolve_remind_at, next_check_at, \
             respond_reminded_at, respond_urged_at, ticket_overdue_from, ticket_late_from, ticket_status) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(rows * 18);
        for k in 0..rows {
            let i = done + k;
            let p = &places[i % places.len()];
            let created = now - Duration::minutes((i % 525_600) as i64 + 30);
            let overdue = i % 20 == 0;
            let (respond_by, accepted) = deadlines(i, now);
            let base = values.len();
            sql.push_str(if k == 0 { "(" } else { ", (" });
            sql.push_str(&(1..=18).map(|j| format!("${}", base + j)).collect::<Vec<_>>().join(", "));
            sql.push(')');
            let urged: Option<DateTime<Utc>> = overdue.then_some(now - Duration::hours(1));
            let (overdue_from, late_from) = derived(i, now);
            values.extend([
                ((done + k + 1) as i64).into(),
                p.unit_id.into(),
                "active".into(),
                false.into(),
                (created + Duration::minutes(10)).into(),
                respond_by.into(),
                (respond_by + Duration::hours(22)).into(),
                (respond_by + Duration::hours(70)).into(),
                accepted.then_some(created + Duration::minutes(40)).into(),
                Some(respond_by - Duration::minutes(24)).into(),
                Some(respond_by + Duration::hours(17)).into(),
                Some(respond_by + Duration::hours(55)).into(),
                Some(if overdue { now + Duration::days(1) } else { respond_by - Duration::minutes(24) }).into(),
                urged.into(),
                urged.into(),
                Some(overdue_from).into(),
                Some(late_from).into(),
                status_of(i).into(),
            ]);
        }
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
        tx.commit().await?;
        done += rows;
        if done % 100_000 == 0 {
            println!("  … {done} tickets and assignments");
        }
    }
    db.conn
        .execute_unprepared("UPDATE tickets SET current_assignment_id = id WHERE current_assignment_id IS NULL")
        .await?;
    // Planner statistics, as a production database would have them; on PostgreSQL also the
    // visibility map and no dead rows (the UPDATE above leaves a dead version of every ticket, which
    // autovacuum clears in production, but which index-only scans would otherwise visit).
    let analyze = if db.is_postgres() { "VACUUM ANALYZE" } else { "ANALYZE" };
    db.conn.execute_unprepared(analyze).await?;
    Ok(())
}

/// Makes `k` assignments due at `now`: the first `k` with a reminder owed, or (urge) a missed
/// response — the heavy path: urge event, escalation, new assignment, messages.
async fn make_due(db: &Db, k: usize, now: DateTime<Utc>, urge: bool, offset: usize) -> anyhow::Result<()> {
    let (lo, hi) = (offset as i64 + 1, (offset + k) as i64);
    let sql = if urge {
        "UPDATE assignments SET respond_by = $1, respond_remind_at = $2, next_check_at = $2, accepted_at = NULL, \
         respond_reminded_at = $2, respond_urged_at = NULL WHERE id BETWEEN $3 AND $4"
    } else {
        "UPDATE assignments SET respond_by = $1, respond_remind_at = $2, next_check_at = $2, accepted_at = NULL, \
         respond_reminded_at = NULL, respond_urged_at = NULL WHERE id BETWEEN $3 AND $4"
    };
    let respond_by = if urge { now - Duration::minutes(5) } else { now + Duration::minutes(20) };
    let remind = if urge { now - Duration::minutes(29) } else { now - Duration::minutes(4) };
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.backend(),
            sql,
            [respond_by.into(), remind.into(), lo.into(), hi.into()],
        ))
        .await?;
    if urge {
        db.conn
            .execute_raw(Statement::from_sql_and_values(
                db.backend(),
                "UPDATE tickets SET status = 'dispatched' WHERE id BETWEEN $1 AND $2",
                [lo.into(), hi.into()],
            ))
            .await?;
    }
    // The derived deadlines follow, as `change::commit_in` keeps them.
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.backend(),
            migration::derived::refresh_deadlines_sql("tickets.id BETWEEN $1 AND $2"),
            [lo.into(), hi.into()],
        ))
        .await?;
    db.conn
        .execute_raw(Statement::from_sql_and_values(
            db.backend(),
            migration::derived::copy_ticket_sql("assignments.ticket_id BETWEEN $1 AND $2"),
            [lo.into(), hi.into()],
        ))
        .await?;
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bench_sweeper(state: &AppState, now: DateTime<Utc>, shift: usize) -> anyhow::Result<()> {
    println!("\n  SLA sweeper (run_once)");
    println!("  {:<52} {:>10} {:>12} {:>14}", "pass", "due", "ms / pass", "ms / order");
    for _ in 0..2 {
        // warm the caches
        sla_sweeper::run_once(state, now).await?;
    }
    let mut quiet = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        let r = sla_sweeper::run_once(state, now).await?;
        quiet.push(ms(t.elapsed()));
        assert_eq!(r.examined, 0);
    }
    quiet.sort_by(f64::total_cmp);
    println!("  {:<52} {:>10} {:>12.2} {:>14}", "nothing due (index probe), median of 20", 0, quiet[10], "—");
    for (label, k, urge, offset) in [
        ("1,000 reminders due (80 %)", 1000usize, false, 1usize),
        ("10,000 reminders due (80 %)", 10_000, false, 2_001),
        ("1,000 missed responses (urge + escalation)", 1000, true, 20_001 + shift),
    ] {
        make_due(&state.db, k, now, urge, offset).await?;
        let t = Instant::now();
        let r = sla_sweeper::run_once(state, now).await?;
        let e = ms(t.elapsed());
        println!("  {:<52} {:>10} {:>12.1} {:>14.3}", label, r.examined, e, e / r.examined.max(1) as f64);
        println!(
            "      → {} reminders, {} urges, {} escalations, {} deferred",
            r.reminders, r.urges, r.escalations, r.deferred
        );
    }
    Ok(())
}

async fn bench_list(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<()> {
    println!("\n  Staff list: repo::tickets::list + order_view::rows (20 per page), median of 7 calls");
    println!("  {:<52} {:>10} {:>12}", "query", "total", "ms / call");
    let db = &state.db;
    let county = Visibility { region_paths: vec!["/1/".into()], unit_id: None };
    let page = |p: u64| Page { page: p, per_page: 20 };
    let (township, _) =
        repo::regions::list(&db.conn, "/", Some(minsheng::domain::values::RegionLevel::Township), None, None, page(1))
            .await?;
    let township = township.first().map(|r| r.path.clone()).unwrap_or_default();
    let places = places(db).await?;
    let unit = places.first().map(|p| p.unit_id).unwrap_or(0);
    let cadre = Visibility { region_paths: vec![], unit_id: Some(unit) };
    let week_from = now - Duration::days(37);
    let week_to = now - Duration::days(30);
    let cases: Vec<(&str, Visibility, ListFilter, u64)> = vec![
        ("county dispatcher, no filter, page 1", county.clone(), ListFilter::default(), 1),
        (
            "status = dispatched",
            county.clone(),
            ListFilter { statuses: vec![minsheng::domain::ticket::Status::Dispatched], ..Default::default() },
            1,
        ),
        (
            "one township (region_id)",
            county.clone(),
            ListFilter { region_path: Some(township.clone()), ..Default::default() },
            1,
        ),
        ("one unit (unit_id)", county.clone(), ListFilter { unit_id: Some(unit), ..Default::default() }, 1),
        (
            "category = water (with children)",
            county.clone(),
            ListFilter { category: Some("water".into()), ..Default::default() },
            1,
        ),
        ("overdue = true", county.clone(), ListFilter { overdue_at: Some(now), ..Default::default() }, 1),
        ("late = true", county.clone(), ListFilter { late_at: Some(now), ..Default::default() }, 1),
        (
            "one week (from, to)",
            county.clone(),
            ListFilter { from: Some(week_from), to: Some(week_to), ..Default::default() },
            1,
        ),
        (
            "q = 第123456号 (text search)",
            county.clone(),
            ListFilter { q: Some("第123456号".into()), ..Default::default() },
            1,
        ),
        (
            "township + status + category",
            county.clone(),
            ListFilter {
                region_path: Some(township.clone()),
                statuses: vec![minsheng::domain::ticket::Status::Dispatched],
                category: Some("water".into()),
                ..Default::default()
            },
            1,
        ),
        (
            "township + status + category, nothing matches",
            county.clone(),
            ListFilter {
                region_path: Some(township.clone()),
                statuses: vec![minsheng::domain::ticket::Status::Accepted],
                category: Some("roads".into()),
                ..Default::default()
            },
            1,
        ),
        ("no filter, page 500 (deep paging)", county.clone(), ListFilter::default(), 500),
        ("a village cadre's own orders", cadre.clone(), ListFilter::default(), 1),
    ];
    let counted: Vec<(&str, Visibility, ListFilter)> = vec![
        ("county dispatcher, no filter", county.clone(), ListFilter::default()),
        ("one township", county.clone(), ListFilter { region_path: Some(township.clone()), ..Default::default() }),
        ("a village cadre's own orders", cadre.clone(), ListFilter::default()),
    ];
    for (label, vis, filter, p) in cases {
        let mut times = vec![];
        let mut total = 0;
        let mut capped = false;
        for _ in 0..7 {
            let t = Instant::now();
            let listed = repo::tickets::list(&db.conn, &vis, &filter, page(p)).await?;
            let rows = order_view::rows(&db.conn, &listed.items, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(ms(t.elapsed()));
            total = listed.total;
            capped = listed.capped;
            std::hint::black_box(rows);
        }
        times.sort_by(f64::total_cmp);
        let total = if capped { format!("{total}+") } else { total.to_string() };
        println!("  {:<52} {:>10} {:>12.1}", label, total, times[3]);
    }
    println!("\n  Work list counts: repo::tickets::counts (GET /api/v1/tickets/counts), median of 7 calls");
    println!("  {:<52} {:>10} {:>12}", "scope", "total", "ms / call");
    for (label, vis, filter) in counted {
        let mut times = vec![];
        let mut shown = String::new();
        for _ in 0..7 {
            let t = Instant::now();
            let c = repo::tickets::counts(&db.conn, &vis, &filter, now).await?;
            times.push(ms(t.elapsed()));
            shown = format!("{c:?}");
        }
        times.sort_by(f64::total_cmp);
        println!("  {:<52} {:>10} {:>12.1}", label, "", times[3]);
        println!("      → {shown}");
    }
    Ok(())
}

async fn rerun(url: &str, a: &Args) -> anyhow::Result<()> {
    let mut settings = load(AppEnvironment::Local)?;
    settings.application.workers_enabled = false;
    settings.database.url = SecretString::from(url.to_string());
    let db = Db::connect(url, 8).await?;
    db.migrate().await?;
    db.conn.execute_unprepared("ANALYZE").await?;
    let state = minsheng::startup::build_state(settings, db).await?;
    // The fill's "now" is not stored: take the newest ticket as its instant.
    let newest = repo::tickets::list(
        &state.db.conn,
        &Visibility { region_paths: vec!["/".into()], unit_id: None },
        &ListFilter::default(),
        Page { page: 1, per_page: 1 },
    )
    .await?;
    let now = newest.items.first().map(|t| t.created_at + Duration::minutes(30)).unwrap_or_else(Utc::now);
    bench_list(&state, now).await?;
    if a.sweep {
        bench_sweeper(&state, now, a.offset).await?;
    }
    Ok(())
}

async fn run(backend: &str, a: &Args) -> anyhow::Result<()> {
    if let Some(url) = &a.reuse {
        println!("\n== {url}");
        return rerun(url, a).await;
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = match backend {
        "postgres" => {
            let admin = Database::connect(format!("{}/postgres", a.pg)).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE ms_bench_{id}")).await?;
            format!("{}/ms_bench_{id}", a.pg)
        }
        _ => {
            let dir = std::env::temp_dir().join("minsheng-bench");
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}?mode=rwc", dir.join(format!("{id}.sqlite")).display())
        }
    };
    println!("\n== {backend}: {} open tickets with active assignments", a.rows);
    let mut settings = load(AppEnvironment::Local)?;
    settings.application.port = 0;
    settings.application.workers_enabled = false;
    settings.database.url = SecretString::from(url.clone());
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let now = Utc::now();
    minsheng::demo::seed(&db, HashParams { memory_kib: 1024, iterations: 1 }, "12345", "清河县", now).await?;
    let t = Instant::now();
    fill(&db, a.rows, now).await?;
    println!("  filled in {:.1} s", t.elapsed().as_secs_f64());
    let state = minsheng::startup::build_state(settings, db).await?;
    if !a.keep {
        bench_list(&state, now).await?;
        bench_sweeper(&state, now, 0).await?;
    }
    if a.keep {
        println!("  kept: {url}");
    } else if backend == "postgres" {
        state.db.conn.clone().close().await.ok();
        let admin = Database::connect(format!("{}/postgres", a.pg)).await?;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS ms_bench_{id} WITH (FORCE)")).await?;
    } else if let Some(path) = url.strip_prefix("sqlite://").and_then(|s| s.split('?').next()) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    // MINSHENG_SQL_LOG=1 prints every statement with its time (to find a slow plan's statement).
    if std::env::var_os("MINSHENG_SQL_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter("sqlx::query=info").with_writer(std::io::stderr).init();
    }
    println!(
        "bench_orders: {} rows, {} cores",
        a.rows,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    for db in a.dbs.clone() {
        run(&db, &a).await?;
    }
    Ok(())
}
