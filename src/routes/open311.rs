//! The Open311 GeoReport v2 facade (`/open311/v2/…`, every path as `.json` and `.xml`, errors as the
//! standard's list) and the admin's API keys (`/api/v1/open311/keys`).
use crate::auth::StaffUser;
use crate::domain::open311_doc::Doc;
use crate::error::{ApiError, ApiResult};
use crate::services::open311::{self, Posted};
use crate::services::open311_keys::{self, NewKeyBody};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, post, web};
use futures_util::StreamExt;

/// The two formats of the standard, named by the path's extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Format {
    fn parse(ext: &str) -> Option<Format> {
        match ext {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

fn answer(format: Format, status: StatusCode, doc: &Doc, root: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    match format {
        Format::Json => res.json(doc.to_json()),
        Format::Xml => res.content_type("text/xml; charset=utf-8").body(doc.to_xml(root)),
    }
}

/// The standard's error list (an internal error is logged with its request id first, as everywhere).
fn refuse(format: Format, e: ApiError) -> HttpResponse {
    if e.status.is_server_error() {
        let _ = e.error_response();
    }
    let (status, doc) = open311::errors(&e);
    let mut res = answer(format, status, &doc, "errors");
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The standard's error list for an error met before a handler ran (no route, a control character
/// in the address), in the format the path ends with.
pub fn refuse_at(path: &str, e: ApiError) -> HttpResponse {
    refuse(if path.ends_with(".xml") { Format::Xml } else { Format::Json }, e)
}

fn respond(format: &str, root: &str, made: impl FnOnce(Format) -> ApiResult<(StatusCode, Doc)>) -> HttpResponse {
    let Some(format) = Format::parse(format) else {
        return refuse(Format::Json, ApiError::not_found("只支持 .json 和 .xml 两种格式"));
    };
    match made(format) {
        Ok((status, doc)) => answer(format, status, &doc, root),
        Err(e) => refuse(format, e),
    }
}

fn pairs(query: &str) -> ApiResult<Vec<(String, String)>> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|q| q.into_inner())
        .map_err(|_| ApiError::validation("query", "查询参数格式不正确"))
}

#[utoipa::path(tag = "open311", security(()), params(("format" = crate::openapi::Open311Format, Path, description = "json 或 xml")), responses((status = 200, description = "服务发现（Open311 discovery）", content((Object = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/discovery.{format}")]
async fn open311_discovery(state: web::Data<AppState>, format: web::Path<String>) -> HttpResponse {
    respond(&format, "discovery", |_| Ok((StatusCode::OK, open311::discovery(&state))))
}

#[utoipa::path(tag = "open311", security(()), params(("format" = crate::openapi::Open311Format, Path, description = "json 或 xml")), responses((status = 200, description = "服务列表：诉求分类", content((Vec<Object> = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/services.{format}")]
async fn open311_services(state: web::Data<AppState>, format: web::Path<String>) -> HttpResponse {
    let made = open311::services(&state).await;
    respond(&format, "services", |_| made.map(|d| (StatusCode::OK, d)))
}

#[utoipa::path(tag = "open311", security(()), params(("code" = String, Path, description = "服务代码（分类代码）"), ("format" = crate::openapi::Open311Format, Path, description = "json 或 xml")), responses((status = 200, description = "服务定义（补充属性）", content((Object = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/services/{code}.{format}")]
async fn open311_service_definition(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (code, format) = path.into_inner();
    let made = open311::definition(&state, &code).await;
    respond(&format, "service_definition", |_| made.map(|d| (StatusCode::OK, d)))
}

#[utoipa::path(tag = "open311", security(()), params(("format" = crate::openapi::Open311Format, Path, description = "json 或 xml"), crate::openapi::Open311Query), responses((status = 200, description = "诉求列表（默认近 90 天，最多 1000 条）", content((Vec<Object> = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/requests.{format}")]
async fn open311_requests(state: web::Data<AppState>, req: HttpRequest, format: web::Path<String>) -> HttpResponse {
    let query = pairs(req.query_string()).and_then(|p| open311::parse_query(&state, &p));
    let made = match query {
        Ok(q) => open311::requests(&state, &q).await.map(|(doc, total)| (doc, total, q)),
        Err(e) => Err(e),
    };
    let mut paging = None;
    let mut res = respond(&format, "service_requests", |_| {
        made.map(|(doc, total, q)| {
            paging = Some((total, q.page, q.page_size));
            (StatusCode::OK, doc)
        })
    });
    // Paging (an extension): the standard's answer is a bare list, so the counts travel as headers.
    if let Some((total, page, size)) = paging {
        for (name, value) in [("x-total-count", total), ("x-page", page), ("x-page-size", size)] {
            res.headers_mut().insert(header::HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    res
}

#[utoipa::path(tag = "open311", security(()), params(("id" = String, Path, description = "诉求编号"), ("format" = crate::openapi::Open311Format, Path, description = "json 或 xml")), responses((status = 200, description = "一条诉求", content((Vec<Object> = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/requests/{id}.{format}")]
async fn open311_request(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (id, format) = path.into_inner();
    let made = open311::request(&state, &id).await;
    respond(&format, "service_requests", |_| made.map(|d| (StatusCode::OK, d)))
}

/// A form-encoded body's bound (a description of 2,000 characters is far below it).
const FORM_MAX: usize = 64 * 1024;

/// The posted request: `application/x-www-form-urlencoded` as the standard says, or
/// `multipart/form-data` with media files (an extension); `api_key` may also come in the query.
async fn read_post(state: &AppState, req: &HttpRequest, mut payload: web::Payload) -> ApiResult<Posted> {
    let mut fields = pairs(req.query_string())?;
    let mut files = vec![];
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let max = state.settings.uploads.max_image_bytes.max(state.settings.uploads.max_audio_bytes);
        let form = super::multipart::read(Multipart::new(req.headers(), payload), max, open311::MAX_MEDIA).await?;
        let mut text: Vec<(String, String)> = form.fields.into_iter().collect();
        text.sort();
        fields.extend(text);
        files = form.files;
    } else {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| ApiError::validation("body", "请求体不完整，请重试"))?;
            if body.len() + chunk.len() > FORM_MAX {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    crate::error::codes::PAYLOAD_TOO_LARGE,
                    "请求体过大",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&body).map_err(|_| ApiError::validation("body", "请求体须为 UTF-8 编码"))?;
        fields.extend(pairs(text)?);
    }
    for (k, v) in &fields {
        crate::domain::text::clean(v).map_err(|e| ApiError::validation(k.clone(), e.message()))?;
    }
    let idempotency_key =
        req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string());
    Ok(Posted { fields, files, idempotency_key })
}

#[utoipa::path(tag = "open311", security(()), params(("format" = crate::openapi::Open311Format, Path, description = "json 或 xml")), request_body(content((crate::openapi::Open311Post = "application/x-www-form-urlencoded"), (crate::openapi::Open311Post = "multipart/form-data"))), responses((status = 201, description = "已受理", content((Vec<Object> = "application/json"), (String = "text/xml"))), (status = 200, description = "同一幂等键：第一次的回答", content((Vec<Object> = "application/json"), (String = "text/xml")))))]
#[post("/open311/v2/requests.{format}")]
async fn open311_post_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    format: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    if Format::parse(&format).is_none() {
        return respond(&format, "service_requests", |_| Err(ApiError::not_found("只支持 .json 和 .xml 两种格式")));
    }
    let made = match read_post(&state, &req, payload).await {
        Ok(p) => open311::post(&state, p).await,
        Err(e) => Err(e),
    };
    respond(&format, "service_requests", |_| made)
}

