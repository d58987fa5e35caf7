//! Statistics roll-ups: the counts behind the rates, summed per local day so that a year is read
//! from a few thousand rows instead of a pass over every ticket, assignment, visit and event.
//!
//! Each ticket has one *part* row (what it adds to the counts of the region and category it was
//! received in, on the day it was received) and each assignment one (what it adds to its unit, on
//! the day it was dispatched). A part is computed in SQL from the ticket's rows by exactly the rules
//! of `repo::stats` (the recount the tests compare against), and the day rows are the sums of the
//! parts. `refresh` recomputes the parts of a ticket inside the transaction that changed it and adds
//! the difference to the day rows (in key order, under the ticket's row lock).
//!
//! Two counts change with the clock alone: an order becomes *due* for the response rate when its
//! response deadline passes, and *overdue* when a deadline passes unmet. A part therefore keeps
//! `recheck_at`, the next deadline at which it would change (whole seconds since 1970, rounded
//! down: a part is rechecked at worst a fraction of a second early, never late); `catch_up` refreshes every part whose
//! time has come before the day rows are read, so a read is exact at the instant it is made.
use crate::db::Db;
use crate::domain::metrics::{Counts, ScoreSums};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use std::collections::{BTreeMap, HashMap};

/// The counted columns of parts and day rows, as the migration made them.
pub const COLUMNS: [&str; 21] = migration::ROLLUP_COUNTS;

type Vector = [i64; 21];

/// A day row's key: (day, unit id — 0 for ticket rows —, region id, category code).
type Key = (i64, i64, i64, String);

/// An order taken back before its response deadline was never due (as in `repo::stats`).
const NOT_TAKEN_BACK: &str =
    "NOT (a.status IN ('superseded','released') AND a.ended_at IS NOT NULL AND a.ended_at <= a.respond_by)";
const OPEN: &str = "('dispatched','accepted','in_progress','reopened')";

#[derive(Clone, Copy)]
enum Kind {
    Tickets,
    Orders,
}

impl Kind {
    fn parts(self) -> &'static str {
        match self {
            Kind::Tickets => "stats_ticket_parts",
            Kind::Orders => "stats_order_parts",
        }
    }
    fn days(self) -> &'static str {
        match self {
            Kind::Tickets => "stats_ticket_days",
            Kind::Orders => "stats_order_days",
        }
    }
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Tickets => &["day", "region_id", "category_code"],
            Kind::Orders => &["day", "unit_id", "region_id", "category_code"],
        }
    }
    /// The table of day rows without region and category (tickets: per region; orders: per
    /// unit) that the endpoints read, and its key.
    fn coarse(self) -> (&'static str, [&'static str; 2]) {
        match self {
            Kind::Tickets => ("stats_region_days", ["day", "region_id"]),
            Kind::Orders => ("stats_unit_days", ["day", "unit_id"]),
        }
    }
    /// A fine key's coarse key.
    fn coarse_key(self, k: &Key) -> (i64, i64) {
        match self {
            Kind::Tickets => (k.0, k.2),
            Kind::Orders => (k.0, k.1),
        }
    }
    fn unit(self) -> &'static str {
        match self {
            Kind::Tickets => "CAST(0 AS BIGINT)",
            Kind::Orders => "unit_id",
        }
    }
    /// The part rows' own columns before the counts.
    fn head(self) -> &'static str {
        match self {
            Kind::Tickets => "ticket_id, day, region_id, category_code",
            Kind::Orders => "assignment_id, ticket_id, day, unit_id, region_id, category_code",
        }
    }
    /// The SELECT computing the parts of the tickets matching `filter` (on `t`), as of $1.
    fn select(self, backend: DbBackend, offset: i32, filter: &str) -> String {
        match self {
            Kind::Tickets => ticket_parts(backend, offset, filter),
            Kind::Orders => order_parts(backend, offset, filter),
        }
    }
}

/// The local day number (days since 1970-01-01 in the county's zone) of a timestamp column.
fn day(backend: DbBackend, col: &str, offset: i32) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(FLOOR((EXTRACT(EPOCH FROM {col}) + {offset}) / 86400) AS BIGINT)"),
        _ => format!("((CAST(strftime('%s', {col}) AS INTEGER) + {offset}) / 86400)"),
    }
}

