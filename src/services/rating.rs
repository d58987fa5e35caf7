//! The villager's own rating after a resolution, by the signed, expiring link in the rating SMS
//! (`/r/{token}`): one tap on 满意 / 基本满意 / 不满意. The token names the ticket and the ledger
//! sequence of the resolution it rates, so each resolution can be rated once; a forged or expired
//! link is refused. The rating is recorded as a return visit with channel `sms`.
use super::return_visits::{Recorder, VisitAnswer, VisitRequest, record_by};
use super::tickets::load;
use crate::domain::rating_link::{self, RatingLink};
use crate::domain::signed_link::LinkError;
use crate::domain::ticket::Status;
use crate::domain::values::{Satisfaction, VisitChannel};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::{Actor, Ticket};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// A link token for rating resolution `seq` of ticket `ticket_id`, valid through the UTC day of
/// `expires` (format: `domain::rating_link`).
pub fn token(state: &AppState, ticket_id: i64, seq: i32, expires: DateTime<Utc>) -> String {
    rating_link::sign(state.keys.rating_link.bytes(), RatingLink { ticket_id, seq }, expires)
}

/// The full link for the SMS.
pub fn link(state: &AppState, ticket_id: i64, seq: i32, now: DateTime<Utc>) -> String {
    let expires = now + Duration::days(state.settings.visits.rating_link_days);
    format!("{}/r/{}", state.public_url(), token(state, ticket_id, seq, expires))
}

/// The ticket and resolution a token stands for, if it is genuine and not expired.
pub fn verify(state: &AppState, token: &str, now: DateTime<Utc>) -> ApiResult<(i64, i32)> {
    match rating_link::verify(state.keys.rating_link.bytes(), token, now) {
        Ok(l) => Ok((l.ticket_id, l.seq)),
        Err(LinkError::Invalid) => Err(ApiError::not_found("评价链接无效，请核对短信中的链接")),
        Err(LinkError::Expired) => {
            Err(ApiError::gone(codes::RATING_LINK_EXPIRED, "评价链接已过期，回访员会电话联系您"))
        }
    }
}

/// The ticket a link rates, while that resolution still awaits its rating.
pub async fn open(state: &AppState, token: &str) -> ApiResult<Ticket> {
    let (ticket_id, seq) = verify(state, token, state.now())?;
    let t = repo::tickets::by_id(&state.db.conn, ticket_id).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let events = repo::tickets::events_of(&state.db.conn, t.id).await?;
    let latest_resolution = events.iter().rev().find(|e| e.is_resolution()).map(|e| e.seq);
    if t.status != Status::Resolved || latest_resolution != Some(seq) {
        return Err(ApiError::conflict(codes::ALREADY_RATED, "本次办理已经评价过了，感谢您的反馈"));
    }
    Ok(t)
}

/// Records the villager's rating. Satisfaction maps to "solved" as: 满意 → yes, 基本满意 → partly,
/// 不满意 → no (the one-tap page asks one question).
pub async fn rate(
    state: &AppState,
    token: &str,
    no: Option<&str>,
    satisfaction: &str,
    comment: Option<String>,
) -> ApiResult<VisitAnswer> {
    let s = Satisfaction::parse(satisfaction)
        .ok_or_else(|| ApiError::validation("satisfaction", "请选择：满意、基本满意或不满意"))?;
    let t = open(state, token).await?;
    if no.is_some_and(|n| n != t.no) {
        return Err(ApiError::not_found("评价链接与工单不符"));
    }
    let solved = s.implied_solved().as_str();
    let l = load(&state.db.conn, &t.no).await?;
    let req = VisitRequest {
        reached: Some(true),
        solved: Some(solved.into()),
        satisfaction: Some(s.as_str().into()),
        scores: None,
        comment,
        channel: Some(VisitChannel::Sms.as_str().into()),
    };
    let recorder = Recorder { actor: Actor::villager("群众（评价链接）"), caller_id: None };
    record_by(state, recorder, &l, &req).await
}
