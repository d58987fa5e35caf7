//! Bulk import (issue 16 point 3): templates, XLSX and GB18030 CSV, per-row errors in a dry run,
//! all-or-nothing writes, imported staff without a usable password until an admin gives one.
use crate::helpers::{TestApp, import, spawn_app, xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, lossy) = encoding_rs::GB18030.encode(text);
    assert!(!lossy);
    bytes.into_owned()
}

async fn rows(app: &TestApp) -> [i64; 4] {
    [
        app.count("SELECT COUNT(*) FROM regions").await,
        app.count("SELECT COUNT(*) FROM units").await,
        app.count("SELECT COUNT(*) FROM staff").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    ]
}

#[tokio::test]
async fn each_template_has_the_chinese_headers_and_an_example_row() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    for (kind, first) in [("regions", "名称"), ("units", "单位名称"), ("staff", "用户名")] {
        let r = app.get(&format!("/api/v1/imports/{kind}/template.xlsx"), Some(&admin)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let table = minsheng::sheet::read(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(table.header[0], first);
        assert_eq!(table.rows.len(), 1, "one example row");
    }
    let dispatcher = app.token("dispatcher").await;
    let r = app.get("/api/v1/imports/staff/template.xlsx", Some(&dispatcher)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_township_with_villages_and_grids_imports_from_one_xlsx_in_any_column_order() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let file = xlsx(&[
        &["层级", "名称", "上级"],
        &["乡镇", "南山镇", "清河县"],
        &["村", "南山村", "南山镇"],
        &["村", "李家庄村", "南山镇"],
        &["网格", "一组", "南山镇/李家庄村"],
        &["网格", "二组", "南山村"],
    ]);
    let before = rows(&app).await;
    let (status, dry) = import(&app, &admin, "regions", file.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        (dry["rows"].as_i64(), dry["created"].as_i64(), dry["errors"].as_array().unwrap().len()),
        (Some(5), Some(0), 0)
    );
    assert_eq!(rows(&app).await, before, "a dry run writes nothing");
    let (status, done) = import(&app, &admin, "regions", file, false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 5);
    let town = app.region_id("南山镇").await;
    let grid_path = format!(
        "SELECT COUNT(*) FROM regions g JOIN regions v ON v.id = g.parent_id WHERE g.name = '一组' AND v.name = '李家庄村' AND v.parent_id = {town} AND g.path LIKE '%/{town}/%'"
    );
    assert_eq!(app.count(&grid_path).await, 1, "the grid went under the new 李家庄村, not the demo's");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'region' AND action = 'create'").await, 5);
}

#[tokio::test]
async fn a_gbk_staff_sheet_with_errors_is_reported_row_by_row_and_writes_nothing_until_corrected() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let bad = gbk("用户名,姓名,手机号,角色,单位,职务\r\n\
         zhangsan,张三,13911110001,承办干部,县水利局,科员\r\n\
         lijiazhuang,重名,13911110002,cadre,县水利局,\r\n\
         wangwu,王五,123,承办干部,县水利局,\r\n\
         zhaoliu,赵六,13911110004,承办干部,县不存在局,\r\n\
         sunqi,孙七,13911110005,村长,县水利局,\r\n\
         zhangsan,张三二,13911110006,派单员,县水利局,\r\n");
    let before = rows(&app).await;
    let (status, dry) = import(&app, &admin, "staff", bad.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let errors: Vec<(i64, String)> = dry["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "用户名".to_string()),
            (4, "手机号".to_string()),
            (5, "单位".to_string()),
            (6, "角色".to_string()),
            (7, "用户名".to_string())
        ],
        "{dry}"
    );
    let first = &dry["errors"][0]["message"];
    assert!(first.as_str().unwrap().contains("已被使用"), "{first}");
    let (status, refused) = import(&app, &admin, "staff", bad, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["code"], "import_invalid");
    assert_eq!(rows(&app).await, before, "one bad row: nothing written");

    let good = gbk("姓名,用户名,角色,手机号,单位,所属区域\r\n\
         张三,zhangsan,承办干部,13911110001,县水利局,\r\n\
         王五,wangwu,\"cadre,dispatcher\",139 1111 0003,县水利局,\r\n\
         赵六,zhaoliu,回访员,13911110004,,东坝镇\r\n");
    let (status, done) = import(&app, &admin, "staff", good, false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 3);
    let unit = app.unit_id("县水利局").await;
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM staff WHERE username IN ('zhangsan','wangwu') AND unit_id = {unit} AND must_change_password")).await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM staff WHERE username = 'wangwu' AND phone = '13911110003' AND roles = 'cadre,dispatcher'").await, 1);
    // No usable password until an admin gives one.
    let r = app.login("zhangsan", "!imported").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let id = app.count("SELECT id FROM staff WHERE username = 'zhangsan'").await;
    let reset: Value =
        app.post(&format!("/api/v1/staff/{id}/reset-password"), Some(&admin), &json!({})).await.json().await.unwrap();
    let r = app.login("zhangsan", reset["temporary_password"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn units_import_from_utf8_csv_and_only_admins_import_inside_their_region() {
    let app = spawn_app().await;
    let csv = "\u{feff}单位名称,所属区域,层级,类型,电话,牵头单位\n东坝镇司法所,东坝镇,乡镇级,乡镇政府,0871-5550001,\n柳树沟村合作社,柳树沟村,村级,村民委员会,,否\n";
    let dispatcher = app.token("dispatcher").await;
    let (status, _) = import(&app, &dispatcher, "units", csv.as_bytes().to_vec(), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let township_admin = app.add_staff("db-admin", "东坝管理员", "admin", "东坝镇").await;
    let before = rows(&app).await;
    let (status, refused) = import(&app, &township_admin, "units", csv.as_bytes().to_vec(), false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["row"], 3, "柳树沟村 lies outside 东坝镇: {refused}");
    assert_eq!(refused["errors"][0]["column"], "所属区域");
    assert_eq!(rows(&app).await, before);
    let admin = app.token("admin").await;
    let (status, done) = import(&app, &admin, "units", csv.as_bytes().to_vec(), false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM units WHERE name = '东坝镇司法所' AND level = 'township' AND phone = '0871-5550001'"
        )
        .await,
        1
    );
    let (status, again) = import(&app, &admin, "units", csv.as_bytes().to_vec(), true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["errors"].as_array().unwrap().len(), 2, "both names are taken now: {again}");
}
