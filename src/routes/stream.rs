//! `GET /api/v1/stream/dashboard`: Server-Sent Events for the dashboards and big screens. Each
//! ticket event is one `data:` JSON line with its `id:`; `event: reset` asks the page to refetch
//! (its last event cannot be replayed, or events may have been lost); `event: revoked` ends a stream
//! whose credential was withdrawn; a comment line every `live.heartbeat_seconds`.
use crate::error::{ApiError, ApiResult, codes};
use crate::live::hub::Start;
use crate::live::{Delivery, LiveEvent};
use crate::services::screens::Viewer;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use std::collections::VecDeque;
use std::convert::Infallible;
use tokio::sync::{OwnedSemaphorePermit, broadcast};

#[derive(serde::Deserialize)]
struct StreamQuery {
    /// The token for clients that cannot send headers (EventSource).
    access_token: Option<String>,
    /// The same as the `Last-Event-ID` header, for polyfills that put it in the address.
    last_event_id: Option<String>,
}

#[utoipa::path(tag = "screens", params(crate::openapi::StreamParams), responses((status = 200, description = "实时事件（SSE）", content_type = "text/event-stream")))]
#[get("/stream/dashboard")]
async fn dashboard(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let q = web::Query::<StreamQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::validation("access_token", "查询参数格式不正确"))?
        .into_inner();
    let viewer = super::screen::viewer(&req, &state, q.access_token).await?;
    let permit = state.live.try_admit().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::TOO_MANY_STREAMS,
            "实时推送连接数已满，请稍后重试（页面将自动改为定时刷新）",
        )
    })?;
    let last = req.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok()).map(str::to_string).or(q.last_event_id);
    let (rx, start) = state.live.listen(last.as_deref());
    let mut pending = VecDeque::from([Bytes::from_static(b"retry: 5000\n: connected\n\n")]);
    match start {
        Start::Fresh => {}
        Start::Replay(events) => {
            pending.extend(events.iter().filter(|e| viewer.covers(&e.region_path)).map(|e| event_frame(e)))
        }
        Start::Reset => pending.push_back(reset_frame(&state.live.head_id())),
    }
    let period = std::time::Duration::from_secs(state.settings.live.heartbeat_seconds.max(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let conn = Conn { state: state.into_inner(), viewer, rx, pending, heartbeat, ended: false, _permit: permit };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache, no-transform"))
        // Already "encoded": the compression middleware leaves the stream alone (a compressor
        // would hold events back until its buffer fills).
        .insert_header(("Content-Encoding", "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(conn, next_frame)))
}

/// One open stream. Memory per stream is bounded: the hub's channel drops what a slow client has
/// not taken (it gets `reset`), and the pending queue holds at most one replay.
struct Conn {
    state: std::sync::Arc<AppState>,
    viewer: Viewer,
    rx: broadcast::Receiver<Delivery>,
    pending: VecDeque<Bytes>,
    heartbeat: tokio::time::Interval,
    ended: bool,
    /// Held for as long as the stream is open (the instance's `live.max_streams`).
    _permit: OwnedSemaphorePermit,
}

async fn next_frame(mut c: Conn) -> Option<(Result<Bytes, Infallible>, Conn)> {
    loop {
        if let Some(frame) = c.pending.pop_front() {
            return Some((Ok(frame), c));
        }
        if c.ended {
            return None;
        }
        tokio::select! {
            got = c.rx.recv() => match got {
                Ok(Delivery::Event(e)) => {
                    if c.viewer.covers(&e.region_path) {
                        c.pending.push_back(event_frame(&e));
                    }
                }
                Ok(Delivery::Reset) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    c.pending.push_back(reset_frame(&c.state.live.head_id()));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = c.heartbeat.tick() => match c.viewer.still_valid(&c.state).await {
                Ok(false) => {
                    c.pending.push_back(Bytes::from_static("event: revoked\ndata: {\"message\":\"凭证已停用，请重新登录或联系管理员\"}\n\n".as_bytes()));
                    c.ended = true;
                }
                Ok(true) => c.pending.push_back(Bytes::from_static(b": heartbeat\n\n")),
                Err(e) => {
                    // The database is busy or down: keep the stream, try again at the next beat.
                    tracing::warn!(error = ?e, "stream credential not rechecked");
                    c.pending.push_back(Bytes::from_static(b": heartbeat\n\n"));
                }
            },
        }
    }
}

fn event_frame(e: &LiveEvent) -> Bytes {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("id: {}\ndata: {data}\n\n", e.id))
}

fn reset_frame(head: &str) -> Bytes {
    Bytes::from(format!("id: {head}\nevent: reset\ndata: {{\"message\":\"数据可能有遗漏，请重新加载\"}}\n\n"))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(dashboard);
}
