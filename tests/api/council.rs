//! 下交签批 and 三老合议 (issue 20 point 7): the desk's refer is a request a leader of the region
//! approves or refuses; the village council's members are kept per village; each member's signature
//! is its own ledger event of the current referral; the decision needs three signers, and a published
//! one shows on the village's public notice page (no requester, numbers masked) and may be texted to
//! the village's cadres.
use crate::helpers::{TestApp, error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VILLAGE: &str = "李家庄村";
const CADRE_PHONE: &str = "13900000301";

fn actions(t: &Value) -> Vec<String> {
    t["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_string()).collect()
}

fn last_event(t: &Value) -> Value {
    t["events"].as_array().unwrap().last().unwrap().clone()
}

/// A repeated request of the village (filed twice from the same phone), accepted by the village committee.
async fn repeated(app: &TestApp, phone: &str) -> String {
    let no = app.to_accepted(VILLAGE, "lijiazhuang", phone).await;
    app.file(VILLAGE, phone).await;
    no
}

async fn texts(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    use sea_orm::ConnectionTrait;
    let sql = format!("SELECT recipient, body FROM outbox WHERE kind = '{kind}' ORDER BY id");
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
    rows.iter().map(|r| (r.try_get_by_index::<String>(0).unwrap(), r.try_get_by_index::<String>(1).unwrap())).collect()
}

#[tokio::test]
async fn refer_waits_for_a_leaders_approval_and_a_refusal_leaves_the_order_where_it_was() {
    let app = spawn_app().await;
    let no = repeated(&app, "13812340001").await;
    let di = app.token("dispatcher").await;
    let leader = app.token("leader").await;
    let other_leader = app.add_staff("xihe-leader", "西河乡分管领导", "leader", "西河乡").await;

    // The desk asks: ledger only, the unit still holds the order.
    let t = app.act_ok(&di, &no, "refer", json!({"reason": "同一诉求反复反映，提交三老合议"})).await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["assignment"]["status"], "active", "{}", t["assignment"]);
    let ev = last_event(&t);
    assert_eq!((ev["action"].as_str(), ev["to_status"].as_str()), (Some("refer"), Some("accepted")));
    assert_eq!(t["council"]["refer_request"]["reason"], "同一诉求反复反映，提交三老合议");
    assert_eq!(t["council"]["refer_request"]["requested_by"]["name"], "陈刚");
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests WHERE decided_at IS NULL").await, 1);

    // One request at a time; only a leader of the region decides; refusing needs a reason.
    let written = app.written().await;
    let e = error_of(app.act(&di, &no, "refer", json!({"reason": "再申请"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "refer_pending");
    error_of(app.act(&di, &no, "refer_approve", json!({})).await, StatusCode::FORBIDDEN).await;
    let r = app.act(&other_leader, &no, "refer_approve", json!({})).await;
    assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status());
    let e = error_of(app.act(&leader, &no, "refer_refuse", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    assert_eq!(app.written().await, written, "refused attempts write nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests").await, 1);
    let offered = actions(&app.ticket(&leader, &no).await);
    assert!(offered.contains(&"refer_approve".into()) && offered.contains(&"refer_refuse".into()), "{offered:?}");
    assert!(!actions(&app.ticket(&di, &no).await).contains(&"refer".into()), "no second request offered");
    let pending: Value = app.get("/api/v1/tickets?refer=pending", Some(&leader)).await.json().await.unwrap();
    assert_eq!(pending["total"], 1, "{pending}");
    assert_eq!(pending["items"][0]["no"], no.as_str());
    let counts: Value = app.get("/api/v1/tickets/counts", Some(&leader)).await.json().await.unwrap();
    assert_eq!(counts["refer_pending"], 1, "{counts}");
    let e = error_of(app.get("/api/v1/tickets?refer=yes", Some(&leader)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "refer");

    // Refused: the unit keeps the order, the request is cleared.
    let t = app.act_ok(&leader, &no, "refer_refuse", json!({"reason": "先由村委会调解"})).await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["assignment"]["status"], "active");
    assert!(t.get("council").is_none() || t["council"]["refer_request"].is_null(), "{}", t["council"]);
    assert_eq!(last_event(&t)["data"]["requested_reason"], "同一诉求反复反映，提交三老合议");
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests WHERE decision = 'refused'").await, 1);
    let pending: Value = app.get("/api/v1/tickets?refer=pending", Some(&leader)).await.json().await.unwrap();
    assert_eq!(pending["total"], 0);
    let e = error_of(app.act(&leader, &no, "refer_approve", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "no_refer_request");

    // Asked again and approved: referred, the unit lets go.
    app.act_ok(&di, &no, "refer", json!({"reason": "调解无果，再次申请下交"})).await;
    let t = app.act_ok(&leader, &no, "refer_approve", json!({"note": "同意下交"})).await;
    assert_eq!(t["status"], "referred");
    assert!(t["assignment"].is_null(), "{}", t["assignment"]);
    assert_eq!(t["assignments"][0]["status"], "superseded");
    let ev = last_event(&t);
    assert_eq!((ev["action"].as_str(), ev["to_status"].as_str()), (Some("refer_approve"), Some("referred")));
    assert_eq!(ev["data"]["council"], "李家庄村村民议事会");
    assert_eq!(ev["data"]["remark"], "同意下交");
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests WHERE decision = 'approved'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests WHERE decided_at IS NULL").await, 0);
    let e = error_of(app.act(&leader, &no, "refer_approve", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "illegal_transition");
    let v: Value = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn council_members_are_kept_per_village_by_the_scope() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let di = app.token("dispatcher").await;
    let village = app.region_id(VILLAGE).await;
    let township = app.region_id("西河乡").await;
    let path = format!("/api/v1/villages/{village}/council");
    let before = app.count("SELECT COUNT(*) FROM council_members").await;

    let e = error_of(
        app.post(
            &format!("/api/v1/villages/{township}/council"),
            Some(&admin),
            &json!({"name": "王德厚", "title": "老党员"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("not_a_village"), Some("id")));
    let e = error_of(app.post(&path, Some(&di), &json!({"title": "老党员"})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!((e["field"].as_str(), e["message"].as_str()), (Some("name"), Some("请填写姓名")));
    let e = error_of(
        app.post(&path, Some(&di), &json!({"name": "王德厚", "title": "老党员", "phone": "12345"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "phone");
    for who in ["operator", "lijiazhuang", "caller"] {
        let tok = app.token(who).await;
        let r = app.post(&path, Some(&tok), &json!({"name": "王德厚", "title": "老党员"})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let outsider = app.add_staff("xihe-di", "西河乡派单员", "dispatcher,leader", "西河乡").await;
    let r = app.post(&path, Some(&outsider), &json!({"name": "王德厚", "title": "老党员"})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "another township's village is not theirs");
    assert_eq!(app.get(&path, Some(&outsider)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM council_members").await, before, "nothing written");

    // The dispatcher of the scope adds; the phone is masked for all but admins.
    let r =
        app.post(&path, Some(&di), &json!({"name": " 王德厚 ", "title": "老党员", "phone": "+86 139-0000-0901"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!((m["name"].as_str(), m["title"].as_str()), (Some("王德厚"), Some("老党员")));
    assert_eq!(m["phone"], "139****0901");
    assert_eq!((m["active"].as_bool(), m["village_id"].as_i64()), (Some(true), Some(village)));
    let id = m["id"].as_i64().unwrap();
    let list: Value = app.get(&path, Some(&admin)).await.json().await.unwrap();
    let mine = list["items"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone();
    assert_eq!(mine["phone"], "13900000901", "an admin sees the number");
    assert_eq!(list["village"]["name"], VILLAGE);

    // Retired by PATCH; still listed, inactive.
    let r = app.patch(&format!("{path}/{id}"), &di, &json!({"active": false, "title": "老干部"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = r.json().await.unwrap();
    assert_eq!((m["active"].as_bool(), m["title"].as_str()), (Some(false), Some("老干部")));
    let other = app.region_id("河口村").await;
    let r = app.patch(&format!("/api/v1/villages/{other}/council/{id}"), &di, &json!({"active": true})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a member is edited under their own village only");
    let cadre = app.token("lijiazhuang").await;
    let list: Value = app.get(&path, Some(&cadre)).await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().iter().any(|x| x["id"] == id && x["active"] == false), "{list}");
}

#[tokio::test]
async fn signatures_belong_to_the_referral_and_a_published_decision_reaches_the_notice_page() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let leader = app.token("leader").await;
    let mut body = app.intake_body(VILLAGE, "13812345678");
    body["name"] = json!("张三丰");
    let no = app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    app.act_ok(&op, &no, "register", json!({})).await;
    app.file(VILLAGE, "13812345678").await;
    let members = app.council(VILLAGE).await;
    let elsewhere = app.council("河口村").await;
    // Signing and deciding wait for the referral.
    let e =
        error_of(app.act(&op, &no, "council_sign", json!({"member_id": members[0]})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "illegal_transition");
    let t = app.refer(&no, "重复反映，提交三老合议").await;
    assert_eq!(t["council"]["members"].as_array().unwrap().len(), members.len());
    assert_eq!(t["council"]["min_members"], 3);

    let written = app.written().await;
    let e = error_of(app.act(&op, &no, "council_sign", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "member_id");
    let e = error_of(
        app.act(&op, &no, "council_sign", json!({"member_id": elsewhere[0]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("not_council_member"), Some("member_id")));
    let admin = app.token("admin").await;
    let village = app.region_id(VILLAGE).await;
    let r = app
        .post(&format!("/api/v1/villages/{village}/council"), Some(&admin), &json!({"name": "钱守业", "title": "乡贤"}))
        .await;
    let retired = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.patch(&format!("/api/v1/villages/{village}/council/{retired}"), &admin, &json!({"active": false})).await;
    let e = error_of(
        app.act(&op, &no, "council_sign", json!({"member_id": retired})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "not_council_member");
    assert_eq!(app.written().await, written);

    // Each signature is its own event; twice is refused; two are not enough.
    let t = app.act_ok(&op, &no, "council_sign", json!({"member_id": members[0], "note": "同意维修"})).await;
    let ev = last_event(&t);
    assert_eq!((ev["action"].as_str(), ev["to_status"].as_str()), (Some("council_sign"), Some("referred")));
    assert_eq!(ev["data"]["member_id"], members[0]);
    assert_eq!(t["council"]["signed"][0]["name"], "王德厚");
    let e =
        error_of(app.act(&op, &no, "council_sign", json!({"member_id": members[0]})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "council_already_signed");
    app.act_ok(&op, &no, "council_sign", json!({"member_id": members[1]})).await;
    let written = app.written().await;
    let decision = json!({"decision": "合议：由村集体出资维修水泵，张三丰家门口管道一并更换，联系电话13812345678", "notify_cadres": true});
    let e = error_of(app.act(&op, &no, "council_decision", decision.clone()).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "council_too_few");
    app.act_ok(&op, &no, "council_sign", json!({"member_id": members[2]})).await;
    let mut listed = decision.clone();
    listed["member_ids"] = json!([members[0], members[1], elsewhere[1]]);
    let e = error_of(app.act(&op, &no, "council_decision", listed).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("council_not_signed"), Some("member_ids")));
    assert_eq!(app.written().await.0, written.0);
    assert_eq!(app.count("SELECT COUNT(*) FROM council_notices").await, 0);

    // Decided by the three signers: resolved, the participants on the event, the cadres told.
    let t = app.act_ok(&op, &no, "council_decision", decision).await;
    assert_eq!(t["status"], "resolved");
    let ev = last_event(&t);
    let names: Vec<&str> =
        ev["data"]["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["王德厚", "李春华", "赵文清"]);
    assert_eq!(ev["data"]["published"], true);
    let sms = texts(&app, "council_notice").await;
    assert!(sms.iter().any(|(to, _)| to == CADRE_PHONE), "{sms:?}");
    let mut phones: Vec<&String> = sms.iter().map(|(to, _)| to).collect();
    phones.dedup();
    assert_eq!(phones.len(), sms.len(), "one message per cadre");
    for (_, body) in &sms {
        assert!(body.contains("李家庄村村民议事会") && body.contains("由村集体出资维修水泵"), "{body}");
        assert!(!body.contains("13812345678") && !body.contains("张三丰"), "{body}");
    }

    // The public notice page: the decision masked, the members, never the requester.
    let json: Value = app.get(&format!("/api/v1/villages/{village}/notices"), None).await.json().await.unwrap();
    assert_eq!(json["total"], 1, "{json}");
    let n = &json["items"][0];
    assert_eq!(n["category_name"], "停水断水");
    let text = n["decision"].as_str().unwrap();
    assert!(text.contains("由村集体出资维修水泵") && text.contains("张某某"), "{text}");
    assert!(!text.contains("13812345678") && !text.contains("张三丰"), "{text}");
    assert_eq!(n["members"][2], json!({"name": "赵文清", "title": "老教师"}));
    let page = app.get(&format!("/v/{village}/notices"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("李家庄村村民议事会") && html.contains("王德厚（老党员）"), "{html}");
    assert!(!html.contains("13812345678") && !html.contains("张三丰"), "{html}");
    let township = app.region_id("西河乡").await;
    assert_eq!(app.get(&format!("/api/v1/villages/{township}/notices"), None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v/{township}/notices"), None).await.status(), StatusCode::NOT_FOUND);

    // Referred again after a reopening: the old signatures do not count.
    app.act_ok(&leader, &no, "reopen", json!({"reason": "水泵又坏了"})).await;
    let t = app.refer(&no, "再次反映，重新合议").await;
    assert_eq!(t["council"]["signed"], json!([]));
    let e =
        error_of(app.act(&op, &no, "council_decision", json!({"decision": "维持原决定"})).await, StatusCode::CONFLICT)
            .await;
    assert_eq!(e["code"], "council_too_few");
    app.act_ok(&op, &no, "council_sign", json!({"member_id": members[0]})).await;
}

#[tokio::test]
async fn an_unpublished_decision_stays_off_the_notice_page_and_texts_nobody() {
    let app = spawn_app().await;
    let no = repeated(&app, "13812340002").await;
    app.refer(&no, "重复诉求").await;
    app.council_signs(&no, VILLAGE).await;
    let op = app.token("operator").await;
    let t =
        app.act_ok(&op, &no, "council_decision", json!({"decision": "涉及邻里隐私，不公开", "publish": false})).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(app.count("SELECT COUNT(*) FROM council_notices").await, 0);
    assert!(texts(&app, "council_notice").await.is_empty());
    let village = app.region_id(VILLAGE).await;
    let json: Value = app.get(&format!("/api/v1/villages/{village}/notices"), None).await.json().await.unwrap();
    assert_eq!((json["total"].as_i64(), json["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
    let html = app.get(&format!("/v/{village}/notices"), None).await.text().await.unwrap();
    assert!(html.contains("暂无公开的合议决定"), "{html}");
}
