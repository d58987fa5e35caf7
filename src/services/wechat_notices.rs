//! WeChat subscribe messages (订阅消息) to villagers who filed through the mini-program: the
//! mini-program records which templates the villager accepted for a ticket (each tap allows ONE
//! message); when the order is signed for (签收) or resolved (办结, with the rating page), the change
//! writes a `wechat` outbox row in its transaction if the villager holds an unused allowance, else
//! the SMS as before. `workers::wechat` sends it and writes the SMS fallback if WeChat refuses it or
//! the attempts run out.
use crate::auth::VillagerUser;
use crate::configuration::{SubscribeTemplate, WechatSettings};
use crate::error::{ApiError, ApiResult, codes};
use crate::repo;
use crate::repo::outbox::NewMessage;
use crate::repo::tickets::Ticket;
use crate::sms::templates::Message;
use crate::sms::values::OutboxChannel;
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The progress a villager hears about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The responsible unit signed for the order.
    Accepted,
    /// The order is resolved: rate it.
    Resolved,
}

impl Event {
    fn template(self, s: &WechatSettings) -> &SubscribeTemplate {
        match self {
            Event::Accepted => &s.subscribe.accepted,
            Event::Resolved => &s.subscribe.resolved,
        }
    }
}

/// What a change tells the requester: by WeChat when they subscribed, else by SMS when
/// `sms_without_wechat` (the SMS sent today), and `sms` as the fallback of a WeChat message.
pub struct VillagerNotice {
    pub event: Event,
    pub sms: Message,
    pub sms_without_wechat: bool,
}

/// Writes the notice inside the change's transaction: a WeChat message using one allowance, or the SMS.
pub async fn notify_in<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &Ticket,
    n: &VillagerNotice,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let tpl = n.event.template(&state.settings.wechat);
    let allowance = match (&t.requester_openid, tpl.template_id.is_empty()) {
        (Some(openid), false) => {
            repo::wechat_subscriptions::take(db, t.id, openid, &tpl.template_id, now).await?.map(|id| (openid, id))
        }
        _ => None,
    };
    let Some((openid, sub)) = allowance else {
        if n.sms_without_wechat {
            repo::outbox::enqueue(db, &n.sms, &t.requester_phone, Some(t.id), now).await?;
        }
        return Ok(());
    };
    let send = send_body(state, t, tpl, openid, &n.sms.params, now);
    let params = json!({"send": send, "sms": n.sms.params}).to_string();
    let row = NewMessage {
        kind: n.sms.kind,
        channel: OutboxChannel::Wechat,
        recipient: openid,
        body: &n.sms.body,
        params: &params,
        ticket_id: Some(t.id),
        dedup_key: &format!("wechat:subscription:{sub}"),
    };
    if let Some(id) = repo::outbox::enqueue_message(db, row, now).await? {
        repo::wechat_subscriptions::used_by(db, sub, id).await?;
    }
    Ok(())
}

/// The `subscribe/send` body: the configured page and data with the ticket's values filled in.
fn send_body(
    state: &AppState,
    t: &Ticket,
    tpl: &SubscribeTemplate,
    openid: &str,
    sms_params: &Value,
    now: DateTime<Utc>,
) -> Value {
    let time = now.with_timezone(&state.tz()).format("%Y年%-m月%-d日 %H:%M").to_string();
    let token = sms_params.get("token").and_then(Value::as_str).unwrap_or("");
    let summary: String = t.description.split_whitespace().collect::<Vec<_>>().join(" ");
    let fill = |text: &str| {
        text.replace("{no}", &t.no).replace("{time}", &time).replace("{token}", token).replace("{summary}", &summary)
    };
    let data: BTreeMap<&str, Value> = tpl
        .data
        .iter()
        .map(|(key, value)| (key.as_str(), json!({"value": crate::wechat::fit_value(key, &fill(value))})))
        .collect();
    let s = &state.settings.wechat.subscribe;
    json!({
        "touser": openid,
        "template_id": tpl.template_id,
        "page": fill(&tpl.page),
        "miniprogram_state": s.miniprogram_state,
        "lang": s.lang,
        "data": data,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SubscriptionRequest {
    pub template_ids: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct SubscriptionAnswer {
    /// Allowances written by this call.
    pub recorded: usize,
    /// Unused allowances of the ticket per event.
    pub accepted: u64,
    pub resolved: u64,
}

/// Records the templates the villager accepted in `wx.requestSubscribeMessage` for their ticket.
pub async fn subscribe(
    state: &AppState,
    me: &VillagerUser,
    no: &str,
    req: &SubscriptionRequest,
) -> ApiResult<SubscriptionAnswer> {
    let s = &state.settings.wechat;
    let events = [Event::Accepted, Event::Resolved];
    if !crate::wechat::is_configured(s) || events.iter().all(|e| e.template(s).template_id.is_empty()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, codes::WECHAT_DISABLED, "本县尚未开通微信订阅消息"));
    }
    let openid = me.openid.as_deref().ok_or_else(|| ApiError::forbidden("请通过微信小程序登录后订阅"))?;
    let ids = req.template_ids.as_ref().ok_or_else(|| ApiError::validation("template_ids", "缺少模板列表"))?;
    if ids.len() > 10 {
        return Err(ApiError::validation("template_ids", "模板过多"));
    }
    for id in ids {
        if !events.iter().any(|e| e.template(s).template_id == *id && !id.is_empty()) {
            return Err(ApiError::validation("template_ids", "不是本县的订阅消息模板"));
        }
    }
    // Someone else's ticket answers as a missing one: ticket numbers are not secret.
    let t = repo::tickets::by_no(&state.db.conn, no)
        .await?
        .filter(|t| t.requester_openid.as_deref() == Some(openid))
        .ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let now = state.now();
    let tx = state.db.begin().await?;
    let mut recorded = 0;
    for id in ids {
        // Taps beyond the cap are dropped: an order has only so many events.
        if repo::wechat_subscriptions::unused(&*tx, t.id, id).await? < s.subscribe.max_unused_per_template {
            repo::wechat_subscriptions::record(&*tx, t.id, openid, id, now).await?;
            recorded += 1;
        }
    }
    let mut unused = [0; 2];
    for (n, e) in unused.iter_mut().zip(events) {
        let id = &e.template(s).template_id;
        if !id.is_empty() {
            *n = repo::wechat_subscriptions::unused(&*tx, t.id, id).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(ticket_no = %t.no, recorded, "wechat subscriptions recorded");
    Ok(SubscriptionAnswer { recorded, accepted: unused[0], resolved: unused[1] })
}
