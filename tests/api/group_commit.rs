//! Group commit (issue 21 point 1): on SQLite, writes queued behind the one writer run together in
//! one transaction, each under its own savepoint. A write that fails is rolled back alone, and no
//! caller is answered before the group's commit. On PostgreSQL each write has a transaction of its
//! own; the same calls keep the same guarantees there.
use crate::helpers::spawn_app;
use minsheng::error::ApiError;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use std::sync::Arc;
use std::sync::atomic::Ordering;

async fn insert(tx: &DatabaseTransaction, key: &str) -> Result<(), ApiError> {
    let sql = format!("INSERT INTO gc_probe (k) VALUES ('{key}')");
    tx.execute_raw(Statement::from_string(tx.get_database_backend(), sql)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_is_rolled_back_alone_and_every_answer_follows_the_groups_commit() {
    let app = Arc::new(spawn_app().await);
    let db = app.state.db.clone();
    db.conn.execute_unprepared("CREATE TABLE gc_probe (k TEXT PRIMARY KEY)").await.unwrap();
    // Hold the writer, so that the three writes below queue and then run as one group.
    let hold = db.begin().await.unwrap();
    let (groups, writes) = match &db.group {
        Some(w) => (w.stats.groups.load(Ordering::SeqCst), w.stats.writes.load(Ordering::SeqCst)),
        None => (0, 0),
    };
    let write = |key: &'static str, fail: bool, slow: bool| {
        let (db, app) = (db.clone(), app.clone());
        tokio::spawn(async move {
            let r: Result<(), ApiError> = db
                .write(move |tx| {
                    Box::pin(async move {
                        insert(tx, key).await?;
                        if slow {
                            // Keeps the group open a while: an answer sent before the commit would
                            // be seen without this write's row.
                            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        }
                        if fail {
                            return Err(ApiError::conflict("conflict", "第二个写入失败"));
                        }
                        Ok(())
                    })
                })
                .await;
            // What another connection sees the moment this caller is answered.
            let seen = app.count("SELECT COUNT(*) FROM gc_probe").await;
            (r, seen)
        })
    };
    let first = write("a", false, false);
    // In order: the writer takes `a` and waits for the slot; `b` and `c` wait in its queue.
    if let Some(w) = &db.group {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while w.stats.groups.load(Ordering::SeqCst) == groups {
            assert!(std::time::Instant::now() < deadline, "the writer never took the first write");
            tokio::task::yield_now().await;
        }
    }
    let second = write("b", true, false);
    let third = write("c", false, true);
    if let Some(w) = &db.group {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while w.queued() < 2 {
            assert!(std::time::Instant::now() < deadline, "the two writes never queued");
            tokio::task::yield_now().await;
        }
    }
    hold.rollback().await.unwrap();
    let (a, b, c) = (first.await.unwrap(), second.await.unwrap(), third.await.unwrap());
    assert!(a.0.is_ok() && c.0.is_ok(), "{:?} {:?}", a.0, c.0);
    let e = b.0.expect_err("the second write fails");
    assert_eq!((e.code, e.message.as_str()), ("conflict", "第二个写入失败"));
    let keys = app.count("SELECT COUNT(*) FROM gc_probe WHERE k IN ('a', 'c')").await;
    assert_eq!(keys, 2, "the others are kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM gc_probe WHERE k = 'b'").await, 0, "the failed one is not");
    if let Some(w) = &db.group {
        // `a` alone (it was taken before the others queued), then `b` and `c` together.
        assert_eq!(w.stats.groups.load(Ordering::SeqCst), groups + 2);
        assert_eq!(w.stats.writes.load(Ordering::SeqCst), writes + 3);
        // `b` was answered after the commit that made `c` durable, though `c` ran after it.
        assert_eq!((b.1, c.1), (2, 2));
    }
}

#[tokio::test]
async fn a_write_that_panics_fails_alone_and_the_writer_goes_on() {
    let app = spawn_app().await;
    let db = app.state.db.clone();
    db.conn.execute_unprepared("CREATE TABLE gc_probe (k TEXT PRIMARY KEY)").await.unwrap();
    let r: Result<(), ApiError> = db
        .write(|tx| {
            Box::pin(async move {
                insert(tx, "x").await?;
                panic!("a bug in a write");
            })
        })
        .await;
    assert!(r.is_err());
    let r: Result<(), ApiError> = db.write(|tx| Box::pin(async move { insert(tx, "y").await })).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM gc_probe WHERE k = 'x'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM gc_probe WHERE k = 'y'").await, 1);
}