/// The smallest of some nullable timestamps in whole seconds since 1970, NULL when all are NULL.
fn least(backend: DbBackend, xs: &[String]) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM LEAST({}))) AS BIGINT)", xs.join(", ")),
        _ => {
            // SQLite's min() is NULL if any argument is: each term prefers one candidate and falls
            // back to the others, so the minimum of the terms is the minimum of the candidates.
            let terms: Vec<String> = (0..xs.len())
                .map(|i| {
                    let mut order = vec![xs[i].clone()];
                    order.extend(xs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| x.clone()));
                    format!("COALESCE({})", order.join(", "))
                })
                .collect();
            format!("CAST(strftime('%s', MIN({})) AS INTEGER)", terms.join(", "))
        }
    }
}

/// The latest visit's columns (joined as `rv`): visited, the answers and the four scores.
const VISIT_COLUMNS: &str = "CASE WHEN rv.id IS NULL THEN 0 ELSE 1 END, \
     CASE WHEN rv.solved = 'yes' THEN 1 ELSE 0 END, \
     CASE WHEN rv.satisfaction = 'satisfied' THEN 1 ELSE 0 END, \
     CASE WHEN rv.satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END, \
     CASE WHEN rv.satisfaction = 'dissatisfied' THEN 1 ELSE 0 END";
const SCORE_COLUMNS: &str = "COALESCE(rv.score_attitude, 0), CASE WHEN rv.score_attitude IS NULL THEN 0 ELSE 1 END, \
     COALESCE(rv.score_capability, 0), CASE WHEN rv.score_capability IS NULL THEN 0 ELSE 1 END, \
     COALESCE(rv.score_convenience, 0), CASE WHEN rv.score_convenience IS NULL THEN 0 ELSE 1 END, \
     COALESCE(rv.score_efficiency, 0), CASE WHEN rv.score_efficiency IS NULL THEN 0 ELSE 1 END";

/// A ticket's part: counted in the region and category it is in, on the day it was received
/// (the population of `repo::stats::counts`).
fn ticket_parts(backend: DbBackend, offset: i32, filter: &str) -> String {
    let cur_open = format!("cur.status = 'active' AND t.status IN {OPEN}");
    let recheck = least(
        backend,
        &[
            format!(
                "(SELECT MIN(a.respond_by) FROM assignments a WHERE a.ticket_id = t.id AND a.accepted_at IS NULL \
                 AND a.respond_by > $1 AND {NOT_TAKEN_BACK})"
            ),
            format!(
                "CASE WHEN {cur_open} AND cur.accepted_at IS NULL AND cur.respond_by >= $1 THEN cur.respond_by END"
            ),
            format!(
                "CASE WHEN {cur_open} AND cur.resolved_at IS NULL AND cur.resolve_by >= $1 THEN cur.resolve_by END"
            ),
        ],
    );
    format!(
        "SELECT t.id, {day}, t.region_id, t.category_code, 1, \
         CASE WHEN t.first_dispatched_at IS NOT NULL THEN 1 ELSE 0 END, \
         (SELECT COUNT(*) FROM assignments a WHERE a.ticket_id = t.id \
             AND (a.accepted_at IS NOT NULL OR (a.respond_by <= $1 AND {NOT_TAKEN_BACK}))), \
         (SELECT COUNT(*) FROM assignments a WHERE a.ticket_id = t.id AND a.accepted_at IS NOT NULL \
             AND a.accepted_at <= a.respond_by), \
         CASE WHEN t.status IN ('resolved','visited','closed') THEN 1 ELSE 0 END, \
         (SELECT COUNT(*) FROM events e WHERE e.ticket_id = t.id AND e.action IN ('resolve','council_decision')), \
         (SELECT COUNT(*) FROM events e WHERE e.ticket_id = t.id AND e.to_status = 'reopened' AND e.from_status <> 'reopened'), \
         {VISIT_COLUMNS}, \
         CASE WHEN {cur_open} AND ((cur.accepted_at IS NULL AND cur.respond_by < $1) \
             OR (cur.resolved_at IS NULL AND cur.resolve_by < $1)) THEN 1 ELSE 0 END, \
         {SCORE_COLUMNS}, {recheck} \
         FROM tickets t LEFT JOIN assignments cur ON cur.id = t.current_assignment_id \
         LEFT JOIN return_visits rv ON rv.id = (SELECT MAX(r2.id) FROM return_visits r2 \
             WHERE r2.ticket_id = t.id AND r2.reached AND r2.counted) \
         WHERE {filter}",
        day = day(backend, "t.created_at", offset),
    )
}

