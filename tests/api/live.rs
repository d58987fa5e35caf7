//! Live updates: the bus contract (in process and Redis), and the dashboard stream over HTTP.
use crate::helpers::{TestApp, backend, error_of, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use minsheng::live::memory::MemoryBus;
use minsheng::live::redis_bus::RedisBus;
use minsheng::live::{EventKind, LiveBus, LiveEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const REDIS: &str = "redis://127.0.0.1:6379";

fn event(no: &str, kind: EventKind) -> LiveEvent {
    LiveEvent {
        id: String::new(),
        kind,
        ticket_no: no.into(),
        category: "饮水".into(),
        category_code: "water.supply".into(),
        region_id: 5,
        region_path: "/1/2/5/".into(),
        township: Some("东坝镇".into()),
        village: Some("李家庄村".into()),
        status: "submitted".into(),
        at: chrono::DateTime::from_timestamp(1_765_000_000, 0).unwrap(),
    }
}

async fn next(s: &mut minsheng::live::EventStream) -> LiveEvent {
    tokio::time::timeout(Duration::from_secs(2), s.next()).await.expect("an event within 2 s").expect("open stream")
}

/// What every bus must do; `a` and `b` are two handles on one bus (two instances).
async fn bus_contract(a: Arc<dyn LiveBus>, b: Arc<dyn LiveBus>) {
    let mut on_a = a.subscribe().await.unwrap();
    let mut on_b = b.subscribe().await.unwrap();
    let doomed = b.subscribe().await.unwrap();
    drop(doomed); // a subscriber that went away does not stop publishing
    let sent = [event("20261206-000001", EventKind::Intake), event("20261206-000002", EventKind::Accept)];
    for e in &sent {
        a.publish(e).await.unwrap();
    }
    b.publish(&event("20261206-000003", EventKind::Resolve)).await.unwrap();
    for s in [&mut on_a, &mut on_b] {
        assert_eq!(next(s).await, sent[0], "every subscriber gets every event, whole and in order");
        assert_eq!(next(s).await, sent[1]);
        let third = next(s).await;
        assert_eq!((third.ticket_no.as_str(), third.kind), ("20261206-000003", EventKind::Resolve));
    }
    // A subscription sees only what is published after it.
    let mut late = a.subscribe().await.unwrap();
    a.publish(&event("20261206-000004", EventKind::ReturnVisit)).await.unwrap();
    assert_eq!(next(&mut late).await.ticket_no, "20261206-000004");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), late.next()).await.is_err(),
        "nothing more than was published"
    );
}

#[tokio::test]
async fn the_in_process_bus_keeps_the_contract() {
    let bus = MemoryBus::new(64);
    bus_contract(Arc::new(bus.clone()), Arc::new(bus)).await;
}

pub async fn redis_bus(prefix: &str) -> RedisBus {
    let client = redis::Client::open(REDIS).unwrap();
    let conn = redis::aio::ConnectionManager::new(client.clone()).await.expect("Redis at 127.0.0.1:6379");
    RedisBus::new(client, conn, prefix)
}

#[tokio::test]
async fn the_redis_bus_keeps_the_contract() {
    let prefix = format!("ms-test-{}:", uuid::Uuid::new_v4().simple());
    bus_contract(Arc::new(redis_bus(&prefix).await), Arc::new(redis_bus(&prefix).await)).await;
    // Another deployment's prefix is another channel.
    let other = redis_bus(&format!("ms-test-{}:", uuid::Uuid::new_v4().simple())).await;
    let mut quiet = other.subscribe().await.unwrap();
    redis_bus(&prefix).await.publish(&event("20261206-000009", EventKind::Intake)).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(300), quiet.next()).await.is_err());
}

/// One frame of an event stream (comment-only frames are skipped by `Sse::next`).
#[derive(Debug)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("data is JSON ({e}): {}", self.data))
    }
}

/// A client of `GET /api/v1/stream/dashboard` reading the body as it streams.
pub struct Sse {
    resp: reqwest::Response,
    buf: String,
    ended: bool,
}

impl Sse {
    /// Opens the stream with `query` (e.g. `?access_token=…`) and an optional bearer token and
    /// `Last-Event-ID`; answers the response when it is not a stream.
    pub async fn open(
        app: &TestApp,
        query: &str,
        bearer: Option<&str>,
        last: Option<&str>,
    ) -> Result<Sse, reqwest::Response> {
        // Asks for compression: an event stream must come uncompressed all the same.
        let mut rb =
            app.client.get(app.url(&format!("/api/v1/stream/dashboard{query}"))).header("Accept-Encoding", "gzip, br");
        if let Some(t) = bearer {
            rb = rb.bearer_auth(t);
        }
        if let Some(l) = last {
            rb = rb.header("Last-Event-ID", l);
        }
        let resp = rb.send().await.expect("request");
        if resp.status() != StatusCode::OK {
            return Err(resp);
        }
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let encoding = resp.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
        assert!(encoding.as_deref().is_none_or(|e| e == "identity"), "the stream is not compressed: {encoding:?}");
        Ok(Sse { resp, buf: String::new(), ended: false })
    }

