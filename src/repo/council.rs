//! 三老合议: village council members, the desk's requests to refer a ticket to the council (下交)
//! with the leader's decision (签批), and the council's published decisions for the notice page.
use super::Page;
use chrono::{DateTime, Utc};
use entity::{council_members as members, council_notices as notices, refer_requests as refers};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

/// One council member as the services see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Member {
    pub id: i64,
    pub region_id: i64,
    pub name: String,
    pub title: String,
    pub phone: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<members::Model> for Member {
    fn from(m: members::Model) -> Member {
        Member {
            id: m.id,
            region_id: m.region_id,
            name: m.name,
            title: m.title,
            phone: m.phone,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new member (validated by the service).
pub struct NewMember {
    pub region_id: i64,
    pub name: String,
    pub title: String,
    pub phone: Option<String>,
    pub created_by: Option<i64>,
}

/// What an edit changes; `None` leaves a field as it is, `phone: Some(None)` clears it.
#[derive(Default)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<Option<String>>,
    pub active: Option<bool>,
}

/// The village's members, active first, then in the order they were added.
pub async fn members<C: ConnectionTrait>(db: &C, region_id: i64, active_only: bool) -> Result<Vec<Member>, DbErr> {
    let mut q = members::Entity::find().filter(members::Column::RegionId.eq(region_id));
    if active_only {
        q = q.filter(members::Column::Active.eq(true));
    }
    let rows = q.order_by_desc(members::Column::Active).order_by_asc(members::Column::Id).all(db).await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

pub async fn member<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Member>, DbErr> {
    Ok(members::Entity::find_by_id(id).one(db).await?.map(Member::from))
}

pub async fn members_by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Member>, DbErr> {
    let rows = members::Entity::find().filter(members::Column::Id.is_in(ids.to_vec())).all(db).await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

pub async fn create_member<C: ConnectionTrait>(db: &C, m: NewMember, now: DateTime<Utc>) -> Result<Member, DbErr> {
    let row = members::ActiveModel {
        region_id: Set(m.region_id),
        name: Set(m.name),
        title: Set(m.title),
        phone: Set(m.phone),
        active: Set(true),
        created_by: Set(m.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?.into())
}

pub async fn update_member<C: ConnectionTrait>(
    db: &C,
    id: i64,
    p: MemberPatch,
    now: DateTime<Utc>,
) -> Result<Option<Member>, DbErr> {
    let Some(row) = members::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let mut am: members::ActiveModel = row.into();
    if let Some(v) = p.name {
        am.name = Set(v);
    }
    if let Some(v) = p.title {
        am.title = Set(v);
    }
    if let Some(v) = p.phone {
        am.phone = Set(v);
    }
    if let Some(v) = p.active {
        am.active = Set(v);
    }
    am.updated_at = Set(now);
    Ok(Some(am.update(db).await?.into()))
}

/// A request to refer a ticket to the council.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferRequest {
    pub id: i64,
    pub ticket_id: i64,
    pub reason: String,
    pub requested_by: Option<i64>,
    pub requested_at: DateTime<Utc>,
    pub decision: Option<String>,
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<refers::Model> for ReferRequest {
    fn from(m: refers::Model) -> ReferRequest {
        ReferRequest {
            id: m.id,
            ticket_id: m.ticket_id,
            reason: m.reason,
            requested_by: m.requested_by,
            requested_at: m.requested_at,
            decision: m.decision,
            decision_note: m.decision_note,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
        }
    }
}

/// The ticket's request waiting for a leader, if any.
pub async fn pending_refer<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Option<ReferRequest>, DbErr> {
    let row = refers::Entity::find()
        .filter(refers::Column::TicketId.eq(ticket_id))
        .filter(refers::Column::DecidedAt.is_null())
        .order_by_desc(refers::Column::Id)
        .one(db)
        .await?;
    Ok(row.map(ReferRequest::from))
}

pub async fn insert_refer<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    reason: &str,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = refers::ActiveModel {
        ticket_id: Set(ticket_id),
        reason: Set(reason.into()),
        requested_by: Set(by),
        requested_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?.id)
}

/// Records the leader's decision on a pending request; false if it was decided meanwhile.
pub async fn decide_refer<C: ConnectionTrait>(
    db: &C,
    id: i64,
    decision: &str,
    note: Option<String>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = refers::Entity::update_many()
        .col_expr(refers::Column::Decision, Expr::value(decision))
        .col_expr(refers::Column::DecisionNote, Expr::value(note))
        .col_expr(refers::Column::DecidedBy, Expr::value(by))
        .col_expr(refers::Column::DecidedAt, Expr::value(now))
        .filter(refers::Column::Id.eq(id))
        .filter(refers::Column::DecidedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Ids of the tickets with a request to refer waiting for a leader (for the tickets list filter).
pub fn pending_refer_tickets() -> SelectStatement {
    Query::select()
        .column(refers::Column::TicketId)
        .from(refers::Entity)
        .and_where(Expr::col(refers::Column::DecidedAt).is_null())
        .to_owned()
}

/// A published decision as the public notice page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: i64,
    pub region_id: i64,
    pub ticket_id: i64,
    pub category_code: String,
    pub decision: String,
    /// `[{"name", "title"}]`.
    pub members: serde_json::Value,
    pub decided_at: DateTime<Utc>,
}

pub struct NewNotice {
    pub region_id: i64,
    pub ticket_id: i64,
    pub category_code: String,
    pub decision: String,
    pub members: serde_json::Value,
}

pub async fn insert_notice<C: ConnectionTrait>(db: &C, n: NewNotice, now: DateTime<Utc>) -> Result<i64, DbErr> {
    let row = notices::ActiveModel {
        region_id: Set(n.region_id),
        ticket_id: Set(n.ticket_id),
        category_code: Set(n.category_code),
        decision: Set(n.decision),
        members: Set(n.members.to_string()),
        decided_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?.id)
}

/// The village's published decisions, newest first, one page of them, and their total.
pub async fn notices<C: ConnectionTrait>(db: &C, region_id: i64, page: Page) -> Result<(Vec<Notice>, u64), DbErr> {
    let q = notices::Entity::find().filter(notices::Column::RegionId.eq(region_id));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(notices::Column::DecidedAt)
        .order_by_desc(notices::Column::Id)
        .offset((page.page - 1) * page.per_page)
        .limit(page.per_page)
        .all(db)
        .await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let members = serde_json::from_str(&m.members)
                .map_err(|e| DbErr::Type(format!("council_notices.members of row {}: {e}", m.id)))?;
            Ok(Notice {
                id: m.id,
                region_id: m.region_id,
                ticket_id: m.ticket_id,
                category_code: m.category_code,
                decision: m.decision,
                members,
                decided_at: m.decided_at,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok((items, total))
}
