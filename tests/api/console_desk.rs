//! The dispatcher's desk (issue 15): redirect (改派) and withdraw (撤回) before acceptance, the unit
//! suggested for dispatch, the work list's counts, status tabs, sorting and phone look-up, and the
//! demo's history of overdue and late orders.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().with_timezone(&Utc)
}

fn last_event(t: &Value) -> &Value {
    t["events"].as_array().unwrap().last().unwrap()
}

async fn registered(app: &TestApp, village: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    no
}

/// (phone, kind, body) of the messages about a ticket, oldest first.
async fn messages(app: &TestApp, no: &str) -> Vec<(String, String, String)> {
    let sql = format!(
        "SELECT o.recipient, o.kind, o.body FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' ORDER BY o.id"
    );
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .conn
        .query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).unwrap(),
                r.try_get_by_index::<String>(1).unwrap(),
                r.try_get_by_index::<String>(2).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_redirect_before_acceptance_supersedes_the_order_restarts_its_clock_and_tells_the_first_cadre() {
    let app = spawn_app().await;
    let no = registered(&app, "李家庄村", "13812345678").await;
    let di = app.token("dispatcher").await;
    let village = app.unit_id("李家庄村村民委员会").await;
    let township = app.unit_id("东坝镇人民政府").await;
    let first = app.act_ok(&di, &no, "dispatch", json!({"unit_id": village})).await;
    let first_respond_by = at(&first["assignment"]["respond_by"]);
    app.state.time.advance(Duration::minutes(90));

    // Refused without a reason, to the same unit, or by anyone but a dispatcher: nothing written.
    let written = app.written().await;
    let e = error_of(app.act(&di, &no, "redirect", json!({"unit_id": township})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    let same = json!({"unit_id": village, "reason": "换人办理"});
    let e = error_of(app.act(&di, &no, "redirect", same).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["code"], "same_assignment");
    for who in ["leader", "operator", "lijiazhuang", "caller"] {
        let t = app.token(who).await;
        let r = app.act(&t, &no, "redirect", json!({"unit_id": township, "reason": "x"})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(app.written().await, written, "refusals write nothing");

    let t = app
        .act_ok(&di, &no, "redirect", json!({"unit_id": township, "reason": "路段属镇里管护，改由镇政府办理"}))
        .await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    let ev = last_event(&t);
    assert_eq!((ev["action"].as_str(), ev["actor"].as_str()), (Some("redirect"), Some("陈刚")));
    assert_eq!(ev["note"], "路段属镇里管护，改由镇政府办理");
    assert_eq!(ev["data"]["from_unit_name"], "李家庄村村民委员会");
    // The old assignment is over; the new one's clock starts at the redirect.
    let list = t["assignments"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["status"], "superseded");
    assert_eq!(list[1]["status"], "active");
    let now = app.state.now();
    let respond_by = at(&t["assignment"]["respond_by"]);
    assert!(respond_by > first_respond_by, "a fresh clock");
    assert!((respond_by - (now + Duration::hours(2))).num_seconds().abs() <= 2, "2 h from the redirect");
    // The first cadre is told, the township cadre gets the order with its link.
    let sms = messages(&app, &no).await;
    let recall: Vec<_> = sms.iter().filter(|(_, k, _)| k == "recall").collect();
    assert_eq!(recall.len(), 1);
    assert_eq!(recall[0].0, "13900000301", "李长河, who was sent the order");
    assert!(recall[0].2.contains(&no) && recall[0].2.contains("改派"), "{}", recall[0].2);
    let assignment_sms: Vec<_> = sms.iter().filter(|(_, k, _)| k == "assignment").map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(assignment_sms, ["13900000301", "13900000201"]);
    // The village cadre can no longer act on it; the township cadre can.
    let old = app.token("lijiazhuang").await;
    assert_eq!(app.act(&old, &no, "accept", json!({})).await.status(), StatusCode::FORBIDDEN);
    let town = app.token("dongba").await;
    app.act_ok(&town, &no, "accept", json!({})).await;

    // After acceptance: only the unit's return or escalation.
    for action in ["redirect", "withdraw"] {
        let r = app.act(&di, &no, action, json!({"unit_id": village, "reason": "再改"})).await;
        let e = error_of(r, StatusCode::CONFLICT).await;
        assert_eq!(e["code"], "illegal_transition", "{action}");
        assert!(e["message"].as_str().unwrap().contains("只能由承办单位退单或申请提级"), "{e}");
    }
    let v: Value = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&di)).await.json().await.unwrap();
    assert_eq!(v["ok"], true);
    // The requester sees the new unit.
    let public: Value =
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await.json().await.unwrap();
    assert_eq!(public["handling_unit"], "东坝镇人民政府");
    assert!(public["timeline"].as_array().unwrap().iter().any(|e| e["label"] == "已改派至承办单位"));
    assert!(!public.to_string().contains("改由镇政府办理"), "the reason stays internal");
}

#[tokio::test]
async fn a_redirect_to_another_cadre_of_the_same_unit_tells_only_the_first() {
    let app = spawn_app().await;
    let no = registered(&app, "李家庄村", "13812345679").await;
    let di = app.token("dispatcher").await;
    let county = app.unit_id("县水利局").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": county})).await;
    // A second cadre in the same department.
    app.add_staff("shuili2", "孔二", "cadre", "清河县").await;
    let q = format!("UPDATE staff SET unit_id = {county}, phone = '13900000199' WHERE username = 'shuili2'");
    use sea_orm::ConnectionTrait;
    app.state.db.conn.execute_unprepared(&q).await.unwrap();
    let second = app.count("SELECT id FROM staff WHERE username = 'shuili2'").await;
    let t = app
        .act_ok(&di, &no, "redirect", json!({"unit_id": county, "assignee_id": second, "reason": "由孔二负责"}))
        .await;
    assert_eq!(t["assignment"]["assignee"]["name"], "孔二");
    let sms = messages(&app, &no).await;
    let recall: Vec<&str> = sms.iter().filter(|(_, k, _)| k == "recall").map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(recall, ["13900000102"], "孔水生, who had it; not the new assignee");
    let again = json!({"unit_id": county, "assignee_id": second, "reason": "再改"});
    let e = error_of(app.act(&di, &no, "redirect", again).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["code"], "same_assignment");
}

#[tokio::test]
async fn a_withdraw_before_acceptance_sends_the_order_back_to_dispatch_with_its_clock_restarted() {
    let app = spawn_app().await;
    let no = registered(&app, "王家湾村", "13812340101").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("王家湾村村民委员会").await})).await;
    app.state.time.advance(Duration::minutes(45));
    let e = error_of(app.act(&di, &no, "withdraw", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    let t = app.act_ok(&di, &no, "withdraw", json!({"reason": "分类有误，需重新研判"})).await;
    assert_eq!(t["status"], "registered");
    assert!(t["assignment"].is_null());
    assert_eq!(t["assignments"][0]["status"], "superseded");
    let due = at(&t["dispatch_by"]);
    assert!((due - (app.state.now() + Duration::minutes(20))).num_seconds().abs() <= 2, "20 min from the withdraw");
    assert_eq!(t["deadline"]["step"], "dispatch");
    let ev = last_event(&t);
    assert_eq!(
        (ev["action"].as_str(), ev["from_status"].as_str(), ev["to_status"].as_str()),
        (Some("withdraw"), Some("dispatched"), Some("registered"))
    );
    let sms = messages(&app, &no).await;
    let recall: Vec<_> = sms.iter().filter(|(_, k, _)| k == "recall").collect();
    assert_eq!(recall.len(), 1);
    assert_eq!(recall[0].0, "13900000302");
    assert!(recall[0].2.contains("撤回"));
    // Internal, like 退单: not on the requester's timeline.
    let public: Value =
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=0101"), None).await.json().await.unwrap();
    assert!(!public["timeline"].as_array().unwrap().iter().any(|e| e["action"] == "withdraw"));
    // The console offers dispatch again, not redirect or withdraw.
    let actions: Vec<&str> = t["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"dispatch") && !actions.contains(&"redirect") && !actions.contains(&"withdraw"),
        "{actions:?}"
    );
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("东坝镇人民政府").await})).await;
    let t = app.ticket(&di, &no).await;
    let actions: Vec<&str> = t["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"redirect") && actions.contains(&"withdraw"), "{actions:?}");
}

