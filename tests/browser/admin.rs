//! The console's administration pages (issue 16 point 7) in headless Chromium: the import wizard, staff
//! (add, deactivate, reset password), the forced change of a temporary password and the audit log,
//! checked against the database afterwards.
use crate::helpers::{TestApp, spawn_app};
use crate::run_spec;
use reqwest::StatusCode;
use serde_json::Value;

async fn spec(app: &TestApp, name: &'static str, env: Vec<(&'static str, String)>) -> Value {
    let base = app.addr.clone();
    tokio::task::spawn_blocking(move || run_spec(&base, name, &env)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_wizard_lists_a_files_mistakes_writes_nothing_then_imports_the_corrected_file() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) FROM staff").await;
    spec(&app, "admin_import", vec![]).await;
    let q = "SELECT COUNT(*) FROM staff WHERE username IN ('imp-zhang', 'imp-li', 'imp-wang') AND active = TRUE";
    assert_eq!(app.count(q).await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, before + 3, "only the corrected file was written");
    let q = "SELECT COUNT(*) FROM staff s JOIN units u ON u.id = s.unit_id WHERE s.username = 'imp-wang' AND u.name = '王家湾村村民委员会'";
    assert_eq!(app.count(q).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_person_who_must_change_the_temporary_password_before_the_work_list() {
    let app = spawn_app().await;
    let result = spec(&app, "admin_staff", vec![("NEW_USER", "wangxin".into())]).await;
    let q = "SELECT COUNT(*) FROM staff WHERE username = 'wangxin' AND name = '王新' AND must_change_password = FALSE";
    assert_eq!(app.count(q).await, 1, "the password was changed");
    // The temporary password no longer opens anything; the new one does.
    let old = result["temporary"].as_str().unwrap();
    assert_eq!(app.login("wangxin", old).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("wangxin", "wangxin-2026-new").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deactivates_a_person_whose_token_stops_working_and_the_audit_log_shows_it() {
    let app = spawn_app().await;
    let token = app.token("ziranziyuan").await;
    assert_eq!(app.get("/api/v1/tickets", Some(&token)).await.status(), StatusCode::OK);
    let result = spec(&app, "admin_deactivate", vec![]).await;
    assert!(result["logged"].as_u64().unwrap() >= 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff WHERE username = 'ziranziyuan' AND active = FALSE").await, 1);
    assert_eq!(app.get("/api/v1/tickets", Some(&token)).await.status(), StatusCode::UNAUTHORIZED);
    let q = "SELECT COUNT(*) FROM staff WHERE username = 'wg-hekou' AND must_change_password = TRUE";
    assert_eq!(app.count(q).await, 1);
}