/// An assignment's part: counted for its unit on the day it was dispatched (the population of
/// `repo::stats::unit_counts`), under the ticket's region and category.
fn order_parts(backend: DbBackend, offset: i32, filter: &str) -> String {
    let recheck = least(
        backend,
        &[
            format!("CASE WHEN a.accepted_at IS NULL AND a.respond_by > $1 AND {NOT_TAKEN_BACK} THEN a.respond_by END"),
            "CASE WHEN a.status = 'active' AND a.accepted_at IS NULL AND a.respond_by >= $1 THEN a.respond_by END"
                .into(),
            "CASE WHEN a.status = 'active' AND a.resolved_at IS NULL AND a.resolve_by >= $1 THEN a.resolve_by END"
                .into(),
        ],
    );
    format!(
        "SELECT a.id, a.ticket_id, {day}, a.unit_id, t.region_id, t.category_code, 1, 1, \
         CASE WHEN a.accepted_at IS NOT NULL OR (a.respond_by <= $1 AND {NOT_TAKEN_BACK}) THEN 1 ELSE 0 END, \
         CASE WHEN a.accepted_at IS NOT NULL AND a.accepted_at <= a.respond_by THEN 1 ELSE 0 END, \
         CASE WHEN a.resolved_at IS NOT NULL THEN 1 ELSE 0 END, \
         CASE WHEN a.resolved_at IS NOT NULL THEN 1 ELSE 0 END, \
         CASE WHEN a.resolved_at IS NOT NULL AND EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = a.ticket_id \
             AND e.to_status = 'reopened' AND e.from_status <> 'reopened' AND e.at >= a.resolved_at \
             AND NOT EXISTS (SELECT 1 FROM assignments a2 WHERE a2.ticket_id = a.ticket_id \
                 AND a2.dispatched_at > a.resolved_at AND a2.dispatched_at < e.at)) THEN 1 ELSE 0 END, \
         {VISIT_COLUMNS}, \
         CASE WHEN a.status = 'active' AND ((a.accepted_at IS NULL AND a.respond_by < $1) \
             OR (a.resolved_at IS NULL AND a.resolve_by < $1)) THEN 1 ELSE 0 END, \
         {SCORE_COLUMNS}, {recheck} \
         FROM assignments a JOIN tickets t ON t.id = a.ticket_id \
         LEFT JOIN return_visits rv ON rv.id = (SELECT MAX(r2.id) FROM return_visits r2 \
             WHERE r2.assignment_id = a.id AND r2.reached AND r2.counted) \
         WHERE {filter}",
        day = day(backend, "a.dispatched_at", offset),
    )
}