#[tokio::test]
async fn an_order_taken_back_before_its_response_deadline_does_not_count_against_the_first_unit() {
    let app = spawn_app().await;
    let di = app.token("dispatcher").await;
    let village = app.unit_id("石桥村村民委员会").await;
    let a = registered(&app, "石桥村", "13812340201").await;
    app.act_ok(&di, &a, "dispatch", json!({"unit_id": village})).await;
    let b = registered(&app, "石桥村", "13812340202").await;
    app.act_ok(&di, &b, "dispatch", json!({"unit_id": village})).await;
    app.state.time.advance(Duration::minutes(30));
    app.act_ok(&di, &a, "redirect", json!({"unit_id": app.unit_id("东坝镇人民政府").await, "reason": "镇里管"})).await;
    app.act_ok(&di, &b, "withdraw", json!({"reason": "重新研判"})).await;
    // Later than both response deadlines.
    app.state.time.advance(Duration::hours(3));
    let leader = app.token("leader").await;
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let from = today - chrono::Days::new(1);
    let r: Value =
        app.get(&format!("/api/v1/stats/units?from={from}&to={today}"), Some(&leader)).await.json().await.unwrap();
    let row = r["items"].as_array().unwrap().iter().find(|i| i["unit"]["id"] == village).unwrap().clone();
    assert_eq!(row["counts"]["received"], 2, "both were given to the village: {row}");
    assert_eq!(row["counts"]["response_due"], 0, "neither was the village's to answer: {row}");
}

