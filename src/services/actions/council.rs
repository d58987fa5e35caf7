//! 下交 and 三老合议: the desk asks to refer a repeated request to its village council, a leader of
//! the region approves (签批: the unit holding it lets go, the ticket is `referred`) or refuses; on
//! the referred ticket each council member's signature is its own ledger event, and the decision
//! names the members who took part (every one of them signed this referral, at least
//! `MIN_MEMBERS`). A published decision is copied, masked, to the village's public notice page, and
//! may be texted to the cadres of the village's units. The request and the notice are rows of their
//! own, written in the same transaction as the ledger event (`commit`).
use super::{ActionBody, Effects, optional, required};
use crate::auth::StaffUser;
use crate::domain::privacy::mask_personal_numbers;
use crate::domain::ticket::Action;
use crate::domain::values::AssignmentStatus;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::AssignmentPatch;
use crate::repo::council::NewNotice;
use crate::repo::regions::Region;
use crate::repo::tickets::{Actor, Ticket};
use crate::services::change;
use crate::services::council::{MIN_MEMBERS, signed_members, village_region};
use crate::services::tickets::Loaded;
use crate::sms::templates;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// The longest excerpt of a decision put into the cadres' SMS.
const SMS_EXCERPT: usize = 60;

/// The village whose council hears the ticket: the village its region is (or lies under).
pub async fn village_of<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Region> {
    village_region(db, t).await?.ok_or_else(|| ApiError::not_found("地区不存在"))
}

/// The desk asks (ledger only, internal): only a repeated request goes to the council, one request
/// at a time.
pub async fn refer(state: &AppState, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    if repo::council::pending_refer(db, t.id).await?.is_some() {
        return Err(ApiError::conflict(codes::REFER_PENDING, "已申请下交，请等待领导签批"));
    }
    let reason = required(&body.reason, "reason", "下交理由")?;
    if t.repeat_of_id.is_none() && t.repeat_count == 0 {
        return Err(ApiError::conflict(codes::NOT_REPEATED, "只有重复诉求才能下交村民议事会"));
    }
    let village = village_of(db, t).await?;
    let mut fx = Effects::new(false);
    fx.note = Some(reason);
    fx.data = json!({"council_region_id": village.id, "council": format!("{}村民议事会", village.name),
                     "repeat_count": t.repeat_count, "pending": true});
    Ok(fx)
}

async fn pending(state: &AppState, t: &Ticket) -> ApiResult<repo::council::ReferRequest> {
    repo::council::pending_refer(&state.db.conn, t.id)
        .await?
        .ok_or_else(|| ApiError::conflict(codes::NO_REFER_REQUEST, "该工单没有待签批的下交申请"))
}

/// A leader approves: the ticket goes to the village council; the unit holding it lets go.
pub async fn approve(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let req = pending(state, t).await?;
    let remark = optional(&body.note, "note")?;
    let first = match t.repeat_of_id {
        Some(id) => repo::tickets::by_id(db, id).await?,
        None => None,
    };
    let village = village_of(db, t).await?;
    let mut fx = Effects::new(true);
    fx.note = Some(req.reason.clone());
    fx.data = json!({"request_id": req.id, "requested_by": req.requested_by, "remark": remark,
                     "council_region_id": village.id, "council": format!("{}村民议事会", village.name),
                     "repeat_of": first.map(|f| f.no), "repeat_count": t.repeat_count});
    fx.patch.current_assignment_id = Some(None);
    fx.patch.unit_id = Some(None);
    if let Some(a) = l.active() {
        let patch = AssignmentPatch::end(AssignmentStatus::Superseded, Some("下交村民议事会"), now);
        fx.assignment_update = Some((a.id, patch));
    }
    Ok(fx)
}

/// A leader refuses with a reason; the ticket goes on where it was.
pub async fn refuse(state: &AppState, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let req = pending(state, &l.ticket).await?;
    let mut fx = Effects::new(false);
    fx.note = Some(required(&body.reason, "reason", "驳回理由")?);
    fx.data = json!({"request_id": req.id, "requested_by": req.requested_by, "requested_reason": req.reason});
    Ok(fx)
}

/// One member's signature on the referred ticket (the operator records it, with the photo of the
/// signed minutes as evidence if there is one).
pub async fn sign(state: &AppState, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let id = body.member_id.ok_or_else(|| ApiError::validation("member_id", "请选择签字的议事会成员"))?;
    let village = village_of(db, t).await?;
    let member =
        repo::council::member(db, id).await?.filter(|m| m.active && m.region_id == village.id).ok_or_else(|| {
            ApiError::unprocessable(
                codes::NOT_COUNCIL_MEMBER,
                "member_id",
                format!("该成员不是{}村民议事会的在册成员", village.name),
            )
        })?;
    let events = repo::tickets::events_of(db, t.id).await?;
    if signed_members(&events).iter().any(|(m, _)| *m == member.id) {
        return Err(ApiError::conflict(codes::COUNCIL_ALREADY_SIGNED, format!("{}已在本次合议中签字", member.name)));
    }
    let note = optional(&body.note, "note")?;
    let mut fx = Effects::new(false);
    fx.note = Some(match note {
        Some(n) => format!("{}（{}）签字：{n}", member.name, member.title),
        None => format!("{}（{}）签字", member.name, member.title),
    });
    fx.data =
        json!({"member_id": member.id, "name": member.name, "title": member.title, "council_region_id": village.id});
    Ok(fx)
}