fn stmt(backend: DbBackend, sql: String, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

fn counts_list() -> String {
    COLUMNS.join(", ")
}

fn sums_list() -> String {
    COLUMNS.iter().map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")).collect::<Vec<_>>().join(", ")
}

fn vector(r: &sea_orm::QueryResult) -> Result<Vector, DbErr> {
    let mut v = [0i64; 21];
    for (i, c) in COLUMNS.iter().enumerate() {
        v[i] = r.try_get::<Option<i64>>("", c)?.unwrap_or(0);
    }
    Ok(v)
}

/// Some ticket ids, bound as one parameter (a PostgreSQL array, a JSON array read by SQLite's
/// `json_each`), so that a statement's text is the same for every ticket and its prepared form is
/// reused from the connection's cache instead of being parsed again on every change.
pub(crate) struct Ids {
    backend: DbBackend,
    text: String,
}

impl Ids {
    pub(crate) fn new(backend: DbBackend, ids: &[i64]) -> Ids {
        let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let text = match backend {
            DbBackend::Postgres => format!("{{{joined}}}"),
            _ => format!("[{joined}]"),
        };
        Ids { backend, text }
    }

    /// The condition "`col` is one of the ids", the ids being parameter `$mark`.
    pub(crate) fn test(&self, col: &str, mark: usize) -> String {
        match self.backend {
            DbBackend::Postgres => format!("{col} = ANY(CAST(${mark} AS BIGINT[]))"),
            _ => format!("{col} IN (SELECT value FROM json_each(${mark}))"),
        }
    }

    pub(crate) fn value(&self) -> Value {
        self.text.clone().into()
    }
}

/// What part rows read back (`RETURNING`) add up to, by day-row key, times `sign`.
fn add_rows(into: &mut BTreeMap<Key, Vector>, rows: Vec<sea_orm::QueryResult>, sign: i64) -> Result<(), DbErr> {
    for r in rows {
        let key: Key = (
            r.try_get("", "day")?,
            r.try_get("", "unit_key")?,
            r.try_get("", "region_id")?,
            r.try_get("", "category_code")?,
        );
        let v = vector(&r)?;
        let d = into.entry(key).or_insert([0; 21]);
        d.iter_mut().zip(v).for_each(|(a, b)| *a += sign * b);
    }
    Ok(())
}

/// The columns a part row is read back with.
fn returning(kind: Kind) -> String {
    format!("RETURNING {}, {} AS unit_key, {}", kind.keys().join(", "), kind.unit(), counts_list())
}

/// Day rows written per statement by `add` (well under either database's limit of bound values).
const ADD_CHUNK: usize = 200;

/// Adds each delta to the row of `table` whose `keys` have the values given with it (creating it):
/// one multi-row upsert per `ADD_CHUNK` rows, in the order given (the callers give key order, so
/// that concurrent refreshes lock shared day rows in the same order). The keys must be distinct.
async fn add<C: ConnectionTrait>(
    db: &C,
    table: &str,
    keys: &[&str],
    rows: Vec<(Vec<Value>, Vector)>,
) -> Result<(), DbErr> {
    let set: Vec<String> = COLUMNS.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect();
    for chunk in rows.chunks(ADD_CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * (keys.len() + COLUMNS.len()));
        let mut tuples: Vec<String> = Vec::with_capacity(chunk.len());
        for (key, delta) in chunk {
            let first = values.len();
            values.extend(key.iter().cloned());
            values.extend(delta.iter().map(|d| Value::from(*d)));
            let marks: Vec<String> = (first + 1..=values.len()).map(|i| format!("${i}")).collect();
            tuples.push(format!("({})", marks.join(", ")));
        }
        let sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            keys.join(", "),
            counts_list(),
            tuples.join(", "),
            keys.join(", "),
            set.join(", ")
        );
        db.execute_raw(stmt(db.get_database_backend(), sql, values)).await?;
    }
    Ok(())
}

fn nonzero(d: &Vector) -> bool {
    d.iter().any(|x| *x != 0)
}

/// Rewrites the parts of the tickets in `list`, or of every ticket, as of `now`. For a list, the
/// change to the day rows is returned: what the deleted parts held (read back by the `DELETE`),
/// subtracted from what the new parts hold (read back by the `INSERT`) — two statements, no reads.
/// `existing: false` (tickets the caller's transaction inserted) leaves out the `DELETE`: they have
/// no parts yet.
async fn write_parts<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    offset: i32,
    now: DateTime<Utc>,
    list: Option<&Ids>,
    existing: bool,
) -> Result<BTreeMap<Key, Vector>, DbErr> {
    let backend = db.get_database_backend();
    let (delete, filter, ids) = match (list, kind) {
        (Some(list), Kind::Tickets) => {
            (format!("WHERE {}", list.test("ticket_id", 1)), list.test("t.id", 2), vec![list.value()])
        }
        (Some(list), Kind::Orders) => {
            (format!("WHERE {}", list.test("ticket_id", 1)), list.test("a.ticket_id", 2), vec![list.value()])
        }
        (None, Kind::Tickets) => (String::new(), "t.id > 0".to_string(), vec![]),
        (None, Kind::Orders) => (String::new(), "a.id > 0".to_string(), vec![]),
    };
    let back = if list.is_some() { returning(kind) } else { String::new() };
    let mut delta = BTreeMap::new();
    let delete = stmt(backend, format!("DELETE FROM {} {delete} {back}", kind.parts()), ids.clone());
    let insert = format!(
        "INSERT INTO {} ({}, {}, recheck_at) {} {back}",
        kind.parts(),
        kind.head(),
        counts_list(),
        kind.select(backend, offset, &filter)
    );
    let mut values = vec![now.into()];
    values.extend(ids);
    let insert = stmt(backend, insert, values);
    if list.is_some() {
        if existing {
            add_rows(&mut delta, db.query_all_raw(delete).await?, -1)?;
        }
        add_rows(&mut delta, db.query_all_raw(insert).await?, 1)?;
    } else {
        db.execute_raw(delete).await?;
        db.execute_raw(insert).await?;
    }
    Ok(delta)
}

