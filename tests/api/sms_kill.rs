//! Workers killed mid-batch, again and again: counted at the provider, every message arrives at
//! least once and none is accepted twice under its idempotency key (OutId).
use crate::helpers::spawn_app_with;
use crate::sms_fakes;
use crate::sms_support::{enqueue, reload};
use chrono::Duration;
use minsheng::workers::outbox::{run_loop, run_pass};
use std::collections::HashMap;

#[tokio::test]
async fn workers_killed_mid_batch_lose_nothing_and_nothing_is_accepted_twice() {
    let fake = sms_fakes::aliyun().await;
    fake.set_delay(std::time::Duration::from_millis(15));
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
        s.sms.batch_size = 8;
        s.sms.lease_seconds = 120;
        s.sms.poll_ms = 10;
        s.sms.concurrency = 2;
    })
    .await;
    let ids = enqueue(&app, 60).await;
    let mut kills = 0;
    for round in 0..40 {
        // Two worker processes run for a moment, then both die wherever they are.
        let workers: Vec<_> =
            (0..2).map(|_| tokio::spawn(run_loop(app.state.clone(), std::time::Duration::from_millis(10)))).collect();
        tokio::time::sleep(std::time::Duration::from_millis(120 + 17 * (round % 5))).await;
        for w in &workers {
            w.abort();
        }
        for w in workers {
            let _ = w.await;
        }
        kills += 2;
        // The dead workers' claims run out.
        app.state.time.advance(Duration::seconds(121));
        if app.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").await == 0 {
            break;
        }
    }
    // Whatever is left, a last worker finishes.
    while run_pass(&app.state, app.state.now()).await.unwrap().claimed > 0 {}
    for id in &ids {
        assert_eq!(reload(&app, *id).await.status, "sent", "message {id}");
    }
    let seen = fake.seen();
    let mut arrivals: HashMap<String, usize> = HashMap::new();
    let mut acceptances: HashMap<String, usize> = HashMap::new();
    for s in &seen {
        *arrivals.entry(s.key.clone()).or_default() += 1;
        if s.accepted && !s.replay {
            *acceptances.entry(s.key.clone()).or_default() += 1;
        }
    }
    for id in &ids {
        let key = id.to_string();
        assert!(arrivals.get(&key).copied().unwrap_or(0) >= 1, "message {id} never reached the provider");
        assert_eq!(acceptances.get(&key).copied(), Some(1), "message {id} accepted exactly once by its key");
    }
    let replays = seen.iter().filter(|s| s.replay).count();
    // A kill can only catch the messages a worker has waiting on the provider (2 each).
    assert!(replays <= kills * 2, "{replays} replays for {kills} kills");
    assert_eq!(fake.bad_signatures(), 0);
    eprintln!("kill test: {} requests for {} messages, {replays} replays after {kills} kills", seen.len(), ids.len());
}
