//! Cards for staff: editing contacts (the code stays, the version rises), re-pulling them from the
//! staff records, rotation keeping edits, details, and who may do what.
use crate::helpers::{TestApp, error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn patch(app: &TestApp, code: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client.patch(app.url(&format!("/api/v1/cards/{code}"))).bearer_auth(token).json(body).send().await.unwrap()
}

async fn details(app: &TestApp, code: &str, token: &str) -> Value {
    let r = app.get(&format!("/api/v1/cards/{code}/details"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn contacts() -> Value {
    json!([
        {"post": "村党支部书记", "name": "李长河", "phone": "13900000301"},
        {"post": "驻村第一书记", "name": "欧阳建国", "phone": "+86 139 1111 2222"},
        {"post": "网格员", "name": "张堃", "phone": "0310-5551234"}
    ])
}

#[tokio::test]
async fn editing_contacts_raises_the_version_and_keeps_the_code() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("李家庄村");
    let r = patch(&app, &code, &admin, &json!({"contacts": contacts()})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["code"].as_str(), v["version"].as_i64(), v["changed"].as_bool()),
        (Some(code.as_str()), Some(2), Some(true))
    );
    assert_eq!(v["contacts"][1]["phone"], "13911112222", "mobiles are stored normalised");
    // The printed QR keeps working and villagers see the new contacts.
    let public: Value = app.get(&format!("/api/v1/cards/{code}"), None).await.json().await.unwrap();
    assert_eq!(public["version"], 2);
    assert_eq!(public["contacts"][2], json!({"post": "网格员", "name": "张堃", "phone": "0310-5551234"}));
    let page = app.get(&format!("/c/{code}"), None).await.text().await.unwrap();
    assert!(page.contains("欧阳建国") && page.contains("0310-5551234"));
    let svg = app.get(&format!("/api/v1/cards/{code}/card.svg"), Some(&admin)).await.text().await.unwrap();
    assert!(svg.contains("欧阳建国</text>") && svg.contains("第2版"));

    // The same contacts again change nothing; a new hotline does.
    let v: Value = patch(&app, &code, &admin, &json!({"contacts": contacts()})).await.json().await.unwrap();
    assert_eq!((v["version"].as_i64(), v["changed"].as_bool()), (Some(2), Some(false)));
    let v: Value = patch(&app, &code, &admin, &json!({"hotline": "0310-12345"})).await.json().await.unwrap();
    assert_eq!((v["version"].as_i64(), v["hotline"].as_str()), (Some(3), Some("0310-12345")));
    assert_eq!(v["contacts"].as_array().unwrap().len(), 3, "contacts untouched by a hotline edit");
    let d = details(&app, &code, &admin).await;
    assert_eq!((d["version"].as_i64(), d["hotline"].as_str()), (Some(3), Some("0310-12345")));
}

#[tokio::test]
async fn bad_edits_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("王家湾村");
    let before = details(&app, &code, &admin).await;
    let mut bad_phone = contacts();
    bad_phone[1]["phone"] = json!("12345");
    let seven: Vec<Value> = (0..7).map(|_| contacts()[0].clone()).collect();
    let mut no_name = contacts();
    no_name[2].as_object_mut().unwrap().remove("name");
    let cases = [
        (json!({"contacts": bad_phone}), "contacts[1].phone"),
        (json!({"contacts": seven}), "contacts"),
        (json!({"contacts": []}), "contacts"),
        (json!({"contacts": no_name}), "contacts[2].name"),
        (json!({"hotline": "热线"}), "hotline"),
        (json!({}), "contacts"),
    ];
    for (body, field) in cases {
        let e = error_of(patch(&app, &code, &admin, &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{body}");
        assert!(!e["message"].as_str().unwrap().is_ascii(), "Chinese message");
    }
    let after = details(&app, &code, &admin).await;
    assert_eq!(
        (after["version"].clone(), after["contacts"].clone()),
        (before["version"].clone(), before["contacts"].clone())
    );
    // An ended card cannot be edited.
    app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &json!({})).await;
    let e = error_of(patch(&app, &code, &admin, &json!({"contacts": contacts()})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "card_not_active");
}

#[tokio::test]
async fn rotation_keeps_edited_contacts_and_refresh_pulls_staff_records() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("柳树沟村");
    patch(&app, &code, &admin, &json!({"contacts": contacts()})).await;
    let village = app.region_id("柳树沟村").await;
    let issued: Value =
        app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await.json().await.unwrap();
    let new = issued["code"].as_str().unwrap().to_string();
    assert_eq!(issued["version"], 3, "edit made v2; the rotation v3");
    assert_eq!(issued["contacts"].as_array().unwrap().len(), 3, "edited contacts carried over");
    // The old code now answers 410 and its page names the village and the hotline.
    let r = app.get(&format!("/c/{code}"), None).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("柳树沟村"));

    let r = app.post(&format!("/api/v1/cards/{new}/contacts/refresh"), Some(&admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 4);
    let names: Vec<&str> = v["contacts"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["刘树林", "柳桂芳", "何玉兰"], "village cadre, its grid worker, then the township's");
    let posts: Vec<&str> = v["contacts"].as_array().unwrap().iter().map(|c| c["post"].as_str().unwrap()).collect();
    assert_eq!(posts, ["村委会主任", "网格员", "西河乡包村干部"]);
    let d = details(&app, &new, &admin).await;
    assert_eq!(d["history"][0]["code"], code.as_str());
    assert_eq!(d["history"][0]["status"], "rotated");
    assert_eq!(d["township"]["name"], "西河乡");
    assert_eq!(d["downloads"]["png"], format!("/api/v1/cards/{new}/card.png"));
    assert_eq!(d["unprintable"], json!([]));
}

#[tokio::test]
async fn only_admins_and_the_villages_township_staff_manage_cards() {
    let app = spawn_app().await;
    let own = app.card("李家庄村"); // 东坝镇
    let foreign = app.card("杏花村"); // 西河乡
    let own_village = app.region_id("李家庄村").await;
    let foreign_village = app.region_id("杏花村").await;
    let dongba = app.token("dongba").await; // 东坝镇 township office cadre

    let r = app.post(&format!("/api/v1/villages/{own_village}/cards"), Some(&dongba), &json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let own = {
        let v: Value = r.json().await.unwrap();
        assert_ne!(v["code"], own.as_str());
        v["code"].as_str().unwrap().to_string()
    };
    assert_eq!(patch(&app, &own, &dongba, &json!({"hotline": "12345"})).await.status(), StatusCode::OK);
    let list: Value = app.get("/api/v1/cards?status=active", Some(&dongba)).await.json().await.unwrap();
    assert_eq!(list["total"], 3, "the three villages of 东坝镇");
    assert!(list["items"].as_array().unwrap().iter().all(|c| c["township"]["name"] == "东坝镇"));

    for e in [
        app.post(&format!("/api/v1/villages/{foreign_village}/cards"), Some(&dongba), &json!({})).await,
        app.post(&format!("/api/v1/cards/{foreign}/revoke"), Some(&dongba), &json!({})).await,
        patch(&app, &foreign, &dongba, &json!({"hotline": "12345"})).await,
        app.get(&format!("/api/v1/cards/{foreign}/details"), Some(&dongba)).await,
    ] {
        assert_eq!(error_of(e, StatusCode::FORBIDDEN).await["code"], "forbidden");
    }
    // County operators and dispatchers are not card managers; nor is a village cadre.
    for who in ["operator", "dispatcher", "lijiazhuang"] {
        let t = app.token(who).await;
        assert_eq!(
            app.post(&format!("/api/v1/villages/{own_village}/cards"), Some(&t), &json!({})).await.status(),
            StatusCode::FORBIDDEN,
            "{who}"
        );
        assert_eq!(patch(&app, &own, &t, &json!({"hotline": "12345"})).await.status(), StatusCode::FORBIDDEN, "{who}");
        assert_eq!(app.get("/api/v1/cards", Some(&t)).await.status(), StatusCode::FORBIDDEN, "{who}");
    }
    // Leaders read everything in their region and change nothing.
    let leader = app.token("leader").await;
    let list: Value = app.get("/api/v1/cards?per_page=100", Some(&leader)).await.json().await.unwrap();
    assert_eq!(list["total"], 7);
    details(&app, &foreign, &leader).await;
    assert_eq!(patch(&app, &foreign, &leader, &json!({"hotline": "12345"})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&format!("/api/v1/cards/{foreign}/revoke"), Some(&leader), &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    // Filters are checked too.
    let e = error_of(app.get("/api/v1/cards?status=lost", Some(&leader)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "status");
    let township = app.region_id("西河乡").await;
    let list: Value =
        app.get(&format!("/api/v1/cards?region_id={township}"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(list["total"], 3);
    error_of(app.get(&format!("/api/v1/cards?region_id={township}"), Some(&dongba)).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_township_cadre_assigned_to_a_village_is_its_cards_contact() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    // 东坝镇 gives 石桥村 its own 包村干部: a cadre of the township office whose region is the village.
    let hash = minsheng::auth::password::hash(
        crate::helpers::PASSWORD.to_string().into(),
        minsheng::auth::password::HashParams { memory_kib: 1024, iterations: 1 },
    )
    .await
    .unwrap();
    let s = minsheng::repo::staff::NewStaff {
        username: "dongba-shiqiao",
        name: "韩包村",
        password_hash: &hash,
        roles: "cadre",
        region_id: app.region_id("石桥村").await,
        unit_id: Some(app.unit_id("东坝镇人民政府").await),
        phone: Some("13900000501"),
        post: Some("东坝镇包村领导"),
        must_change_password: false,
    };
    minsheng::repo::staff::create(&app.state.db.conn, s, chrono::Utc::now()).await.unwrap();
    let refresh = |village: &str| {
        let code = app.card(village);
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.post(&format!("/api/v1/cards/{code}/contacts/refresh"), Some(&admin), &json!({})).await;
            assert_eq!(r.status(), StatusCode::OK);
            let v: Value = r.json().await.unwrap();
            v["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(refresh("石桥村").await, ["张德顺", "石永刚", "韩包村"], "the assigned one, not the whole office");
    assert_eq!(
        refresh("李家庄村").await,
        ["李长河", "李晓燕", "马建国"],
        "other villages keep the township-level cadre"
    );
}