#[tokio::test]
async fn the_suggested_unit_follows_the_categorys_level_and_the_tickets_village() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let grid = {
        let village = app.region_id("李家庄村").await;
        app.count(&format!("SELECT id FROM regions WHERE parent_id = {village} AND name = '第一网格'")).await
    };
    let mut cases = vec![
        // (region, category, expected unit, level)
        (app.region_id("李家庄村").await, "water.supply", "李家庄村村民委员会", "village"),
        (grid, "sanitation.garbage", "李家庄村村民委员会", "village"),
        (app.region_id("李家庄村").await, "roads.damage", "东坝镇人民政府", "township"),
        (app.region_id("杏花村").await, "water.quality", "西河乡人民政府", "township"),
        (app.region_id("杏花村").await, "wages", "县人力资源和社会保障局", "county"),
        // A child without a department of its own takes its parent's.
        (app.region_id("河口村").await, "industry.agri", "县农业农村局", "county"),
        (app.region_id("石桥村").await, "housing", "县住房和城乡建设局", "county"),
    ];
    // A county-level category naming no department: the county centre.
    let disaster = minsheng::repo::catalog::Category {
        code: "disaster".into(),
        name: "防灾减灾".into(),
        parent_code: None,
        level: "county".into(),
        sort: 99,
        active: true,
        unit_id: None,
        auto_dispatch: false,
        default_kind: None,
    };
    minsheng::repo::catalog::insert_category(&app.state.db.conn, disaster).await.unwrap();
    cases.push((app.region_id("石桥村").await, "disaster", "县民生服务中心", "county"));
    for (i, (region, category, unit, level)) in cases.iter().enumerate() {
        let body = json!({"region_id": region, "channel": "hotline", "category": category, "kind": "help",
                          "description": "测试建议承办单位", "phone": format!("1381234{i:04}")});
        let r = app.post("/api/v1/tickets", Some(&op), &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
        let t = app.ticket(&di, &no).await;
        assert_eq!(t["suggested_unit"]["name"], *unit, "{category}");
        assert_eq!(t["suggested_unit"]["level"], *level, "{category}");
        assert_eq!(t["suggested_unit"]["id"], app.unit_id(unit).await, "{category}");
    }
    // A department that stops handling orders is not suggested: the county centre is.
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .conn
        .execute_unprepared("UPDATE units SET active = false WHERE name = '县人力资源和社会保障局'")
        .await
        .unwrap();
    let body = json!({"region_id": app.region_id("杏花村").await, "channel": "hotline", "category": "wages",
                      "kind": "help", "description": "工地老板拖欠工资半年", "phone": "13812349999"});
    let r: Value = app.post("/api/v1/tickets", Some(&op), &body).await.json().await.unwrap();
    let no = r["ticket_no"].as_str().unwrap_or_else(|| panic!("{r}")).to_string();
    assert_eq!(app.ticket(&di, &no).await["suggested_unit"]["name"], "县民生服务中心");
    // The categories list names each category's department.
    let cats: Value = app.get("/api/v1/categories", Some(&di)).await.json().await.unwrap();
    let wages = cats["items"].as_array().unwrap().iter().find(|c| c["code"] == "wages").unwrap().clone();
    assert_eq!(wages["unit_id"], app.unit_id("县人力资源和社会保障局").await);
}

async fn counts(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/tickets/counts{query}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK, "counts{query}");
    r.json().await.unwrap()
}

