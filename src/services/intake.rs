//! Intake: a villager files a request from a card (public), or staff register a phone-in or walk-in
//! request. One transaction creates the ticket, its ledger event(s), the repeat link and the
//! confirmation SMS, and stores the answer under the Idempotency-Key. Requests of outside
//! applications through the Open311 facade (`file_open311`) come through here too, under the same
//! rules, with the API key standing where a public filer's address stands.
use super::actions::handling;
use super::change::{self, Effects};
use crate::auth::{Caller, StaffUser, VillagerUser};
use crate::domain::ids::{CardCode, TicketNo};
use crate::domain::ledger::ledger_time;
use crate::domain::phone::Phone;
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::domain::values::{Channel, Kind, Priority};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::{Actor, NewEvent};
use crate::sms::templates;
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use sea_orm::SqlErr;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub lat: f64,
    pub lng: f64,
}

/// The body of `POST /api/v1/tickets`, as received: every field optional so that a missing one is
/// reported by name in Chinese rather than by the JSON parser.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"card_code": "QH7K2M", "category": "water.supply", "kind": "help", "description": "村东头自来水停了三天了，请尽快处理", "phone": "13800001234"}))]
pub struct IntakeRequest {
    pub card_code: Option<String>,
    pub region_id: Option<i64>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub location: Option<Location>,
    pub upload_ids: Option<Vec<String>>,
    pub priority: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    /// 未诉先办 (`channel: "proactive"`): the numbers of the requests that raised it.
    pub linked_tickets: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct IntakeAnswer {
    pub ticket_no: String,
    pub status: String,
    pub tracking_url: String,
    pub respond_by: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<String>,
    /// Staff registration: the first-registration deadline (received + 15 min) and whether it was met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_by: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_late: Option<bool>,
    /// Whether a confirmation SMS was queued: false once the number has had its day's share (the
    /// request is filed either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_sms: Option<bool>,
}

/// A validated request: past this point nothing is re-checked.
struct Intake {
    region: repo::regions::Region,
    card_id: Option<i64>,
    channel: Channel,
    category: repo::catalog::Category,
    kind: Kind,
    priority: Priority,
    description: String,
    /// None only for a proactive ticket (未诉先办), which has no requester.
    phone: Option<Phone>,
    name: Option<String>,
    address: Option<String>,
    location: Option<Location>,
    upload_ids: Vec<String>,
    received_at: Option<DateTime<Utc>>,
    openid: Option<String>,
    /// The requests a proactive ticket was raised from (empty for every other ticket).
    linked: Vec<repo::tickets::Ticket>,
    /// Filed by an outside application with an Open311 API key.
    open311: Option<Open311Filing>,
}

/// A request filed through the Open311 facade: the key it came with (its id and name go into the
/// ledger, its limits replace the per-address ones) and the `media_url` the application gave (kept
/// in the ledger as given, never fetched: the server does not call addresses chosen by others).
#[derive(Clone, Debug)]
pub struct Open311Filing {
    pub key_id: i64,
    pub key_name: String,
    pub per_minute: crate::kv::limiter::Limit,
    pub per_day: crate::kv::limiter::Limit,
    pub media_url: Option<String>,
}

pub const DESCRIPTION_MIN: usize = 5;
pub const DESCRIPTION_MAX: usize = 2000;
pub const NAME_MAX: usize = 50;
pub const ADDRESS_MAX: usize = 200;

fn optional_text(v: &Option<String>, field: &str, max: usize, what: &str) -> ApiResult<Option<String>> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref() {
        None => Ok(None),
        Some(s) if crate::domain::text::visible_len(s) == 0 => Ok(None),
        Some(s) if s.chars().count() > max => Err(ApiError::validation(field, format!("{what}不能超过{max}个字"))),
        Some(s) => Ok(Some(s.to_string())),
    }
}

