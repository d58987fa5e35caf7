//! The Open311 GeoReport v2 facade (issue 19 point 3): discovery, services, service definitions,
//! requests read and filed in JSON and XML, the standard's error list, and the admin's API keys.
use crate::helpers::{TestApp, error_of, spawn_app};
use reqwest::{Response, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::Digest;

async fn text_of(app: &TestApp, sql: &str) -> String {
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("a row");
    row.try_get_by_index::<String>(0).unwrap()
}

async fn make_key(app: &TestApp, body: Value) -> (i64, String) {
    let admin = app.token("admin").await;
    let r = app.post("/api/v1/open311/keys", Some(&admin), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (v["id"].as_i64().unwrap(), v["api_key"].as_str().unwrap().to_string())
}

async fn key(app: &TestApp) -> String {
    make_key(app, json!({"name": "市民通App"})).await.1
}

async fn post_form(app: &TestApp, format: &str, fields: &[(&str, &str)], idem: Option<&str>) -> Response {
    let mut rb = app.client.post(app.url(&format!("/open311/v2/requests.{format}"))).form(fields);
    if let Some(k) = idem {
        rb = rb.header("Idempotency-Key", k);
    }
    rb.send().await.expect("request")
}

async fn get_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app.get(path, None).await;
    let status = r.status();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    (status, r.json().await.unwrap())
}

async fn get_xml(app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = app.get(path, None).await;
    let status = r.status();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/xml"), "{path}");
    (status, r.text().await.unwrap())
}

/// The standard's error list: one or more `{code, description}` with the status as the code.
fn assert_errors(v: &Value, status: u16, mentions: &str) {
    let list = v.as_array().unwrap_or_else(|| panic!("an error list: {v}"));
    assert!(!list.is_empty());
    assert!(list.iter().all(|e| e["code"] == status && e["description"].is_string()), "{v}");
    assert!(list.iter().any(|e| e["description"].as_str().unwrap().contains(mentions)), "{mentions} in {v}");
}

fn fields<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("api_key", key),
        ("service_code", "water.supply"),
        ("description", "村东头自来水停了三天了，请尽快处理"),
        ("phone", "13812345678"),
    ];
    f.extend_from_slice(extra);
    f
}

