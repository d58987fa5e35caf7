//! WeChat subscribe messages (issue 19 point 5) against a local fake of the WeChat API: villagers
//! who filed through the mini-program and accepted a template hear of the order's acceptance and
//! resolution by WeChat (the rating page included), the others by SMS as before; a refusal (43101)
//! or the last failed attempt writes the SMS fallback; the access token is cached, refreshed before
//! it expires and once on 40001.
use crate::helpers::{TestApp, error_of, spawn_app_with};
use minsheng::workers::wechat::{Pass, run_pass};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCEPTED_TPL: &str = "tpl-accepted-0001";
const RESOLVED_TPL: &str = "tpl-resolved-0002";
const PHONE: &str = "13812340519";

async fn app_with(fake: &MockServer, adjust: impl FnOnce(&mut minsheng::configuration::Settings)) -> TestApp {
    let base = fake.uri();
    spawn_app_with(move |s| {
        s.wechat.base_url = base;
        s.wechat.appid = "wx-test-appid".into();
        s.wechat.secret = "wx-test-secret".to_string().into();
        s.wechat.subscribe.accepted.template_id = ACCEPTED_TPL.into();
        s.wechat.subscribe.resolved.template_id = RESOLVED_TPL.into();
        s.wechat.subscribe.miniprogram_state = "trial".into();
        adjust(s);
    })
    .await
}

