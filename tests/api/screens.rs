//! Screen tokens: made and revoked by an admin, stored as a hash, read-only, scoped to a region.
use crate::helpers::{error_of, spawn_app, spawn_app_with};
use crate::live::Sse;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;
use std::time::Duration;

#[tokio::test]
async fn an_admin_makes_a_screen_whose_token_is_shown_once_and_stored_as_a_hash() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let region = app.region_id("东坝镇").await;
    let r = app.post("/api/v1/screens", Some(&admin), &json!({"name": "东坝镇大厅", "region_id": region})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    let token = made["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("scr_") && token.len() > 40, "{made}");
    assert_eq!(made["url"], format!("http://minsheng.test/screen/?token={token}"));
    assert_eq!((made["name"].as_str(), made["region_id"].as_i64()), (Some("东坝镇大厅"), Some(region)));

    let list = app.get("/api/v1/screens", Some(&admin)).await.text().await.unwrap();
    assert!(list.contains("东坝镇大厅") && !list.contains(&token), "listed, token not shown again: {list}");
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM screens WHERE token_hash = '{hash}'")).await, 1);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM screens WHERE token_hash = '{token}'")).await, 0);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE entity = 'screen' AND action = 'create'";
    assert_eq!(app.count(audited).await, 1);
}

#[tokio::test]
async fn only_an_admin_makes_screens_and_only_for_an_existing_region_in_scope() {
    let app = spawn_app().await;
    let region = app.region_id("东坝镇").await;
    for who in ["leader", "dispatcher", "inspector"] {
        let t = app.token(who).await;
        let r = app.post("/api/v1/screens", Some(&t), &json!({"name": "大厅", "region_id": region})).await;
        error_of(r, StatusCode::FORBIDDEN).await;
        error_of(app.get("/api/v1/screens", Some(&t)).await, StatusCode::FORBIDDEN).await;
    }
    let admin = app.token("admin").await;
    let r = app.post("/api/v1/screens", Some(&admin), &json!({"name": "大厅", "region_id": 999_999})).await;
    assert_eq!(error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await["code"], "unknown_region");
    let r = app.post("/api/v1/screens", Some(&admin), &json!({"name": "  ", "region_id": region})).await;
    assert!(r.status().is_client_error());
    // A township's admin cannot make a screen for another township.
    let township_admin = app.add_staff("admin-xihe", "西河乡管理员", "admin", "西河乡").await;
    let r = app.post("/api/v1/screens", Some(&township_admin), &json!({"name": "大厅", "region_id": region})).await;
    error_of(r, StatusCode::FORBIDDEN).await;
}

async fn screen(app: &crate::helpers::TestApp, region: &str) -> (i64, String) {
    let admin = app.token("admin").await;
    let region = app.region_id(region).await;
    let r = app.post("/api/v1/screens", Some(&admin), &json!({"name": "大厅大屏", "region_id": region})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (v["id"].as_i64().unwrap(), v["token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_screen_token_opens_its_regions_stream_and_nothing_else() {
    let app = spawn_app().await;
    let (_, token) = screen(&app, "东坝镇").await;
    let mut stream = Sse::ok(&app, &format!("?access_token={token}"), None).await;
    let mut by_header = Sse::ok(&app, "", Some(&token)).await;
    let elsewhere = app.file("柳树沟村", "13812345678").await;
    let here = app.file("李家庄村", "13812345679").await;
    assert_eq!(stream.event().await.json()["ticket_no"], here.as_str(), "not {elsewhere} of 西河乡");
    assert_eq!(by_header.event().await.json()["ticket_no"], here.as_str());

    // Read-only: no staff route takes it.
    for path in ["/api/v1/tickets", &format!("/api/v1/tickets/{here}"), "/api/v1/screens", "/api/v1/stats/summary"] {
        let r = app.get(path, Some(&token)).await;
        error_of(r, StatusCode::UNAUTHORIZED).await;
    }
    let r = app.post(&format!("/api/v1/tickets/{here}/register"), Some(&token), &json!({})).await;
    error_of(r, StatusCode::UNAUTHORIZED).await;
    let r = app.post("/api/v1/screens", Some(&token), &json!({"name": "x", "region_id": 1})).await;
    error_of(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_revoked_screen_token_stops_at_once_including_open_streams() {
    let app = spawn_app_with(|s| s.live.heartbeat_seconds = 1).await;
    let (id, token) = screen(&app, "东坝镇").await;
    let mut open = Sse::ok(&app, &format!("?access_token={token}"), None).await;
    let admin = app.token("admin").await;
    let r = app.delete(&format!("/api/v1/screens/{id}"), &admin).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // New connections are refused at once…
    let r = app.get(&format!("/api/v1/stream/dashboard?access_token={token}"), None).await;
    assert_eq!(error_of(r, StatusCode::UNAUTHORIZED).await["code"], "token_revoked");
    // …and the open stream is told and closed at its next heartbeat.
    let f = open.next_within(Duration::from_secs(3)).await.expect("a frame");
    assert_eq!(f.event.as_deref(), Some("revoked"), "{f:?}");
    assert!(open.next_within(Duration::from_secs(2)).await.is_none(), "the stream ended");
    // Revoked once; the list says so; the audit log has it.
    let r = app.delete(&format!("/api/v1/screens/{id}"), &admin).await;
    error_of(r, StatusCode::NOT_FOUND).await;
    let list: Value = app.get("/api/v1/screens", Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["items"][0]["active"], false);
    let audited = "SELECT COUNT(*) FROM audit_log WHERE entity = 'screen' AND action = 'revoke'";
    assert_eq!(app.count(audited).await, 1);
}

#[tokio::test]
async fn a_deactivated_staff_members_open_stream_ends_too() {
    let app = spawn_app_with(|s| s.live.heartbeat_seconds = 1).await;
    let t = app.add_staff("leader-temp", "临时领导", "leader", "东坝镇").await;
    let mut open = Sse::ok(&app, "", Some(&t)).await;
    let sql = "UPDATE staff SET active = false WHERE username = 'leader-temp'";
    sea_orm::ConnectionTrait::execute_unprepared(&app.state.db.conn, sql).await.unwrap();
    let f = open.next_within(Duration::from_secs(3)).await.expect("a frame");
    assert_eq!(f.event.as_deref(), Some("revoked"));
}
