//! SLA policies (admin CRUD, validation, deadlines following them) and the holiday calendar as
//! data (2026 shipped, years added by admins, working-day deadlines across holidays).
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().with_timezone(&Utc)
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.delete(app.url(path)).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn admins_manage_sla_policies_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let di = app.token("dispatcher").await;
    let list: Value = app.get("/api/v1/sla-policies", Some(&di)).await.json().await.unwrap();
    assert_eq!(list["total"], 7, "4 by category and priority, 3 by kind (demo seed)");
    let good = json!({"name": "道路（紧急）", "category_code": "roads", "priority": "urgent",
                      "respond_minutes": 20, "progress_minutes": 240, "resolve_minutes": 720});
    assert_eq!(app.post("/api/v1/sla-policies", Some(&di), &good).await.status(), StatusCode::FORBIDDEN);
    for (patch, field, status) in [
        (json!({"name": ""}), "name", StatusCode::BAD_REQUEST),
        (json!({"priority": "asap"}), "priority", StatusCode::BAD_REQUEST),
        (json!({"clock": "lunar"}), "clock", StatusCode::BAD_REQUEST),
        (json!({"progress_minutes": 10}), "progress_minutes", StatusCode::BAD_REQUEST),
        (json!({"resolve_minutes": 0}), "resolve_minutes", StatusCode::BAD_REQUEST),
        (json!({"category_code": "no.such"}), "category_code", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = error_of(app.post("/api/v1/sla-policies", Some(&admin), &body).await, status).await;
        assert_eq!(e["field"], field, "{patch}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sla_policies").await, 7, "nothing written");
    let r = app.post("/api/v1/sla-policies", Some(&admin), &good).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["clock"], "natural");
    assert_eq!(p["register_minutes"], 15, "unset steps take DESIGN.md's urgent defaults");
    let e = error_of(app.post("/api/v1/sla-policies", Some(&admin), &good).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "policy_exists");
    let id = p["id"].as_i64().unwrap();
    let r =
        put(&app, &format!("/api/v1/sla-policies/{id}"), &admin, &json!({"respond_minutes": 15, "clock": "workdays"}))
            .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!((p["respond_minutes"].as_i64(), p["clock"].as_str()), (Some(15), Some("workdays")));
    let default_id =
        list["items"].as_array().unwrap().iter().find(|p| p["category_code"].is_null() && p["kind"].is_null()).unwrap()
            ["id"]
            .as_i64()
            .unwrap();
    let e =
        error_of(delete(&app, &format!("/api/v1/sla-policies/{default_id}"), &admin).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "default_policy");
    assert_eq!(delete(&app, &format!("/api/v1/sla-policies/{id}"), &admin).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/sla-policies/{id}"), Some(&admin)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_category_policy_sets_the_deadlines_and_sign_off_of_its_orders() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let policy = json!({"name": "道路", "category_code": "roads", "priority": "normal", "respond_minutes": 60,
                        "progress_minutes": 600, "resolve_minutes": 1440, "signoff_required": true});
    assert_eq!(app.post("/api/v1/sla-policies", Some(&admin), &policy).await.status(), StatusCode::CREATED);
    let mut body = app.intake_body("石桥村", "13812345678");
    body["category"] = json!("roads.damage"); // a child category follows its parent's policy
    let no = app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let t = app.act_ok(&op, &no, "register", json!({})).await;
    assert_eq!(t["signoff_required"], true);
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("石桥村村民委员会").await})).await;
    let a = &t["assignment"];
    let from = at(&a["dispatched_at"]);
    assert_eq!((at(&a["respond_by"]) - from).num_minutes(), 60);
    assert_eq!((at(&a["progress_by"]) - from).num_minutes(), 600);
    assert_eq!((at(&a["resolve_by"]) - from).num_minutes(), 1440);
}

/// Puts the wages policy on the working-day clock with short steps.
async fn workday_wages_policy(app: &TestApp, admin: &str) {
    let list: Value = app.get("/api/v1/sla-policies", Some(admin)).await.json().await.unwrap();
    let wages = list["items"].as_array().unwrap().iter().find(|p| p["category_code"] == "wages").unwrap()["id"]
        .as_i64()
        .unwrap();
    let body = json!({"clock": "workdays", "respond_minutes": 480, "progress_minutes": 1440, "resolve_minutes": 4320});
    assert_eq!(put(app, &format!("/api/v1/sla-policies/{wages}"), admin, &body).await.status(), StatusCode::OK);
}

/// Files, registers and dispatches a wages request at the application's current time.
async fn dispatch_wages(app: &TestApp, op: &str, di: &str) -> Value {
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["category"] = json!("wages");
    let no = app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    app.act_ok(op, &no, "register", json!({})).await;
    app.act_ok(di, &no, "dispatch", json!({"unit_id": app.unit_id("县人力资源和社会保障局").await})).await
}

