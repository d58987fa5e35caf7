//! Workers killed mid-batch, again and again: counted at the provider, every message arrives exactly
//! once. Alibaba and Tencent do not deduplicate by OutId / SessionContext (PROTOCOLS §1c), so the
//! count below is what a villager's phone would see: every arrival the fake accepted, replays
//! included. What saves the messages a kill caught on their way is the status query the next worker
//! makes before sending a message whose claim ran out.
use crate::helpers::spawn_app_with;
use crate::sms_fakes;
use crate::sms_support::{enqueue, reload};
use chrono::Duration;
use minsheng::workers::outbox::{run_loop, run_pass};
use std::collections::HashMap;

#[tokio::test]
async fn workers_killed_mid_batch_lose_nothing_and_duplicate_nothing() {
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
        if app.count("SELECT COUNT(*) FROM outbox WHERE status NOT IN ('sent', 'delivered')").await == 0 {
            break;
        }
    }
    // Whatever is left, a last worker finishes.
    while run_pass(&app.state, app.state.now()).await.unwrap().claimed > 0 {}
    for id in &ids {
        // Delivered: found by the query, whose records already held the receipt.
        let status = reload(&app, *id).await.status;
        assert!(matches!(status.as_str(), "sent" | "delivered"), "message {id}: {}", status.as_str());
    }
    let seen = fake.seen();
    // Deliveries as a provider without deduplication makes them: every accepted request.
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for s in seen.iter().filter(|s| s.accepted) {
        *delivered.entry(s.key.clone()).or_default() += 1;
    }
    for id in &ids {
        assert!(delivered.get(&id.to_string()).copied().unwrap_or(0) >= 1, "message {id} never delivered");
    }
    assert_eq!(delivered.len(), ids.len(), "nothing but our messages");
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    // A claim that ran out is in doubt: Alibaba is asked (QuerySendDetails by OutId) before the
    // message goes again, so what a killed worker had already handed over is found, not resent.
    assert_eq!(duplicates, 0, "{duplicates} duplicates for {kills} kills");
    assert_eq!(seen.iter().filter(|s| s.replay).count(), 0);
    assert_eq!(fake.bad_signatures(), 0);
    let found = app.count("SELECT COUNT(*) FROM sms_attempts WHERE outcome = 'found'").await;
    let not_found = app.count("SELECT COUNT(*) FROM sms_attempts WHERE outcome = 'not_found'").await;
    eprintln!(
        "kill test: {} requests for {} messages, {duplicates} duplicates after {kills} kills; {} status queries: \
         {found} found (not resent), {not_found} not found (sent again)",
        seen.len(),
        ids.len(),
        fake.queries()
    );
}
