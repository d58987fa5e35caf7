//! Outbox throughput: messages per second from the outbox to a local fake Alibaba Cloud SMS endpoint,
//! through the real worker (claim with lease, V3 signing, HTTP call, attempt row and status update in
//! one transaction), on SQLite and on PostgreSQL, with 1 and 4 workers.
//!
//!     cargo run --release --example bench_sms [-- --messages 2000 --latency-ms 0 --pg postgres://postgres@127.0.0.1:5432]
//!
//! `--latency-ms` makes the fake answer that much later, like a provider across the internet: then
//! the workers' waits overlap and more workers send more.
//!
//! Prints one line per run; the figures are recorded in bench/sms.md. Not a test: nothing is asserted
//! about speed, only that every message was sent exactly once.
use actix_web::{App, HttpResponse, HttpServer, web};
use minsheng::configuration::{AppEnvironment, load};
use minsheng::db::Db;
use minsheng::startup::build_state;
use minsheng::state::AppState;
use minsheng::workers::outbox::run_pass;
use minsheng::{repo, sms::templates};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A fake SendSms endpoint that answers like Alibaba Cloud (no signature check: the fake's cost
/// should not count against ours).
async fn start_fake(latency_ms: u64) -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let h = h.clone();
        App::new().default_service(web::to(move || {
            let n = h.fetch_add(1, Ordering::Relaxed);
            async move {
                if latency_ms > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
                }
                HttpResponse::Ok().json(serde_json::json!({"Code": "OK", "Message": "OK",
                    "BizId": format!("{n}^0"), "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}))
            }
        }))
    })
    .workers(2)
    .listen(listener)?
    .run();
    tokio::spawn(server);
    Ok((format!("http://{addr}"), hits))
}

async fn fresh_database(backend: &str, pg: &str) -> anyhow::Result<(String, Option<String>)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    if backend == "postgres" {
        let admin = Database::connect(format!("{pg}/postgres")).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE ms_bench_{id}")).await?;
        return Ok((format!("{pg}/ms_bench_{id}"), Some(format!("ms_bench_{id}"))));
    }
    let path = std::env::temp_dir().join(format!("minsheng-bench-{id}.sqlite"));
    Ok((format!("sqlite://{}?mode=rwc", path.display()), None))
}

async fn state_for(url: &str, fake: &str, workers: usize) -> anyhow::Result<AppState> {
    let mut s = load(AppEnvironment::Local)?;
    s.application.workers_enabled = false;
    s.database.url = SecretString::from(url.to_string());
    s.database.max_connections = 10;
    s.sms.provider = "aliyun".into();
    s.sms.workers = workers;
    s.sms.quiet_hours.enabled = false;
    let a = &mut s.sms.aliyun;
    a.common.base_url = fake.to_string();
    a.common.rate_per_second = 0;
    a.access_key_id = "bench-id".into();
    a.access_key_secret = SecretString::from("bench-secret");
    a.common.templates.insert("confirmation".into(), "SMS_300000002".into());
    let db = Db::connect(url, s.database.max_connections).await?;
    db.migrate().await?;
    build_state(s, db).await
}

async fn enqueue(state: &AppState, n: usize) -> anyhow::Result<()> {
    let now = state.now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let tx = state.db.begin().await?;
        for i in chunk {
            let no = format!("20261123-{:06}", i + 1);
            let msg = templates::confirmation("民声直达", &no, &format!("http://minsheng.test/t/{no}"));
            repo::outbox::enqueue(&*tx, &msg, &format!("138{:08}", i + 1), None, now).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn count(state: &AppState, sql: &str) -> anyhow::Result<i64> {
    let stmt = sea_orm::Statement::from_string(state.db.backend(), sql.to_string());
    let row = state.db.conn.query_one_raw(stmt).await?.ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn run(backend: &str, workers: usize, messages: usize, latency_ms: u64, pg: &str) -> anyhow::Result<()> {
    let (fake, hits) = start_fake(latency_ms).await?;
    let (url, pg_db) = fresh_database(backend, pg).await?;
    let state = state_for(&url, &fake, workers).await?;
    enqueue(&state, messages).await?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                loop {
                    let p = run_pass(&state, state.now()).await?;
                    if p.claimed == 0 {
                        return anyhow::Ok(());
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let sent = count(&state, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await?;
    let calls = hits.load(Ordering::Relaxed);
    anyhow::ensure!(sent as usize == messages && calls as usize == messages, "sent {sent}, provider calls {calls}");
    println!(
        "{backend:<10} workers={workers}  messages={messages}  {secs:>6.2} s  {:>7.0} msg/s",
        messages as f64 / secs
    );
    state.db.conn.clone().close().await.ok();
    if let Some(name) = pg_db {
        let admin = Database::connect(format!("{pg}/postgres")).await?;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let messages: usize = arg("--messages").map(|m| m.parse()).transpose()?.unwrap_or(2000);
    let latency_ms: u64 = arg("--latency-ms").map(|m| m.parse()).transpose()?.unwrap_or(0);
    let pg = arg("--pg").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into());
    println!(
        "outbox → fake Alibaba Cloud SendSms (V3 signing, HTTP/1.1 on 127.0.0.1, answers after {latency_ms} ms), \
         batch 20, no rate limit"
    );
    for backend in ["sqlite", "postgres"] {
        for workers in [1, 4] {
            run(backend, workers, messages, latency_ms, &pg).await?;
        }
    }
    Ok(())
}
