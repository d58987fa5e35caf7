//! 挂起: the unit asks to pause a signed-for order with a reason and a resume date, a leader of the
//! region approves or refuses; while paused the deadlines stand still, and on resuming (by hand, or
//! by the sweeper on the date, once) the paused time is given back to every open deadline.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use minsheng::workers::sla_sweeper::run_once;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CADRE: &str = "lijiazhuang";
const CADRE_PHONE: &str = "13900000301";

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("an instant: {v}")).parse().unwrap()
}

fn today(app: &TestApp) -> NaiveDate {
    app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// 08:00 of `day` in the county (Asia/Shanghai): when a pause until that day ends.
fn eight_oclock(day: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.from_local_datetime(&day.and_hms_opt(8, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

async fn events(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM events").await
}

async fn pause_sms(app: &TestApp, phone: &str) -> Vec<String> {
    let sql = format!("SELECT body FROM outbox WHERE kind = 'pause' AND recipient = '{phone}' ORDER BY id");
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    use sea_orm::ConnectionTrait;
    let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

fn actions(t: &Value) -> Vec<String> {
    t["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_string()).collect()
}

/// An accepted order of 李家庄村 with a pause asked for until `days` from today: (no, resolve_by before).
async fn requested(app: &TestApp, phone: &str, days: i64) -> (String, DateTime<Utc>, NaiveDate) {
    let no = app.to_accepted("李家庄村", CADRE, phone).await;
    let ca = app.token(CADRE).await;
    let before = at(&app.ticket(&ca, &no).await["assignment"]["resolve_by"]);
    let day = today(app) + Duration::days(days);
    let t = app
        .act_ok(&ca, &no, "pause_request", json!({"reason": "等秋收后机械进场施工", "resume_on": day.to_string()}))
        .await;
    assert_eq!(t["status"], "accepted", "a request alone does not stop the clock");
    assert_eq!(t["assignment"]["pause"]["pending"], true, "{}", t["assignment"]);
    assert_eq!(t["assignment"]["pause"]["resume_on"], day.to_string());
    assert_eq!(at(&t["assignment"]["resolve_by"]), before);
    (no, before, day)
}

#[tokio::test]
async fn a_leader_approved_pause_stops_the_clock_and_resuming_gives_the_paused_time_back() {
    let app = spawn_app().await;
    let (no, before, day) = requested(&app, "13812340001", 10).await;
    let ca = app.token(CADRE).await;
    let leader = app.token("leader").await;
    let di = app.token("dispatcher").await;
    let other_leader = app.add_staff("xihe-leader", "西河乡分管领导", "leader", "西河乡").await;

    // Only a leader whose region holds the ticket decides; a second request waits for the first.
    let written = events(&app).await;
    error_of(app.act(&di, &no, "pause_approve", json!({})).await, StatusCode::FORBIDDEN).await;
    let r = app.act(&other_leader, &no, "pause_approve", json!({})).await;
    assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status());
    let e = error_of(
        app.act(&ca, &no, "pause_request", json!({"reason": "再申请", "resume_on": day.to_string()})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "pause_pending");
    assert_eq!(events(&app).await, written, "refused attempts write nothing");
    let offered = actions(&app.ticket(&leader, &no).await);
    assert!(offered.contains(&"pause_approve".into()) && offered.contains(&"pause_refuse".into()), "{offered:?}");
    assert!(!actions(&app.ticket(&ca, &no).await).contains(&"pause_request".into()));
    let pending: Value = app.get("/api/v1/tickets?pause=pending", Some(&leader)).await.json().await.unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending["items"][0]["no"], no.as_str());
    let counts: Value = app.get("/api/v1/tickets/counts", Some(&leader)).await.json().await.unwrap();
    assert_eq!(counts["pause_pending"], 1, "{counts}");

    // Approved: paused until 08:00 of the day, every open deadline moved by that much.
    let approved_at = app.state.now();
    let until = eight_oclock(day);
    let t = app.act_ok(&leader, &no, "pause_approve", json!({"note": "同意"})).await;
    assert_eq!(t["status"], "paused");
    assert_eq!(t["status_label"], "已挂起");
    let p = &t["assignment"]["pause"];
    assert_eq!((p["pending"].as_bool(), p["decision"].as_str()), (Some(false), Some("approved")));
    assert_eq!(p["decided_by"]["name"], "孙伟");
    assert_eq!(at(&p["pause_until"]), until);
    let moved = at(&t["assignment"]["resolve_by"]);
    assert!((moved - (before + (until - approved_at))).num_seconds().abs() <= 1, "{moved} vs {before}");
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((ev["action"].as_str(), ev["to_status"].as_str()), (Some("pause_approve"), Some("paused")));
    assert_eq!(ev["data"]["reason"], "等秋收后机械进场施工");
    assert!(pause_sms(&app, CADRE_PHONE).await.last().unwrap().contains("挂起申请已批准，计时暂停至"));
    assert!(!actions(&t).contains(&"pause_approve".into()));

    // While paused nothing that presumes a running clock applies.
    let written = events(&app).await;
    for (token, action, body) in [
        (&ca, "resolve", json!({"result": "办完了"})),
        (&ca, "progress", json!({"note": "进展"})),
        (&leader, "urge", json!({"note": "快"})),
        (&di, "escalate", json!({"reason": "提级"})),
    ] {
        let e = error_of(app.act(token, &no, action, body).await, StatusCode::CONFLICT).await;
        assert_eq!(e["code"], "illegal_transition", "{action}");
    }
    assert_eq!(events(&app).await, written);
    // Paused is not overdue, not late, and the sweeper sends nothing before the resume date,
    // even long after the first deadline would have passed (72 h).
    app.state.time.advance(Duration::days(4));
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((r.reminders, r.urges, r.escalations, r.resumed), (0, 0, 0, 0));
    let late: Value = app.get("/api/v1/tickets/counts", Some(&leader)).await.json().await.unwrap();
    assert_eq!((late["overdue"].as_i64(), late["late"].as_i64(), late["paused"].as_i64()), (Some(0), Some(0), Some(1)));

    // The requester reads the pause, why and until when, and nobody's name.
    let phone_tail = "0001";
    let public: Value =
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail={phone_tail}"), None).await.json().await.unwrap();
    assert_eq!(public["status_label"], "已挂起");
    assert_eq!(public["paused_until"], day.to_string());
    let line = public["timeline"].as_array().unwrap().iter().find(|e| e["action"] == "pause_approve").unwrap();
    assert!(line["label"].as_str().unwrap().contains("挂起"), "{line}");
    assert!(line["note"].as_str().unwrap().contains("等秋收后机械进场施工"), "{line}");
    let text = public.to_string();
    assert!(!text.contains("孙伟") && !text.contains("李长河"), "no names on the public page: {text}");
    let page = app.get(&format!("/t/{no}?phone_tail={phone_tail}"), None).await.text().await.unwrap();
    let until_text = day.format("%m月%d日").to_string();
    assert!(page.contains(&format!("经批准暂停办理（挂起），预计{until_text}恢复办理")), "{page}");
    assert!(page.contains("等秋收后机械进场施工") && !page.contains("孙伟"), "{page}");

    // The cadre resumes four days in: the deadlines keep exactly those four days.
    let resumed_at = app.state.now();
    let t = app.act_ok(&ca, &no, "resume", json!({"note": "机械提前到位，恢复施工"})).await;
    assert_eq!(t["status"], "in_progress");
    let after = at(&t["assignment"]["resolve_by"]);
    assert!((after - (before + (resumed_at - approved_at))).num_seconds().abs() <= 1, "{after} vs {before}");
    assert_eq!(t["assignment"]["paused_minutes"], 4 * 24 * 60);
    assert!(t["assignment"]["pause"]["paused_at"].is_null());
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((ev["action"].as_str(), ev["data"]["paused_days"].as_f64()), (Some("resume"), Some(4.0)));
    assert_eq!((ev["data"]["early"].as_bool(), ev["data"]["auto"].as_bool()), (Some(true), Some(false)));
    // The unit resumed its own order: no message to itself about it.
    assert_eq!(pause_sms(&app, CADRE_PHONE).await.len(), 1);

    // The rankings show the unit's paused days beside its rates.
    let d = today(&app);
    let v: Value = app
        .get(&format!("/api/v1/stats/units?from={}&to={d}&per_page=100", d - Duration::days(10)), Some(&leader))
        .await
        .json()
        .await
        .unwrap();
    let row = v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == "李家庄村村民委员会").unwrap();
    assert_eq!((row["paused_orders"].as_i64(), row["paused_days"].as_f64()), (Some(1), Some(4.0)), "{row}");
    let other = v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == "王家湾村村民委员会").unwrap();
    assert_eq!(other["paused_days"].as_f64(), Some(0.0));

    // The order runs again: it can be resolved, in time.
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "路面已修复"})).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["events"].as_array().unwrap().last().unwrap()["data"]["in_time"], true);
}

