//! The OpenAPI 3.1 document of the whole HTTP surface (`/api/openapi.json`) and Swagger UI
//! (`/api/docs`, served from the crate's vendored files).
//!
//! Every route file registers its handlers through `utoipa_actix_web`'s `ServiceConfig`, whose
//! `service` only takes a handler that carries `#[utoipa::path]`: a route without its description
//! does not compile. The document is collected from that same registration once per process, then
//! finished here with what is common to every operation: the error body as the `default` answer,
//! security (public routes `[]`, staff routes bearer, provider callbacks their secret) and the
//! `405`/`Allow` answer a path gives to a method it does not have.
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{OpenApi as _, ToSchema};
use utoipa_actix_web::AppExt;

/// Staff, villager and screen tokens: `Authorization: Bearer …`.
pub const BEARER: &str = "bearer";
/// Provider callbacks: their own secret (`?token=` or `X-Callback-Token`, or a signed body).
pub const CALLBACK: &str = "callback_token";

/// The error body every failure answers with (API.md "Contract details").
#[derive(ToSchema)]
#[schema(title = "Error")]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// One failure: a stable `code`, a Chinese `message` for people, and the field it is about.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `forbidden`, `not_found`.
    pub code: String,
    /// 简体中文说明，可直接展示给用户。
    pub message: String,
    /// The request field the error is about (`phone`, `location.lat`, `upload_ids[0]`).
    pub field: Option<String>,
    /// Every wrong field when a form is checked as a whole.
    #[schema(inline)]
    pub errors: Option<Vec<crate::error::FieldError>>,
}

/// A page of a list: `{items, total, page, per_page}`; `page` starts at 1, `per_page` ≤ 100.
#[derive(ToSchema)]
pub struct Page {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    pub total: u64,
    #[schema(minimum = 1)]
    pub page: u64,
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u64,
}

/// A page of the work list: ticket rows.
#[derive(ToSchema)]
pub struct TicketPage {
    pub items: Vec<crate::services::views::TicketRow>,
    /// Exact up to 10,000; beyond, a lower bound (`total_capped`).
    pub total: u64,
    /// More tickets match than were counted (`total` is then at least 10,000).
    pub total_capped: bool,
    pub page: u64,
    pub per_page: u64,
}

/// The format an Open311 path ends with.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum Open311Format {
    json,
    xml,
}

/// Filters of Open311 `GET requests.{format}` (the standard's, then the compatible extensions).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Open311Query {
    /// 逗号分隔的诉求编号（给出时忽略其他条件）
    pub service_request_id: Option<String>,
    /// 逗号分隔的服务代码
    pub service_code: Option<String>,
    /// ISO 8601 起始时间（默认 90 天前）
    pub start_date: Option<String>,
    /// ISO 8601 截止时间
    pub end_date: Option<String>,
    /// `open` 或 `closed`（可逗号分隔）
    pub status: Option<String>,
    pub jurisdiction_id: Option<String>,
    /// 扩展：只要此时间之后有更新的
    pub updated_after: Option<String>,
    /// 扩展：页码
    #[param(minimum = 1)]
    pub page: Option<u64>,
    /// 扩展：每页条数（最多 1000）
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u64>,
}

/// An Open311 request posted by a partner system (`api_key` identifies it).
#[derive(ToSchema)]
pub struct Open311Post {
    /// 管理员发放的 API 密钥
    pub api_key: String,
    /// 服务代码（分类代码）
    pub service_code: String,
    pub jurisdiction_id: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// 地址（须能认出一个村）
    pub address_string: Option<String>,
    /// 扩展：联系卡代码（定位到村）
    pub card_code: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// 扩展（multipart）：照片或语音文件，可多个
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    pub media: Option<Vec<Vec<u8>>>,
}

/// `size` of every card download: `wallet` (85.6×54 mm, default) or `poster` (A4).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardSizeParam {
    #[param(pattern = "^(wallet|poster)?$")]
    pub size: Option<String>,
}

/// The PNG's resolution: 72 to 600 (wallet) or 300 (poster); default 300 / 150.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardDpiParam {
    #[param(minimum = 72, maximum = 600)]
    pub dpi: Option<u32>,
}

/// A PDF's copies of each card (one per household), 1–20.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardCopiesParam {
    #[param(minimum = 1, maximum = 20)]
    pub copies: Option<u32>,
}

/// Paging of every list (a wrong value is a 400 naming the parameter).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 页码，从 1 开始（默认 1）
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// 每页条数（默认 20，最多 100）
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

/// A file sent as multipart field `file` (photos, voice notes, import sheets).
#[derive(ToSchema)]
pub struct FileUpload {
    /// 文件内容
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The card page's form (multipart, works without JavaScript).
#[derive(ToSchema)]
pub struct IntakeForm {
    pub description: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub address: Option<String>,
    /// 照片（最多 6 张）
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    pub photos: Option<Vec<Vec<u8>>>,
    /// 语音
    #[schema(value_type = Option<String>, format = Binary)]
    pub voice: Option<Vec<u8>>,
}

/// A region in the caller's scope (default: the caller's own).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionParam {
    pub region_id: Option<i64>,
}

