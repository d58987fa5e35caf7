//! Cards: issue, rotate, revoke; the public card answers 404/410 correctly.
use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn rotating_a_card_retires_the_old_code_and_raises_the_version() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let old = app.card("柳树沟村");
    let village = app.region_id("柳树沟村").await;
    let v: Value =
        app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await.json().await.unwrap();
    let new = v["code"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(v["version"], 2);
    let e = error_of(app.get(&format!("/api/v1/cards/{old}"), None).await, StatusCode::GONE).await;
    assert_eq!(e["code"], "card_rotated");
    assert_eq!(app.get(&format!("/api/v1/cards/{new}"), None).await.status(), StatusCode::OK);
    // Codes are case-insensitive for people typing them.
    assert_eq!(app.get(&format!("/api/v1/cards/{}", new.to_lowercase()), None).await.status(), StatusCode::OK);
    let e = error_of(app.get("/api/v1/cards/ZZZZZZZZZZ", None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(e["code"], "not_found");
    let list: Value = app.get("/api/v1/cards?per_page=50", Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["total"], 7);
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["village"]["name"] == "柳树沟村")
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "rotated"]);
}

#[tokio::test]
async fn revoking_a_card_makes_it_gone_and_only_staff_in_scope_may() {
    let app = spawn_app().await;
    let code = app.card("杏花村");
    let cadre = app.token("xinghua").await;
    assert_eq!(
        app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&cadre), &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let admin = app.token("admin").await;
    assert_eq!(
        app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &json!({})).await.status(),
        StatusCode::OK
    );
    let e = error_of(app.get(&format!("/api/v1/cards/{code}"), None).await, StatusCode::GONE).await;
    assert_eq!(e["code"], "card_revoked");
    let e = error_of(
        app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "card_not_active");
    // Cards go to villages only.
    let township = app.region_id("西河乡").await;
    assert_eq!(
        app.post(&format!("/api/v1/villages/{township}/cards"), Some(&admin), &json!({})).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
