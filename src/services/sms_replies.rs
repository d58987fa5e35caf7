//! Replies by SMS. Each reply is stored once (providers re-push), then read against the last message
//! we sent that phone: a villager's 1/2/3 to a rating request records a return visit (channel
//! `sms`), a cadre's 1 or 收到 to an assignment signs for it as that cadre, TD unsubscribes the phone
//! from non-essential messages, and anything else goes to the operators' queue — noted in the
//! ticket's ledger when the reply is about a ticket.
use super::actions::{ActionBody, act};
use super::change::{self, Effects};
use super::return_visits::{Recorder, VisitRequest, record_by};
use super::tickets::load;
use crate::auth::StaffUser;
use crate::domain::phone::{Phone, mask};
use crate::domain::roles::Role;
use crate::domain::ticket::{Action, Status};
use crate::domain::values::VisitChannel;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::outbox::OutboxMessage;
use crate::repo::sms::{Handled, NewReply, Reply};
use crate::repo::tickets::{Actor, Ticket};
use crate::sms::callbacks::Inbound;
use crate::sms::replies::{self, Intent};
use crate::sms::signing::sha256_hex;
use crate::sms::values::{OutboxKind, ProviderName, ReplyOutcome};
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Stores and handles one reply; answers its outcome (`duplicate` for a reply handled before).
pub async fn handle(state: &AppState, provider: ProviderName, i: &Inbound) -> ApiResult<&'static str> {
    let name = provider.as_str();
    let now = state.now();
    let phone = Phone::parse(&i.phone).map(|p| p.as_str().to_string()).unwrap_or_else(|| i.phone.trim().to_string());
    let text: String = i.text.trim().chars().take(1000).collect();
    // Without the provider's own reference, phone + send time + text identify a re-push; without a
    // send time either, every push counts (better twice in the queue than a reply lost).
    let key = match (&i.reference, i.at) {
        (Some(r), _) => format!("{name}:{r}"),
        (None, Some(at)) => {
            format!("{name}:{}", sha256_hex(format!("{phone}|{}|{text}", at.timestamp()).as_bytes()))
        }
        (None, None) => format!("{name}:{}", uuid::Uuid::new_v4()),
    };
    let (row, fresh) = {
        let tx = state.db.begin().await?;
        let new = NewReply { provider, dedup_key: &key, phone: &phone, text: &text, received_at: i.at.unwrap_or(now) };
        let r = repo::sms::insert_reply(&*tx, new).await?;
        tx.commit().await?;
        r
    };
    if !fresh && row.outcome != ReplyOutcome::Received {
        return Ok("duplicate");
    }
    let handled = decide(state, &row, now).await?;
    let outcome = handled.outcome.as_str();
    tracing::info!(reply_id = row.id, from = %mask(&phone), outcome, "sms reply");
    metrics::counter!("minsheng_sms_replies_total", "outcome" => outcome).increment(1);
    let tx = state.db.begin().await?;
    repo::sms::set_handled(&*tx, row.id, handled).await?;
    tx.commit().await?;
    Ok(outcome)
}

fn handled(outcome: ReplyOutcome, detail: impl Into<String>, m: Option<&OutboxMessage>) -> Handled {
    Handled {
        outcome,
        detail: Some(detail.into()),
        ticket_id: m.and_then(|m| m.ticket_id),
        outbox_id: m.map(|m| m.id),
        staff_id: None,
        queued: false,
    }
}

