//! Administration of the county's directory: regions (county → township → village → grid), units,
//! staff and categories. Admins create, change and deactivate (never delete: tickets and events
//! point at these rows, and history keeps their names) within their region; categories are the
//! county's, so only an admin of the whole county changes them. Every change is written to the
//! audit log in the same transaction (who, when, what, before → after; no password hash, phones
//! masked), and read at `GET /api/v1/audit` by admins and inspectors.
use crate::auth::StaffUser;
use crate::auth::password::{self, HashParams};
use crate::domain::phone::{Phone, mask};
use crate::domain::roles::{ALL_ROLES, Role};
use crate::domain::values::{HandlingLevel, RegionLevel, UnitKind};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::audit::{AuditEntry, Filter, NewEntry};
use crate::repo::catalog::Category;
use crate::repo::regions::{NewUnit, Region, Unit};
use crate::repo::staff::{NewStaff, Staff};
use crate::services::clean_text;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{ConnectionTrait, DbErr};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn admin(user: &StaffUser) -> ApiResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("仅管理员可管理区域、单位、人员和分类"))
    }
}

/// Categories are the county's: only an admin whose region is the whole county changes them.
fn county_admin(user: &StaffUser) -> ApiResult<()> {
    admin(user)?;
    if user.scope.region_path.matches('/').count() == 2 {
        Ok(())
    } else {
        Err(ApiError::forbidden("诉求分类全县统一，仅县级管理员可修改"))
    }
}

fn covered(user: &StaffUser, region: &Region) -> ApiResult<()> {
    if user.covers_region(&region.path) { Ok(()) } else { Err(ApiError::out_of_scope()) }
}

fn duplicate(field: &str, message: &str) -> ApiError {
    ApiError::conflict(codes::DUPLICATE, message).with_field(field)
}

/// A unique index refused the row (a parallel request won the race the check above lost).
fn unique_or(e: DbErr, field: &str, message: &str) -> ApiError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => duplicate(field, message),
        _ => e.into(),
    }
}

/// A required or optional name-like text: trimmed, 1..=max characters.
fn text(raw: &str, field: &str, what: &str, max: usize) -> ApiResult<String> {
    let t = clean_text(raw, field)?;
    if t.is_empty() || t.chars().count() > max {
        return Err(ApiError::validation(field, format!("{what}须为1到{max}个字")));
    }
    Ok(t)
}

fn optional_text(raw: Option<String>, field: &str, what: &str, max: usize) -> ApiResult<Option<String>> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(t, field, what, max).map(Some),
    }
}

/// A unit's or hotline's telephone: a mobile, or a landline with area code (0871-12345678).
pub(crate) fn telephone(raw: Option<String>, field: &str) -> ApiResult<Option<String>> {
    let Some(t) = raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else { return Ok(None) };
    if let Some(p) = Phone::parse(&t) {
        return Ok(Some(p.as_str().to_string()));
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let ok = t.chars().all(|c| c.is_ascii_digit() || c == '-') && (7..=13).contains(&digits) && !t.starts_with('-');
    if ok {
        Ok(Some(t))
    } else {
        Err(ApiError::validation(field, "电话号码格式不正确（手机号或带区号的固定电话）"))
    }
}

pub(crate) fn mobile(raw: Option<String>, field: &str) -> ApiResult<Option<String>> {
    match raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Phone::parse(&t)
            .map(|p| Some(p.as_str().to_string()))
            .ok_or_else(|| ApiError::validation(field, "手机号格式不正确，应为11位手机号")),
    }
}

// ---------------------------------------------------------------- audit

pub(crate) fn region_json(r: &Region) -> Value {
    json!({"id": r.id, "name": r.name, "level": r.level, "parent_id": r.parent_id, "path": r.path,
           "hotline": r.hotline, "active": r.active})
}

pub(crate) fn unit_json(u: &Unit) -> Value {
    json!({"id": u.id, "name": u.name, "level": u.level, "kind": u.kind, "region_id": u.region_id,
           "is_lead": u.is_lead, "phone": u.phone, "active": u.active})
}