async fn parse(
    state: &AppState,
    req: &IntakeRequest,
    caller: &Caller,
    open311: Option<&Open311Filing>,
) -> ApiResult<Intake> {
    let db = &state.db.conn;
    let staff = staff_of(caller);
    let villager = match caller {
        Caller::Villager(v) => Some(v),
        _ => None,
    };
    let (region, card_id, channel) = match staff {
        None if open311.is_some() && req.card_code.as_deref().is_none_or(|c| c.trim().is_empty()) => {
            (open311_region(state, req.address.as_deref()).await?, None, Channel::Open311)
        }
        None => {
            let raw = req.card_code.as_deref().unwrap_or("").trim();
            if raw.is_empty() {
                return Err(ApiError::validation("card_code", "缺少联系卡编号"));
            }
            let card = match CardCode::parse(raw) {
                Some(code) => state.reference.card(state, code.as_str()).await?,
                None => None,
            };
            let card = card.ok_or_else(|| {
                ApiError::unprocessable(codes::UNKNOWN_CARD, "card_code", "联系卡编号不存在，请核对卡片上的编号")
            })?;
            if card.status != crate::domain::values::CardStatus::Active {
                return Err(ApiError::unprocessable(
                    codes::CARD_INACTIVE,
                    "card_code",
                    "该联系卡已停用，请拨打热线或使用新卡片",
                ));
            }
            let region = state
                .reference
                .region(state, card.region_id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("card region missing")))?;
            // Filed from the mini-program (a WeChat sign-in), by scanning the card in a browser, or
            // by an outside application that was given the card's code.
            let channel = if open311.is_some() {
                Channel::Open311
            } else if villager.is_some_and(|v| v.openid.is_some()) {
                Channel::Wechat
            } else {
                Channel::Qr
            };
            (region, Some(card.id), channel)
        }
        Some(user) => {
            user.require_any(&[Role::Operator, Role::Dispatcher])?;
            let region_id = req.region_id.ok_or_else(|| ApiError::validation("region_id", "请选择诉求所在地区"))?;
            let region = state
                .reference
                .region(state, region_id)
                .await?
                .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, "region_id", "地区不存在"))?;
            if !user.covers_region(&region.path) {
                return Err(ApiError::unprocessable(
                    codes::REGION_OUT_OF_SCOPE,
                    "region_id",
                    "该地区不在您的管辖范围内",
                ));
            }
            let channel = req.channel.as_deref().ok_or_else(|| ApiError::validation("channel", "请选择来源渠道"))?;
            let channel = Channel::parse(channel).filter(|c| *c != Channel::Qr).ok_or_else(|| {
                ApiError::validation("channel", format!("来源渠道不正确，可选：{}", Channel::names()))
            })?;
            // 未诉先办 turns a hotspot into an order: the dispatcher's decision, not the desk's.
            if channel == Channel::Proactive {
                user.require_any(&[Role::Dispatcher])?;
            }
            (region, None, channel)
        }
    };
    // Every wrong field is reported at once (`errors`), in the order of the form, so the page can
    // mark each next to its field; the first one is also `field` / `message`.
    let mut wrong = Wrong::default();
    let code = req.category.as_deref().map(str::trim).unwrap_or("");
    let category = if code.is_empty() {
        wrong.add(ApiError::validation("category", "请选择诉求分类"))
    } else {
        let found = state.reference.category(state, code).await?.filter(|c| c.active);
        wrong.check(found.ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "category", "诉求分类不存在")))
    };
    let kind = wrong.check(match req.kind.as_deref() {
        // The category's hint, else 求助.
        None | Some("") => Ok(category
            .as_ref()
            .and_then(|c: &repo::catalog::Category| c.default_kind.as_deref())
            .and_then(Kind::parse)
            .unwrap_or(Kind::Help)),
        Some(k) => Kind::parse(k)
            .ok_or_else(|| ApiError::validation("kind", format!("诉求类型不正确，可选：{}", Kind::names()))),
    });
    let priority = wrong.check(match (staff, req.priority.as_deref()) {
        (Some(_), Some(p)) => {
            Priority::parse(p).ok_or_else(|| ApiError::validation("priority", "紧急程度只能是 normal 或 urgent"))
        }
        _ => Ok(Priority::Normal),
    });
    let description = wrong.check(super::clean_text(req.description.as_deref().unwrap_or(""), "description").and_then(
        |description| {
            // Zero-width and other invisible characters fill no minimum.
            if crate::domain::text::visible_len(&description) < DESCRIPTION_MIN {
                Err(ApiError::validation("description", format!("请描述您的诉求（至少{DESCRIPTION_MIN}个字）")))
            } else if description.chars().count() > DESCRIPTION_MAX {
                Err(ApiError::validation("description", format!("诉求描述不能超过{DESCRIPTION_MAX}个字")))
            } else {
                Ok(description)
            }
        },
    ));
    let phone = req
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .or(villager.and_then(|v| v.phone.as_deref()))
        .unwrap_or("");
    let proactive = channel == Channel::Proactive;
    let phone = wrong.check(if proactive {
        // Nobody asked: a number here would make a stranger the requester of the county's own order.
        if phone.trim().is_empty() {
            Ok(None)
        } else {
            Err(ApiError::validation("phone", "未诉先办工单由工作人员主动发起，没有诉求人，请不要填写手机号码"))
        }
    } else if phone.trim().is_empty() {
        Err(ApiError::validation("phone", "请填写手机号码，方便工作人员联系您"))
    } else {
        Phone::parse(phone)
            .map(Some)
            .ok_or_else(|| ApiError::validation("phone", "手机号码格式不正确，请填写11位手机号"))
    });
    let name = wrong.check(match &req.name {
        Some(n) if proactive && !n.trim().is_empty() => {
            Err(ApiError::validation("name", "未诉先办工单没有诉求人，请不要填写姓名"))
        }
        _ => optional_text(&req.name, "name", NAME_MAX, "姓名"),
    });
    let address = wrong.check(optional_text(&req.address, "address", ADDRESS_MAX, "地址"));
    if let Some(l) = &req.location
        && !(l.lat.is_finite()
            && l.lng.is_finite()
            && (-90.0..=90.0).contains(&l.lat)
            && (-180.0..=180.0).contains(&l.lng))
    {
        wrong.add::<()>(ApiError::validation("location", "位置坐标不正确"));
    }
    let upload_ids = req.upload_ids.clone().unwrap_or_default();
    if upload_ids.len() > 9 {
        wrong.add::<()>(ApiError::validation("upload_ids", "附件最多9个"));
    } else {
        for id in &upload_ids {
            if !repo::uploads::is_free(db, id).await? {
                wrong.add::<()>(ApiError::unprocessable(
                    codes::UNKNOWN_UPLOAD,
                    "upload_ids",
                    "附件不存在或已被使用，请重新上传",
                ));
                break;
            }
        }
    }
    let linked = match (staff, proactive) {
        (Some(user), true) => {
            let found = super::proactive::check_links(db, user, Some(&region), req.linked_tickets.as_deref()).await;
            wrong.check(found)
        }
        _ if req.linked_tickets.as_ref().is_some_and(|l| !l.is_empty()) => {
            wrong.add(ApiError::validation("linked_tickets", "只有未诉先办工单（channel: proactive）可以关联诉求工单"))
        }
        _ => Some(vec![]),
    };
    if let Some(e) = ApiError::fields(wrong.0) {
        return Err(e);
    }
    let (
        Some(category),
        Some(kind),
        Some(priority),
        Some(description),
        Some(phone),
        Some(name),
        Some(address),
        Some(linked),
    ) = (category, kind, priority, description, phone, name, address, linked)
    else {
        return Err(ApiError::internal(anyhow::anyhow!("an intake field failed without an error")));
    };
    let received_at = if staff.is_some() { req.received_at } else { None };
    if received_at.is_some_and(|at| at > state.now() + Duration::minutes(1)) {
        return Err(ApiError::validation("received_at", "接听时间不能晚于现在"));
    }
    Ok(Intake {
        region,
        card_id,
        channel,
        category,
        kind,
        priority,
        description,
        phone,
        name,
        address,
        location: req.location.clone(),
        upload_ids,
        received_at,
        openid: villager.and_then(|v: &VillagerUser| v.openid.clone()),
        linked,
        open311: open311.cloned(),
    })
}

