//! Asking the provider before sending again (issue 21, point 4): a message whose last send may have
//! reached Alibaba or Tencent (a timeout after sending, a worker that died holding the claim) is looked
//! up with QuerySendDetails / PullSmsSendStatusByPhoneNumber first; found → sent, never twice; not
//! found after the receipt window → sent again; the query failing → asked again later, never sent
//! blind. And the drill: the primary provider down for ten minutes.
use crate::helpers::{TestApp, spawn_app_with};
use crate::sms_fakes::{self, Answer, Fake};
use crate::sms_support::{enqueue, reload};
use chrono::Duration;
use minsheng::repo;
use minsheng::sms::values::ProviderName;
use minsheng::workers::outbox::run_pass;

const LATE: std::time::Duration = std::time::Duration::from_secs(2);

/// `primary` first, the other second; the client gives up after 300 ms.
async fn app_with(
    primary: &str,
    aliyun: &Fake,
    tencent: &Fake,
    adjust: impl FnOnce(&mut minsheng::configuration::Settings),
) -> TestApp {
    let (a, t, primary) = (aliyun.uri(), tencent.uri(), primary.to_string());
    spawn_app_with(move |s| {
        sms_fakes::use_aliyun(s, &a);
        sms_fakes::use_tencent(s, &t);
        s.sms.aliyun.common.timeout_ms = 300;
        s.sms.tencent.common.timeout_ms = 300;
        s.sms.secondary = if primary == "aliyun" { "tencent".into() } else { "aliyun".into() };
        s.sms.provider = primary;
        adjust(s);
    })
    .await
}

async fn log(app: &TestApp, id: i64) -> Vec<String> {
    let attempts = repo::sms::attempts_of(&app.state.db.conn, id).await.unwrap();
    attempts.iter().map(|a| format!("{}:{}", a.provider.as_str(), a.outcome.as_str())).collect()
}

fn sends(fake: &Fake, id: i64) -> usize {
    fake.seen().iter().filter(|s| s.key == id.to_string()).count()
}

/// The provider takes the message and answers too late; 200 s later the worker asks, finds it, and
/// marks it delivered (the records say so) without a second request to anyone.
async fn a_late_answer_is_found_and_not_sent_again(primary: &str) {
    let (aliyun, tencent) = (sms_fakes::aliyun().await, sms_fakes::tencent().await);
    let app = app_with(primary, &aliyun, &tencent, |_| {}).await;
    let (first, second) = if primary == "aliyun" { (&aliyun, &tencent) } else { (&tencent, &aliyun) };
    first.script([Answer::Hang(LATE)]);
    let id = enqueue(&app, 1).await[0];
    let now = app.state.now();
    let pass = run_pass(&app.state, now).await.unwrap();
    assert_eq!((pass.sent, pass.retried, pass.queried), (0, 1, 0));
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert_eq!(m.doubt_provider.map(|p| p.as_str().to_string()).as_deref(), Some(primary));
    assert_eq!(first.deliveries().get(&id.to_string()), Some(&1), "the provider did take it");

    let later = now + Duration::seconds(200);
    let pass = run_pass(&app.state, later).await.unwrap();
    assert_eq!((pass.claimed, pass.queried, pass.found, pass.sent), (1, 1, 1, 1));
    assert_eq!(sends(first, id), 1, "no second SendSms");
    assert!(second.seen().is_empty(), "no failover either");
    assert_eq!(first.queries(), 1);
    assert_eq!(log(&app, id).await, [format!("{primary}:unknown"), format!("{primary}:found")]);
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("delivered", 1), "a query is not another attempt");
    assert_eq!(m.provider.map(|p| p.as_str().to_string()).as_deref(), Some(primary));
    assert_eq!(m.doubt_since, None);
    if primary == "tencent" {
        assert_eq!(m.provider_message_id, tencent.accepted().get(&id.to_string()).cloned(), "the SerialNo");
    }
    assert_eq!(m.receipt_code.as_deref(), Some(if primary == "aliyun" { "DELIVERED" } else { "DELIVRD" }));
    // Nothing left to do.
    assert_eq!(run_pass(&app.state, later + Duration::seconds(3600)).await.unwrap().claimed, 0);
    assert_eq!((aliyun.bad_signatures(), tencent.bad_signatures()), (0, 0));
}

#[tokio::test]
async fn aliyun_a_late_answer_is_found_by_query_send_details_and_not_sent_again() {
    a_late_answer_is_found_and_not_sent_again("aliyun").await;
}

#[tokio::test]
async fn tencent_a_late_answer_is_found_by_the_per_number_pull_and_not_sent_again() {
    a_late_answer_is_found_and_not_sent_again("tencent").await;
}

