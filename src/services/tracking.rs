//! The requester's own view of a ticket, opened with the ticket number and the phone's last four
//! digits. A wrong number and a wrong tail look the same (404); wrong tries are limited per address
//! and per ticket number, so the four digits cannot be guessed from one address nor from many.
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::domain::signed_link::LinkKind;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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

/// How long a link to a requester's own photo, handed out on the tracking page, opens it.
pub const MEDIA_LINK_MINUTES: i64 = 30;

const MEDIA: LinkKind = LinkKind { domain: b"track-media|", tag_len: 16 };

fn media_payload(no: &str, upload_id: &str, until: i64) -> String {
    format!("{no}|{upload_id}|{until}")
}

/// A link to attachment `upload_id` of ticket `no` for the page of someone who has just proved the
/// phone's last four digits: signed with its own key, valid for `MEDIA_LINK_MINUTES`. No staff
/// token and no phone tail travel in it.
pub fn media_url(state: &AppState, no: &str, upload_id: &str) -> String {
    let until = (state.now() + chrono::Duration::minutes(MEDIA_LINK_MINUTES)).timestamp();
    let tag = MEDIA.tag(state.keys.tracking_media.bytes(), media_payload(no, upload_id, until).as_bytes());
    format!("/t/{no}/media/{upload_id}?until={until}&sig={}", URL_SAFE_NO_PAD.encode(tag))
}

/// The attachment a media link opens: the signature must be genuine and current, and the upload
/// attached to that very ticket (a link cannot be moved to another ticket's file).
pub async fn open_media(
    state: &AppState,
    no: &str,
    upload_id: &str,
    until: i64,
    sig: &str,
) -> ApiResult<(&'static str, Vec<u8>)> {
    let refused = || ApiError::not_found("图片链接无效或已过期，请重新打开办理进度页面");
    let tag = URL_SAFE_NO_PAD.decode(sig).map_err(|_| refused())?;
    let payload = media_payload(no, upload_id, until);
    let expires = |_: &[u8]| chrono::DateTime::from_timestamp(until, 0).map(|at| ((), at));
    MEDIA
        .open(state.keys.tracking_media.bytes(), payload.as_bytes(), &tag, state.now(), expires)
        .map_err(|_| refused())?;
    let ticket = repo::tickets::by_no(&state.db.conn, no).await?.ok_or_else(refused)?;
    let upload = repo::uploads::get(&state.db.conn, upload_id).await?.ok_or_else(refused)?;
    if upload.ticket_id != Some(ticket.id) {
        return Err(refused());
    }
    let bytes =
        tokio::fs::read(super::uploads::file_path(state, &upload.storage_path)).await.map_err(ApiError::internal)?;
    Ok((super::uploads::served_type(&upload.mime), bytes))
}
