//! Group commit for SQLite (issue 21): writes handed to `Db::write` queue to one writer task on a
//! thread of its own. It takes what is waiting (up to `MAX_GROUP`), begins one transaction, runs
//! each write under a savepoint of its own — a write that fails is rolled back to its savepoint
//! alone — commits once, and only then answers each caller. The writes of a group share the
//! transaction's begin and commit, and their many awaits no longer wait behind HTTP work on the
//! server's worker threads. PostgreSQL writes do not queue (`Db::write` opens a transaction of the
//! caller's own there).
//!
//! Nothing is answered before the commit that makes it durable: a caller told "done" can count on
//! its rows, and a caller whose group failed to commit is told so.
use crate::db::Db;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Writes per transaction at most.
pub const MAX_GROUP: usize = 64;
/// Writes waiting at most; a caller beyond waits to queue.
const QUEUE: usize = 1024;

/// A queued write: runs in the group's transaction (under its savepoint) and says whether it
/// succeeded (its own result goes to its caller by another way); `done` then carries the group's
/// fate — `Ok` once the group committed, or why it did not.
struct Job {
    run: Run,
    done: oneshot::Sender<Result<(), String>>,
}

type Run = Box<dyn for<'a> FnOnce(&'a DatabaseTransaction) -> BoxFuture<'a, bool> + Send>;

/// A closure as a `Run` (which lets the compiler see the closure's future borrow the transaction).
fn runnable<F>(f: F) -> Run
where
    F: for<'a> FnOnce(&'a DatabaseTransaction) -> BoxFuture<'a, bool> + Send + 'static,
{
    Box::new(f)
}

/// Counts of what the writer did (for tests and the benchmark's notes).
#[derive(Debug, Default)]
pub struct Stats {
    pub groups: AtomicU64,
    pub writes: AtomicU64,
}

/// The handle through which writes reach the writer thread; cheap to clone. The thread ends when
/// the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    pub stats: Arc<Stats>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writer thread on `db` (a handle that does not itself group its writes).
    pub fn start(db: Db) -> std::io::Result<Writer> {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(Stats::default());
        let counts = stats.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || {
            runtime.block_on(run(db, rx, counts));
        })?;
        Ok(Writer { jobs, stats })
    }

    /// Writes waiting for the writer (not counting the group it is running).
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Runs `work` in the next group's transaction and answers once that group has committed: its
    /// own error if it failed (its writes rolled back alone), the group's if the commit failed.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sea_orm::DbErr> + Send + 'static,
        F: for<'a> FnOnce(&'a DatabaseTransaction) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let slot: Arc<std::sync::Mutex<Option<Result<T, E>>>> = Arc::new(std::sync::Mutex::new(None));
        let into = slot.clone();
        let run = runnable(move |tx| {
            Box::pin(async move {
                let r = work(tx).await;
                let ok = r.is_ok();
                if let Ok(mut s) = into.lock() {
                    *s = Some(r);
                }
                ok
            })
        });
        let (done, fate) = oneshot::channel();
        let gone = || sea_orm::DbErr::Custom("the SQLite writer has stopped".into());
        self.jobs.send(Job { run, done }).await.map_err(|_| gone())?;
        let fate = fate.await.map_err(|_| gone())?;
        let result = slot.lock().ok().and_then(|mut s| s.take());
        match (result, fate) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(why)) | (None, Err(why)) => Err(sea_orm::DbErr::Custom(why).into()),
            (None, Ok(())) => Err(sea_orm::DbErr::Custom("the write did not run (it panicked)".into()).into()),
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        stats.writes.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        stats.groups.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("minsheng_sqlite_write_groups_total").increment(1);
        metrics::counter!("minsheng_sqlite_grouped_writes_total").increment(jobs.len() as u64);
        group(&db, jobs).await;
    }
}

/// Runs `job`, a panic counting as a failure.
async fn attempt(run: Run, tx: &DatabaseTransaction) -> bool {
    AssertUnwindSafe(run(tx)).catch_unwind().await.unwrap_or(false)
}

/// One group: one transaction, a savepoint per write when there are several, one commit, then the
/// answers.
async fn group(db: &Db, jobs: Vec<Job>) {
    let tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let why = e.to_string();
            for j in jobs {
                let _ = j.done.send(Err(why.clone()));
            }
            return;
        }
    };
    let (mut kept, mut refused) = (Vec::with_capacity(jobs.len()), vec![]);
    if jobs.len() == 1 {
        // Alone: the transaction is its savepoint.
        for Job { run, done } in jobs {
            if attempt(run, &tx).await {
                kept.push(done);
            } else {
                let _ = tx.rollback().await;
                let _ = done.send(Ok(())); // its own error is its answer
                return;
            }
        }
    } else {
        let mut jobs = jobs.into_iter();
        while let Some(Job { run, done }) = jobs.next() {
            let step = async {
                let sp = (*tx).begin().await?;
                if attempt(run, &sp).await {
                    sp.commit().await.map(|()| true)
                } else {
                    sp.rollback().await.map(|()| false)
                }
            };
            match step.await {
                Ok(true) => kept.push(done),
                // Rolled back alone: its own error is its answer, given after the group's commit
                // too (what it failed on — a twin's idempotency key, say — is then readable).
                Ok(false) => refused.push(done),
                Err(e) => {
                    // A savepoint that cannot be set or ended leaves the transaction in doubt:
                    // nothing of the group is kept.
                    let why = format!("the write group failed: {e}");
                    let _ = tx.rollback().await;
                    for d in kept.into_iter().chain(std::iter::once(done)).chain(jobs.map(|j| j.done)) {
                        let _ = d.send(Err(why.clone()));
                    }
                    for d in refused {
                        let _ = d.send(Ok(()));
                    }
                    return;
                }
            }
        }
    }
    let fate = tx.commit().await.map_err(|e| format!("the write group did not commit: {e}"));
    for d in kept {
        let _ = d.send(fate.clone());
    }
    for d in refused {
        let _ = d.send(Ok(()));
    }
}