/// The live stream: a token may come in the query string (EventSource cannot set headers).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    pub access_token: Option<String>,
    pub last_event_id: Option<String>,
}

/// The intake's idempotency key: the same key answers the first ticket again.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    #[param(rename = "Idempotency-Key", max_length = 200)]
    pub key: Option<String>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "民声直达 minsheng API",
        description = "接诉即办：村民诉求的受理、派单、办理、回访与考核。错误统一为 `{\"error\":{\"code\",\"message\",\"field\"}}`。",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDetail, Page, Open311Format)),
    tags(
        (name = "auth", description = "登录与令牌"),
        (name = "villagers", description = "村民：验证码登录、我的诉求"),
        (name = "cards", description = "联系卡（二维码）"),
        (name = "tickets", description = "诉求工单：受理、列表、详情、办理动作、跟踪、评价"),
        (name = "visits", description = "回访"),
        (name = "orders", description = "承办单位的工单"),
        (name = "uploads", description = "照片与语音"),
        (name = "stats", description = "统计、排名、红黑榜、热点"),
        (name = "exports", description = "导出"),
        (name = "admin", description = "行政区划、单位、人员、分类等管理"),
        (name = "imports", description = "批量导入"),
        (name = "sla", description = "时限规则与节假日"),
        (name = "sms", description = "短信外发箱与模板"),
        (name = "screens", description = "大屏"),
        (name = "appeals", description = "申诉"),
        (name = "accountability", description = "追责红线：纪委监督的追责记录"),
        (name = "council", description = "三老合议：村民议事会成员与合议公告"),
        (name = "hooks", description = "短信服务商回调"),
        (name = "pages", description = "网页（HTML）"),
        (name = "health", description = "健康检查与指标"),
        (name = "open311", description = "Open311 GeoReport v2 兼容接口")
    )
)]
struct Base;

/// The finished document, built once.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(build)
}

/// The document as served, serialized once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string(document()).expect("the OpenAPI document serializes"))
}

fn build() -> OpenApi {
    let (_, collected) = actix_web::App::new().into_utoipa_app().configure(crate::routes::configure).split_for_parts();
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.merge(collected);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("工作人员、村民或大屏的访问令牌"))
                .build(),
        ),
    );
    components.add_security_scheme(
        CALLBACK,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Callback-Token",
            "服务商回调密钥（也可用 ?token= 或服务商签名）",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        finish_item(path, item);
    }
    doc
}

/// Which kind of route a path is, for the defaults below.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Surface {
    /// `/api/v1/…`: JSON, staff bearer unless the handler says it is public.
    Api,
    /// `/hooks/…`: the provider's secret.
    Hook,
    /// `/open311/…`: the GeoReport facade, its own error array.
    Open311,
    /// Health and metrics: plain answers.
    Ops,
    /// Everything else: HTML pages and their assets.
    Page,
}

pub fn surface(path: &str) -> Surface {
    if path.starts_with("/api/") {
        Surface::Api
    } else if path.starts_with("/hooks/") {
        Surface::Hook
    } else if path.starts_with("/open311/") {
        Surface::Open311
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        Surface::Ops
    } else {
        Surface::Page
    }
}

fn finish_item(path: &str, item: &mut PathItem) {
    let surface = surface(path);
    for op in operations(item) {
        finish_operation(surface, op);
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn error_response(surface: Surface) -> RefOr<Response> {
    let builder = ResponseBuilder::new().description("错误：状态码说明原因，正文说明细节");
    RefOr::T(match surface {
        Surface::Page => builder
            .content("text/html", Content::new(None::<RefOr<utoipa::openapi::schema::Schema>>))
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
            .build(),
        // The standard's error list, `[{code, description}]`, in the format the path names.
        Surface::Open311 => builder
            .content(
                "application/json",
                Content::new(Some(
                    utoipa::openapi::schema::ArrayBuilder::new().items(
                        utoipa::openapi::ObjectBuilder::new()
                            .property(
                                "code",
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::Integer),
                            )
                            .property(
                                "description",
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::String),
                            )
                            .required("code")
                            .required("description"),
                    ),
                )),
            )
            .content("text/xml", Content::new(None::<RefOr<utoipa::openapi::schema::Schema>>))
            .build(),
        _ => builder.content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody")))).build(),
    })
}