#[tokio::test]
async fn a_send_the_provider_never_received_goes_again_after_the_query_says_not_found() {
    for primary in ["aliyun", "tencent"] {
        let (aliyun, tencent) = (sms_fakes::aliyun().await, sms_fakes::tencent().await);
        let app = app_with(primary, &aliyun, &tencent, |_| {}).await;
        let first = if primary == "aliyun" { &aliyun } else { &tencent };
        first.script([Answer::Lost(LATE)]);
        let id = enqueue(&app, 1).await[0];
        let now = app.state.now();
        assert_eq!(run_pass(&app.state, now).await.unwrap().retried, 1);
        assert!(first.deliveries().is_empty(), "lost on the way");
        let pass = run_pass(&app.state, now + Duration::seconds(200)).await.unwrap();
        assert_eq!((pass.queried, pass.found, pass.sent), (1, 0, 1), "{primary}");
        assert_eq!(
            log(&app, id).await,
            [format!("{primary}:unknown"), format!("{primary}:not_found"), format!("{primary}:sent")]
        );
        assert_eq!(first.deliveries().get(&id.to_string()), Some(&1), "{primary}: delivered once");
        assert_eq!(first.queries(), 1);
        let m = reload(&app, id).await;
        assert_eq!((m.status.as_str(), m.attempts, m.doubt_since), ("sent", 2, None));
    }
}

#[tokio::test]
async fn a_failing_query_is_asked_again_later_and_nothing_is_sent_blind() {
    let (aliyun, tencent) = (sms_fakes::aliyun().await, sms_fakes::tencent().await);
    let app = app_with("aliyun", &aliyun, &tencent, |_| {}).await;
    aliyun.script([Answer::Hang(LATE)]);
    let id = enqueue(&app, 1).await[0];
    let now = app.state.now();
    run_pass(&app.state, now).await.unwrap();
    aliyun.set_down(true);
    let t = now + Duration::seconds(200);
    let pass = run_pass(&app.state, t).await.unwrap();
    assert_eq!((pass.queried, pass.sent, pass.deferred), (1, 0, 1));
    assert_eq!(sends(&aliyun, id), 1);
    assert!(tencent.seen().is_empty(), "not sent blind through the other provider");
    let m = reload(&app, id).await;
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert!(m.last_error.as_deref().unwrap_or_default().contains("status query failed"), "{:?}", m.last_error);
    assert!(m.next_attempt_at > t && m.doubt_since.is_some());
    assert_eq!(log(&app, id).await, ["aliyun:unknown", "aliyun:query_failed"]);
    // Back up: asked again, found, still one SendSms.
    aliyun.set_down(false);
    let pass = run_pass(&app.state, m.next_attempt_at).await.unwrap();
    assert_eq!((pass.queried, pass.found), (1, 1));
    assert_eq!(sends(&aliyun, id), 1);
    assert_eq!(log(&app, id).await, ["aliyun:unknown", "aliyun:query_failed", "aliyun:found"]);
    // The provider-health answer does not take answered queries for failures.
    let h = repo::sms::health(&app.state.db.conn, ProviderName::Aliyun, now - Duration::days(1)).await.unwrap();
    assert_eq!(h.last_error.map(|a| a.outcome.as_str().to_string()).as_deref(), Some("query_failed"));
}

