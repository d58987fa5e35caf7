//! The ledger is append-only and a rewritten event is detected.
use crate::helpers::spawn_app;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_an_event() {
    let app = spawn_app().await;
    app.file("李家庄村", "13812345678").await;
    let db = &app.state.db.conn;
    assert!(db.execute_unprepared("UPDATE events SET note = 'x'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM events").await.is_err());
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, 1);
}

#[tokio::test]
async fn a_rewritten_event_breaks_verification_at_that_event() {
    let app = spawn_app().await;
    let no = app.to_accepted("杏花村", "xinghua", "13812345678").await;
    let inspector = app.token("inspector").await;
    let url = format!("/api/v1/tickets/{no}/ledger/verify");
    let v: Value = app.get(&url, Some(&inspector)).await.json().await.unwrap();
    assert_eq!(v, json!({"ok": true, "events": 4}));

    // Someone with database access bypasses the guard and rewrites the dispatch event (seq 3).
    let db = &app.state.db.conn;
    let disable = if app.state.db.is_postgres() {
        "ALTER TABLE events DISABLE TRIGGER events_append_only"
    } else {
        "DROP TRIGGER events_no_update"
    };
    db.execute_unprepared(disable).await.unwrap();
    db.execute_unprepared("UPDATE events SET note = '派给了别的单位' WHERE seq = 3").await.unwrap();
    let r = app.get(&url, Some(&inspector)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken_at"], 3);

    let fresh = app.ticket(&inspector, &no).await;
    assert_eq!(fresh["events"][2]["note"], "派给了别的单位");
}

#[tokio::test]
async fn deleting_the_latest_event_is_caught_by_the_head_hash() {
    let app = spawn_app().await;
    let no = app.to_accepted("河口村", "hekou", "13812345678").await;
    let db = &app.state.db.conn;
    let disable = if app.state.db.is_postgres() {
        "ALTER TABLE events DISABLE TRIGGER events_append_only"
    } else {
        "DROP TRIGGER events_no_delete"
    };
    db.execute_unprepared(disable).await.unwrap();
    db.execute_unprepared("DELETE FROM events WHERE seq = 4").await.unwrap();
    let inspector = app.token("inspector").await;
    let v: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["broken_at"], 4);
}
