//! `ApiError`: every failure the API can answer with, as a stable snake_case code, an HTTP status and a
//! Chinese message. Services return it directly: one error type keeps a newcomer's path short (the
//! codes are the contract, not a per-service enum), and internal errors never leak their details.
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// Every error code the API answers with: the stable, machine-readable half of the contract
/// (`{"error": {"code", …}}`). The code names one of these; tests and clients spell them out.
pub mod codes {
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    pub const ALREADY_APPEALED: &str = "already_appealed";
    pub const ALREADY_DECIDED: &str = "already_decided";
    pub const ALREADY_HANDLED: &str = "already_handled";
    pub const ALREADY_RATED: &str = "already_rated";
    pub const ALREADY_SIGNED: &str = "already_signed";
    pub const ASSIGNMENT_ENDED: &str = "assignment_ended";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const CANNOT_ESCALATE: &str = "cannot_escalate";
    pub const CARD_CHANGED: &str = "card_changed";
    pub const CARD_INACTIVE: &str = "card_inactive";
    pub const CARD_NOT_ACTIVE: &str = "card_not_active";
    pub const CARD_REVOKED: &str = "card_revoked";
    pub const CARD_ROTATED: &str = "card_rotated";
    pub const CLAIMED_BY_OTHER: &str = "claimed_by_other";
    pub const CONFLICT: &str = "conflict";
    pub const DEFAULT_POLICY: &str = "default_policy";
    pub const DUPLICATE: &str = "duplicate";
    pub const ESCALATION_PENDING: &str = "escalation_pending";
    pub const FORBIDDEN: &str = "forbidden";
    pub const HEADERS_TOO_LARGE: &str = "headers_too_large";
    pub const IDEMPOTENCY_DUPLICATE: &str = "idempotency_duplicate";
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "idempotency_in_progress";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    pub const ILLEGAL_TRANSITION: &str = "illegal_transition";
    pub const IMAGE_TOO_LARGE: &str = "image_too_large";
    pub const IMAGE_UNREADABLE: &str = "image_unreadable";
    pub const IMPORT_INVALID: &str = "import_invalid";
    pub const EXPORT_TOO_LARGE: &str = "export_too_large";
    pub const EXPORT_BUSY: &str = "export_busy";
    pub const IN_USE: &str = "in_use";
    pub const INTERNAL_ERROR: &str = "internal_error";
    pub const INVALID_BODY: &str = "invalid_body";
    pub const INVALID_CALLBACK_SIGNATURE: &str = "invalid_callback_signature";
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    pub const INVALID_LINKED_TICKETS: &str = "invalid_linked_tickets";
    pub const INVALID_METRICS_TOKEN: &str = "invalid_metrics_token";
    pub const INVALID_QUERY: &str = "invalid_query";
    pub const LENGTH_REQUIRED: &str = "length_required";
    pub const LINK_EXPIRED: &str = "link_expired";
    pub const LOGIN_LOCKED: &str = "login_locked";
    pub const MERGE_INTO_SELF: &str = "merge_into_self";
    pub const MERGE_TARGET_UNUSABLE: &str = "merge_target_unusable";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const NO_ASSIGNMENT: &str = "no_assignment";
    pub const NO_ESCALATION_REQUEST: &str = "no_escalation_request";
    pub const NO_REQUESTER: &str = "no_requester";
    pub const NO_STAFF_CONTACTS: &str = "no_staff_contacts";
    pub const NOT_A_VILLAGE: &str = "not_a_village";
    pub const NOT_ACCEPTABLE: &str = "not_acceptable";
    pub const NOT_APPEALABLE: &str = "not_appealable";
    pub const NOT_CLAIMED: &str = "not_claimed";
    pub const NOT_DUE: &str = "not_due";
    pub const NOT_FOUND: &str = "not_found";
    pub const NOT_REPEATED: &str = "not_repeated";
    pub const NOT_RESENDABLE: &str = "not_resendable";
    pub const OTP_COOLDOWN: &str = "otp_cooldown";
    pub const OUTSIDE_UNIT: &str = "outside_unit";
    pub const OTP_INVALID: &str = "otp_invalid";
    pub const OTP_LOCKED: &str = "otp_locked";
    pub const OUT_OF_SCOPE: &str = "out_of_scope";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
    pub const PAUSE_OVERDUE: &str = "pause_overdue";
    /// 联合办理: the lead resolves while an assisting part is owed.
    pub const PARTS_OPEN: &str = "parts_open";
    /// 联合办理: no open assisting part of that unit (or of the acting cadre's unit).
    pub const NO_PART: &str = "no_part";
    /// 联合办理: the assisting units named for a dispatch are not usable (the lead itself, repeated,
    /// too many).
    pub const ASSISTING_UNITS: &str = "assisting_units";
    pub const PAUSE_PENDING: &str = "pause_pending";
    pub const NO_PAUSE_REQUEST: &str = "no_pause_request";
    pub const REFER_PENDING: &str = "refer_pending";
    pub const NO_REFER_REQUEST: &str = "no_refer_request";
    pub const NOT_COUNCIL_MEMBER: &str = "not_council_member";
    pub const COUNCIL_ALREADY_SIGNED: &str = "council_already_signed";
    pub const COUNCIL_TOO_FEW: &str = "council_too_few";
    pub const COUNCIL_NOT_SIGNED: &str = "council_not_signed";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const PHOTO_TOO_LARGE: &str = "photo_too_large";
    pub const POLICY_EXISTS: &str = "policy_exists";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const RATING_LINK_EXPIRED: &str = "rating_link_expired";
    pub const REGION_OUT_OF_SCOPE: &str = "region_out_of_scope";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const SAME_ASSIGNMENT: &str = "same_assignment";
    pub const SERVER_BUSY: &str = "server_busy";
    pub const SIGNER_ALREADY_SIGNED: &str = "signer_already_signed";
    pub const SIGNOFF_MISSING: &str = "signoff_missing";
    pub const SIGNOFF_NOT_REQUIRED: &str = "signoff_not_required";
    pub const STORAGE_FULL: &str = "storage_full";
    pub const TOKEN_EXPIRED: &str = "token_expired";
    pub const TOO_MANY_CARDS: &str = "too_many_cards";
    pub const TOKEN_INVALID: &str = "token_invalid";
    pub const TOKEN_REUSED: &str = "token_reused";
    pub const TOKEN_REVOKED: &str = "token_revoked";
    pub const TOO_MANY_STREAMS: &str = "too_many_streams";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const UNAVAILABLE: &str = "unavailable";
    pub const UNIT_NOT_ABOVE: &str = "unit_not_above";
    pub const UNIT_OUT_OF_SCOPE: &str = "unit_out_of_scope";
    pub const UNKNOWN_ASSIGNEE: &str = "unknown_assignee";
    pub const UNKNOWN_CARD: &str = "unknown_card";
    pub const UNKNOWN_CATEGORY: &str = "unknown_category";
    pub const UNKNOWN_REGION: &str = "unknown_region";
    pub const UNKNOWN_TICKET: &str = "unknown_ticket";
    pub const UNKNOWN_UNIT: &str = "unknown_unit";
    pub const UNKNOWN_UPLOAD: &str = "unknown_upload";
    pub const UNPROCESSABLE: &str = "unprocessable";
    pub const UNREACHABLE: &str = "unreachable";
    pub const VISIT_REQUIRED: &str = "visit_required";
    pub const UNSUPPORTED_MEDIA: &str = "unsupported_media";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const UNSUPPORTED_ENCODING: &str = "unsupported_encoding";
    pub const URI_TOO_LONG: &str = "uri_too_long";
    pub const VALIDATION_FAILED: &str = "validation_failed";
    pub const WECHAT_CODE_INVALID: &str = "wechat_code_invalid";
    pub const WECHAT_DISABLED: &str = "wechat_disabled";
    pub const WECHAT_ERROR: &str = "wechat_error";
    pub const WECHAT_RATE_LIMITED: &str = "wechat_rate_limited";
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
    /// Every wrong field of a request checked as a whole (the intake form), in the form's order;
    /// `field` and `message` are the first of them. Empty for a single-field error.
    pub errors: Vec<FieldError>,
    /// For internal errors: the cause, logged with an id, never sent to the client.
    source: Option<anyhow::Error>,
}

