//! The whole request loop of issue 4, over HTTP.
use crate::helpers::spawn_app;
use minsheng::workers::outbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_whole_loop_from_card_to_closed_and_counted() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;

    // An admin issues (rotates) the card for a village; the villager's page shows village and contacts.
    let village = app.region_id("李家庄村").await;
    let r = app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let card: Value = r.json().await.unwrap();
    let code = card["code"].as_str().unwrap();
    assert_eq!(card["version"], 2);
    assert_eq!(card["url"], format!("http://minsheng.test/c/{code}"));
    let public: Value = app.get(&format!("/api/v1/cards/{code}"), None).await.json().await.unwrap();
    assert_eq!(public["village"]["name"], "李家庄村");
    assert_eq!(public["township"]["name"], "东坝镇");
    assert_eq!(public["county"]["name"], "清河县");
    assert_eq!(public["contacts"][0]["name"], "李长河");
    assert_eq!(public["contacts"][0]["post"], "村党支部书记");
    assert_eq!(public["hotline"], "12345");
    assert!(
        public["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "water" && !c["children"].as_array().unwrap().is_empty())
    );

    // The villager files a request.
    let body = json!({"card_code": code, "category": "water.supply", "kind": "help", "name": "王大爷",
                      "description": "村东头自来水停了三天了", "phone": "13812345678", "location": {"lat": 36.1, "lng": 117.2}});
    let r = app.intake(&body, Some("villager-1")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();

    // Operator registers, dispatcher dispatches to the village committee and its cadre.
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let t = app.act_ok(&op, &no, "register", json!({"priority": "normal", "note": "电话核实"})).await;
    assert_eq!(t["status"], "registered");
    let unit = app.unit_id("李家庄村村民委员会").await;
    let cadre_id: i64 =
        app.get("/api/v1/staff?per_page=100", Some(&admin)).await.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["username"] == "lijiazhuang")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
    let t =
        app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "assignee_id": cadre_id, "note": "请尽快处理"})).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "李家庄村村民委员会");
    assert_eq!(t["assignment"]["assignee"]["name"], "李长河");
    let dispatched = chrono::DateTime::parse_from_rfc3339(t["assignment"]["dispatched_at"].as_str().unwrap()).unwrap();
    let respond_by = chrono::DateTime::parse_from_rfc3339(t["assignment"]["respond_by"].as_str().unwrap()).unwrap();
    let resolve_by = chrono::DateTime::parse_from_rfc3339(t["assignment"]["resolve_by"].as_str().unwrap()).unwrap();
    assert_eq!((respond_by - dispatched).num_minutes(), 120);
    assert_eq!((resolve_by - dispatched).num_hours(), 72);
    // The requester sees who handles it (the unit, not a person's phone) and the deadlines running.
    let p: Value = app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert_eq!(p["handling_unit"], "李家庄村村民委员会");
    let at =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("time: {v}"))).unwrap();
    assert_eq!((at(&p["respond_by"]), at(&p["resolve_by"])), (respond_by, resolve_by));
    assert!(!p.to_string().contains("13900000301"), "no cadre phone: {p}");

    // The assignment SMS for the cadre was written with the dispatch, and the console provider sends it.
    let sms: Value =
        app.get(&format!("/api/v1/outbox?ticket_no={no}&kind=assignment"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(sms["total"], 1);
    assert_eq!(sms["items"][0]["phone"], "139****0301");
    assert_eq!(sms["items"][0]["status"], "pending");
    assert!(sms["items"][0]["body"].as_str().unwrap().contains(&no));
    let sent = outbox::run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!(sent, 2, "confirmation and assignment");
    let sms: Value =
        app.get(&format!("/api/v1/outbox?ticket_no={no}&kind=assignment"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(sms["items"][0]["status"], "sent");

    // The cadre signs for it, reports progress and resolves.
    let ca = app.token("lijiazhuang").await;
    assert_eq!(app.act_ok(&ca, &no, "accept", json!({"note": "已联系群众"})).await["status"], "accepted");
    assert_eq!(app.act_ok(&ca, &no, "progress", json!({"note": "已联系水厂抢修"})).await["status"], "in_progress");
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "管道已修复，恢复供水"})).await;
    assert_eq!(t["status"], "resolved");
    assert!(t["visit_by"].is_string());
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'rating_request'")).await, 1);

    // The requester follows progress with the phone tail; the internal dispatch note is not shown.
    let r = app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "resolved");
    assert_eq!(p["phone"], "138****5678");
    let text = p.to_string();
    assert!(!text.contains("请尽快处理") && !text.contains("电话核实") && !text.contains("13900000301"), "{text}");
    assert!(text.contains("管道已修复"));
    assert!(p["timeline"].as_array().unwrap().iter().any(|e| e["unit"] == "李家庄村村民委员会"));
    // Resolved: the unit stays named, no deadline is running any more.
    assert_eq!(p["handling_unit"], "李家庄村村民委员会");
    assert!(p["respond_by"].is_null() && p["resolve_by"].is_null(), "{p}");
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=0000"), None).await.status(),
        StatusCode::NOT_FOUND
    );

    // The caller records a satisfied visit: visited, then closed in the same transaction.
    let cl = app.token("caller").await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&cl),
            &json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone",
                    "scores": {"attitude": 5, "capability": 5, "convenience": 4, "efficiency": 5}, "comment": "很及时"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["outcome"], "visited");
    assert_eq!(v["ticket"]["status"], "closed");
    let actions: Vec<&str> =
        v["ticket"]["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "register", "dispatch", "accept", "progress", "resolve", "return_visit", "close"]);

    // The ledger verifies; the summary counts it.
    let leader = app.token("leader").await;
    let v: Value = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(v, json!({"ok": true, "events": 8}));
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["counts"]["received"], 1);
    assert_eq!(s["response_rate"], 1.0);
    assert_eq!(s["resolution_rate"], 1.0);
    assert_eq!(s["satisfaction_rate"], 1.0);
    assert_eq!(s["closure_rate"], 1.0);
    assert_eq!(s["reopen_rate"], 0.0);
    assert_eq!(s["composite_score"], 100.0);
}