/// Where an Open311 request without a card is filed: the village its address names (the longest
/// village name found in it, when only one village bears that name or the township named too
/// settles it), else the county, whose dispatcher routes it as a 12345 order of an unknown region
/// is routed. Coordinates alone name no village: the county keeps no village boundaries.
async fn open311_region(state: &AppState, address: Option<&str>) -> ApiResult<repo::regions::Region> {
    use crate::domain::values::RegionLevel;
    let db = &state.db.conn;
    if let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) {
        let regions = repo::regions::all_under(db, "/").await?;
        let mut villages: Vec<&repo::regions::Region> = regions
            .iter()
            .filter(|r| r.active && r.level == RegionLevel::Village && address.contains(r.name.as_str()))
            .collect();
        let longest = villages.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
        villages.retain(|r| r.name.chars().count() == longest);
        if villages.len() > 1 {
            let township_named = |v: &&repo::regions::Region| {
                regions.iter().any(|t| Some(t.id) == v.parent_id && address.contains(t.name.as_str()))
            };
            villages.retain(township_named);
        }
        if let [village] = villages.as_slice() {
            return Ok((*village).clone());
        }
    }
    repo::upstream::top_region(db).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no top region")))
}

/// The field errors found so far while checking a request as a whole.
#[derive(Default)]
struct Wrong(Vec<ApiError>);

impl Wrong {
    fn add<T>(&mut self, e: ApiError) -> Option<T> {
        self.0.push(e);
        None
    }

