//! The counts behind the rates, in SQL that runs unchanged on SQLite and PostgreSQL.
use crate::domain::metrics::{Counts, ScoreSums};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};

/// Whose tickets are counted.
#[derive(Clone, Debug)]
pub enum Population {
    /// Tickets received in the period in a region subtree (materialised path).
    Region(String),
    /// Tickets dispatched in the period to a unit.
    Unit(i64),
}

impl Population {
    /// A condition on `t` (tickets) using $1 (the region path or unit id), $2 and $3 (period). A
    /// region is matched by path prefix in the form each database answers from an index: GLOB on
    /// SQLite (its LIKE ignores case and skips the index), LIKE on PostgreSQL (text_pattern_ops).
    fn tickets_where(&self, backend: DbBackend) -> &'static str {
        match (self, backend) {
            (Population::Region(_), DbBackend::Sqlite) => {
                "t.region_path GLOB $1 AND t.created_at >= $2 AND t.created_at < $3"
            }
            (Population::Region(_), _) => "t.region_path LIKE $1 AND t.created_at >= $2 AND t.created_at < $3",
            (Population::Unit(_), _) => {
                "t.id IN (SELECT ticket_id FROM assignments WHERE unit_id = $1 AND dispatched_at >= $2 AND dispatched_at < $3)"
            }
        }
    }

    /// A condition on `a` (assignments) for the response rate.
    fn assignments_where(&self, backend: DbBackend) -> &'static str {
        match self {
            Population::Region(_) => self.tickets_where(backend),
            Population::Unit(_) => "a.unit_id = $1 AND a.dispatched_at >= $2 AND a.dispatched_at < $3",
        }
    }

    /// The value of $1. Paths hold only digits and '/', so neither pattern needs escaping.
    fn key(&self, backend: DbBackend) -> Value {
        match (self, backend) {
            (Population::Region(path), DbBackend::Sqlite) => format!("{path}*").into(),
            (Population::Region(path), _) => format!("{path}%").into(),
            (Population::Unit(id), _) => (*id).into(),
        }
    }
}

/// An assignment the dispatcher took back (改派, 撤回, a redo sent elsewhere, 下交, an assisting
/// part released) before its response deadline was never the unit's to answer: it is not due for
/// the response rate.
const TAKEN_BACK: &str =
    "NOT (a.status IN ('superseded','released') AND a.ended_at IS NOT NULL AND a.ended_at <= a.respond_by)";

async fn row<C: ConnectionTrait>(db: &C, sql: String, values: Vec<Value>, cols: &[&str]) -> Result<Vec<i64>, DbErr> {
    let stmt = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    let r = db.query_one_raw(stmt).await?;
    cols.iter()
        .map(|c| match &r {
            Some(r) => r.try_get::<Option<i64>>("", c).map(|v| v.unwrap_or(0)),
            None => Ok(0),
        })
        .collect()
}