#[tokio::test]
async fn a_dissatisfied_visit_reopens_and_the_order_goes_round_again() {
    let app = spawn_app().await;
    let no = app.to_resolved("王家湾村", "wangjiawan", "13812340001").await;
    let cl = app.token("caller").await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&cl),
            &json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ticket"]["status"], "reopened");
    // 重办: straight back to the unit that resolved it.
    assert_eq!(v["ticket"]["assignment"]["unit"]["name"], "王家湾村村民委员会");
    // The dispatcher may still send it elsewhere: the redo assignment is superseded.
    let di = app.token("dispatcher").await;
    let township = app.unit_id("东坝镇人民政府").await;
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": township})).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["reopened"], true);
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    let statuses: Vec<&str> =
        t["assignments"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["completed", "superseded", "active"]);

    let leader = app.token("leader").await;
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["reopen_rate"], 1.0);
    assert_eq!(s["satisfaction_rate"], 0.0);
    assert_eq!(s["resolution_rate"], 0.0);
}

#[tokio::test]
async fn satisfied_but_unsolved_also_reopens_and_unreached_stays_resolved() {
    let app = spawn_app().await;
    let cl = app.token("caller").await;
    let no = app.to_resolved("石桥村", "shiqiao", "13812340002").await;
    let r = app
        .post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &json!({"reached": false, "channel": "phone"}))
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["outcome"], "unreached");
    assert_eq!(v["ticket"]["status"], "resolved");
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&cl),
            &json!({"reached": true, "solved": "no", "satisfaction": "satisfied", "channel": "sms"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["ticket"]["status"], "reopened");
}
