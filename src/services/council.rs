//! 三老合议 outside the ticket: the village council's members (listed by the staff of the village's
//! scope, kept by an admin or the dispatcher or leader of the scope) and the village's public notice
//! of published decisions (no requester, numbers masked: written so at decision time).
use crate::auth::StaffUser;
use crate::domain::phone::{Phone, mask};
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::domain::values::RegionLevel;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::council::{Member, MemberPatch, NewMember};
use crate::repo::regions::Region;
use crate::repo::tickets::{Event, Ticket};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// 三老: the fewest members a decision needs.
pub const MIN_MEMBERS: usize = 3;

/// The village whose council hears the ticket: the village its region is (or lies under).
pub async fn village_region<C: ConnectionTrait>(db: &C, t: &Ticket) -> Result<Option<Region>, DbErr> {
    let Some(region) = repo::regions::get(db, t.region_id).await? else {
        return Ok(None);
    };
    let lineage = repo::regions::lineage(db, &region).await?;
    Ok(Some(lineage.into_iter().rev().find(|r| r.level == RegionLevel::Village).unwrap_or(region)))
}

/// The members who signed the current referral (the events after the last approval), in order.
pub fn signed_members(events: &[Event]) -> Vec<(i64, Value)> {
    let start = events.iter().rposition(|e| e.action == Action::ReferApprove.as_str()).map_or(0, |i| i + 1);
    events[start..]
        .iter()
        .filter(|e| e.action == Action::CouncilSign.as_str())
        .filter_map(|e| {
            let d: Value = serde_json::from_str(&e.data).ok()?;
            let id = d["member_id"].as_i64()?;
            Some((id, json!({"member_id": id, "name": d["name"], "title": d["title"], "at": e.at})))
        })
        .collect()
}

/// Whether an active member of the ticket's village council has yet to sign its current referral.
pub async fn unsigned_member_left<C: ConnectionTrait>(db: &C, t: &Ticket) -> Result<bool, DbErr> {
    let Some(village) = village_region(db, t).await? else {
        return Ok(false);
    };
    let signed = signed_members(&repo::tickets::events_of(db, t.id).await?);
    let members = repo::council::members(db, village.id, true).await?;
    Ok(members.iter().any(|m| !signed.iter().any(|(id, _)| *id == m.id)))
}

/// Titles offered by the console; any other short title is accepted too.
pub const TITLES: [&str; 5] = ["老党员", "老干部", "老教师", "村民代表", "乡贤"];

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "王德厚", "title": "老党员", "phone": "13900000401"}))]
pub struct NewMemberBody {
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

/// `PATCH`: any of the fields; `"phone": ""` removes the phone, `"active": false` retires the member.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"active": false}))]
pub struct MemberUpdate {
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub active: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub village_id: i64,
    pub name: String,
    pub title: String,
    /// Masked (`139****0401`) except for admins.
    pub phone: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

fn view(user: &StaffUser, m: Member) -> MemberView {
    let phone = m.phone.map(|p| if user.is_admin() { p } else { mask(&p) });
    MemberView {
        id: m.id,
        village_id: m.region_id,
        name: m.name,
        title: m.title,
        phone,
        active: m.active,
        created_at: m.created_at,
    }
}

/// The village, 404 outside the caller's scope (as if unknown), 422 when the region is no village.
async fn village(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Region> {
    let v = repo::regions::get(&state.db.conn, id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    if !user.is_admin() && !user.covers_region(&v.path) {
        return Err(ApiError::not_found("村不存在"));
    }
    if v.level != RegionLevel::Village {
        return Err(ApiError::unprocessable(codes::NOT_A_VILLAGE, "id", "村民议事会只设在村"));
    }
    Ok(v)
}

fn may_manage(user: &StaffUser) -> ApiResult<()> {
    user.require_any(&[Role::Dispatcher, Role::Leader])
}

fn short(v: &Option<String>, field: &str, what: &str, required: bool) -> ApiResult<Option<String>> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 20 => Err(ApiError::validation(field, format!("{what}不能超过20个字"))),
        Some(s) => Ok(Some(s.to_string())),
        None if required => Err(ApiError::validation(field, format!("请填写{what}"))),
        None => Ok(None),
    }
}

fn phone(v: &Option<String>) -> ApiResult<Option<Option<String>>> {
    match v.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(p) => Phone::parse(p)
            .map(|p| Some(Some(p.as_str().to_string())))
            .ok_or_else(|| ApiError::validation("phone", "手机号格式不正确")),
    }
}

pub async fn list(state: &AppState, user: &StaffUser, village_id: i64) -> ApiResult<(Region, Vec<MemberView>)> {
    let v = village(state, user, village_id).await?;
    let members = repo::council::members(&state.db.conn, v.id, false).await?;
    Ok((v, members.into_iter().map(|m| view(user, m)).collect()))
}

pub async fn add(state: &AppState, user: &StaffUser, village_id: i64, b: &NewMemberBody) -> ApiResult<MemberView> {
    may_manage(user)?;
    let v = village(state, user, village_id).await?;
    let name = short(&b.name, "name", "姓名", true)?.unwrap_or_default();
    let title = short(&b.title, "title", "身份（如老党员、老干部、老教师、村民代表）", true)?.unwrap_or_default();
    let phone = phone(&b.phone)?.flatten();
    let db = &state.db.conn;
    let m = repo::council::create_member(
        db,
        NewMember { region_id: v.id, name, title, phone, created_by: Some(user.id) },
        state.now(),
    )
    .await?;
    tracing::info!(member = m.id, village = v.id, by = user.id, "council member added");
    Ok(view(user, m))
}

pub async fn update(
    state: &AppState,
    user: &StaffUser,
    village_id: i64,
    member_id: i64,
    b: &MemberUpdate,
) -> ApiResult<MemberView> {
    may_manage(user)?;
    let v = village(state, user, village_id).await?;
    let db = &state.db.conn;
    repo::council::member(db, member_id)
        .await?
        .filter(|m| m.region_id == v.id)
        .ok_or_else(|| ApiError::not_found("议事会成员不存在"))?;
    let patch = MemberPatch {
        name: short(&b.name, "name", "姓名", false)?,
        title: short(&b.title, "title", "身份", false)?,
        phone: phone(&b.phone)?,
        active: b.active,
    };
    let m = repo::council::update_member(db, member_id, patch, state.now())
        .await?
        .ok_or_else(|| ApiError::not_found("议事会成员不存在"))?;
    tracing::info!(member = m.id, village = v.id, by = user.id, active = m.active, "council member changed");
    Ok(view(user, m))
}

/// One published decision as the public sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub decided_at: DateTime<Utc>,
    pub category: String,
    pub category_name: String,
    pub decision: String,
    #[schema(value_type = Vec<Object>)]
    pub members: Value,
}

