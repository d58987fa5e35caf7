//! 未诉先办: a dispatcher turns a hotspot into a proactive ticket that names the requests that raised
//! it. This module checks those links at intake, writes them with a note on each request's ledger,
//! and, when the proactive ticket is first resolved, texts the linked requesters that the problem was
//! handled. A proactive ticket has no requester: no confirmation, no repeat detection, no rating
//! request and no return visit (a dispatcher or inspector verifies the result instead: `verify`).
use super::change::{self, Effects};
use crate::auth::StaffUser;
use crate::domain::ids::TicketNo;
use crate::domain::phone::Phone;
use crate::domain::ticket::{Action, Status};
use crate::domain::values::Channel;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::regions::Region;
use crate::repo::tickets::{Actor, Ticket};
use crate::sms::templates;
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::collections::HashSet;

/// At most this many requests per proactive ticket (and so at most this many notices).
pub const MAX_LINKS: usize = 50;

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_LINKED_TICKETS, message).with_field("linked_tickets")
}

/// Whether a ticket has no requester to call, text or show a tracking page to.
pub fn has_no_requester(t: &Ticket) -> bool {
    t.channel == Channel::Proactive
}

/// The requests named by a proactive intake: 1 to 50 distinct numbers, each an existing request that
/// the caller may see, under the proactive ticket's region, not itself proactive and not already
/// taken into another live proactive ticket. Unknown and out-of-scope numbers get the same answer,
/// so the check does not tell which tickets exist elsewhere.
pub async fn check_links<C: ConnectionTrait>(
    db: &C,
    user: &StaffUser,
    region: Option<&Region>,
    raw: Option<&[String]>,
) -> ApiResult<Vec<Ticket>> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        return Err(refused("请关联引发本工单的群众诉求（至少1张工单）"));
    }
    if raw.len() > MAX_LINKS {
        return Err(refused(format!("一张未诉先办工单最多关联{MAX_LINKS}张诉求工单")));
    }
    let mut seen = HashSet::new();
    let mut found = Vec::with_capacity(raw.len());
    for no in raw {
        let no = no.trim();
        if !seen.insert(no.to_string()) {
            return Err(refused(format!("关联工单{no}重复")));
        }
        let t = match TicketNo::parse(no) {
            Some(n) => repo::tickets::by_no(db, n.as_str()).await?,
            None => None,
        };
        let Some(t) = t.filter(|t| user.covers_region(&t.region_path)) else {
            return Err(refused(format!("关联工单{no}不存在或不在您的管辖范围内")));
        };
        if has_no_requester(&t) {
            return Err(refused(format!("工单{no}本身是未诉先办工单，不能再被关联")));
        }
        if let Some(r) = region
            && !t.region_path.starts_with(&r.path)
        {
            return Err(refused(format!("关联工单{no}不在本工单所在地区（{}）", r.name)));
        }
        found.push(t);
    }
    let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
    let taken = repo::ticket_links::proactive_of(db, &ids).await?;
    if let Some((linked, p)) = taken.iter().find(|(_, p)| !matches!(p.status, Status::Merged | Status::Invalid)) {
        let no = found.iter().find(|t| t.id == *linked).map(|t| t.no.as_str()).unwrap_or_default();
        return Err(refused(format!("工单{no}已纳入未诉先办工单{}", p.no)));
    }
    Ok(found)
}

/// Writes the links of a new proactive ticket and notes on each request's ledger (public: the
/// requester's tracking page shows that their request led to action, naming only the proactive
/// ticket's number), in the intake's transaction and through the one door.
pub async fn link_in<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    proactive: &Ticket,
    linked: &[Ticket],
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let ids: Vec<i64> = linked.iter().map(|t| t.id).collect();
    repo::ticket_links::create(db, proactive.id, &ids, now).await?;
    for t in linked {
        let note = format!("已纳入未诉先办工单{}，由工作人员统一办理", proactive.no);
        let fx = Effects::entry(true, Some(note), json!({"proactive_ticket": proactive.no}));
        change::commit_in(state, db, t, Action::ProactiveLink, actor.clone(), fx, now).await?;
    }
    Ok(())
}

/// The resolution of a proactive ticket: one notice per distinct linked requester's phone, queued
/// with the resolution (`fx.sms` is written in the same transaction). Only the first resolution
/// texts: a reopened and re-resolved ticket does not tell the same people a second time (they were
/// told once; the ledger of the re-resolution records that nobody was texted).
pub async fn resolution_notices<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &Ticket,
    fx: &mut Effects,
) -> ApiResult<()> {
    let resolved_before = repo::tickets::events_of(db, t.id).await?.iter().any(|e| e.is_resolution());
    let mut notified: Vec<String> = vec![];
    if !resolved_before {
        let unit = match t.unit_id {
            Some(id) => repo::regions::unit(db, id).await?.map(|u| u.name),
            None => None,
        }
        .unwrap_or_else(|| "相关单位".to_string());
        let sign = &state.settings.county.sms_sign;
        let mut phones = HashSet::new();
        for linked in repo::ticket_links::linked_of(db, t.id).await? {
            let Some(phone) = Phone::parse(&linked.requester_phone) else { continue };
            if phones.len() >= MAX_LINKS || !phones.insert(phone.as_str().to_string()) {
                continue;
            }
            let category = repo::catalog::category(db, &linked.category_code).await?.map(|c| c.name);
            let category = category.unwrap_or_else(|| linked.category_code.clone());
            fx.sms.push((templates::proactive_done(sign, &linked.no, &category, &unit), phone.as_str().to_string()));
            notified.push(linked.no.clone());
        }
    }
    if let Some(obj) = fx.data.as_object_mut() {
        // The requests whose requesters are texted (their numbers, never the phones).
        obj.insert("linked_notices".into(), json!(notified));
    }
    Ok(())
}