    fn check<T>(&mut self, r: ApiResult<T>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
}

fn staff_of(caller: &Caller) -> Option<&StaffUser> {
    match caller {
        Caller::Staff(s) => Some(s),
        _ => None,
    }
}

/// Abuse limits for public intake: per address, per phone at that address, and per card. The phone
/// is counted per address: anyone can type a stranger's number, and must not lock that stranger out
/// of filing their own request from their own phone. Staff are not limited.
async fn check_limits(state: &AppState, i: &Intake, ip: &str) -> ApiResult<()> {
    let l = &state.settings.limits;
    if let Some(o) = &i.open311 {
        return check_open311_limits(state, i, o).await;
    }
    let mut checks = vec![
        (format!("intake:ip:{ip}"), l.intake_per_ip),
        (format!("intake:ipd:{ip}"), l.intake_per_ip_daily),
        (format!("intake:phone:{}:{ip}", i.phone.as_ref().map_or("", |p| p.as_str())), l.intake_per_phone),
    ];
    if let Some(card) = i.card_id {
        checks.push((format!("intake:card:{card}"), l.intake_per_card));
    }
    state.limiter.hit_all(&checks, state.now()).await.map_err(|e| {
        metrics::counter!("minsheng_rate_limited_total", "what" => "intake").increment(1);
        ApiError::too_many(
            codes::RATE_LIMITED,
            "提交过于频繁，请稍后再试；紧急情况请直接拨打联系卡上的电话",
            e.retry_after,
        )
    })
}

/// An outside application's limits are its key's own (per minute and per day), not its server's
/// address; one phone number is counted per key as it is counted per address, and a card as always.
async fn check_open311_limits(state: &AppState, i: &Intake, o: &Open311Filing) -> ApiResult<()> {
    let l = &state.settings.limits;
    let mut checks = vec![
        (format!("intake:open311:{}:minute", o.key_id), o.per_minute),
        (format!("intake:open311:{}:day", o.key_id), o.per_day),
        (
            format!("intake:phone:{}:open311:{}", i.phone.as_ref().map_or("", |p| p.as_str()), o.key_id),
            l.intake_per_phone,
        ),
    ];
    if let Some(card) = i.card_id {
        checks.push((format!("intake:card:{card}"), l.intake_per_card));
    }
    state.limiter.hit_all(&checks, state.now()).await.map_err(|e| {
        metrics::counter!("minsheng_rate_limited_total", "what" => "open311").increment(1);
        ApiError::too_many(codes::RATE_LIMITED, "该应用提交的诉求过于频繁，请稍后再试", e.retry_after)
    })
}

async fn confirmation_allowed(state: &AppState, phone: &Phone, now: DateTime<Utc>) -> bool {
    let limit = state.settings.limits.confirmation_sms_per_phone;
    let allowed = state.limiter.hit(&format!("sms:confirmation:{}", phone.as_str()), limit, now).await.is_ok();
    if !allowed {
        tracing::info!(phone = %phone, "confirmation SMS held back: the number's daily share is used");
        metrics::counter!("minsheng_sms_held_total", "kind" => "confirmation").increment(1);
    }
    allowed
}

/// Hash of the request body as parsed JSON (key order and whitespace do not matter).
pub fn body_hash(body: &Value) -> String {
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

pub fn valid_idempotency_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 200 && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Files a request. With an idempotency key the first answer is stored and replayed.
pub async fn file(
    state: &AppState,
    body: &Value,
    key: Option<&str>,
    caller: &Caller,
    ip: &str,
) -> ApiResult<(StatusCode, IntakeAnswer)> {
    let staff = staff_of(caller);
    let scope = match staff {
        Some(u) => format!("intake:staff:{}", u.id),
        None => "intake".to_string(),
    };
    if let Some(k) = key
        && !valid_idempotency_key(k)
    {
        return Err(ApiError::validation("Idempotency-Key", "Idempotency-Key 须为1–200个可见ASCII字符"));
    }
    let hash = body_hash(body);
    if let Some(k) = key
        && let Some(answer) = replay(state, &scope, k, &hash).await?
    {
        return Ok(answer);
    }
    let req: IntakeRequest = crate::error::typed_json(body.clone())?;
    let intake = parse(state, &req, caller, None).await?;
    if staff.is_none() {
        check_limits(state, &intake, ip).await?;
    }
    match create(state, intake, staff, key.map(|k| (scope.as_str(), k, hash.as_str())), None).await {
        Err(e) if key.is_some() && is_duplicate_key(&e) => {
            // A concurrent request with the same key committed first: answer as it did.
            replay(state, &scope, key.unwrap_or_default(), &hash)
                .await?
                .ok_or_else(|| ApiError::conflict(codes::IDEMPOTENCY_IN_PROGRESS, "相同请求正在处理中，请稍后重试"))
        }
        other => other,
    }
}

/// The Idempotency-Key scope of an Open311 key: each application's keys are its own.
fn open311_scope(key_id: i64) -> String {
    format!("open311:{key_id}")
}

/// The answer already given to this application for this Idempotency-Key, if any (a different body
/// under the same key is refused). `fingerprint` stands for the request as the application sent
/// it (its fields and the digests of its files), so a retry is known before its files are stored.
pub async fn open311_replay(
    state: &AppState,
    key_id: i64,
    key: &str,
    fingerprint: &Value,
) -> ApiResult<Option<(StatusCode, IntakeAnswer)>> {
    if !valid_idempotency_key(key) {
        return Err(ApiError::validation("Idempotency-Key", "Idempotency-Key 须为1–200个可见ASCII字符"));
    }
    replay(state, &open311_scope(key_id), key, &body_hash(fingerprint)).await
}

/// Files a request of an outside application (the Open311 facade): the intake body as for a card,
/// except that `card_code` may be missing (see `open311_region`); channel `open311`; the key's
/// limits; the key named in the ledger's first event.
pub async fn file_open311(
    state: &AppState,
    body: &Value,
    fingerprint: &Value,
    key: Option<&str>,
    filing: &Open311Filing,
) -> ApiResult<(StatusCode, IntakeAnswer)> {
    let scope = open311_scope(filing.key_id);
    let hash = body_hash(fingerprint);
    if let Some(k) = key
        && let Some(answer) = open311_replay(state, filing.key_id, k, fingerprint).await?
    {
        return Ok(answer);
    }
    let req: IntakeRequest = crate::error::typed_json(body.clone())?;
    let intake = parse(state, &req, &Caller::Anonymous, Some(filing)).await?;
    check_limits(state, &intake, "").await?;
    match create(state, intake, None, key.map(|k| (scope.as_str(), k, hash.as_str())), None).await {
        Err(e) if key.is_some() && is_duplicate_key(&e) => replay(state, &scope, key.unwrap_or_default(), &hash)
            .await?
            .ok_or_else(|| ApiError::conflict(codes::IDEMPOTENCY_IN_PROGRESS, "相同请求正在处理中，请稍后重试")),
        other => other,
    }
}

fn is_duplicate_key(e: &ApiError) -> bool {
    e.code == codes::IDEMPOTENCY_DUPLICATE
}

async fn replay(state: &AppState, scope: &str, key: &str, hash: &str) -> ApiResult<Option<(StatusCode, IntakeAnswer)>> {
    let Some(stored) = repo::idempotency::get(&state.db.conn, scope, key).await? else {
        return Ok(None);
    };
    if stored.request_hash != hash {
        return Err(ApiError::unprocessable(
            codes::IDEMPOTENCY_KEY_REUSED,
            "Idempotency-Key",
            "该 Idempotency-Key 已用于另一条不同的诉求",
        ));
    }
    let answer: IntakeAnswer = serde_json::from_str(&stored.response).map_err(ApiError::internal)?;
    let status = StatusCode::from_u16(stored.status_code as u16).unwrap_or(StatusCode::CREATED);
    Ok(Some((status, answer)))
}

async fn create(
    state: &AppState,
    i: Intake,
    staff: Option<&StaffUser>,
    idem: Option<(&str, &str, &str)>,
    upstream: Option<&crate::upstream::Order>,
) -> ApiResult<(StatusCode, IntakeAnswer)> {
    let now = ledger_time(state.now());
    let policy = state.reference.policy_for(state, &i.category.code, i.kind, i.priority).await?;
    // Confirmations to one number are capped per day whoever files: a request typed with a
    // stranger's number is accepted, but cannot turn the county's SMS account against that stranger.
    // The platform already answered its caller: no second receipt from the county. Counted before
    // the transaction, so that no Redis round trip holds the database writer.
    let confirm = match &i.phone {
        _ if upstream.is_some() => false,
        Some(phone) => staff.is_some() || confirmation_allowed(state, phone, now).await,
        None => false,
    };
    // The writes go to the database's writer (on SQLite grouped with other intakes in one commit,
    // each under its own savepoint); the answer comes once they are committed.
    let st = state.clone();
    let staff = staff.cloned();
    let idem = idem.map(|(scope, key, hash)| (scope.to_string(), key.to_string(), hash.to_string()));
    let upstream = upstream.cloned();
    let (ticket, answer, channel, phone) = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let idem = idem.as_ref().map(|(s, k, h)| (s.as_str(), k.as_str(), h.as_str()));
                file_in(&st, tx, i, staff.as_ref(), idem, upstream.as_ref(), policy, confirm, now).await
            })
        })
        .await?;
    super::live::announce(state, &ticket, crate::live::EventKind::Intake, now).await;
    tracing::info!(ticket_no = %answer.ticket_no, phone = ?phone, channel = channel.as_str(), "ticket filed");
    metrics::counter!("minsheng_tickets_filed_total", "channel" => channel.as_str()).increment(1);
    Ok((StatusCode::CREATED, answer))
}

