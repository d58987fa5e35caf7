//! Database schema for minsheng, as sea-orm migrations that run on SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_core;
mod m20261123_000005_cards;
mod m20261123_000006_intake;
mod m20261123_000007_orders;
mod m20261123_000008_sms;
mod m20261123_000009_visits;
mod m20261206_000010_security;
mod m20261207_000011_category_unit;
mod m20261208_000012_administration;
mod m20261209_000013_staff_leaves;
mod m20261210_000014_auto_dispatch;
mod m20261211_000015_reply_links;
mod m20261212_000016_redblack;
mod m20261213_000017_rollups;
pub use m20261213_000017_rollups::COUNTS as ROLLUP_COUNTS;
pub mod derived;
mod m20261214_000018_email;
mod m20261215_000019_ticket_links;
mod m20261216_000020_screens;
mod m20261217_000021_upstream;
mod m20261218_000022_wechat_subscribe;
mod m20261219_000023_open311_keys;
mod m20261220_000024_windows_urges;
mod m20261221_000025_retention;
mod m20261222_000026_pauses;
mod m20261223_000027_accountability;
mod m20261224_000028_council;
mod m20261225_000029_joint;
mod m20261226_000030_sms_doubt;
mod m20261227_000031_list_index;
mod m20261228_000032_list_plans;
mod m20261229_000033_pending_requests;
mod m20261230_000034_unit_deadlines;
mod m20261231_000035_unit_status;
pub use m20261227_000031_list_index::insert_search_rows;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_core::Migration),
            Box::new(m20261123_000005_cards::Migration),
            Box::new(m20261123_000006_intake::Migration),
            Box::new(m20261123_000007_orders::Migration),
            Box::new(m20261123_000008_sms::Migration),
            Box::new(m20261123_000009_visits::Migration),
            Box::new(m20261206_000010_security::Migration),
            Box::new(m20261207_000011_category_unit::Migration),
            Box::new(m20261208_000012_administration::Migration),
            Box::new(m20261209_000013_staff_leaves::Migration),
            Box::new(m20261210_000014_auto_dispatch::Migration),
            Box::new(m20261211_000015_reply_links::Migration),
            Box::new(m20261212_000016_redblack::Migration),
            Box::new(m20261213_000017_rollups::Migration),
            Box::new(m20261214_000018_email::Migration),
            Box::new(m20261215_000019_ticket_links::Migration),
            Box::new(m20261216_000020_screens::Migration),
            Box::new(m20261217_000021_upstream::Migration),
            Box::new(m20261218_000022_wechat_subscribe::Migration),
            Box::new(m20261219_000023_open311_keys::Migration),
            Box::new(m20261220_000024_windows_urges::Migration),
            Box::new(m20261221_000025_retention::Migration),
            Box::new(m20261222_000026_pauses::Migration),
            Box::new(m20261223_000027_accountability::Migration),
            Box::new(m20261224_000028_council::Migration),
            Box::new(m20261225_000029_joint::Migration),
            Box::new(m20261226_000030_sms_doubt::Migration),
            Box::new(m20261227_000031_list_index::Migration),
            Box::new(m20261228_000032_list_plans::Migration),
            Box::new(m20261229_000033_pending_requests::Migration),
            Box::new(m20261230_000034_unit_deadlines::Migration),
            Box::new(m20261231_000035_unit_status::Migration),
        ]
    }
}
