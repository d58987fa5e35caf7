//! The SMS gateway (issue 8): delivery receipts on the outbox, one row per provider call (for retries,
//! failover and provider health), villagers' opt-outs (TD) and every inbound reply with its handling,
//! which doubles as the operators' queue for replies no rule understood.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(table: &'static str, name: &str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{name}")).table(table);
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ALTER per statement.
        m.alter_table(Table::alter().table("outbox").add_column(string_null("receipt_code")).to_owned()).await?;
        m.alter_table(
            Table::alter().table("outbox").add_column(timestamp_with_time_zone_null("receipt_at")).to_owned(),
        )
        .await?;
        // Receipts are matched by the provider's message id; replies find their context by recipient.
        m.create_index(index("outbox", "provider_message_id", &["provider_message_id"], false)).await?;
        m.create_index(index("outbox", "recipient_kind", &["recipient", "kind"], false)).await?;

        m.create_table(
            Table::create()
                .table("sms_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("outbox_id"))
                .col(string("provider"))
                // sent, rejected, transient, deferred, provider_fault
                .col(string("outcome"))
                .col(text_null("error"))
                .col(big_integer("latency_ms"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sms_attempts", "provider_at", &["provider", "at"], false)).await?;
        m.create_index(index("sms_attempts", "outbox_id", &["outbox_id"], false)).await?;

        m.create_table(
            Table::create()
                .table("sms_opt_outs")
                .col(big_pk_auto("id"))
                .col(string("phone"))
                .col(string("source"))
                .col(string_null("provider"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sms_opt_outs", "phone", &["phone"], true)).await?;

        m.create_table(
            Table::create()
                .table("sms_replies")
                .col(big_pk_auto("id"))
                .col(string("provider"))
                // Provider and its message reference (or a digest of phone, time and text): a reply the
                // provider pushes twice is handled once.
                .col(string("dedup_key"))
                .col(string("phone"))
                .col(text("text"))
                .col(timestamp_with_time_zone("received_at"))
                // received (not yet handled), rating, accepted, unsubscribed, noop, queued
                .col(string("outcome"))
                .col(text_null("detail"))
                .col(big_integer_null("ticket_id"))
                .col(big_integer_null("outbox_id"))
                .col(big_integer_null("staff_id"))
                // Operators' queue: open until someone handles it, null for replies handled by rule.
                .col(string_null("queue_status"))
                .col(big_integer_null("handled_by"))
                .col(timestamp_with_time_zone_null("handled_at"))
                .col(text_null("handled_note"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sms_replies", "dedup_key", &["dedup_key"], true)).await?;
        m.create_index(index("sms_replies", "queue_status", &["queue_status", "id"], false)).await?;
        m.create_index(index("sms_replies", "phone", &["phone"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["sms_replies", "sms_opt_outs", "sms_attempts"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ix_outbox_recipient_kind").table("outbox").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_outbox_provider_message_id").table("outbox").to_owned()).await?;
        m.alter_table(Table::alter().table("outbox").drop_column("receipt_at").to_owned()).await?;
        m.alter_table(Table::alter().table("outbox").drop_column("receipt_code").to_owned()).await?;
        Ok(())
    }
}
