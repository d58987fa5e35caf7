//! The weekly report e-mail (issue 17 point 7): queued once per week and leader when Monday's
//! red/black list is published (also when instances race), sent through SMTP to a sink the test
//! starts and parsed back (headers, plain text and HTML, the rankings workbook); a refusing or
//! absent server leaves it queued and retried, then dead and resendable, never lost; nothing is
//! queued without `email.smtp_url`; `minsheng report weekly` prints it and sends it by hand.
use crate::helpers::{TestApp, spawn_app_with};
use crate::smtp_sink::SmtpSink;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use minsheng::services::redblack::{Week, publish};
use minsheng::services::weekly_report::{self, Queued};
use minsheng::workers;
use reqwest::StatusCode;
use serde_json::{Value, json};

const LEADERS: [&str; 2] = ["zhang.wei@qinghe.gov.cn", "li.na@qinghe.gov.cn"];

/// `day` at `h:m` in Asia/Shanghai.
fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap()).unwrap().with_timezone(&Utc)
}

async fn with_mail(smtp_url: &str, leaders: &[&str]) -> TestApp {
    let (url, leaders) = (smtp_url.to_string(), leaders.iter().map(|l| l.to_string()).collect());
    spawn_app_with(move |s| {
        s.ranking.min_visits = 2;
        s.ranking.redblack_size = 1;
        s.email.smtp_url = secrecy::SecretString::from(url);
        s.email.from = "清河县民声直达 <noreply@qinghe.gov.cn>".into();
        s.email.leaders = leaders;
        s.email.max_attempts = 3;
    })
    .await
}

/// A week after this one, with a Wednesday's work: the red/black test's units and scores, and one
/// order dispatched to 柳树沟村 that nobody signs for (overdue by Monday). Answers the week.
async fn a_week_of_work(app: &TestApp) -> Week {
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let week = Week::of(today + Duration::days(7));
    app.set_time(local(week.monday + Duration::days(2), 9, 0));
    let mut phone = 13800007200u64;
    let mut next = || {
        phone += 1;
        phone.to_string()
    };
    let visited = crate::helpers::visited_order;
    for _ in 0..2 {
        visited(app, ("李家庄村", "李家庄村村民委员会", "lijiazhuang"), &next(), "yes", "satisfied").await;
        visited(app, ("王家湾村", "王家湾村村民委员会", "wangjiawan"), &next(), "partly", "basically_satisfied").await;
        visited(app, ("石桥村", "东坝镇人民政府", "dongba"), &next(), "yes", "satisfied").await;
    }
    visited(app, ("柳树沟村", "柳树沟村村民委员会", "liushugou"), &next(), "yes", "satisfied").await;
    visited(app, ("柳树沟村", "柳树沟村村民委员会", "liushugou"), &next(), "no", "dissatisfied").await;
    let no = app.file("柳树沟村", &next()).await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("柳树沟村村民委员会").await})).await;
    week
}

/// Monday 08:00 `weeks` weeks from now (county time), when the list of the week before is due; and
/// that week. Ahead of the wall clock, so sign-in tokens issued at the moved clock stay valid.
fn monday_ahead(app: &TestApp, weeks: i64) -> (DateTime<Utc>, Week) {
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let monday = Week::of(today + Duration::weeks(weeks)).monday;
    (local(monday, 8, 0), Week::of(monday).previous())
}

async fn email_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'email'").await
}