async fn decide(state: &AppState, row: &Reply, now: DateTime<Utc>) -> ApiResult<Handled> {
    let reply = replies::parse(&row.text);
    let since = now - Duration::hours(state.settings.sms.reply_window_hours);
    if reply.intent == Intent::Unsubscribe {
        let tx = state.db.begin().await?;
        repo::sms::opt_out(&*tx, &row.phone, "sms_reply", Some(row.provider), now).await?;
        tx.commit().await?;
        return Ok(handled(ReplyOutcome::Unsubscribed, "已退订非必要短信", None));
    }
    if reply.intent == Intent::StatusQuery {
        return status_query(state, row, reply.ticket_no.as_deref().unwrap_or_default(), now).await;
    }
    let named = match &reply.ticket_no {
        Some(no) => match repo::tickets::by_no(&state.db.conn, no).await? {
            Some(t) => Some(t.id),
            None => return queue(state, row, None, format!("回复中的工单号{no}不存在"), now).await,
        },
        None => None,
    };
    let answerable = [OutboxKind::Assignment, OutboxKind::RatingRequest];
    let context = repo::sms::last_sent_to(&state.db.conn, &row.phone, &answerable, named, since).await?;
    match (&reply.intent, context.as_ref().map(|m| m.kind)) {
        (Intent::Digit(1) | Intent::Acknowledge, Some(OutboxKind::Assignment)) => {
            sign_for(state, row, context.as_ref(), now).await
        }
        (Intent::Digit(d), Some(OutboxKind::RatingRequest)) => rate(state, row, context.as_ref(), *d, now).await,
        (Intent::Other, None) if named.is_none() && is_request(state, row, since).await? => file(state, row, now).await,
        (Intent::Other, _) | (_, None) => {
            // Free text: tie it to whatever we last sent this phone, if anything.
            let any = repo::sms::last_sent_to(&state.db.conn, &row.phone, &[], named, since).await?;
            let reason = if reply.intent == Intent::Other {
                "无法自动识别的回复"
            } else {
                "近期没有可回复的短信"
            };
            queue(state, row, any.as_ref().or(context.as_ref()), reason.into(), now).await
        }
        _ => queue(state, row, context.as_ref(), "回复内容与最近的短信不匹配".into(), now).await,
    }
}

/// Free text that answers nothing (no message of ours to this phone in the reply window) and follows
/// up nothing (no open request of this phone), from a phone that is no staff member's, long enough
/// to say something: a request of its own (SMS-only villagers). Anything else is a follow-up for the
/// operators' queue, noted on the ticket it is about.
async fn is_request(state: &AppState, row: &Reply, since: DateTime<Utc>) -> ApiResult<bool> {
    let db = &state.db.conn;
    let Some(phone) = Phone::parse(&row.phone) else { return Ok(false) };
    if crate::domain::text::visible_len(&row.text) < MIN_REQUEST_CHARS
        || repo::sms::last_sent_to(db, &row.phone, &[], None, since).await?.is_some()
        || !repo::sms::staff_by_phone(db, &row.phone).await?.is_empty()
    {
        return Ok(false);
    }
    let (latest, _) =
        repo::tickets::of_requester(db, Some(phone.as_str()), None, repo::Page { page: 1, per_page: 1 }).await?;
    Ok(!latest.first().is_some_and(|t| t.status.is_open()))
}

/// The shortest text filed as a request (shorter ones go to the operators' queue).
pub const MIN_REQUEST_CHARS: usize = 5;

/// Files a texted request as a ticket (channel `sms`) in the village its text names or of the
/// phone's latest request; without either, the operators register it from the queue.
async fn file(state: &AppState, row: &Reply, now: DateTime<Utc>) -> ApiResult<Handled> {
    let Some(phone) = Phone::parse(&row.phone) else {
        return queue(state, row, None, "无法识别的号码".into(), now).await;
    };
    let Some(region) = super::intake::sms_village(state, &phone, &row.text).await? else {
        return queue(state, row, None, "短信诉求未能确定所在村，请人工登记".into(), now).await;
    };
    match super::intake::file_sms(state, &phone, &row.text, region, &format!("reply:{}", row.id)).await {
        Ok(answer) => {
            let t = repo::tickets::by_no(&state.db.conn, &answer.ticket_no).await?;
            let mut h = handled(ReplyOutcome::Filed, format!("已立案，工单{}", answer.ticket_no), None);
            h.ticket_id = t.map(|t| t.id);
            Ok(h)
        }
        Err(e) if e.status.is_client_error() => {
            queue(state, row, None, format!("未能自动立案：{}", e.message), now).await
        }
        Err(e) => Err(e),
    }
}

