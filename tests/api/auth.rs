use crate::helpers::{PASSWORD, error_of, spawn_app, spawn_app_with};
use minsheng::auth::jwt::{StaffClaims, VillagerClaims};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn login_returns_tokens_and_the_staff_member() {
    let app = spawn_app().await;
    let r = app.login("dispatcher", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["access_token"].as_str().unwrap().len() > 20);
    assert!(v["refresh_token"].is_string());
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["staff"]["name"], "陈刚");
    assert_eq!(v["staff"]["roles"], json!(["dispatcher"]));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    let a = error_of(app.login("dispatcher", "wrong-password").await, StatusCode::UNAUTHORIZED).await;
    let b = error_of(app.login("nobody", "wrong-password").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(a, b);
    assert_eq!(a["code"], "invalid_credentials");
    let e =
        error_of(app.post("/api/v1/auth/login", None, &json!({"username": "x"})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "password");
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let app = spawn_app().await;
    app.at_window_start();
    for _ in 0..4 {
        assert_eq!(app.login("caller", "bad").await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.login("caller", "bad").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Locked: even the right password is refused until the lock runs out.
    let e = error_of(app.login("caller", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "login_locked");
    app.state.time.advance(chrono::Duration::minutes(16));
    assert_eq!(app.login("caller", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_slip_past_the_lock() {
    let app = spawn_app().await;
    app.at_window_start();
    let app = std::sync::Arc::new(app);
    let mut guesses = vec![];
    for i in 0..12 {
        let app = app.clone();
        guesses.push(tokio::spawn(async move { app.login("caller", &format!("guess-{i}")).await.status() }));
    }
    for g in guesses {
        let status = g.await.unwrap();
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS, "{status}");
    }
    let e = error_of(app.login("caller", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "login_locked", "twelve parallel failures lock the account");
}

#[tokio::test]
async fn guessing_across_usernames_from_one_address_is_limited() {
    let app = spawn_app_with(|s| {
        s.limits.login_failures_per_ip = minsheng::kv::limiter::Limit { max: 3, window_seconds: 900 }
    })
    .await;
    app.at_window_start();
    for name in ["nobody", "root", "dispatcher"] {
        assert_eq!(app.login(name, "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The address is stopped for the window, even for a right password, without locking anyone.
    let r = app.login("leader", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    app.state.time.advance(chrono::Duration::minutes(16));
    assert_eq!(app.login("leader", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.login("dispatcher", PASSWORD).await.status(), StatusCode::OK, "one failure did not lock it");
}

#[tokio::test]
async fn refresh_gives_a_new_access_token_and_access_tokens_cannot_refresh() {
    let app = spawn_app().await;
    let v: Value = app.login("leader", PASSWORD).await.json().await.unwrap();
    let r = app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": v["refresh_token"]})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let fresh: Value = r.json().await.unwrap();
    let summary = app.get("/api/v1/stats/summary", fresh["access_token"].as_str()).await;
    assert_eq!(summary.status(), StatusCode::OK);
    let e = error_of(
        app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": v["access_token"]})).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(e["code"], "token_invalid");
    // A refresh token is not an access token either.
    let e =
        error_of(app.get("/api/v1/stats/summary", v["refresh_token"].as_str()).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_invalid");
}

#[tokio::test]
async fn missing_tampered_expired_and_villager_tokens_are_refused_on_staff_routes() {
    let app = spawn_app().await;
    let e = error_of(app.get("/api/v1/tickets", None).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "unauthorized");

    let token = app.token("admin").await;
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut claims: Value = serde_json::from_slice(&base64_url(payload)).unwrap();
    claims["roles"] = json!(["admin", "leader"]);
    claims["region_path"] = json!("/");
    let forged = format!("{head}.{}.{sig}", b64(&serde_json::to_vec(&claims).unwrap()));
    let e = error_of(app.get("/api/v1/tickets", Some(&forged)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_invalid");

    let mut expired: StaffClaims = serde_json::from_value(claims.clone()).unwrap();
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    let expired = app.state.keys.staff.sign(&expired).unwrap();
    let e = error_of(app.get("/api/v1/tickets", Some(&expired)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_expired");

    let villager = VillagerClaims {
        sub: "phone:13812345678".into(),
        typ: "villager".into(),
        phone: Some("13812345678".into()),
        openid: None,
        iat: chrono::Utc::now().timestamp(),
        exp: chrono::Utc::now().timestamp() + 600,
    };
    let villager = app.state.keys.villager.sign(&villager).unwrap();
    let e = error_of(app.get("/api/v1/tickets", Some(&villager)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_invalid");
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
