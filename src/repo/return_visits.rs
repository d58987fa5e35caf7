//! Return visits (回访): the record of each contact with a requester after a resolution.
use crate::domain::values::{Satisfaction, Solved, VisitChannel};
use chrono::{DateTime, Utc};
use entity::return_visits;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// A visit to record.
#[derive(Clone, Debug)]
pub struct NewVisit {
    pub ticket_id: i64,
    pub assignment_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub caller_id: Option<i64>,
    pub channel: VisitChannel,
    pub reached: bool,
    pub solved: Option<Solved>,
    pub satisfaction: Option<Satisfaction>,
    /// attitude, capability, convenience, efficiency (1–5).
    pub scores: Option<[i32; 4]>,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// A recorded visit, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnVisit {
    pub id: i64,
    pub ticket_id: i64,
    pub assignment_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub caller_id: Option<i64>,
    pub channel: VisitChannel,
    pub reached: bool,
    pub solved: Option<Solved>,
    pub satisfaction: Option<Satisfaction>,
    pub scores: Option<[i32; 4]>,
    pub comment: Option<String>,
    /// False once an upheld appeal took the visit out of the rates.
    pub counted: bool,
    pub at: DateTime<Utc>,
}

impl TryFrom<return_visits::Model> for ReturnVisit {
    type Error = DbErr;

    fn try_from(m: return_visits::Model) -> Result<ReturnVisit, DbErr> {
        let solved = match &m.solved {
            Some(s) => Some(super::stored("return_visits", "solved", m.id, s, Solved::parse)?),
            None => None,
        };
        let satisfaction = match &m.satisfaction {
            Some(s) => Some(super::stored("return_visits", "satisfaction", m.id, s, Satisfaction::parse)?),
            None => None,
        };
        let scores = match (m.score_attitude, m.score_capability, m.score_convenience, m.score_efficiency) {
            (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        };
        Ok(ReturnVisit {
            channel: super::stored("return_visits", "channel", m.id, &m.channel, VisitChannel::parse)?,
            solved,
            satisfaction,
            scores,
            id: m.id,
            ticket_id: m.ticket_id,
            assignment_id: m.assignment_id,
            unit_id: m.unit_id,
            caller_id: m.caller_id,
            reached: m.reached,
            comment: m.comment,
            counted: m.counted,
            at: m.at,
        })
    }
}

pub async fn insert<C: ConnectionTrait>(db: &C, v: NewVisit) -> Result<ReturnVisit, DbErr> {
    return_visits::ActiveModel {
        ticket_id: Set(v.ticket_id),
        assignment_id: Set(v.assignment_id),
        unit_id: Set(v.unit_id),
        caller_id: Set(v.caller_id),
        channel: Set(v.channel.as_str().into()),
        reached: Set(v.reached),
        solved: Set(v.solved.map(|s| s.as_str().to_string())),
        satisfaction: Set(v.satisfaction.map(|s| s.as_str().to_string())),
        score_attitude: Set(v.scores.map(|s| s[0])),
        score_capability: Set(v.scores.map(|s| s[1])),
        score_convenience: Set(v.scores.map(|s| s[2])),
        score_efficiency: Set(v.scores.map(|s| s[3])),
        comment: Set(v.comment),
        counted: Set(true),
        at: Set(v.at),
        ..Default::default()
    }
    .insert(db)
    .await
    .and_then(ReturnVisit::try_from)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<ReturnVisit>, DbErr> {
    return_visits::Entity::find_by_id(id).one(db).await?.map(ReturnVisit::try_from).transpose()
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<ReturnVisit>, DbErr> {
    return_visits::Entity::find()
        .filter(return_visits::Column::TicketId.eq(ticket_id))
        .order_by_asc(return_visits::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(ReturnVisit::try_from)
        .collect()
}
