use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn healthz_readyz_and_metrics_answer() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["database"], "ok");
    assert_eq!(v["redis"], "not_configured");
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains("minsheng_http_requests_total"), "{text}");
}

#[tokio::test]
async fn readyz_checks_redis_when_configured() {
    let app = crate::helpers::spawn_app_with(|s| s.redis.url = Some("redis://127.0.0.1:6379".to_string().into())).await;
    let v: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(v["redis"], "ok", "{v}");
}

#[tokio::test]
async fn unknown_paths_get_a_json_error() {
    let app = spawn_app().await;
    let e = error_of(app.get("/api/v1/nothing-here", None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(e["code"], "not_found");
}

#[tokio::test]
async fn an_internal_error_names_the_request_id_and_leaks_no_sql() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    // Break the database under a read: the calendar table is gone.
    let drop = match crate::helpers::backend().as_str() {
        "postgres" => "DROP TABLE calendar_years CASCADE",
        _ => "DROP TABLE calendar_years",
    };
    sea_orm::ConnectionTrait::execute_unprepared(&app.state.db.conn, drop).await.unwrap();
    let r = app.get("/api/v1/calendar", Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "internal_error");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&request_id), "the message names the request id {request_id}: {message}");
    assert!(!message.contains("calendar_years") && !message.to_lowercase().contains("select"), "{message}");
}
