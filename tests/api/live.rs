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
