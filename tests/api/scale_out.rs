//! Scale-out (issue 21, point 3): three `minsheng serve` processes on one PostgreSQL database and one
//! Redis, each with every worker on, started together so their workers race from the first second,
//! with mixed load put through all three. Shown: every SMS reaches the provider (a local fake that
//! checks each request's signature) exactly once per outbox row; every missed response is urged and
//! escalated exactly once; the weekly red/black list and its e-mails are made once; an abuse limit
//! counted in Redis holds across instances; tickets are numbered per day without gaps or twins.
//! PostgreSQL pass only (SQLite is one file on one machine: one instance).
use crate::helpers::{TestApp, backend, spawn_app};
use crate::sms_fakes::{self, HTTP_SECRET};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const INSTANCES: usize = 3;

struct Instance {
    child: tokio::process::Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One instance: the database and Redis of the test, the fake SMS gateway, quick pollers.
fn start(app: &TestApp, gateway: &str, prefix: &str) -> Instance {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("minsheng-tests/scale-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("configuration")).unwrap();
    // The gateway's settings as a county would write them in configuration/local.yaml.
    let yaml = format!(
        "sms:\n  provider: http\n  poll_ms: 50\n  lease_seconds: 30\n  quiet_hours:\n    enabled: false\n  http:\n    base_url: {gateway}\n    timeout_ms: 2000\n    hmac_secret: {HTTP_SECRET}\n    callback_secret: {HTTP_SECRET}\n    headers:\n      X-Api-Key: k-1\n    success_codes: [\"0\"]\n    rejected_codes: [\"E_NUMBER\"]\nlimits:\n  intake_per_ip: {{max: 100000, window_seconds: 60}}\n  intake_per_ip_daily: {{max: 100000, window_seconds: 86400}}\n  intake_per_card: {{max: 100000, window_seconds: 60}}\n  intake_per_phone: {{max: 3, window_seconds: 600}}\n  confirmation_sms_per_phone: {{max: 100000, window_seconds: 60}}\nemail:\n  smtp_url: console\n  leaders: [leader@qinghe.example, principal@qinghe.example]\n"
    );
    std::fs::write(dir.join("configuration/local.yaml"), yaml).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&dir)
        .env("MINSHENG__DATABASE__URL", app.state.settings.database.url.expose_secret())
        .env("MINSHENG__REDIS__URL", "redis://127.0.0.1:6379")
        .env("MINSHENG__REDIS__KEY_PREFIX", prefix)
        .env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start minsheng serve");
    Instance { child, base: format!("http://127.0.0.1:{port}"), dir }
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn intake_body(card: &str, phone: &str) -> Value {
    json!({"card_code": card, "category": "water.supply", "kind": "help",
           "description": "村东头自来水停了三天了，请尽快处理", "phone": phone})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_postgres_and_redis_do_everything_exactly_once() {
    if backend() != "postgres" {
        eprintln!("scale-out: runs in the PostgreSQL pass");
        return;
    }
    let app = spawn_app().await;
    let gateway = sms_fakes::http().await;
    let prefix = format!("ms-scale-{}:", uuid::Uuid::new_v4().simple());
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    let unit = app.unit_id("李家庄村村民委员会").await;
    // Twenty orders whose response is already missed when the instances start: their sweepers race.
    let mut missed = vec![];
    for i in 0..20 {
        let no = app.file("李家庄村", &format!("1350000{i:04}")).await;
        app.act_ok(&op, &no, "register", json!({})).await;
        app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
        missed.push(no);
    }
    let past = "UPDATE assignments SET respond_by = respond_by - INTERVAL '3 days', \
                respond_remind_at = respond_remind_at - INTERVAL '3 days', next_check_at = NOW() - INTERVAL '1 minute' \
                WHERE status = 'active' AND ticket_id IN (SELECT id FROM tickets WHERE requester_phone LIKE '1350000%')";
    app.count(&format!("WITH u AS ({past} RETURNING 1) SELECT COUNT(*) FROM u")).await;

    let started = Instant::now();
    let instances: Vec<Instance> = (0..INSTANCES).map(|_| start(&app, &gateway.uri(), &prefix)).collect();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    for i in &instances {
        let (client, base) = (client.clone(), i.base.clone());
        wait_until("instance ready", Duration::from_secs(60), || {
            let (client, base) = (client.clone(), base.clone());
            async move { client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK) }
        })
        .await;
    }
    let ready = started.elapsed();

    // Mixed load through all three: intakes, and each new ticket registered and dispatched through
    // the next instances (so one ticket's changes come through different processes).
    let card = app.card("李家庄村");
    let login = |base: String, user: &'static str| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": user, "password": crate::helpers::PASSWORD}))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
        }
    };
    let op_token = login(instances[1].base.clone(), "operator").await;
    let di_token = login(instances[2].base.clone(), "dispatcher").await;
    let mut tasks = vec![];
    for worker in 0..6usize {
        let (client, card, op_token, di_token) = (client.clone(), card.clone(), op_token.clone(), di_token.clone());
        let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
        tasks.push(tokio::spawn(async move {
            let mut made = vec![];
            for n in 0..10usize {
                let at = |k: usize| bases[(worker + n + k) % INSTANCES].clone();
                let phone = format!("1340{worker:03}{n:04}");
                let r = client
                    .post(format!("{}/api/v1/tickets", at(0)))
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&intake_body(&card, &phone))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
                let act = |base: String, token: &str, action: &str, body: Value| {
                    client.post(format!("{base}/api/v1/tickets/{no}/{action}")).bearer_auth(token).json(&body).send()
                };
                assert_eq!(act(at(1), &op_token, "register", json!({})).await.unwrap().status(), StatusCode::OK);
                let r = act(at(2), &di_token, "dispatch", json!({"unit_id": unit})).await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                made.push(no);
            }
            made
        }));
    }
    // One phone filing through each instance in turn: the fourth is over the limit of three, counted
    // in Redis whichever instance took the first three.
    let mut limited = vec![];
    for k in 0..4 {
        let base = &instances[k % INSTANCES].base;
        let r = client
            .post(format!("{base}/api/v1/tickets"))
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&intake_body(&card, "13399990000"))
            .send()
            .await
            .unwrap();
        limited.push(r.status());
    }
    let mut made = vec![];
    for t in tasks {
        made.extend(t.await.unwrap());
    }
    assert_eq!(made.len(), 60);
    assert_eq!(limited[..3], [StatusCode::CREATED; 3], "three from one phone are taken, through three instances");
    assert_eq!(limited[3], StatusCode::TOO_MANY_REQUESTS, "the fourth is refused: the count is shared");

    // Wait for the state: every SMS sent, every missed response escalated, the week's list made.
    let sms_open = "SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND status NOT IN ('sent', 'delivered', 'dead')";
    wait_until("the outbox drained", Duration::from_secs(120), || async { app.count(sms_open).await == 0 }).await;
    let escalated = "SELECT COUNT(DISTINCT e.ticket_id) FROM events e JOIN tickets t ON t.id = e.ticket_id \
                     WHERE e.action = 'escalate' AND t.requester_phone LIKE '1350000%'";
    wait_until("missed responses escalated", Duration::from_secs(120), || async {
        app.count(escalated).await == missed.len() as i64
    })
    .await;
    let due = minsheng::services::redblack::due_week(&app.state, app.state.now()).label();
    let lists = format!("SELECT COUNT(*) FROM redblack_lists WHERE week = '{due}'");
    wait_until("the week's red/black list and its e-mails", Duration::from_secs(120), || async {
        app.count(&lists).await == 1 && app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'weekly_report'").await > 0
    })
    .await;
    // The escalations and the weekly e-mails queued their own SMS and e-mail: drained too.
    wait_until("the outbox drained again", Duration::from_secs(120), || async { app.count(sms_open).await == 0 }).await;
    let settled = started.elapsed();

    // Exactly once: each missed response urged once and escalated once, by the system.
    for no in &missed {
        let per = |action: &str| {
            format!(
                "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id \
                 WHERE t.no = '{no}' AND e.action = '{action}' AND e.actor_kind = 'system'"
            )
        };
        assert_eq!(app.count(&per("urge")).await, 1, "{no} urged once");
        assert_eq!(app.count(&per("escalate")).await, 1, "{no} escalated once");
    }
    // Every SMS at the provider exactly once per outbox row.
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for s in gateway.seen() {
        *arrivals.entry(s.key).or_default() += 1;
    }
    let sms_rows =
        app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND status IN ('sent', 'delivered')").await;
    assert!(sms_rows > 100, "{sms_rows} messages");
    assert_eq!(arrivals.len() as i64, sms_rows, "each sent row reached the gateway");
    let twice: Vec<_> = arrivals.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(gateway.bad_signatures(), 0);
    // The week's list once, and its e-mail once to each leader (three instances queued it).
    assert_eq!(app.count(&lists).await, 1);
    let twice = "SELECT COUNT(*) FROM (SELECT recipient FROM outbox WHERE kind = 'weekly_report' \
                 GROUP BY recipient HAVING COUNT(*) > 1) d";
    assert_eq!(app.count(twice).await, 0, "a leader e-mailed twice");
    let weekly = app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'weekly_report'").await;
    assert_eq!(weekly, 2, "one e-mail to each of the two leaders");
    // Today's numbers: 1..N, no gap, no twin.
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y%m%d").to_string();
    let stmt = sea_orm::Statement::from_string(
        app.state.db.backend(),
        format!("SELECT no FROM tickets WHERE no LIKE '{today}-%' ORDER BY no"),
    );
    let rows = sea_orm::ConnectionTrait::query_all_raw(&app.state.db.conn, stmt).await.unwrap();
    let seqs: Vec<u32> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()[9..].parse().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u32).collect::<Vec<_>>(), "numbered 1..{} without gaps", seqs.len());
    eprintln!(
        "scale-out: {INSTANCES} instances ready in {:.2} s; 60 tickets filed, registered and dispatched across them, \
         {} missed responses urged and escalated once each, {sms_rows} SMS each sent once, {weekly} weekly e-mails, \
         {} tickets numbered 1..{} today; settled {:.1} s after start",
        ready.as_secs_f64(),
        missed.len(),
        seqs.len(),
        seqs.len(),
        settled.as_secs_f64()
    );
}