async fn filed(r: Response) -> String {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v[0]["service_request_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn discovery_names_the_endpoint_and_both_formats() {
    let app = spawn_app().await;
    let (status, v) = get_json(&app, "/open311/v2/discovery.json").await;
    assert_eq!(status, StatusCode::OK);
    let endpoint = &v["endpoints"][0];
    assert_eq!(endpoint["url"], "http://minsheng.test/open311/v2");
    assert_eq!(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(endpoint["formats"], json!(["application/json", "text/xml"]));
    assert!(v["contact"].as_str().unwrap().contains("清河县"), "{v}");
    let (status, x) = get_xml(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(x.contains("<discovery><changeset>") && x.contains("<format>text/xml</format>"), "{x}");
    assert!(x.contains("<endpoints><endpoint><specification>"), "{x}");
    // Another extension is not a format.
    let (status, v) = get_json(&app, "/open311/v2/discovery.yaml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_errors(&v, 404, ".json");
}

#[tokio::test]
async fn services_are_the_categories_with_keywords_group_and_metadata() {
    let app = spawn_app().await;
    let (status, v) = get_json(&app, "/open311/v2/services.json?jurisdiction_id=qinghe").await;
    assert_eq!(status, StatusCode::OK);
    let list = v.as_array().unwrap();
    let supply = list.iter().find(|s| s["service_code"] == "water.supply").expect("water.supply");
    assert_eq!(supply["service_name"], "停水断水");
    assert_eq!(supply["group"], "饮水安全");
    assert_eq!(supply["keywords"], "停水断水,饮水安全,求助");
    assert_eq!(supply["metadata"], true);
    assert_eq!(supply["type"], "realtime");
    assert_eq!(supply["description"], "饮水安全·停水断水（默认由村级单位办理）");
    // A subject with items is a group, not a service; one without items is a service of its own.
    assert!(list.iter().all(|s| s["service_code"] != "water"));
    let consult = list.iter().find(|s| s["service_code"] == "consult").expect("consult");
    assert_eq!((consult["group"].as_str(), consult["keywords"].as_str()), (Some("政策咨询"), Some("政策咨询,咨询")));
    let (status, x) = get_xml(&app, "/open311/v2/services.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service>"), "{x}");
    assert_eq!(x.matches("<service>").count(), list.len());
    assert!(x.contains("<service_code>water.supply</service_code><service_name>停水断水</service_name>"));
    assert!(x.contains("<metadata>true</metadata><type>realtime</type><keywords>停水断水,饮水安全,求助</keywords><group>饮水安全</group>"));
}

#[tokio::test]
async fn a_service_definition_offers_the_kind_and_an_unknown_service_is_404() {
    let app = spawn_app().await;
    let (status, v) = get_json(&app, "/open311/v2/services/consult.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["service_code"], "consult");
    let kind = &v["attributes"][0];
    assert_eq!((kind["code"].as_str(), kind["datatype"].as_str()), (Some("kind"), Some("singlevaluelist")));
    assert_eq!(
        (kind["variable"].as_bool(), kind["required"].as_bool(), kind["order"].as_i64()),
        (Some(true), Some(false), Some(1))
    );
    assert!(kind["datatype_description"].as_str().unwrap().contains("咨询"), "the category's usual kind: {kind}");
    assert_eq!(kind["values"].as_array().unwrap().len(), 6);
    assert_eq!(kind["values"][2], json!({"key": "complaint", "name": "投诉"}));
    let (status, x) = get_xml(&app, "/open311/v2/services/water.supply.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(x.contains("<service_definition><service_code>water.supply</service_code><attributes><attribute><variable>true</variable>"), "{x}");
    assert!(x.contains("<values><value><key>consultation</key><name>咨询</name></value>"), "{x}");
    let (status, v) = get_json(&app, "/open311/v2/services/nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_errors(&v, 404, "nope");
    let (status, x) = get_xml(&app, "/open311/v2/services/nope.xml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        x.contains(
            "<errors><error><code>404</code><description>服务（诉求分类）nope 不存在</description></error></errors>"
        ),
        "{x}"
    );
}

#[tokio::test]
async fn only_an_admin_makes_lists_and_revokes_keys_and_the_key_is_shown_once() {
    let app = spawn_app().await;
    for who in ["operator", "dispatcher", "leader", "inspector"] {
        let t = app.token(who).await;
        error_of(app.post("/api/v1/open311/keys", Some(&t), &json!({"name": "x"})).await, StatusCode::FORBIDDEN).await;
        error_of(app.get("/api/v1/open311/keys", Some(&t)).await, StatusCode::FORBIDDEN).await;
        error_of(app.delete("/api/v1/open311/keys/1", &t).await, StatusCode::FORBIDDEN).await;
    }
    error_of(app.get("/api/v1/open311/keys", None).await, StatusCode::UNAUTHORIZED).await;
    let admin = app.token("admin").await;
    let r = app.post("/api/v1/open311/keys", Some(&admin), &json!({"name": " "})).await;
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).await["field"], "name");
    let r = app.post("/api/v1/open311/keys", Some(&admin), &json!({"name": "x", "per_minute": 0})).await;
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).await["field"], "per_minute");

    let r = app.post("/api/v1/open311/keys", Some(&admin), &json!({"name": "市民通App", "per_minute": 5})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let made: Value = r.json().await.unwrap();
    let api_key = made["api_key"].as_str().unwrap().to_string();
    let lijia = app.card("李家庄村");
    assert!(api_key.starts_with("o311_") && api_key.len() == 48, "{made}");
    assert_eq!(
        (made["name"].as_str(), made["per_minute"].as_i64(), made["per_day"].as_i64()),
        (Some("市民通App"), Some(5), Some(2000))
    );
    let id = made["id"].as_i64().unwrap();
    let hash = hex::encode(sha2::Sha256::digest(api_key.as_bytes()));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM open311_keys WHERE key_hash = '{hash}'")).await, 1);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM open311_keys WHERE key_hash = '{api_key}'")).await, 0);

    let r = app.get("/api/v1/open311/keys", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains(&api_key) && !text.contains(&hash), "neither the key nor its hash: {text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    let item = &list["items"][0];
    assert_eq!(
        (item["id"].as_i64(), item["name"].as_str(), item["active"].as_bool()),
        (Some(id), Some("市民通App"), Some(true))
    );
    assert!(item["last_used_at"].is_null() && item.get("api_key").is_none());

    // The key files; revoked, it is refused like an unknown key.
    filed(post_form(&app, "json", &fields(&api_key, &[("card_code", lijia.as_str())]), None).await).await;
    let r = app.delete(&format!("/api/v1/open311/keys/{id}"), &admin).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    error_of(app.delete(&format!("/api/v1/open311/keys/{id}"), &admin).await, StatusCode::NOT_FOUND).await;
    let before = app.written().await;
    let r = post_form(&app, "json", &fields(&api_key, &[("card_code", lijia.as_str())]), None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_errors(&r.json().await.unwrap(), 403, "api_key");
    assert_eq!(app.written().await, before);
    let list: Value = app.get("/api/v1/open311/keys", Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["items"][0]["active"], false);
    assert!(list["items"][0]["revoked_at"].is_string() && list["items"][0]["last_used_at"].is_string());
    let audited = "SELECT COUNT(*) FROM audit_log WHERE entity = 'open311_key'";
    assert_eq!(app.count(audited).await, 2);
}

#[tokio::test]
async fn a_form_post_with_a_key_files_an_open311_ticket_through_the_intake() {
    let app = spawn_app().await;
    let (key_id, api_key) = make_key(&app, json!({"name": "市民通App"})).await;
    let card = app.card("李家庄村");
    let f = fields(
        &api_key,
        &[
            ("card_code", card.as_str()),
            ("first_name", "大伟"),
            ("last_name", "张"),
            ("attribute[kind]", "complaint"),
            ("media_url", "https://example.org/p.jpg"),
            ("email", "a@example.org"),
            ("jurisdiction_id", "qinghe"),
        ],
    );
    let r = post_form(&app, "json", &f, Some("app-req-1")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let no = v[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(v[0]["account_id"].is_null(), "{v}");
    let notice = v[0]["service_notice"].as_str().unwrap();
    assert!(notice.contains(&no) && notice.contains(&format!("http://minsheng.test/t/{no}")), "{notice}");

    let row = |col: &str| format!("SELECT {col} FROM tickets WHERE no = '{no}'");
    assert_eq!(text_of(&app, &row("channel")).await, "open311");
    assert_eq!(text_of(&app, &row("kind")).await, "complaint");
    assert_eq!(text_of(&app, &row("requester_name")).await, "张大伟");
    assert_eq!(text_of(&app, &row("requester_phone")).await, "13812345678");
    let data: Value = serde_json::from_str(
        &text_of(&app, &format!("SELECT e.data FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.action = 'submit'")).await,
    )
    .unwrap();
    assert_eq!(data["channel"], "open311");
    assert_eq!(
        data["open311"],
        json!({"key_id": key_id, "key_name": "市民通App", "media_url": "https://example.org/p.jpg"})
    );
    // The intake's own rules ran: the confirmation SMS is queued with the ticket.
    assert!(app.sent_body(&no, "confirmation").await.contains(&no));

    // The same Idempotency-Key and body: the same answer, no second ticket; another body: refused.
    let before = app.written().await;
    let again = post_form(&app, "json", &f, Some("app-req-1")).await;
    assert_eq!(filed(again).await, no);
    assert_eq!(app.written().await, before);
    let other = fields(&api_key, &[("card_code", card.as_str()), ("attribute[kind]", "help")]);
    let r = post_form(&app, "json", &other, Some("app-req-1")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_errors(&r.json().await.unwrap(), 400, "Idempotency-Key");
    assert_eq!(app.written().await, before);

    // The public view: no requester's name or phone anywhere.
    let (status, v) = get_json(&app, &format!("/open311/v2/requests/{no}.json")).await;
    assert_eq!(status, StatusCode::OK);
    let req = &v[0];
    assert_eq!(req["service_request_id"], no.as_str());
    assert_eq!((req["status"].as_str(), req["status_notes"].as_str()), (Some("open"), Some("已收到，等待登记")));
    assert_eq!((req["service_code"].as_str(), req["service_name"].as_str()), (Some("water.supply"), Some("停水断水")));
    assert_eq!(req["address"], "东坝镇李家庄村");
    assert_eq!(req["description"], "村东头自来水停了三天了，请尽快处理");
    assert!(req["agency_responsible"].is_null() && req["expected_datetime"].is_null() && req.get("lat").is_none());
    assert!(req["requested_datetime"].as_str().unwrap().ends_with("+08:00"), "{req}");
    let text = v.to_string();
    assert!(!text.contains("5678") && !text.contains("张大伟") && !text.contains("media_url"), "{text}");
}

#[tokio::test]
async fn a_request_is_placed_by_its_card_its_address_or_at_the_county_for_bare_coordinates() {
    let app = spawn_app().await;
    let api_key = key(&app).await;
    let appr = &app;
    let region_of = |no: String| async move {
        let sql = format!("SELECT r.name FROM regions r JOIN tickets t ON t.region_id = r.id WHERE t.no = '{no}'");
        text_of(appr, &sql).await
    };
    let stone = app.card("石桥村");
    let by_address = filed(
        post_form(&app, "json", &fields(&api_key, &[("address_string", "西河乡杏花村村口老槐树下")]), None).await,
    )
    .await;
    assert_eq!(region_of(by_address.clone()).await, "杏花村");
    let by_point =
        filed(post_form(&app, "json", &fields(&api_key, &[("lat", "36.12345"), ("long", "117.5")]), None).await).await;
    assert_eq!(region_of(by_point.clone()).await, "清河县");
    let unknown_place =
        filed(post_form(&app, "json", &fields(&api_key, &[("address_string", "县城南关大街")]), None).await).await;
    assert_eq!(region_of(unknown_place).await, "清河县");
    // A card filing of an auto-dispatched category goes straight to the village committee.
    let garbage = [
        ("api_key", api_key.as_str()),
        ("service_code", "sanitation.garbage"),
        ("description", "村口垃圾三天没人清运了"),
        ("phone", "13812345670"),
        ("card_code", stone.as_str()),
    ];
    let r = post_form(&app, "xml", &garbage, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let x = r.text().await.unwrap();
    assert!(
        x.contains("<service_requests><request><service_request_id>")
            && x.contains("<account_id/></request></service_requests>"),
        "{x}"
    );
    let auto = x.split("<service_request_id>").nth(1).unwrap().split('<').next().unwrap().to_string();

    let (_, v) =
        get_json(&app, &format!("/open311/v2/requests.json?service_request_id={by_address},{by_point},{auto}")).await;
    let find = |no: &str| v.as_array().unwrap().iter().find(|r| r["service_request_id"] == no).cloned().unwrap();
    assert_eq!(find(&by_address)["address"], "西河乡杏花村");
    let point = find(&by_point);
    assert_eq!(
        (point["lat"].as_f64(), point["long"].as_f64(), point["address"].as_str()),
        (Some(36.12345), Some(117.5), Some("清河县"))
    );
    let dispatched = find(&auto);
    assert_eq!(dispatched["agency_responsible"], "石桥村村民委员会");
    assert_eq!(dispatched["status_notes"], "已派单至承办单位，等待签收");
    assert!(dispatched["expected_datetime"].as_str().unwrap().ends_with("+08:00"), "{dispatched}");
    let (_, x) = get_xml(&app, &format!("/open311/v2/requests/{by_point}.xml")).await;
    assert!(x.contains("<lat>36.12345</lat><long>117.5</long>") && x.contains("<service_notice/>"), "{x}");
}

#[tokio::test]
async fn missing_keys_are_403_and_bad_input_is_400_in_the_standards_error_list() {
    let app = spawn_app().await;
    let api_key = key(&app).await;
    let card = app.card("李家庄村");
    let before = app.written().await;
    let no_key = [
        ("service_code", "water.supply"),
        ("description", "村东头自来水停了三天了"),
        ("phone", "13812345678"),
        ("card_code", card.as_str()),
    ];
    let r = post_form(&app, "json", &no_key, None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_errors(&r.json().await.unwrap(), 403, "api_key");
    let bad_key = fields("o311_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &[("card_code", card.as_str())]);
    let r = post_form(&app, "xml", &bad_key, None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let x = r.text().await.unwrap();
    assert!(x.contains("<errors><error><code>403</code><description>api_key 无效"), "{x}");

    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (fields(&api_key, &[("card_code", card.as_str()), ("phone", "12345")]), "phone"),
        (fields(&api_key, &[]), "address_string"),
        (fields(&api_key, &[("lat", "36.1")]), "long"),
        (fields(&api_key, &[("lat", "136.1"), ("long", "117")]), "lat"),
        (fields(&api_key, &[("card_code", card.as_str()), ("service_code", "nope")]), "service_code"),
        (fields(&api_key, &[("card_code", "ZZZZZZ")]), "card_code"),
        (fields(&api_key, &[("card_code", card.as_str()), ("description", "短")]), "description"),
        (fields(&api_key, &[("card_code", card.as_str()), ("attribute[kind]", "gossip")]), "kind"),
        (fields(&api_key, &[("card_code", card.as_str()), ("media_url", "file:///etc/passwd")]), "media_url"),
    ];
    for (f, mentions) in cases {
        let r = post_form(&app, "json", &f, None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{mentions}");
        assert_errors(&r.json().await.unwrap(), 400, mentions);
    }
    // Two wrong fields: two entries.
    let r = post_form(
        &app,
        "json",
        &fields(&api_key, &[("card_code", card.as_str()), ("phone", "1"), ("description", "短")]),
        None,
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    let r = post_form(&app, "xml", &fields(&api_key, &[("card_code", card.as_str()), ("phone", "12345")]), None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("<errors><error><code>400</code><description>phone："));
    assert_eq!(app.written().await, before, "nothing filed");

    for (q, mentions) in [
        ("start_date=yesterday", "start_date"),
        ("status=done", "status"),
        ("page_size=1001", "page_size"),
        ("page=0", "page"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90"),
        ("updated_after=x", "updated_after"),
    ] {
        let (status, v) = get_json(&app, &format!("/open311/v2/requests.json?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert_errors(&v, 400, mentions);
    }
    let (status, x) = get_xml(&app, "/open311/v2/requests.xml?status=done").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(x.contains("<errors><error><code>400</code>"), "{x}");
    let (status, v) = get_json(&app, "/open311/v2/requests/20990101-000001.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_errors(&v, 404, "20990101-000001");
    // Paths and methods the facade does not have: the same list, not the API's own error object.
    let (status, v) = get_json(&app, "/open311/v2/nothing.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_errors(&v, 404, "地址不存在");
    let (status, x) = get_xml(&app, "/open311/v2/nothing.xml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(x.contains("<errors><error><code>404</code>"), "{x}");
    let r = app.client.delete(app.url("/open311/v2/requests.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_errors(&r.json().await.unwrap(), 405, "请求方法");
}

#[tokio::test]
async fn a_keys_own_limits_answer_429_and_other_keys_go_on() {
    let app = spawn_app().await;
    app.at_window_start();
    let (_, tight) = make_key(&app, json!({"name": "小程序", "per_minute": 2})).await;
    let other = key(&app).await;
    let card = app.card("李家庄村");
    for phone in ["13812345601", "13812345602"] {
        filed(post_form(&app, "json", &fields(&tight, &[("card_code", card.as_str()), ("phone", phone)]), None).await)
            .await;
    }
    let before = app.written().await;
    let r =
        post_form(&app, "json", &fields(&tight, &[("card_code", card.as_str()), ("phone", "13812345603")]), None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_errors(&r.json().await.unwrap(), 429, "频繁");
    assert_eq!(app.written().await, before);
    // Filing for many people from one server is not limited by the address: the other key files.
    filed(
        post_form(&app, "json", &fields(&other, &[("card_code", card.as_str()), ("phone", "13812345603")]), None).await,
    )
    .await;
}

#[tokio::test]
async fn a_multipart_post_carries_a_photo_and_a_voice_note() {
    let app = spawn_app().await;
    let api_key = key(&app).await;
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(8, 8, image::Rgb([200, 30, 30])))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let voice: &[u8] = include_bytes!("../fixtures/voice.ogg");
    let wang = app.card("王家湾村");
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields(&api_key, &[("card_code", wang.as_str())]) {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form
        .part("media", reqwest::multipart::Part::bytes(png.into_inner()).file_name("photo.png"))
        .part("media", reqwest::multipart::Part::bytes(voice.to_vec()).file_name("voice.ogg"));
    let r = app.client.post(app.url("/open311/v2/requests.json")).multipart(form).send().await.unwrap();
    let no = filed(r).await;
    let attached = |kind: &str| {
        format!(
            "SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id WHERE t.no = '{no}' AND u.kind = '{kind}'"
        )
    };
    assert_eq!(app.count(&attached("image")).await, 1);
    assert_eq!(app.count(&attached("audio")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads WHERE uploader_ref LIKE 'open311:%'").await, 2);
    assert_eq!(text_of(&app, &format!("SELECT channel FROM tickets WHERE no = '{no}'")).await, "open311");
    // A file that is neither a photo nor a voice note is refused, and nothing is filed.
    let before = app.written().await;
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields(&api_key, &[("card_code", wang.as_str())]) {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part("media", reqwest::multipart::Part::bytes(b"#!/bin/sh\necho hi\n".to_vec()).file_name("x.sh"));
    let r = app.client.post(app.url("/open311/v2/requests.json")).multipart(form).send().await.unwrap();
    assert!(r.status().is_client_error());
    let v: Value = r.json().await.unwrap();
    assert!(v[0]["code"].as_u64().is_some_and(|c| (400..500).contains(&c)), "{v}");
    assert_eq!(app.written().await, before);
}

#[tokio::test]
async fn the_request_list_filters_by_id_code_dates_status_and_updates_and_pages() {
    let app = spawn_app().await;
    let now = app.state.now();
    // An old request (120 days ago), outside the default window.
    app.set_time(now - chrono::Duration::days(120));
    let old = app.file("李家庄村", "13812340001").await;
    app.set_time(now);
    let open_one = app.file("王家湾村", "13812340002").await;
    let done = app.to_resolved("李家庄村", "lijiazhuang", "13812340003").await;
    let mut consult = app.intake_body("石桥村", "13812340004");
    consult["category"] = json!("consult");
    consult["description"] = json!("想咨询一下新农合报销政策，电话13812340004，身份证11010519491231002X");
    let r = app.intake(&consult, Some("c-1")).await;
    let consult_no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();

    let nos = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
    };
    let (_, v) = get_json(&app, "/open311/v2/requests.json").await;
    let listed = nos(&v);
    assert_eq!(listed.len(), 3, "the last 90 days by default: {listed:?}");
    assert!(!listed.contains(&old) && listed.contains(&open_one));
    assert_eq!(listed[0], consult_no, "newest first");
    let c = v.as_array().unwrap().iter().find(|r| r["service_request_id"] == consult_no.as_str()).unwrap();
    assert_eq!(c["description"], "想咨询一下新农合报销政策，电话138****0004，身份证110105********002X");
    assert!(!v.to_string().contains("13812340"), "no phone anywhere");

    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(nos(&v), vec![done.clone()]);
    assert_eq!((v[0]["status"].as_str(), v[0]["status_notes"].as_str()), (Some("closed"), Some("已办结，等待回访")));
    assert_eq!(v[0]["agency_responsible"], "李家庄村村民委员会");
    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=open&status=closed").await;
    assert_eq!(nos(&v).len(), 3);
    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=open").await;
    assert!(!nos(&v).contains(&done) && nos(&v).len() == 2);
    let (_, v) = get_json(&app, "/open311/v2/requests.json?service_code=consult,roads.damage").await;
    assert_eq!(nos(&v), vec![consult_no.clone()]);
    // Ids override the other filters (the old request is found by its number).
    let (_, v) =
        get_json(&app, &format!("/open311/v2/requests.json?service_request_id={old},{done}&status=open")).await;
    let mut found = nos(&v);
    found.sort();
    let mut expected = vec![old.clone(), done.clone()];
    expected.sort();
    assert_eq!(found, expected);
    let day = |d: chrono::Duration| (now + d).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let q = format!(
        "/open311/v2/requests.json?start_date={}&end_date={}",
        day(-chrono::Duration::days(125)),
        day(-chrono::Duration::days(100))
    );
    let (_, v) = get_json(&app, &q).await;
    assert_eq!(nos(&v), vec![old.clone()]);
    let q = format!("/open311/v2/requests.json?start_date={}", day(chrono::Duration::minutes(1)));
    let (_, v) = get_json(&app, &q).await;
    assert!(nos(&v).is_empty());
    // Changes since a moment, whenever the request was made.
    app.set_time(now + chrono::Duration::hours(1));
    let op = app.token("operator").await;
    app.act_ok(&op, &old, "register", json!({})).await;
    let (_, v) =
        get_json(&app, &format!("/open311/v2/requests.json?updated_after={}", day(chrono::Duration::minutes(30))))
            .await;
    assert_eq!(nos(&v), vec![old.clone()]);
    assert_eq!(v[0]["status_notes"], "已登记，等待派单");

    // Paging: the counts as headers, the list itself unchanged in shape.
    let r = app.get("/open311/v2/requests.json?page_size=2&page=2", None).await;
    assert_eq!(r.headers()["x-total-count"], "3");
    assert_eq!((r.headers()["x-page"].to_str().unwrap(), r.headers()["x-page-size"].to_str().unwrap()), ("2", "2"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let r = app.get("/open311/v2/requests.json", None).await;
    assert_eq!(r.headers()["x-page-size"], "1000", "at most 1,000 at once");
    let (_, x) = get_xml(&app, "/open311/v2/requests.xml?status=closed").await;
    assert!(
        x.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><service_request_id>"),
        "{x}"
    );
    assert_eq!(x.matches("<request>").count(), 1);
    assert!(x.contains("<status>closed</status><status_notes>已办结，等待回访</status_notes>"), "{x}");
}

#[tokio::test]
async fn a_control_character_in_the_address_or_query_is_the_standards_error_list_too() {
    let app = spawn_app().await;
    let (status, v) = get_json(&app, "/open311/v2/services/%01x.json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_errors(&v, 400, "控制字符");
    let (status, v) = get_json(&app, "/open311/v2/requests.json?updated_after=%1B").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_errors(&v, 400, "控制字符");
    let (status, xml) = get_xml(&app, "/open311/v2/services/%01x.xml").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(xml.contains("<errors>") && xml.contains("<code>400</code>") && xml.contains("控制字符"), "{xml}");
    // Elsewhere the contract's error object stays.
    let r = app.get("/api/v1/cards/%01x", None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "path");
}
