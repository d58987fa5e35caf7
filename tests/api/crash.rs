//! Fault drill (issue 21, point 4): `kill -9` of a real `minsheng serve` process in the middle of
//! intake load. After a restart on the same database every acknowledged ticket is there once, a
//! request whose answer was lost is taken once when the villager's phone sends it again with its
//! Idempotency-Key, every ticket has its ledger, and the outbox the dead process left is sent by the
//! new one. Runs on SQLite and PostgreSQL; bounded (about 10 s) and it kills what it starts.
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `minsheng serve` on the test app's database, with its workers on and limits out of the way.
fn serve(app: &TestApp, dir: &std::path::Path, port: u16) -> tokio::process::Child {
    let url = app.state.settings.database.url.expose_secret().to_string();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_minsheng"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("MINSHENG__DATABASE__URL", url)
        .env_remove("MINSHENG__REDIS__URL")
        .env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1")
        .env("MINSHENG__SMS__QUIET_HOURS__ENABLED", "false")
        // The worker sends while the load runs, so the kill catches messages it had claimed; their
        // lease (300 s by default) runs out in 3 s here, and the new process sends them then.
        .env("MINSHENG__SMS__POLL_MS", "50")
        .env("MINSHENG__SMS__LEASE_SECONDS", "3")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for limit in
        ["INTAKE_PER_IP", "INTAKE_PER_IP_DAILY", "INTAKE_PER_PHONE", "INTAKE_PER_CARD", "CONFIRMATION_SMS_PER_PHONE"]
    {
        cmd.env(format!("MINSHENG__LIMITS__{limit}__MAX"), "1000000");
    }
    cmd.spawn().expect("start minsheng serve")
}

/// Waits for the state, not for a time: `/readyz` answers 200 (or the process died).
async fn ready(base: &str, child: &mut tokio::process::Child) -> Duration {
    let start = Instant::now();
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == StatusCode::OK
        {
            return start.elapsed();
        }
        assert!(child.try_wait().unwrap().is_none(), "minsheng serve exited before it was ready");
        assert!(start.elapsed() < Duration::from_secs(60), "not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Default)]
struct Ledger {
    /// (Idempotency-Key, phone, ticket number if the answer arrived).
    sent: Vec<(String, String, Option<String>)>,
}

async fn intake(client: &reqwest::Client, base: &str, card: &str, key: &str, phone: &str) -> Option<String> {
    let body = serde_json::json!({"card_code": card, "category": "water.supply", "kind": "help",
        "description": "村东头自来水停了三天了，请尽快处理", "phone": phone});
    let r =
        client.post(format!("{base}/api/v1/tickets")).header("Idempotency-Key", key).json(&body).send().await.ok()?;
    if r.status() != StatusCode::CREATED {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["ticket_no"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_intake_load_loses_no_acknowledged_ticket_and_the_outbox_resumes() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("minsheng-tests/crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let card = app.card("李家庄村");
    let before = app.count("SELECT COUNT(*) FROM tickets").await;

    let mut child = serve(&app, &dir, port);
    ready(&base, &mut child).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut load = vec![];
    for worker in 0..16u32 {
        let (ledger, stop, client, base, card) =
            (ledger.clone(), stop.clone(), client.clone(), base.clone(), card.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = uuid::Uuid::new_v4().to_string();
                let phone = format!("137{:04}{:04}", worker, n);
                n += 1;
                let no = intake(&client, &base, &card, &key, &phone).await;
                let failed = no.is_none();
                ledger.lock().unwrap().sent.push((key, phone, no));
                if failed {
                    // The server is gone: this phone would try again later, with the same key.
                    break;
                }
            }
        }));
    }
    // Kill once a good number of intakes were answered: the state, not a time.
    let start = Instant::now();
    while ledger.lock().unwrap().sent.iter().filter(|s| s.2.is_some()).count() < 150 {
        assert!(start.elapsed() < Duration::from_secs(60), "no intake load");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap(); // SIGKILL
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed, not exited");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let sent = std::mem::take(&mut ledger.lock().unwrap().sent);
    let acknowledged: Vec<_> = sent.iter().filter(|s| s.2.is_some()).collect();
    let lost_answers: Vec<_> = sent.iter().filter(|s| s.2.is_none()).collect();
    let unsent = app.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").await;
    let claimed = app.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent' AND locked_until IS NOT NULL").await;

    // Every acknowledged ticket is there, once, with its ledger.
    for (_, phone, no) in &acknowledged {
        let sql = format!(
            "SELECT COUNT(*) FROM tickets WHERE no = '{}' AND requester_phone = '{phone}'",
            no.as_ref().unwrap()
        );
        assert_eq!(app.count(&sql).await, 1, "acknowledged ticket {no:?}");
    }
    let in_flight = app.count("SELECT COUNT(*) FROM tickets").await - before - acknowledged.len() as i64;
    assert!(in_flight >= 0 && in_flight <= lost_answers.len() as i64, "{in_flight} unacknowledged tickets");

    // Restarted on the same database; the phones whose answer was lost send again, same keys.
    let mut child = serve(&app, &dir, port);
    let restart = ready(&base, &mut child).await;
    for (key, phone, _) in &lost_answers {
        let no = intake(&client, &base, &card, key, phone).await.expect("the retry is answered");
        let sql = format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND requester_phone = '{phone}'");
        assert_eq!(app.count(&sql).await, 1);
    }
    let total = app.count("SELECT COUNT(*) FROM tickets").await - before;
    assert_eq!(total, sent.len() as i64, "one ticket per request sent, none twice");
    let dup_phones = "SELECT COUNT(*) FROM (SELECT requester_phone FROM tickets WHERE requester_phone LIKE '137%' \
                      GROUP BY requester_phone HAVING COUNT(*) > 1) d";
    assert_eq!(app.count(dup_phones).await, 0, "no request taken twice");
    let no_ledger = "SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id)";
    assert_eq!(app.count(no_ledger).await, 0, "every ticket has its first ledger event");
    // Every confirmation is sent by the new process's workers (the console provider).
    let drain = Instant::now();
    let confirmations = "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id \
                         WHERE o.kind = 'confirmation' AND t.requester_phone LIKE '137%'";
    let sent_confirmations = format!("{confirmations} AND o.status = 'sent'");
    assert_eq!(app.count(confirmations).await, total, "one confirmation per ticket, in the same commit");
    while app.count(&sent_confirmations).await < total {
        if drain.elapsed() > Duration::from_secs(60) {
            let stmt = sea_orm::Statement::from_string(
                app.state.db.backend(),
                "SELECT status || ' ' || kind || ' ' || CAST(COUNT(*) AS TEXT) FROM outbox GROUP BY status, kind"
                    .to_string(),
            );
            let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
            let seen: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
            panic!("the outbox did not resume within 60 s: {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = drain.elapsed();
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "kill -9 drill ({}): {} requests, {} acknowledged before the kill, {} answers lost ({in_flight} of them \
         committed), {unsent} messages unsent at the kill ({claimed} claimed by the dead worker); restart ready in {:.2} s; retries made {} tickets, \
         0 twice; outbox drained in {:.2} s",
        crate::helpers::backend(),
        sent.len(),
        acknowledged.len(),
        lost_answers.len(),
        restart.as_secs_f64(),
        total - acknowledged.len() as i64 - in_flight,
        drained.as_secs_f64()
    );
}