/// One wrong field of a request, in the error body's `errors` list.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None, errors: vec![], source: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The first of several field errors, carrying them all (`errors` in the body): the status, code,
    /// field and message of the first, so a client reading only `field` still finds one.
    pub fn fields(mut all: Vec<ApiError>) -> Option<ApiError> {
        if all.is_empty() {
            return None;
        }
        let list: Vec<FieldError> = all
            .iter()
            .filter_map(|e| e.field.clone().map(|field| FieldError { field, message: e.message.clone() }))
            .collect();
        let mut first = all.remove(0);
        if !list.is_empty() {
            first.errors = list;
        }
        Some(first)
    }

    /// Each wrong field with its message: `errors`, or the one `field` when there is no list.
    pub fn field_errors(&self) -> Vec<FieldError> {
        if !self.errors.is_empty() {
            return self.errors.clone();
        }
        self.field.iter().map(|f| FieldError { field: f.clone(), message: self.message.clone() }).collect()
    }

    /// 400: a field is missing or malformed.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::VALIDATION_FAILED, message).with_field(field)
    }

    /// 422: well-formed but refers to something unusable (unknown category, inactive card…).
    pub fn unprocessable(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }

    pub fn out_of_scope() -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::OUT_OF_SCOPE, "该工单不在您的管辖范围内")
    }

    pub fn too_many(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.retry_after = Some(retry_after.max(1));
        e
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE, message)
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL_ERROR, "服务器内部错误，请稍后重试");
        e.source = Some(err.into());
        e
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