/// The writes of an intake, in the caller's transaction: the day's next number, the ticket and its
/// first event, the registration or automatic dispatch, links, derived state, the confirmation
/// SMS and the idempotency key with its answer.
#[allow(clippy::too_many_arguments)]
async fn file_in(
    state: &AppState,
    tx: &sea_orm::DatabaseTransaction,
    i: Intake,
    staff: Option<&StaffUser>,
    idem: Option<(&str, &str, &str)>,
    upstream: Option<&crate::upstream::Order>,
    policy: crate::domain::sla::Policy,
    confirm: bool,
    now: DateTime<Utc>,
) -> ApiResult<(repo::tickets::Ticket, IntakeAnswer, Channel, Option<Phone>)> {
    let day = now.with_timezone(&state.tz()).date_naive();
    // The day's number first: on PostgreSQL every intake of the day waits for its row until this
    // one commits, and the repeat search after it then sees an intake of the same phone that
    // committed a moment ago.
    let seq = repo::tickets::next_number(tx, day).await?;
    let no = TicketNo::new(day, seq);
    let since = now - Duration::days(state.settings.intake.repeat_window_days);
    // Repeats are the same phone asking again; a proactive ticket has no phone and is no repeat.
    let repeat_of = match &i.phone {
        Some(phone) => repo::tickets::find_repeat(tx, phone.as_str(), i.region.id, &i.category.code, since).await?,
        None => None,
    };
    let received = i.received_at.map(ledger_time).unwrap_or(now);
    let new = repo::tickets::NewTicket {
        no: no.as_str().to_string(),
        kind: i.kind,
        category_code: i.category.code.clone(),
        channel: i.channel,
        priority: i.priority,
        description: i.description.clone(),
        requester_name: i.name.clone(),
        requester_phone: i.phone.as_ref().map_or(String::new(), |p| p.as_str().to_string()),
        requester_openid: i.openid.clone(),
        address: i.address.clone(),
        lat: i.location.as_ref().map(|l| l.lat),
        lng: i.location.as_ref().map(|l| l.lng),
        region_id: i.region.id,
        region_path: i.region.path.clone(),
        card_id: i.card_id,
        repeat_of_id: repeat_of.as_ref().map(|t| t.id),
        signoff_required: policy.signoff_required,
        created_by: staff.map(|s| s.id),
        register_by: Some(received + Duration::minutes(policy.register_minutes)),
    };
    let actor = match (staff, upstream) {
        (Some(s), _) => Actor::staff(s.id, &s.name),
        (None, Some(_)) => Actor { kind: "system", id: None, name: UPSTREAM_ACTOR.into() },
        (None, None) => Actor::villager(i.name.as_deref().unwrap_or("群众")),
    };
    let mut data = json!({"channel": i.channel.as_str(), "category": i.category.code, "kind": i.kind.as_str(),
                     "card_id": i.card_id, "repeat_of": repeat_of.as_ref().map(|t| t.no.clone()),
                     "upload_ids": i.upload_ids, "received_at": received});
    if i.channel == Channel::Proactive {
        data["linked_tickets"] = json!(i.linked.iter().map(|t| t.no.as_str()).collect::<Vec<_>>());
    }
    if let Some(o) = &i.open311 {
        data["open311"] = json!({"key_id": o.key_id, "key_name": o.key_name, "media_url": o.media_url});
    }
    if let Some(o) = upstream {
        data["upstream_id"] = json!(o.id);
        data["upstream_deadline"] = json!(o.deadline);
        data["upstream_received_at"] = json!(o.received_at);
    }
    let submit = NewEvent { action: "submit", actor: actor.clone(), note: None, data, public: true };
    let mut ticket = repo::tickets::create(tx, new, &submit, now).await?;
    // The order's id is unique: of two pulls of the same order only the first commits a ticket.
    if let Some(o) = upstream {
        let record = repo::upstream::UpstreamOrder {
            upstream_id: o.id.clone(),
            ticket_id: ticket.id,
            region_code: o.region_code.clone(),
            deadline: o.deadline.map(ledger_time),
            pulled_at: now,
        };
        if let Err(e) = repo::upstream::record(tx, &record).await {
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    ApiError::conflict(codes::IDEMPOTENCY_DUPLICATE, "该12345工单已接收")
                }
                _ => e.into(),
            });
        }
    }
    if let Some(first) = &repeat_of {
        repo::tickets::bump_repeat_count(tx, first.id).await?;
    }
    repo::uploads::attach(tx, &i.upload_ids, ticket.id).await?;
    // Staff registration is the first registration (首问登记): the ticket starts registered,
    // through the same door as the desk's `register`.
    let registration = || {
        let data = json!({"category": i.category.code, "kind": i.kind.as_str(), "priority": i.priority.as_str(),
                          "late": now > received + Duration::minutes(policy.register_minutes)});
        let mut fx = Effects::entry(true, None, data);
        fx.patch.registered_at = Some(now);
        fx.patch.dispatch_by = Some(Some(now + Duration::minutes(policy.dispatch_minutes)));
        fx
    };
    // An order of the 12345 platform was registered by the city's hotline desk: it arrives registered.
    // The registration and dispatch below leave their derived columns and roll-ups to one
    // recomputation at the end, as the sweeper's batches do: the ticket's rows are then final.
    let changed = if staff.is_some() || upstream.is_some() {
        ticket = change::commit_in_deferred(state, tx, &ticket, Action::Register, actor.clone(), registration(), now)
            .await?;
        true
    } else if i.card_id.is_some() && i.category.auto_dispatch {
        ticket = handling::auto_dispatch(state, tx, ticket, registration(), now).await?;
        true
    } else {
        false
    };
    if !i.linked.is_empty() {
        super::proactive::link_in(state, tx, &ticket, &i.linked, &actor, now).await?;
    }
    if changed {
        change::refresh_derived(state, tx, &[ticket.id], now).await?;
    } else {
        // A ticket only submitted: its deadlines were written with the row; only the counts move,
        // and it has no parts yet nor any order.
        let fresh = repo::rollups::Fresh::Unassigned;
        repo::rollups::refresh_as(tx, &[ticket.id], fresh, state.rollup_offset(), now).await?;
    }
    // A proactive ticket has no villager to follow it: its link is the staff console's page.
    let tracking_url = match &i.phone {
        Some(_) => format!("{}/t/{}", state.public_url(), no.as_str()),
        None => format!("{}/console/#/t/{}", state.public_url(), no.as_str()),
    };
    if let (true, Some(phone)) = (confirm, &i.phone) {
        let sms = templates::confirmation(&state.settings.county.sms_sign, no.as_str(), &tracking_url);
        repo::outbox::enqueue(tx, &sms, phone.as_str(), Some(ticket.id), now).await?;
    }
    let answer = IntakeAnswer {
        ticket_no: no.as_str().to_string(),
        status: ticket.status.as_str().to_string(),
        tracking_url,
        respond_by: received + Duration::minutes(policy.respond_minutes),
        repeat_of: repeat_of.map(|t| t.no),
        register_by: staff.map(|_| received + Duration::minutes(policy.register_minutes)),
        registration_late: staff.map(|_| now > received + Duration::minutes(policy.register_minutes)),
        confirmation_sms: Some(confirm),
    };
    // The key is written once, with its answer, in the ticket's commit: of two concurrent twins the
    // second fails on the key's uniqueness (after the first commits, on PostgreSQL; behind the one
    // writer, on SQLite) and its whole transaction, ticket number included, is rolled back.
    if let Some((scope, key, hash)) = idem {
        let text = serde_json::to_string(&answer).map_err(ApiError::internal)?;
        if let Err(e) = repo::idempotency::store(tx, scope, key, hash, StatusCode::CREATED.as_u16(), &text, now).await {
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    ApiError::conflict(codes::IDEMPOTENCY_DUPLICATE, "重复请求")
                }
                _ => e.into(),
            });
        }
    }
    Ok((ticket, answer, i.channel, i.phone))
}