/// A ticket number texted in: where that request stands, by SMS — to its requester's phone only;
/// any other phone hears that no request of theirs has that number (nothing about the ticket).
async fn status_query(state: &AppState, row: &Reply, no: &str, now: DateTime<Utc>) -> ApiResult<Handled> {
    let db = &state.db.conn;
    let subject = format!("sms:status:{}", row.phone);
    if state.limiter.hit(&subject, state.settings.limits.confirmation_sms_per_phone, now).await.is_err() {
        return Ok(handled(ReplyOutcome::Noop, "查询过于频繁，未回复", None));
    }
    let ticket =
        repo::tickets::by_no(db, no).await?.filter(|t| !t.requester_phone.is_empty() && t.requester_phone == row.phone);
    let status = match &ticket {
        Some(t) => {
            let view = super::views::public_view(db, t).await?;
            let mut s = view.status_label.to_string();
            if let Some(unit) = &view.handling_unit {
                s.push_str(&format!("，承办单位：{unit}"));
            }
            if let Some(day) = view.paused_until {
                s.push_str(&format!("，预计{}恢复办理", day.format("%m月%d日")));
            }
            s
        }
        None => "未找到，或本机号码不是该工单的反映人".to_string(),
    };
    let msg = crate::sms::templates::status_reply(&state.settings.county.sms_sign, no, &status);
    let tx = state.db.begin().await?;
    repo::outbox::enqueue(&*tx, &msg, &row.phone, ticket.as_ref().map(|t| t.id), now).await?;
    tx.commit().await?;
    let mut h = handled(ReplyOutcome::Status, format!("已短信答复工单{no}的进度"), None);
    h.ticket_id = ticket.map(|t| t.id);
    Ok(h)
}

/// A cadre's reply to an assignment: accept the order as that cadre (their unit must hold it).
async fn sign_for(state: &AppState, row: &Reply, m: Option<&OutboxMessage>, now: DateTime<Utc>) -> ApiResult<Handled> {
    let Some(ticket) = ticket_of(state, m).await? else {
        return queue(state, row, m, "短信对应的工单不存在".into(), now).await;
    };
    let l = load(&state.db.conn, &ticket.no).await?;
    let unit = l.active().map(|a| a.unit_id);
    let cadres: Vec<_> = repo::sms::staff_by_phone(&state.db.conn, &row.phone)
        .await?
        .into_iter()
        .filter(|s| s.roles.contains(&Role::Cadre))
        .collect();
    let Some(staff) = cadres.iter().find(|s| s.unit_id.is_some() && s.unit_id == unit).or(cadres.first()) else {
        return queue(state, row, m, "该号码不是承办干部，无法签收".into(), now).await;
    };
    if l.status() != Status::Dispatched {
        let detail = format!("工单当前状态为「{}」，无需签收", l.status().label());
        note_in_ledger(state, &ticket, row, &detail, now).await?;
        let mut h = handled(ReplyOutcome::Noop, detail, m);
        h.staff_id = Some(staff.id);
        return Ok(h);
    }
    let region = repo::regions::get(&state.db.conn, staff.region_id).await?.map(|r| r.path).unwrap_or_default();
    let user = StaffUser::from_record(staff, &region);
    let body = ActionBody { note: Some(format!("短信回复「{}」签收", row.text)), ..Default::default() };
    match act(state, &user, &ticket.no, Action::Accept, &body).await {
        Ok(_) => {
            let mut h = handled(ReplyOutcome::Accepted, format!("{}已签收工单{}", staff.name, ticket.no), m);
            h.staff_id = Some(staff.id);
            Ok(h)
        }
        Err(e) if e.status.is_client_error() => queue(state, row, m, format!("签收未成功：{}", e.message), now).await,
        Err(e) => Err(e),
    }
}