/// A staff member as the audit log keeps them: no password hash, the phone masked.
pub(crate) fn staff_audit_json(s: &Staff) -> Value {
    json!({"id": s.id, "username": s.username, "name": s.name, "roles": s.roles, "region_id": s.region_id,
           "unit_id": s.unit_id, "phone": s.phone.as_deref().map(mask), "post": s.post, "active": s.active})
}

/// A staff member as an admin sees them.
pub fn staff_json(s: &Staff) -> Value {
    json!({"id": s.id, "username": s.username, "name": s.name, "roles": s.roles, "region_id": s.region_id,
           "unit_id": s.unit_id, "phone": s.phone, "post": s.post, "active": s.active,
           "must_change_password": s.must_change_password})
}

pub fn category_json(c: &Category) -> Value {
    json!({"code": c.code, "name": c.name, "parent_code": c.parent_code, "level": c.level, "sort": c.sort,
           "unit_id": c.unit_id, "active": c.active, "auto_dispatch": c.auto_dispatch,
           "default_kind": c.default_kind})
}

/// What an update did: `deactivate`/`reactivate` when only the active flag moved that way.
fn update_action(before: bool, after: bool) -> &'static str {
    match (before, after) {
        (true, false) => "deactivate",
        (false, true) => "reactivate",
        _ => "update",
    }
}

pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub region_path: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub(crate) async fn audit<C: ConnectionTrait>(
    db: &C,
    user: &StaffUser,
    now: DateTime<Utc>,
    c: Change<'_>,
) -> ApiResult<()> {
    repo::audit::record(
        db,
        NewEntry {
            at: now,
            actor_id: user.id,
            actor_name: &user.name,
            action: c.action,
            entity: c.entity,
            entity_id: c.entity_id,
            region_path: c.region_path,
            before: c.before.map(|v| v.to_string()),
            after: c.after.map(|v| v.to_string()),
        },
    )
    .await?;
    Ok(())
}

async fn region_in_scope(state: &AppState, user: &StaffUser, id: i64, field: &str) -> ApiResult<Region> {
    let r = repo::regions::get(&state.db.conn, id)
        .await?
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, field, "区域不存在"))?;
    covered(user, &r)?;
    Ok(r)
}

// ---------------------------------------------------------------- regions

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "新村", "level": "village", "parent_id": 12}))]
pub struct RegionBody {
    pub name: Option<String>,
    pub level: Option<String>,
    pub parent_id: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub hotline: Option<Option<String>>,
    pub active: Option<bool>,
}

/// The level a region under `parent` has: one step down the tree.
fn child_level(parent: RegionLevel) -> Option<RegionLevel> {
    match parent {
        RegionLevel::County => Some(RegionLevel::Township),
        RegionLevel::Township => Some(RegionLevel::Village),
        RegionLevel::Village => Some(RegionLevel::Grid),
        RegionLevel::Grid => None,
    }
}

