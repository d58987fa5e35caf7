//! The Open311 GeoReport v2 facade: our categories as the standard's services, our tickets as its
//! service requests (public: no requester's name or phone, phones and ID numbers in text masked), and
//! filing by an outside application with an API key through the one intake (`intake::file_open311`).
//! Answers are `Doc`s, written as JSON or XML by the route.
use super::intake::{self, IntakeAnswer};
use super::open311_keys;
use crate::domain::open311::{OpenStatus, status_note};
use crate::domain::open311_doc::Doc;
use crate::domain::privacy::mask_personal_numbers;
use crate::domain::ticket::Status;
use crate::domain::values::{HandlingLevel, Kind, UploaderKind};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::catalog::Category;
use crate::repo::open311::RequestFilter;
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The standard's default window for a request list, and its most requests in one answer.
pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_PAGE_SIZE: u64 = 1000;
const MAX_PAGE: u64 = 1_000_000;

/// A time as the standard writes it: ISO 8601 with the county's offset.
fn iso(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.tz()).to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub fn discovery(state: &AppState) -> Doc {
    let base = format!("{}/open311/v2", state.public_url());
    let changeset = Doc::text("2026-12-19T00:00:00+08:00");
    let county = &state.settings.county;
    Doc::Object(vec![
        ("changeset", changeset.clone()),
        ("contact", Doc::text(format!("{}民声直达，服务热线 {}", county.name, county.hotline))),
        ("key_service", Doc::text("提交诉求需要 API 密钥（api_key），请向县级管理员申请")),
        (
            "endpoints",
            Doc::List(
                "endpoint",
                vec![Doc::Object(vec![
                    ("specification", Doc::text("http://wiki.open311.org/GeoReport_v2")),
                    ("url", Doc::text(base)),
                    ("changeset", changeset),
                    ("type", Doc::text("production")),
                    ("formats", Doc::List("format", vec![Doc::text("application/json"), Doc::text("text/xml")])),
                ])],
            ),
        ),
    ])
}

/// The categories a request can be filed under, as services: the items of each subject (a subject
/// with no items is a service itself), grouped by their subject.
async fn service_categories(state: &AppState) -> ApiResult<(Vec<Category>, HashMap<String, String>)> {
    let all: Vec<Category> =
        repo::catalog::all_categories(&state.db.conn).await?.into_iter().filter(|c| c.active).collect();
    let names: HashMap<String, String> = all.iter().map(|c| (c.code.clone(), c.name.clone())).collect();
    let has_items = |c: &Category| all.iter().any(|o| o.parent_code.as_deref() == Some(c.code.as_str()));
    let leaves = all.iter().filter(|c| !has_items(c)).cloned().collect();
    Ok((leaves, names))
}

fn group_of(c: &Category, names: &HashMap<String, String>) -> String {
    c.parent_code.as_ref().and_then(|p| names.get(p)).cloned().unwrap_or_else(|| c.name.clone())
}

fn default_kind(c: &Category) -> Kind {
    c.default_kind.as_deref().and_then(Kind::parse).unwrap_or(Kind::Help)
}

pub async fn services(state: &AppState) -> ApiResult<Doc> {
    let (leaves, names) = service_categories(state).await?;
    let items = leaves
        .iter()
        .map(|c| {
            let group = group_of(c, &names);
            let level = HandlingLevel::parse(&c.level).map(|l| l.label()).unwrap_or("");
            let mut keywords = vec![c.name.clone()];
            if group != c.name {
                keywords.push(group.clone());
            }
            keywords.push(default_kind(c).label().to_string());
            Doc::Object(vec![
                ("service_code", Doc::text(&c.code)),
                ("service_name", Doc::text(&c.name)),
                ("description", Doc::text(format!("{group}·{}（默认由{level}单位办理）", c.name))),
                // Every service has attributes (the request's kind), see `definition`.
                ("metadata", Doc::Bool(true)),
                // Our tickets change state as they are handled: a client may follow them.
                ("type", Doc::text("realtime")),
                ("keywords", Doc::text(keywords.join(","))),
                ("group", Doc::text(group)),
            ])
        })
        .collect();
    Ok(Doc::List("service", items))
}

