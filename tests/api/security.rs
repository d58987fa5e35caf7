//! The holes a methodical probe found (issue 13), each pinned by a test that fails without its fix:
//! the published signing key, paging overflow, SMS to strangers' phones, login locks and token
//! rotation, text hygiene, tracking guesses, one-time-code races, link tokens in the outbox.
use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use minsheng::auth::jwt::{Keys, StaffClaims, VillagerClaims};
use minsheng::auth::keys::{PUBLISHED_DEVELOPMENT_KEY, SecretSource};
use minsheng::kv::limiter::Limit;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::Sha256;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A villager signed in by SMS code for ten minutes.
fn villager_claims(phone: &str) -> VillagerClaims {
    let now = chrono::Utc::now().timestamp();
    VillagerClaims {
        sub: format!("phone:{phone}"),
        typ: "villager".into(),
        phone: Some(phone.into()),
        openid: None,
        iat: now,
        exp: now + 600,
    }
}

fn published_keys() -> Keys {
    Keys::new(&SecretString::from(PUBLISHED_DEVELOPMENT_KEY))
}

/// The cadre-link key as the old code derived it from the published secret.
fn old_worklink_key() -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(PUBLISHED_DEVELOPMENT_KEY.as_bytes()).unwrap();
    m.update(b"minsheng worklink key");
    m.finalize().into_bytes().to_vec()
}

// --- 1. signing keys -------------------------------------------------------------------------

