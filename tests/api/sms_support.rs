//! Shared steps of the SMS tests: tickets at a given stage, outbox rows, callbacks.
use crate::helpers::TestApp;
use minsheng::repo::outbox::{OutboxFilter, OutboxMessage};
use minsheng::repo::{self, Page};
use minsheng::sms::templates;
use serde_json::json;

pub const CADRE_PHONE: &str = "13900000301";

/// Files a ticket at 李家庄村 and dispatches it to the village committee (cadre 李长河, 13900000301).
pub async fn dispatched(app: &TestApp, phone: &str) -> String {
    let no = app.file("李家庄村", phone).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    no
}

pub async fn messages(app: &TestApp, no: &str) -> Vec<OutboxMessage> {
    let t = repo::tickets::by_no(&app.state.db.conn, no).await.unwrap().expect("ticket");
    let f = OutboxFilter { ticket_id: Some(t.id), ..Default::default() };
    let mut rows = repo::outbox::list(&app.state.db.conn, &f, Page { page: 1, per_page: 100 }).await.unwrap().0;
    rows.reverse();
    rows
}

pub async fn message(app: &TestApp, no: &str, kind: &str) -> OutboxMessage {
    messages(app, no)
        .await
        .into_iter()
        .rev()
        .find(|m| m.kind.as_str() == kind)
        .unwrap_or_else(|| panic!("no {kind} for {no}"))
}

pub async fn reload(app: &TestApp, id: i64) -> OutboxMessage {
    repo::outbox::get(&app.state.db.conn, id).await.unwrap().expect("outbox row")
}

/// Writes `n` confirmation messages straight into the outbox (as intake would), to distinct phones.
pub async fn enqueue(app: &TestApp, n: usize) -> Vec<i64> {
    let now = app.state.now();
    let tx = app.state.db.begin().await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let no = format!("20261123-{:06}", i + 1);
        let msg = templates::confirmation("民声直达", &no, &format!("http://minsheng.test/t/{no}"));
        let phone = format!("138{:08}", i + 1);
        ids.push(repo::outbox::enqueue(&*tx, &msg, &phone, None, now).await.unwrap().id);
    }
    tx.commit().await.unwrap();
    ids
}

/// Posts a provider callback with the test token in the URL.
pub async fn hook(
    app: &TestApp,
    provider: &str,
    what: &str,
    token: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/hooks/sms/{provider}/{what}?token={token}")))
        .json(body)
        .send()
        .await
        .expect("request")
}

/// `2026-11-23 10:00:00`, the providers' Beijing-time format.
pub fn beijing(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string()
}
