//! Villager sign-in by SMS code and WeChat, and their own tickets.
use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The code as the SMS carries it (read from the outbox, as the phone would receive it).
pub async fn code_sent_to(app: &TestApp, phone: &str) -> String {
    let stmt = sea_orm::Statement::from_string(
        app.state.db.backend(),
        format!("SELECT body FROM outbox WHERE kind = 'otp' AND recipient = '{phone}' ORDER BY id DESC LIMIT 1"),
    );
    use sea_orm::ConnectionTrait;
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("an otp message");
    let body: String = row.try_get_by_index(0).unwrap();
    body.chars().filter(|c| c.is_ascii_digit()).take(6).collect()
}

async fn send(app: &TestApp, phone: &str) -> reqwest::Response {
    app.post("/api/v1/auth/otp", None, &json!({"phone": phone})).await
}

async fn verify(app: &TestApp, phone: &str, code: &str) -> reqwest::Response {
    app.post("/api/v1/auth/otp/verify", None, &json!({"phone": phone, "code": code})).await
}

#[tokio::test]
async fn an_sms_code_signs_a_villager_in_and_their_tickets_are_listed() {
    let app = spawn_app().await;
    let r = send(&app, "+8613812345678").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"expires_in": 300, "resend_after": 60}));
    let code = code_sent_to(&app, "13812345678").await;
    assert_eq!(code.len(), 6);
    // Stored hashed: the store does not hold the code itself.
    let stored = app.state.kv().get("otp:13812345678").await.unwrap().unwrap();
    assert!(!stored.contains(&code), "{stored}");
    // Admins never see the code in the outbox listing.
    let admin = app.token("admin").await;
    let listing: Value = app.get("/api/v1/outbox?kind=otp", Some(&admin)).await.json().await.unwrap();
    assert!(!listing["items"][0]["body"].as_str().unwrap().contains(&code));

    let r = verify(&app, "13812345678", &code).await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    // The code works once.
    assert_eq!(verify(&app, "13812345678", &code).await.status(), StatusCode::UNAUTHORIZED);

    // Filing while signed in: the phone comes from the token.
    let body = json!({"card_code": app.card("李家庄村"), "category": "roads", "description": "村口路面塌陷有一个大坑"});
    let r = app.client.post(app.url("/api/v1/tickets")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let other = app.file("王家湾村", "13900001111").await;
    let mine: Value = app.get("/api/v1/me/tickets", Some(&token)).await.json().await.unwrap();
    assert_eq!(mine["total"], 1);
    assert_ne!(mine["items"][0]["no"], other.as_str());
    assert_eq!(mine["items"][0]["status"], "submitted");
    // A villager token is not a staff token.
    assert_eq!(
        error_of(app.get("/api/v1/tickets", Some(&token)).await, StatusCode::UNAUTHORIZED).await["code"],
        "token_invalid"
    );
    assert_eq!(app.get(&format!("/api/v1/tickets/{other}"), Some(&token)).await.status(), StatusCode::UNAUTHORIZED);
    // A staff token is not a villager token.
    let staff = app.token("dispatcher").await;
    assert_eq!(app.get("/api/v1/me/tickets", Some(&staff)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn codes_have_a_resend_cooldown_an_expiry_and_an_attempt_limit() {
    let app = spawn_app().await;
    let phone = "13812340000";
    assert_eq!(send(&app, phone).await.status(), StatusCode::ACCEPTED);
    let r = send(&app, phone).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "otp_cooldown");
    app.state.time.advance(chrono::Duration::seconds(61));
    assert_eq!(send(&app, phone).await.status(), StatusCode::ACCEPTED);
    let code = code_sent_to(&app, phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let e = error_of(verify(&app, phone, wrong).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(e["code"], "otp_invalid");
    }
    let e = error_of(verify(&app, phone, wrong).await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "otp_locked");
    // Locked: even the right code, and no new code, until this one expires.
    assert_eq!(verify(&app, phone, &code).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(send(&app, phone).await.status(), StatusCode::TOO_MANY_REQUESTS);
    app.state.time.advance(chrono::Duration::seconds(301));
    assert_eq!(verify(&app, phone, &code).await.status(), StatusCode::UNAUTHORIZED, "expired");
    assert_eq!(send(&app, phone).await.status(), StatusCode::ACCEPTED);
    let fresh = code_sent_to(&app, phone).await;
    assert_eq!(verify(&app, phone, &fresh).await.status(), StatusCode::OK);
    // Bad input is named.
    assert_eq!(error_of(send(&app, "12345").await, StatusCode::BAD_REQUEST).await["field"], "phone");
    assert_eq!(error_of(verify(&app, phone, "12ab").await, StatusCode::BAD_REQUEST).await["field"], "code");
}

#[tokio::test]
async fn code_requests_are_limited_per_phone_and_per_address() {
    use minsheng::kv::limiter::Limit;
    let app = spawn_app_with(|s| {
        s.limits.otp_per_phone = Limit { max: 2, window_seconds: 3600 };
        s.limits.otp_per_ip = Limit { max: 4, window_seconds: 3600 };
    })
    .await;
    app.at_window_start();
    let phone = "13812341111";
    for _ in 0..2 {
        assert_eq!(send(&app, phone).await.status(), StatusCode::ACCEPTED);
        app.state.time.advance(chrono::Duration::seconds(61)); // past the resend cooldown
    }
    let r = send(&app, phone).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "a third code within the hour");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    // Other phones from the same address: the address limit (4, the refused try counted) stops the next.
    assert_eq!(send(&app, "13812342222").await.status(), StatusCode::ACCEPTED);
    let e = error_of(send(&app, "13812343333").await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "rate_limited");
    let sent = "SELECT COUNT(*) FROM outbox WHERE kind = 'otp'";
    assert_eq!(app.count(sent).await, 3, "refused requests send nothing");
    // The next hour, codes go out again.
    app.state.time.advance(chrono::Duration::hours(1));
    assert_eq!(send(&app, phone).await.status(), StatusCode::ACCEPTED);
}

async fn wechat_app(fake: &MockServer) -> TestApp {
    let base = fake.uri();
    spawn_app_with(move |s| {
        s.wechat.base_url = base;
        s.wechat.appid = "wx-test-appid".into();
        s.wechat.secret = "wx-test-secret".to_string().into();
    })
    .await
}

#[tokio::test]
async fn wechat_login_exchanges_the_code_and_files_as_wechat() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("appid", "wx-test-appid"))
        .and(query_param("secret", "wx-test-secret"))
        .and(query_param("js_code", "good-code"))
        .and(query_param("grant_type", "authorization_code"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"openid": "o-villager-1", "session_key": "never-leaves"})),
        )
        .expect(1)
        .mount(&fake)
        .await;
    let app = wechat_app(&fake).await;
    let r = app.post("/api/v1/auth/wechat", None, &json!({"code": "good-code"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(!v.to_string().contains("never-leaves"));
    let token = v["access_token"].as_str().unwrap().to_string();
    let body = json!({"card_code": app.card("杏花村"), "category": "water", "description": "自来水有很重的异味", "phone": "13812345678"});
    let r = app.client.post(app.url("/api/v1/tickets")).bearer_auth(&token).json(&body).send().await.unwrap();
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &no).await["channel"], "wechat");
    let mine: Value = app.get("/api/v1/me/tickets", Some(&token)).await.json().await.unwrap();
    assert_eq!(mine["total"], 1);
}