#[utoipa::path(tag = "open311", responses((status = 201, description = "新的 API 密钥（只显示这一次）", body = Object)))]
#[post("/open311/keys")]
async fn create_open311_key(
    state: web::Data<AppState>,
    user: StaffUser,
    body: web::Json<NewKeyBody>,
) -> ApiResult<HttpResponse> {
    let made = open311_keys::create(&state, &user, body.into_inner()).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(made))
}

#[utoipa::path(tag = "open311", responses((status = 200, description = "API 密钥列表（不含密钥本身）", body = Object)))]
#[get("/open311/keys")]
async fn list_open311_keys(state: web::Data<AppState>, user: StaffUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": open311_keys::list(&state, &user).await?})))
}

#[utoipa::path(tag = "open311", responses((status = 204, description = "已停用")))]
#[delete("/open311/keys/{id}")]
async fn revoke_open311_key(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    open311_keys::revoke(&state, &user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The facade, at the server's root as the standard's clients expect it.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(open311_discovery)
        .service(open311_services)
        .service(open311_service_definition)
        .service(open311_requests)
        .service(open311_request)
        .service(open311_post_request);
}

/// The admin's keys, under `/api/v1`.
pub fn configure_keys(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_open311_key).service(list_open311_keys).service(revoke_open311_key);
}
