//! 联合办理: a dispatch to a lead unit with assisting units gives each its own part (assignment,
//! deadlines, SMS link); an assisting cadre signs for and reports its part; the lead resolves only
//! when no part is owed (or the dispatcher released it); each part counts in its own unit's rates.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::Duration;
use minsheng::workers::sla_sweeper::run_once;
use reqwest::StatusCode;
use serde_json::{Value, json};

const LEAD: &str = "东坝镇人民政府";
const ROADS: &str = "县住房和城乡建设局";
const WATER: &str = "县水利局";
const ROADS_PHONE: &str = "13900000106";
const WATER_PHONE: &str = "13900000102";

async fn bodies(app: &TestApp, phone: &str, kind: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let sql = format!("SELECT body FROM outbox WHERE recipient = '{phone}' AND kind = '{kind}' ORDER BY id");
    let rows =
        app.state.db.conn.query_all_raw(sea_orm::Statement::from_string(app.state.db.backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

fn actions(t: &Value) -> Vec<String> {
    t["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_string()).collect()
}

fn part<'a>(t: &'a Value, unit: &str) -> &'a Value {
    t["assisting"].as_array().unwrap().iter().find(|p| p["unit"]["name"] == unit).unwrap_or_else(|| panic!("{t}"))
}

/// The path of the order link in an SMS body.
fn link_of(body: &str) -> String {
    let start = body.find("http://minsheng.test/w/").expect("link in the SMS");
    body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string()
}

/// A registered road complaint of 李家庄村 dispatched to the township with two county bureaus
/// assisting; the lead has signed for it.
async fn joint_order(app: &TestApp, phone: &str) -> String {
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    let no = app.file("李家庄村", phone).await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let (lead, roads, water) = (app.unit_id(LEAD).await, app.unit_id(ROADS).await, app.unit_id(WATER).await);
    let body =
        json!({"unit_id": lead, "assisting_unit_ids": [roads, water], "note": "镇政府牵头，住建局修护栏，水利局清淤"});
    let t = app.act_ok(&di, &no, "dispatch", body).await;
    assert_eq!(t["assignment"]["unit"]["name"], LEAD);
    assert_eq!(t["assignment"]["role"], "lead");
    assert_eq!(t["assisting_open"], 2, "{t}");
    for unit in [ROADS, WATER] {
        let p = part(&t, unit);
        assert_eq!((p["role"].as_str(), p["status"].as_str()), (Some("assist"), Some("active")), "{p}");
        // Its own clock, counted from the same dispatch as the lead's.
        assert_eq!(p["respond_by"], t["assignment"]["respond_by"]);
        assert_eq!(p["resolve_by"], t["assignment"]["resolve_by"]);
    }
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ev["action"], "dispatch");
    let names: Vec<&str> =
        ev["data"]["assisting"].as_array().unwrap().iter().map(|a| a["unit_name"].as_str().unwrap()).collect();
    assert_eq!(names, [ROADS, WATER]);
    app.act_ok(&app.token("dongba").await, &no, "accept", json!({})).await;
    no
}

#[tokio::test]
async fn the_lead_resolves_only_once_every_assisting_part_is_reported_or_released() {
    let app = spawn_app().await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);

    // Unusable assisting units are refused before anything is written.
    let no0 = app.file("李家庄村", "13812345600").await;
    app.act_ok(&op, &no0, "register", json!({})).await;
    let (lead, roads) = (app.unit_id(LEAD).await, app.unit_id(ROADS).await);
    let before = app.written().await;
    for (ids, message) in [
        (json!([lead]), "协办单位不能是主办单位本身"),
        (json!([roads, roads]), "协办单位不能重复"),
        (json!([roads, 1, 2, 3, 4, 5]), "协办单位最多5个"),
        (json!([999_999]), "协办单位不存在或已停用"),
    ] {
        let e = error_of(
            app.act(&di, &no0, "dispatch", json!({"unit_id": lead, "assisting_unit_ids": ids})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!((e["field"].as_str(), e["message"].as_str()), (Some("assisting_unit_ids"), Some(message)), "{e}");
    }
    assert_eq!(app.written().await, before, "a refused dispatch writes nothing");
    assert_eq!(app.ticket(&di, &no0).await["status"], "registered");

    let no = joint_order(&app, "13812345601").await;
    // Each assisting unit got its own SMS naming the lead, with a link of its own.
    let roads_sms = bodies(&app, ROADS_PHONE, "assist").await;
    assert_eq!(roads_sms.len(), 1, "{roads_sms:?}");
    assert!(roads_sms[0].contains(&no) && roads_sms[0].contains(&format!("由{LEAD}主办")), "{}", roads_sms[0]);
    let water_sms = bodies(&app, WATER_PHONE, "assist").await;
    assert_eq!(water_sms.len(), 1);
    assert_ne!(link_of(&roads_sms[0]), link_of(&water_sms[0]));

    let (lead_ca, roads_ca) = (app.token("dongba").await, app.token("zhujian").await);
    // The assisting cadre reads the order and acts on its part only; the lead's cadre not on a part.
    let seen = app.ticket(&roads_ca, &no).await;
    let offered = actions(&seen);
    assert!(offered.contains(&"assist_accept".into()) && offered.contains(&"assist_report".into()), "{offered:?}");
    assert!(!offered.contains(&"resolve".into()) && !offered.contains(&"return".into()), "{offered:?}");
    let written = app.written().await;
    error_of(app.act(&roads_ca, &no, "resolve", json!({"result": "路修好了"})).await, StatusCode::FORBIDDEN).await;
    error_of(app.act(&lead_ca, &no, "assist_report", json!({"note": "主办"})).await, StatusCode::FORBIDDEN).await;

    // The lead may not resolve while two parts are owed: not offered, and 409 with nothing written.
    assert!(!actions(&app.ticket(&lead_ca, &no).await).contains(&"resolve".into()));
    let e = error_of(app.act(&lead_ca, &no, "resolve", json!({"result": "已修复"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "parts_open");
    assert!(e["message"].as_str().unwrap().starts_with("还有2个协办单位未反馈"), "{e}");
    assert_eq!(app.written().await, written, "refused actions write nothing");

    // The road bureau signs for its part (once), then reports it; the ticket's status is the lead's.
    let t = app.act_ok(&roads_ca, &no, "assist_accept", json!({"note": "已安排养护站"})).await;
    assert!(part(&t, ROADS)["accepted_at"].is_string(), "{t}");
    assert_eq!(part(&t, ROADS)["assignee"]["name"], "朱安居");
    assert_eq!(t["status"], "accepted");
    let e = error_of(app.act(&roads_ca, &no, "assist_accept", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "no_part");
    let e = error_of(app.act(&roads_ca, &no, "assist_report", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "note");
    let t = app.act_ok(&roads_ca, &no, "assist_report", json!({"note": "路面坑槽已填补，联系电话13912345678"})).await;
    let p = part(&t, ROADS);
    assert_eq!((p["status"].as_str(), t["status"].as_str()), (Some("completed"), Some("accepted")), "{t}");
    assert!(p["report_note"].as_str().unwrap().starts_with("路面坑槽已填补"), "{p}");
    assert!(!p["report_note"].as_str().unwrap().contains("13912345678"), "phones in free text are masked: {p}");
    assert_eq!(t["assisting_open"], 1);
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (ev["action"].as_str(), ev["from_status"].as_str(), ev["to_status"].as_str()),
        (Some("assist_report"), Some("accepted"), Some("accepted"))
    );
    assert_eq!((ev["data"]["unit_name"].as_str(), ev["data"]["parts_open"].as_i64()), (Some(ROADS), Some(1)));
    // Reported: nothing more to do for the road bureau.
    assert!(!actions(&app.ticket(&roads_ca, &no).await).iter().any(|a| a.starts_with("assist")));
    let e = error_of(app.act(&lead_ca, &no, "resolve", json!({"result": "已修复"})).await, StatusCode::CONFLICT).await;
    assert!(e["message"].as_str().unwrap().starts_with("还有1个协办单位未反馈"), "{e}");

    // The dispatcher releases the water bureau (its part turned out not to be needed).
    let water = app.unit_id(WATER).await;
    assert!(actions(&app.ticket(&di, &no).await).contains(&"assist_release".into()));
    let e =
        error_of(app.act(&di, &no, "assist_release", json!({"unit_id": water})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    let t = app.act_ok(&di, &no, "assist_release", json!({"unit_id": water, "reason": "经核实不涉及水利设施"})).await;
    assert_eq!(part(&t, WATER)["status"], "released");
    assert_eq!(t["assisting_open"], 0);
    assert!(bodies(&app, WATER_PHONE, "recall").await.last().unwrap().contains("已解除协办"));
    let e = error_of(
        app.act(&di, &no, "assist_release", json!({"unit_id": water, "reason": "再解除"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "no_part");
    assert!(!actions(&app.ticket(&di, &no).await).contains(&"assist_release".into()));

    // Now the lead resolves.
    assert!(actions(&app.ticket(&lead_ca, &no).await).contains(&"resolve".into()));
    let t = app.act_ok(&lead_ca, &no, "resolve", json!({"result": "道路已修复"})).await;
    assert_eq!(t["status"], "resolved");

    // Each part counts for its own unit: the road bureau received one order and signed for it in
    // time; the water bureau's part, released before its deadline, is not due.
    let leader = app.token("leader").await;
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    app.state.time.advance(Duration::hours(3));
    let v: Value = app
        .get(&format!("/api/v1/stats/units?from={today}&to={today}&per_page=100"), Some(&leader))
        .await
        .json()
        .await
        .unwrap();
    let row = |name: &str| v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == name).unwrap().clone();
    let r = row(ROADS);
    assert_eq!((r["counts"]["received"].as_i64(), r["counts"]["response_due"].as_i64()), (Some(1), Some(1)), "{r}");
    assert_eq!(r["counts"]["responded_in_time"], 1, "{r}");
    assert_eq!(r["response_rate"], 1.0, "{r}");
    let w = row(WATER);
    assert_eq!((w["counts"]["received"].as_i64(), w["counts"]["response_due"].as_i64()), (Some(1), Some(0)), "{w}");
    let l = row(LEAD);
    assert_eq!(
        (l["counts"]["received"].as_i64(), l["counts"]["responded_in_time"].as_i64()),
        (Some(1), Some(1)),
        "{l}"
    );
}

#[tokio::test]
async fn an_assisting_part_has_its_own_link_and_clock_and_ends_when_the_order_goes_back() {
    let app = spawn_app().await;
    let no = joint_order(&app, "13812345602").await;
    let di = app.token("dispatcher").await;
    let roads_link = link_of(&bodies(&app, ROADS_PHONE, "assist").await[0]);
    let water_link = link_of(&bodies(&app, WATER_PHONE, "assist").await[0]);
    let lead_link = link_of(&app.sent_body(&no, "assignment").await);

    // The part's page offers the part's forms, not the order's.
    let page = app.get(&roads_link, None).await.text().await.unwrap();
    assert!(page.contains("签收协办") && page.contains("反馈协办情况"), "{page}");
    assert!(!page.contains("form-resolve") && !page.contains("form-return"), "{page}");
    assert!(
        page.contains("镇政府牵头，住建局修护栏，水利局清淤"),
        "the dispatch's note is the part's brief too: {page}"
    );
    let r = crate::worklink::post_form(&app, &format!("{roads_link}/resolve"), &[("result", "办完了")], &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = crate::worklink::post_form(&app, &format!("{lead_link}/assist_report"), &[("note", "x")], &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r =
        crate::worklink::post_form(&app, &format!("{roads_link}/assist_report"), &[("note", "已填补坑槽")], &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = app.ticket(&di, &no).await;
    assert_eq!(part(&t, ROADS)["status"], "completed");
    assert_eq!(part(&t, ROADS)["report_note"], "已填补坑槽");
    let page = app.get(&roads_link, None).await.text().await.unwrap();
    assert!(page.contains("贵单位的协办任务已反馈或已解除") && !page.contains("form-assist_report"), "{page}");

    // Its own clock: past the response deadline the water bureau's part is urged (a ledger event
    // naming that unit) but never escalates the order, which stays with the lead.
    app.state.time.advance(Duration::hours(3));
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((r.urges, r.escalations), (1, 0), "{r:?}");
    assert_eq!(bodies(&app, WATER_PHONE, "urge").await.len(), 1);
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["assignment"]["unit"]["name"], LEAD);
    let urge = t["events"].as_array().unwrap().iter().rfind(|e| e["action"] == "urge").unwrap().clone();
    assert_eq!(urge["data"]["unit_id"], app.unit_id(WATER).await, "{urge}");
    // The late part is its unit's overdue order, not the ticket's: the lead is on time.
    let counts: Value = app.get("/api/v1/tickets/counts", Some(&di)).await.json().await.unwrap();
    assert_eq!(counts["overdue"], 0, "{counts}");
    assert_eq!(t["overdue"], false);
    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    let row = |name: &str| v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == name).unwrap().clone();
    assert_eq!(row(WATER)["counts"]["overdue"], 1, "{}", row(WATER));
    assert_eq!(row(LEAD)["counts"]["overdue"], 0, "{}", row(LEAD));

    // The lead gives the order back: the owed part ends with it, its unit is told, its link ends.
    let lead_ca = app.token("dongba").await;
    let t = app.act_ok(&lead_ca, &no, "return", json!({"reason": "不属于本镇职责"})).await;
    assert_eq!(t["status"], "registered");
    assert_eq!(t["assisting_open"], 0);
    assert!(t["assisting"].as_array().unwrap().iter().all(|p| p["unit"]["name"] != WATER), "{t}");
    assert!(bodies(&app, WATER_PHONE, "recall").await.last().unwrap().contains("已退单"));
    let r =
        crate::worklink::post_form(&app, &format!("{water_link}/assist_report"), &[("note", "迟到的反馈")], &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let q = "SELECT COUNT(*) FROM assignments WHERE role = 'assist' AND status = 'superseded'";
    assert_eq!(app.count(q).await, 1);
}

#[tokio::test]
async fn an_owed_part_of_a_paused_order_is_still_urged_by_sms_without_touching_the_ticket() {
    let app = spawn_app().await;
    let no = joint_order(&app, "13812345603").await;
    let lead_ca = app.token("dongba").await;
    let leader = app.token("leader").await;
    let resume_on =
        (app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + Duration::days(10)).to_string();
    app.act_ok(&lead_ca, &no, "pause_request", json!({"reason": "等材料到货", "resume_on": resume_on})).await;
    let t = app.act_ok(&leader, &no, "pause_approve", json!({})).await;
    assert_eq!((t["status"].as_str(), t["assisting_open"].as_i64()), (Some("paused"), Some(2)));
    let events_before = t["events"].as_array().unwrap().len();
    // The parts' own clocks run on: past their response deadline both units are urged by SMS, but
    // a paused ticket takes no urge, so the ledger is left as it is and nothing fails.
    app.state.time.advance(Duration::hours(3));
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((r.urges, r.escalations, r.failed), (2, 0, 0), "{r:?}");
    assert_eq!(bodies(&app, ROADS_PHONE, "urge").await.len(), 1);
    assert_eq!(bodies(&app, WATER_PHONE, "urge").await.len(), 1);
    let t = app.ticket(&leader, &no).await;
    assert_eq!((t["status"].as_str(), t["events"].as_array().unwrap().len()), (Some("paused"), events_before));
    // Nothing more is owed on the next pass: each breach is told once.
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((r.urges, r.failed), (0, 0), "{r:?}");
    // A part may be reported while the lead's clock stands still.
    let t = app.act_ok(&app.token("zhujian").await, &no, "assist_report", json!({"note": "护栏已换"})).await;
    assert_eq!((t["status"].as_str(), t["assisting_open"].as_i64()), (Some("paused"), Some(1)));
}