/// A service's attributes: what the category asks beyond the standard's fields. Each asks the
/// request's kind (诉求类型), optional, preset to what requests of the category usually are.
pub async fn definition(state: &AppState, code: &str) -> ApiResult<Doc> {
    let c = repo::catalog::category(&state.db.conn, code.trim())
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| ApiError::not_found(format!("服务（诉求分类）{code} 不存在")))?;
    let preset = default_kind(&c);
    let values = Kind::ALL
        .iter()
        .map(|k| Doc::Object(vec![("key", Doc::text(k.as_str())), ("name", Doc::text(k.label()))]))
        .collect();
    let kind = Doc::Object(vec![
        ("variable", Doc::Bool(true)),
        ("code", Doc::text("kind")),
        ("datatype", Doc::text("singlevaluelist")),
        ("required", Doc::Bool(false)),
        ("datatype_description", Doc::text(format!("以 attribute[kind] 提交；不填时为“{}”", preset.label()))),
        ("order", Doc::Int(1)),
        ("description", Doc::text("诉求类型")),
        ("values", Doc::List("value", values)),
    ]);
    Ok(Doc::Object(vec![("service_code", Doc::text(c.code)), ("attributes", Doc::List("attribute", vec![kind]))]))
}

/// The query of `GET requests`, read from its pairs (a repeated parameter counts as a comma list).
#[derive(Debug, Default)]
pub struct RequestQuery {
    pub filter: RequestFilter,
    pub page: u64,
    pub page_size: u64,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::validation(field, message)
}

/// A time of a query: ISO 8601 with an offset (`2026-12-01T08:00:00+08:00`, `…Z`), or a date, read
/// in the county's time zone as its first (`start`) or last (`end`) second.
fn query_time(state: &AppState, field: &str, raw: &str, end: bool) -> ApiResult<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let local = if end { day.and_hms_opt(23, 59, 59) } else { day.and_hms_opt(0, 0, 0) };
        if let Some(at) = local.and_then(|t| state.tz().from_local_datetime(&t).earliest()) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    Err(bad(field, format!("{field} 格式不正确，应为 ISO 8601 时间，如 2026-12-01T00:00:00+08:00")))
}

fn number(field: &str, raw: &str, range: std::ops::RangeInclusive<u64>) -> ApiResult<u64> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| bad(field, format!("{field} 须为{}–{}之间的整数", range.start(), range.end())))
}

pub fn parse_query(state: &AppState, pairs: &[(String, String)]) -> ApiResult<RequestQuery> {
    let list = |name: &str| -> Option<Vec<String>> {
        let items: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect();
        (!items.is_empty()).then_some(items)
    };
    let one = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut q = RequestQuery { page: 1, page_size: MAX_PAGE_SIZE, ..Default::default() };
    if let Some(j) = one("jurisdiction_id")
        && j.chars().count() > 100
    {
        return Err(bad("jurisdiction_id", "jurisdiction_id 过长"));
    }
    if let Some(p) = one("page") {
        q.page = number("page", p, 1..=MAX_PAGE)?;
    }
    if let Some(s) = one("page_size") {
        q.page_size = number("page_size", s, 1..=MAX_PAGE_SIZE)?;
    }
    let f = &mut q.filter;
    if let Some(ids) = list("service_request_id") {
        if ids.len() > MAX_PAGE_SIZE as usize {
            return Err(bad("service_request_id", format!("一次最多查询{MAX_PAGE_SIZE}个工单")));
        }
        // The standard: ids override every other filter.
        f.nos = Some(ids);
        return Ok(q);
    }
    f.categories = list("service_code");
    if let Some(statuses) = list("status") {
        let mut ours = vec![];
        for s in statuses {
            let open = OpenStatus::parse(&s).ok_or_else(|| bad("status", "status 只能是 open 或 closed"))?;
            ours.extend(open.statuses());
        }
        f.statuses = Some(ours);
    }
    f.updated_after = one("updated_after").map(|v| query_time(state, "updated_after", v, false)).transpose()?;
    let start = one("start_date").map(|v| query_time(state, "start_date", v, false)).transpose()?;
    let end = one("end_date").map(|v| query_time(state, "end_date", v, true)).transpose()?;
    let window = Duration::days(DEFAULT_DAYS);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + window),
        (None, Some(e)) => (e - window, e),
        // A client following changes (`updated_after`) wants them whenever the request was made.
        (None, None) if f.updated_after.is_some() => return Ok(q),
        (None, None) => (state.now() - window, state.now()),
    };
    if from > to {
        return Err(bad("end_date", "end_date 不能早于 start_date"));
    }
    if to - from > window + Duration::days(1) {
        return Err(bad("end_date", format!("查询时间跨度不能超过{DEFAULT_DAYS}天")));
    }
    f.created_from = Some(from);
    f.created_to = Some(to);
    Ok(q)
}

/// Requests matching the query, newest first, and how many match in all.
pub async fn requests(state: &AppState, q: &RequestQuery) -> ApiResult<(Doc, u64)> {
    let offset = (q.page - 1) * q.page_size;
    let (tickets, total) = repo::open311::requests(&state.db.conn, &q.filter, offset, q.page_size).await?;
    Ok((Doc::List("request", shown(state, tickets).await?), total))
}