/// The answer already given to a public request with this key, whatever its body: the plain form
/// page resends its photos with a browser retry, so only the key identifies the submission.
pub async fn answer_for_key(state: &AppState, key: &str) -> ApiResult<Option<IntakeAnswer>> {
    let Some(stored) = repo::idempotency::get(&state.db.conn, "intake", key).await? else { return Ok(None) };
    Ok(serde_json::from_str(&stored.response).ok())
}

/// Who files the orders of the city 12345 platform, as the ledger names it.
pub const UPSTREAM_ACTOR: &str = "市12345平台";

/// What became of one order of the 12345 platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamFiled {
    Created {
        ticket_no: String,
    },
    /// Filed before (by an earlier pull, or a concurrent one that committed first).
    Duplicate,
}

/// Files an order of the city 12345 platform as a registered hotline ticket, once: the place from
/// its region code (an unknown one, or none, files it at the county), the category if the county
/// knows it (else `upstream.default_category`), the requester's number if it reads as one. No
/// confirmation SMS: the platform has answered its caller. Refused (422) only when there is nothing
/// to file (no description) or no category to file it under.
pub async fn file_upstream(state: &AppState, order: &crate::upstream::Order) -> ApiResult<UpstreamFiled> {
    let db = &state.db.conn;
    if repo::upstream::by_upstream_id(db, &order.id).await?.is_some() {
        return Ok(UpstreamFiled::Duplicate);
    }
    let cfg = &state.settings.upstream;
    let mut region = None;
    for code in [order.region_code.as_deref(), Some(cfg.county_code.as_str())].into_iter().flatten() {
        if region.is_none() && !code.trim().is_empty() {
            region = repo::upstream::region_by_code(db, code.trim()).await?;
        }
    }
    let region = match region {
        Some(r) => r,
        None => {
            tracing::warn!(upstream_id = %order.id, region_code = ?order.region_code, "12345 order of an unknown region: filed at the county");
            repo::upstream::top_region(db).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no top region")))?
        }
    };
    let mut category = None;
    for code in [order.category.as_deref(), Some(cfg.default_category.as_str())].into_iter().flatten() {
        if category.is_none() && !code.trim().is_empty() {
            category = repo::catalog::category(db, code.trim()).await?.filter(|c| c.active);
        }
    }
    let category = category.ok_or_else(|| {
        ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "category", "诉求分类不存在，且未配置默认分类")
    })?;
    let description: String =
        super::clean_text(&order.description, "description")?.chars().take(DESCRIPTION_MAX).collect();
    if crate::domain::text::visible_len(&description) == 0 {
        return Err(ApiError::validation("description", "12345工单没有诉求内容"));
    }
    let short = |v: &Option<String>, max: usize| {
        v.as_deref()
            .and_then(|s| super::clean_text(s, "").ok())
            .filter(|s| crate::domain::text::visible_len(s) > 0)
            .map(|s| s.chars().take(max).collect::<String>())
    };
    let intake = Intake {
        kind: category.default_kind.as_deref().and_then(Kind::parse).unwrap_or(Kind::Help),
        region,
        card_id: None,
        channel: Channel::Hotline,
        category,
        priority: if order.urgent { Priority::Urgent } else { Priority::Normal },
        description,
        phone: order.phone.as_deref().and_then(Phone::parse),
        name: short(&order.name, NAME_MAX),
        address: short(&order.address, ADDRESS_MAX),
        location: None,
        upload_ids: vec![],
        // The county's clocks (registration, dispatch) start when the order reaches the county; the
        // call's time at the city is kept in the ledger (`upstream_received_at`).
        received_at: None,
        openid: None,
        linked: vec![],
        open311: None,
    };
    match create(state, intake, None, None, Some(order)).await {
        Ok((_, answer)) => Ok(UpstreamFiled::Created { ticket_no: answer.ticket_no }),
        Err(e) if is_duplicate_key(&e) => Ok(UpstreamFiled::Duplicate),
        Err(e) => Err(e),
    }
}