fn finish_operation(surface: Surface, op: &mut Operation) {
    // Any status a route does not list is an error in the contract's shape.
    if !op.responses.responses.contains_key("default") {
        op.responses.responses.insert("default".into(), error_response(surface));
    }
    match op.security.as_mut() {
        // `security(())` in a handler: public. OpenAPI says that with an empty list.
        Some(list) if list.iter().all(is_anonymous) => list.clear(),
        Some(_) => {}
        None => {
            op.security = Some(match surface {
                Surface::Api => vec![SecurityRequirement::new(BEARER, Vec::<String>::new())],
                Surface::Hook => vec![SecurityRequirement::new(CALLBACK, Vec::<String>::new())],
                _ => vec![],
            })
        }
    }
}

fn is_anonymous(req: &SecurityRequirement) -> bool {
    serde_json::to_value(req).map(|v| v.as_object().is_some_and(|o| o.is_empty())).unwrap_or(false)
}

/// The methods the document lists for a concrete path (`/api/v1/tickets/QH1`), for the `Allow`
/// header of a 405; empty when no documented path matches.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let doc = document();
    // The most specific documented path answers for it (`/tickets/{no}/case.pdf` rather than
    // `/tickets/{no}/{action}`), as a reader of the document would match it.
    let matching: Vec<(&String, &PathItem)> =
        doc.paths.paths.iter().filter(|(template, _)| template_matches(template, path)).collect();
    let specificity = |t: &str| t.split('/').filter(|seg| !seg.contains('{')).count();
    let best = matching.iter().map(|(t, _)| specificity(t)).max().unwrap_or(0);
    let mut out = vec![];
    for (template, item) in matching {
        if specificity(template) != best {
            continue;
        }
        let methods = [
            ("GET", item.get.is_some()),
            ("HEAD", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (m, present) in methods {
            if present && !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// `/tickets/{no}/{action}` against `/tickets/QH1/accept`; `{name}` matches one non-empty segment,
/// also inside a segment (`/open311/v2/requests/{id}.{format}`).
pub fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| segment_matches(t, p))
}

fn segment_matches(template: &str, seg: &str) -> bool {
    let Some(open) = template.find('{') else { return template == seg };
    let Some(close) = template[open..].find('}').map(|c| open + c) else { return template == seg };
    let (prefix, rest) = (&template[..open], &template[close + 1..]);
    if !seg.starts_with(prefix) {
        return false;
    }
    let seg = &seg[prefix.len()..];
    if rest.is_empty() {
        return !seg.is_empty();
    }
    // The parameter takes at least one character, then the rest must match.
    (1..=seg.len()).filter(|&i| seg.is_char_boundary(i)).any(|i| segment_matches(rest, &seg[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ListAnswer;

    #[test]
    fn templates_match_concrete_paths() {
        assert!(template_matches("/api/v1/tickets/{no}", "/api/v1/tickets/QH1"));
        assert!(!template_matches("/api/v1/tickets/{no}", "/api/v1/tickets/"));
        assert!(!template_matches("/api/v1/tickets/{no}", "/api/v1/tickets/QH1/accept"));
        assert!(template_matches("/open311/v2/requests/{id}.{format}", "/open311/v2/requests/QH1.xml"));
        assert!(!template_matches("/open311/v2/requests/{id}.{format}", "/open311/v2/requests/QH1"));
        assert!(template_matches("/c/{code}", "/c/ABC"));
    }

    #[test]
    fn the_allowed_methods_are_those_of_the_most_specific_path() {
        assert_eq!(allowed_methods("/api/v1/tickets/QH1/case.pdf"), vec!["GET", "HEAD"]);
        assert_eq!(allowed_methods("/api/v1/tickets/QH1/accept"), vec!["POST"]);
        assert_eq!(allowed_methods("/api/v1/tickets"), vec!["GET", "HEAD", "POST"]);
        assert!(allowed_methods("/api/v1/no-such-thing").is_empty());
    }

    #[test]
    fn the_list_shape_is_the_documented_one() {
        let answer =
            serde_json::to_value(ListAnswer::<u8> { items: vec![1], total: 1, page: 1, per_page: 20 }).unwrap();
        let mut keys: Vec<String> = answer.as_object().unwrap().keys().cloned().collect();
        let schema = serde_json::to_value(<Page as utoipa::PartialSchema>::schema()).unwrap();
        let mut documented: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
        documented.sort();
        keys.sort();
        assert_eq!(keys, documented);
    }

    #[test]
    fn every_reference_resolves() {
        fn walk(v: &serde_json::Value, refs: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(o) => {
                    if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                        refs.push(r.to_string());
                    }
                    o.values().for_each(|v| walk(v, refs));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        let mut refs = vec![];
        walk(&doc, &mut refs);
        assert!(refs.len() > 50, "{}", refs.len());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
            assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
        }
    }

    #[test]
    fn every_operation_has_an_error_answer_and_security() {
        for (path, item) in document().paths.paths.iter() {
            let mut item = item.clone();
            for op in operations(&mut item) {
                assert!(op.responses.responses.contains_key("default"), "{path}");
                assert!(op.security.is_some(), "{path}");
            }
        }
    }
}