/// The village's published decisions (public: no login). 404 for anything but a village.
pub async fn notices(state: &AppState, village_id: i64, page: Page) -> ApiResult<(Region, Vec<NoticeView>, u64)> {
    let db = &state.db.conn;
    let v = repo::regions::get(db, village_id)
        .await?
        .filter(|r| r.level == RegionLevel::Village && r.active)
        .ok_or_else(|| ApiError::not_found("村不存在"))?;
    let (rows, total) = repo::council::notices(db, v.id, page).await?;
    let mut items = Vec::with_capacity(rows.len());
    for n in rows {
        let category_name = repo::catalog::category(db, &n.category_code).await?.map(|c| c.name).unwrap_or_default();
        items.push(NoticeView {
            id: n.id,
            decided_at: n.decided_at,
            category: n.category_code,
            category_name,
            decision: n.decision,
            members: n.members,
        });
    }
    Ok((v, items, total))
}

/// What the ticket view shows of the council: a request waiting for a leader, the village's members
/// and who signed the current referral (only on tickets that have anything of it).
pub async fn ticket_council<C: ConnectionTrait>(db: &C, t: &Ticket, events: &[Event]) -> Result<Option<Value>, DbErr> {
    let pending = repo::council::pending_refer(db, t.id).await?;
    let involved = pending.is_some() || events.iter().any(|e| e.action == Action::ReferApprove.as_str());
    if !involved {
        return Ok(None);
    }
    let Some(village) = village_region(db, t).await? else {
        return Ok(None);
    };
    let request = match pending {
        Some(r) => {
            let by = match r.requested_by {
                Some(id) => repo::staff::get(db, id).await?.map(|s| json!({"id": s.id, "name": s.name})),
                None => None,
            };
            json!({"reason": r.reason, "requested_at": r.requested_at, "requested_by": by})
        }
        None => Value::Null,
    };
    let members: Vec<Member> = repo::council::members(db, village.id, true).await?;
    let members: Vec<Value> = members.iter().map(|m| json!({"id": m.id, "name": m.name, "title": m.title})).collect();
    let signed: Vec<Value> = signed_members(events).into_iter().map(|(_, v)| v).collect();
    Ok(Some(json!({"refer_request": request, "village": {"id": village.id, "name": village.name},
                   "members": members, "signed": signed, "min_members": MIN_MEMBERS})))
}