#[tokio::test]
async fn nothing_signed_with_the_published_development_key_is_accepted() {
    let app = spawn_app().await;
    assert!(app.state.settings.auth.configured_secret().is_none(), "tests run without a configured secret");
    assert_eq!(app.state.keys.source, SecretSource::GeneratedNow);
    let admin = app.token("admin").await;
    let claims: StaffClaims = serde_json::from_value(claims_of(&admin)).unwrap();
    // The same claims signed with the app's own key pass, so the refusals below are about the key.
    let genuine = app.state.keys.staff.sign(&claims).unwrap();
    assert_eq!(app.get("/api/v1/tickets", Some(&genuine)).await.status(), StatusCode::OK);
    let forged = published_keys().sign(&claims).unwrap();
    let e = error_of(app.get("/api/v1/tickets", Some(&forged)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_invalid");
    // A villager token made with it is refused too.
    let villager = villager_claims("13812345678");
    let forged = published_keys().sign(&villager).unwrap();
    assert_eq!(app.get("/api/v1/me/tickets", Some(&forged)).await.status(), StatusCode::UNAUTHORIZED);
    let genuine = app.state.keys.villager.sign(&villager).unwrap();
    assert_eq!(app.get("/api/v1/me/tickets", Some(&genuine)).await.status(), StatusCode::OK);
    // And a cadre's order link made with the key derived from it opens nothing.
    let (_, link) = crate::worklink::dispatched_with_link(&app).await;
    let genuine = minsheng::domain::worklink::verify(
        app.state.keys.work_link.bytes(),
        link.trim_start_matches("/w/"),
        app.state.now(),
    )
    .unwrap();
    let forged = minsheng::domain::worklink::sign(&old_worklink_key(), &genuine);
    assert_eq!(app.get(&link, None).await.status(), StatusCode::OK);
    let page = app.get(&format!("/w/{forged}"), None).await;
    assert_ne!(page.status(), StatusCode::OK);
    assert!(!page.text().await.unwrap().contains("签收"), "a forged link shows no order");
}

#[tokio::test]
async fn each_purpose_signs_with_its_own_key() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let claims: StaffClaims = serde_json::from_value(claims_of(&admin)).unwrap();
    // A staff token signed with the cadre-link key, the rating-link key or the villager key: refused.
    for key in
        [app.state.keys.work_link.bytes(), app.state.keys.rating_link.bytes(), app.state.keys.one_time_code.bytes()]
    {
        let keys = Keys::new(&SecretString::from(URL_SAFE_NO_PAD.encode(key)));
        let forged = keys.sign(&claims).unwrap();
        assert_eq!(app.get("/api/v1/tickets", Some(&forged)).await.status(), StatusCode::UNAUTHORIZED);
    }
    let forged = app.state.keys.villager.sign(&claims).unwrap();
    assert_eq!(app.get("/api/v1/tickets", Some(&forged)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_second_instance_on_the_same_database_shares_the_generated_secret() {
    let first = spawn_app().await;
    let url = first.state.settings.database.url.expose_secret().to_string();
    let db = minsheng::db::Db::connect(&url, 2).await.unwrap();
    let mut settings = (*first.state.settings).clone();
    settings.application.port = 0;
    let state = minsheng::startup::build_state(settings, db).await.unwrap();
    assert_eq!(state.keys.source, SecretSource::Stored);
    let second = minsheng::startup::Application::with_state(state).unwrap();
    let port = second.port();
    tokio::spawn(second.run_until_stopped());
    let token = first.token("dispatcher").await;
    let r =
        first.client.get(format!("http://127.0.0.1:{port}/api/v1/tickets")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "a token from the first instance works on the second");
    assert_eq!(first.count("SELECT COUNT(*) FROM app_secrets").await, 1);
    // A different database makes its own secret: the first one's tokens mean nothing there.
    let other = spawn_app().await;
    let e = error_of(other.get("/api/v1/tickets", Some(&token)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_invalid");
}

#[tokio::test]
async fn a_configured_secret_is_used_and_the_same_everywhere() {
    let secret = "a-configured-secret-of-more-than-32-bytes-0123";
    let a = spawn_app_with(|s| s.auth.jwt_secret = secret.to_string().into()).await;
    let b = spawn_app_with(|s| s.auth.jwt_secret = secret.to_string().into()).await;
    assert_eq!(a.state.keys.source, SecretSource::Configured);
    assert_eq!(a.count("SELECT COUNT(*) FROM app_secrets").await, 0, "nothing generated or stored");
    assert_eq!(a.state.keys.work_link.bytes(), b.state.keys.work_link.bytes());
}

fn run_minsheng(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minsheng"));
    cmd.args(args).env_remove("MINSHENG__AUTH__JWT_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run minsheng")
}

#[test]
fn production_refuses_to_start_without_a_secret_of_its_own() {
    let db = "sqlite::memory:";
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("MINSHENG_ENVIRONMENT", "production")], "production needs a signing secret"),
        (
            &[("MINSHENG_ENVIRONMENT", "production"), ("MINSHENG__AUTH__JWT_SECRET", PUBLISHED_DEVELOPMENT_KEY)],
            "published",
        ),
        (&[("MINSHENG_ENVIRONMENT", "production"), ("MINSHENG__AUTH__JWT_SECRET", "too-short")], "at least 32 bytes"),
    ];
    for (env, says) in cases {
        let out = run_minsheng(&["serve", "--database", db, "--listen", "127.0.0.1:0"], env);
        assert!(!out.status.success(), "{env:?} must not start");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{env:?}: {err}");
    }
    // Outside production the published key is refused as well.
    let out = run_minsheng(
        &["serve", "--database", db, "--listen", "127.0.0.1:0"],
        &[("MINSHENG__AUTH__JWT_SECRET", PUBLISHED_DEVELOPMENT_KEY)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("published"));
}

// --- 2. paging ---------------------------------------------------------------------------------

#[tokio::test]
async fn every_list_refuses_a_page_that_would_overflow_and_names_the_field() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let lists = [
        "/api/v1/tickets",
        "/api/v1/outbox",
        "/api/v1/cards",
        "/api/v1/staff",
        "/api/v1/regions",
        "/api/v1/units",
        "/api/v1/return-visits/queue",
        "/api/v1/return-visits/unreachable",
        "/api/v1/stats/units",
        "/api/v1/sms/replies",
        "/api/v1/sms/opt-outs",
    ];
    for list in lists {
        assert_eq!(
            app.get(&format!("{list}?page=2&per_page=5"), Some(&admin)).await.status(),
            StatusCode::OK,
            "{list}"
        );
        for (query, field) in [
            ("page=461168601842738800", "page"),
            ("page=0", "page"),
            ("page=x", "page"),
            ("per_page=0", "per_page"),
            ("per_page=101", "per_page"),
        ] {
            let e = error_of(app.get(&format!("{list}?{query}"), Some(&admin)).await, StatusCode::BAD_REQUEST).await;
            assert_eq!(e["field"], field, "{list}?{query}");
            assert!(e["message"].as_str().unwrap().contains('页'), "{e}");
        }
    }
    // The villager's own list too.
    let villager = app.state.keys.villager.sign(&villager_claims("13812345678")).unwrap();
    let e =
        error_of(app.get("/api/v1/me/tickets?page=461168601842738800", Some(&villager)).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(e["field"], "page");
    // And the server is still there.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}

// --- 4. SMS to strangers' phones ------------------------------------------------------------------

async fn intake_from(app: &TestApp, village: &str, phone: &str, ip: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/tickets"))
        .header("X-Forwarded-For", ip)
        .json(&app.intake_body(village, phone))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stranger_cannot_flood_or_lock_out_someone_elses_phone() {
    let app = spawn_app_with(|s| {
        s.limits.trust_forwarded_for = true;
        s.limits.intake_per_phone = Limit { max: 3, window_seconds: 3600 };
        s.limits.confirmation_sms_per_phone = Limit { max: 2, window_seconds: 86400 };
        s.limits.intake_per_ip = Limit { max: 100, window_seconds: 60 };
    })
    .await;
    app.at_window_start();
    let victim = "13912340000";
    let mut filed = 0;
    for i in 0..6 {
        let r = intake_from(&app, "李家庄村", victim, "10.0.0.66").await;
        if r.status() == StatusCode::CREATED {
            filed += 1;
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["confirmation_sms"], json!(i < 2), "{v}");
        } else {
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        }
    }
    assert_eq!(filed, 3, "the stranger's address is limited for that number");
    let confirmations = format!("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation' AND recipient = '{victim}'");
    assert_eq!(app.count(&confirmations).await, 2, "two confirmations a day to one number, however many requests");
    // The owner of the number files from their own phone: accepted (no SMS beyond the day's share).
    let r = intake_from(&app, "李家庄村", victim, "10.0.0.7").await;
    assert_eq!(r.status(), StatusCode::CREATED, "the real villager is not locked out");
    assert_eq!(app.count(&confirmations).await, 2);
    // The page does not promise an SMS it will not send.
    let form = reqwest::multipart::Form::new()
        .text("category", "roads")
        .text("description", "村里小学门口的路灯坏了一个月")
        .text("phone", victim);
    let r = app
        .client
        .post(app.url(&format!("/c/{}", app.card("李家庄村"))))
        .header("X-Forwarded-For", "10.0.0.8")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let page = r.text().await.unwrap();
    assert!(page.contains("短信已达上限") && !page.contains("通过短信发到"), "{page}");
    assert_eq!(app.count(&confirmations).await, 2);
    // A new day, a new share.
    app.state.time.advance(chrono::Duration::days(1));
    assert_eq!(intake_from(&app, "李家庄村", victim, "10.0.0.7").await.status(), StatusCode::CREATED);
    assert_eq!(app.count(&confirmations).await, 3);
}

#[tokio::test]
async fn repeated_urges_are_all_recorded_but_send_one_sms_per_person_per_window() {
    let app = spawn_app().await;
    app.at_window_start();
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let di = app.token("dispatcher").await;
    let leader = app.token("leader").await;
    for i in 0..5 {
        let token = if i % 2 == 0 { &di } else { &leader };
        app.act_ok(token, &no, "urge", json!({"note": format!("请尽快处理（第{}次）", i + 1)})).await;
    }
    let urges = format!(
        "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'urge'"
    );
    let events = format!(
        "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.action = 'urge'"
    );
    assert_eq!(app.count(&events).await, 5, "every urge is on the ledger");
    // One message per person: the first urge only.
    let first = app.count(&urges).await;
    assert!(first >= 1, "the first urge is sent");
    app.act_ok(&di, &no, "urge", json!({})).await;
    assert_eq!(app.count(&urges).await, first, "still throttled");
    app.state.time.advance(chrono::Duration::minutes(31));
    app.act_ok(&di, &no, "urge", json!({})).await;
    assert_eq!(app.count(&urges).await, first * 2, "after the window one more each");
    let t = app.ticket(&di, &no).await;
    let last_urges: Vec<&Value> = t["events"].as_array().unwrap().iter().filter(|e| e["action"] == "urge").collect();
    assert_eq!(last_urges.len(), 7);
}

// --- 5. logins and tokens ----------------------------------------------------------------------------

async fn login_from(app: &TestApp, username: &str, password: &str, ip: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", ip)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wrong_password_and_unknown_user_take_the_same_time() {
    let app = spawn_app_with(|s| s.limits.trust_forwarded_for = true).await;
    app.at_window_start();
    let (mut known, mut unknown) = (vec![], vec![]);
    // Four failures each (below the lock), interleaved; the old code slept 150 ms × failures for real
    // accounts only. The fastest of each is compared: load on a shared machine only ever adds time.
    for i in 0..4 {
        let t = std::time::Instant::now();
        let a = login_from(&app, "caller", "wrong", "10.1.0.1").await;
        known.push(t.elapsed());
        let t = std::time::Instant::now();
        let b = login_from(&app, "nobody-here", "wrong", "10.1.0.2").await;
        unknown.push(t.elapsed());
        let (a, b) = (a.json::<Value>().await.unwrap(), b.json::<Value>().await.unwrap());
        assert_eq!(a, b, "same answer, attempt {i}");
    }
    let (k, u) = (known.iter().min().unwrap(), unknown.iter().min().unwrap());
    assert!(k.abs_diff(*u) < std::time::Duration::from_millis(100), "known {known:?} vs unknown {unknown:?}");
}

#[tokio::test]
async fn a_stranger_locks_only_their_own_address_and_unknown_names_lock_alike() {
    let app = spawn_app_with(|s| s.limits.trust_forwarded_for = true).await;
    app.at_window_start();
    for _ in 0..4 {
        assert_eq!(login_from(&app, "caller", "guess", "10.2.0.66").await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(login_from(&app, "no-such-name", "guess", "10.2.0.66").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The fifth failure locks that name at that address, whether the name exists or not.
    let a = error_of(login_from(&app, "caller", "guess", "10.2.0.66").await, StatusCode::TOO_MANY_REQUESTS).await;
    let b = error_of(login_from(&app, "no-such-name", "guess", "10.2.0.66").await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(a, b);
    assert_eq!(a["code"], "login_locked");
    let e = error_of(login_from(&app, "caller", PASSWORD, "10.2.0.66").await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "login_locked");
    // The caller at their own desk is not locked out.
    assert_eq!(login_from(&app, "caller", PASSWORD, "10.2.0.10").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn many_addresses_guessing_at_one_account_lock_it_and_raise_an_alert() {
    let app = spawn_app_with(|s| {
        s.limits.trust_forwarded_for = true;
        s.auth.account_max_failed_logins = 12;
    })
    .await;
    app.at_window_start();
    let alerts = || {
        app.state
            .prometheus
            .as_ref()
            .map(|h| h.render())
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("minsheng_account_lockouts_total") && !l.ends_with(" 0"))
    };
    for ip in 0..4 {
        for _ in 0..3 {
            let r = login_from(&app, "leader", "guess", &format!("10.3.0.{ip}")).await;
            assert!(matches!(r.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
        }
    }
    let e = error_of(login_from(&app, "leader", PASSWORD, "10.3.9.9").await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "account_locked");
    assert!(alerts(), "the lockout is counted for alerting");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff WHERE username = 'leader' AND locked_until IS NOT NULL").await, 1);
    app.state.time.advance(chrono::Duration::minutes(61));
    assert_eq!(login_from(&app, "leader", PASSWORD, "10.3.9.9").await.status(), StatusCode::OK);
}

async fn refresh(app: &TestApp, token: &Value) -> reqwest::Response {
    app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": token})).await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_login() {
    let app = spawn_app().await;
    let first: Value = app.login("leader", PASSWORD).await.json().await.unwrap();
    let other_login: Value = app.login("leader", PASSWORD).await.json().await.unwrap();
    let second: Value = refresh(&app, &first["refresh_token"]).await.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let third: Value = refresh(&app, &second["refresh_token"]).await.json().await.unwrap();
    assert!(third["access_token"].is_string());
    // The first refresh token again: copied. The whole login is revoked, access tokens included.
    let e = error_of(refresh(&app, &first["refresh_token"]).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_reused");
    let e = error_of(refresh(&app, &third["refresh_token"]).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_revoked");
    let e = error_of(app.get("/api/v1/stats/summary", third["access_token"].as_str()).await, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(e["code"], "token_revoked");
    // Another login of the same person is untouched.
    assert_eq!(app.get("/api/v1/stats/summary", other_login["access_token"].as_str()).await.status(), StatusCode::OK);
    assert_eq!(refresh(&app, &other_login["refresh_token"]).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_uses_of_one_refresh_token_at_once_cannot_both_win() {
    let app = std::sync::Arc::new(spawn_app().await);
    let login: Value = app.login("leader", PASSWORD).await.json().await.unwrap();
    let mut uses = vec![];
    for _ in 0..4 {
        let (app, token) = (app.clone(), login["refresh_token"].clone());
        uses.push(tokio::spawn(async move { refresh(&app, &token).await.status() }));
    }
    let mut ok = 0;
    for u in uses {
        if u.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert!(ok <= 1, "{ok} parallel refreshes with one token succeeded");
}

#[tokio::test]
async fn new_roles_or_deactivation_stop_every_token_at_once() {
    let app = spawn_app().await;
    let login: Value = app.login("dispatcher", PASSWORD).await.json().await.unwrap();
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/tickets", Some(access)).await.status(), StatusCode::OK);
    let id = login["staff"]["id"].as_i64().unwrap();
    minsheng::repo::staff::update_access(&app.state.db.conn, id, Some("caller"), None).await.unwrap();
    let e = error_of(app.get("/api/v1/tickets", Some(access)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_revoked");
    assert_eq!(refresh(&app, &login["refresh_token"]).await.status(), StatusCode::UNAUTHORIZED);
    // Signing in again gives the new roles.
    let fresh: Value = app.login("dispatcher", PASSWORD).await.json().await.unwrap();
    assert_eq!(fresh["staff"]["roles"], json!(["caller"]));
    minsheng::repo::staff::update_access(&app.state.db.conn, id, None, Some(false)).await.unwrap();
    let e = error_of(app.get("/api/v1/tickets", fresh["access_token"].as_str()).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "token_revoked");
    assert_eq!(app.login("dispatcher", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
}

// --- 9. text hygiene ---------------------------------------------------------------------------

#[tokio::test]
async fn invisible_text_fills_no_minimum_and_control_characters_are_refused_by_name() {
    let app = spawn_app().await;
    let tickets = "SELECT COUNT(*) FROM tickets";
    let before = app.count(tickets).await;
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["description"] = json!("\u{200B}\u{200B}\u{200C}\u{200D}\u{FEFF}\u{2060}\u{200E}\u{200F}");
    let e = error_of(app.intake(&body, None).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "description");
    for (field, value) in
        [("description", "自来水停了\u{0}三天"), ("name", "张\u{1B}[31m三"), ("address", "村东\u{7}头")]
    {
        let mut body = app.intake_body("李家庄村", "13812345678");
        body[field] = json!(value);
        let e = error_of(app.intake(&body, None).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field);
        assert!(e["message"].as_str().unwrap().contains("控制字符"), "{e}");
    }
    assert_eq!(app.count(tickets).await, before, "nothing was written");
    // Direction overrides are dropped, the rest kept.
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["description"] = json!("村东头\u{202E}水管破裂\u{202C}，请尽快处理");
    let no = app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &no).await["description"], "村东头水管破裂，请尽快处理");
    // Action notes go through the same check.
    let op = app.token("operator").await;
    let e = error_of(app.act(&op, &no, "register", json!({"note": "a\u{0}b"})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "note");
    let e =
        error_of(app.act(&op, &no, "invalid", json!({"reason": "\u{200B}\u{200B}"})).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(e["field"], "reason");
    assert_eq!(app.ticket(&di, &no).await["status"], "submitted");
}

#[tokio::test]
async fn control_characters_in_a_path_or_query_are_refused_by_name() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    for (path, field) in [
        ("/api/v1/tickets?q=%E6%B0%B4%00", "q"),
        ("/api/v1/outbox?ticket_no=2026%00", "ticket_no"),
        ("/api/v1/cards/ab%00cd", "path"),
        ("/api/v1/tickets/20261201-000001%1B/public?phone_tail=1234", "path"),
    ] {
        let e = error_of(app.get(path, Some(&admin)).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{path}");
        assert!(e["message"].as_str().unwrap().contains("控制字符"));
    }
    // Plain text still searches.
    assert_eq!(app.get("/api/v1/tickets?q=%E6%B0%B4", Some(&admin)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_form_with_endless_text_fields_is_refused_before_it_grows() {
    let app = spawn_app().await;
    let code = app.card("李家庄村");
    let boundary = "----minsheng-many-fields";
    let mut body = String::new();
    for i in 0..200 {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n{}\r\n",
            "x".repeat(1000)
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let before = app.count("SELECT COUNT(*) FROM tickets").await;
    let r = app
        .client
        .post(app.url(&format!("/c/{code}")))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    // The no-JS page shows its form again with the message.
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("字段过多"));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, before);
}

// --- 11. tracking guesses ------------------------------------------------------------------------

#[tokio::test]
async fn new_addresses_get_no_fresh_guesses_at_the_same_ticket() {
    let app = spawn_app_with(|s| {
        s.limits.trust_forwarded_for = true;
        s.limits.track_failures_per_ip = Limit { max: 3, window_seconds: 600 };
        s.limits.track_failures_per_ticket = Limit { max: 5, window_seconds: 3600 };
    })
    .await;
    app.at_window_start();
    let no = app.file("李家庄村", "13812345678").await;
    let other = app.file("李家庄村", "13812349999").await;
    let track = |no: String, tail: &'static str, ip: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/api/v1/tickets/{no}/public?phone_tail={tail}")))
                .header("X-Forwarded-For", ip)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Five addresses, one wrong guess each: the ticket's share is used up.
    for i in 0..5 {
        assert_eq!(track(no.clone(), "0000", format!("10.4.0.{i}")).await, StatusCode::NOT_FOUND);
    }
    assert_eq!(track(no.clone(), "1111", "10.4.1.1".into()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(track(no.clone(), "5678", "10.4.1.2".into()).await, StatusCode::TOO_MANY_REQUESTS);
    // Other tickets are unaffected.
    assert_eq!(track(other.clone(), "9999", "10.4.1.3".into()).await, StatusCode::OK);
    app.state.time.advance(chrono::Duration::minutes(61));
    assert_eq!(track(no.clone(), "5678", "10.4.1.2".into()).await, StatusCode::OK);
}

// --- 12. one-time codes --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_code_guesses_cannot_exceed_the_attempt_limit() {
    let app = std::sync::Arc::new(spawn_app().await);
    let phone = "13812345678";
    assert_eq!(app.post("/api/v1/auth/otp", None, &json!({"phone": phone})).await.status(), StatusCode::ACCEPTED);
    let code = crate::villagers::code_sent_to(&app, phone).await;
    let mut guesses = vec![];
    for i in 0..20 {
        let app = app.clone();
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        guesses.push(tokio::spawn(async move {
            app.post("/api/v1/auth/otp/verify", None, &json!({"phone": phone, "code": guess})).await.status()
        }));
    }
    let mut wrong = 0;
    for g in guesses {
        match g.await.unwrap() {
            StatusCode::UNAUTHORIZED => wrong += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(wrong <= 4, "{wrong} guesses were compared; the limit is 5 attempts with the fifth locking");
    // Even the right code is refused now: the attempts are used up.
    let r = app.post("/api/v1/auth/otp/verify", None, &json!({"phone": phone, "code": code})).await;
    assert_eq!(error_of(r, StatusCode::TOO_MANY_REQUESTS).await["code"], "otp_locked");
}

// --- 13. link tokens in the outbox ------------------------------------------------------------

#[tokio::test]
async fn the_outbox_listing_masks_link_tokens() {
    let app = spawn_app().await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13812345678").await;
    let admin = app.token("admin").await;
    for kind in ["assignment", "rating_request"] {
        let stored = app.sent_body(&no, kind).await;
        let marker = if kind == "assignment" { "/w/" } else { "/r/" };
        let token: String = stored.split(marker).nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        let token: String = token.chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
        assert!(token.len() > 8, "{stored}");
        let list: Value =
            app.get(&format!("/api/v1/outbox?ticket_no={no}&kind={kind}"), Some(&admin)).await.json().await.unwrap();
        let shown = list["items"][0]["body"].as_str().unwrap();
        assert!(shown.contains(marker) && !shown.contains(&token), "{shown}");
        let id = list["items"][0]["id"].as_i64().unwrap();
        let one: Value = app.get(&format!("/api/v1/outbox/{id}"), Some(&admin)).await.json().await.unwrap();
        assert!(!one["body"].as_str().unwrap().contains(&token));
    }
}

// --- 6. WeChat off ---------------------------------------------------------------------------------

#[tokio::test]
async fn wechat_login_without_wechat_configured_is_a_client_error() {
    let app = spawn_app().await;
    let e = error_of(app.post("/api/v1/auth/wechat", None, &json!({"code": "abc"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "wechat_disabled");
    assert!(e["message"].as_str().unwrap().contains("微信"));
}