async fn total(app: &TestApp, token: &str, query: &str) -> i64 {
    let r = app.get(&format!("/api/v1/tickets{query}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK, "list{query}");
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

#[tokio::test]
async fn the_counts_follow_the_lists_filters_and_scope() {
    let app = spawn_app().await;
    let di = app.token("dispatcher").await;
    // Submitted ×2 (one filed 30 min ago: registration late), registered, dispatched, accepted and
    // overdue, resolved.
    let late_filing = app.file("李家庄村", "13812340301").await;
    app.state.time.advance(Duration::minutes(30));
    app.file("杏花村", "13812340302").await;
    registered(&app, "王家湾村", "13812340303").await;
    let dispatched = registered(&app, "石桥村", "13812340304").await;
    app.act_ok(&di, &dispatched, "dispatch", json!({"unit_id": app.unit_id("石桥村村民委员会").await})).await;
    let overdue = app.to_accepted("李家庄村", "lijiazhuang", "13812340305").await;
    app.to_resolved("河口村", "hekou", "13812340306").await;
    app.state.time.advance(Duration::hours(73));
    let all = counts(&app, &di, "").await;
    assert_eq!(all["total"], 6);
    assert_eq!(
        (&all["submitted"], &all["registered"], &all["dispatched"], &all["accepted"], &all["resolved"]),
        (&json!(2), &json!(1), &json!(1), &json!(1), &json!(1)),
        "{all}"
    );
    assert_eq!(all["closed"], 0, "every status is named: {all}");
    // Three days on (no sweeper ran): the dispatched order missed its response, the accepted one
    // its result; every step waiting is late, registration, dispatch and the visit included.
    assert_eq!(all["overdue"], 2, "{all}");
    assert_eq!(all["late"], 6, "{all}");
    let _ = (&late_filing, &overdue);
    // Each count is the list's total with the same filter.
    for status in ["submitted", "registered", "dispatched", "accepted", "resolved", "closed"] {
        assert_eq!(all[status], total(&app, &di, &format!("?status={status}")).await, "{status}");
    }
    assert_eq!(all["overdue"], total(&app, &di, "?overdue=true").await);
    assert_eq!(all["late"], total(&app, &di, "?late=true").await);
    assert_eq!(total(&app, &di, "?status=submitted,registered").await, 3, "several statuses at once");
    // Filters narrow the counts as they narrow the list.
    let east = app.region_id("东坝镇").await;
    let dongba = counts(&app, &di, &format!("?region_id={east}")).await;
    assert_eq!(dongba["total"], total(&app, &di, &format!("?region_id={east}")).await);
    assert_eq!(dongba["total"], 4, "{dongba}");
    let by_phone = counts(&app, &di, "?phone=13812340305").await;
    assert_eq!((by_phone["total"].as_i64(), by_phone["overdue"].as_i64()), (Some(1), Some(1)));
    // Scope: the village cadre counts only the orders given to the village.
    let cadre = app.token("lijiazhuang").await;
    let mine = counts(&app, &cadre, "").await;
    assert_eq!(
        (mine["total"].as_i64(), mine["accepted"].as_i64(), mine["overdue"].as_i64()),
        (Some(1), Some(1), Some(1))
    );
    // Bad filters are refused as the list refuses them.
    error_of(app.get("/api/v1/tickets/counts?status=lost", Some(&di)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(app.get("/api/v1/tickets/counts", None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_list_sorts_by_deadline_status_and_number_and_looks_up_a_callers_phone() {
    let app = spawn_app().await;
    let di = app.token("dispatcher").await;
    let a = registered(&app, "李家庄村", "13812340401").await; // dispatch due in 20 min
    app.state.time.advance(Duration::minutes(2));
    let b = app.file("杏花村", "13812340402").await; // registration due in 15 min (17 from a)
    app.state.time.advance(Duration::minutes(1));
    let c = app.to_accepted("王家湾村", "wangjiawan", "13812340401").await; // progress due in 24 h
    let nos = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["no"].as_str().unwrap().to_string()).collect()
    };
    let list = |q: &'static str| {
        let app = &app;
        let di = di.clone();
        async move { app.get(&format!("/api/v1/tickets{q}"), Some(&di)).await.json::<Value>().await.unwrap() }
    };
    assert_eq!(nos(&list("").await), [c.clone(), b.clone(), a.clone()], "newest first by default");
    assert_eq!(nos(&list("?sort=deadline").await), [b.clone(), a.clone(), c.clone()], "soonest deadline first");
    assert_eq!(nos(&list("?sort=-deadline").await), [c.clone(), a.clone(), b.clone()]);
    assert_eq!(nos(&list("?sort=status").await), [b.clone(), a.clone(), c.clone()], "in the order of a ticket's life");
    assert_eq!(nos(&list("?sort=no").await), [a.clone(), b.clone(), c.clone()]);
    assert_eq!(nos(&list("?sort=-created_at").await), nos(&list("").await));
    let e = error_of(app.get("/api/v1/tickets?sort=phone", Some(&di)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "sort");
    // A caller's earlier requests by phone, with the +86 form too; the phone stays masked.
    let by_phone = list("?phone=%2B8613812340401").await;
    assert_eq!(nos(&by_phone), [c.clone(), a.clone()]);
    assert!(by_phone["items"].as_array().unwrap().iter().all(|i| i["phone"] == "138****0401"));
    let e = error_of(app.get("/api/v1/tickets?phone=12345", Some(&di)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "phone");
    // Scope still applies: a cadre of another village finds nothing of that phone.
    let other = app.token("hekou").await;
    assert_eq!(total(&app, &other, "?phone=13812340401").await, 0);
}

#[tokio::test]
async fn the_demo_history_shows_overdue_and_late_orders_with_sound_ledgers() {
    let app = spawn_app().await;
    let filed = minsheng::demo::seed_orders(&app.state).await.unwrap();
    assert_eq!(filed, 24);
    // The clock is real time again.
    assert!((app.state.now() - Utc::now()).num_seconds().abs() < 5);
    let admin = app.token("admin").await;
    let c = counts(&app, &admin, "").await;
    assert_eq!(c["total"], 24, "{c}");
    // 三老合议: one repeated request decided by its village council (published on the village's
    // notice page), one waiting for a leader's approval to be referred.
    assert_eq!(c["refer_pending"], 1, "{c}");
    assert_eq!(app.count("SELECT COUNT(*) FROM council_notices").await, 1);
    assert!(app.count("SELECT COUNT(*) FROM council_members").await >= 18);
    // 联合办理: one order led by a township with two assisting bureaus, one part still owed.
    let q = "SELECT COUNT(*) FROM assignments WHERE role = 'assist' AND status = 'active'";
    assert_eq!(app.count(q).await, 1);
    let q =
        "SELECT COUNT(*) FROM assignments WHERE role = 'assist' AND status = 'completed' AND report_note IS NOT NULL";
    assert_eq!(app.count(q).await, 1);
    // 挂起: one order paused with the leader's approval, one request waiting for a leader.
    assert_eq!((c["paused"].as_i64(), c["pause_pending"].as_i64()), (Some(1), Some(1)), "{c}");
    // One proactive ticket (未诉先办) raised from three of the history's requests, in hand.
    let q = "SELECT COUNT(*) FROM tickets WHERE channel = 'proactive' AND status = 'in_progress'";
    assert_eq!(app.count(q).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM ticket_links").await, 3);
    assert!(c["overdue"].as_i64().unwrap() >= 2, "{c}");
    assert!(c["late"].as_i64().unwrap() > c["overdue"].as_i64().unwrap(), "late desk steps and visits too: {c}");
    for status in ["submitted", "registered", "dispatched", "accepted", "in_progress", "resolved", "closed"] {
        assert!(c[status].as_i64().unwrap() >= 1, "{status}: {c}");
    }
    let late_steps: Vec<String> =
        app.get("/api/v1/tickets?late=true&per_page=100", Some(&admin)).await.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["deadline"]["step"].as_str().unwrap().to_string())
            .collect();
    for step in ["register", "dispatch", "progress", "resolve", "visit"] {
        assert!(late_steps.iter().any(|s| s == step), "a late {step}: {late_steps:?}");
    }
    let list: Value = app.get("/api/v1/tickets?per_page=100", Some(&admin)).await.json().await.unwrap();
    for item in list["items"].as_array().unwrap() {
        let no = item["no"].as_str().unwrap();
        let v: Value =
            app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&admin)).await.json().await.unwrap();
        assert_eq!(v["ok"], true, "{no}");
        // Every event in time order.
        let t = app.ticket(&admin, no).await;
        let times: Vec<DateTime<Utc>> = t["events"].as_array().unwrap().iter().map(|e| at(&e["at"])).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{no}: {times:?}");
    }
}