#[tokio::test]
async fn a_pause_ends_by_itself_on_the_resume_date_exactly_once() {
    let app = spawn_app().await;
    let (no, before, day) = requested(&app, "13812340002", 2).await;
    let leader = app.token("leader").await;
    let approved_at = app.state.now();
    app.act_ok(&leader, &no, "pause_approve", json!({})).await;
    let until = eight_oclock(day);

    // A minute before the end: still paused.
    app.set_time(until - Duration::minutes(1));
    assert_eq!(run_once(&app.state, app.state.now()).await.unwrap().resumed, 0);
    assert_eq!(app.ticket(&leader, &no).await["status"], "paused");

    // Ten minutes after it, two sweepers at once: resumed once, by the system.
    app.set_time(until + Duration::minutes(10));
    let now = app.state.now();
    let (a, b) = tokio::join!(run_once(&app.state, now), run_once(&app.state, now));
    assert_eq!(a.unwrap().resumed + b.unwrap().resumed, 1);
    assert_eq!(run_once(&app.state, app.state.now()).await.unwrap().resumed, 0, "nothing twice");
    let t = app.ticket(&leader, &no).await;
    assert_eq!(t["status"], "in_progress");
    let resumes: Vec<&Value> = t["events"].as_array().unwrap().iter().filter(|e| e["action"] == "resume").collect();
    assert_eq!(resumes.len(), 1);
    assert_eq!((resumes[0]["actor_kind"].as_str(), resumes[0]["data"]["auto"].as_bool()), (Some("system"), Some(true)));
    assert_eq!(resumes[0]["note"], "挂起期满，自动恢复办理");
    // The pause as it was (until the sweeper's look, ten minutes late) is what the deadlines got.
    let after = at(&t["assignment"]["resolve_by"]);
    assert!((after - (before + (now - approved_at))).num_seconds().abs() <= 1, "{after}");
    let minutes = t["assignment"]["paused_minutes"].as_i64().unwrap();
    assert!((minutes - (now - approved_at).num_minutes()).abs() <= 1, "{minutes}");
    let sms = pause_sms(&app, CADRE_PHONE).await;
    assert!(sms.last().unwrap().contains("挂起期满，已恢复计时，办结时限"), "{sms:?}");

    // The clock runs again: past the moved deadlines, the first progress and the result are urged
    // as for any order.
    app.set_time(after + Duration::minutes(1));
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((r.urges, r.reminders), (2, 0), "{r:?}");
}