#[tokio::test]
async fn working_day_deadlines_skip_the_national_day_holiday() {
    let app = spawn_app().await;
    // Tokens first: they are checked against the real clock, and the test moves the app's clock.
    let (admin, op, di) = (app.token("admin").await, app.token("operator").await, app.token("dispatcher").await);
    workday_wages_policy(&app, &admin).await;
    app.set_time(local(2026, 9, 30, 18, 0));
    let t = dispatch_wages(&app, &op, &di).await;
    let a = &t["assignment"];
    let from = at(&a["dispatched_at"]);
    assert!((from - local(2026, 9, 30, 18, 0)).num_seconds().abs() <= 2);
    let shift = from - local(2026, 9, 30, 18, 0);
    // 8 working hours: 6 left on 30 Sep, 1–7 Oct off, 2 h into 8 Oct.
    assert_eq!(at(&a["respond_by"]) - shift, local(2026, 10, 8, 2, 0));
    // 72 working hours: 6 h + 8 Oct + 9 Oct + 18 h of Saturday 10 Oct, a make-up workday.
    assert_eq!(at(&a["resolve_by"]) - shift, local(2026, 10, 10, 18, 0));
    // Spring Festival: dispatched Friday 13 Feb 12:00, 24 h: 12 h on the 13th, 12 h of Saturday the
    // 14th (a make-up workday).
    app.set_time(local(2026, 2, 13, 12, 0));
    let t = dispatch_wages(&app, &op, &di).await;
    let a = &t["assignment"];
    let shift = at(&a["dispatched_at"]) - local(2026, 2, 13, 12, 0);
    assert_eq!(at(&a["progress_by"]) - shift, local(2026, 2, 14, 12, 0));
    // 72 h: 12 h + 24 h (14th) + holiday 15–23 + 24 h (Tue 24th) + 12 h → Wed 25 Feb 12:00.
    assert_eq!(at(&a["resolve_by"]) - shift, local(2026, 2, 25, 12, 0));
}

#[tokio::test]
async fn the_2026_calendar_is_shipped_as_data_and_admins_add_years() {
    let app = spawn_app().await;
    let (admin, op, di) = (app.token("admin").await, app.token("operator").await, app.token("dispatcher").await);
    let years: Value = app.get("/api/v1/calendar", Some(&di)).await.json().await.unwrap();
    assert_eq!(years["total"], 1);
    assert_eq!(years["items"][0]["year"], 2026);
    assert_eq!(years["items"][0]["workdays"], 248);
    let y: Value = app.get("/api/v1/calendar/2026", Some(&di)).await.json().await.unwrap();
    assert_eq!(y["holidays"].as_array().unwrap().len(), 7);
    assert_eq!(y["holidays"][1], json!({"name": "春节", "from": "2026-02-15", "to": "2026-02-23", "days": 9}));
    assert_eq!(y["workdays"].as_array().unwrap().len(), 6);
    assert_eq!(app.get("/api/v1/calendar/2027", Some(&di)).await.status(), StatusCode::NOT_FOUND);

    // 2027 is not published: an admin enters it (test data here, not a guess shipped with the product).
    let year = json!({"source": "测试录入", "holidays": [{"name": "测试假期", "from": "2027-10-01", "to": "2027-10-07"}],
                      "workdays": [{"date": "2027-10-09", "name": "测试调休"}]});
    assert_eq!(put(&app, "/api/v1/calendar/2027", &di, &year).await.status(), StatusCode::FORBIDDEN);
    for (patch, field) in [
        (json!({"workdays": ["2027-10-08"]}), "workdays[0]"),
        (json!({"holidays": [{"name": "x", "from": "2026-10-01", "to": "2026-10-02"}]}), "holidays[0].from"),
        (json!({"holidays": [{"name": "x", "from": "2027-10-05", "to": "2027-10-01"}]}), "holidays[0].to"),
        (json!({"holidays": [{"name": "", "from": "2027-10-01", "to": "2027-10-02"}]}), "holidays[0].name"),
        (json!({"workdays": ["2027-10-02"]}), "holidays"),
    ] {
        let mut body = year.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        if field == "holidays" {
            body["holidays"] = json!([{"name": "x", "from": "2027-10-01", "to": "2027-10-03"}]);
        }
        let e = error_of(put(&app, "/api/v1/calendar/2027", &admin, &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{patch}");
    }
    assert_eq!(app.get("/api/v1/calendar/2027", Some(&di)).await.status(), StatusCode::NOT_FOUND);
    let r = put(&app, "/api/v1/calendar/2027", &admin, &year).await;
    assert_eq!(r.status(), StatusCode::OK);
    let y: Value = r.json().await.unwrap();
    assert_eq!(y["holidays"][0]["days"], 7);

    // It counts at once: a working-day order dispatched on Thursday 30 Sep 2027 at 20:00 runs 4 h
    // that day and skips the entered 1–7 Oct; 8 h to respond → Friday 8 Oct 04:00.
    workday_wages_policy(&app, &admin).await;
    app.set_time(local(2027, 9, 30, 20, 0));
    let t = dispatch_wages(&app, &op, &di).await;
    let a = &t["assignment"];
    let shift = at(&a["dispatched_at"]) - local(2027, 9, 30, 20, 0);
    assert_eq!(at(&a["respond_by"]) - shift, local(2027, 10, 8, 4, 0));
    // 24 h: 4 h + Fri 8 Oct (24 h) would end Fri 20:00.
    assert_eq!(at(&a["progress_by"]) - shift, local(2027, 10, 8, 20, 0));
    assert_eq!(delete(&app, "/api/v1/calendar/2027", &admin).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/calendar/2027", Some(&di)).await.status(), StatusCode::NOT_FOUND);
}
