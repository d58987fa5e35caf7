//! The console's administration pages (issue 16 point 7) in headless Chromium: the import wizard, staff
//! (add, deactivate, reset password), the forced change of a temporary password and the audit log;
//! and the directory (directory.js): the region tree, units, categories and staff leave with a deputy;
//! each checked against the database afterwards.
use crate::helpers::{TestApp, spawn_app};
use crate::run_spec;
use reqwest::StatusCode;
use serde_json::{Value, json};

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

// ---------------------------------------------------------------- the directory (directory.js)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_renames_moves_and_deactivates_regions_in_the_tree() {
    let app = spawn_app().await;
    spec(&app, "admin_regions", vec![]).await;
    let q = "SELECT COUNT(*) FROM regions g JOIN regions v ON v.id = g.parent_id \
             WHERE g.name = '第三网格' AND g.level = 'grid' AND v.name = '李家庄村' AND g.active = FALSE";
    assert_eq!(app.count(q).await, 1, "the added grid, under its village, deactivated");
    assert_eq!(app.count("SELECT COUNT(*) FROM regions WHERE name = '石桥新村' AND level = 'village'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM regions WHERE name = '石桥村'").await, 0, "renamed, not added");
    let q = "SELECT COUNT(*) FROM regions v JOIN regions t ON t.id = v.parent_id WHERE v.name = '王家湾村' AND t.name = '西河乡'";
    assert_eq!(app.count(q).await, 1, "the village moved to the other township");
    let q = "SELECT COUNT(*) FROM regions g JOIN regions t ON g.path LIKE t.path || '%' \
             WHERE t.name = '西河乡' AND g.level = 'grid'";
    assert_eq!(app.count(q).await, 8, "its grids moved with it (3 villages of 西河乡 and 王家湾村, 2 grids each)");
    let q = "SELECT COUNT(*) FROM regions WHERE name = '东坝镇' AND active = TRUE";
    assert_eq!(app.count(q).await, 1, "a township with active villages stays active");
    let q = "SELECT COUNT(*) FROM audit_log WHERE entity = 'region' AND action = 'move'";
    assert_eq!(app.count(q).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_edits_and_deactivates_units_and_sees_a_duplicate_name_refused_at_the_field() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) FROM units").await;
    spec(&app, "admin_units", vec![]).await;
    let q = "SELECT COUNT(*) FROM units u JOIN regions r ON r.id = u.region_id WHERE u.name = '县应急管理局' \
             AND u.level = 'county' AND u.kind = 'department' AND u.phone = '0871-6123456' AND r.level = 'county' AND u.active = TRUE";
    assert_eq!(app.count(q).await, 1, "the new county department");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM units").await,
        before + 1,
        "the duplicate and the bad phone wrote nothing"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM units WHERE name = '县水利局'").await, 1);
    let q = "SELECT COUNT(*) FROM units WHERE name = '县交通运输局' AND phone = '13900000888' AND active = FALSE";
    assert_eq!(app.count(q).await, 1, "edited, then deactivated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_edits_and_deactivates_categories_and_a_taken_code_is_refused_at_the_field() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) FROM categories").await;
    spec(&app, "admin_categories", vec![]).await;
    let q = "SELECT COUNT(*) FROM categories c JOIN units u ON u.id = c.unit_id WHERE c.code = 'roads.bridge' \
             AND c.name = '桥梁损毁' AND c.parent_code = 'roads' AND c.level = 'county' AND u.name = '县交通运输局' AND c.active = TRUE";
    assert_eq!(app.count(q).await, 1, "the new item, under its subject, with its department");
    assert_eq!(app.count("SELECT COUNT(*) FROM categories").await, before + 1, "the taken code wrote nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM categories WHERE code = 'water' AND name = '饮水安全'").await, 1);
    let q = "SELECT COUNT(*) FROM categories WHERE code = 'roads.lights' AND name = '路灯照明维修' AND level = 'township' AND auto_dispatch = TRUE AND default_kind = 'report'";
    assert_eq!(app.count(q).await, 1, "edited, and now dispatched by the system");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM categories WHERE auto_dispatch = TRUE").await,
        3,
        "the catalogue's two and this one"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM categories WHERE code = 'sanitation.toilet' AND active = FALSE").await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM categories WHERE active = FALSE").await, 1, "only that one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_records_a_cadres_leave_with_a_deputy_of_the_same_unit_and_cancels_a_later_one() {
    let app = spawn_app().await;
    // A second cadre of 李家庄村村民委员会, the only possible deputy of 李长河.
    let admin = app.token("admin").await;
    let body = json!({"username": "lijiazhuang2", "name": "王副主任", "roles": ["cadre"], "phone": "13900000399",
                      "region_id": app.region_id("李家庄村").await, "unit_id": app.unit_id("李家庄村村民委员会").await});
    assert_eq!(app.post("/api/v1/staff", Some(&admin), &body).await.status(), StatusCode::CREATED);
    let before = app.count("SELECT COUNT(*) FROM staff_leaves").await;
    spec(&app, "admin_leave", vec![]).await;
    let leave = "SELECT COUNT(*) FROM staff_leaves l JOIN staff s ON s.id = l.staff_id JOIN staff d ON d.id = l.deputy_id \
                 WHERE s.username = 'lijiazhuang' AND d.username = 'lijiazhuang2'";
    let q = format!("{leave} AND l.reason = '外出培训' AND l.cancelled_at IS NULL");
    assert_eq!(app.count(&q).await, 1, "the running leave with its deputy");
    let q = format!("{leave} AND l.reason = '年休假' AND l.cancelled_at IS NOT NULL");
    assert_eq!(app.count(&q).await, 1, "the later leave, cancelled");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_leaves").await, before + 2, "the refused ones wrote nothing");
    let q = "SELECT COUNT(*) FROM audit_log WHERE entity = 'leave' AND action = 'cancel'";
    assert_eq!(app.count(q).await, 1);
}