/// The requester's name as it may never appear on the notice page: 张三丰 → 张某某.
fn hide_name(text: &str, name: Option<&str>) -> String {
    match name.map(str::trim).filter(|n| n.chars().count() >= 2) {
        Some(n) => {
            let mut chars = n.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            text.replace(n, &format!("{first}{}", "某".repeat(chars.count())))
        }
        None => text.to_string(),
    }
}

/// The text of a decision as it may be shown outside: numbers masked, the requester unnamed.
pub fn public_text(text: &str, t: &Ticket) -> String {
    mask_personal_numbers(&hide_name(text, t.requester_name.as_deref()))
}

/// The council decides: the participants must all have signed this referral, at least three.
pub async fn decision(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let text = required(&body.decision, "decision", "合议决定")?;
    let events = repo::tickets::events_of(db, t.id).await?;
    let signed = signed_members(&events);
    let ids: Vec<i64> = match &body.member_ids {
        Some(list) => {
            let mut ids = list.clone();
            ids.sort_unstable();
            ids.dedup();
            if ids.len() < MIN_MEMBERS {
                return Err(ApiError::validation("member_ids", format!("合议至少需要{MIN_MEMBERS}名议事会成员参加")));
            }
            if let Some(missing) = ids.iter().find(|id| !signed.iter().any(|(m, _)| m == *id)) {
                return Err(ApiError::unprocessable(
                    codes::COUNCIL_NOT_SIGNED,
                    "member_ids",
                    format!("成员{missing}未在本次合议中签字"),
                ));
            }
            // In the order they signed.
            signed.iter().map(|(m, _)| *m).filter(|m| ids.contains(m)).collect()
        }
        None => signed.iter().map(|(m, _)| *m).collect(),
    };
    if ids.len() < MIN_MEMBERS {
        return Err(ApiError::conflict(
            codes::COUNCIL_TOO_FEW,
            format!("已签字的议事会成员{}名，合议至少需要{MIN_MEMBERS}名", ids.len()),
        ));
    }
    let members: Vec<Value> =
        ids.iter().filter_map(|id| signed.iter().find(|(m, _)| m == id)).map(|(_, v)| v.clone()).collect();
    let village = village_of(db, t).await?;
    let publish = body.publish.unwrap_or(true);
    let notify = body.notify_cadres.unwrap_or(false);
    let mut fx = Effects::new(publish);
    fx.note = Some(text.clone());
    fx.data = json!({"published": publish, "notify_cadres": notify, "council_region_id": village.id,
                     "council": format!("{}村民议事会", village.name), "members": members});
    if notify {
        let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
        let shown = public_text(&text, t);
        let excerpt: String = if shown.chars().count() > SMS_EXCERPT {
            shown.chars().take(SMS_EXCERPT).chain(['…']).collect()
        } else {
            shown
        };
        let sign_name = &state.settings.county.sms_sign;
        let units = repo::regions::units_in(db, vec![village.id]).await?;
        let mut phones: Vec<String> = vec![];
        for u in units.iter().filter(|u| u.active) {
            for s in repo::staff::cadres_of_unit(db, u.id).await? {
                if let Some(p) = s.phone.filter(|p| !phones.contains(p)) {
                    phones.push(p);
                }
            }
        }
        for p in phones {
            fx.sms.push((templates::council_notice(sign_name, &village.name, &category, &excerpt), p));
        }
    }
    super::closing::resolution_effects(state, t, &mut fx, now).await?;
    Ok(fx)
}

/// The actions whose rows besides the ledger `commit` writes.
pub fn writes_rows(action: Action) -> bool {
    matches!(action, Action::Refer | Action::ReferApprove | Action::ReferRefuse | Action::CouncilDecision)
}

/// Commits the ledger event with the request or the notice it implies, in one transaction.
pub async fn commit(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    action: Action,
    actor: Actor,
    fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let t = &l.ticket;
    let data = fx.data.clone();
    let note = fx.note.clone().unwrap_or_default();
    let public = fx.public;
    let tx = state.db.begin().await?;
    let fresh = change::commit_in(state, &*tx, t, action, actor, fx, now).await?;
    let stale = || ApiError::conflict(codes::CONFLICT, "下交申请已被他人处理，请刷新后重试");
    match action {
        Action::Refer => {
            repo::council::insert_refer(&*tx, t.id, &note, Some(user.id), now).await?;
        }
        Action::ReferApprove | Action::ReferRefuse => {
            let id = data["request_id"].as_i64().unwrap_or_default();
            let (decision, remark) = if action == Action::ReferApprove {
                ("approved", data["remark"].as_str().map(String::from))
            } else {
                ("refused", Some(note.clone()))
            };
            if !repo::council::decide_refer(&*tx, id, decision, remark, user.id, now).await? {
                return Err(stale());
            }
        }
        Action::CouncilDecision if public => {
            let members: Vec<Value> = data["members"]
                .as_array()
                .map(|a| a.iter().map(|m| json!({"name": m["name"], "title": m["title"]})).collect())
                .unwrap_or_default();
            let n = NewNotice {
                region_id: data["council_region_id"].as_i64().unwrap_or(t.region_id),
                ticket_id: t.id,
                category_code: t.category_code.clone(),
                decision: public_text(&note, t),
                members: Value::Array(members),
            };
            repo::council::insert_notice(&*tx, n, now).await?;
        }
        _ => {}
    }
    tx.commit().await?;
    crate::services::live::announce_action(state, &fresh, action, now).await;
    Ok(())
}