#[tokio::test]
async fn monday_publishing_queues_one_email_per_leader_and_the_sink_receives_both_parts_and_the_rankings() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink.url(), &LEADERS).await;
    let week = a_week_of_work(&app).await;
    let monday = week.monday + Duration::days(7);
    let state = &app.state;

    // Not before Monday 08:00; then once per leader, however often the worker passes.
    app.set_time(local(monday, 7, 0));
    let early = weekly_report::queue_due(state, local(monday, 7, 59)).await.unwrap();
    assert!(matches!(early, Queued::Rows { written: 0, ref rows } if rows.is_empty()), "{early:?}");
    assert_eq!(email_rows(&app).await, 0);
    app.set_time(local(monday, 8, 0));
    assert!(workers::redblack::run_once(state, local(monday, 8, 0)).await.unwrap());
    assert!(!workers::redblack::run_once(state, local(monday, 8, 1)).await.unwrap());
    let q = format!(
        "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND kind = 'weekly_report' AND status = 'pending' \
         AND dedup_key LIKE 'weekly_report/{}/%'",
        week.label()
    );
    assert_eq!(app.count(&q).await, 2, "one per leader");
    let before = email_rows(&app).await;
    // Several instances at once: still one per leader.
    let (a, b) = tokio::join!(
        weekly_report::queue_due(state, local(monday, 8, 2)),
        weekly_report::queue_due(state, local(monday, 8, 2))
    );
    for q in [a.unwrap(), b.unwrap()] {
        assert!(matches!(q, Queued::Rows { written: 0, ref rows } if rows.len() == 2), "{q:?}");
    }
    assert_eq!(email_rows(&app).await, before);

    // The sender hands both to the server; a second pass sends nothing again.
    assert_eq!(workers::email::run_once(state, local(monday, 8, 3)).await.unwrap(), 2);
    assert_eq!(workers::email::run_once(state, local(monday, 8, 4)).await.unwrap(), 0);
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    let mut to: Vec<String> = got.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, ["li.na@qinghe.gov.cn", "zhang.wei@qinghe.gov.cn"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND status = 'sent'").await, 2);

    let raw = &got.iter().find(|m| m.rcpt_to == ["zhang.wei@qinghe.gov.cn"]).unwrap().data;
    assert_eq!(got[0].mail_from, "noreply@qinghe.gov.cn");
    let head = String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).to_string();
    assert!(head.is_ascii(), "headers are 7-bit (Chinese encoded): {head}");
    let mail = MessageParser::default().parse(raw).expect("a MIME message");
    let from = mail.from().and_then(|a| a.first()).unwrap();
    assert_eq!((from.name(), from.address()), (Some("清河县民声直达"), Some("noreply@qinghe.gov.cn")));
    assert_eq!(mail.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("zhang.wei@qinghe.gov.cn"));
    let iso = chrono::Datelike::iso_week(&week.monday);
    let subject = mail.subject().unwrap();
    assert!(subject.starts_with("【清河县】接诉即办工作周报"), "{subject}");
    assert!(subject.contains(&format!("第{}周", iso.week())), "{subject}");
    assert!(mail.message_id().is_some_and(|id| id.starts_with("minsheng.outbox.")), "{:?}", mail.message_id());
    assert_eq!(mail.content_type().map(|c| (c.ctype(), c.subtype())), Some(("multipart", Some("mixed"))));
    assert!(head.contains("multipart/mixed"));
    assert!(String::from_utf8_lossy(raw).contains("multipart/alternative"));

    let (text, html) = (mail.body_text(0).unwrap().to_string(), mail.body_html(0).unwrap().to_string());
    assert_eq!((mail.text_body_count(), mail.html_body_count()), (1, 1));
    assert!(!text.contains("<table") && html.contains("<table"), "a plain part and an HTML part");
    for part in [&text, &html] {
        for expected in [
            "响应率",
            "解决率",
            "满意率",
            "办结率",
            "重办率",
            "综合得分",
            "红榜",
            "黑榜",
            "李家庄村村民委员会",
            "王家湾村村民委员会",
            "东坝镇人民政府",
            "超时在办",
            "柳树沟村村民委员会",
            "热点诉求",
            "李家庄村",
            "45×满意率",
            &format!("/redblack?week={}", week.label()),
        ] {
            assert!(part.contains(expected), "{expected} in:\n{part}");
        }
    }
    // The numbers: every satisfied visit of the red unit, the overdue order of its unit.
    // 柳树沟村's new order nobody signed for, and its reopened redo, sent back to it and not signed for.
    assert!(text.contains("柳树沟村村民委员会：2 件"), "{text}");
    assert!(text.contains("红榜 第1名 李家庄村村民委员会"), "{text}");
    assert!(text.contains("100.0%（2/2）"), "{text}");
    assert!(text.contains("响应率："), "{text}");

    // The rankings workbook, attached and readable.
    assert_eq!(mail.attachment_count(), 1);
    let file = mail.attachments().next().unwrap();
    assert_eq!(file.attachment_name(), Some(format!("单位排名-{}.xlsx", week.label()).as_str()));
    let ct = file.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("application", Some("vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    );
    let table = minsheng::sheet::read(file.contents()).expect("an XLSX workbook");
    let cells: Vec<&String> = table.header.iter().chain(table.rows.iter().flatten()).collect();
    for unit in ["李家庄村村民委员会", "王家湾村村民委员会", "柳树沟村村民委员会", "东坝镇人民政府"]
    {
        assert!(cells.iter().any(|c| *c == unit), "{unit} in the workbook");
    }
    assert!(cells.iter().any(|c| c.as_str() == "综合得分"));

    // The outbox console/API shows the e-mails with their addresses and the text's title.
    let admin = app.token("admin").await;
    let v: Value = app.get("/api/v1/outbox?kind=weekly_report", Some(&admin)).await.json().await.unwrap();
    assert_eq!(v["total"], 2, "{v}");
    let item = &v["items"][0];
    assert_eq!((item["channel"].as_str(), item["status"].as_str()), (Some("email"), Some("sent")));
    assert!(LEADERS.contains(&item["email"].as_str().unwrap()), "{item}");
    assert!(item["body"].as_str().unwrap().contains("接诉即办工作周报"), "{item}");
    let id = item["id"].as_i64().unwrap();
    let one: Value = app.get(&format!("/api/v1/outbox/{id}"), Some(&admin)).await.json().await.unwrap();
    assert!(one["body"].as_str().unwrap().contains("二、红黑榜"), "{one}");
    assert!(one["provider_message_id"].as_str().unwrap().contains("minsheng.outbox."), "{one}");
}

#[tokio::test]
async fn a_refusing_server_leaves_the_email_queued_and_it_goes_when_the_server_takes_it() {
    let sink = SmtpSink::start().await;
    sink.refuse(true);
    let app = with_mail(&sink.url(), &LEADERS[..1]).await;
    let state = &app.state;
    let (now, week) = monday_ahead(&app, 2);
    let label = week.label();
    app.set_time(now);
    assert!(publish(state, week, now).await.unwrap());
    let list = minsheng::repo::redblack::by_week(&state.db.conn, &label).await.unwrap().unwrap();
    assert!(matches!(weekly_report::queue(state, &list, now).await.unwrap(), Queued::Rows { written: 1, .. }));

    let pass = workers::email::run_pass(state, now).await.unwrap();
    assert_eq!((pass.claimed, pass.sent, pass.retried, pass.dead), (1, 0, 1, 0));
    assert!(sink.messages().is_empty());
    let row = |app: &TestApp| {
        let db = app.state.db.conn.clone();
        let key = weekly_report::dedup_key(&label, LEADERS[0]);
        async move {
            let rows = minsheng::repo::outbox::by_dedup_keys(&db, vec![key]).await.unwrap();
            assert_eq!(rows.len(), 1);
            rows.into_iter().next().unwrap()
        }
    };
    let m = row(&app).await;
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert!(m.last_error.as_deref().unwrap().contains("451"), "{:?}", m.last_error);
    assert!(m.next_attempt_at > now, "waits before the next attempt");
    // Not before its time.
    assert_eq!(workers::email::run_pass(state, now + Duration::seconds(1)).await.unwrap().claimed, 0);

    // The server takes it now: sent once, exactly that message.
    sink.refuse(false);
    let later = m.next_attempt_at + Duration::seconds(1);
    assert_eq!(workers::email::run_once(state, later).await.unwrap(), 1);
    assert_eq!(sink.messages().len(), 1);
    let m = row(&app).await;
    assert_eq!((m.status.as_str(), m.attempts, m.last_error), ("sent", 2, None));
}

#[tokio::test]
async fn with_the_server_down_the_email_is_retried_then_dead_and_an_admin_can_resend_it() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = with_mail(&format!("smtp://127.0.0.1:{port}"), &LEADERS[..1]).await;
    let state = &app.state;
    let (mut now, week) = monday_ahead(&app, 2);
    app.set_time(now);
    assert!(workers::redblack::run_once(state, now).await.unwrap(), "{} published", week.label());
    assert_eq!(email_rows(&app).await, 1);
    for attempt in 1..=3 {
        let pass = workers::email::run_pass(state, now).await.unwrap();
        assert_eq!((pass.retried, pass.dead), if attempt < 3 { (1, 0) } else { (0, 1) }, "attempt {attempt}");
        now += Duration::hours(2);
    }
    let admin = app.token("admin").await;
    let v: Value = app.get("/api/v1/outbox?status=dead&kind=weekly_report", Some(&admin)).await.json().await.unwrap();
    assert_eq!(v["total"], 1, "{v}");
    let item = &v["items"][0];
    assert_eq!((item["attempts"].as_i64(), item["channel"].as_str()), (Some(3), Some("email")));
    assert!(item["last_error"].as_str().unwrap().contains("smtp"), "{item}");
    // Still there; an admin puts it back in the queue, and a server that is back takes it.
    let r = app.post(&format!("/api/v1/outbox/{}/resend", item["id"]), Some(&admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND status = 'pending'").await, 1);
    // Rows of a week are never written twice, even after the e-mail died and was resent.
    workers::redblack::run_once(state, now).await.unwrap();
    assert_eq!(email_rows(&app).await, 1);
}

#[tokio::test]
async fn without_an_smtp_url_publishing_queues_no_email() {
    let app = spawn_app_with(|s| s.email.leaders = vec![LEADERS[0].into()]).await;
    let (now, _) = monday_ahead(&app, 2);
    app.set_time(now);
    assert!(workers::redblack::run_once(&app.state, now).await.unwrap());
    assert_eq!(email_rows(&app).await, 0);
    assert_eq!(workers::email::run_pass(&app.state, now).await.unwrap(), workers::email::Pass::default());
    let q = weekly_report::queue_due(&app.state, now).await.unwrap();
    assert!(matches!(q, Queued::Skipped(r) if r.contains("smtp_url")), "{q:?}");
}

// Multi-threaded: the sink must answer while this test's thread waits for the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_prints_the_report_and_sends_it_to_the_leaders_from_the_environment() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|_| {}).await;
    let now = local(NaiveDate::from_ymd_opt(2026, 10, 26).unwrap(), 8, 0);
    assert!(publish(&app.state, Week::parse("2026-W43").unwrap(), now).await.unwrap());
    let url = secrecy::ExposeSecret::expose_secret(&app.state.settings.database.url).to_string();
    let out = crate::cli::minsheng(&["report", "weekly", "--week", "2026-W43", "--database", &url], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Subject: 【清河县】接诉即办工作周报 2026年第43周（10月19日—10月25日）",
        "一、五率与综合得分",
        "响应率：",
        "二、红黑榜",
        "三、超时在办工单",
        "四、热点诉求",
        "[attachment: 单位排名-2026-W43.xlsx",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    // An unpublished week is refused; sending needs a mail server.
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minsheng"));
        cmd.args(args).env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024").env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&["report", "weekly", "--week", "2020-W01", "--database", &url], &[]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("尚未发布"));
    let out = run(&["report", "weekly", "--send", "--database", &url], &[]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("email.smtp_url"));

    // --send with the leaders as comma-separated text in the environment: one e-mail each, sent now.
    let env = [("MINSHENG__EMAIL__SMTP_URL", sink.url()), ("MINSHENG__EMAIL__LEADERS", LEADERS.join(","))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = crate::cli::minsheng(&["report", "weekly", "--week", "2026-W43", "--send", "--database", &url], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 e-mail(s) queued for 2026-W43") && said.contains("sent now: 2"), "{said}");
    let mut to: Vec<String> = sink.messages().iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, ["li.na@qinghe.gov.cn", "zhang.wei@qinghe.gov.cn"]);
    // Once per week and leader: a second --send writes and sends nothing.
    let out = crate::cli::minsheng(&["report", "weekly", "--week", "2026-W43", "--send", "--database", &url], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("0 e-mail(s) queued") && said.contains("sent now: 0"), "{said}");
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(email_rows(&app).await, 2);
}
