//! Return visits: the callers' queue with leases, retries of unreached villagers, the phone access
//! log, the villager's one-tap rating link, redo with the same unit, appeals and per-unit rates.
use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn second_caller(app: &TestApp) -> String {
    app.add_staff("caller2", "钱芳", "caller", "清河县").await
}

async fn in_queue(app: &TestApp, caller: &str) -> u64 {
    let v: Value = app.get("/api/v1/return-visits/queue", Some(caller)).await.json().await.unwrap();
    v["total"].as_u64().unwrap()
}

async fn visit(app: &TestApp, token: &str, no: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(token), &body).await
}

fn queue_nos(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["no"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn callers_claim_visits_so_no_villager_is_called_twice() {
    let app = spawn_app().await;
    let a = app.to_resolved("李家庄村", "lijiazhuang", "13800000001").await;
    app.state.time.advance(chrono::Duration::minutes(5));
    let b = app.to_resolved("王家湾村", "wangjiawan", "13800000002").await;
    let c1 = app.token("caller").await;
    let c2 = second_caller(&app).await;
    let q: Value = app.get("/api/v1/return-visits/queue", Some(&c1)).await.json().await.unwrap();
    assert_eq!(queue_nos(&q), [a.clone(), b.clone()], "oldest visit deadline first");
    assert_eq!(q["items"][0]["phone"], "138****0001", "the queue itself shows masked phones");

    // Claiming shows the full number to the caller, and the access is logged.
    let r = app.post(&format!("/api/v1/return-visits/{a}/claim"), Some(&c1), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let claim: Value = r.json().await.unwrap();
    assert_eq!(claim["phone"], "13800000001");
    assert!(claim["lease_until"].is_string());
    assert_eq!(claim["result"], "已处理完毕");
    assert_eq!(app.count("SELECT COUNT(*) FROM phone_access_log WHERE purpose = 'return_visit'").await, 1);

    // The other caller no longer sees it, cannot claim it, cannot record it.
    let q2: Value = app.get("/api/v1/return-visits/queue", Some(&c2)).await.json().await.unwrap();
    assert_eq!(queue_nos(&q2), std::slice::from_ref(&b));
    let e = error_of(
        app.post(&format!("/api/v1/return-visits/{a}/claim"), Some(&c2), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "claimed_by_other");
    let r = visit(
        &app,
        &c2,
        &a,
        json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"}),
    )
    .await;
    assert_eq!(error_of(r, StatusCode::CONFLICT).await["code"], "claimed_by_other");
    // Only the holder releases; a lease that runs out frees the visit.
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/return-visits/{a}/claim")))
            .bearer_auth(&c2)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    app.state.time.advance(chrono::Duration::minutes(11));
    assert_eq!(
        app.post(&format!("/api/v1/return-visits/{a}/claim"), Some(&c2), &json!({})).await.status(),
        StatusCode::OK
    );
    let r =
        app.client.delete(app.url(&format!("/api/v1/return-visits/{a}/claim"))).bearer_auth(&c2).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Only callers see full numbers.
    let leader = app.token("leader").await;
    assert_eq!(
        app.post(&format!("/api/v1/return-visits/{b}/claim"), Some(&leader), &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &b).await["requester"]["phone"], "138****0002");
}

#[tokio::test]
async fn an_unreached_villager_is_tried_three_times_then_reported_unreachable() {
    let app = spawn_app().await;
    let no = app.to_resolved("石桥村", "shiqiao", "13800000003").await;
    let c = app.token("caller").await;
    let unreached = json!({"reached": false, "channel": "phone"});

    let v: Value = visit(&app, &c, &no, unreached.clone()).await.json().await.unwrap();
    assert_eq!((v["outcome"].as_str(), v["unreachable"].as_bool()), (Some("unreached"), Some(false)));
    assert_eq!(in_queue(&app, &c).await, 0, "next try in four hours");
    app.state.time.advance(chrono::Duration::hours(4));
    assert_eq!(in_queue(&app, &c).await, 1);
    visit(&app, &c, &no, unreached.clone()).await;
    app.state.time.advance(chrono::Duration::hours(19));
    assert_eq!(in_queue(&app, &c).await, 0);
    app.state.time.advance(chrono::Duration::hours(1));
    assert_eq!(in_queue(&app, &c).await, 1, "third try the next day");
    let v: Value = visit(&app, &c, &no, unreached).await.json().await.unwrap();
    assert_eq!(v["unreachable"], true);
    assert_eq!(v["ticket"]["status"], "resolved");
    assert_eq!(in_queue(&app, &c).await, 0);
    let leader = app.token("leader").await;
    let report: Value = app.get("/api/v1/return-visits/unreachable", Some(&leader)).await.json().await.unwrap();
    assert_eq!(report["total"], 1);
    assert_eq!(report["items"][0]["no"], no.as_str());
    // Unreachable is not satisfied: no visit counts toward the rates.
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["counts"]["visited"], 0);
    assert!(s["satisfaction_rate"].is_null());
}

/// The rating link from the latest rating SMS to this requester.
pub async fn rating_token(app: &TestApp, phone: &str) -> String {
    use sea_orm::ConnectionTrait;
    let sql = format!(
        "SELECT body FROM outbox WHERE kind = 'rating_request' AND recipient = '{phone}' ORDER BY id DESC LIMIT 1"
    );
    let row = app
        .state
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(app.state.db.backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let body: String = row.try_get_by_index(0).unwrap();
    body.split("/r/").nth(1).unwrap().split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn the_villager_rates_once_by_the_signed_link() {
    let app = spawn_app().await;
    let no = app.to_resolved("杏花村", "xinghua", "13800000004").await;
    let token = rating_token(&app, "13800000004").await;
    assert!(token.len() <= 35, "the token is a provider template variable (≤ 35 characters): {token}");
    let page = app.get(&format!("/r/{token}"), None).await;

    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&no) && html.contains("基本满意") && html.contains("已处理完毕"));
    // A forged link (another ticket id, same signature) and a damaged signature are refused.
    let (tag, numbers) = token.split_at(16);
    let forged = format!("{tag}999-{}", numbers.split_once('-').unwrap().1);
    assert_eq!(app.get(&format!("/r/{forged}"), None).await.status(), StatusCode::NOT_FOUND);
    let r = app
        .client
        .post(app.url(&format!("/r/{token}")))
        .form(&[("satisfaction", "satisfied"), ("comment", "修得很快")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.text().await.unwrap().contains("感谢您的评价"));
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "closed");
    assert_eq!(t["return_visits"][0]["channel"], "sms");
    assert_eq!(t["return_visits"][0]["comment"], "修得很快");
    // Once per resolution.
    let again = app
        .post(&format!("/api/v1/tickets/{no}/rating"), None, &json!({"token": token, "satisfaction": "dissatisfied"}))
        .await;
    assert_eq!(error_of(again, StatusCode::CONFLICT).await["code"], "already_rated");
}

#[tokio::test]
async fn rating_links_expire_and_belong_to_their_ticket() {
    let app = spawn_app().await;
    let no = app.to_resolved("河口村", "hekou", "13800000005").await;
    let other = app.to_resolved("河口村", "hekou", "13800000006").await;
    let token = rating_token(&app, "13800000005").await;
    let r = app
        .post(&format!("/api/v1/tickets/{other}/rating"), None, &json!({"token": token, "satisfaction": "satisfied"}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e = error_of(
        app.post(&format!("/api/v1/tickets/{no}/rating"), None, &json!({"token": token, "satisfaction": "great"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "satisfaction");
    app.state.time.advance(chrono::Duration::days(8));
    let e = error_of(
        app.post(&format!("/api/v1/tickets/{no}/rating"), None, &json!({"token": token, "satisfaction": "satisfied"}))
            .await,
        StatusCode::GONE,
    )
    .await;
    assert_eq!(e["code"], "rating_link_expired");
}

#[tokio::test]
async fn dissatisfaction_sends_the_order_back_to_the_same_unit_with_fresh_deadlines() {
    let app = spawn_app().await;
    let no = app.to_resolved("柳树沟村", "liushugou", "13800000007").await;
    app.state.time.advance(chrono::Duration::hours(30));
    let token = rating_token(&app, "13800000007").await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/rating"),
            None,
            &json!({"token": token, "satisfaction": "dissatisfied", "comment": "还是没水"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "reopened");
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "reopened");
    assert_eq!(t["assignment"]["unit"]["name"], "柳树沟村村民委员会");
    assert_eq!(t["assignment"]["reopened"], true);
    let dispatched = chrono::DateTime::parse_from_rfc3339(t["assignment"]["dispatched_at"].as_str().unwrap()).unwrap();
    let respond_by = chrono::DateTime::parse_from_rfc3339(t["assignment"]["respond_by"].as_str().unwrap()).unwrap();
    assert_eq!((respond_by - dispatched).num_minutes(), 120, "fresh deadlines from the redo");
    assert!(dispatched > chrono::Utc::now() + chrono::Duration::hours(29));
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["to_status"].as_str()), (Some("return_visit"), Some("reopened")));
    assert_eq!(last["data"]["redo"]["unit_name"], "柳树沟村村民委员会");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'assignment'").await, 2);
    // The cadre signs for it again straight from reopened and works it to the end.
    let ca = app.token("liushugou").await;
    assert_eq!(app.act_ok(&ca, &no, "accept", json!({})).await["status"], "accepted");
    assert_eq!(app.act_ok(&ca, &no, "resolve", json!({"result": "换了新水泵"})).await["status"], "resolved");
    let leader = app.token("leader").await;
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["counts"]["reopenings"], 1);
    assert_eq!(s["reopen_rate"], 0.5, "one reopening of two resolutions");
}

#[tokio::test]
async fn a_unit_appeals_a_dissatisfied_visit_and_an_upheld_appeal_leaves_its_rates() {
    let app = spawn_app().await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13800000008").await;
    let c = app.token("caller").await;
    let v: Value = visit(
        &app,
        &c,
        &no,
        json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let visit_id = v["visit_id"].as_i64().unwrap();
    let leader = app.token("leader").await;
    let units: Value = app.get("/api/v1/stats/units", Some(&leader)).await.json().await.unwrap();
    let mine = |units: &Value| {
        units["items"].as_array().unwrap().iter().find(|u| u["unit"]["name"] == "李家庄村村民委员会").unwrap().clone()
    };
    assert_eq!(mine(&units)["satisfaction_rate"], 0.0);

    let other = app.token("wangjiawan").await;
    let url = format!("/api/v1/return-visits/{visit_id}/appeals");
    assert_eq!(app.post(&url, Some(&other), &json!({"reason": "不是我们的"})).await.status(), StatusCode::FORBIDDEN);
    let ca = app.token("lijiazhuang").await;
    assert_eq!(error_of(app.post(&url, Some(&ca), &json!({})).await, StatusCode::BAD_REQUEST).await["field"], "reason");
    // The evidence: a photo of the water works' notice, uploaded by the cadre.
    let upload_id = app.upload_png(&ca, (8, 8), [200, 30, 30]).await;
    let r = app
        .post(&url, Some(&ca), &json!({"reason": "停水是县水厂检修造成的，已提供停水通知", "upload_ids": [upload_id]}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let appeal: Value = r.json().await.unwrap();
    assert_eq!(appeal["status"], "pending");
    assert_eq!(appeal["upload_ids"], json!([upload_id]), "{appeal}");
    assert_eq!(
        error_of(app.post(&url, Some(&ca), &json!({"reason": "再次申诉"})).await, StatusCode::CONFLICT).await["code"],
        "already_appealed"
    );
    let pending: Value = app.get("/api/v1/appeals?status=pending", Some(&leader)).await.json().await.unwrap();
    assert_eq!(pending["total"], 1);
    // Only leaders decide.
    let decide = format!("/api/v1/appeals/{}/decide", appeal["id"]);
    assert_eq!(
        app.post(&decide, Some(&ca), &json!({"upheld": true, "note": "x"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = app.post(&decide, Some(&leader), &json!({"upheld": true, "note": "情况属实，不计入考核"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "upheld");
    assert_eq!(
        error_of(
            app.post(&decide, Some(&leader), &json!({"upheld": false, "note": "改判"})).await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "already_decided"
    );
    // The visit no longer counts; both steps are in the ledger, which still verifies.
    let units: Value = app.get("/api/v1/stats/units", Some(&leader)).await.json().await.unwrap();
    assert!(mine(&units)["satisfaction_rate"].is_null(), "{}", mine(&units));
    assert!(mine(&units)["resolution_rate"].is_null(), "{}", mine(&units));
    // The redo it caused did happen: it stays in the reopen rate (the order was handled twice).
    assert_eq!(mine(&units)["reopen_rate"], 1.0, "{}", mine(&units));
    let t = app.ticket(&leader, &no).await;
    let actions: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.ends_with(&["return_visit", "appeal", "appeal_decision"]), "{actions:?}");
    let appeal_event = t["events"].as_array().unwrap().iter().find(|e| e["action"] == "appeal").unwrap().clone();
    assert_eq!(appeal_event["data"]["upload_ids"], json!([upload_id]));
    let verify: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(verify["ok"], true);
    // A satisfied visit cannot be appealed.
    let happy = app.to_resolved("李家庄村", "lijiazhuang", "13800000009").await;
    let v: Value = visit(
        &app,
        &c,
        &happy,
        json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let r =
        app.post(&format!("/api/v1/return-visits/{}/appeals", v["visit_id"]), Some(&ca), &json!({"reason": "x"})).await;
    assert_eq!(error_of(r, StatusCode::CONFLICT).await["code"], "not_appealable");
}

async fn unit_fixture(app: &TestApp) {
    let c = app.token("caller").await;
    // 李家庄: one order satisfied and solved; one dissatisfied and unsolved (redone, still open).
    let a1 = app.to_resolved("李家庄村", "lijiazhuang", "13800000011").await;
    let a2 = app.to_resolved("李家庄村", "lijiazhuang", "13800000012").await;
    visit(app, &c, &a1, json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"}))
        .await;
    visit(app, &c, &a2, json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone"}))
        .await;
    // 王家湾: one order basically satisfied, partly solved.
    let b1 = app.to_resolved("王家湾村", "wangjiawan", "13800000013").await;
    visit(
        app,
        &c,
        &b1,
        json!({"reached": true, "solved": "partly", "satisfaction": "basically_satisfied", "channel": "phone"}),
    )
    .await;
}

fn unit<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["items"].as_array().unwrap().iter().find(|u| u["unit"]["name"] == name).unwrap()
}

#[tokio::test]
async fn unit_rates_and_ranks_match_a_hand_computed_fixture() {
    // Two visits per unit are enough to be ranked here (the minimum sample has its own test).
    let app = spawn_app_with(|s| s.ranking.min_visits = 1).await;
    let leader = app.token("leader").await;
    let empty: Value = app.get("/api/v1/stats/units", Some(&leader)).await.json().await.unwrap();
    assert!(empty["items"].as_array().unwrap().iter().all(|u| u["rank"].is_null() && u["composite_score"].is_null()));
    unit_fixture(&app).await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["total"], 15);
    let a = unit(&v, "李家庄村村民委员会");
    // Orders: 2 first assignments + the redo = 3 received; 2 accepted in time of 2 due (the redo's
    // response deadline has not come); 2 resolved; 1 of them reopened; visits: 1 solved of 2,
    // satisfaction 1/2; composite 10·1 + 45·0.5 + 45·0.5 = 55.
    assert_eq!(a["counts"]["received"], 3);
    assert_eq!(a["counts"]["response_due"], 2);
    assert_eq!(a["response_rate"], 1.0);
    assert_eq!(a["resolution_rate"], 0.5);
    assert_eq!(a["satisfaction_rate"], 0.5);
    assert!((a["closure_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(a["reopen_rate"], 0.5);
    assert_eq!(a["composite_score"], 55.0);
    // 王家湾: partly solved is not solved; basically satisfied weighs 0.8: 10 + 0 + 36 = 46.
    let b = unit(&v, "王家湾村村民委员会");
    assert_eq!(b["resolution_rate"], 0.0);
    assert!((b["satisfaction_rate"].as_f64().unwrap() - 0.8).abs() < 1e-9);
    assert!((b["composite_score"].as_f64().unwrap() - 46.0).abs() < 1e-9);
    assert_eq!((a["rank"].as_u64(), b["rank"].as_u64()), (Some(1), Some(2)));
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["unit"]["name"], "李家庄村村民委员会");
    assert!(items[2..].iter().all(|u| u["rank"].is_null()), "units without data come last, unranked");
}

#[tokio::test]
async fn the_weights_are_configurable() {
    let app = spawn_app_with(|s| {
        s.metrics.satisfaction_basic_weight = 0.5;
        s.metrics.weight_response = 20.0;
        s.metrics.weight_resolution = 40.0;
        s.metrics.weight_satisfaction = 40.0;
    })
    .await;
    unit_fixture(&app).await;
    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    let b = unit(&v, "王家湾村村民委员会");
    assert_eq!(b["satisfaction_rate"], 0.5);
    assert!((b["composite_score"].as_f64().unwrap() - (20.0 + 0.0 + 20.0)).abs() < 1e-9);
}

#[tokio::test]
async fn a_redone_order_comes_back_to_the_callers_with_fresh_tries() {
    let app = spawn_app().await;
    let no = app.to_resolved("王家湾村", "wangjiawan", "13800000009").await;
    let c = app.token("caller").await;
    // One unreached try, then the villager answers: not solved → reopened, the task is done.
    let unreached = json!({"reached": false, "channel": "phone"});
    assert_eq!(visit(&app, &c, &no, unreached).await.status(), StatusCode::CREATED);
    app.state.time.advance(chrono::Duration::hours(5));
    let r = visit(
        &app,
        &c,
        &no,
        json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND status = 'reopened'")).await, 1);
    assert_eq!(in_queue(&app, &c).await, 0);
    // The unit does it again and resolves: a new resolution, a new return visit.
    let ca = app.token("wangjiawan").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "管道已重新铺设"})).await;
    let q: Value = app.get("/api/v1/return-visits/queue", Some(&c)).await.json().await.unwrap();
    assert_eq!(queue_nos(&q), std::slice::from_ref(&no), "the redo is back in the queue");
    assert_eq!(q["items"][0]["attempts"], 0, "with a fresh set of tries");
    assert_eq!(
        app.post(&format!("/api/v1/return-visits/{no}/claim"), Some(&c), &json!({})).await.status(),
        StatusCode::OK
    );
    let r = visit(
        &app,
        &c,
        &no,
        json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND status = 'closed'")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM return_visits").await, 3);
}

/// Issue 15.11: SMS apps end a link at a dot, so the rating link's token holds only
/// `[A-Za-z0-9_-]` (and so does the cadre's `/w/` link); the link as sent opens the rating page,
/// and a dotted token of a link sent before still does.
#[tokio::test]
async fn sms_links_hold_only_characters_sms_apps_keep_and_earlier_dotted_rating_links_still_open() {
    let app = spawn_app().await;
    let no = app.to_resolved("杏花村", "xinghua", "13800000011").await;
    let safe = regex::Regex::new(r"^[A-Za-z0-9_-]+$").unwrap();
    let body = app.sent_body(&no, "rating_request").await;
    let token = body.split("/r/").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(safe.is_match(&token) && token.ends_with(|c: char| c.is_ascii_alphanumeric()), "{token} in {body}");
    assert!(body.contains(&format!("/r/{token} ")), "the link ends at a space: {body}");
    let html = app.get(&format!("/r/{token}"), None).await.text().await.unwrap();
    assert!(html.contains(&no) && html.contains("基本满意"), "{html}");
    let work = app.sent_body(&no, "assignment").await;
    let work = work.split("/w/").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(safe.is_match(&work), "the cadre's link too: {work}");

    // A link sent before: `ticket.seq.day.tag` (base 36, the tag base64url), signed as it was.
    let b36 = |mut n: u64| {
        let mut s = String::new();
        loop {
            s.insert(0, char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]));
            n /= 36;
            if n == 0 {
                return s;
            }
        }
    };
    let id = app.count(&format!("SELECT id FROM tickets WHERE no = '{no}'")).await;
    let seq = app
        .count(&format!("SELECT CAST(MAX(e.seq) AS BIGINT) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.action = 'resolve'"))
        .await;
    let day = app.state.now().timestamp().div_euclid(86_400) + 3;
    let payload = format!("{}.{}.{}", b36(id as u64), b36(seq as u64), b36(day as u64));
    let kind = minsheng::domain::signed_link::LinkKind { domain: b"rating|", tag_len: 12 };
    use base64::Engine;
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(kind.tag(app.state.keys.rating_link.bytes(), payload.as_bytes()));
    let old = format!("{payload}.{tag}");
    let html = app.get(&format!("/r/{old}"), None).await.text().await.unwrap();
    assert!(html.contains(&no) && html.contains("基本满意"), "{old}: {html}");
    let r = app.client.post(app.url(&format!("/r/{old}"))).form(&[("satisfaction", "satisfied")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM return_visits rv JOIN tickets t ON t.id = rv.ticket_id WHERE t.no = '{no}' AND rv.channel = 'sms'")).await, 1);
}
