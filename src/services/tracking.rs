//! The requester's own view of a ticket, opened with the ticket number and the phone's last four
//! digits. A wrong number and a wrong tail look the same (404); wrong tries are limited per address
//! and per ticket number, so the four digits cannot be guessed from one address nor from many.
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::Ticket;
use crate::state::AppState;

pub async fn find_for_requester(state: &AppState, no: &str, tail: &str, ip: &str) -> ApiResult<Ticket> {
    if tail.len() != 4 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("phone_tail", "请输入手机号后四位"));
    }
    let limits = &state.settings.limits;
    let no = no.trim();
    let checks = [
        (format!("track:ip:{ip}"), limits.track_failures_per_ip),
        (format!("track:no:{}", no.chars().take(40).collect::<String>()), limits.track_failures_per_ticket),
    ];
    let now = state.now();
    let refused =
        |retry_after: u64| ApiError::too_many(codes::RATE_LIMITED, "查询错误次数过多，请稍后再试", retry_after);
    for (subject, limit) in &checks {
        state.limiter.peek(subject, *limit, now).await.map_err(|e| refused(e.retry_after))?;
    }
    let found = match TicketNo::parse(no) {
        Some(no) => repo::tickets::by_no(&state.db.conn, no.as_str()).await?,
        None => None,
    };
    match found.filter(|t| Phone::parse(&t.requester_phone).is_some_and(|p| p.tail4() == tail)) {
        Some(t) => Ok(t),
        None => {
            state.limiter.hit_all(&checks, now).await.map_err(|e| refused(e.retry_after))?;
            Err(ApiError::not_found("未找到该工单，请核对工单编号和手机号后四位"))
        }
    }
}
