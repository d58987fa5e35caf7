//! Administration of the directory (issue 16 points 1–2): admins create, change, move and
//! deactivate regions, units, staff and categories within their region; bad input names its field
//! and writes nothing; duplicates are 409; temporary passwords must be changed first; deactivation
//! stops every token at once; every change is in the audit log without secrets.
use crate::helpers::{TestApp, error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client.patch(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

async fn created(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Rows of the four directory tables and of the audit log.
async fn directory_rows(app: &TestApp) -> [i64; 5] {
    [
        app.count("SELECT COUNT(*) FROM regions").await,
        app.count("SELECT COUNT(*) FROM units").await,
        app.count("SELECT COUNT(*) FROM staff").await,
        app.count("SELECT COUNT(*) FROM categories").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    ]
}

async fn audit(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let v = ok(app.get(&format!("/api/v1/audit?per_page=100{query}"), Some(token)).await).await;
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_admin_builds_a_village_with_its_unit_cadre_and_category_and_every_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let township = app.region_id("东坝镇").await;

    let village = created(
        app.post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"name": "新村", "parent_id": township, "hotline": "0871-6543210"}),
        )
        .await,
    )
    .await;
    assert_eq!(village["level"], "village", "one step below a township");
    let vid = village["id"].as_i64().unwrap();
    assert!(village["path"].as_str().unwrap().ends_with(&format!("/{township}/{vid}/")), "{village}");

    let unit = created(
        app.post(
            "/api/v1/units",
            Some(&admin),
            &json!({"name": "新村村民委员会", "region_id": vid, "level": "village", "kind": "committee",
                    "is_lead": true, "phone": "0871-1234567"}),
        )
        .await,
    )
    .await;
    let uid = unit["id"].as_i64().unwrap();
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM units WHERE region_id = {vid} AND is_lead")).await, 1);

    let before = directory_rows(&app).await;
    let e = error_of(
        app.post(
            "/api/v1/units",
            Some(&admin),
            &json!({"name": "新村村民委员会", "region_id": vid, "level": "village", "kind": "committee"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("duplicate"), Some("name")), "{e}");
    assert_eq!(directory_rows(&app).await, before, "a duplicate unit writes nothing, not even an audit entry");

    let cadre = created(
        app.post(
            "/api/v1/staff",
            Some(&admin),
            &json!({"username": "xincun", "name": "新村干部", "roles": ["承办干部"], "region_id": vid,
                    "unit_id": uid, "phone": "139 1111 2222", "post": "村委会主任"}),
        )
        .await,
    )
    .await;
    assert_eq!(cadre["roles"], json!(["cadre"]), "a role by its Chinese name");
    assert_eq!(cadre["phone"], "13911112222");
    assert_eq!(cadre["must_change_password"], true);
    let temporary = cadre["temporary_password"].as_str().unwrap().to_string();
    assert_eq!(temporary.len(), 12);
    let e = error_of(
        app.post(
            "/api/v1/staff",
            Some(&admin),
            &json!({"username": "xincun", "name": "重名", "roles": ["cadre"],
                                                         "region_id": vid, "unit_id": uid}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["field"], "username");

    let category = created(
        app.post(
            "/api/v1/categories",
            Some(&admin),
            &json!({"code": "pipes", "name": "管网漏水", "level": "village", "sort": 9}),
        )
        .await,
    )
    .await;
    assert_eq!(category["active"], true);
    let listed = ok(app.get("/api/v1/categories", Some(&admin)).await).await;
    assert!(listed["items"].as_array().unwrap().iter().any(|c| c["code"] == "pipes"));
    let card_page = app.client.get(app.url(&format!("/c/{}", app.card("石桥村")))).send().await.unwrap();
    assert!(card_page.text().await.unwrap().contains("管网漏水"), "a new category is offered on the intake page");
    let e = error_of(
        app.post("/api/v1/categories", Some(&admin), &json!({"code": "pipes", "name": "又一个", "level": "village"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["field"], "code");

    // Deactivated: gone from the intake page and the list, kept for admins and for its tickets.
    let off = ok(patch(&app, "/api/v1/categories/pipes", &admin, &json!({"active": false})).await).await;
    assert_eq!(off["active"], false);
    let listed = ok(app.get("/api/v1/categories", Some(&admin)).await).await;
    assert!(!listed["items"].as_array().unwrap().iter().any(|c| c["code"] == "pipes"));
    let all = ok(app.get("/api/v1/categories?all=true", Some(&admin)).await).await;
    assert!(all["items"].as_array().unwrap().iter().any(|c| c["code"] == "pipes" && c["active"] == false));
    let card_page = app.client.get(app.url(&format!("/c/{}", app.card("石桥村")))).send().await.unwrap();
    assert!(!card_page.text().await.unwrap().contains("管网漏水"), "a deactivated category leaves the intake page");
    assert_eq!(app.count("SELECT COUNT(*) FROM categories WHERE code = 'pipes'").await, 1, "never deleted");

    // The log: who, what, before → after; no password hash, no temporary password, phones masked.
    let inspector = app.token("inspector").await;
    let entries = audit(&app, &inspector, "").await;
    let kinds: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["entity"].as_str().unwrap().to_string()))
        .collect();
    for want in [
        ("create", "region"),
        ("create", "unit"),
        ("create", "staff"),
        ("create", "category"),
        ("deactivate", "category"),
    ] {
        assert!(kinds.contains(&(want.0.to_string(), want.1.to_string())), "{want:?} in {kinds:?}");
    }
    assert_eq!(entries.len(), 5, "one entry per change, none for refused ones: {kinds:?}");
    let deactivation = &entries[0];
    assert_eq!(deactivation["actor"]["name"], "系统管理员");
    assert_eq!(
        (deactivation["before"]["active"].as_bool(), deactivation["after"]["active"].as_bool()),
        (Some(true), Some(false))
    );
    let staff_entry = entries.iter().find(|e| e["entity"] == "staff").unwrap();
    assert_eq!(staff_entry["after"]["phone"], "139****2222");
    let whole = serde_json::to_string(&entries).unwrap();
    assert!(!whole.contains(&temporary) && !whole.contains("argon2") && !whole.contains("password_hash"), "{whole}");
    let filtered = audit(&app, &inspector, "&entity=unit").await;
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["entity_id"], uid.to_string());
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cadre = app.token("lijiazhuang").await;
    let id = app.count("SELECT id FROM staff WHERE username = 'lijiazhuang'").await;
    let reset = ok(app.post(&format!("/api/v1/staff/{id}/reset-password"), Some(&admin), &json!({})).await).await;
    let temporary = reset["temporary_password"].as_str().unwrap().to_string();
    let e = error_of(app.get("/api/v1/tickets", Some(&cadre)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_revoked", "a reset ends every earlier login");
    assert_eq!(app.login("lijiazhuang", crate::helpers::PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let login = ok(app.login("lijiazhuang", &temporary).await).await;
    assert_eq!(login["staff"]["must_change_password"], true);
    let first = login["access_token"].as_str().unwrap().to_string();
    let e = error_of(app.get("/api/v1/tickets", Some(&first)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "password_change_required");

    let e = error_of(
        app.post("/api/v1/auth/password", Some(&first), &json!({"old_password": temporary, "new_password": "short"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "new_password");
    let e = error_of(
        app.post(
            "/api/v1/auth/password",
            Some(&first),
            &json!({"old_password": "wrong-password", "new_password": "a-new-secret-1"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "old_password");
    let changed = ok(app
        .post(
            "/api/v1/auth/password",
            Some(&first),
            &json!({"old_password": temporary, "new_password": "a-new-secret-1"}),
        )
        .await)
    .await;
    assert_eq!(changed["staff"]["must_change_password"], false);
    let fresh = changed["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/tickets", Some(fresh)).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/tickets", Some(&first)).await.status(),
        StatusCode::UNAUTHORIZED,
        "the temporary login ended"
    );
    assert_eq!(app.login("lijiazhuang", &temporary).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("lijiazhuang", "a-new-secret-1").await.status(), StatusCode::OK);
    let entries = audit(&app, &admin, "&action=reset_password").await;
    assert_eq!(entries.len(), 1);
    assert!(!serde_json::to_string(&entries).unwrap().contains(&temporary));
}

#[tokio::test]
async fn deactivating_a_staff_member_stops_their_tokens_at_once_and_keeps_their_name_on_history() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let no = app.to_accepted("王家湾村", "wangjiawan", "13812345678").await;
    let login = ok(app.login("wangjiawan", crate::helpers::PASSWORD).await).await;
    let token = login["access_token"].as_str().unwrap();
    let refresh = login["refresh_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/tickets", Some(token)).await.status(), StatusCode::OK);
    let id = app.count("SELECT id FROM staff WHERE username = 'wangjiawan'").await;
    let off = ok(patch(&app, &format!("/api/v1/staff/{id}"), &admin, &json!({"active": false})).await).await;
    assert_eq!(off["active"], false);
    let e = error_of(app.get("/api/v1/tickets", Some(token)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_revoked");
    let r = app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": refresh})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("wangjiawan", crate::helpers::PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff WHERE username = 'wangjiawan'").await, 1, "never deleted");
    let t = app.ticket(&admin, &no).await;
    assert!(serde_json::to_string(&t["events"]).unwrap().contains("王秀英"), "history keeps the name");
    // An admin cannot lock themselves out.
    let me = app.count("SELECT id FROM staff WHERE username = 'admin'").await;
    let e = error_of(
        patch(&app, &format!("/api/v1/staff/{me}"), &admin, &json!({"active": false})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "active");
    let entries = audit(&app, &admin, &format!("&entity=staff&entity_id={id}")).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "deactivate");
    // A grid worker kept from before (a cadre without a unit) can still be deactivated.
    let grid = app.count("SELECT id FROM staff WHERE username = 'wg-shiqiao'").await;
    let off = ok(patch(&app, &format!("/api/v1/staff/{grid}"), &admin, &json!({"active": false})).await).await;
    assert_eq!(off["active"], false);
}

#[tokio::test]
async fn a_village_moved_to_another_township_takes_its_grids_and_tickets_along() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let no = app.file("石桥村", "13812345678").await;
    let xihe = app.region_id("西河乡").await;
    let dongba = app.region_id("东坝镇").await;
    let village = app.region_id("石桥村").await;
    let xihe_dispatcher = app.add_staff("xh-dispatch", "西河调度", "dispatcher", "西河乡").await;
    assert_ne!(app.get(&format!("/api/v1/tickets/{no}"), Some(&xihe_dispatcher)).await.status(), StatusCode::OK);

    let moved = ok(patch(&app, &format!("/api/v1/regions/{village}"), &admin, &json!({"parent_id": xihe})).await).await;
    let path = moved["path"].as_str().unwrap().to_string();
    assert!(path.ends_with(&format!("/{xihe}/{village}/")), "{moved}");
    assert_eq!(moved["parent_id"], xihe);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM regions WHERE parent_id = {village} AND path NOT LIKE '{path}%'"))
            .await,
        0
    );
    assert!(
        app.count(&format!("SELECT COUNT(*) FROM regions WHERE parent_id = {village}")).await > 0,
        "the demo village has grids"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND region_path = '{path}'")).await,
        1
    );
    assert_eq!(app.get(&format!("/api/v1/tickets/{no}"), Some(&xihe_dispatcher)).await.status(), StatusCode::OK);
    let entries = audit(&app, &admin, "&action=move").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["before"]["parent_id"].as_i64(), entries[0]["after"]["parent_id"].as_i64()),
        (Some(dongba), Some(xihe))
    );

    // A village goes under a township only; a township with active villages is not deactivated.
    let e = error_of(
        patch(&app, &format!("/api/v1/regions/{village}"), &admin, &json!({"parent_id": village})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "parent_id");
    let e = error_of(
        patch(&app, &format!("/api/v1/regions/{xihe}"), &admin, &json!({"active": false})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "in_use");
}

#[tokio::test]
async fn bad_administration_input_names_the_field_in_chinese_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let township = app.region_id("东坝镇").await;
    let village = app.region_id("石桥村").await;
    let unit = app.unit_id("县水利局").await;
    let before = directory_rows(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/api/v1/regions", json!({"parent_id": township}), "name"),
        ("/api/v1/regions", json!({"name": "某村"}), "parent_id"),
        ("/api/v1/regions", json!({"name": "某村", "parent_id": township, "level": "grid"}), "level"),
        ("/api/v1/regions", json!({"name": "某村", "parent_id": 999999}), "parent_id"),
        ("/api/v1/regions", json!({"name": "某村", "parent_id": township, "hotline": "电话"}), "hotline"),
        ("/api/v1/units", json!({"name": "某单位", "region_id": village, "level": "city", "kind": "office"}), "level"),
        ("/api/v1/units", json!({"name": "某单位", "region_id": village, "level": "village", "kind": "shop"}), "kind"),
        ("/api/v1/units", json!({"name": "", "region_id": village, "level": "village", "kind": "office"}), "name"),
        (
            "/api/v1/staff",
            json!({"username": "Bad Name", "name": "某人", "roles": ["cadre"], "region_id": village, "unit_id": unit}),
            "username",
        ),
        (
            "/api/v1/staff",
            json!({"username": "someone", "name": "某人", "roles": ["mayor"], "region_id": village}),
            "roles",
        ),
        (
            "/api/v1/staff",
            json!({"username": "someone", "name": "某人", "roles": ["cadre"], "region_id": village}),
            "unit_id",
        ),
        (
            "/api/v1/staff",
            json!({"username": "someone", "name": "某人", "roles": ["operator"], "region_id": village, "phone": "12345"}),
            "phone",
        ),
        (
            "/api/v1/staff",
            json!({"username": "someone", "name": "某人", "roles": ["operator"], "region_id": village, "password": "x"}),
            "password",
        ),
        ("/api/v1/categories", json!({"code": "a b", "name": "某类", "level": "village"}), "code"),
        (
            "/api/v1/categories",
            json!({"code": "ok", "name": "某类", "level": "village", "parent_code": "nope"}),
            "parent_code",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.post(path, Some(&admin), &body).await;
        assert!(r.status().is_client_error(), "{path} {body}: {}", r.status());
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], field, "{path} {body}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "Chinese: {message}");
    }
    // A category cannot become its own ancestor.
    let e = error_of(
        patch(&app, "/api/v1/categories/water", &admin, &json!({"parent_code": "water.supply"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "parent_code");
    assert_eq!(directory_rows(&app).await, before, "nothing written by any refused request");
}

#[tokio::test]
async fn only_admins_change_the_directory_and_only_inside_their_region() {
    let app = spawn_app().await;
    let dispatcher = app.token("dispatcher").await;
    let village = app.region_id("柳树沟村").await;
    let unit = json!({"name": "某合作社", "region_id": village, "level": "village", "kind": "committee"});
    // A township's admin: its own villages only, and no county-wide categories.
    let township_admin = app.add_staff("db-admin", "东坝管理员", "admin", "东坝镇").await;
    let before = directory_rows(&app).await;
    let e = error_of(app.post("/api/v1/units", Some(&dispatcher), &unit).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "forbidden");
    let r = app.post("/api/v1/units", Some(&township_admin), &unit).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "西河乡's village is outside 东坝镇");
    let e = error_of(
        app.post(
            "/api/v1/categories",
            Some(&township_admin),
            &json!({"code": "x", "name": "某类", "level": "village"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("县级管理员"), "{e}");
    let xihe_cadre = app.count("SELECT id FROM staff WHERE username = 'liushugou'").await;
    let r = patch(&app, &format!("/api/v1/staff/{xihe_cadre}"), &township_admin, &json!({"active": false})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post(&format!("/api/v1/staff/{xihe_cadre}/reset-password"), Some(&township_admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(directory_rows(&app).await[..4], before[..4], "nothing written");
    // Inside its township it works, and it reads only its own region's entries.
    let mine = app.region_id("石桥村").await;
    created(
        app.post(
            "/api/v1/units",
            Some(&township_admin),
            &json!({"name": "石桥村合作社", "region_id": mine, "level": "village", "kind": "committee"}),
        )
        .await,
    )
    .await;
    let county_admin = app.token("admin").await;
    created(
        app.post(
            "/api/v1/units",
            Some(&county_admin),
            &json!({"name": "柳树沟合作社", "region_id": village, "level": "village", "kind": "committee"}),
        )
        .await,
    )
    .await;
    assert_eq!(audit(&app, &township_admin, "").await.len(), 1);
    assert_eq!(audit(&app, &county_admin, "").await.len(), 2);
    let e = error_of(app.get("/api/v1/audit", Some(&dispatcher)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "forbidden");
    // Lists take a text filter.
    let found = ok(app.get("/api/v1/units?q=合作社", Some(&county_admin)).await).await;
    assert_eq!(found["total"], 2);
    let found = ok(app.get("/api/v1/staff?q=lijia", Some(&county_admin)).await).await;
    assert!(found["items"].as_array().unwrap().iter().all(|s| s["username"].as_str().unwrap().contains("lijia")));
    assert!(found["total"].as_u64().unwrap() >= 1);
}