/// Counts for a population over `[from, to)` as of `now` (for deadlines not yet reached).
pub async fn counts<C: ConnectionTrait>(
    db: &C,
    pop: &Population,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Counts, DbErr> {
    let backend = db.get_database_backend();
    let base = vec![pop.key(backend), from.into(), to.into()];
    let with_now = || {
        let mut v = base.clone();
        v.push(now.into());
        v
    };
    let tw = pop.tickets_where(backend);

    let t = row(
        db,
        format!(
            "SELECT COUNT(*) AS received, \
             SUM(CASE WHEN t.first_dispatched_at IS NOT NULL THEN 1 ELSE 0 END) AS dispatched, \
             SUM(CASE WHEN t.status IN ('resolved','visited','closed') THEN 1 ELSE 0 END) AS resolved_or_closed \
             FROM tickets t WHERE {tw}"
        ),
        base.clone(),
        &["received", "dispatched", "resolved_or_closed"],
    )
    .await?;

    let a = row(
        db,
        format!(
            "SELECT SUM(CASE WHEN a.accepted_at IS NOT NULL OR (a.respond_by <= $4 AND {TAKEN_BACK}) THEN 1 ELSE 0 END) AS due, \
             SUM(CASE WHEN a.accepted_at IS NOT NULL AND a.accepted_at <= a.respond_by THEN 1 ELSE 0 END) AS in_time \
             FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE {}",
            pop.assignments_where(backend)
        ),
        with_now(),
        &["due", "in_time"],
    )
    .await?;

    let e = row(
        db,
        format!(
            "SELECT SUM(CASE WHEN e.action IN ('resolve','council_decision') THEN 1 ELSE 0 END) AS resolutions, \
             SUM(CASE WHEN e.to_status = 'reopened' AND e.from_status <> 'reopened' THEN 1 ELSE 0 END) AS reopenings \
             FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE {tw}"
        ),
        base.clone(),
        &["resolutions", "reopenings"],
    )
    .await?;

    let v = row(
        db,
        format!(
            "SELECT COUNT(*) AS visited, \
             SUM(CASE WHEN rv.solved = 'yes' THEN 1 ELSE 0 END) AS solved, \
             SUM(CASE WHEN rv.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, \
             SUM(CASE WHEN rv.satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END) AS basically, \
             SUM(CASE WHEN rv.satisfaction = 'dissatisfied' THEN 1 ELSE 0 END) AS dissatisfied, \
             SUM(rv.score_attitude) AS att_sum, COUNT(rv.score_attitude) AS att_n, \
             SUM(rv.score_capability) AS cap_sum, COUNT(rv.score_capability) AS cap_n, \
             SUM(rv.score_convenience) AS con_sum, COUNT(rv.score_convenience) AS con_n, \
             SUM(rv.score_efficiency) AS eff_sum, COUNT(rv.score_efficiency) AS eff_n \
             FROM return_visits rv JOIN tickets t ON t.id = rv.ticket_id \
             WHERE {tw} AND rv.reached AND rv.counted AND rv.id = \
             (SELECT MAX(r2.id) FROM return_visits r2 WHERE r2.ticket_id = rv.ticket_id AND r2.reached AND r2.counted)"
        ),
        base.clone(),
        &[
            "visited",
            "solved",
            "satisfied",
            "basically",
            "dissatisfied",
            "att_sum",
            "att_n",
            "cap_sum",
            "cap_n",
            "con_sum",
            "con_n",
            "eff_sum",
            "eff_n",
        ],
    )
    .await?;

    let o = row(
        db,
        format!(
            "SELECT COUNT(*) AS overdue FROM tickets t JOIN assignments a ON a.id = t.current_assignment_id \
             WHERE {tw} AND a.status = 'active' AND t.status IN ('dispatched','accepted','in_progress','reopened') \
             AND ((a.accepted_at IS NULL AND a.respond_by < $4) OR (a.resolved_at IS NULL AND a.resolve_by < $4))"
        ),
        with_now(),
        &["overdue"],
    )
    .await?;

    Ok(Counts {
        received: t[0],
        dispatched: t[1],
        resolved_or_closed: t[2],
        response_due: a[0],
        responded_in_time: a[1],
        resolutions: e[0],
        reopenings: e[1],
        visited: v[0],
        solved: v[1],
        satisfied: v[2],
        basically_satisfied: v[3],
        dissatisfied: v[4],
        overdue: o[0],
        scores: ScoreSums {
            attitude_sum: v[5],
            attitude_count: v[6],
            capability_sum: v[7],
            capability_count: v[8],
            convenience_sum: v[9],
            convenience_count: v[10],
            efficiency_sum: v[11],
            efficiency_count: v[12],
        },
    })
}

/// Counts per unit for every unit under `region_path`, over the orders given to each unit in
/// `[from, to)`: received = assignments given to the unit; response over those assignments;
/// resolutions = those the unit resolved (办结 for a unit); reopenings = those resolutions reopened
/// before the order was dispatched again; visits = the latest reached, counted visit of each
/// assignment (an upheld appeal un-counts a visit).
pub async fn unit_counts<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<i64, Counts>, DbErr> {
    let backend = db.get_database_backend();
    let params: Vec<Value> = vec![from.into(), to.into(), now.into(), format!("{region_path}%").into()];
    let scope = "FROM assignments a JOIN units u ON u.id = a.unit_id JOIN regions r ON r.id = u.region_id \
                 WHERE a.dispatched_at >= $1 AND a.dispatched_at < $2 AND r.path LIKE $4";
    let orders = format!(
        "SELECT a.unit_id AS unit_id, COUNT(*) AS received, \
         SUM(CASE WHEN a.accepted_at IS NOT NULL OR (a.respond_by <= $3 AND {TAKEN_BACK}) THEN 1 ELSE 0 END) AS due, \
         SUM(CASE WHEN a.accepted_at IS NOT NULL AND a.accepted_at <= a.respond_by THEN 1 ELSE 0 END) AS in_time, \
         SUM(CASE WHEN a.resolved_at IS NOT NULL THEN 1 ELSE 0 END) AS resolved, \
         SUM(CASE WHEN a.resolved_at IS NOT NULL AND EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = a.ticket_id \
             AND e.to_status = 'reopened' AND e.from_status <> 'reopened' AND e.at >= a.resolved_at \
             AND NOT EXISTS (SELECT 1 FROM assignments a2 WHERE a2.ticket_id = a.ticket_id \
                 AND a2.dispatched_at > a.resolved_at AND a2.dispatched_at < e.at)) THEN 1 ELSE 0 END) AS reopened, \
         SUM(CASE WHEN a.status = 'active' AND ((a.accepted_at IS NULL AND a.respond_by < $3) \
             OR (a.resolved_at IS NULL AND a.resolve_by < $3)) THEN 1 ELSE 0 END) AS overdue \
         {scope} GROUP BY a.unit_id"
    );
    let visits = "SELECT a.unit_id AS unit_id, COUNT(*) AS visited, \
         SUM(CASE WHEN rv.solved = 'yes' THEN 1 ELSE 0 END) AS solved, \
         SUM(CASE WHEN rv.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, \
         SUM(CASE WHEN rv.satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END) AS basically, \
         SUM(CASE WHEN rv.satisfaction = 'dissatisfied' THEN 1 ELSE 0 END) AS dissatisfied, \
         SUM(rv.score_attitude) AS att_sum, COUNT(rv.score_attitude) AS att_n, \
         SUM(rv.score_capability) AS cap_sum, COUNT(rv.score_capability) AS cap_n, \
         SUM(rv.score_convenience) AS con_sum, COUNT(rv.score_convenience) AS con_n, \
         SUM(rv.score_efficiency) AS eff_sum, COUNT(rv.score_efficiency) AS eff_n \
         FROM return_visits rv JOIN assignments a ON a.id = rv.assignment_id JOIN units u ON u.id = a.unit_id \
         JOIN regions r ON r.id = u.region_id \
         WHERE a.dispatched_at >= $1 AND a.dispatched_at < $2 AND r.path LIKE $3 AND rv.reached AND rv.counted \
         AND rv.id = (SELECT MAX(r2.id) FROM return_visits r2 WHERE r2.assignment_id = rv.assignment_id \
             AND r2.reached AND r2.counted) \
         GROUP BY a.unit_id"
        .to_string();
    let mut out: std::collections::HashMap<i64, Counts> = std::collections::HashMap::new();
    let get = |r: &sea_orm::QueryResult, c: &str| r.try_get::<Option<i64>>("", c).map(|v| v.unwrap_or(0));
    for r in db.query_all_raw(Statement::from_sql_and_values(backend, orders, params.clone())).await? {
        let c = out.entry(get(&r, "unit_id")?).or_default();
        c.received = get(&r, "received")?;
        c.dispatched = c.received;
        c.response_due = get(&r, "due")?;
        c.responded_in_time = get(&r, "in_time")?;
        c.resolved_or_closed = get(&r, "resolved")?;
        c.resolutions = c.resolved_or_closed;
        c.reopenings = get(&r, "reopened")?;
        c.overdue = get(&r, "overdue")?;
    }
    let visit_params: Vec<Value> = vec![from.into(), to.into(), format!("{region_path}%").into()];
    for r in db.query_all_raw(Statement::from_sql_and_values(backend, visits, visit_params)).await? {
        let c = out.entry(get(&r, "unit_id")?).or_default();
        c.visited = get(&r, "visited")?;
        c.solved = get(&r, "solved")?;
        c.satisfied = get(&r, "satisfied")?;
        c.basically_satisfied = get(&r, "basically")?;
        c.dissatisfied = get(&r, "dissatisfied")?;
        c.scores = ScoreSums {
            attitude_sum: get(&r, "att_sum")?,
            attitude_count: get(&r, "att_n")?,
            capability_sum: get(&r, "cap_sum")?,
            capability_count: get(&r, "cap_n")?,
            convenience_sum: get(&r, "con_sum")?,
            convenience_count: get(&r, "con_n")?,
            efficiency_sum: get(&r, "eff_sum")?,
            efficiency_count: get(&r, "eff_n")?,
        };
    }
    Ok(out)
}

/// 挂起 per unit over the orders given to each unit in `[from, to)` under `region_path`: how many
/// were paused at least once, and their paused minutes (finished pauses plus a running one up to
/// `now`). Few rows: only assignments that were ever paused are read.
pub async fn paused_by_unit<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<i64, (i64, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let sql = "SELECT a.unit_id AS unit_id, a.paused_minutes AS minutes, a.paused_at AS paused_at                FROM assignments a JOIN units u ON u.id = a.unit_id JOIN regions r ON r.id = u.region_id                WHERE a.dispatched_at >= $1 AND a.dispatched_at < $2 AND r.path LIKE $3                AND (a.paused_minutes > 0 OR a.paused_at IS NOT NULL)";
    let params: Vec<Value> = vec![from.into(), to.into(), format!("{region_path}%").into()];
    let mut out: std::collections::HashMap<i64, (i64, i64)> = std::collections::HashMap::new();
    for r in db.query_all_raw(Statement::from_sql_and_values(backend, sql, params)).await? {
        let unit: i64 = r.try_get("", "unit_id")?;
        let finished: i32 = r.try_get("", "minutes")?;
        let running: Option<DateTime<Utc>> = r.try_get("", "paused_at")?;
        let e = out.entry(unit).or_default();
        e.0 += 1;
        e.1 += i64::from(finished) + running.map_or(0, |t| (now - t).num_minutes().max(0));
    }
    Ok(out)
}

/// Requests of one category in one region (the ticket's own region: a village or a grid) over a
/// period: how many, and from how many different phones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceCount {
    pub category_code: String,
    pub region_id: i64,
    pub region_path: String,
    pub tickets: i64,
    pub phones: i64,
}

