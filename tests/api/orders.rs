//! Work orders in full (issue 7): escalation requests, returns, referral to the village council,
//! evidence, the registration clock, deadlines on lists and details, allowed actions.
use crate::helpers::{error_of, spawn_app};
use chrono::{DateTime, Duration, Utc};
use minsheng::repo;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().with_timezone(&Utc)
}

fn last_event(t: &Value) -> &Value {
    t["events"].as_array().unwrap().last().unwrap()
}

#[tokio::test]
async fn a_cadres_escalation_is_a_request_the_dispatcher_approves_or_refuses() {
    let app = spawn_app().await;
    let no = app.to_accepted("王家湾村", "wangjiawan", "13812345678").await;
    let ca = app.token("wangjiawan").await;
    let di = app.token("dispatcher").await;
    let t = app.act_ok(&ca, &no, "escalate", json!({"reason": "涉及跨村水源，需镇里协调"})).await;
    assert_eq!(t["status"], "accepted", "a request does not move the order");
    assert_eq!(t["assignment"]["unit"]["name"], "王家湾村村民委员会");
    assert_eq!(t["assignment"]["escalation_request"]["pending"], true);
    assert_eq!(last_event(&t)["action"], "escalate_request");
    let e = error_of(app.act(&ca, &no, "escalate", json!({"reason": "再申请"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "escalation_pending");
    let list: Value = app.get("/api/v1/tickets?escalation=pending", Some(&di)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["escalation_pending"], true);

    // Refused with a reason: the unit keeps it; refusing twice is a conflict.
    let e = error_of(app.act(&di, &no, "escalate_refuse", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    let t = app.act_ok(&di, &no, "escalate_refuse", json!({"reason": "村内可解决，请先协调"})).await;
    assert_eq!(t["assignment"]["escalation_request"]["pending"], false);
    assert_eq!(t["assignment"]["escalation_request"]["decision"], "refused");
    let e = error_of(app.act(&di, &no, "escalate_refuse", json!({"reason": "x"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "no_escalation_request");
    assert_eq!(app.count("SELECT COUNT(*) FROM assignments").await, 1);

    // Asked again and approved: straight to the township office, with a signed link in the SMS.
    app.act_ok(&ca, &no, "escalate", json!({"reason": "协调未果，确需镇里出面"})).await;
    let leader = app.token("leader").await;
    assert_eq!(app.act(&leader, &no, "escalate", json!({"reason": "x"})).await.status(), StatusCode::FORBIDDEN);
    let t = app.act_ok(&di, &no, "escalate", json!({})).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    let ev = last_event(&t);
    assert_eq!(ev["action"], "escalate");
    assert_eq!(ev["note"], "协调未果，确需镇里出面");
    assert_eq!(ev["data"]["approved_request"], true);
    assert_eq!(t["assignments"][0]["status"], "escalated");
    assert_eq!(t["assignments"][0]["escalation_request"]["decision"], "approved");
    let admin = app.token("admin").await;
    let sms: Value =
        app.get(&format!("/api/v1/outbox?kind=escalation&ticket_no={no}"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(sms["total"], 1);
    assert_eq!(sms["items"][0]["phone"], "139****0201");
    let body = sms["items"][0]["body"].as_str().unwrap();
    // The listing shows that a link was sent, its token masked; the phone gets it whole.
    assert!(body.contains("http://minsheng.test/w/") && body.contains("****"), "{body}");
    assert!(app.sent_body(&no, "escalation").await.contains("http://minsheng.test/w/"));
    // The village cadre no longer holds it.
    assert_eq!(app.act(&ca, &no, "progress", json!({"note": "x"})).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_return_goes_back_to_the_dispatcher_with_a_new_dispatch_deadline() {
    let app = spawn_app().await;
    let no = app.to_accepted("石桥村", "shiqiao", "13812345678").await;
    let ca = app.token("shiqiao").await;
    let e = error_of(app.act(&ca, &no, "return", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    assert_eq!(e["message"], "请填写退单理由");
    let t = app.act_ok(&ca, &no, "return", json!({"reason": "属于县交通局管养道路"})).await;
    assert_eq!(t["status"], "registered");
    assert_eq!(t["assignments"][0]["status"], "returned");
    assert_eq!(t["deadline"]["step"], "dispatch");
    let left = at(&t["dispatch_by"]) - app.state.now();
    assert!(left > Duration::minutes(19) && left <= Duration::minutes(20), "{left}");
    // The reason is internal: the requester's timeline does not show the return at all.
    let public: Value =
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert!(public["timeline"].as_array().unwrap().iter().all(|e| e["action"] != "return"));
    // The dispatcher sees it waiting and may dispatch it again.
    let di = app.token("dispatcher").await;
    let d = app.ticket(&di, &no).await;
    assert!(d["actions"].as_array().unwrap().iter().any(|a| a["action"] == "dispatch"));
}

#[tokio::test]
async fn only_repeated_requests_go_to_the_village_council_and_its_decision_is_published() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let first = app.file("河口村", "13812345678").await;
    app.act_ok(&op, &first, "register", json!({})).await;
    let e = error_of(app.act(&di, &first, "refer", json!({"reason": "反复反映"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "not_repeated");
    let again = app.file("河口村", "13812345678").await;
    let t = app.ticket(&di, &first).await;
    assert_eq!(t["repeat_count"], 1);
    let t = app.refer(&first, "同一诉求反复反映，提交三老合议").await;
    assert_eq!(t["status"], "referred");
    assert_eq!(last_event(&t)["data"]["council"], "河口村村民议事会");
    app.council_signs(&first, "河口村").await;
    let e = error_of(app.act(&op, &first, "council_decision", json!({"decision": ""})).await, StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(e["field"], "decision");
    let t = app.act_ok(&op, &first, "council_decision", json!({"decision": "合议：由村集体出资维修水泵"})).await;
    assert_eq!(t["status"], "resolved");
    assert!(t["visit_by"].is_string());
    let public: Value =
        app.get(&format!("/api/v1/tickets/{first}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert!(public["timeline"].as_array().unwrap().iter().any(|e| e["note"] == "合议：由村集体出资维修水泵"));
    // An unpublished decision stays internal.
    app.act_ok(&op, &again, "register", json!({})).await;
    app.refer(&again, "重复诉求").await;
    app.council_signs(&again, "河口村").await;
    app.act_ok(&op, &again, "council_decision", json!({"decision": "涉及邻里隐私，不公开", "publish": false})).await;
    let public: Value =
        app.get(&format!("/api/v1/tickets/{again}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert!(public["timeline"].as_array().unwrap().iter().all(|e| e["action"] != "council_decision"));
}

async fn upload(app: &crate::helpers::TestApp, id: &str) {
    repo::evidence::insert(
        &app.state.db.conn,
        repo::evidence::NewUpload {
            id,
            kind: "image",
            mime: "image/jpeg",
            size: 3,
            sha256: "00",
            storage_path: "/nonexistent",
            uploader_kind: "staff",
            uploader_ref: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn evidence_uploads_are_attached_to_their_action_and_ledgered() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let ca = app.token("lijiazhuang").await;
    for id in ["photo-a", "photo-b", "photo-c"] {
        upload(&app, id).await;
    }
    let t = app.act_ok(&ca, &no, "progress", json!({"note": "抢修中", "upload_ids": ["photo-a", "photo-b"]})).await;
    assert_eq!(last_event(&t)["data"]["upload_ids"], json!(["photo-a", "photo-b"]));
    assert_eq!(t["uploads"].as_array().unwrap().len(), 2);
    for bad in [json!(["photo-a"]), json!(["no-such-upload"]), json!(["photo-c", "photo-c"])] {
        let r = app.act(&ca, &no, "resolve", json!({"result": "修好了", "upload_ids": bad})).await;
        let e = error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["field"], "upload_ids");
    }
    assert_eq!(app.ticket(&ca, &no).await["status"], "in_progress");
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "修好了", "upload_ids": ["photo-c"]})).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads WHERE ticket_id IS NOT NULL").await, 3);
    let inspector = app.token("inspector").await;
    let v: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.json().await.unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn a_photo_uploaded_by_staff_is_served_from_the_ticket_once_attached() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let ca = app.token("lijiazhuang").await;
    let photo = crate::uploads::jpeg_with_gps();
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(photo).file_name("a.jpg"));
    let r = app.client.post(app.url("/api/v1/uploads")).bearer_auth(&ca).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_string();
    let t = app.act_ok(&ca, &no, "progress", json!({"note": "现场照片", "upload_ids": [id]})).await;
    let url = t["uploads"][0]["url"].as_str().expect("the ticket lists its photo").to_string();
    let di = app.token("dispatcher").await;
    let file = app.get(&url, Some(&di)).await;
    assert_eq!(file.status(), StatusCode::OK, "{url}");
    assert_eq!(file.headers()["content-type"], "image/jpeg");
    assert!(!file.bytes().await.unwrap().windows(4).any(|w| w == b"Exif"));
}

#[tokio::test]
async fn staff_registration_shows_and_reports_the_15_minute_clock() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let region = app.region_id("杏花村").await;
    let body = |received: DateTime<Utc>| {
        json!({"region_id": region, "channel": "hotline", "category": "roads.lights", "kind": "help",
               "description": "村口路灯不亮已经一周", "phone": "13812345678", "received_at": received})
    };
    let now = app.state.now();
    let r = app.post("/api/v1/tickets", Some(&op), &body(now - Duration::minutes(10))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "registered");
    assert_eq!(v["registration_late"], false);
    // Received 10 minutes ago: 5 minutes left (to the microsecond the ledger keeps).
    assert_eq!((at(&v["register_by"]) - now + Duration::seconds(1)).num_minutes(), 5);
    let r = app.post("/api/v1/tickets", Some(&op), &body(now - Duration::minutes(30))).await;
    let late: Value = r.json().await.unwrap();
    assert_eq!(late["registration_late"], true);
    let e = error_of(
        app.post("/api/v1/tickets", Some(&op), &body(now + Duration::hours(1))).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "received_at");
    // Reported: a filter for late registrations and the clock on the ticket.
    let list: Value = app.get("/api/v1/tickets?registration_late=true", Some(&op)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["no"], late["ticket_no"]);
    let d = app.ticket(&op, late["ticket_no"].as_str().unwrap()).await;
    assert_eq!(d["registration"]["late"], true);
    assert_eq!(d["registration"]["minutes"], 30);
    assert_eq!(d["deadline"]["step"], "dispatch");
    // A request filed from a card waits for registration; 20 minutes later it is late.
    let qr = app.file("杏花村", "13812340000").await;
    let d = app.ticket(&op, &qr).await;
    assert_eq!(d["deadline"]["step"], "register");
    assert_eq!(d["deadline"]["late"], false);
    app.state.time.advance(Duration::minutes(20));
    let list: Value = app.get("/api/v1/tickets?late=true", Some(&op)).await.json().await.unwrap();
    let late_nos: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["no"].as_str().unwrap()).collect();
    assert!(late_nos.contains(&qr.as_str()), "{list}");
    let row = list["items"].as_array().unwrap().iter().find(|i| i["no"] == qr.as_str()).unwrap();
    assert_eq!(row["deadline"]["step"], "register");
    assert_eq!(row["deadline"]["late"], true);
}

#[tokio::test]
async fn deadlines_are_on_every_list_row_and_the_detail() {
    let app = spawn_app().await;
    let no = app.to_accepted("柳树沟村", "liushugou", "13812345678").await;
    let di = app.token("dispatcher").await;
    let list: Value = app.get("/api/v1/tickets", Some(&di)).await.json().await.unwrap();
    let row = &list["items"][0];
    for k in ["respond_by", "progress_by", "resolve_by", "register_by"] {
        assert!(row[k].is_string(), "{k}: {row}");
    }
    assert_eq!(row["unit_name"], "柳树沟村村民委员会");
    assert_eq!(row["region_name"], "柳树沟村");
    assert_eq!(row["deadline"]["step"], "progress");
    assert_eq!(row["deadline"]["at"], row["progress_by"]);
    assert_eq!(row["overdue"], false);
    let d = app.ticket(&di, &no).await;
    assert_eq!(d["deadline"]["step"], "progress");
    assert_eq!(d["assignment"]["supervisor"]["name"], "西河乡人民政府");
    // 25 hours later the first feedback is late (not yet "overdue": that is response or result).
    app.state.time.advance(Duration::hours(25));
    let list: Value = app.get("/api/v1/tickets?late=true", Some(&di)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["deadline"]["late"], true);
    assert_eq!(list["items"][0]["overdue"], false);
    app.state.time.advance(Duration::hours(48));
    let list: Value = app.get("/api/v1/tickets?overdue=true", Some(&di)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
}

fn actions(t: &Value) -> Vec<String> {
    t["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a["party"].as_str() {
            Some(p) => format!("signoff:{p}"),
            None => a["action"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[tokio::test]
async fn the_detail_lists_exactly_the_actions_the_caller_may_take() {
    let app = spawn_app().await;
    let no = app.file("李家庄村", "13812345678").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let inspector = app.token("inspector").await;
    assert_eq!(actions(&app.ticket(&op, &no).await), ["register", "merge", "invalid"]);
    assert!(actions(&app.ticket(&inspector, &no).await).is_empty());
    app.act_ok(&op, &no, "register", json!({})).await;
    assert_eq!(actions(&app.ticket(&di, &no).await), ["dispatch", "merge", "invalid"]);
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let ca = app.token("lijiazhuang").await;
    assert_eq!(actions(&app.ticket(&ca, &no).await), ["accept", "return", "escalate"]);
    let leader = app.token("leader").await;
    assert_eq!(actions(&app.ticket(&leader, &no).await), ["urge"]);
    let t = app.act_ok(&ca, &no, "accept", json!({})).await;
    assert_eq!(actions(&t), ["return", "progress", "resolve", "escalate", "pause_request"]);
    assert_eq!(t["actions"][3]["label"], "申请提级");
    app.act_ok(&ca, &no, "resolve", json!({"result": "已修复"})).await;
    let caller = app.token("caller").await;
    assert_eq!(actions(&app.ticket(&caller, &no).await), ["reopen", "return_visit"]);
}

#[tokio::test]
async fn signoff_is_only_for_orders_whose_policy_requires_it() {
    let app = spawn_app().await;
    let no = app.to_resolved("杏花村", "xinghua", "13812345678").await;
    let leader = app.token("leader").await;
    let e = error_of(app.act(&leader, &no, "signoff", json!({"party": "leader"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "signoff_not_required");
    let e = error_of(app.act(&leader, &no, "signoff", json!({"party": "mayor"})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "party");
}