tokio::task_local! {
    /// The id of the request being handled (set by the request middleware in `startup`).
    pub static REQUEST_ID: String;
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut message = self.message.clone();
        if let Some(source) = &self.source {
            // The request's id (also in the `x-request-id` header and on every log line of the
            // request), so a villager's or cadre's screenshot leads straight to the log.
            let error_id =
                REQUEST_ID.try_with(|id| id.clone()).unwrap_or_else(|_| uuid::Uuid::new_v4().simple().to_string());
            tracing::error!(error_id = %error_id, error = ?source, "internal error");
            message = format!("{message}（错误编号 {error_id}）");
        }
        let mut resp = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.insert_header((RETRY_AFTER, v));
        }
        resp.json(Body {
            error: Inner { code: self.code, message: &message, field: self.field.as_deref(), errors: &self.errors },
        })
    }
}

/// The database cannot be reached (down, restarting, refusing connections): a 503 the client may
/// retry, not a 500. `crate::db::unreachable` decides; the breaker in `middleware` counts these.
const DATABASE_DOWN: &str = "数据库暂时不可用，请稍后重试";

impl ApiError {
    fn database(e: anyhow::Error, unreachable: bool) -> Self {
        if !unreachable {
            return Self::internal(e);
        }
        let mut api = Self::unavailable(DATABASE_DOWN);
        api.retry_after = Some(2);
        api.source = Some(e);
        api
    }

    /// Whether this is the answer for an unreachable database (what the breaker counts).
    pub fn is_database_down(&self) -> bool {
        self.code == codes::UNAVAILABLE && self.message == DATABASE_DOWN
    }

    pub fn database_down() -> Self {
        let mut api = Self::unavailable(DATABASE_DOWN);
        api.retry_after = Some(2);
        api
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        let unreachable = crate::db::unreachable(&e);
        Self::database(e.into(), unreachable)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let unreachable = e.chain().any(|c| c.downcast_ref::<sea_orm::DbErr>().is_some_and(crate::db::unreachable));
        Self::database(e, unreachable)
    }
}

/// Turns actix's JSON and query extractor failures into our error shape, naming the field when the
/// parser says which one it was.
pub fn json_error_handler(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "请求体必须是 JSON（Content-Type: application/json）",
        ),
        J::Overflow { .. } | J::OverflowKnownLength { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::PAYLOAD_TOO_LARGE, "请求体过大")
        }
        // Typed bodies are read by `routes::body::JsonBody`, which names the field; here a body that
        // is JSON of the wrong shape at the top level goes the same way, anything else is not JSON.
        J::Deserialize(e) if e.is_data() => ApiError::from_body_error("", &e.to_string()),
        _ => ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_BODY, "请求体不是有效的 JSON"),
    };
    api.into()
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    let msg = err.to_string();
    let mut api = ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_QUERY, "查询参数格式不正确");
    if let Some(field) = field_in_message(&msg) {
        api = api.with_field(field);
    }
    api.into()
}

