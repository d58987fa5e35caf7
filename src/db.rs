//! The database handle: one pool for SQLite (embedded default) or PostgreSQL, migrations, and write
//! transactions. SQLite allows one writer at a time; rather than let concurrent writers race for the
//! lock and fail with "database is locked", write transactions on SQLite queue on an in-process mutex
//! and begin IMMEDIATE (so another process holding the file waits on busy_timeout instead).
use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How much of the SQLite file is read through a memory map (the rest with pread).
const SQLITE_MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// How long a transaction waits for the SQLite writer before it fails (as long as a pool connection).
const WRITER_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    writer: Option<Arc<Mutex<()>>>,
    /// Opens after `BREAKER_FAILURES` requests in a row found the database unreachable: requests are
    /// then answered 503 at once (`middleware::database_breaker`) instead of each waiting out the
    /// pool's acquire timeout, and one request probes after `BREAKER_COOLDOWN`.
    pub health: Arc<std::sync::Mutex<crate::kv::breaker::Breaker>>,
    /// SQLite: the group-commit writer that `write` hands its work to (`crate::writer`).
    pub group: Option<crate::writer::Writer>,
}

pub const BREAKER_FAILURES: u32 = 3;
pub const BREAKER_COOLDOWN: Duration = Duration::from_secs(2);
/// How long a request waits for a PostgreSQL connection: enough for a busy pool, short enough that
/// a database that went away is noticed (SQLite waits longer, for the one writer).
const POSTGRES_ACQUIRE: Duration = Duration::from_secs(5);

/// Whether an error means the database cannot be reached at all (down, restarting, refusing or
/// dropping connections), as opposed to a query that failed: the first is a 503 worth retrying.
pub fn unreachable(e: &DbErr) -> bool {
    use sea_orm::{ConnAcquireErr, RuntimeErr, SqlxError};
    let sqlx = match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(x))
        | DbErr::Exec(RuntimeErr::SqlxError(x))
        | DbErr::Query(RuntimeErr::SqlxError(x)) => x,
        _ => return false,
    };
    match &**sqlx {
        SqlxError::Io(_) | SqlxError::PoolTimedOut | SqlxError::PoolClosed | SqlxError::WorkerCrashed => true,
        // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now; class 08: connection.
        SqlxError::Database(d) => d.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

/// A write transaction; on SQLite it also holds the writer slot until commit or drop.
pub struct Tx {
    tx: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl Deref for Tx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        if let Some(path) = sqlite_file(url)
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut opts = ConnectOptions::new(url.to_string());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(if url.starts_with("postgres") { POSTGRES_ACQUIRE } else { WRITER_WAIT })
            // Every statement with its time, at `info` under `sqlx::query` (a diagnostic for profiling
            // one request; off by default: statements carry phone numbers).
            .sqlx_logging(std::env::var_os("MINSHENG_SQL_LOG").is_some())
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(15))
                    .foreign_keys(true)
                    // Pages read through a memory map: no pread and copy per page, and a connection
                    // whose cache another's write emptied reads the pages from memory again.
                    .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                    .create_if_missing(true)
            });
        let conn = Database::connect(opts).await.context("connecting to the database")?;
        let writer = (conn.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let health =
            Arc::new(std::sync::Mutex::new(crate::kv::breaker::Breaker::new(BREAKER_FAILURES, BREAKER_COOLDOWN)));
        let mut db = Db { conn, writer, health, group: None };
        if db.backend() == DbBackend::Sqlite {
            db.group = Some(crate::writer::Writer::start(db.clone()).context("starting the SQLite writer")?);
        }
        Ok(db)
    }

    /// Runs `work` in a write transaction and answers once it has committed. On SQLite the work
    /// joins the next group of the group-commit writer (`crate::writer`: its own savepoint, one
    /// commit for the group); on PostgreSQL it runs in a transaction of its own. Either way a
    /// failure of `work` rolls back its writes and nothing else.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
        F: for<'a> FnOnce(&'a DatabaseTransaction) -> futures_util::future::BoxFuture<'a, Result<T, E>>
            + Send
            + 'static,
    {
        if let Some(w) = &self.group {
            return w.write(work).await;
        }
        let tx = self.begin().await?;
        // A panic fails this write alone, as on SQLite's writer.
        let ran = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(work(&tx))).await;
        let out = ran.map_err(|_| DbErr::Custom("the write did not run (it panicked)".into()))??;
        tx.commit().await?;
        Ok(out)
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// Begins a transaction that may write.
    pub async fn begin(&self) -> Result<Tx, DbErr> {
        // One writer at a time on SQLite. A wait as long as the pool's own gives up with an error
        // (the request fails, the worker retries) rather than hanging without a trace.
        let guard = match &self.writer {
            Some(m) => Some(
                tokio::time::timeout(WRITER_WAIT, m.clone().lock_owned())
                    .await
                    .map_err(|_| DbErr::Custom("timed out waiting for the SQLite writer".into()))?,
            ),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: guard.as_ref().map(|_| SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let tx = self.conn.begin_with_options(options).await?;
        Ok(Tx { tx, _writer: guard })
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        migration::Migrator::up(&self.conn, None).await
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// The file path of a `sqlite://path?…` URL, if it names a file.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_file_is_taken_from_the_url() {
        assert_eq!(super::sqlite_file("sqlite://data/m.sqlite?mode=rwc"), Some("data/m.sqlite"));
        assert_eq!(super::sqlite_file("sqlite::memory:"), None);
        assert_eq!(super::sqlite_file("postgres://x/y"), None);
    }

    /// Every pooled connection reads the file through the memory map (a pragma is per connection).
    #[tokio::test]
    async fn every_sqlite_connection_reads_through_a_memory_map() {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let dir = tempfile::tempdir().unwrap();
        let db = super::Db::connect(&format!("sqlite://{}/m.sqlite?mode=rwc", dir.path().display()), 3).await.unwrap();
        let mut held = vec![];
        for _ in 0..3 {
            let tx = sea_orm::TransactionTrait::begin(&db.conn).await.unwrap();
            let row = tx.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA mmap_size")).await.unwrap();
            assert_eq!(row.unwrap().try_get_by_index::<i64>(0).unwrap(), super::SQLITE_MMAP_BYTES as i64);
            held.push(tx); // held, so that the next one is another connection
        }
    }
}