/// Who files a request texted in, as the ledger names it.
pub const SMS_ACTOR: &str = "短信诉求";

/// Where a request texted in comes from: the village its text names (one village exactly, with or
/// without 村), else the village of the phone's latest request, else none (an operator registers it
/// from the reply queue).
pub async fn sms_village(state: &AppState, phone: &Phone, text: &str) -> ApiResult<Option<repo::regions::Region>> {
    let db = &state.db.conn;
    let villages: Vec<repo::regions::Region> = repo::regions::all_under(db, "/")
        .await?
        .into_iter()
        .filter(|r| r.active && r.level == crate::domain::values::RegionLevel::Village)
        .collect();
    let named: Vec<&repo::regions::Region> = villages
        .iter()
        .filter(|v| {
            let short = v.name.trim_end_matches('村');
            text.contains(v.name.as_str()) || (short.chars().count() >= 2 && text.contains(short))
        })
        .collect();
    if let [one] = named.as_slice() {
        return Ok(Some((*one).clone()));
    }
    let page = repo::Page { page: 1, per_page: 1 };
    let (earlier, _) = repo::tickets::of_requester(db, Some(phone.as_str()), None, page).await?;
    Ok(earlier.first().and_then(|t| villages.iter().find(|v| v.id == t.region_id).cloned()))
}