/// Requests received in `[from, to)` under `region_path`, grouped by category and region (merged
/// and invalid ones left out: they are not problems of their own; nor are proactive tickets, which
/// staff raise from these very counts).
pub async fn place_counts<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<PlaceCount>, DbErr> {
    let backend = db.get_database_backend();
    let pop = Population::Region(region_path.to_string());
    let sql = format!(
        "SELECT t.category_code AS category_code, t.region_id AS region_id, MIN(t.region_path) AS region_path, \
         COUNT(*) AS tickets, COUNT(DISTINCT t.requester_phone) AS phones FROM tickets t \
         WHERE {} AND t.status NOT IN ('merged', 'invalid') AND t.channel <> 'proactive' GROUP BY t.category_code, t.region_id",
        pop.tickets_where(backend)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, vec![pop.key(backend), from.into(), to.into()]);
    db.query_all_raw(stmt)
        .await?
        .iter()
        .map(|r| {
            Ok(PlaceCount {
                category_code: r.try_get("", "category_code")?,
                region_id: r.try_get("", "region_id")?,
                region_path: r.try_get("", "region_path")?,
                tickets: r.try_get("", "tickets")?,
                phones: r.try_get("", "phones")?,
            })
        })
        .collect()
}

/// An open order past its response or result deadline, with the names the dashboard shows. The
/// requester's name and phone are not read.
#[derive(Clone, Debug, FromQueryResult)]
pub struct OverdueOrder {
    pub ticket_id: i64,
    pub no: String,
    pub status: String,
    pub category_code: String,
    pub category_name: Option<String>,
    pub region_id: i64,
    pub region_name: Option<String>,
    pub unit_id: i64,
    pub unit_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub respond_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
}

