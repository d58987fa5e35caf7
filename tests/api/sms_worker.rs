//! The outbox worker with controlled time: backoff with jitter, dead after the last attempt,
//! failover, rate limits (ours and the provider's), quiet hours, opt-outs, several workers.
use crate::helpers::{TestApp, spawn_app_with};
use crate::sms_fakes::{self, Answer};
use crate::sms_support::{dispatched, enqueue, message, reload};
use chrono::{DateTime, Duration, TimeZone, Utc};
use minsheng::repo;
use minsheng::workers::outbox::run_pass;
use std::collections::HashSet;

async fn aliyun_app(fake: &sms_fakes::Fake, adjust: impl FnOnce(&mut minsheng::configuration::Settings)) -> TestApp {
    let uri = fake.uri();
    spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
        adjust(s);
    })
    .await
}

#[tokio::test]
async fn failures_back_off_with_jitter_and_the_message_dies_after_the_last_attempt() {
    let fake = sms_fakes::aliyun().await;
    fake.script(std::iter::repeat_n(Answer::Code("isp.SYSTEM_ERROR", "系统错误"), 3));
    let app = aliyun_app(&fake, |s| s.sms.max_attempts = 3).await;
    let id = enqueue(&app, 1).await[0];
    let mut now = app.state.now();
    for (attempt, ceiling) in [(1, 30), (2, 60)] {
        let pass = run_pass(&app.state, now).await.unwrap();
        assert_eq!((pass.sent, pass.retried, pass.dead), (0, 1, 0));
        let m = reload(&app, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", attempt));
        let wait = m.next_attempt_at - now;
        assert!(
            wait >= Duration::seconds(ceiling / 2) && wait <= Duration::seconds(ceiling),
            "attempt {attempt}: {wait}"
        );
        // Not due a moment before its time.
        assert_eq!(run_pass(&app.state, m.next_attempt_at - Duration::seconds(1)).await.unwrap().claimed, 0);
        now = m.next_attempt_at;
    }
    let pass = run_pass(&app.state, now).await.unwrap();
    assert_eq!(pass.dead, 1);
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("dead", 3));
    assert_eq!(repo::sms::attempts_of(&app.state.db.conn, id).await.unwrap().len(), 3);
    assert_eq!(fake.seen().len(), 3);
    assert_eq!(run_pass(&app.state, now + Duration::days(1)).await.unwrap().claimed, 0, "dead stays dead");
}

#[tokio::test]
async fn transient_errors_fail_over_to_the_secondary_in_the_same_attempt() {
    let primary = sms_fakes::aliyun().await;
    let secondary = sms_fakes::tencent().await;
    primary.script([Answer::Http(503, "busy")]);
    let uri = secondary.uri();
    let app = aliyun_app(&primary, move |s| {
        s.sms.secondary = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let id = enqueue(&app, 1).await[0];
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(pass.sent, 1);
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts, m.provider.map(|p| p.as_str())), ("sent", 1, Some("tencent")));
    let log = repo::sms::attempts_of(&app.state.db.conn, id).await.unwrap();
    let calls: Vec<(&str, &str)> = log.iter().map(|a| (a.provider.as_str(), a.outcome.as_str())).collect();
    assert_eq!(calls, [("aliyun", "transient"), ("tencent", "sent")]);
    assert_eq!(secondary.seen()[0].key, id.to_string());
    assert!(primary.accepted().is_empty());
}

#[tokio::test]
async fn a_message_both_providers_reject_is_dead_at_once() {
    let primary = sms_fakes::aliyun().await;
    let secondary = sms_fakes::tencent().await;
    primary.script([Answer::Code("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")]);
    secondary.script([Answer::Code("InvalidParameterValue.IncorrectPhoneNumber", "incorrect")]);
    let uri = secondary.uri();
    let app = aliyun_app(&primary, move |s| {
        s.sms.secondary = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let id = enqueue(&app, 1).await[0];
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().dead, 1);
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("dead", 1));
    assert!(m.last_error.unwrap().contains("IncorrectPhoneNumber"));
}