#[tokio::test]
async fn a_claim_that_ran_out_is_asked_about_at_every_provider_and_sent_after_the_receipt_window() {
    let (aliyun, tencent) = (sms_fakes::aliyun().await, sms_fakes::tencent().await);
    let app = app_with("tencent", &aliyun, &tencent, |s| {
        s.sms.lease_seconds = 60;
        s.sms.unknown_wait_seconds = 120;
    })
    .await;
    let id = enqueue(&app, 1).await[0];
    let t0 = app.state.now();
    // A worker claims the message and dies before its request leaves.
    let tx = app.state.db.begin().await.unwrap();
    repo::outbox::claim_due(&*tx, t0, Duration::seconds(60), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(run_pass(&app.state, t0 + Duration::seconds(30)).await.unwrap().claimed, 0, "the lease holds");
    // The lease ran out; the send may have gone to either provider: both are asked. Tencent lists a
    // message only once its report is in, so "not found" 61 s after the send proves nothing yet.
    let pass = run_pass(&app.state, t0 + Duration::seconds(61)).await.unwrap();
    assert_eq!((pass.claimed, pass.queried, pass.sent, pass.deferred), (1, 1, 0, 1));
    assert_eq!((tencent.queries(), aliyun.queries()), (1, 1));
    let m = reload(&app, id).await;
    assert_eq!((m.doubt_since.is_some(), m.doubt_provider, m.attempts), (true, None, 0));
    assert!(m.next_attempt_at >= t0 + Duration::milliseconds(119_999), "{}", m.next_attempt_at);
    assert!(tencent.seen().is_empty() && aliyun.seen().is_empty());
    // After the window: still nowhere, so it goes (through the primary).
    let pass = run_pass(&app.state, t0 + Duration::seconds(121)).await.unwrap();
    assert_eq!((pass.queried, pass.sent), (1, 1));
    assert_eq!(
        log(&app, id).await,
        ["tencent:not_found", "aliyun:not_found", "tencent:not_found", "aliyun:not_found", "tencent:sent"]
    );
    assert_eq!(tencent.deliveries().get(&id.to_string()), Some(&1));
    assert!(aliyun.seen().is_empty());
}

/// The drill: Alibaba (primary) starts failing — five requests time out (three it took, two lost on
/// the way) — then answers 503 to everything for ten minutes, while 200 messages are queued, ten every
/// 30 s. Tencent (secondary) takes them; the five in doubt wait until Alibaba can be asked again.
#[tokio::test]
async fn drill_the_primary_provider_down_for_ten_minutes() {
    let started = std::time::Instant::now();
    let (aliyun, tencent) = (sms_fakes::aliyun().await, sms_fakes::tencent().await);
    let app = app_with("aliyun", &aliyun, &tencent, |s| {
        s.sms.batch_size = 50;
        s.sms.concurrency = 4;
    })
    .await;
    aliyun.script([Answer::Hang(LATE), Answer::Hang(LATE), Answer::Hang(LATE), Answer::Lost(LATE), Answer::Lost(LATE)]);
    let step = Duration::seconds(30);
    let mut ids = Vec::new();
    let mut passes = 0;
    let mut max_backlog = 0;
    let drain = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            let mut n = 0;
            loop {
                n += 1;
                if run_pass(&state, state.now()).await.unwrap().claimed == 0 {
                    return n;
                }
            }
        }
    };
    // Ten minutes of outage: a batch every 30 s (5 at the start, then 10, then 5 at the end).
    for i in 0..=20 {
        let n = match i {
            0 | 20 => 5,
            _ => 10,
        };
        ids.extend(enqueue(&app, n).await);
        passes += drain(&app).await;
        if i == 0 {
            aliyun.set_down(true);
        }
        let backlog = app.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await;
        max_backlog = max_backlog.max(backlog);
        if i < 20 {
            app.state.time.advance(step);
        }
    }
    assert_eq!(ids.len(), 200);
    let during = tencent.deliveries().len();
    let pending_at_recovery = app.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await;
    aliyun.set_down(false);
    // Recovery: time moves on until nothing is pending.
    let mut after = Duration::zero();
    while app.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await > 0 {
        assert!(after < Duration::hours(3), "backlog not drained");
        app.state.time.advance(step);
        after += step;
        passes += drain(&app).await;
    }
    // Nothing lost, each message once, across both providers.
    let (a, t) = (aliyun.deliveries(), tencent.deliveries());
    for id in &ids {
        let m = reload(&app, *id).await;
        assert!(matches!(m.status.as_str(), "sent" | "delivered"), "message {id}: {}", m.status.as_str());
        let key = id.to_string();
        let n = a.get(&key).copied().unwrap_or(0) + t.get(&key).copied().unwrap_or(0);
        assert_eq!(n, 1, "message {id} reached phones {n} times");
    }
    assert_eq!(a.len() + t.len(), 200, "nothing but our messages");
    assert!(t.len() >= 190, "the secondary carried the outage: {}", t.len());
    assert_eq!(a.len(), 5, "the three Alibaba took, the two it lost sent again after recovery");
    assert!(aliyun.refused() > 0);
    let found = app.count("SELECT COUNT(*) FROM sms_attempts WHERE outcome = 'found'").await;
    let failed_queries = app.count("SELECT COUNT(*) FROM sms_attempts WHERE outcome = 'query_failed'").await;
    assert_eq!(found, 3);
    assert!(failed_queries > 0, "the queries failed while Alibaba was down");
    assert_eq!((aliyun.bad_signatures(), tencent.bad_signatures()), (0, 0));
    eprintln!(
        "drill: 200 messages queued in a 10-minute primary outage; delivered once each (primary {}, secondary {}); \
         {} delivered by the secondary during the outage, {} pending at recovery, max backlog {}; \
         primary refused {} requests (sends and queries); status queries: {} answered ({} found), {} failed while down; \
         backlog drained {} s (app clock) after recovery; {} passes, {:.1} s wall",
        a.len(),
        t.len(),
        during,
        pending_at_recovery,
        max_backlog,
        aliyun.refused(),
        aliyun.queries() + tencent.queries(),
        found,
        failed_queries,
        after.num_seconds(),
        passes,
        started.elapsed().as_secs_f64()
    );
}
