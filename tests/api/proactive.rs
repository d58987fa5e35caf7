//! 未诉先办 (issue 17 point 4): a dispatcher raises a proactive ticket from the requests behind a
//! hotspot. It has no requester, names its requests (`linked_tickets`), notes itself on their ledgers,
//! runs the normal life without a return visit (verified on the spot instead), and its first
//! resolution texts each distinct linked requester once, in the resolution's transaction.
use crate::helpers::{TestApp, error_of, spawn_app};
use minsheng::services::tickets::{local_day_end, local_day_start};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Files a request from the village's card about water with this phone.
async fn request(app: &TestApp, village: &str, phone: &str) -> String {
    app.file(village, phone).await
}

async fn proactive_body(app: &TestApp, village: &str, linked: &[&str]) -> Value {
    json!({"region_id": app.region_id(village).await, "channel": "proactive", "category": "water.supply",
           "kind": "help", "description": "多户反映停水，统一排查全村供水管网", "linked_tickets": linked})
}

async fn raise(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/api/v1/tickets", Some(token), body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn links(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM ticket_links").await
}

fn last_event(t: &Value) -> &Value {
    t["events"].as_array().unwrap().last().unwrap()
}

#[tokio::test]
async fn a_dispatcher_raises_a_proactive_ticket_and_both_sides_show_the_link() {
    let app = spawn_app().await;
    let reqs = [
        request(&app, "李家庄村", "13800001001").await,
        request(&app, "李家庄村", "13800001002").await,
        request(&app, "李家庄村", "13800001003").await,
    ];
    let di = app.token("dispatcher").await;
    let outbox_before = app.count("SELECT COUNT(*) FROM outbox").await;
    let v = raise(&app, &di, &proactive_body(&app, "李家庄村", &[&reqs[0], &reqs[1], &reqs[2]]).await).await;
    let no = v["ticket_no"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "registered", "staff registration: registered at once");
    assert_eq!(v["confirmation_sms"], false, "nobody to confirm to");
    assert!(v.get("repeat_of").is_none(), "{v}");
    assert!(v["tracking_url"].as_str().unwrap().ends_with(&format!("/console/#/t/{no}")), "{v}");
    // Stored: no phone, three links, no message.
    let q =
        format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND requester_phone = '' AND channel = 'proactive'");
    assert_eq!(app.count(&q).await, 1);
    let q = format!(
        "SELECT COUNT(*) FROM ticket_links l JOIN tickets p ON p.id = l.proactive_ticket_id JOIN tickets t \
         ON t.id = l.linked_ticket_id WHERE p.no = '{no}' AND t.no IN ('{}', '{}', '{}')",
        reqs[0], reqs[1], reqs[2]
    );
    assert_eq!(app.count(&q).await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox_before, "no SMS at all");

    // The proactive ticket: its requests, and them in its first ledger event.
    let t = app.ticket(&di, &no).await;
    assert_eq!((t["channel"].as_str(), t["requester"]["phone"].as_str()), (Some("proactive"), Some("")));
    assert!(t["proactive_ticket"].is_null());
    let linked = t["linked_tickets"].as_array().unwrap();
    assert_eq!(linked.iter().map(|l| l["no"].as_str().unwrap()).collect::<Vec<_>>(), reqs.to_vec());
    assert_eq!(linked[0]["phone"], "138****1001", "masked as everywhere");
    assert_eq!(
        (linked[0]["category"].as_str(), linked[0]["village"].as_str(), linked[0]["status"].as_str()),
        (Some("water.supply"), Some("李家庄村"), Some("submitted"))
    );
    let first = &t["events"][0];
    assert_eq!(first["action"], "submit");
    assert_eq!(first["data"]["linked_tickets"], json!(reqs));
    assert_eq!(first["data"]["channel"], "proactive");

    // Each request: a public ledger entry that changed nothing, and the proactive ticket named.
    for r in &reqs {
        let lt = app.ticket(&di, r).await;
        assert_eq!(lt["proactive_ticket"]["no"], no.as_str());
        assert_eq!(lt["proactive_ticket"]["channel"], "proactive");
        assert_eq!(lt["status"], "submitted");
        let e = last_event(&lt);
        assert_eq!((e["action"].as_str(), e["from_status"].as_str()), (Some("proactive_link"), Some("submitted")));
        assert_eq!(e["to_status"], "submitted");
        assert_eq!(e["actor"], "陈刚");
        assert!(e["note"].as_str().unwrap().contains(&no), "{e}");
        assert!(lt["linked_tickets"].as_array().unwrap().is_empty());
        let ok: Value = app.get(&format!("/api/v1/tickets/{r}/ledger/verify"), Some(&di)).await.json().await.unwrap();
        assert_eq!(ok["ok"], true, "{ok}");
    }
    // The villager's tracking view shows it, with nobody else's data.
    let p: Value =
        app.get(&format!("/api/v1/tickets/{}/public?phone_tail=1001", reqs[0]), None).await.json().await.unwrap();
    let step = p["timeline"].as_array().unwrap().iter().find(|e| e["action"] == "proactive_link").expect("shown");
    assert!(step["note"].as_str().unwrap().contains(&no), "{step}");
    assert!(step["label"].as_str().unwrap().contains("未诉先办"), "{step}");
    let text = p.to_string();
    assert!(!text.contains("1002") && !text.contains("1003") && !text.contains(&reqs[1]), "{text}");
    // The proactive ticket has no requester page: no phone tail opens it.
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=0000"), None).await.status(),
        StatusCode::NOT_FOUND
    );
    // An admin may raise one too.
    let admin = app.token("admin").await;
    let other = request(&app, "李家庄村", "13800001004").await;
    raise(&app, &admin, &proactive_body(&app, "李家庄村", &[&other]).await).await;
}