/// Which tickets a refresh is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// Tickets that may already have parts (a change of a ticket).
    No,
    /// Tickets the caller's transaction inserted and that have no assignment yet (an intake that
    /// did not dispatch): no other transaction can see them, so they need no lock, have no parts to
    /// delete and no order parts to compute. Four statements fewer while an intake holds the day's
    /// number on PostgreSQL.
    Unassigned,
}

/// Recomputes the parts of `ticket_ids` as of `now` and adds the change to the day rows. Call in
/// the transaction that changed the tickets, after its last write to them.
pub async fn refresh<C: ConnectionTrait>(
    db: &C,
    ticket_ids: &[i64],
    offset: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_as(db, ticket_ids, Fresh::No, offset, now).await
}

/// `refresh`, told what the caller knows of the tickets (`Fresh`).
pub async fn refresh_as<C: ConnectionTrait>(
    db: &C,
    ticket_ids: &[i64],
    fresh: Fresh,
    offset: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut ids = ticket_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let list = Ids::new(backend, &ids);
    if backend == DbBackend::Postgres && fresh == Fresh::No {
        // Parts of a ticket are rewritten only under its row lock (a change holds it already). NO
        // KEY UPDATE, the lock an UPDATE of the ticket takes: a plain FOR UPDATE would also wait for
        // the key-share lock a competing change's new assignment holds on the ticket, which waits
        // for this one — a deadlock.
        let sql = format!("SELECT id FROM tickets WHERE {} ORDER BY id FOR NO KEY UPDATE", list.test("id", 1));
        db.execute_raw(stmt(backend, sql, vec![list.value()])).await?;
    }
    let kinds: &[Kind] = match fresh {
        Fresh::No => &[Kind::Tickets, Kind::Orders],
        Fresh::Unassigned => &[Kind::Tickets],
    };
    for &kind in kinds {
        let delta = write_parts(db, kind, offset, now, Some(&list), fresh == Fresh::No).await?;
        // In key order, so that concurrent refreshes lock shared day rows in the same order.
        let mut coarse: BTreeMap<(i64, i64), Vector> = BTreeMap::new();
        let mut fine = vec![];
        for (key, d) in delta.iter().filter(|(_, d)| nonzero(d)) {
            let mut values: Vec<Value> = vec![key.0.into()];
            if matches!(kind, Kind::Orders) {
                values.push(key.1.into());
            }
            values.push(key.2.into());
            values.push(key.3.clone().into());
            fine.push((values, *d));
            let c = coarse.entry(kind.coarse_key(key)).or_insert([0; 21]);
            c.iter_mut().zip(d).for_each(|(a, b)| *a += b);
        }
        add(db, kind.days(), kind.keys(), fine).await?;
        let (table, keys) = kind.coarse();
        let coarse: Vec<(Vec<Value>, Vector)> = coarse
            .into_iter()
            .filter(|(_, d)| nonzero(d))
            .map(|((day, id), d)| (vec![day.into(), id.into()], d))
            .collect();
        add(db, table, &keys, coarse).await?;
    }
    Ok(())
}