/// The fake's login: `wx.login` code `code-{openid}` gives that openid.
async fn mount_login(fake: &MockServer) {
    for openid in ["o-villager-a", "o-villager-b"] {
        Mock::given(method("GET"))
            .and(path("/sns/jscode2session"))
            .and(query_param("js_code", format!("code-{openid}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"openid": openid, "session_key": "k"})))
            .mount(fake)
            .await;
    }
}

/// `cgi-bin/token` answering `token`, checked for its parameters.
fn token_mock(token: &str) -> Mock {
    Mock::given(method("GET"))
        .and(path("/cgi-bin/token"))
        .and(query_param("grant_type", "client_credential"))
        .and(query_param("appid", "wx-test-appid"))
        .and(query_param("secret", "wx-test-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": token, "expires_in": 7200})))
}

fn send_mock(token: &str, answer: ResponseTemplate) -> Mock {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/message/subscribe/send"))
        .and(query_param("access_token", token))
        .respond_with(answer)
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok", "msgid": 3141592653u64}))
}

async fn villager_token(app: &TestApp, openid: &str) -> String {
    let r = app.post("/api/v1/auth/wechat", None, &json!({"code": format!("code-{openid}")})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// Files from the mini-program (as `openid`), registers and dispatches to the village committee.
async fn file_and_dispatch(app: &TestApp, vt: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(vt)
        .json(&app.intake_body("杏花村", PHONE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("杏花村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    no
}

async fn subscribe(app: &TestApp, vt: &str, no: &str, ids: &[&str]) -> reqwest::Response {
    app.post(&format!("/api/v1/tickets/{no}/wechat-subscriptions"), Some(vt), &json!({"template_ids": ids})).await
}

async fn outbox_rows(app: &TestApp, no: &str, channel: &str, kind: &str, status: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' \
         AND o.channel = '{channel}' AND o.kind = '{kind}' AND o.status = '{status}'"
    ))
    .await
}

async fn one_text(app: &TestApp, sql: &str) -> String {
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    use sea_orm::ConnectionTrait;
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("a row");
    row.try_get_by_index::<String>(0).unwrap()
}

/// The bodies WeChat received at `subscribe/send`, in order.
async fn sends(fake: &MockServer) -> Vec<(String, Value)> {
    let mut out = vec![];
    for r in fake.received_requests().await.unwrap_or_default() {
        if r.url.path() == "/cgi-bin/message/subscribe/send" {
            let token = r.url.query_pairs().find(|(k, _)| k == "access_token").map(|(_, v)| v.to_string());
            out.push((token.unwrap_or_default(), serde_json::from_slice(&r.body).unwrap()));
        }
    }
    out
}

async fn token_calls(fake: &MockServer) -> usize {
    fake.received_requests().await.unwrap_or_default().iter().filter(|r| r.url.path() == "/cgi-bin/token").count()
}

#[tokio::test]
async fn a_subscribed_villager_hears_of_acceptance_and_resolution_by_wechat_with_the_rating_page() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").expect(1).mount(&fake).await;
    send_mock("TOKEN-1", ok()).expect(2).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;

    let r = subscribe(&app, &vt, &no, &[ACCEPTED_TPL, RESOLVED_TPL]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["recorded"].as_i64(), v["accepted"].as_i64(), v["resolved"].as_i64()), (Some(2), Some(1), Some(1)));

    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    assert_eq!(outbox_rows(&app, &no, "wechat", "accepted", "pending").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND kind = 'accepted'").await, 0);
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(pass, Pass { claimed: 1, sent: 1, ..Pass::default() });
    assert_eq!(outbox_rows(&app, &no, "wechat", "accepted", "sent").await, 1);

    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    // The rating prompt goes by WeChat, not by SMS.
    assert_eq!(outbox_rows(&app, &no, "wechat", "rating_request", "pending").await, 1);
    assert_eq!(outbox_rows(&app, &no, "sms", "rating_request", "pending").await, 0);
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(outbox_rows(&app, &no, "wechat", "rating_request", "sent").await, 1);
    let msgid = one_text(&app, "SELECT provider_message_id FROM outbox WHERE kind = 'rating_request'").await;
    assert_eq!(msgid, "3141592653");

    let sent = sends(&fake).await;
    assert_eq!(sent.len(), 2);
    let (token, accepted) = &sent[0];
    assert_eq!(token, "TOKEN-1");
    assert_eq!(accepted["touser"], "o-villager-a");
    assert_eq!(accepted["template_id"], ACCEPTED_TPL);
    assert_eq!(accepted["page"], format!("pages/ticket/index?no={no}"));
    assert_eq!(accepted["miniprogram_state"], "trial");
    assert_eq!(accepted["lang"], "zh_CN");
    let data = accepted["data"].as_object().unwrap();
    assert_eq!(data.keys().cloned().collect::<Vec<_>>(), ["character_string1", "phrase3", "thing2", "time4"]);
    assert_eq!(data["character_string1"], json!({"value": no}));
    assert_eq!(data["phrase3"], json!({"value": "已签收"}));
    // "村东头自来水停了三天了，请尽快处理" is 17 characters: within a thing's 20.
    assert_eq!(data["thing2"], json!({"value": "村东头自来水停了三天了，请尽快处理"}));
    let time = data["time4"]["value"].as_str().unwrap();
    assert!(time.contains('年') && time.contains('月') && time.contains(':'), "{time}");

    let (_, resolved) = &sent[1];
    assert_eq!(resolved["template_id"], RESOLVED_TPL);
    assert_eq!(resolved["data"]["phrase3"], json!({"value": "已办结"}));
    assert_eq!(resolved["data"]["thing5"], json!({"value": "请点击评价办理结果"}));
    // The page is the mini-program's rating page with the signed rating token: it rates.
    let page = resolved["page"].as_str().unwrap();
    let prefix = format!("pages/rating/index?no={no}&token=");
    assert!(page.starts_with(&prefix), "{page}");
    let rating_token = &page[prefix.len()..];
    let r = app
        .post(
            &format!("/api/v1/tickets/{no}/rating"),
            None,
            &json!({"token": rating_token, "satisfaction": "satisfied"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Each allowance was used once, by its message; the access token was fetched once for both.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM wechat_subscriptions WHERE used_at IS NOT NULL AND outbox_id IS NOT NULL")
            .await,
        2
    );
    assert_eq!(token_calls(&fake).await, 1);
    // Nothing left to send, nothing sent twice.
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap(), Pass::default());
}

#[tokio::test]
async fn without_a_subscription_the_villager_gets_the_sms_as_before() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").expect(0).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    // The villager signed in through WeChat but accepted no template.
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'wechat'").await, 0);
    // No SMS for the acceptance (there never was one); the rating SMS as today.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'accepted'").await, 0);
    assert_eq!(outbox_rows(&app, &no, "sms", "rating_request", "pending").await, 1);
    let body = app.sent_body(&no, "rating_request").await;
    assert!(body.contains(&no) && body.contains("/r/"), "{body}");
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap(), Pass::default());
}

#[tokio::test]
async fn an_allowance_for_one_event_does_not_cover_the_other() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    assert_eq!(subscribe(&app, &vt, &no, &[ACCEPTED_TPL]).await.status(), StatusCode::OK);
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    assert_eq!(outbox_rows(&app, &no, "wechat", "accepted", "pending").await, 1);
    assert_eq!(outbox_rows(&app, &no, "wechat", "rating_request", "pending").await, 0);
    assert_eq!(outbox_rows(&app, &no, "sms", "rating_request", "pending").await, 1);
}

#[tokio::test]
async fn a_refusal_43101_writes_the_sms_fallback_once() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").mount(&fake).await;
    let refused =
        ResponseTemplate::new(200).set_body_json(json!({"errcode": 43101, "errmsg": "user refuse to accept the msg"}));
    send_mock("TOKEN-1", refused).expect(2).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    subscribe(&app, &vt, &no, &[ACCEPTED_TPL, RESOLVED_TPL]).await;
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;

    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(pass, Pass { claimed: 2, dead: 2, fallbacks: 2, ..Pass::default() });
    assert_eq!(outbox_rows(&app, &no, "wechat", "rating_request", "dead").await, 1);
    let error =
        one_text(&app, "SELECT last_error FROM outbox WHERE channel = 'wechat' AND kind = 'rating_request'").await;
    assert!(error.contains("43101"), "{error}");
    // The villager still hears: the same SMS as without WeChat, to the phone given when filing.
    assert_eq!(outbox_rows(&app, &no, "sms", "rating_request", "pending").await, 1);
    assert_eq!(outbox_rows(&app, &no, "sms", "accepted", "pending").await, 1);
    let wechat_id = app.count("SELECT id FROM outbox WHERE channel = 'wechat' AND kind = 'rating_request'").await;
    let sms = one_text(
        &app,
        &format!("SELECT recipient || ' ' || body FROM outbox WHERE dedup_key = 'wechat:fallback:{wechat_id}'"),
    )
    .await;
    assert!(sms.starts_with(PHONE) && sms.contains("已办结，请评价") && sms.contains("/r/"), "{sms}");
    let accepted = app.sent_body(&no, "accepted").await;
    assert!(accepted.contains(&no) && accepted.contains("签收"), "{accepted}");
    // The SMS worker sends it like any other.
    minsheng::workers::outbox::run_once(&app.state, app.state.now()).await.unwrap();
    let sql = "SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'wechat:fallback:%' AND status = 'sent'";
    assert_eq!(app.count(sql).await, 2);
    // Nothing is sent twice, and no second fallback.
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap(), Pass::default());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND dedup_key LIKE 'wechat:fallback:%'").await,
        2
    );
}