    pub async fn ok(app: &TestApp, query: &str, bearer: Option<&str>) -> Sse {
        match Sse::open(app, query, bearer, None).await {
            Ok(s) => s,
            Err(r) => panic!("stream refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
        }
    }

    /// The next frame with an id, an event name or data, waiting at most `within`; `None` when
    /// none came in time or the stream ended.
    pub async fn next_within(&mut self, within: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut f = Frame { id: None, event: None, data: String::new() };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        f.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        f.event = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        f.data.push_str(v);
                    }
                }
                if f.id.is_some() || f.event.is_some() || !f.data.is_empty() {
                    return Some(f);
                }
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buf.push_str(std::str::from_utf8(&bytes).expect("UTF-8 frames")),
                Ok(_) => self.ended = true,
            }
        }
    }

    /// The next ticket event within 2 s (the issue's delivery bound).
    pub async fn event(&mut self) -> Frame {
        let f = self.next_within(Duration::from_secs(2)).await.expect("an event within 2 s");
        assert!(f.event.is_none(), "a ticket event, not {f:?}");
        f
    }

    /// Nothing more for `within`.
    pub async fn silent_for(&mut self, within: Duration) {
        if let Some(f) = self.next_within(within).await {
            panic!("unexpected frame {f:?}");
        }
    }
}

#[tokio::test]
async fn an_intake_reaches_an_open_stream_within_two_seconds_without_the_phone() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    let mut stream = Sse::ok(&app, "", Some(&leader)).await;
    let no = app.file("李家庄村", "13812345678").await;
    let f = stream.event().await;
    let e = f.json();
    assert_eq!(e["id"].as_str(), f.id.as_deref(), "the payload carries the SSE id");
    assert_eq!(e["kind"], "intake");
    assert_eq!(e["ticket_no"], no.as_str());
    let category = minsheng::repo::catalog::category(&app.state.db.conn, "water.supply").await.unwrap().unwrap();
    assert_eq!(e["category"], category.name.as_str());
    assert_eq!(e["category_code"], "water.supply");
    assert_eq!((e["township"].as_str(), e["village"].as_str()), (Some("东坝镇"), Some("李家庄村")));
    let village = app.region_id("李家庄村").await;
    assert_eq!(e["region_id"], village);
    assert!(e["region_path"].as_str().unwrap().ends_with(&format!("/{village}/")), "{e}");
    assert_eq!(e["status"], "submitted");
    assert!(e["at"].is_string());
    assert!(!f.data.contains("1381234") && !f.data.contains("5678") && !f.data.contains("phone"), "{}", f.data);
    assert!(!f.data.contains("name\"") && !f.data.contains("自来水"), "no name, no description: {}", f.data);

    // The handling steps follow, each once and in order.
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    let cl = app.token("caller").await;
    let body = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut kinds = vec![];
    let mut ids = vec![f.id.clone().unwrap()];
    for _ in 0..5 {
        let f = stream.event().await;
        kinds.push(f.json()["kind"].as_str().unwrap().to_string());
        ids.push(f.id.unwrap());
    }
    assert_eq!(kinds, ["dispatch", "accept", "resolve", "return_visit", "close"]);
    let seqs: Vec<u64> = ids.iter().map(|i| i.rsplit_once('-').unwrap().1.parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
}

#[tokio::test]
async fn a_refused_action_announces_nothing() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    let no = app.file("李家庄村", "13812345678").await;
    let mut stream = Sse::ok(&app, "", Some(&leader)).await;
    let ca = app.token("lijiazhuang").await;
    // Not dispatched yet: accepting is illegal and rolls back.
    let r = app.act(&ca, &no, "accept", json!({})).await;
    assert!(r.status().is_client_error());
    stream.silent_for(Duration::from_millis(700)).await;
}

#[tokio::test]
async fn a_township_leader_sees_only_the_township_and_a_county_leader_sees_all() {
    let app = spawn_app().await;
    let township = app.add_staff("leader-dongba", "东坝镇领导", "leader", "东坝镇").await;
    let county = app.token("leader").await;
    let mut mine = Sse::ok(&app, &format!("?access_token={township}"), None).await;
    let mut all = Sse::ok(&app, "", Some(&county)).await;
    let elsewhere = app.file("柳树沟村", "13812345678").await; // 西河乡
    let here = app.file("李家庄村", "13812345679").await; // 东坝镇
    // Events arrive in order: had the other township's come through, it would come first.
    assert_eq!(mine.event().await.json()["ticket_no"], here.as_str());
    mine.silent_for(Duration::from_millis(500)).await;
    assert_eq!(all.event().await.json()["ticket_no"], elsewhere.as_str());
    assert_eq!(all.event().await.json()["ticket_no"], here.as_str());
}