/// Open orders under `region_path` whose active assignment missed its response deadline (not
/// accepted) or its result deadline (not resolved) at `now` — the same test as the ticket list's
/// `overdue` filter — longest overdue first (the earlier missed deadline first), at most `limit`;
/// and how many there are in all.
pub async fn overdue_orders<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<(Vec<OverdueOrder>, i64), DbErr> {
    let backend = db.get_database_backend();
    let pop = Population::Region(region_path.to_string());
    let under = match backend {
        DbBackend::Sqlite => "t.region_path GLOB $1",
        _ => "t.region_path LIKE $1",
    };
    let scope = format!(
        "FROM assignments a JOIN tickets t ON t.id = a.ticket_id \
         WHERE a.status = 'active' AND {under} \
         AND ((a.accepted_at IS NULL AND a.respond_by < $2) OR (a.resolved_at IS NULL AND a.resolve_by < $2))"
    );
    let params = vec![pop.key(backend), now.into()];
    let total = row(db, format!("SELECT COUNT(*) AS n {scope}"), params.clone(), &["n"]).await?[0];
    let sql = format!(
        "SELECT t.id AS ticket_id, t.no AS no, t.status AS status, t.category_code AS category_code, \
         c.name AS category_name, t.region_id AS region_id, r.name AS region_name, a.unit_id AS unit_id, \
         u.name AS unit_name, a.assignee_id AS assignee_id, s.name AS assignee_name, a.accepted_at AS accepted_at, \
         a.respond_by AS respond_by, a.resolve_by AS resolve_by \
         FROM assignments a JOIN tickets t ON t.id = a.ticket_id JOIN units u ON u.id = a.unit_id \
         LEFT JOIN staff s ON s.id = a.assignee_id LEFT JOIN regions r ON r.id = t.region_id \
         LEFT JOIN categories c ON c.code = t.category_code \
         WHERE a.status = 'active' AND {under} \
         AND ((a.accepted_at IS NULL AND a.respond_by < $2) OR (a.resolved_at IS NULL AND a.resolve_by < $2)) \
         ORDER BY CASE WHEN a.accepted_at IS NULL AND a.respond_by < $2 THEN a.respond_by ELSE a.resolve_by END, t.id \
         LIMIT {limit}"
    );
    let rows = OverdueOrder::find_by_statement(Statement::from_sql_and_values(backend, sql, params)).all(db).await?;
    Ok((rows, total))
}