#[tokio::test]
async fn wechat_errors_map_to_clear_answers() {
    let fake = MockServer::start().await;
    for (code, errcode, errmsg) in [
        ("used", 40029, "invalid code, rid: 1"),
        ("spammy", 45011, "api minute-quota reach limit"),
        ("risky", 40226, "high risk user"),
    ] {
        Mock::given(method("GET"))
            .and(query_param("js_code", code))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"errcode": errcode, "errmsg": errmsg})))
            .mount(&fake)
            .await;
    }
    // Busy once, then fine: one retry gets through.
    Mock::given(method("GET"))
        .and(query_param("js_code", "busy-once"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"errcode": -1, "errmsg": "system error"})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(query_param("js_code", "busy-once"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"openid": "o-2", "session_key": "k"})))
        .mount(&fake)
        .await;
    let app = wechat_app(&fake).await;
    let login = |code: &'static str| {
        let app = &app;
        async move { app.post("/api/v1/auth/wechat", None, &json!({"code": code})).await }
    };
    assert_eq!(error_of(login("used").await, StatusCode::UNAUTHORIZED).await["code"], "wechat_code_invalid");
    assert_eq!(login("spammy").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login("risky").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(login("busy-once").await.status(), StatusCode::OK);
    assert_eq!(
        error_of(app.post("/api/v1/auth/wechat", None, &json!({})).await, StatusCode::BAD_REQUEST).await["field"],
        "code"
    );
    // Not configured: a client error saying WeChat login is off, no call out.
    let bare = spawn_app().await;
    let e = error_of(bare.post("/api/v1/auth/wechat", None, &json!({"code": "x"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "wechat_disabled");
}