pub async fn create_region(state: &AppState, user: &StaffUser, b: &RegionBody) -> ApiResult<Value> {
    admin(user)?;
    let name = text(b.name.as_deref().unwrap_or(""), "name", "区域名称", 30)?;
    let parent_id = b.parent_id.ok_or_else(|| ApiError::validation("parent_id", "请选择上级区域（县由命令行创建）"))?;
    let parent = region_in_scope(state, user, parent_id, "parent_id").await?;
    let level = child_level(parent.level).ok_or_else(|| ApiError::validation("parent_id", "网格之下不能再建区域"))?;
    if b.level.as_deref().is_some_and(|l| RegionLevel::parse(l) != Some(level)) {
        return Err(ApiError::validation("level", format!("{}之下只能建{}", parent.level.label(), level.label())));
    }
    if !parent.active {
        return Err(ApiError::validation("parent_id", "上级区域已停用"));
    }
    let hotline = telephone(b.hotline.clone().flatten(), "hotline")?;
    let now = state.now();
    let tx = state.db.begin().await?;
    let r = repo::regions::create(&*tx, Some(&parent), level, &name, hotline.as_deref(), now).await?;
    let after = region_json(&r);
    let change = Change {
        action: "create",
        entity: "region",
        entity_id: r.id.to_string(),
        region_path: &r.path,
        before: None,
        after: Some(after.clone()),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    state.reference.changed();
    Ok(after)
}

pub async fn update_region(state: &AppState, user: &StaffUser, id: i64, b: &RegionBody) -> ApiResult<Value> {
    admin(user)?;
    let before = repo::regions::get(&state.db.conn, id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    covered(user, &before)?;
    if b.level.as_deref().is_some_and(|l| RegionLevel::parse(l) != Some(before.level)) {
        return Err(ApiError::validation("level", "区域层级不能修改"));
    }
    let mut after = before.clone();
    if let Some(n) = &b.name {
        after.name = text(n, "name", "区域名称", 30)?;
    }
    if let Some(h) = &b.hotline {
        after.hotline = telephone(h.clone(), "hotline")?;
    }
    if let Some(a) = b.active {
        after.active = a;
    }
    let new_parent = match b.parent_id {
        Some(p) if Some(p) != before.parent_id => {
            if before.path == user.scope.region_path || before.parent_id.is_none() {
                return Err(ApiError::validation("parent_id", "不能移动本级或最上级区域"));
            }
            let parent = region_in_scope(state, user, p, "parent_id").await?;
            if child_level(parent.level) != Some(before.level) || !parent.active {
                return Err(ApiError::validation(
                    "parent_id",
                    format!("{}只能移到启用中的{}之下", before.level.label(), parent_label(before.level)),
                ));
            }
            Some(parent)
        }
        _ => None,
    };
    let db = &state.db.conn;
    if before.active && !after.active {
        if before.path == user.scope.region_path {
            return Err(ApiError::validation("active", "不能停用自己所在的区域"));
        }
        let (children, n) = repo::regions::list(db, &before.path, None, Some(before.id), None, Page::FIRST).await?;
        if children.iter().any(|c| c.active) || n > children.len() as u64 {
            return Err(ApiError::conflict(codes::IN_USE, "请先停用下级区域").with_field("active"));
        }
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    repo::regions::save(&*tx, &after).await?;
    if let Some(parent) = &new_parent {
        after = repo::regions::move_under(&*tx, &after, parent).await?;
    }
    let action = if new_parent.is_some() { "move" } else { update_action(before.active, after.active) };
    let change = Change {
        action,
        entity: "region",
        entity_id: id.to_string(),
        region_path: &after.path,
        before: Some(region_json(&before)),
        after: Some(region_json(&after)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    state.reference.changed();
    Ok(region_json(&after))
}

fn parent_label(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Township => RegionLevel::County.label(),
        RegionLevel::Village => RegionLevel::Township.label(),
        _ => RegionLevel::Village.label(),
    }
}

// ---------------------------------------------------------------- units

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "新村村民委员会", "region_id": 13, "level": "village"}))]
pub struct UnitBody {
    pub name: Option<String>,
    pub region_id: Option<i64>,
    pub level: Option<String>,
    pub kind: Option<String>,
    pub is_lead: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone: Option<Option<String>>,
    pub active: Option<bool>,
}

fn handling_level(raw: &str) -> ApiResult<HandlingLevel> {
    HandlingLevel::parse(raw)
        .ok_or_else(|| ApiError::validation("level", format!("层级不正确，可选：{}", HandlingLevel::names())))
}

fn unit_kind(raw: &str) -> ApiResult<UnitKind> {
    UnitKind::parse(raw)
        .ok_or_else(|| ApiError::validation("kind", format!("单位类型不正确，可选：{}", UnitKind::names())))
}

const UNIT_NAME_TAKEN: &str = "该区域已有同名单位";