#[tokio::test]
async fn a_provider_rate_limit_defers_ordinary_messages_but_urgent_orders_fail_over() {
    let primary = sms_fakes::aliyun().await;
    let secondary = sms_fakes::tencent().await;
    let uri = secondary.uri();
    let app = aliyun_app(&primary, move |s| {
        s.sms.secondary = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let no = dispatched(&app, "13812345678").await;
    let limit = Answer::Code("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5");
    primary.script([limit.clone(), limit]);
    let now = app.state.now();
    run_pass(&app.state, now).await.unwrap();
    let confirmation = message(&app, &no, "confirmation").await;
    let assignment = message(&app, &no, "assignment").await;
    assert_eq!((confirmation.status.as_str(), confirmation.attempts), ("pending", 0));
    assert!(confirmation.next_attempt_at > now + Duration::seconds(4));
    assert_eq!(
        confirmation.next_attempt_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%M:%S").to_string(),
        "00:05"
    );
    assert_eq!((assignment.status.as_str(), assignment.provider.map(|p| p.as_str())), ("sent", Some("tencent")));
    let keys: Vec<String> = secondary.seen().into_iter().map(|s| s.key).collect();
    assert_eq!(keys, [assignment.id.to_string()], "the villager's message was not sent around the limit");
}

#[tokio::test]
async fn our_rate_limit_spreads_messages_over_seconds_without_counting_attempts() {
    let app = spawn_app_with(|s| s.sms.console.rate_per_second = 2).await;
    let ids = enqueue(&app, 5).await;
    let t = app.state.now() + Duration::seconds(1);
    let p = run_pass(&app.state, t).await.unwrap();
    assert_eq!((p.sent, p.deferred), (2, 3));
    assert_eq!(run_pass(&app.state, t).await.unwrap().claimed, 0, "the rest waits for the next second");
    assert_eq!(run_pass(&app.state, t + Duration::seconds(1)).await.unwrap().sent, 2);
    assert_eq!(run_pass(&app.state, t + Duration::seconds(2)).await.unwrap().sent, 1);
    for id in ids {
        let m = reload(&app, id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("sent", 1));
    }
}

/// The next `hh:mm` in county time after now.
fn next_local(h: u32, m: u32) -> DateTime<Utc> {
    let tz = chrono_tz::Asia::Shanghai;
    let now = Utc::now().with_timezone(&tz);
    let mut day = now.date_naive();
    loop {
        let t = tz.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap()).unwrap().to_utc();
        if t > Utc::now() + Duration::minutes(1) {
            return t;
        }
        day += Duration::days(1);
    }
}

#[tokio::test]
async fn quiet_hours_hold_villager_messages_until_morning_but_not_orders_to_cadres() {
    let app = spawn_app_with(|s| s.sms.quiet_hours.enabled = true).await;
    let no = dispatched(&app, "13812345678").await;
    let night = next_local(23, 30);
    let p = run_pass(&app.state, night).await.unwrap();
    assert_eq!((p.sent, p.deferred), (1, 1));
    assert_eq!(message(&app, &no, "assignment").await.status.as_str(), "sent");
    let c = message(&app, &no, "confirmation").await;
    assert_eq!((c.status.as_str(), c.attempts), ("pending", 0));
    assert_eq!(c.next_attempt_at, night + Duration::minutes(8 * 60 + 30));
    assert_eq!(run_pass(&app.state, c.next_attempt_at).await.unwrap().sent, 1);
}

#[tokio::test]
async fn opted_out_villagers_get_no_notices_but_cadres_still_get_orders() {
    let app = spawn_app_with(|_| {}).await;
    let tx = app.state.db.begin().await.unwrap();
    repo::sms::opt_out(&*tx, "13812345678", "test", None, app.state.now()).await.unwrap();
    repo::sms::opt_out(&*tx, crate::sms_support::CADRE_PHONE, "test", None, app.state.now()).await.unwrap();
    tx.commit().await.unwrap();
    let no = dispatched(&app, "13812345678").await;
    let p = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.sent, p.suppressed), (1, 1));
    let c = message(&app, &no, "confirmation").await;
    assert_eq!(c.status.as_str(), "suppressed");
    assert!(c.last_error.unwrap().starts_with("opted_out"));
    assert_eq!(message(&app, &no, "assignment").await.status.as_str(), "sent", "duty messages are essential");
}