#[tokio::test]
async fn only_watching_roles_may_open_the_stream() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/stream/dashboard", None).await;
    error_of(r, StatusCode::UNAUTHORIZED).await;
    let r = app.get("/api/v1/stream/dashboard?access_token=not-a-token", None).await;
    error_of(r, StatusCode::UNAUTHORIZED).await;
    for who in ["operator", "caller", "lijiazhuang"] {
        let t = app.token(who).await;
        let r = app.get("/api/v1/stream/dashboard", Some(&t)).await;
        error_of(r, StatusCode::FORBIDDEN).await;
    }
    for who in ["leader", "inspector", "dispatcher", "admin"] {
        let t = app.token(who).await;
        Sse::ok(&app, &format!("?access_token={t}"), None).await;
    }
}

#[tokio::test]
async fn a_reconnecting_stream_gets_what_it_missed_or_a_reset() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    let mut first = Sse::ok(&app, "", Some(&leader)).await;
    let a = app.file("李家庄村", "13812345678").await;
    let seen = first.event().await.id.unwrap();
    drop(first);
    let b = app.file("石桥村", "13812345679").await;
    let c = app.file("杏花村", "13812345670").await;
    let mut again = Sse::open(&app, "", Some(&leader), Some(&seen)).await.unwrap();
    let replayed: Vec<String> = vec![again.event().await, again.event().await]
        .into_iter()
        .map(|f| f.json()["ticket_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(replayed, [b.clone(), c.clone()], "after {a}: the two it missed, in order");
    again.silent_for(Duration::from_millis(300)).await;

    // An id this instance never gave (another instance, before a restart): refetch.
    let mut stranger = Sse::open(&app, "", Some(&leader), Some("0badf00d-2")).await.unwrap();
    let f = stranger.next_within(Duration::from_secs(2)).await.unwrap();
    assert_eq!(f.event.as_deref(), Some("reset"));
    assert!(f.id.is_some(), "a reset carries the id to resume from");
    // Resuming from the reset's id replays nothing old and goes on live.
    let mut resumed = Sse::open(&app, "", Some(&leader), f.id.as_deref()).await.unwrap();
    resumed.silent_for(Duration::from_millis(300)).await;
    let d = app.file("河口村", "13812345671").await;
    assert_eq!(resumed.event().await.json()["ticket_no"], d.as_str());
}

#[tokio::test]
async fn streams_beyond_the_cap_are_refused_with_503_until_one_closes() {
    let app = spawn_app_with(|s| {
        s.live.max_streams = 1;
        s.live.heartbeat_seconds = 1;
    })
    .await;
    let leader = app.token("leader").await;
    let first = Sse::ok(&app, "", Some(&leader)).await;
    let r = app.get("/api/v1/stream/dashboard", Some(&leader)).await;
    let e = error_of(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(e["code"], "too_many_streams");
    assert!(e["message"].as_str().unwrap().contains("连接数已满"), "{e}");
    drop(first);
    // The slot comes back once the server notices the client left (at the latest at a heartbeat).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match app.get("/api/v1/stream/dashboard", Some(&leader)).await.status() {
            StatusCode::OK => break,
            s => assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE),
        }
        assert!(tokio::time::Instant::now() < deadline, "the slot was never given back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_intake_on_one_instance_reaches_a_stream_on_another_through_redis() {
    let prefix = format!("ms-test-{}:", uuid::Uuid::new_v4().simple());
    let with_redis = |s: &mut minsheng::configuration::Settings| {
        s.redis.url = Some(REDIS.to_string().into());
        s.redis.key_prefix = prefix.clone();
    };
    let a = spawn_app_with(with_redis).await;
    let url = secrecy::ExposeSecret::expose_secret(&a.state.settings.database.url).to_string();
    // The second instance on the same database (PostgreSQL, or the same SQLite file) and Redis.
    let b = crate::helpers::serve_database_with(url, |s| {
        s.redis.url = Some(REDIS.to_string().into());
        s.redis.key_prefix = prefix.clone();
    })
    .await;
    assert_eq!((a.state.live.bus_name(), b.state.live.bus_name()), ("redis", "redis"));
    let leader = b.token("leader").await;
    let mut on_b = Sse::ok(&b, "", Some(&leader)).await;
    let mut on_a = Sse::ok(&a, "", Some(&leader)).await;
    let card = a.card("李家庄村");
    let body = json!({"card_code": card, "category": "water.supply", "kind": "help",
                      "description": "村东头自来水停了三天了，请尽快处理", "phone": "13812345678"});
    let r = a.intake(&body, None).await;
    assert_eq!(r.status(), StatusCode::CREATED, "backend {}", backend());
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let f = on_b.event().await;
    assert_eq!(f.json()["ticket_no"], no.as_str());
    assert_eq!(f.json()["kind"], "intake");
    assert_eq!(on_a.event().await.json()["ticket_no"], no.as_str(), "and on the instance that took it");
    on_b.silent_for(Duration::from_millis(300)).await;
}
