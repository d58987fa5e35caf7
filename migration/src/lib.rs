//! Database schema for minsheng, as sea-orm migrations that run on SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_core;
mod m20261123_000007_orders;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261123_000001_core::Migration), Box::new(m20261123_000007_orders::Migration)]
    }
}
