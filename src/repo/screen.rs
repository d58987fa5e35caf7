//! The big screen's own queries: today's intake by channel and hour, open and overdue orders per
//! unit, the latest requests, the village × category table (from the roll-ups) and the mean times to
//! respond and to resolve. A region is a materialised-path subtree matched the way each database
//! answers from an index (GLOB on SQLite, LIKE on PostgreSQL). Nothing here reads a requester's
//! name or phone.
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};

/// `t.region_path` under `$1`, and the value of `$1` for `path`.
fn under(backend: DbBackend, path: &str) -> (&'static str, Value) {
    match backend {
        DbBackend::Sqlite => ("t.region_path GLOB $1", format!("{path}*").into()),
        _ => ("t.region_path LIKE $1", format!("{path}%").into()),
    }
}

/// Whole seconds since 1970 of a timestamp column.
fn epoch(backend: DbBackend, col: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {col})) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {col}) AS INTEGER)"),
    }
}

fn stmt(backend: DbBackend, sql: String, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

/// How many requests came in by one channel in one local hour (0–23).
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ChannelHour {
    pub channel: String,
    pub hour: i64,
    pub n: i64,
}

/// Requests received in `[from, to)` under `region_path`, by channel and local hour (`offset`: the
/// county zone's offset from UTC in seconds).
pub async fn intake_by_channel_hour<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset: i32,
) -> Result<Vec<ChannelHour>, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = under(backend, region_path);
    let hour = format!("((({} + {offset}) % 86400) / 3600)", epoch(backend, "t.created_at"));
    let sql = format!(
        "SELECT t.channel AS channel, {hour} AS hour, COUNT(*) AS n FROM tickets t \
         WHERE {cond} AND t.created_at >= $2 AND t.created_at < $3 GROUP BY t.channel, {hour}"
    );
    ChannelHour::find_by_statement(stmt(backend, sql, vec![key, from.into(), to.into()])).all(db).await
}

/// Tickets under `region_path` resolved (办结) in `[from, to)`: those with a resolution in the ledger.
pub async fn resolved_between<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = under(backend, region_path);
    let sql = format!(
        "SELECT COUNT(DISTINCT e.ticket_id) AS n FROM events e JOIN tickets t ON t.id = e.ticket_id \
         WHERE e.action = 'resolve' AND e.at >= $2 AND e.at < $3 AND {cond}"
    );
    let r = db.query_one_raw(stmt(backend, sql, vec![key, from.into(), to.into()])).await?;
    Ok(match r {
        Some(r) => r.try_get::<i64>("", "n")?,
        None => 0,
    })
}

/// A unit's orders not yet resolved, and how many of them are past a deadline now.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct UnitLoad {
    pub unit_id: i64,
    pub unit_name: String,
    pub open: i64,
    pub overdue: i64,
}

/// Every unit holding an open (active, unresolved) order of a ticket under `region_path`, most
/// overdue first, then most open. Overdue is the dashboard's test: not signed for by the response
/// deadline, or not resolved by the result deadline.
pub async fn open_by_unit<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    now: DateTime<Utc>,
) -> Result<Vec<UnitLoad>, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = under(backend, region_path);
    let sql = format!(
        "SELECT a.unit_id AS unit_id, u.name AS unit_name, COUNT(*) AS open, \
         SUM(CASE WHEN (a.accepted_at IS NULL AND a.respond_by < $2) OR a.resolve_by < $2 THEN 1 ELSE 0 END) AS overdue \
         FROM assignments a JOIN tickets t ON t.id = a.ticket_id JOIN units u ON u.id = a.unit_id \
         WHERE a.status = 'active' AND a.resolved_at IS NULL AND {cond} \
         GROUP BY a.unit_id, u.name ORDER BY overdue DESC, open DESC, a.unit_id"
    );
    UnitLoad::find_by_statement(stmt(backend, sql, vec![key, now.into()])).all(db).await
}