pub async fn request(state: &AppState, id: &str) -> ApiResult<Doc> {
    let not_found = || ApiError::not_found(format!("诉求 {id} 不存在"));
    let no = crate::domain::ids::TicketNo::parse(id.trim()).ok_or_else(not_found)?;
    let ticket = repo::tickets::by_no(&state.db.conn, no.as_str()).await?.ok_or_else(not_found)?;
    Ok(Doc::List("request", shown(state, vec![ticket]).await?))
}

/// The standard's view of tickets, with the names it shows looked up once for all of them.
async fn shown(state: &AppState, tickets: Vec<repo::tickets::Ticket>) -> ApiResult<Vec<Doc>> {
    let db = &state.db.conn;
    let regions: HashMap<i64, repo::regions::Region> =
        repo::regions::all_under(db, "/").await?.into_iter().map(|r| (r.id, r)).collect();
    let units = repo::lookup::unit_names(db, &tickets.iter().filter_map(|t| t.unit_id).collect::<Vec<_>>()).await?;
    let codes: Vec<String> = tickets.iter().map(|t| t.category_code.clone()).collect();
    let categories = repo::lookup::category_names(db, &codes).await?;
    let assignment_ids: Vec<i64> = tickets.iter().filter_map(|t| t.current_assignment_id).collect();
    let deadlines: HashMap<i64, DateTime<Utc>> = repo::assignments::by_ids(db, &assignment_ids)
        .await?
        .into_iter()
        .filter(|a| a.ended_at.is_none())
        .map(|a| (a.id, a.resolve_by))
        .collect();
    // Township and village (the county only for a county's own request), never the requester's words.
    let address = |region_id: i64| {
        let mut names = vec![];
        let mut at = regions.get(&region_id);
        while let Some(r) = at {
            names.push(r.name.clone());
            at = r.parent_id.and_then(|p| regions.get(&p));
        }
        if names.len() > 1 {
            names.pop();
        }
        names.reverse();
        names.join("")
    };
    Ok(tickets
        .into_iter()
        .map(|t| {
            let description = if t.status == Status::Invalid {
                "（经核实为无效诉求，内容不予公开）".to_string()
            } else {
                mask_personal_numbers(&t.description)
            };
            let expected =
                t.current_assignment_id.and_then(|id| deadlines.get(&id)).map(|at| Doc::text(iso(state, *at)));
            let mut fields = vec![
                ("service_request_id", Doc::text(&t.no)),
                ("status", Doc::text(OpenStatus::of(t.status).as_str())),
                ("status_notes", Doc::text(status_note(t.status))),
                ("service_name", Doc::opt_text(categories.get(&t.category_code).cloned())),
                ("service_code", Doc::text(&t.category_code)),
                ("description", Doc::text(description)),
                ("agency_responsible", Doc::opt_text(t.unit_id.and_then(|u| units.get(&u).cloned()))),
                ("service_notice", Doc::Null),
                ("requested_datetime", Doc::text(iso(state, t.created_at))),
                ("updated_datetime", Doc::text(iso(state, t.updated_at))),
                ("expected_datetime", expected.unwrap_or(Doc::Null)),
                ("address", Doc::text(address(t.region_id))),
            ];
            if let (Some(lat), Some(lng)) = (t.lat, t.lng) {
                fields.push(("lat", Doc::Float(lat)));
                fields.push(("long", Doc::Float(lng)));
            }
            Doc::Object(fields)
        })
        .collect())
}

/// A request as an outside application posts it: the form's text fields and its files.
pub struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
    pub idempotency_key: Option<String>,
}

/// Files at most this many media files with one request (the intake's own bound on attachments).
pub const MAX_MEDIA: usize = 9;