#[tokio::test]
async fn an_invalid_token_40001_is_refreshed_once_and_the_message_resent() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-OLD").up_to_n_times(1).expect(1).mount(&fake).await;
    token_mock("TOKEN-NEW").expect(1).mount(&fake).await;
    let invalid = ResponseTemplate::new(200).set_body_json(
        json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}),
    );
    send_mock("TOKEN-OLD", invalid).expect(1).mount(&fake).await;
    send_mock("TOKEN-NEW", ok()).expect(2).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    subscribe(&app, &vt, &no, &[ACCEPTED_TPL, RESOLVED_TPL]).await;
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(pass, Pass { claimed: 1, sent: 1, ..Pass::default() });
    let sent = sends(&fake).await;
    assert_eq!(sent.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["TOKEN-OLD", "TOKEN-NEW"]);
    assert_eq!(sent[0].1, sent[1].1, "the same message, resent");
    // The fresh token is the cached one now: the next message needs no refresh.
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(token_calls(&fake).await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND kind IN ('accepted', 'rating_request')").await,
        0
    );
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").up_to_n_times(1).mount(&fake).await;
    token_mock("TOKEN-2").mount(&fake).await;
    send_mock("TOKEN-1", ok()).expect(1).mount(&fake).await;
    send_mock("TOKEN-2", ok()).expect(1).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    subscribe(&app, &vt, &no, &[ACCEPTED_TPL, RESOLVED_TPL]).await;
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    // 7200 s tokens are refreshed 300 s early: at 6,950 s the cached one is not used any more.
    app.state.time.advance(chrono::Duration::seconds(6950));
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(token_calls(&fake).await, 2);
}

#[tokio::test]
async fn a_server_error_is_retried_later_and_the_last_failure_falls_back_to_sms() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").expect(1).mount(&fake).await;
    send_mock("TOKEN-1", ResponseTemplate::new(502)).up_to_n_times(1).mount(&fake).await;
    send_mock("TOKEN-1", ok()).up_to_n_times(1).mount(&fake).await;
    send_mock("TOKEN-1", ResponseTemplate::new(503)).mount(&fake).await;
    let app = app_with(&fake, |s| s.wechat.subscribe.max_attempts = 2).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let no = file_and_dispatch(&app, &vt).await;
    subscribe(&app, &vt, &no, &[ACCEPTED_TPL, RESOLVED_TPL]).await;
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;

    // 502: pending again, one attempt counted, not due before its backoff.
    assert_eq!(
        run_pass(&app.state, app.state.now()).await.unwrap(),
        Pass { claimed: 1, retried: 1, ..Pass::default() }
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'wechat' AND status = 'pending' AND attempts = 1").await,
        1
    );
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap(), Pass::default());
    app.state.time.advance(chrono::Duration::minutes(2));
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(outbox_rows(&app, &no, "wechat", "accepted", "sent").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND kind = 'accepted'").await, 0);

    // The resolution meets 503 twice: after the last attempt, dead and the rating SMS instead.
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().retried, 1);
    app.state.time.advance(chrono::Duration::minutes(2));
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(pass, Pass { claimed: 1, dead: 1, fallbacks: 1, ..Pass::default() });
    assert_eq!(outbox_rows(&app, &no, "wechat", "rating_request", "dead").await, 1);
    assert_eq!(outbox_rows(&app, &no, "sms", "rating_request", "pending").await, 1);
}

