//! The provider adapters against local fakes that check the exact request (signature recomputed)
//! and answer in the providers' real shapes; errors land in the right class.
use crate::helpers::spawn_app_with;
use crate::sms_fakes::{self, Answer};
use crate::sms_support::{CADRE_PHONE, dispatched, message, reload};
use chrono::Duration;
use minsheng::workers::outbox::run_pass;

#[tokio::test]
async fn aliyun_assignment_goes_out_signed_with_the_outbox_id_as_out_id() {
    let fake = sms_fakes::aliyun().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &fake.uri());
    })
    .await;
    let no = dispatched(&app, "13812345678").await;
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((pass.sent, pass.retried, pass.dead), (2, 0, 0), "confirmation and assignment");
    assert_eq!(fake.bad_signatures(), 0);
    let m = message(&app, &no, "assignment").await;
    let seen = fake.seen();
    let s = seen.iter().find(|s| s.template == "SMS_300000001").expect("assignment request");
    assert_eq!(s.key, m.id.to_string(), "OutId is the outbox id");
    assert_eq!(s.phone, CADRE_PHONE);
    assert_eq!(s.params["no"], no);
    assert_eq!(s.params["village"], "李家庄村");
    assert_eq!(s.params["category"], "停水断水");
    assert!(s.params["deadline"].as_str().unwrap().contains('月'));
    assert_eq!(m.status.as_str(), "sent");
    assert_eq!(m.provider.map(|p| p.as_str()), Some("aliyun"));
    assert_eq!(m.provider_message_id.as_deref(), fake.accepted().get(&s.key).map(String::as_str));
    assert!(m.provider_message_id.unwrap().ends_with("^0"));
}

#[tokio::test]
async fn aliyun_legacy_rpc_signature_is_accepted_by_the_fake() {
    let fake = sms_fakes::aliyun().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &fake.uri());
        s.sms.aliyun.signature = "rpc".into();
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(fake.bad_signatures(), 0);
    assert_eq!(fake.seen()[0].template, "SMS_300000002");
    assert_eq!(message(&app, &no, "confirmation").await.status.as_str(), "sent");
}

#[tokio::test]
async fn a_wrong_secret_is_caught_by_the_fake_and_counts_as_a_provider_fault() {
    let fake = sms_fakes::aliyun().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &fake.uri());
        s.sms.aliyun.access_key_secret = secrecy::SecretString::from("not-the-secret");
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    let pass = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((pass.sent, pass.retried), (0, 1));
    assert_eq!(fake.bad_signatures(), 1);
    let m = message(&app, &no, "confirmation").await;
    assert_eq!(m.status.as_str(), "pending");
    assert!(m.last_error.unwrap().contains("SignatureDoesNotMatch"));
}

#[tokio::test]
async fn tencent_sends_positional_parameters_and_session_context() {
    let fake = sms_fakes::tencent().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "tencent".into();
        sms_fakes::use_tencent(s, &fake.uri());
    })
    .await;
    let no = dispatched(&app, "13812345678").await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 2);
    assert_eq!(fake.bad_signatures(), 0);
    let m = message(&app, &no, "assignment").await;
    let seen = fake.seen();
    let s = seen.iter().find(|s| s.template == "1000001").expect("assignment request");
    assert_eq!(s.key, m.id.to_string(), "SessionContext is the outbox id");
    assert_eq!(s.phone, format!("+86{CADRE_PHONE}"));
    let set: Vec<&str> = s.params.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(set[..3], [no.as_str(), "停水断水", "李家庄村"]);
    assert_eq!(set.len(), 5, "no, category, village, deadline, the order link's token");
    assert!(!set[4].is_empty() && !set[4].contains("://"), "the token, not a URL: {}", set[4]);
    assert!(m.provider_message_id.unwrap().starts_with("2026:"));
}

