//! One accepted WeChat subscribe-message template for one ticket: allows one message.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub openid: String,
    pub template_id: String,
    pub created_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub outbox_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