/// A company outside government (公共服务企业) has no console accounts: its orders go to its duty
/// phone by SMS link, so it must have one.
pub fn outside_needs_phone(kind: UnitKind, phone: Option<&str>) -> ApiResult<()> {
    if kind == UnitKind::Outside && phone.is_none() {
        return Err(ApiError::validation("phone", "公共服务企业须填写值班电话，派单以短信链接发送到该电话"));
    }
    Ok(())
}

pub async fn create_unit(state: &AppState, user: &StaffUser, b: &UnitBody) -> ApiResult<Value> {
    admin(user)?;
    let name = text(b.name.as_deref().unwrap_or(""), "name", "单位名称", 50)?;
    let region_id = b.region_id.ok_or_else(|| ApiError::validation("region_id", "请选择单位所属区域"))?;
    let region = region_in_scope(state, user, region_id, "region_id").await?;
    let level = handling_level(b.level.as_deref().ok_or_else(|| ApiError::validation("level", "请选择单位层级"))?)?;
    let kind = unit_kind(b.kind.as_deref().ok_or_else(|| ApiError::validation("kind", "请选择单位类型"))?)?;
    let phone = telephone(b.phone.clone().flatten(), "phone")?;
    outside_needs_phone(kind, phone.as_deref())?;
    let now = state.now();
    let tx = state.db.begin().await?;
    if repo::regions::unit_named(&*tx, region.id, &name, None).await?.is_some() {
        return Err(duplicate("name", UNIT_NAME_TAKEN));
    }
    let new =
        NewUnit { name: &name, level, kind, region_id, is_lead: b.is_lead.unwrap_or(false), phone: phone.as_deref() };
    let u = repo::regions::create_unit(&*tx, new, now).await.map_err(|e| unique_or(e, "name", UNIT_NAME_TAKEN))?;
    let after = unit_json(&u);
    let change = Change {
        action: "create",
        entity: "unit",
        entity_id: u.id.to_string(),
        region_path: &region.path,
        before: None,
        after: Some(after.clone()),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn update_unit(state: &AppState, user: &StaffUser, id: i64, b: &UnitBody) -> ApiResult<Value> {
    admin(user)?;
    let db = &state.db.conn;
    let before = repo::regions::unit(db, id).await?.ok_or_else(|| ApiError::not_found("单位不存在"))?;
    let old_region =
        repo::regions::get(db, before.region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    covered(user, &old_region)?;
    let mut after = before.clone();
    if let Some(n) = &b.name {
        after.name = text(n, "name", "单位名称", 50)?;
    }
    let region = match b.region_id {
        Some(r) if r != before.region_id => region_in_scope(state, user, r, "region_id").await?,
        _ => old_region,
    };
    after.region_id = region.id;
    if let Some(l) = &b.level {
        after.level = handling_level(l)?;
    }
    if let Some(k) = &b.kind {
        after.kind = unit_kind(k)?;
    }
    if let Some(l) = b.is_lead {
        after.is_lead = l;
    }
    if let Some(p) = &b.phone {
        after.phone = telephone(p.clone(), "phone")?;
    }
    if let Some(a) = b.active {
        after.active = a;
    }
    outside_needs_phone(after.kind, after.phone.as_deref())?;
    if after.kind == UnitKind::Outside
        && before.kind != UnitKind::Outside
        && repo::staff::count_in_unit(db, id).await? > 0
    {
        return Err(ApiError::validation("kind", "该单位还有控制台账号，请先调出人员再改为公共服务企业"));
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    if repo::regions::unit_named(&*tx, after.region_id, &after.name, Some(id)).await?.is_some() {
        return Err(duplicate("name", UNIT_NAME_TAKEN));
    }
    repo::regions::save_unit(&*tx, &after).await.map_err(|e| unique_or(e, "name", UNIT_NAME_TAKEN))?;
    let change = Change {
        action: update_action(before.active, after.active),
        entity: "unit",
        entity_id: id.to_string(),
        region_path: &region.path,
        before: Some(unit_json(&before)),
        after: Some(unit_json(&after)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    Ok(unit_json(&after))
}

// ---------------------------------------------------------------- staff

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    pub username: Option<String>,
    pub name: Option<String>,
    /// Role codes (`cadre`) or Chinese names (`承办人`).
    pub roles: Option<Vec<String>>,
    pub region_id: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub unit_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub post: Option<Option<String>>,
    pub active: Option<bool>,
}

pub(crate) fn roles(raw: &[String]) -> ApiResult<Vec<Role>> {
    let mut out = Vec::new();
    for r in raw {
        let r = r.trim();
        let role = Role::parse(r).or_else(|| ALL_ROLES.iter().copied().find(|x| x.label() == r)).ok_or_else(|| {
            let names: Vec<String> = ALL_ROLES.iter().map(|x| format!("{}（{}）", x.as_str(), x.label())).collect();
            ApiError::validation("roles", format!("不认识的角色“{r}”，可选：{}", names.join("、")))
        })?;
        if !out.contains(&role) {
            out.push(role);
        }
    }
    if out.is_empty() {
        return Err(ApiError::validation("roles", "请至少选择一个角色"));
    }
    Ok(out)
}

pub(crate) fn username(raw: &str) -> ApiResult<String> {
    let u = raw.trim();
    let ok = (3..=32).contains(&u.len())
        && u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        && u.starts_with(|c: char| c.is_ascii_lowercase());
    if ok {
        Ok(u.to_string())
    } else {
        Err(ApiError::validation("username", "用户名须为3到32位小写字母、数字、点、下划线或连字符，以字母开头"))
    }
}

/// The unit a staff member belongs to: it must exist, be active and lie inside the admin's scope.
async fn staff_unit(state: &AppState, user: &StaffUser, id: Option<i64>) -> ApiResult<Option<Unit>> {
    let Some(id) = id else { return Ok(None) };
    let db = &state.db.conn;
    let unit = repo::regions::unit(db, id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_UNIT, "unit_id", "单位不存在或已停用"))?;
    let region = repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::unprocessable(codes::UNIT_OUT_OF_SCOPE, "unit_id", "该单位不在您的管辖范围内"));
    }
    if unit.kind == UnitKind::Outside {
        return Err(ApiError::unprocessable(
            codes::OUTSIDE_UNIT,
            "unit_id",
            "公共服务企业不开设控制台账号，派单以短信链接发送到其值班电话",
        ));
    }
    Ok(Some(unit))
}

/// A temporary password: 12 characters without look-alikes (no 0/O, 1/l/I), read out by phone.
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

async fn hash(state: &AppState, password: &str) -> ApiResult<String> {
    let auth = &state.settings.auth;
    let params = HashParams { memory_kib: auth.argon2_memory_kib, iterations: auth.argon2_iterations };
    password::hash(SecretString::from(password.to_string()), params).await.map_err(ApiError::internal)
}

const USERNAME_TAKEN: &str = "用户名已被使用";

/// Creates a staff member with a temporary password (answered once, as `temporary_password`),
/// which must be changed at the first login.
pub async fn create_staff(state: &AppState, user: &StaffUser, b: &StaffBody) -> ApiResult<Value> {
    admin(user)?;
    let username = username(b.username.as_deref().unwrap_or(""))?;
    let name = text(b.name.as_deref().unwrap_or(""), "name", "姓名", 30)?;
    let roles = roles(b.roles.as_deref().ok_or_else(|| ApiError::validation("roles", "请至少选择一个角色"))?)?;
    let region_id = b.region_id.ok_or_else(|| ApiError::validation("region_id", "请选择所属区域"))?;
    let region = region_in_scope(state, user, region_id, "region_id").await?;
    let unit = staff_unit(state, user, b.unit_id.flatten()).await?;
    if roles.contains(&Role::Cadre) && unit.is_none() {
        return Err(ApiError::validation("unit_id", "承办人须属于一个承办单位"));
    }
    let phone = mobile(b.phone.clone().flatten(), "phone")?;
    let post = optional_text(b.post.clone().flatten(), "post", "职务", 30)?;
    let password = temporary_password();
    let hashed = hash(state, &password).await?;
    let now = state.now();
    let tx = state.db.begin().await?;
    if repo::staff::by_username(&*tx, &username).await?.is_some() {
        return Err(duplicate("username", USERNAME_TAKEN));
    }
    let joined = crate::domain::roles::join_roles(&roles);
    let new = NewStaff {
        username: &username,
        name: &name,
        password_hash: &hashed,
        roles: &joined,
        region_id,
        unit_id: unit.as_ref().map(|u| u.id),
        phone: phone.as_deref(),
        post: post.as_deref(),
        must_change_password: true,
    };
    let s = repo::staff::create(&*tx, new, now).await.map_err(|e| unique_or(e, "username", USERNAME_TAKEN))?;
    let change = Change {
        action: "create",
        entity: "staff",
        entity_id: s.id.to_string(),
        region_path: &region.path,
        before: None,
        after: Some(staff_audit_json(&s)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(username = %s.username, by = user.id, "staff created");
    let mut answer = staff_json(&s);
    answer["temporary_password"] = json!(password);
    Ok(answer)
}

async fn staff_in_scope(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<(Staff, Region)> {
    let db = &state.db.conn;
    let s = repo::staff::get(db, id).await?.ok_or_else(|| ApiError::not_found("人员不存在"))?;
    let region = repo::regions::get(db, s.region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    covered(user, &region)?;
    Ok((s, region))
}

pub async fn update_staff(state: &AppState, user: &StaffUser, id: i64, b: &StaffBody) -> ApiResult<Value> {
    admin(user)?;
    let (before, old_region) = staff_in_scope(state, user, id).await?;
    if b.username.as_deref().is_some_and(|u| u.trim() != before.username) {
        return Err(ApiError::validation("username", "用户名不能修改"));
    }
    let mut after = before.clone();
    if let Some(n) = &b.name {
        after.name = text(n, "name", "姓名", 30)?;
    }
    if let Some(r) = &b.roles {
        after.roles = roles(r)?;
    }
    let region = match b.region_id {
        Some(r) if r != before.region_id => region_in_scope(state, user, r, "region_id").await?,
        _ => old_region,
    };
    after.region_id = region.id;
    if let Some(u) = b.unit_id {
        after.unit_id = staff_unit(state, user, u).await?.map(|u| u.id);
    }
    // Checked when roles or unit change (a grid worker kept from before may be a cadre without one).
    let reassigned = after.roles != before.roles || after.unit_id != before.unit_id;
    if reassigned && after.roles.contains(&Role::Cadre) && after.unit_id.is_none() {
        return Err(ApiError::validation("unit_id", "承办人须属于一个承办单位"));
    }
    if let Some(p) = &b.phone {
        after.phone = mobile(p.clone(), "phone")?;
    }
    if let Some(p) = &b.post {
        after.post = optional_text(p.clone(), "post", "职务", 30)?;
    }
    if let Some(a) = b.active {
        after.active = a;
    }
    if id == user.id && (!after.active || !after.roles.contains(&Role::Admin)) {
        return Err(ApiError::validation(
            if after.active { "roles" } else { "active" },
            "不能停用自己的账号或取消自己的管理员角色",
        ));
    }
    // New roles, scope or deactivation: every token of theirs stops working at once.
    let revoke = after.roles != before.roles
        || after.region_id != before.region_id
        || after.unit_id != before.unit_id
        || after.active != before.active;
    let now = state.now();
    let tx = state.db.begin().await?;
    repo::staff::save(&*tx, &after, revoke).await?;
    let change = Change {
        action: update_action(before.active, after.active),
        entity: "staff",
        entity_id: id.to_string(),
        region_path: &region.path,
        before: Some(staff_audit_json(&before)),
        after: Some(staff_audit_json(&after)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    Ok(staff_json(&after))
}

/// A new temporary password (answered once) that must be changed at the next login; every token
/// of the person stops working and a login lock is lifted.
pub async fn reset_password(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Value> {
    admin(user)?;
    let (s, region) = staff_in_scope(state, user, id).await?;
    let password = temporary_password();
    let hashed = hash(state, &password).await?;
    let now = state.now();
    let tx = state.db.begin().await?;
    repo::staff::set_password(&*tx, s.id, &hashed, true).await?;
    let change = Change {
        action: "reset_password",
        entity: "staff",
        entity_id: id.to_string(),
        region_path: &region.path,
        before: None,
        after: Some(json!({"must_change_password": true})),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(username = %s.username, by = user.id, "password reset");
    Ok(json!({"id": s.id, "username": s.username, "temporary_password": password, "must_change_password": true}))
}

// ---------------------------------------------------------------- categories

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent_code: Option<Option<String>>,
    pub level: Option<String>,
    pub sort: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub unit_id: Option<Option<i64>>,
    pub active: Option<bool>,
    /// A card intake in this category is dispatched at once to the suggested unit.
    pub auto_dispatch: Option<bool>,
    /// The kind a request here usually is; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    pub default_kind: Option<Option<String>>,
}

/// A kind hint as given: a known kind or nothing.
fn kind_hint(v: Option<&str>) -> ApiResult<Option<String>> {
    match v.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => crate::domain::values::Kind::parse(k).map(|k| Some(k.as_str().to_string())).ok_or_else(|| {
            ApiError::validation(
                "default_kind",
                format!("诉求类型不正确，可选：{}", crate::domain::values::Kind::names()),
            )
        }),
    }
}

fn category_code(raw: &str) -> ApiResult<String> {
    let c = raw.trim();
    let ok =
        (1..=32).contains(&c.len()) && c.chars().all(|x| x.is_ascii_alphanumeric() || matches!(x, '_' | '-' | '.'));
    if ok {
        Ok(c.to_string())
    } else {
        Err(ApiError::validation("code", "分类编码须为1到32位字母、数字、点、下划线或连字符"))
    }
}

/// The parent of a category: it must exist and must not be the category itself or below it.
async fn category_parent(state: &AppState, code: &str, parent: Option<String>) -> ApiResult<Option<String>> {
    let Some(p) = parent.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()) else { return Ok(None) };
    let all = repo::catalog::every_category(&state.db.conn).await?;
    let mut at = Some(p.clone());
    while let Some(c) = at {
        if c == code {
            return Err(ApiError::validation("parent_code", "上级分类不能是它自己或它的下级"));
        }
        let row = all
            .iter()
            .find(|x| x.code == c)
            .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_CATEGORY, "parent_code", "上级分类不存在"))?;
        at = row.parent_code.clone();
    }
    Ok(Some(p))
}

async fn category_unit(state: &AppState, id: Option<i64>) -> ApiResult<Option<i64>> {
    let Some(id) = id else { return Ok(None) };
    repo::regions::unit(&state.db.conn, id)
        .await?
        .filter(|u| u.active)
        .map(|u| Some(u.id))
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_UNIT, "unit_id", "单位不存在或已停用"))
}

const CODE_TAKEN: &str = "分类编码已存在";

pub async fn create_category(state: &AppState, user: &StaffUser, b: &CategoryBody) -> ApiResult<Value> {
    county_admin(user)?;
    let code = category_code(b.code.as_deref().unwrap_or(""))?;
    let name = text(b.name.as_deref().unwrap_or(""), "name", "分类名称", 30)?;
    let level = handling_level(b.level.as_deref().ok_or_else(|| ApiError::validation("level", "请选择默认办理层级"))?)?;
    let parent = category_parent(state, &code, b.parent_code.clone().flatten()).await?;
    let unit_id = category_unit(state, b.unit_id.flatten()).await?;
    let now = state.now();
    let tx = state.db.begin().await?;
    if repo::catalog::category(&*tx, &code).await?.is_some() {
        return Err(duplicate("code", CODE_TAKEN));
    }
    let row = repo::catalog::Category {
        code: code.clone(),
        name,
        parent_code: parent,
        level: level.as_str().to_string(),
        sort: b.sort.unwrap_or(0),
        active: true,
        unit_id,
        auto_dispatch: b.auto_dispatch.unwrap_or(false),
        default_kind: kind_hint(b.default_kind.clone().flatten().as_deref())?,
    };
    let c = repo::catalog::insert_category(&*tx, row).await.map_err(|e| unique_or(e, "code", CODE_TAKEN))?;
    let after = category_json(&c);
    let change = Change {
        action: "create",
        entity: "category",
        entity_id: code,
        region_path: &user.scope.region_path,
        before: None,
        after: Some(after.clone()),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    state.reference.changed();
    Ok(after)
}

pub async fn update_category(state: &AppState, user: &StaffUser, code: &str, b: &CategoryBody) -> ApiResult<Value> {
    county_admin(user)?;
    let before =
        repo::catalog::category(&state.db.conn, code).await?.ok_or_else(|| ApiError::not_found("分类不存在"))?;
    if b.code.as_deref().is_some_and(|c| c.trim() != before.code) {
        return Err(ApiError::validation("code", "分类编码不能修改"));
    }
    let mut after = before.clone();
    if let Some(n) = &b.name {
        after.name = text(n, "name", "分类名称", 30)?;
    }
    if let Some(p) = &b.parent_code {
        after.parent_code = category_parent(state, code, p.clone()).await?;
    }
    if let Some(l) = &b.level {
        after.level = handling_level(l)?.as_str().to_string();
    }
    if let Some(s) = b.sort {
        after.sort = s;
    }
    if let Some(u) = b.unit_id {
        after.unit_id = category_unit(state, u).await?;
    }
    if let Some(a) = b.active {
        after.active = a;
    }
    if let Some(a) = b.auto_dispatch {
        after.auto_dispatch = a;
    }
    if let Some(k) = &b.default_kind {
        after.default_kind = kind_hint(k.as_deref())?;
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    repo::catalog::save_category(&*tx, &after).await?;
    let change = Change {
        action: update_action(before.active, after.active),
        entity: "category",
        entity_id: code.to_string(),
        region_path: &user.scope.region_path,
        before: Some(category_json(&before)),
        after: Some(category_json(&after)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    state.reference.changed();
    Ok(category_json(&after))
}

// ---------------------------------------------------------------- audit list

const ENTITIES: [&str; 5] = ["region", "unit", "staff", "category", "leave"];
const ACTIONS: [&str; 7] = ["create", "update", "move", "deactivate", "reactivate", "reset_password", "cancel"];

fn entry_json(e: AuditEntry) -> Value {
    let parse = |t: Option<String>| t.and_then(|t| serde_json::from_str::<Value>(&t).ok());
    json!({"id": e.id, "at": e.at, "actor": {"id": e.actor_id, "name": e.actor_name}, "action": e.action,
           "entity": e.entity, "entity_id": e.entity_id, "before": parse(e.before), "after": parse(e.after)})
}

pub async fn audit_list(state: &AppState, user: &StaffUser, q: &Filter, page: Page) -> ApiResult<(Vec<Value>, u64)> {
    user.require_any(&[Role::Inspector])?;
    let pick = |v: &Option<String>, allowed: &[&str], field: &str| -> ApiResult<Option<String>> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) if allowed.contains(&s) => Ok(Some(s.to_string())),
            Some(_) => Err(ApiError::validation(field, format!("可选：{}", allowed.join(", ")))),
        }
    };
    let filter = Filter {
        entity: pick(&q.entity, &ENTITIES, "entity")?,
        entity_id: q.entity_id.clone().filter(|s| !s.trim().is_empty()),
        actor_id: q.actor_id,
        action: pick(&q.action, &ACTIONS, "action")?,
        from: q.from,
        to: q.to,
    };
    let (rows, total) = repo::audit::list(&state.db.conn, &user.scope.region_path, &filter, page).await?;
    Ok((rows.into_iter().map(entry_json).collect(), total))
}
