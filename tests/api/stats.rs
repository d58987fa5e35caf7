//! The summary's counts and rates against a hand-computed fixture.
use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn visit(app: &crate::helpers::TestApp, no: &str, solved: &str, satisfaction: &str) {
    let cl = app.token("caller").await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&cl),
            &json!({"reached": true, "solved": solved, "satisfaction": satisfaction, "channel": "phone"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn summary_rates_match_a_hand_computed_fixture() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    // Empty county: every rate is null, not 0 or 1.
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    for k in ["response_rate", "resolution_rate", "satisfaction_rate", "closure_rate", "reopen_rate", "composite_score"]
    {
        assert!(s[k].is_null(), "{k}: {s}");
    }
    // Five tickets: A satisfied+yes, B basically+partly, C dissatisfied+no (reopened), D accepted only,
    // E submitted only.
    let a = app.to_resolved("李家庄村", "lijiazhuang", "13800000001").await;
    let b = app.to_resolved("王家湾村", "wangjiawan", "13800000002").await;
    let c = app.to_resolved("石桥村", "shiqiao", "13800000003").await;
    let _d = app.to_accepted("柳树沟村", "liushugou", "13800000004").await;
    let _e = app.file("杏花村", "13800000005").await;
    visit(&app, &a, "yes", "satisfied").await;
    visit(&app, &b, "partly", "basically_satisfied").await;
    visit(&app, &c, "no", "dissatisfied").await;
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    let counts = &s["counts"];
    assert_eq!(counts["received"], 5);
    assert_eq!(counts["dispatched"], 4);
    assert_eq!(counts["response_due"], 4);
    assert_eq!(counts["responded_in_time"], 4);
    assert_eq!(counts["visited"], 3);
    assert_eq!(counts["resolutions"], 3);
    assert_eq!(counts["reopenings"], 1);
    // response 4/4; resolution 1/3 (only "yes" counts as solved); satisfaction (1 + 0.8) / 3;
    // closure: A and B closed of 5 received; reopen 1/3.
    assert_eq!(s["response_rate"], 1.0);
    assert!((s["resolution_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert!((s["satisfaction_rate"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    assert!((s["closure_rate"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    assert!((s["reopen_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    let expected = 10.0 * 1.0 + 45.0 / 3.0 + 45.0 * 0.6;
    assert!((s["composite_score"].as_f64().unwrap() - expected).abs() < 1e-9);

    // A late response counts against the response rate: dispatch one more and let 3 hours pass. C's
    // dissatisfied visit gave it back to its unit (重办), which has not signed for it either: 6 due.

    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let f = app.file("河口村", "13800000006").await;
    app.act_ok(&op, &f, "register", json!({})).await;
    app.act_ok(&di, &f, "dispatch", json!({"unit_id": app.unit_id("河口村村民委员会").await})).await;
    app.state.time.advance(chrono::Duration::hours(3));
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["counts"]["response_due"], 6);
    assert!((s["response_rate"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!(s["counts"]["overdue"], 2);
    let overdue: Value = app.get("/api/v1/tickets?overdue=true", Some(&di)).await.json().await.unwrap();
    assert_eq!(overdue["total"], 2);
    let nos: Vec<&str> = overdue["items"].as_array().unwrap().iter().map(|t| t["no"].as_str().unwrap()).collect();
    assert!(nos.contains(&f.as_str()) && nos.contains(&c.as_str()), "{nos:?}");
    assert!(overdue["items"].as_array().unwrap().iter().all(|t| t["overdue"] == true));

    // Periods are validated; a period before any ticket has no data.
    let e =
        error_of(app.get("/api/v1/stats/summary?from=2026-13-01", Some(&leader)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "from");
    let s: Value =
        app.get("/api/v1/stats/summary?from=2020-01-01&to=2020-01-31", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["counts"]["received"], 0);
    assert!(s["closure_rate"].is_null());
}