/// The data of every urge (催办) event in `[from, to)` on tickets of a region subtree (the event's
/// JSON, which names the unit urged, the type and level, or `auto` for the sweeper's).
pub async fn urge_events<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let pop = Population::Region(region_path.to_string());
    let matcher = if backend == DbBackend::Sqlite { "GLOB" } else { "LIKE" };
    let sql = format!(
        "SELECT e.data AS data FROM events e JOIN tickets t ON t.id = e.ticket_id \
         WHERE e.action = 'urge' AND t.region_path {matcher} $1 AND e.at >= $2 AND e.at < $3 ORDER BY e.id"
    );
    let stmt = Statement::from_sql_and_values(backend, sql, vec![pop.key(backend), from.into(), to.into()]);
    db.query_all_raw(stmt).await?.iter().map(|r| r.try_get::<String>("", "data")).collect()
}

/// Urges per unit urged over `[from, to)` on tickets under `region_path`: (by staff, by the
/// sweeper). The unit rankings show them beside the rates.
pub async fn urges_per_unit<C: ConnectionTrait>(
    db: &C,
    region_path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<std::collections::HashMap<i64, (i64, i64)>, DbErr> {
    let mut out: std::collections::HashMap<i64, (i64, i64)> = Default::default();
    for raw in urge_events(db, region_path, from, to).await? {
        let data: serde_json::Value = serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null);
        let Some(unit_id) = data["unit_id"].as_i64() else { continue };
        let e = out.entry(unit_id).or_default();
        if data["auto"].as_bool() == Some(true) {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    Ok(out)
}
