//! Every staff route checks role and region/unit scope.
use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_cadre_of_one_village_cannot_read_or_act_on_another_villages_ticket() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let other = app.token("wangjiawan").await;
    let e = error_of(app.get(&format!("/api/v1/tickets/{no}"), Some(&other)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "out_of_scope");
    assert_eq!(app.act(&other, &no, "progress", json!({"note": "x"})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&other)).await.status(),
        StatusCode::FORBIDDEN
    );
    // Their list does not show it; the owner's does.
    let list: Value = app.get("/api/v1/tickets", Some(&other)).await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    let owner = app.token("lijiazhuang").await;
    let list: Value = app.get("/api/v1/tickets", Some(&owner)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["no"], no.as_str());
    assert_eq!(list["items"][0]["phone"], "138****5678");
    // The owner acts; nothing the other tried was written.
    assert_eq!(app.count("SELECT COUNT(*) FROM events WHERE action = 'progress'").await, 0);
    app.act_ok(&owner, &no, "progress", json!({"note": "正在处理"})).await;
}

#[tokio::test]
async fn roles_are_checked_per_action() {
    let app = spawn_app().await;
    let no = app.file("石桥村", "13812345678").await;
    let cadre = app.token("shiqiao").await;
    let caller = app.token("caller").await;
    let leader = app.token("leader").await;
    let inspector = app.token("inspector").await;
    // Only operators/dispatchers register; a cadre cannot even read an order not given to them.
    assert_eq!(app.act(&cadre, &no, "register", json!({})).await.status(), StatusCode::FORBIDDEN);
    let e = error_of(app.act(&caller, &no, "register", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "forbidden");
    assert_eq!(app.act(&leader, &no, "invalid", json!({"reason": "x"})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.act(&inspector, &no, "urge", json!({})).await.status(), StatusCode::FORBIDDEN);
    // An inspector reads and verifies.
    assert_eq!(app.get(&format!("/api/v1/tickets/{no}"), Some(&inspector)).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.status(),
        StatusCode::OK
    );
    // The outbox is for admins only; return visits for callers.
    assert_eq!(app.get("/api/v1/outbox", Some(&leader)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/return-visits/queue", Some(&leader)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/return-visits/queue", Some(&caller)).await.status(), StatusCode::OK);
    // Only callers record return visits.
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&leader),
            &json!({"reached": false, "channel": "phone"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_township_dispatcher_is_limited_to_their_township() {
    let app = spawn_app().await;
    let tok = app.add_staff("dongba-dispatcher", "东坝派单员", "dispatcher,operator", "东坝镇").await;
    let mine = app.file("王家湾村", "13812345678").await;
    let theirs = app.file("河口村", "13812345679").await;
    app.act_ok(&tok, &mine, "register", json!({})).await;
    assert_eq!(app.act(&tok, &theirs, "register", json!({})).await.status(), StatusCode::FORBIDDEN);
    // May dispatch inside the township, not to a unit of the other township.
    let other_unit = app.unit_id("河口村村民委员会").await;
    let e = error_of(
        app.act(&tok, &mine, "dispatch", json!({"unit_id": other_unit})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "unit_id");
    let list: Value = app.get("/api/v1/tickets", Some(&tok)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    // Statistics for the other township are out of scope.
    let other = app.region_id("西河乡").await;
    let r = app.get(&format!("/api/v1/stats/summary?region_id={other}"), Some(&tok)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