#[tokio::test]
async fn the_http_gateway_gets_a_signed_body_and_an_idempotency_key() {
    let fake = sms_fakes::http().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "http".into();
        sms_fakes::use_http(s, &fake.uri());
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(fake.bad_signatures(), 0);
    let m = message(&app, &no, "confirmation").await;
    let s = &fake.seen()[0];
    assert_eq!(s.key, format!("minsheng-{}", m.id));
    assert_eq!(s.phone, "13812345678");
    assert_eq!(s.params["content"], m.body.as_str());
    assert_eq!(s.params["params"]["no"], no.as_str());
    assert_eq!(m.provider_message_id.as_deref(), Some("gw-1"));
}

#[tokio::test]
async fn aliyun_errors_fall_into_rejected_transient_deferred_and_timeout() {
    let fake = sms_fakes::aliyun().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &fake.uri());
        s.sms.aliyun.common.timeout_ms = 300;
    })
    .await;
    let cases = [
        (Answer::Code("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"), "dead", 1, "isv.MOBILE_NUMBER_ILLEGAL"),
        (Answer::Code("isp.SYSTEM_ERROR", "系统错误"), "pending", 1, "isp.SYSTEM_ERROR"),
        (Answer::Http(503, "<html>Service Unavailable</html>"), "pending", 1, "HTTP 503"),
        (Answer::Hang(std::time::Duration::from_secs(2)), "pending", 1, "timeout"),
        (Answer::Code("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"), "pending", 1, "isv.AMOUNT_NOT_ENOUGH"),
        (Answer::Code("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"), "pending", 0, "BUSINESS_LIMIT_CONTROL"),
    ];
    for (i, (answer, status, attempts, error)) in cases.into_iter().enumerate() {
        // A number of its own each: confirmations to one number are capped per day.
        let no = app.file("李家庄村", &format!("138123456{i:02}")).await;
        fake.script([answer.clone()]);
        let now = app.state.now();
        run_pass(&app.state, now).await.unwrap();
        let m = message(&app, &no, "confirmation").await;
        assert_eq!((m.status.as_str(), m.attempts), (status, attempts), "{answer:?}");
        assert!(m.last_error.as_deref().unwrap_or_default().contains(error), "{answer:?}: {:?}", m.last_error);
        if attempts == 0 {
            // Deferred to the next natural minute (county time), not counted as an attempt.
            assert!(
                m.next_attempt_at > now && m.next_attempt_at <= now + Duration::seconds(66),
                "{}",
                m.next_attempt_at
            );
        }
        // Out of the way of the next case.
        let tx = app.state.db.begin().await.unwrap();
        minsheng::repo::outbox::mark_failed(&*tx, m.id, "test", true, now).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn tencent_errors_fall_into_rejected_deferred_and_provider_fault() {
    let fake = sms_fakes::tencent().await;
    let app = spawn_app_with(|s| {
        s.sms.provider = "tencent".into();
        sms_fakes::use_tencent(s, &fake.uri());
    })
    .await;
    let cases = [
        (Answer::Code("InvalidParameterValue.IncorrectPhoneNumber", "incorrect number"), "dead", 1),
        (Answer::Code("LimitExceeded.PhoneNumberDailyLimit", "daily limit"), "pending", 0),
        (Answer::Code("FailedOperation.SignatureIncorrectOrUnapproved", "signature unapproved"), "pending", 1),
        (Answer::Code("InternalError.Timeout", "timeout"), "pending", 1),
    ];
    for (i, (answer, status, attempts)) in cases.into_iter().enumerate() {
        let no = app.file("李家庄村", &format!("138123456{i:02}")).await;
        fake.script([answer.clone()]);
        let now = app.state.now();
        run_pass(&app.state, now).await.unwrap();
        let m = reload(&app, message(&app, &no, "confirmation").await.id).await;
        assert_eq!((m.status.as_str(), m.attempts), (status, attempts), "{answer:?}");
        if attempts == 0 {
            let next_day = (now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + Duration::days(1))
                .and_hms_opt(0, 0, 5)
                .unwrap();
            assert_eq!(m.next_attempt_at.with_timezone(&chrono_tz::Asia::Shanghai).naive_local(), next_day);
        }
        let tx = app.state.db.begin().await.unwrap();
        minsheng::repo::outbox::mark_failed(&*tx, m.id, "test", true, now).await.unwrap();
        tx.commit().await.unwrap();
    }
}