#[tokio::test]
async fn a_refused_or_impossible_pause_changes_no_deadline() {
    let app = spawn_app().await;
    let (no, before, _) = requested(&app, "13812340003", 5).await;
    let leader = app.token("leader").await;
    let ca = app.token(CADRE).await;
    let written = events(&app).await;
    let e = error_of(app.act(&leader, &no, "pause_refuse", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
    assert_eq!(events(&app).await, written);
    let t = app.act_ok(&leader, &no, "pause_refuse", json!({"reason": "可先行施工，不宜挂起"})).await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["assignment"]["pause"]["decision"], "refused");
    assert_eq!(at(&t["assignment"]["resolve_by"]), before);
    assert!(pause_sms(&app, CADRE_PHONE).await.last().unwrap().contains("挂起申请未获批准"));
    let e = error_of(app.act(&leader, &no, "pause_approve", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "no_pause_request");

    // Bad dates are refused with the field named, and nothing is written.
    let written = events(&app).await;
    for day in ["", "2026-13-01", &today(&app).to_string(), &(today(&app) + Duration::days(181)).to_string()] {
        let e = error_of(
            app.act(&ca, &no, "pause_request", json!({"reason": "等待", "resume_on": day})).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["field"], "resume_on", "{day}");
    }
    assert_eq!(events(&app).await, written);

    // A dispatched order not yet signed for cannot be paused; nor can one already past its deadline.
    let e = error_of(app.act(&ca, &no, "resume", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "illegal_transition");
    app.set_time(before + Duration::minutes(1));
    let day = today(&app) + Duration::days(3);
    let e = error_of(
        app.act(&ca, &no, "pause_request", json!({"reason": "等待", "resume_on": day.to_string()})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "pause_overdue");
    assert!(e["message"].as_str().unwrap().contains("不能挂起"));
    assert_eq!(events(&app).await, written);
}
