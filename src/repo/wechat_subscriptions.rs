//! WeChat subscribe-message allowances: one row per template a villager accepted for a ticket; each
//! allows one message and is used (`used_at`, `outbox_id`) in the transaction that writes it.
use chrono::{DateTime, Utc};
use entity::wechat_subscriptions as subs;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

/// Unused allowances of a ticket for one template.
pub async fn unused<C: ConnectionTrait>(db: &C, ticket_id: i64, template_id: &str) -> Result<u64, DbErr> {
    subs::Entity::find()
        .filter(subs::Column::TicketId.eq(ticket_id))
        .filter(subs::Column::TemplateId.eq(template_id))
        .filter(subs::Column::UsedAt.is_null())
        .count(db)
        .await
}

/// Records one allowance.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    openid: &str,
    template_id: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = subs::ActiveModel {
        ticket_id: Set(ticket_id),
        openid: Set(openid.into()),
        template_id: Set(template_id.into()),
        created_at: Set(now),
        used_at: Set(None),
        outbox_id: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Takes the oldest unused allowance of `openid` for the ticket and template, if any: its id. The
/// conditional update makes two concurrent takers get different rows (or none).
pub async fn take<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    openid: &str,
    template_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    for _ in 0..3 {
        let Some(row) = subs::Entity::find()
            .filter(subs::Column::TicketId.eq(ticket_id))
            .filter(subs::Column::Openid.eq(openid))
            .filter(subs::Column::TemplateId.eq(template_id))
            .filter(subs::Column::UsedAt.is_null())
            .order_by_asc(subs::Column::Id)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let res = subs::Entity::update_many()
            .col_expr(subs::Column::UsedAt, Expr::value(Some(now)))
            .filter(subs::Column::Id.eq(row.id))
            .filter(subs::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            return Ok(Some(row.id));
        }
    }
    Ok(None)
}

/// Names the outbox row an allowance was used for.
pub async fn used_by<C: ConnectionTrait>(db: &C, id: i64, outbox_id: i64) -> Result<(), DbErr> {
    subs::Entity::update_many()
        .col_expr(subs::Column::OutboxId, Expr::value(Some(outbox_id)))
        .filter(subs::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
