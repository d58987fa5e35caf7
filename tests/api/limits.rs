//! Abuse limits and the key-value store behind them: one contract, run against the in-process store
//! and the real Redis server.
use crate::helpers::{TestApp, error_of, spawn_app_with};
use chrono::{TimeZone, Utc};
use minsheng::kv::KvStore;
use minsheng::kv::limiter::{Limit, Limiter};
use minsheng::kv::memory::MemoryStore;
use minsheng::kv::redis_store::RedisStore;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn redis_store() -> Arc<dyn KvStore> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let conn = redis::aio::ConnectionManager::new(client).await.expect("Redis on 127.0.0.1:6379");
    Arc::new(RedisStore::new(conn, format!("mstest:{}:", uuid::Uuid::new_v4().simple())))
}

/// The behaviour every store must have.
async fn contract(store: Arc<dyn KvStore>) {
    assert_eq!(store.get("missing").await.unwrap(), None);
    store.set("k", "v1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v1"));
    store.set("k", "v2", Duration::from_secs(60)).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v2"));
    store.del("k").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
    for n in 1..=5 {
        assert_eq!(store.incr("c", Duration::from_secs(60)).await.unwrap(), n);
    }
    assert_eq!(store.get("c").await.unwrap().as_deref(), Some("5"));
    // Several counters at once, in order, each with its own expiry (one Redis round trip).
    let many = |ms: u64| vec![("c".to_string(), Duration::from_secs(60)), ("m".to_string(), Duration::from_millis(ms))];
    assert_eq!(store.incr_many(&many(50)).await.unwrap(), [6, 1]);
    assert_eq!(store.incr_many(&many(50)).await.unwrap(), [7, 2]);
    assert_eq!(store.incr_many(&[]).await.unwrap(), Vec::<u64>::new());
    // Expiry reclaims entries (the only behaviour that needs real time: 50 ms).
    store.set("short", "x", Duration::from_millis(50)).await.unwrap();
    assert_eq!(store.incr("short-c", Duration::from_millis(50)).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert_eq!(store.incr("short-c", Duration::from_millis(50)).await.unwrap(), 1);
    assert_eq!(store.incr_many(&many(50)).await.unwrap(), [8, 1], "the second counter's own expiry");

    // The limiter over the store: windows chosen from `now`, Retry-After = the rest of the window.
    let limiter = Limiter::new(store);
    let limit = Limit { max: 3, window_seconds: 60 };
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 10).unwrap();
    for _ in 0..3 {
        limiter.hit("who", limit, t0).await.unwrap();
    }
    assert!(limiter.peek("who", limit, t0).await.is_err());
    let refused = limiter.hit("who", limit, t0).await.unwrap_err();
    assert_eq!(refused.retry_after, 50);
    assert!(limiter.hit("someone-else", limit, t0).await.is_ok());
    let next_window = t0 + chrono::Duration::seconds(50);
    assert!(limiter.peek("who", limit, next_window).await.is_ok());
    assert!(limiter.hit("who", limit, next_window).await.is_ok());
    // Several limits counted together: all are counted, the longest wait wins.
    let short = Limit { max: 1, window_seconds: 60 };
    let long = Limit { max: 2, window_seconds: 3600 };
    let checks = [("a".to_string(), short), ("b".to_string(), long)];
    assert!(limiter.hit_all(&checks, t0).await.is_ok());
    assert_eq!(limiter.hit_all(&checks, t0).await.unwrap_err().retry_after, 50, "only the minute is over");
    assert_eq!(limiter.hit_all(&checks, t0).await.unwrap_err().retry_after, 3590, "the hour too");
    assert!(limiter.peek("b", long, t0).await.is_err(), "the hour was counted with the refused minute");
}

