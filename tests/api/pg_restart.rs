//! Fault drill (issue 21, point 4): PostgreSQL restarted under intake load. The drill runs a
//! PostgreSQL cluster of its own (initdb in a temporary folder, its own port, as the `postgres`
//! user), so the shared server the other tests use is never touched. While it is down every request
//! is answered at once with a 503 in the contract, nothing is half-written, and when it is back
//! minsheng serves again without being restarted. Run in the PostgreSQL pass of the test command.
use crate::helpers::{backend, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn pg_bin(name: &str) -> String {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL from Debian");
    let mut found: Vec<_> =
        versions.flatten().map(|e| e.path().join("bin").join(name)).filter(|p| p.exists()).collect();
    found.sort();
    found.pop().expect("PostgreSQL server binaries").to_string_lossy().into_owned()
}

/// A command run as the `postgres` user (PostgreSQL refuses to run as root).
fn as_postgres(args: &[&str]) -> std::process::Output {
    Command::new("runuser").args(["-u", "postgres", "--"]).args(args).output().expect("runuser")
}

/// A throw-away PostgreSQL cluster: stopped and removed when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("minsheng-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(Command::new("chown").arg("postgres").arg(&dir).status().unwrap().success());
        let data = dir.join("data");
        let out = as_postgres(&[
            &pg_bin("initdb"),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let c = Cluster { dir, port };
        c.pg_ctl("start");
        c
    }

    fn pg_ctl(&self, what: &str) {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let mut args = vec![pg_bin("pg_ctl"), "-D".into(), data.display().to_string(), "-w".into()];
        match what {
            "start" => args.extend(["-l".into(), log.display().to_string(), "-o".into(), opts, "start".into()]),
            // An immediate stop is a crash as far as the server is concerned: recovery on start.
            "stop" => args.extend(["-m".into(), "immediate".into(), "stop".into()]),
            _ => unreachable!(),
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = as_postgres(&args);
        assert!(out.status.success(), "pg_ctl {what}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(&[&pg_bin("pg_ctl"), "-D", data.to_str().unwrap(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Seen {
    /// (key, phone, status, ms, error code)
    answers: Vec<(String, String, u16, u128, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_under_load_answers_503_at_once_writes_nothing_half_and_recovers() {
    if backend() != "postgres" {
        eprintln!("PostgreSQL restart drill: runs in the PostgreSQL pass");
        return;
    }
    let cluster = Cluster::start();
    let out = Command::new("psql").args([&cluster.url("postgres"), "-qc", "CREATE DATABASE drill"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = cluster.url("drill");
    let app = spawn_app_with(move |s| {
        s.database.url = url.into();
        let lots = minsheng::kv::limiter::Limit { max: 1_000_000, window_seconds: 60 };
        s.limits.intake_per_ip = lots;
        s.limits.intake_per_ip_daily = lots;
        s.limits.intake_per_phone = lots;
        s.limits.intake_per_card = lots;
    })
    .await;
    let card = app.card("李家庄村");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = vec![];
    for worker in 0..8u32 {
        let (seen, stop, client, url, card) =
            (seen.clone(), stop.clone(), app.client.clone(), app.url("/api/v1/tickets"), card.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = uuid::Uuid::new_v4().to_string();
                let phone = format!("136{worker:04}{n:04}");
                n += 1;
                let body = serde_json::json!({"card_code": card, "category": "water.supply", "kind": "help",
                    "description": "村东头自来水停了三天了，请尽快处理", "phone": phone});
                let t = Instant::now();
                let r = client.post(&url).header("Idempotency-Key", &key).json(&body).send().await.unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                let code = v["error"]["code"].as_str().unwrap_or_default().to_string();
                seen.lock().unwrap().answers.push((key, phone, status, t.elapsed().as_millis(), code));
                if status != 201 {
                    // A client told to come back later does not hammer.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let count_ok = |seen: &Arc<Mutex<Seen>>| seen.lock().unwrap().answers.iter().filter(|a| a.2 == 201).count();
    let wait_for = |target: usize, what: &'static str| {
        let seen = seen.clone();
        async move {
            let start = Instant::now();
            while count_ok(&seen) < target {
                assert!(start.elapsed() < Duration::from_secs(90), "{what}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(100, "intake load before the restart").await;
    // Down: an immediate stop (as a crash), then requests keep coming for a while.
    cluster.pg_ctl("stop");
    let down_at = seen.lock().unwrap().answers.len();
    let down = Instant::now();
    while seen.lock().unwrap().answers.len() < down_at + 40 {
        assert!(down.elapsed() < Duration::from_secs(90), "requests are answered while the database is down");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outage = down.elapsed();
    cluster.pg_ctl("start");
    let back = Instant::now();
    let ok_at_start = count_ok(&seen);
    wait_for(ok_at_start + 1, "intake again after the restart, without restarting minsheng").await;
    let recovered = back.elapsed();
    wait_for(ok_at_start + 50, "intake goes on after the restart").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let answers = std::mem::take(&mut seen.lock().unwrap().answers);
    let during: Vec<_> = answers[down_at..down_at + 40].to_vec();
    for (_, _, status, ms, code) in &during {
        assert!(
            *status == 201 || (*status == 503 && code == "unavailable"),
            "while down: {status} {code} after {ms} ms"
        );
    }
    let refused = during.iter().filter(|a| a.2 == 503).count();
    assert!(refused >= 30, "the database was down for these: {refused} of 40 refused");
    let slowest = during.iter().filter(|a| a.2 == 503).map(|a| a.3).max().unwrap();
    assert!(answers.iter().all(|a| a.2 == 201 || a.2 == 503), "only 201 or 503");
    // Nothing half-written: every 201 is one ticket with its ledger and messages; every refused
    // request, sent again with its key, makes exactly one ticket.
    for (_, phone, status, _, _) in &answers {
        let n = app.count(&format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{phone}'")).await;
        if *status == 201 {
            assert_eq!(n, 1, "acknowledged {phone}");
        } else {
            assert!(n <= 1, "refused {phone} written {n} times");
        }
    }
    let body = |phone: &str| {
        serde_json::json!({"card_code": card, "category": "water.supply", "kind": "help",
            "description": "村东头自来水停了三天了，请尽快处理", "phone": phone})
    };
    for (key, phone, status, _, _) in answers.iter().filter(|a| a.2 != 201) {
        let r = app.intake(&body(phone), Some(key)).await;
        assert_eq!(r.status(), StatusCode::CREATED, "retry of {status}");
        let n = app.count(&format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{phone}'")).await;
        assert_eq!(n, 1, "retried {phone}");
    }
    let no_ledger = "SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id)";
    assert_eq!(app.count(no_ledger).await, 0);
    let no_message = "SELECT COUNT(*) FROM tickets t WHERE t.requester_phone LIKE '136%' AND NOT EXISTS \
                      (SELECT 1 FROM outbox o WHERE o.ticket_id = t.id AND o.kind = 'confirmation')";
    assert_eq!(app.count(no_message).await, 0);
    eprintln!(
        "PostgreSQL restart drill: {} requests; down for {:.2} s ({} of the 40 requests then answered 503 \
         unavailable, slowest {} ms); first ticket again {:.2} s after PostgreSQL was ready; retries made {} tickets, none twice",
        answers.len(),
        outage.as_secs_f64(),
        refused,
        slowest,
        recovered.as_secs_f64(),
        answers.iter().filter(|a| a.2 != 201).count()
    );
}
