//! Issue 16 "done when": a county goes live from an **empty** database, without the demo. The
//! command line makes the county and its first admin, imports the regions and units from XLSX files
//! and loads the standard catalogue; over HTTP the admin imports the staff (a dry run first), gives
//! each person a temporary password they must change, puts a cadre on leave with a deputy and issues
//! a village card. A villager files from the card, and the imported people run the request to closed
//! on the suggested unit, the deputy acting for the cadre on leave; a second request in an
//! auto-dispatch category reaches the deputy by itself.
use crate::cli::minsheng;
use crate::helpers::{TestApp, fresh_database_url, import, serve_database, xlsx};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn file_in(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

async fn staff_id(app: &TestApp, username: &str) -> i64 {
    app.count(&format!("SELECT id FROM staff WHERE username = '{username}'")).await
}

/// The admin resets `username`'s password; the person signs in with the temporary one, must change
/// it before anything else, and gets a working token.
async fn first_login(app: &TestApp, admin: &str, username: &str) -> String {
    let id = staff_id(app, username).await;
    let r = app.post(&format!("/api/v1/staff/{id}/reset-password"), Some(admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let temporary = v["temporary_password"].as_str().unwrap().to_string();
    let r = app.login(username, &temporary).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    let first = first["access_token"].as_str().unwrap().to_string();
    let r = app.get("/api/v1/tickets", Some(&first)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{username} must change the temporary password first");
    let body = json!({"old_password": temporary, "new_password": format!("{username}-county-2026")});
    let r = app.post("/api/v1/auth/password", Some(&first), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// The recipients of the assignment SMS of ticket `no`.
async fn assignment_sms(app: &TestApp, no: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let sql = format!(
        "SELECT o.recipient FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'assignment' ORDER BY o.id"
    );
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
    rows.into_iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_goes_live_from_an_empty_database_and_closes_its_first_request_with_a_deputy() {
    let url = fresh_database_url().await;
    let dir = std::env::temp_dir().join(format!("minsheng-tests/live-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // --- the command line: county, first admin, regions and units, the catalogue ---
    minsheng(&["migrate", "--database", &url], &[]);
    minsheng(&["admin", "create-region", "--name", "青山县", "--level", "county", "--database", &url], &[]);
    let admin_args = ["admin", "create-staff", "--username", "chief", "--name", "王主任", "--roles", "admin"];
    let out = minsheng(
        &[&admin_args[..], &["--region-id", "1", "--database", &url]].concat(),
        &[("MINSHENG_STAFF_PASSWORD", "a-long-secret-passphrase")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("chief"));
    let regions = xlsx(&[
        &["名称", "层级", "上级"],
        &["青石镇", "乡镇", "青山县"],
        &["白沙乡", "乡镇", "青山县"],
        &["溪口村", "村", "青石镇"],
        &["松林村", "村", "青石镇"],
        &["桃源村", "村", "白沙乡"],
        &["一组", "网格", "溪口村"],
        &["二组", "网格", "溪口村"],
    ]);
    let regions = file_in(&dir, "regions.xlsx", &regions);
    let out = minsheng(&["admin", "import", &regions, "--kind", "regions", "--dry-run", "--database", &url], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains('7'), "{}", String::from_utf8_lossy(&out.stdout));
    minsheng(&["admin", "import", &regions, "--kind", "regions", "--database", &url], &[]);
    // Columns in the county's own order, the lead flag optional.
    let units = xlsx(&[
        &["所属区域", "单位名称", "类型", "层级", "电话", "牵头单位"],
        &["青山县", "青山县民生服务中心", "民生服务中心", "县级", "0871-5550001", "是"],
        &["青山县", "县水务局", "县直部门", "县级", "0871-5550002", ""],
        &["青石镇", "青石镇人民政府", "乡镇政府", "乡镇级", "0871-5550003", "是"],
        &["白沙乡", "白沙乡人民政府", "乡镇政府", "乡镇级", "0871-5550004", "是"],
        &["溪口村", "溪口村村民委员会", "村民委员会", "村级", "13900007000", "是"],
        &["松林村", "松林村村民委员会", "村民委员会", "村级", "13900007001", "是"],
    ]);
    let units = file_in(&dir, "units.xlsx", &units);
    minsheng(&["admin", "import", &units, "--kind", "units", "--database", &url], &[]);
    let out = minsheng(&["admin", "catalogue", "load", "standard", "--database", &url], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("17"), "{}", String::from_utf8_lossy(&out.stdout));

    // --- the server on that database: nothing of the demo in it ---
    let app = serve_database(url).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM regions").await, 8);
    assert_eq!(app.count("SELECT COUNT(*) FROM units").await, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM categories WHERE parent_code IS NULL").await, 17);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);
    let r = app.login("chief", "a-long-secret-passphrase").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let admin = v["access_token"].as_str().unwrap().to_string();

    // Staff from the county's sheet: a dry run names the bad row and writes nothing; the fixed
    // sheet is written whole.
    let header: &[&str] = &["用户名", "姓名", "手机号", "角色", "单位", "所属区域", "职务"];
    let mut rows: Vec<&[&str]> = vec![
        header,
        &["qs-op", "周登记", "13900007101", "首问登记员", "", "青山县", "接线员"],
        &["qs-disp", "吴派单", "13900007102", "派单员", "", "青山县", ""],
        &["qs-call", "郑回访", "13900007103", "回访员", "", "青山县", ""],
        &["xk-zhang", "张书记", "13900007104", "承办干部", "溪口村村民委员会", "", "村党支部书记"],
        &["xk-li", "李主任", "13900007105", "承办干部", "溪口村村民委员会", "", "村委会主任"],
    ];
    let bad: &[&str] = &["xk-wang", "王会计", "1390000", "承办干部", "溪口村委", "", ""];
    rows.push(bad);
    let (status, dry) = import(&app, &admin, "staff", xlsx(&rows), true).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let columns: Vec<&str> = dry["errors"].as_array().unwrap().iter().map(|e| e["column"].as_str().unwrap()).collect();
    assert_eq!(columns, ["手机号", "单位"], "{dry}");
    assert!(dry["errors"].as_array().unwrap().iter().all(|e| e["row"] == 7), "{dry}");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, 1, "a dry run writes nothing");
    rows.pop();
    let (status, done) = import(&app, &admin, "staff", xlsx(&rows), false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 5);
    let op = first_login(&app, &admin, "qs-op").await;
    let di = first_login(&app, &admin, "qs-disp").await;
    let caller = first_login(&app, &admin, "qs-call").await;
    let li = first_login(&app, &admin, "xk-li").await;
    first_login(&app, &admin, "xk-zhang").await;

    // 张书记 goes on leave; 李主任 stands in.
    let (zhang, li_id) = (staff_id(&app, "xk-zhang").await, staff_id(&app, "xk-li").await);
    let now = app.state.now();
    let leave = json!({"from": (now - Duration::hours(1)).to_rfc3339(), "to": (now + Duration::days(5)).to_rfc3339(),
                       "deputy_id": li_id, "reason": "县委党校培训"});
    let r = app.post(&format!("/api/v1/staff/{zhang}/leaves"), Some(&admin), &leave).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());

    // The village's card, printed with the deputy as the contact.
    let village = app.region_id("溪口村").await;
    let r = app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let card: Value = r.json().await.unwrap();
    let code = card["code"].as_str().unwrap().to_string();
    let page = app.get(&format!("/c/{code}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("溪口村") && page.contains("李主任（代）") && page.contains("饮水安全"), "card page");
    assert!(!page.contains("13900007104"), "the cadre on leave is not the card's contact");

    // A villager files from the card.
    let body = json!({"card_code": code, "category": "water.supply", "kind": "help",
                      "description": "溪口村二组停水两天了", "phone": "13812340001"});
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "submitted");
    let no = v["ticket_no"].as_str().unwrap().to_string();

    // The imported operator registers; the dispatcher takes the suggested unit and names 张书记.
    app.act_ok(&op, &no, "register", json!({})).await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["suggested_unit"]["name"], "溪口村村民委员会", "{}", t["suggested_unit"]);
    let unit = t["suggested_unit"]["id"].as_i64().unwrap();
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "assignee_id": zhang})).await;
    assert_eq!(t["assignment"]["assignee"]["id"], li_id, "the deputy holds the order: {}", t["assignment"]);
    let ev = t["events"].as_array().unwrap().iter().rev().find(|e| e["action"] == "dispatch").unwrap().clone();
    assert_eq!(ev["data"]["on_behalf_of"]["name"], "张书记", "{ev}");
    assert_eq!(assignment_sms(&app, &no).await, ["13900007105"], "the SMS goes to the deputy only");

    // The deputy signs, reports and resolves; the imported caller's visit closes it.
    app.act_ok(&li, &no, "accept", json!({})).await;
    app.act_ok(&li, &no, "progress", json!({"note": "已联系水厂检修管道"})).await;
    let t = app.act_ok(&li, &no, "resolve", json!({"result": "管道已修复，恢复供水"})).await;
    assert_eq!(t["status"], "resolved");
    let r = app.post(&format!("/api/v1/return-visits/{no}/claim"), Some(&caller), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let visit = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&caller), &visit).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "closed", "{}", t["status"]);
    let r = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&di)).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    let q = format!(
        "SELECT COUNT(*) FROM tickets t JOIN assignments a ON a.ticket_id = t.id WHERE t.no = '{no}' AND a.assignee_id = {li_id} AND t.unit_id = {unit}"
    );
    assert_eq!(app.count(&q).await, 1);

    // 环境卫生 is dispatched by the system: the deputy is texted, not the cadre on leave.
    let body = json!({"card_code": code, "category": "sanitation", "kind": "help",
                      "description": "村口垃圾池满了", "phone": "13812340002"});
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "dispatched", "{v}");
    let auto = v["ticket_no"].as_str().unwrap();
    assert_eq!(assignment_sms(&app, auto).await, ["13900007105"]);

    // Every administrative step is in the audit log, by the admin who did it.
    let q = "SELECT COUNT(*) FROM audit_log WHERE entity = 'staff' AND action = 'create' AND actor_name = '王主任'";
    assert_eq!(app.count(q).await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'reset_password'").await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'leave'").await, 1);
}
