//! The SMS gateway for staff: the outbox (admin: list with filters, one message with its provider
//! calls, resend), provider health (admin), the operators' queue of replies no rule understood, and
//! opt-outs (admin). Role checks go through `StaffUser`; a reply about a ticket is handled only by
//! staff whose region covers that ticket.
use crate::auth::StaffUser;
use crate::domain::phone::{Phone, mask};
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::outbox::OutboxMessage;
use crate::repo::tickets::Actor;
use crate::services::change::{self, Effects};
use crate::sms::templates::segments;
use crate::sms::values::{OutboxChannel, OutboxKind, OutboxStatus, ProviderName, ReplyHandling, ReplyQueueStatus};
use crate::state::AppState;
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};

/// The wire names of an enumeration, as a 400 message lists them.
fn choices<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join("、")
}

/// Who works the replies queue (admins hold every role).
const QUEUE_ROLES: [Role; 2] = [Role::Operator, Role::Dispatcher];

fn admin_only(user: &StaffUser, message: &str) -> ApiResult<()> {
    if user.is_admin() { Ok(()) } else { Err(ApiError::forbidden(message)) }
}

fn manage(user: &StaffUser) -> ApiResult<()> {
    admin_only(user, "仅管理员可管理短信")
}

fn message_json(m: &OutboxMessage) -> Value {
    if m.channel != OutboxChannel::Sms {
        // To a leader's office address or the 12345 platform (its order id), not a villager's
        // phone: shown whole. The list shows the text's first line (the report's title); `message` shows all of it.
        let title = m.body.lines().next().unwrap_or("").to_string();
        return json!({"id": m.id, "kind": m.kind, "channel": m.channel, "phone": m.recipient, "email": m.recipient,
               "body": title, "segments": null, "status": m.status, "attempts": m.attempts, "urgent": m.urgent,
               "ticket_id": m.ticket_id, "provider": m.provider, "provider_message_id": m.provider_message_id,
               "last_error": m.last_error, "next_attempt_at": m.next_attempt_at, "created_at": m.created_at,
               "sent_at": m.sent_at, "delivered_at": m.delivered_at, "receipt_code": m.receipt_code});
    }
    // One-time codes are never shown, not even to admins.
    let body: String = if m.kind == OutboxKind::Otp {
        m.body.chars().map(|c| if c.is_ascii_digit() { '*' } else { c }).collect()
    } else {
        // Signed links act for their owner (a cadre, a villager): shown masked.
        crate::domain::text::mask_link_tokens(&m.body)
    };
    json!({"id": m.id, "kind": m.kind, "channel": m.channel, "phone": mask(&m.recipient), "body": body,
           "segments": segments(&m.body), "status": m.status, "attempts": m.attempts, "urgent": m.urgent,
           "ticket_id": m.ticket_id, "provider": m.provider, "provider_message_id": m.provider_message_id,
           "last_error": m.last_error, "next_attempt_at": m.next_attempt_at, "created_at": m.created_at,
           "sent_at": m.sent_at, "delivered_at": m.delivered_at, "receipt_code": m.receipt_code})
}

/// Filters of `GET /api/v1/outbox`; blank ones are ignored.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    pub status: Option<String>,
    pub phone: Option<String>,
    pub ticket_no: Option<String>,
    pub kind: Option<String>,
    pub provider: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The outbox, newest first, filtered; (items, total).
pub async fn outbox(state: &AppState, user: &StaffUser, q: &OutboxQuery, page: Page) -> ApiResult<(Vec<Value>, u64)> {
    admin_only(user, "仅管理员可查看待发消息")?;
    let status = match nonempty(&q.status) {
        Some(s) => Some(OutboxStatus::parse(s).ok_or_else(|| {
            let all = choices(OutboxStatus::ALL, OutboxStatus::as_str);
            ApiError::validation("status", format!("状态「{s}」不存在，可选：{all}"))
        })?),
        None => None,
    };
    let kind = match nonempty(&q.kind) {
        Some(k) => Some(OutboxKind::parse(k).ok_or_else(|| {
            let all = choices(OutboxKind::ALL, OutboxKind::as_str);
            ApiError::validation("kind", format!("消息类型「{k}」不存在，可选：{all}"))
        })?),
        None => None,
    };
    let phone = match nonempty(&q.phone) {
        Some(p) => Some(Phone::parse(p).ok_or_else(|| ApiError::validation("phone", "手机号格式不正确"))?),
        None => None,
    };
    let ticket_id = match nonempty(&q.ticket_no) {
        // An unknown ticket number matches no message (rather than being ignored).
        Some(no) => Some(repo::tickets::by_no(&state.db.conn, no).await?.map(|t| t.id).unwrap_or(-1)),
        None => None,
    };
    let provider = match nonempty(&q.provider) {
        // A provider we do not have sent no message (an answer, not a 400, as before).
        Some(p) => match ProviderName::parse(p) {
            Some(p) => Some(p),
            None => return Ok((vec![], 0)),
        },
        None => None,
    };
    let filter =
        repo::outbox::OutboxFilter { status, phone: phone.map(|p| p.as_str().to_string()), ticket_id, kind, provider };
    let (rows, total) = repo::outbox::list(&state.db.conn, &filter, page).await?;
    Ok((rows.iter().map(message_json).collect(), total))
}