/// Computes every part and day row from the tickets, assignments, visits and events (first start
/// after the upgrade that brought roll-ups, a changed time zone, or a benchmark's generated data).
pub async fn rebuild<C: ConnectionTrait>(db: &C, offset: i32, now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for kind in [Kind::Tickets, Kind::Orders] {
        db.execute_unprepared(&format!("DELETE FROM {}", kind.days())).await?;
        db.execute_unprepared(&format!("DELETE FROM {}", kind.coarse().0)).await?;
        write_parts(db, kind, offset, now, None, true).await?;
        let (coarse, coarse_keys) = kind.coarse();
        for (table, keys) in [(kind.days(), kind.keys().join(", ")), (coarse, coarse_keys.join(", "))] {
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({keys}, {}) SELECT {keys}, {} FROM {} GROUP BY {keys}",
                counts_list(),
                COLUMNS.iter().map(|c| format!("SUM({c})")).collect::<Vec<_>>().join(", "),
                kind.parts()
            ))
            .await?;
        }
    }
    db.execute_unprepared("DELETE FROM stats_rollup_state").await?;
    db.execute_raw(stmt(
        backend,
        "INSERT INTO stats_rollup_state (id, offset_seconds, built_at) VALUES (1, $1, $2)".into(),
        vec![offset.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Builds the roll-ups unless they were built for this time-zone offset; true if it built them.
/// Several instances starting at once build them once (PostgreSQL: a table lock).
pub async fn ensure_built(db: &Db, offset: i32, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let tx = db.begin().await?;
    if db.is_postgres() {
        tx.execute_unprepared("LOCK TABLE stats_rollup_state IN EXCLUSIVE MODE").await?;
    }
    let built = tx
        .query_one_raw(stmt(db.backend(), "SELECT offset_seconds FROM stats_rollup_state WHERE id = 1".into(), vec![]))
        .await?
        .map(|r| r.try_get::<i32>("", "offset_seconds"))
        .transpose()?;
    if built == Some(offset) {
        return Ok(false);
    }
    rebuild(&*tx, offset, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Refreshes every part whose next deadline has come by `now` (200 tickets at a time, each batch
/// in its own transaction); returns how many tickets were refreshed.
pub async fn catch_up(db: &Db, offset: i32, now: DateTime<Utc>) -> Result<usize, DbErr> {
    // One plain range over each recheck index (no ordering or union for a planner to answer with
    // a scan of every part): usually nothing is due.
    let mut due = std::collections::BTreeSet::new();
    for kind in [Kind::Tickets, Kind::Orders] {
        let sql = format!("SELECT ticket_id FROM {} WHERE recheck_at <= $1", kind.parts());
        for r in db.conn.query_all_raw(stmt(db.backend(), sql, vec![now.timestamp().into()])).await? {
            due.insert(r.try_get::<i64>("", "ticket_id")?);
        }
    }
    let ids: Vec<i64> = due.into_iter().collect();
    for batch in ids.chunks(200) {
        let tx = db.begin().await?;
        refresh(&*tx, batch, offset, now).await?;
        tx.commit().await?;
    }
    Ok(ids.len())
}

fn counts_of(v: &Vector) -> Counts {
    Counts {
        received: v[0],
        dispatched: v[1],
        response_due: v[2],
        responded_in_time: v[3],
        resolved_or_closed: v[4],
        resolutions: v[5],
        reopenings: v[6],
        visited: v[7],
        solved: v[8],
        satisfied: v[9],
        basically_satisfied: v[10],
        dissatisfied: v[11],
        overdue: v[12],
        scores: ScoreSums {
            attitude_sum: v[13],
            attitude_count: v[14],
            capability_sum: v[15],
            capability_count: v[16],
            convenience_sum: v[17],
            convenience_count: v[18],
            efficiency_sum: v[19],
            efficiency_count: v[20],
        },
    }
}

/// The day number of a local date.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// A region subtree as each database answers it from an index (see `repo::stats`).
fn subtree(backend: DbBackend, path: &str) -> (&'static str, Value) {
    match backend {
        DbBackend::Sqlite => ("r.path GLOB $3", format!("{path}*").into()),
        _ => ("r.path LIKE $3", format!("{path}%").into()),
    }
}

/// Counts of the tickets received in the region subtree `region_path` over the local dates
/// `[from, to]` (the same numbers as `repo::stats::counts` over those days).
pub async fn region_counts<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Counts, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = subtree(backend, region_path);
    let sql = format!(
        "SELECT {} FROM stats_region_days d \
         WHERE d.day >= $1 AND d.day <= $2 AND d.region_id IN (SELECT r.id FROM regions r WHERE {cond})",
        sums_list()
    );
    let r = db.query_one_raw(stmt(backend, sql, vec![day_number(from).into(), day_number(to).into(), key])).await?;
    Ok(match r {
        Some(r) => counts_of(&vector(&r)?),
        None => Counts::default(),
    })
}

/// Counts per unit for the units under `region_path`, over the orders dispatched to each over the
/// local dates `[from, to]` (the same numbers as `repo::stats::unit_counts`).
pub async fn unit_counts<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<i64, Counts>, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = subtree(backend, region_path);
    let sql = format!(
        "SELECT d.unit_id AS unit_id, {} FROM stats_unit_days d WHERE d.day >= $1 AND d.day <= $2 \
         AND d.unit_id IN (SELECT u.id FROM units u JOIN regions r ON r.id = u.region_id WHERE {cond}) \
         GROUP BY d.unit_id",
        sums_list()
    );
    let mut out = HashMap::new();
    for r in db.query_all_raw(stmt(backend, sql, vec![day_number(from).into(), day_number(to).into(), key])).await? {
        out.insert(r.try_get::<i64>("", "unit_id")?, counts_of(&vector(&r)?));
    }
    Ok(out)
}
