//! The console's dashboard (看板, issue 18 point 3) in headless Chromium: a leader lands on it, reads
//! the rates with their fractions as the API gives them, the ranking tier by tier and an overdue
//! order with its holder, and follows the overdue count into the filtered work list.
use crate::helpers::{spawn_app_with, visited_order};
use crate::spec;
use chrono::Duration;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_lands_on_the_dashboard_and_follows_a_number_into_the_list() {
    // Rank every unit with a visit, so that each tier has ranked rows.
    let app = spawn_app_with(|s| s.ranking.min_visits = 1).await;
    let lijiazhuang = ("李家庄村", "李家庄村村民委员会", "lijiazhuang");
    visited_order(&app, lijiazhuang, "13800007001", "yes", "satisfied").await;
    visited_order(&app, lijiazhuang, "13800007002", "partly", "basically_satisfied").await;
    visited_order(&app, ("王家湾村", "王家湾村村民委员会", "wangjiawan"), "13800007003", "no", "dissatisfied").await;
    visited_order(&app, ("石桥村", "东坝镇人民政府", "dongba"), "13800007004", "yes", "satisfied").await;
    visited_order(&app, ("杏花村", "县水利局", "shuili"), "13800007005", "yes", "satisfied").await;
    // Given to 柳树沟村 and not signed for in three hours: overdue, held by the unit.
    let late = app.file("柳树沟村", "13800007006").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &late, "register", json!({})).await;
    app.act_ok(&di, &late, "dispatch", json!({"unit_id": app.unit_id("柳树沟村村民委员会").await})).await;
    app.state.time.advance(Duration::hours(3));
    let result = spec(&app.addr, "console_dashboard", vec![("NO_OVERDUE", late.clone())]).await;
    assert_eq!(result["overdue_total"], 1);
    assert_eq!(result["listed"], json!([late]));
}