/// One message with the log of its provider calls.
pub async fn message(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Value> {
    manage(user)?;
    let m = repo::outbox::get(&state.db.conn, id).await?.ok_or_else(|| ApiError::not_found("消息不存在"))?;
    let attempts: Vec<Value> = repo::sms::attempts_of(&state.db.conn, m.id)
        .await?
        .into_iter()
        .map(|a| json!({"provider": a.provider, "outcome": a.outcome, "error": a.error, "latency_ms": a.latency_ms, "at": a.at}))
        .collect();
    let mut v = message_json(&m);
    v["attempt_log"] = attempts.into();
    if m.channel != OutboxChannel::Sms {
        v["body"] = m.body.clone().into();
    }
    Ok(v)
}

/// Puts a dead, failed or suppressed message back in the queue; answers it as it now is.
pub async fn resend(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Value> {
    manage(user)?;
    let tx = state.db.begin().await?;
    let m = repo::outbox::get(&*tx, id).await?.ok_or_else(|| ApiError::not_found("消息不存在"))?;
    if !repo::outbox::resend(&*tx, m.id, state.now()).await? {
        return Err(ApiError::conflict(
            codes::NOT_RESENDABLE,
            format!("消息当前状态为 {}，只有 dead、failed 或 suppressed 的消息可以重发", m.status.as_str()),
        ));
    }
    tx.commit().await?;
    tracing::info!(outbox_id = m.id, by = user.id, to = %mask(&m.recipient), "sms resend requested");
    let fresh = repo::outbox::get(&state.db.conn, m.id).await?.ok_or_else(|| ApiError::not_found("消息不存在"))?;
    Ok(message_json(&fresh))
}

/// Each provider's last hour (calls, success rate, last error), its breaker and rate, and the
/// outbox counted by status.
pub async fn providers(state: &AppState, user: &StaffUser) -> ApiResult<Value> {
    manage(user)?;
    let now = state.now();
    let since = now - Duration::hours(1);
    let mut items = Vec::new();
    for (name, role) in state.sms.providers() {
        let h = repo::sms::health(&state.db.conn, name, since).await?;
        let rate = (h.calls > 0).then(|| h.sent as f64 / h.calls as f64);
        items.push(json!({
            "name": name, "role": role, "window_minutes": 60, "calls": h.calls, "sent": h.sent, "success_rate": rate,
            "last_sent_at": h.last_sent_at, "breaker_open": state.sms.breaker_open(name, now),
            "rate_per_second": state.settings.sms.rate_per_second(name),
            "callback_configured": state.settings.sms.callback_secret(name).is_some(),
            "last_error": h.last_error.map(|a| json!({"at": a.at, "outcome": a.outcome, "error": a.error})),
        }));
    }
    let counts: serde_json::Map<String, Value> = repo::outbox::counts_by_status(&state.db.conn)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n.into()))
        .collect();
    Ok(json!({"items": items, "outbox": counts}))
}

async fn ticket_no_of(state: &AppState, id: Option<i64>) -> ApiResult<Option<String>> {
    Ok(match id {
        Some(id) => repo::tickets::by_id(&state.db.conn, id).await?.map(|t| t.no),
        None => None,
    })
}

/// The replies queue under the caller's region: `status` open (the default), done or all.
pub async fn replies(
    state: &AppState,
    user: &StaffUser,
    status: Option<&str>,
    page: Page,
) -> ApiResult<(Vec<Value>, u64)> {
    user.require_any(&QUEUE_ROLES)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(ReplyQueueStatus::Open),
        Some("all") => None,
        Some(s) => Some(
            ReplyQueueStatus::parse(s).ok_or_else(|| ApiError::validation("status", "状态只能是 open、done 或 all"))?,
        ),
    };
    let (rows, total) = repo::sms::list_replies(&state.db.conn, status, &user.scope.region_path, page).await?;
    // Operators call the villager back; a dispatcher sees the number masked.
    let full_phone = user.is_admin() || user.has(Role::Operator);
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let ticket_no = ticket_no_of(state, r.ticket_id).await?;
        let handled_ticket_no = ticket_no_of(state, r.handled_ticket_id).await?;
        let phone = if full_phone { r.phone.clone() } else { mask(&r.phone) };
        items.push(json!({"id": r.id, "provider": r.provider, "phone": phone, "text": r.text, "received_at": r.received_at,
                          "outcome": r.outcome, "detail": r.detail, "ticket_no": ticket_no, "queue_status": r.queue_status,
                          "handled_by": r.handled_by, "handled_at": r.handled_at, "handled_note": r.handled_note,
                          "handled_as": r.handled_as, "handled_ticket_no": handled_ticket_no}));
    }
    Ok((items, total))
}

/// `POST /api/v1/sms/replies/{id}/handle`: an optional note, and optionally the ticket the reply
/// belongs to — an existing one (`ticket_no`), or one just filed from it (`ticket_no` with
/// `filed: true`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct HandleRequest {
    pub note: Option<String>,
    pub ticket_no: Option<String>,
    pub filed: Option<bool>,
}