#[tokio::test]
async fn the_in_process_store_keeps_the_contract() {
    contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn the_redis_store_keeps_the_contract() {
    contract(redis_store().await).await;
}

#[tokio::test]
async fn a_store_outage_never_refuses_a_villager() {
    let limiter = Limiter::new(Arc::new(minsheng::kv::Unavailable));
    for _ in 0..10 {
        assert!(limiter.hit("x", Limit { max: 1, window_seconds: 60 }, Utc::now()).await.is_ok());
    }
}

async fn limited_app(redis: bool) -> TestApp {
    let app = spawn_app_with(move |s| {
        s.limits.intake_per_ip = Limit { max: 6, window_seconds: 60 };
        s.limits.intake_per_phone = Limit { max: 2, window_seconds: 3600 };
        s.limits.intake_per_card = Limit { max: 2, window_seconds: 60 };
        s.limits.track_failures_per_ip = Limit { max: 3, window_seconds: 600 };
        if redis {
            s.redis.url = Some("redis://127.0.0.1:6379".to_string().into());
            s.redis.key_prefix = format!("mstest:{}:", uuid::Uuid::new_v4().simple());
        }
    })
    .await;
    app.at_window_start();
    app
}

async fn intake_limits_apply(app: TestApp) {
    let file = |village: &'static str, phone: &'static str| {
        let body = app.intake_body(village, phone);
        let app = &app;
        async move { app.intake(&body, None).await }
    };
    // Per phone: two, then refused with Retry-After.
    assert_eq!(file("李家庄村", "13800000001").await.status(), StatusCode::CREATED);
    assert_eq!(file("王家湾村", "13800000001").await.status(), StatusCode::CREATED);
    let r = file("石桥村", "13800000001").await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_of(r, StatusCode::TOO_MANY_REQUESTS).await["code"], "rate_limited");
    // Per card: two a minute from the same card.
    assert_eq!(file("杏花村", "13800000002").await.status(), StatusCode::CREATED);
    assert_eq!(file("杏花村", "13800000003").await.status(), StatusCode::CREATED);
    assert_eq!(file("杏花村", "13800000004").await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Per address: every try above counted (refused ones too), using up this minute's six.

    assert_eq!(file("河口村", "13800000005").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let tickets = app.count("SELECT COUNT(*) FROM tickets").await;
    assert_eq!(tickets, 4);
    // A minute later the address and the card may file again; staff are never limited.
    app.state.time.advance(chrono::Duration::seconds(61));
    assert_eq!(file("河口村", "13800000005").await.status(), StatusCode::CREATED);
    let op = app.token("operator").await;
    let village = app.region_id("河口村").await;
    for i in 0..3 {
        let body = json!({"region_id": village, "channel": "hotline", "category": "other", "description": "热线来电反映情况", "phone": format!("1380000010{i}")});
        assert_eq!(app.post("/api/v1/tickets", Some(&op), &body).await.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn intake_is_limited_per_phone_card_and_address_in_process() {
    intake_limits_apply(limited_app(false).await).await;
}

#[tokio::test]
async fn intake_is_limited_per_phone_card_and_address_with_redis() {
    intake_limits_apply(limited_app(true).await).await;
}

#[tokio::test]
async fn wrong_phone_tails_are_limited() {
    let app = limited_app(true).await;
    let no = app.file("李家庄村", "13812345678").await;
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=0000"), None).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let r = app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "after 3 wrong tries even the right tail waits");
    let page = app.get(&format!("/t/{no}?phone_tail=5678"), None).await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().await.unwrap().contains("稍后再试"));
    app.state.time.advance(chrono::Duration::minutes(11));
    let v: Value = app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert_eq!(v["no"], no.as_str());
    // Unknown numbers look exactly like wrong tails.
    let e =
        error_of(app.get("/api/v1/tickets/20200101-000001/public?phone_tail=5678", None).await, StatusCode::NOT_FOUND)
            .await;
    assert_eq!(e["code"], "not_found");
}

#[tokio::test]
async fn the_repeat_window_is_configurable() {
    let app = spawn_app_with(|s| s.intake.repeat_window_days = 0).await;
    app.file("杏花村", "13812345678").await;
    let v: Value = app.intake(&app.intake_body("杏花村", "13812345678"), None).await.json().await.unwrap();
    assert!(v.get("repeat_of").is_none(), "{v}");
}