#[tokio::test]
async fn refused_proactive_tickets_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let mine = request(&app, "李家庄村", "13800002001").await;
    let elsewhere = request(&app, "王家湾村", "13800002002").await;
    let far = request(&app, "杏花村", "13800002003").await;
    let di = app.token("dispatcher").await;
    let taken_by = raise(&app, &di, &proactive_body(&app, "李家庄村", &[&mine]).await).await;
    let taken_by = taken_by["ticket_no"].as_str().unwrap().to_string();
    let fresh = request(&app, "李家庄村", "13800002004").await;
    let xihe = app.add_staff("xihe-dispatcher", "西河乡派单员", "dispatcher", "西河乡").await;
    let before = (app.written().await, links(&app).await);

    let mut with_phone = proactive_body(&app, "李家庄村", &[&fresh]).await;
    with_phone["phone"] = json!("13800002005");
    let too_many: Vec<String> = (1..=51).map(|i| format!("20261201-{i:06}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let cases: Vec<(&str, String, Value, &str)> = vec![
        ("a phone", di.clone(), with_phone, "phone"),
        ("no link", di.clone(), proactive_body(&app, "李家庄村", &[]).await, "linked_tickets"),
        (
            "an unknown number",
            di.clone(),
            proactive_body(&app, "李家庄村", &["20260101-999999"]).await,
            "linked_tickets",
        ),
        ("not a number", di.clone(), proactive_body(&app, "李家庄村", &["abc"]).await, "linked_tickets"),
        ("the same twice", di.clone(), proactive_body(&app, "李家庄村", &[&fresh, &fresh]).await, "linked_tickets"),
        ("51 links", di.clone(), proactive_body(&app, "李家庄村", &too_many).await, "linked_tickets"),
        ("a proactive ticket", di.clone(), proactive_body(&app, "李家庄村", &[&taken_by]).await, "linked_tickets"),
        ("one already taken", di.clone(), proactive_body(&app, "李家庄村", &[&fresh, &mine]).await, "linked_tickets"),
        ("another village's", di.clone(), proactive_body(&app, "李家庄村", &[&elsewhere]).await, "linked_tickets"),
        (
            "outside the caller's scope",
            xihe.clone(),
            proactive_body(&app, "杏花村", &[&far, &fresh]).await,
            "linked_tickets",
        ),
    ];
    for (what, token, body, field) in cases {
        let e = error_of(app.post("/api/v1/tickets", Some(&token), &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{what}: {e}");
        if field == "linked_tickets" {
            assert_eq!(e["code"], "invalid_linked_tickets", "{what}: {e}");
        }
        assert_eq!((app.written().await, links(&app).await), before, "{what}: nothing written");
    }
    // Out of scope and unknown read the same: the answer does not tell which tickets exist.
    let e = error_of(
        app.post("/api/v1/tickets", Some(&xihe), &proactive_body(&app, "杏花村", &[&fresh]).await).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("不存在或不在您的管辖范围内"), "{e}");
    // Links only on a proactive ticket.
    let mut hotline = proactive_body(&app, "李家庄村", &[&fresh]).await;
    hotline["channel"] = json!("hotline");
    hotline["phone"] = json!("13800002006");
    let e = error_of(app.post("/api/v1/tickets", Some(&di), &hotline).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "linked_tickets");
    // Only a dispatcher (or an admin): the desk operator and a cadre are refused.
    for who in ["operator", "lijiazhuang"] {
        let token = app.token(who).await;
        let r = app.post("/api/v1/tickets", Some(&token), &proactive_body(&app, "李家庄村", &[&fresh]).await).await;
        error_of(r, StatusCode::FORBIDDEN).await;
    }
    assert_eq!((app.written().await, links(&app).await), before, "nothing written by any refusal");
}

#[tokio::test]
async fn the_proactive_ticket_runs_its_life_without_a_visit_and_its_first_resolution_texts_each_requester_once() {
    let app = spawn_app().await;
    // Four requests from three phones (one household asked twice).
    let reqs = [
        request(&app, "李家庄村", "13800003001").await,
        request(&app, "李家庄村", "13800003002").await,
        request(&app, "李家庄村", "13800003001").await,
        request(&app, "李家庄村", "13800003003").await,
    ];
    let refs: Vec<&str> = reqs.iter().map(String::as_str).collect();
    let (di, ca) = (app.token("dispatcher").await, app.token("lijiazhuang").await);
    let v = raise(&app, &di, &proactive_body(&app, "李家庄村", &refs).await).await;
    let no = v["ticket_no"].as_str().unwrap().to_string();
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "progress", json!({"note": "正在排查管网"})).await;
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "更换了主管道阀门，全村恢复供水"})).await;
    assert_eq!(t["status"], "resolved");
    assert!(t["visit_by"].is_null(), "no return visit is due: {}", t["visit_by"]);

    // One notice per distinct phone, about that household's own (first) request; besides the cadre's
    // order, nothing else (no confirmation, no rating request).
    let q = format!(
        "SELECT o.recipient, o.body, o.template, o.created_at FROM outbox o JOIN tickets t ON t.id = o.ticket_id \
         WHERE t.no = '{no}' AND o.kind <> 'assignment' ORDER BY o.id"
    );
    let rows =
        app.state.db.conn.query_all_raw(sea_orm::Statement::from_string(app.state.db.backend(), q)).await.unwrap();
    use sea_orm::ConnectionTrait as _;
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap(), r.try_get_by_index(2).unwrap()))
        .collect();
    let expect = |i: usize, phone: &str| {
        let body = format!(
            "【民声直达】您反映的停水断水问题（工单{}）已由李家庄村村民委员会统一办理完成，感谢您的反映。",
            reqs[i]
        );
        (phone.to_string(), body, "proactive_done".to_string())
    };
    assert_eq!(got, vec![expect(0, "13800003001"), expect(1, "13800003002"), expect(3, "13800003003")]);
    let q = format!(
        "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'proactive_done'"
    );
    assert_eq!(app.count(&q).await, 3);
    // Written with the resolution: the same instant, and its ledger event names whom it told.
    let resolve = t["events"].as_array().unwrap().iter().rev().find(|e| e["action"] == "resolve").unwrap();
    assert_eq!(resolve["data"]["linked_notices"], json!([reqs[0], reqs[1], reqs[3]]));
    let at = chrono::DateTime::parse_from_rfc3339(resolve["at"].as_str().unwrap()).unwrap();
    for r in &rows {
        let created: chrono::DateTime<chrono::Utc> = r.try_get_by_index(3).unwrap();
        assert_eq!(created, at);
    }

    // No return visit: not in the callers' queue, and neither a visit nor a claim is taken.
    let other = app.to_resolved("李家庄村", "lijiazhuang", "13800003009").await;
    let caller = app.token("caller").await;
    let queue: Value = app.get("/api/v1/return-visits/queue", Some(&caller)).await.json().await.unwrap();
    let queued: Vec<&str> = queue["items"].as_array().unwrap().iter().map(|i| i["no"].as_str().unwrap()).collect();
    assert!(queued.contains(&other.as_str()) && !queued.contains(&no.as_str()), "{queued:?}");
    let visit = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&caller), &visit).await;
    assert_eq!(error_of(r, StatusCode::CONFLICT).await["code"], "no_requester");
    let r = app.post(&format!("/api/v1/return-visits/{no}/claim"), Some(&caller), &json!({})).await;
    error_of(r, StatusCode::CONFLICT).await;
    // The console offers the check, not the visit; a ticket with a requester cannot be verified.
    let detail = app.ticket(&di, &no).await;
    let offered: Vec<&str> =
        detail["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(offered.contains(&"verify") && !offered.contains(&"return_visit"), "{offered:?}");
    let r = app.act(&di, &other, "verify", json!({})).await;
    assert_eq!(error_of(r, StatusCode::CONFLICT).await["code"], "visit_required");

    // Reopened and resolved again: nobody is texted a second time.
    app.act_ok(&di, &no, "reopen", json!({"reason": "复查发现村西头仍停水"})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "村西头支管也已修复"})).await;
    assert_eq!(app.count(&q).await, 3, "still three notices");
    let resolve = t["events"].as_array().unwrap().iter().rev().find(|e| e["action"] == "resolve").unwrap();
    assert_eq!(resolve["data"]["linked_notices"], json!([]));
    // A caller cannot verify; the inspector checks on the spot and the ticket closes (no sign-off).
    let r = app.act(&caller, &no, "verify", json!({})).await;
    error_of(r, StatusCode::FORBIDDEN).await;
    let inspector = app.token("inspector").await;
    let t = app.act_ok(&inspector, &no, "verify", json!({"note": "现场查看，全村供水正常"})).await;
    assert_eq!(t["status"], "closed");
    let tail: Vec<(&str, &str)> = t["events"].as_array().unwrap()[t["events"].as_array().unwrap().len() - 2..]
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["to_status"].as_str().unwrap()))
        .collect();
    assert_eq!(tail, vec![("verify", "visited"), ("close", "closed")]);
    assert!(t["closed_at"].is_string());
    let ok: Value = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&di)).await.json().await.unwrap();
    assert_eq!(ok["ok"], true, "{ok}");
    // The statistics roll-ups kept up with this life (links, verification and all): they equal a
    // recount for the county and for the village, today.
    let (state, now) = (&app.state, app.state.now());
    minsheng::repo::rollups::catch_up(&state.db, state.rollup_offset(), now).await.unwrap();
    let today = now.with_timezone(&state.tz()).date_naive();
    let (start, end) = (local_day_start(state, today), local_day_end(state, today));
    for place in ["清河县", "李家庄村"] {
        let id = app.region_id(place).await;
        let path = minsheng::repo::regions::get(&state.db.conn, id).await.unwrap().unwrap().path;
        let rolled = minsheng::repo::rollups::region_counts(&state.db.conn, &path, today, today).await.unwrap();
        let pop = minsheng::repo::stats::Population::Region(path.clone());
        let counted = minsheng::repo::stats::counts(&state.db.conn, &pop, start, end, now).await.unwrap();
        assert_eq!(rolled, counted, "{place}");
    }
}

#[tokio::test]
async fn a_proactive_ticket_is_no_hotspot_of_its_own() {
    let app = spawn_app().await;
    let a = request(&app, "石桥村", "13800004001").await;
    let b = request(&app, "石桥村", "13800004002").await;
    let leader = app.token("leader").await;
    let count = |v: Value| {
        v["items"].as_array().unwrap().iter().find(|i| i["region"]["name"] == "石桥村").map(|i| i["count"].clone())
    };
    let v: Value = app.get("/api/v1/stats/hotspots", Some(&leader)).await.json().await.unwrap();
    assert_eq!(count(v), Some(json!(2)));
    let di = app.token("dispatcher").await;
    raise(&app, &di, &proactive_body(&app, "石桥村", &[&a, &b]).await).await;
    let v: Value = app.get("/api/v1/stats/hotspots", Some(&leader)).await.json().await.unwrap();
    assert_eq!(count(v), Some(json!(2)), "the two requests, not the order raised from them");
}
