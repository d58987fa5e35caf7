//! Every staff route checks role and region/unit scope. A refusal names its reason (code and
//! Chinese message) and writes nothing.
use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OUT_OF_SCOPE: &str = "该工单不在您的管辖范围内";

#[tokio::test]
async fn a_cadre_of_one_village_cannot_read_or_act_on_another_villages_ticket() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let other = app.token("wangjiawan").await;
    let written = app.written().await;
    let e = error_of(app.get(&format!("/api/v1/tickets/{no}"), Some(&other)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "out_of_scope");
    assert_eq!(e["message"], OUT_OF_SCOPE);
    let e = error_of(app.act(&other, &no, "progress", json!({"note": "x"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("out_of_scope"), Some(OUT_OF_SCOPE)));
    let e =
        error_of(app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&other)).await, StatusCode::FORBIDDEN)
            .await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("out_of_scope"), Some(OUT_OF_SCOPE)));
    assert_eq!(app.written().await, written, "no ticket, event or message from the refusals");
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
    let written = app.written().await;
    // Only operators/dispatchers register; a cadre cannot even read an order not given to them.
    let e = error_of(app.act(&cadre, &no, "register", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("out_of_scope"), Some(OUT_OF_SCOPE)));
    let e = error_of(app.act(&caller, &no, "register", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "forbidden");
    assert_eq!(e["message"], "您无权对该工单执行「登记」");
    let e = error_of(app.act(&leader, &no, "invalid", json!({"reason": "x"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("forbidden"), Some("您无权对该工单执行「作废」")));
    let e = error_of(app.act(&inspector, &no, "urge", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("forbidden"), Some("您无权对该工单执行「催办」")));
    // An inspector reads and verifies.
    assert_eq!(app.get(&format!("/api/v1/tickets/{no}"), Some(&inspector)).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.status(),
        StatusCode::OK
    );
    // The outbox is for admins only; return visits for callers.
    let e = error_of(app.get("/api/v1/outbox", Some(&leader)).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("forbidden"), Some("仅管理员可查看待发消息")));
    let e = error_of(app.get("/api/v1/return-visits/queue", Some(&leader)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "forbidden");
    assert_eq!(e["message"], "此操作需要以下角色之一：回访员");
    assert_eq!(app.get("/api/v1/return-visits/queue", Some(&caller)).await.status(), StatusCode::OK);
    // Only callers record return visits.
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&leader),
            &json!({"reached": false, "channel": "phone"}),
        )
        .await;
    let e = error_of(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        (e["code"].as_str(), e["message"].as_str()),
        (Some("forbidden"), Some("此操作需要以下角色之一：回访员"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM return_visits").await, 0);
    assert_eq!(app.written().await, written, "no ticket, event or message from the refusals");
    assert_eq!(app.ticket(&inspector, &no).await["status"], "submitted");
}

#[tokio::test]
async fn a_township_dispatcher_is_limited_to_their_township() {
    let app = spawn_app().await;
    let tok = app.add_staff("dongba-dispatcher", "东坝派单员", "dispatcher,operator", "东坝镇").await;
    let mine = app.file("王家湾村", "13812345678").await;
    let theirs = app.file("河口村", "13812345679").await;
    app.act_ok(&tok, &mine, "register", json!({})).await;
    let written = app.written().await;
    let e = error_of(app.act(&tok, &theirs, "register", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("out_of_scope"), Some(OUT_OF_SCOPE)));
    let admin = app.token("admin").await;
    assert_eq!(app.ticket(&admin, &theirs).await["status"], "submitted");
    // May dispatch inside the township, not to a unit of the other township.
    let other_unit = app.unit_id("河口村村民委员会").await;
    let e = error_of(
        app.act(&tok, &mine, "dispatch", json!({"unit_id": other_unit})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "unit_id");
    assert_eq!(e["code"], "unit_out_of_scope");
    assert_eq!(app.ticket(&admin, &mine).await["status"], "registered");
    assert_eq!(app.written().await, written, "no ticket, event or message from the refusals");
    let list: Value = app.get("/api/v1/tickets", Some(&tok)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    // Statistics for the other township are out of scope.
    let other = app.region_id("西河乡").await;
    let r = app.get(&format!("/api/v1/stats/summary?region_id={other}"), Some(&tok)).await;
    let e = error_of(r, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("forbidden"), Some("该地区不在您的管辖范围内")));
}