#[tokio::test]
async fn several_workers_at_once_never_take_the_same_message() {
    let fake = sms_fakes::aliyun().await;
    fake.set_delay(std::time::Duration::from_millis(5));
    // A reply that comes late under a loaded machine must not count as a timeout (the message
    // would be put back for two minutes of the frozen clock and the loop would see no progress).
    let app = aliyun_app(&fake, |s| {
        s.sms.batch_size = 7;
        s.sms.aliyun.common.timeout_ms = 10_000;
    })
    .await;
    let ids = enqueue(&app, 40).await;
    let now = app.state.now();
    let mut sent = 0;
    while sent < ids.len() {
        let passes: Vec<_> = (0..4).map(|_| run_pass(&app.state, now)).collect();
        let done: usize = futures_util::future::join_all(passes).await.into_iter().map(|p| p.unwrap().sent).sum();
        assert!(done > 0, "progress");
        sent += done;
    }
    assert_eq!(sent, ids.len());
    let seen = fake.seen();
    assert_eq!(seen.len(), ids.len(), "each message reached the provider exactly once");
    let keys: HashSet<String> = seen.iter().map(|s| s.key.clone()).collect();
    let expected: HashSet<String> = ids.iter().map(|i| i.to_string()).collect();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn with_redis_the_rate_limit_is_shared_by_every_instance() {
    let app = spawn_app_with(|s| {
        s.redis.url = Some(secrecy::SecretString::from("redis://127.0.0.1:6379"));
        s.sms.console.rate_per_second = 2;
    })
    .await;
    // A second instance: its own gateway and Redis store, the same Redis (and key prefix).
    let mut other = app.state.clone();
    let store = minsheng::kv::redis_store::RedisStore::new(
        app.state.redis.clone().unwrap(),
        app.state.settings.redis.key_prefix.clone(),
    );
    let limiter = minsheng::kv::limiter::Limiter::new(std::sync::Arc::new(store));
    other.sms = std::sync::Arc::new(minsheng::sms::Gateway::from_settings(&app.state.settings, limiter).unwrap());
    // A second of its own, far ahead, so nothing else counts in the same Redis key.
    let t = app.state.now() + Duration::seconds(rand_offset());
    enqueue(&app, 2).await;
    assert_eq!(run_pass(&app.state, t).await.unwrap().sent, 2);
    // The other instance finds this second's budget spent (its own counter would be empty).
    enqueue(&app, 2).await;
    let p = run_pass(&other, t).await.unwrap();
    assert_eq!((p.claimed, p.sent, p.deferred), (2, 0, 2));
    assert_eq!(run_pass(&other, t + Duration::seconds(1)).await.unwrap().sent, 2);
}

fn rand_offset() -> i64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as i64;
    1_000_000 + nanos % 100_000_000
}

#[tokio::test]
async fn a_timeout_after_sending_waits_for_the_receipt_instead_of_sending_twice() {
    let primary = sms_fakes::aliyun().await;
    let secondary = sms_fakes::tencent().await;
    // The provider takes the request, then answers too late: it may well have sent the SMS.
    primary.script([Answer::Hang(std::time::Duration::from_secs(2)), Answer::Hang(std::time::Duration::from_secs(2))]);
    let uri = secondary.uri();
    let app = aliyun_app(&primary, move |s| {
        s.sms.aliyun.common.timeout_ms = 300;
        s.sms.secondary = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let ids = enqueue(&app, 2).await;
    let now = app.state.now();
    let pass = run_pass(&app.state, now).await.unwrap();
    assert_eq!((pass.sent, pass.retried), (0, 2));
    assert!(secondary.seen().is_empty(), "no failover while the first send may have gone");
    for id in &ids {
        let m = reload(&app, *id).await;
        assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
        let log = repo::sms::attempts_of(&app.state.db.conn, *id).await.unwrap();
        assert_eq!(log.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>(), ["unknown"], "{:?}", m.last_error);
        // (PostgreSQL keeps microseconds.)
        assert!(
            m.next_attempt_at >= now + Duration::milliseconds(119_999),
            "waits for a receipt: {} (now {now})",
            m.next_attempt_at
        );
    }
    // The first one's receipt arrives (Alibaba echoes OutId): it is delivered and never sent again.
    let report = serde_json::json!([{"phone_number": "13800000001", "success": true, "err_code": "DELIVERED",
        "err_msg": "用户接收成功", "biz_id": "", "out_id": ids[0].to_string(),
        "report_time": crate::sms_support::beijing(now)}]);
    let r = crate::sms_support::hook(&app, "aliyun", "status", sms_fakes::CALLBACK_TOKEN, &report).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(reload(&app, ids[0]).await.status.as_str(), "delivered");
    assert_eq!(reload(&app, ids[0]).await.doubt_since, None, "the receipt settles it");
    // No receipt for the second: after the wait the provider is asked (QuerySendDetails), whose
    // records show it took the message: marked as they say, not sent again (sms_query.rs has more).
    let later = now + Duration::seconds(200);
    let pass = run_pass(&app.state, later).await.unwrap();
    assert_eq!((pass.claimed, pass.queried, pass.found, pass.sent), (1, 1, 1, 1));
    assert_eq!(reload(&app, ids[1]).await.status.as_str(), "delivered");
    for id in &ids {
        let sends = primary.seen().iter().filter(|s| s.key == id.to_string()).count();
        assert_eq!(sends, 1, "message {id} reached the provider once");
    }
    assert!(secondary.seen().is_empty());
}