#[tokio::test]
async fn subscriptions_are_the_requesters_own_and_name_this_countys_templates() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    let app = app_with(&fake, |s| s.wechat.subscribe.max_unused_per_template = 2).await;
    let vt = villager_token(&app, "o-villager-a").await;
    let other = villager_token(&app, "o-villager-b").await;
    let no = file_and_dispatch(&app, &vt).await;

    let e = error_of(subscribe(&app, &vt, &no, &["tpl-unknown"]).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "template_ids");
    assert!(e["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    let e = error_of(
        app.post(&format!("/api/v1/tickets/{no}/wechat-subscriptions"), Some(&vt), &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "template_ids");
    // Another villager's ticket is not found; without a villager sign-in, 401.
    error_of(subscribe(&app, &other, &no, &[ACCEPTED_TPL]).await, StatusCode::NOT_FOUND).await;
    let r = app.post(&format!("/api/v1/tickets/{no}/wechat-subscriptions"), None, &json!({"template_ids": []})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Each tap adds one allowance, up to the cap.
    for _ in 0..3 {
        assert_eq!(subscribe(&app, &vt, &no, &[ACCEPTED_TPL]).await.status(), StatusCode::OK);
    }
    let v: Value = subscribe(&app, &vt, &no, &[]).await.json().await.unwrap();
    assert_eq!((v["recorded"].as_i64(), v["accepted"].as_i64(), v["resolved"].as_i64()), (Some(0), Some(2), Some(0)));
    assert_eq!(app.count("SELECT COUNT(*) FROM wechat_subscriptions").await, 2);

    // A county without subscribe templates answers that the feature is off.
    let bare = app_with(&fake, |s| {
        s.wechat.subscribe.accepted.template_id.clear();
        s.wechat.subscribe.resolved.template_id.clear();
    })
    .await;
    let vt = villager_token(&bare, "o-villager-a").await;
    let no = file_and_dispatch(&bare, &vt).await;
    let e = error_of(subscribe(&bare, &vt, &no, &[ACCEPTED_TPL]).await, StatusCode::FORBIDDEN).await;
    assert_eq!(e["code"], "wechat_disabled");
}

#[tokio::test]
async fn concurrent_senders_share_one_token_refresh() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({"access_token": "TOKEN-1", "expires_in": 7200}))
        .set_delay(std::time::Duration::from_millis(200));
    Mock::given(method("GET")).and(path("/cgi-bin/token")).respond_with(slow).expect(1).mount(&fake).await;
    let app = app_with(&fake, |_| {}).await;
    let s = &app.state;
    let fetch = || {
        minsheng::wechat::access_token(
            &s.http,
            s.kv().as_ref(),
            &s.wechat_token_refresh,
            &s.settings.wechat,
            s.now(),
            None,
        )
    };
    let tokens = futures_util::future::join_all((0..6).map(|_| fetch())).await;
    assert!(tokens.iter().all(|t| t.as_deref() == Ok("TOKEN-1")), "{tokens:?}");
    assert_eq!(token_calls(&fake).await, 1);
}

#[tokio::test]
async fn progress_waits_out_the_quiet_hours() {
    let fake = MockServer::start().await;
    mount_login(&fake).await;
    token_mock("TOKEN-1").mount(&fake).await;
    send_mock("TOKEN-1", ok()).expect(1).mount(&fake).await;
    let app = app_with(&fake, |s| s.sms.quiet_hours.enabled = true).await;
    let vt = villager_token(&app, "o-villager-a").await;
    // 23:00 in the county (UTC+8).
    let night = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap().and_hms_opt(15, 0, 0).unwrap().and_utc();
    app.set_time(night);
    let no = file_and_dispatch(&app, &vt).await;
    subscribe(&app, &vt, &no, &[ACCEPTED_TPL]).await;
    let ca = app.token("xinghua").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    assert_eq!(
        run_pass(&app.state, app.state.now()).await.unwrap(),
        Pass { claimed: 1, deferred: 1, ..Pass::default() }
    );
    assert_eq!(sends(&fake).await.len(), 0);
    // Just after 08:00 the next morning it goes.
    app.set_time(night + chrono::Duration::hours(9) + chrono::Duration::minutes(1));
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(outbox_rows(&app, &no, "wechat", "accepted", "sent").await, 1);
}