/// Files a request a villager texted to the county's service number (channel `sms`), once per
/// reply (`key`: the reply's own dedup key, kept as an idempotency key): the text as description,
/// the village found by `sms_village`, the category `upstream.default_category` (the desk corrects
/// it when registering), a confirmation SMS with the tracking link as for any request.
pub async fn file_sms(
    state: &AppState,
    phone: &Phone,
    text: &str,
    region: repo::regions::Region,
    key: &str,
) -> ApiResult<IntakeAnswer> {
    let db = &state.db.conn;
    let code = state.settings.upstream.default_category.trim();
    let category = repo::catalog::category(db, code)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "category", "未配置短信诉求的默认分类"))?;
    let description: String = super::clean_text(text, "description")?.chars().take(DESCRIPTION_MAX).collect();
    let intake = Intake {
        kind: category.default_kind.as_deref().and_then(Kind::parse).unwrap_or(Kind::Help),
        region,
        card_id: None,
        channel: Channel::Sms,
        category,
        priority: Priority::Normal,
        description,
        phone: Some(phone.clone()),
        name: None,
        address: None,
        location: None,
        upload_ids: vec![],
        received_at: None,
        openid: None,
        linked: vec![],
        open311: None,
    };
    let l = &state.settings.limits;
    let checks = [(format!("intake:phone:{}:sms", phone.as_str()), l.intake_per_phone)];
    state
        .limiter
        .hit_all(&checks, state.now())
        .await
        .map_err(|e| ApiError::too_many(codes::RATE_LIMITED, "短信诉求过于频繁，请稍后再试", e.retry_after))?;
    let hash = body_hash(&serde_json::json!({"phone": phone.as_str(), "text": text}));
    match create(state, intake, None, Some(("sms", key, hash.as_str())), None).await {
        Ok((_, answer)) => Ok(answer),
        Err(e) if is_duplicate_key(&e) => replay(state, "sms", key, &hash)
            .await?
            .map(|(_, a)| a)
            .ok_or_else(|| ApiError::conflict(codes::IDEMPOTENCY_IN_PROGRESS, "相同短信正在处理中")),
        Err(e) => Err(e),
    }
}