/// URL-encoded forms (the villager's rating form): the same shape; on a page path
/// `middleware::contract_errors` shows it as the Chinese message page.
pub fn form_error_handler(err: actix_web::error::UrlencodedError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError as U;
    let api = match &err {
        U::Overflow { .. } | U::UnknownLength | U::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::PAYLOAD_TOO_LARGE, "提交的内容过长，请删减后重试")
        }
        U::ContentType => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, codes::UNSUPPORTED_MEDIA_TYPE, "请以普通表单方式提交")
        }
        U::Parse(e) => ApiError::from_body_error("", &e.to_string()),
        _ => ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_BODY, "表单内容不完整，请重试"),
    };
    api.into()
}

/// A path segment of the wrong type (`/api/v1/sla-policies/abc` where an id is a number) names no
/// resource: 404, as an unknown id would.
pub fn path_error_handler(_err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::not_found("请求的资源不存在").into()
}

impl ApiError {
    /// A body that parsed as JSON but does not fit the request type: `path` is where serde stopped
    /// (`""` for the top level, `location.lat`, `upload_ids[0]`), `msg` what it said. A missing or
    /// unknown field is named by serde inside the message, below `path`.
    pub fn from_body_error(path: &str, msg: &str) -> ApiError {
        let named = |prefix: &str| {
            msg.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(|name| {
                // serde_path_to_error already ends the path with an unknown field's own name.
                if path.is_empty() || path == name || path.ends_with(&format!(".{name}")) {
                    if path.is_empty() { name.to_string() } else { path.to_string() }
                } else {
                    format!("{path}.{name}")
                }
            })
        };
        let (message, field) = if let Some(f) = named("missing field `") {
            ("缺少必填字段", f)
        } else if let Some(f) = named("unknown field `") {
            ("不认识的字段", f)
        } else if msg.starts_with("unknown variant") {
            ("字段取值不在允许范围内", path.to_string())
        } else {
            ("字段类型或格式不正确", path.to_string())
        };
        let mut api = ApiError::validation(field.clone(), message);
        if !field.is_empty() {
            api.message = format!("{message}：{field}");
        } else {
            api.field = None;
        }
        api
    }
}

/// Reads a JSON value as `T`, naming the field that does not fit.
pub fn typed_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::from_body_error(if path == "." { "" } else { &path }, &e.inner().to_string())
    })
}

/// serde names a missing field as "missing field `phone`"; take the name between backticks.
fn field_in_message(msg: &str) -> Option<String> {
    if let Some(rest) = msg.strip_prefix("missing field `") {
        return rest.split('`').next().map(str::to_string);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_the_field_where_serde_stopped() {
        let e = ApiError::from_body_error("", "missing field `phone`");
        assert_eq!((e.field.as_deref(), e.status), (Some("phone"), StatusCode::BAD_REQUEST));
        let e = ApiError::from_body_error("location", "missing field `lat`");
        assert_eq!(e.field.as_deref(), Some("location.lat"));
        let e = ApiError::from_body_error("phone", "invalid type: integer `13812345678`, expected a string");
        assert_eq!(e.field.as_deref(), Some("phone"));
        assert_eq!(e.message, "字段类型或格式不正确：phone");
        let e = ApiError::from_body_error("upload_ids[0]", "invalid type: integer `3`, expected a string");
        assert_eq!(e.field.as_deref(), Some("upload_ids[0]"));
        let e = ApiError::from_body_error("", "invalid type: string \"x\", expected struct Login");
        assert_eq!(e.field, None);
    }

    #[test]
    fn missing_field_is_named() {
        let e = ApiError::from_body_error("", "missing field `phone` at line 1 column 2");
        assert_eq!(e.field.as_deref(), Some("phone"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