/// One of the latest requests as a screen shows it: never a name, a phone or a description.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Latest {
    pub no: String,
    pub status: String,
    pub channel: String,
    pub category_code: String,
    pub category_name: Option<String>,
    pub region_name: Option<String>,
    pub region_level: Option<String>,
    pub parent_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The `limit` requests filed last under `region_path`, newest first (by id: the primary key is
/// read backwards and the scan stops at `limit` matches).
pub async fn latest<C: ConnectionTrait>(db: &C, region_path: &str, limit: u64) -> Result<Vec<Latest>, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = under(backend, region_path);
    let sql = format!(
        "SELECT t.no AS no, t.status AS status, t.channel AS channel, t.category_code AS category_code, \
         c.name AS category_name, r.name AS region_name, r.level AS region_level, p.name AS parent_name, \
         t.created_at AS created_at FROM tickets t LEFT JOIN categories c ON c.code = t.category_code \
         LEFT JOIN regions r ON r.id = t.region_id LEFT JOIN regions p ON p.id = r.parent_id \
         WHERE {cond} ORDER BY t.id DESC LIMIT {limit}"
    );
    Latest::find_by_statement(stmt(backend, sql, vec![key])).all(db).await
}

/// Requests received in one region (a ticket's own region: a village or a grid) and category.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct PlaceCategory {
    pub region_path: String,
    pub category_code: String,
    pub n: i64,
}

/// Requests received over the local dates `[from, to]` under `region_path`, per region and
/// category, from the roll-ups (`stats_ticket_days`).
pub async fn received_by_place<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PlaceCategory>, DbErr> {
    let backend = db.get_database_backend();
    let cond = match backend {
        DbBackend::Sqlite => "r.path GLOB $3",
        _ => "r.path LIKE $3",
    };
    let key: Value = match backend {
        DbBackend::Sqlite => format!("{region_path}*").into(),
        _ => format!("{region_path}%").into(),
    };
    let sql = format!(
        "SELECT r.path AS region_path, d.category_code AS category_code, CAST(SUM(d.received) AS BIGINT) AS n \
         FROM stats_ticket_days d JOIN regions r ON r.id = d.region_id \
         WHERE d.day >= $1 AND d.day <= $2 AND {cond} GROUP BY r.path, d.category_code HAVING SUM(d.received) > 0"
    );
    let days = vec![super::rollups::day_number(from).into(), super::rollups::day_number(to).into(), key];
    PlaceCategory::find_by_statement(stmt(backend, sql, days)).all(db).await
}

/// Mean seconds from dispatch to signing for, and from filing to resolution, with how many of each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    pub respond_seconds: Option<f64>,
    pub responded: i64,
    pub resolve_seconds: Option<f64>,
    pub resolved: i64,
}

/// Over the requests filed in `[from, to)` under `region_path`: the mean time from each dispatch to
/// its signing for (orders signed for), and from filing to the result (requests resolved).
pub async fn durations<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Durations, DbErr> {
    let backend = db.get_database_backend();
    let (cond, key) = under(backend, region_path);
    let diff = |a: &str, b: &str| format!("({} - {})", epoch(backend, a), epoch(backend, b));
    let period = format!("{cond} AND t.created_at >= $2 AND t.created_at < $3");
    let respond = format!(
        "SELECT CAST(AVG({}) AS DOUBLE PRECISION) AS mean, COUNT(*) AS n FROM assignments a \
         JOIN tickets t ON t.id = a.ticket_id WHERE {period} AND a.accepted_at IS NOT NULL",
        diff("a.accepted_at", "a.dispatched_at")
    );
    let resolve = format!(
        "SELECT CAST(AVG({}) AS DOUBLE PRECISION) AS mean, COUNT(*) AS n FROM tickets t \
         WHERE {period} AND t.resolved_at IS NOT NULL",
        diff("t.resolved_at", "t.created_at")
    );
    let mut out = Durations::default();
    for (i, sql) in [respond, resolve].into_iter().enumerate() {
        let values = vec![key.clone(), from.into(), to.into()];
        if let Some(r) = db.query_one_raw(stmt(backend, sql, values)).await? {
            let mean: Option<f64> = r.try_get("", "mean")?;
            let n: i64 = r.try_get("", "n")?;
            if i == 0 {
                (out.respond_seconds, out.responded) = (mean, n);
            } else {
                (out.resolve_seconds, out.resolved) = (mean, n);
            }
        }
    }
    Ok(out)
}
