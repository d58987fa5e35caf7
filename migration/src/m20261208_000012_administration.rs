//! Administration without the demo: a region can be deactivated (its history keeps it), a staff
//! member can be made to change a temporary password at the next login, a unit's name is unique in
//! its region, and every administrative change is written to the audit log (who, when, what, the
//! row before and after; never a secret or a password hash).
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("regions").add_column(boolean("active").default(true)).to_owned()).await?;
        m.alter_table(
            Table::alter().table("staff").add_column(boolean("must_change_password").default(false)).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_units_region_name")
                .table("units")
                .col("region_id")
                .col("name")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer("actor_id"))
                .col(string("actor_name"))
                // create | update | deactivate | reactivate | reset_password
                .col(string("action"))
                // region | unit | staff | category
                .col(string("entity"))
                .col(string("entity_id"))
                // The region path the changed row belongs to: who may read the entry.
                .col(string("region_path"))
                .col(text_null("before"))
                .col(text_null("after"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_audit_log_at").table("audit_log").col("at").to_owned()).await?;
        m.create_index(
            Index::create().name("ix_audit_log_entity").table("audit_log").col("entity").col("entity_id").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_log").to_owned()).await?;
        m.drop_index(Index::drop().name("ux_units_region_name").table("units").to_owned()).await?;
        m.alter_table(Table::alter().table("staff").drop_column("must_change_password").to_owned()).await?;
        m.alter_table(Table::alter().table("regions").drop_column("active").to_owned()).await
    }
}