/// A villager's 1/2/3 to a rating request: a return visit recorded by the requester themselves.
async fn rate(
    state: &AppState,
    row: &Reply,
    m: Option<&OutboxMessage>,
    digit: u8,
    now: DateTime<Utc>,
) -> ApiResult<Handled> {
    let (Some(ticket), Some((solved, satisfaction, label))) = (ticket_of(state, m).await?, replies::rating(digit))
    else {
        return queue(state, row, m, "无法识别的评价".into(), now).await;
    };
    if ticket.requester_phone != row.phone {
        return queue(state, row, m, "回复号码不是诉求人".into(), now).await;
    }
    let l = load(&state.db.conn, &ticket.no).await?;
    let req = VisitRequest {
        reached: Some(true),
        solved: Some(solved.as_str().into()),
        satisfaction: Some(satisfaction.as_str().into()),
        channel: Some(VisitChannel::Sms.as_str().into()),
        comment: Some(format!("短信回复「{}」：{label}", row.text)),
        ..Default::default()
    };
    let name = ticket.requester_name.clone().unwrap_or_else(|| "群众".into());
    let recorder = Recorder { actor: Actor::villager(&name), caller_id: None };
    match record_by(state, recorder, &l, &req).await {
        Ok(v) => Ok(handled(ReplyOutcome::Rating, format!("评价「{label}」，工单{}", v.outcome), m)),
        Err(e) if e.status == StatusCode::CONFLICT => {
            queue(state, row, m, format!("评价未记录：{}", e.message), now).await
        }
        Err(e) => Err(e),
    }
}

async fn ticket_of(state: &AppState, m: Option<&OutboxMessage>) -> ApiResult<Option<Ticket>> {
    match m.and_then(|m| m.ticket_id) {
        Some(id) => Ok(repo::tickets::by_id(&state.db.conn, id).await?),
        None => Ok(None),
    }
}

/// Puts a reply in the operators' queue, and notes it in the ledger of the ticket it is about.
async fn queue(
    state: &AppState,
    row: &Reply,
    m: Option<&OutboxMessage>,
    reason: String,
    now: DateTime<Utc>,
) -> ApiResult<Handled> {
    let mut h = handled(ReplyOutcome::Queued, reason.clone(), m);
    h.queued = true;
    if let Some(ticket) = ticket_of(state, m).await? {
        note_in_ledger(state, &ticket, row, &reason, now).await?;
    }
    Ok(h)
}

async fn note_in_ledger(
    state: &AppState,
    ticket: &Ticket,
    row: &Reply,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let staff = repo::sms::staff_by_phone(&state.db.conn, &row.phone).await?;
    let actor = match staff.first() {
        Some(s) => Actor::staff(s.id, &s.name),
        None if ticket.requester_phone == row.phone => {
            Actor::villager(ticket.requester_name.as_deref().unwrap_or("群众"))
        }
        None => Actor::villager(&mask(&row.phone)),
    };
    let data = json!({"reply_id": row.id, "phone": mask(&row.phone), "reason": reason});
    let now = crate::domain::ledger::ledger_time(now);
    // The ticket may move between our read and this write: read again and retry a few times.
    let mut current = ticket.clone();
    for _ in 0..3 {
        let fx = Effects::entry(false, Some(row.text.clone()), data.clone());
        match change::commit(state, &current, Action::SmsReply, actor.clone(), fx, now).await {
            Err(e) if e.code == codes::CONFLICT => {
                current = repo::tickets::by_id(&state.db.conn, ticket.id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("工单不存在"))?;
            }
            other => return other.map(|_| ()),
        }
    }
    Err(ApiError::conflict(codes::CONFLICT, "工单正被频繁修改，短信回复稍后重试"))
}