/// Files a request: the key first (403 before anything is read), then the form as the intake body.
pub async fn post(state: &AppState, p: Posted) -> ApiResult<(StatusCode, Doc)> {
    let one =
        |name: &str| p.fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let mut filing = open311_keys::filing(state, one("api_key")).await?;
    filing.media_url = match one("media_url") {
        None => None,
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 500 => Some(u.to_string()),
        Some(_) => return Err(bad("media_url", "media_url 须为 http(s) 地址，且不超过500个字符")),
    };
    let code = one("service_code").ok_or_else(|| bad("service_code", "缺少 service_code（诉求分类）"))?;
    let coordinate = |name: &str, range: std::ops::RangeInclusive<f64>| -> ApiResult<Option<f64>> {
        one(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && range.contains(x))
                    .ok_or_else(|| bad(name, format!("{name} 坐标不正确")))
            })
            .transpose()
    };
    let location = match (coordinate("lat", -90.0..=90.0)?, coordinate("long", -180.0..=180.0)?) {
        (Some(lat), Some(lng)) => Some(json!({"lat": lat, "lng": lng})),
        (None, None) => None,
        _ => return Err(bad("long", "lat 和 long 须同时提供")),
    };
    let address = one("address_string");
    let card = one("card_code");
    if location.is_none() && address.is_none() && card.is_none() {
        return Err(bad("address_string", "请提供诉求位置：lat/long、address_string 或 card_code 之一"));
    }
    if p.files.len() > MAX_MEDIA {
        return Err(bad("media", format!("附件最多{MAX_MEDIA}个")));
    }
    // 姓 then 名, as Chinese names are written.
    let name = format!("{}{}", one("last_name").unwrap_or(""), one("first_name").unwrap_or(""));
    let mut body = json!({
        "category": code,
        "description": one("description").unwrap_or(""),
        "phone": one("phone").unwrap_or(""),
    });
    for (field, value) in
        [("card_code", card), ("address", address), ("kind", one("attribute[kind]")), ("name", Some(name.as_str()))]
    {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            body[field] = json!(v);
        }
    }
    if let Some(l) = location {
        body["location"] = l;
    }
    // What the application sent, files by their digests: a retry with the same Idempotency-Key is
    // known before its files are stored a second time.
    let mut fingerprint = body.clone();
    fingerprint["media"] = json!(p.files.iter().map(|(_, b)| hex::encode(Sha256::digest(b))).collect::<Vec<_>>());
    fingerprint["media_url"] = json!(filing.media_url);
    let key = p.idempotency_key.as_deref();
    if let Some(k) = key
        && let Some((status, answer)) = intake::open311_replay(state, filing.key_id, k, &fingerprint).await?
    {
        return Ok((status, posted(state, &answer)));
    }
    if !p.files.is_empty() {
        let limit = state.settings.limits.upload_per_ip;
        let subject = format!("upload:open311:{}", filing.key_id);
        state.limiter.hit(&subject, limit, state.now()).await.map_err(|e| {
            ApiError::too_many(crate::error::codes::RATE_LIMITED, "上传过于频繁，请稍后再试", e.retry_after)
        })?;
    }
    let mut upload_ids = vec![];
    for (_, bytes) in p.files {
        let uploader = super::uploads::Uploader {
            kind: UploaderKind::Villager,
            reference: Some(format!("open311:{}", filing.key_id)),
        };
        upload_ids.push(super::uploads::store(state, bytes, uploader).await?.upload_id);
    }
    body["upload_ids"] = json!(upload_ids);
    let (status, answer) = intake::file_open311(state, &body, &fingerprint, key, &filing).await?;
    open311_keys::used(state, filing.key_id).await;
    Ok((status, posted(state, &answer)))
}

fn posted(state: &AppState, a: &IntakeAnswer) -> Doc {
    let notice = format!(
        "诉求已受理，工单号 {}，承办单位将于 {} 前响应。可凭工单号和手机号后四位在 {} 查询办理进度。",
        a.ticket_no,
        a.respond_by.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M"),
        a.tracking_url
    );
    Doc::List(
        "request",
        vec![Doc::Object(vec![
            ("service_request_id", Doc::text(&a.ticket_no)),
            ("service_notice", Doc::text(notice)),
            ("account_id", Doc::Null),
        ])],
    )
}

/// An error as the standard writes it: a list of `{code, description}`, the code being the HTTP
/// status. Each wrong field is one entry, named in its description. Our 422 (a well-formed request
/// naming something unusable, such as an unknown category) is the standard's 400.
pub fn errors(e: &ApiError) -> (StatusCode, Doc) {
    let status = if e.status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { e.status };
    let entry =
        |text: String| Doc::Object(vec![("code", Doc::Int(status.as_u16().into())), ("description", Doc::text(text))]);
    let fields = e.field_errors();
    let items = if fields.is_empty() {
        vec![entry(e.message.clone())]
    } else {
        fields.into_iter().map(|f| entry(format!("{}：{}", standard_name(&f.field), f.message))).collect()
    };
    (status, Doc::List("error", items))
}

/// The standard's name of an intake field, as the application sent it.
fn standard_name(field: &str) -> &str {
    match field {
        "category" => "service_code",
        "address" => "address_string",
        "location" => "lat",
        "kind" => "attribute[kind]",
        "name" => "last_name",
        "upload_ids" => "media",
        other => other,
    }
}
