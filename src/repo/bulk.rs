//! Many rows of one table updated by one statement, each with its own values: the batch writers
//! (the SLA sweeper's urges and escalations) use it instead of one `UPDATE` per row.
//!
//! `WITH v(k, g0…, s0…) AS (VALUES (…), (…)) UPDATE t SET c = v.s0, … FROM v WHERE t.key = v.k AND
//! t.guard IS NOT DISTINCT FROM v.g0 …`: both databases know it (SQLite from 3.33). A guard compares
//! null-safely, so a guard on "still not set" is written as a null value.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// One statement's rows: every row has the key, then the guards' values, then the new values, in the
/// order of the column names given.
pub struct Rows<'a> {
    pub table: &'a str,
    pub key: &'a str,
    pub guards: Vec<&'a str>,
    pub sets: Vec<&'a str>,
    pub rows: Vec<Vec<Value>>,
}

/// Rows of one table that set different columns, grouped by the columns they set: one `update` per
/// group (a shape), the groups in the order their first row came.
pub struct Shapes<'a> {
    table: &'a str,
    key: &'a str,
    guards: Vec<&'a str>,
    always: Vec<&'a str>,
    groups: Vec<(Vec<&'a str>, Vec<Vec<Value>>)>,
    rows: u64,
}

impl<'a> Shapes<'a> {
    /// `always`: the columns every row sets, before the columns of its own shape.
    pub fn new(table: &'a str, key: &'a str, guards: Vec<&'a str>, always: Vec<&'a str>) -> Shapes<'a> {
        Shapes { table, key, guards, always, groups: vec![], rows: 0 }
    }

    /// A row: `head` holds its key, its guards' values and the values of `always`; `sets` the
    /// columns of its own and their values (in any order). A row that would set nothing is left out.
    pub fn push(&mut self, head: Vec<Value>, mut sets: Vec<(&'a str, Value)>) {
        if self.always.is_empty() && sets.is_empty() {
            return;
        }
        sets.sort_by_key(|(c, _)| *c);
        let cols: Vec<&'a str> = sets.iter().map(|(c, _)| *c).collect();
        let mut row = head;
        row.extend(sets.into_iter().map(|(_, v)| v));
        match self.groups.iter_mut().find(|(c, _)| *c == cols) {
            Some((_, rows)) => rows.push(row),
            None => self.groups.push((cols, vec![row])),
        }
        self.rows += 1;
    }

    /// How many rows were pushed (and not left out).
    pub fn len(&self) -> u64 {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Runs every shape's update; answers how many rows matched their key and guards.
    pub async fn update<C: ConnectionTrait>(self, db: &C) -> Result<u64, DbErr> {
        let mut matched = 0;
        for (cols, rows) in self.groups {
            let mut sets = self.always.clone();
            sets.extend(cols);
            let (table, key, guards) = (self.table, self.key, self.guards.clone());
            matched += update(db, Rows { table, key, guards, sets, rows }).await?;
        }
        Ok(matched)
    }
}

/// Rows per statement: well under both databases' limits on bound values (SQLite 32,766).
const CHUNK: usize = 200;

/// Runs the update(s) and answers how many rows matched their key and guards.
pub async fn update<C: ConnectionTrait>(db: &C, r: Rows<'_>) -> Result<u64, DbErr> {
    let width = 1 + r.guards.len() + r.sets.len();
    if r.sets.is_empty() || r.rows.is_empty() {
        return Ok(0);
    }
    if let Some(bad) = r.rows.iter().find(|row| row.len() != width) {
        return Err(DbErr::Custom(format!("bulk update of {}: a row of {} values, not {width}", r.table, bad.len())));
    }
    let backend = db.get_database_backend();
    let same = if backend == DbBackend::Postgres { "IS NOT DISTINCT FROM" } else { "IS" };
    let names: Vec<String> = std::iter::once("k".to_string())
        .chain((0..r.guards.len()).map(|i| format!("g{i}")))
        .chain((0..r.sets.len()).map(|i| format!("s{i}")))
        .collect();
    let set = r.sets.iter().enumerate().map(|(i, c)| format!("{c} = v.s{i}")).collect::<Vec<_>>().join(", ");
    let mut filter = format!("{t}.{k} = v.k", t = r.table, k = r.key);
    for (i, g) in r.guards.iter().enumerate() {
        filter.push_str(&format!(" AND {t}.{g} {same} v.g{i}", t = r.table));
    }
    let mut matched = 0;
    let mut rows = r.rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(CHUNK));
        let chunk = std::mem::replace(&mut rows, rest);
        let mut n = 0;
        let tuples: Vec<String> = chunk
            .iter()
            .map(|_| {
                let cells: Vec<String> = (0..width)
                    .map(|_| {
                        n += 1;
                        format!("${n}")
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "WITH v({names}) AS (VALUES {tuples}) UPDATE {t} SET {set} FROM v WHERE {filter}",
            names = names.join(", "),
            tuples = tuples.join(", "),
            t = r.table,
        );
        let values: Vec<Value> = chunk.into_iter().flatten().collect();
        matched += db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    }
    Ok(matched)
}
