//! 追责红线 (issue 20 point 6) in headless Chromium: a leader reads a record, an inspector reviews it
//! and closes it as 问责; checked against the database afterwards.
use crate::helpers::spawn_app;
use crate::spec;
use chrono::Duration;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inspector_reviews_and_closes_a_record_with_its_evidence() {
    let app = spawn_app().await;
    let no = app.file("李家庄村", "13800006001").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    app.state.time.advance(Duration::hours(3));
    assert_eq!(minsheng::workers::accountability::run_once(&app.state, app.state.now()).await.unwrap(), 1);
    spec(&app.addr, "console_accountability", vec![("TICKET_NO", no.clone())]).await;
    let q = "SELECT COUNT(*) FROM accountability_records WHERE status = 'closed' AND decision = 'upheld' \
             AND decision_note = '约谈村委会主任'";
    assert_eq!(app.count(q).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'accountability_record'").await, 2);
}