/// Takes a reply off the queue with an optional note (at most 1000 characters). With a ticket
/// number the reply is linked to that ticket (which must exist and be in the caller's region): the
/// link is kept on the reply and the reply's words are noted in the ticket's ledger, in the same
/// transaction. Anything refused writes nothing.
pub async fn handle_reply(state: &AppState, user: &StaffUser, id: i64, req: &HandleRequest) -> ApiResult<Value> {
    user.require_any(&QUEUE_ROLES)?;
    let note = req.note.as_deref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::validation("note", "处理说明不能超过1000个字"));
    }
    let ticket_no = nonempty(&req.ticket_no);
    let filed = req.filed.unwrap_or(false);
    if filed && ticket_no.is_none() {
        return Err(ApiError::validation("ticket_no", "请填写由该短信新建的工单号"));
    }
    let db = &state.db.conn;
    let r = repo::sms::get_reply(db, id).await?.ok_or_else(|| ApiError::not_found("短信回复不存在"))?;
    if let Some(tid) = r.ticket_id {
        let t = repo::tickets::by_id(db, tid).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
        if !user.covers_region(&t.region_path) {
            return Err(ApiError::out_of_scope());
        }
    }
    let target = match ticket_no {
        None => None,
        Some(no) => {
            let t = repo::tickets::by_no(db, no).await?.ok_or_else(|| {
                ApiError::unprocessable(codes::UNKNOWN_TICKET, "ticket_no", format!("工单号「{no}」不存在"))
            })?;
            if !user.covers_region(&t.region_path) {
                return Err(ApiError::out_of_scope().with_field("ticket_no"));
            }
            if filed && t.created_at < r.received_at {
                return Err(ApiError::unprocessable(
                    codes::UNKNOWN_TICKET,
                    "ticket_no",
                    format!("工单{no}登记于该短信收到之前，不是由它新建的；请改为「关联已有工单」"),
                ));
            }
            Some(t)
        }
    };
    let how = match (&target, filed) {
        (None, _) => ReplyHandling::Noted,
        (Some(_), false) => ReplyHandling::Linked,
        (Some(_), true) => ReplyHandling::Filed,
    };
    let now = crate::domain::ledger::ledger_time(state.now());
    let tx = state.db.begin().await?;
    let closing = repo::sms::Closing { by: user.id, note, how, ticket_id: target.as_ref().map(|t| t.id) };
    if !repo::sms::close_reply(&*tx, r.id, closing, now).await? {
        return Err(ApiError::conflict(codes::ALREADY_HANDLED, "该回复不在待处理队列中（可能已被他人处理）"));
    }
    // The reply's words go into the ledger of the ticket it now belongs to (unless they are there
    // already: a reply queued about that very ticket was noted when it came in).
    if let Some(t) = target.as_ref().filter(|t| r.ticket_id != Some(t.id)) {
        let data = json!({"reply_id": r.id, "phone": mask(&r.phone), "received_at": r.received_at, "handled_as": how});
        let fx = Effects::entry(false, Some(r.text.clone()), data);
        change::commit_in(state, &*tx, t, Action::SmsReply, Actor::staff(user.id, &user.name), fx, now).await?;
    }
    tx.commit().await?;
    tracing::info!(reply = r.id, by = user.id, handled_as = how.as_str(), "sms reply handled");
    let fresh = repo::sms::get_reply(db, r.id).await?.ok_or_else(|| ApiError::not_found("短信回复不存在"))?;
    Ok(json!({"id": fresh.id, "queue_status": fresh.queue_status, "handled_by": fresh.handled_by,
              "handled_at": fresh.handled_at, "handled_note": fresh.handled_note, "handled_as": fresh.handled_as,
              "handled_ticket_no": target.map(|t| t.no)}))
}

/// The phones that asked for no more non-essential messages; (items, total).
pub async fn opt_outs(state: &AppState, user: &StaffUser, page: Page) -> ApiResult<(Vec<Value>, u64)> {
    manage(user)?;
    let (rows, total) = repo::sms::list_opt_outs(&state.db.conn, page).await?;
    let items = rows
        .into_iter()
        .map(|o| json!({"phone": o.phone, "source": o.source, "provider": o.provider, "created_at": o.created_at}))
        .collect();
    Ok((items, total))
}

/// A villager who asks (by phone, in person) to get messages again.
pub async fn remove_opt_out(state: &AppState, user: &StaffUser, phone: &str) -> ApiResult<()> {
    manage(user)?;
    let phone = Phone::parse(phone).ok_or_else(|| ApiError::validation("phone", "手机号格式不正确"))?;
    let tx = state.db.begin().await?;
    let removed = repo::sms::remove_opt_out(&*tx, phone.as_str()).await?;
    tx.commit().await?;
    if !removed {
        return Err(ApiError::not_found("该号码没有退订记录"));
    }
    tracing::info!(by = user.id, phone = %phone, "sms opt-out removed");
    Ok(())
}
