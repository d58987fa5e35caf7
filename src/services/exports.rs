//! Ticket exports (issue 17 point 6): the work list with its filters and the caller's scope, as CSV
//! (UTF-8 with a byte-order mark, so Excel in China opens it as Chinese) or XLSX, Chinese headers,
//! phones masked. Rows are read in keyset batches and written as they come: the CSV is streamed to
//! the client, the XLSX is written row by row to a temporary file (constant-memory mode) and then
//! streamed, so memory stays flat however many rows there are.
use crate::domain::privacy::mask_personal_numbers;
use crate::domain::values::RegionLevel;
use crate::error::{ApiError, ApiResult, codes};
use crate::repo;
use crate::repo::tickets::{ListFilter, Ticket, Visibility};
use crate::state::AppState;
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::collections::HashMap;
use std::sync::Arc;

pub const HEADER: [&str; 18] = [
    "工单编号",
    "受理时间",
    "来源渠道",
    "诉求类型",
    "诉求分类",
    "紧急程度",
    "状态",
    "所属乡镇",
    "所属村/网格",
    "承办单位",
    "诉求人",
    "联系电话",
    "诉求内容",
    "地址",
    "首次派单时间",
    "办结时间",
    "关闭时间",
    "重复诉求次数",
];

/// The names rows refer to by id, loaded once per export (a county has a few thousand at most).
pub struct Names {
    regions: HashMap<i64, (RegionLevel, String)>,
    units: HashMap<i64, String>,
    categories: HashMap<String, String>,
    tz: chrono_tz::Tz,
}

impl Names {
    pub async fn load(state: &AppState) -> ApiResult<Names> {
        let db = &state.db.conn;
        let regions = repo::regions::all_under(db, "/").await?;
        let units = repo::regions::units_in(db, regions.iter().map(|r| r.id).collect()).await?;
        let categories = repo::catalog::every_category(db).await?;
        let by_code: HashMap<&str, &str> = categories.iter().map(|c| (c.code.as_str(), c.name.as_str())).collect();
        let category_name = |c: &repo::catalog::Category| match c.parent_code.as_deref().and_then(|p| by_code.get(p)) {
            Some(parent) => format!("{parent}/{}", c.name),
            None => c.name.clone(),
        };
        Ok(Names {
            regions: regions.iter().map(|r| (r.id, (r.level, r.name.clone()))).collect(),
            units: units.into_iter().map(|u| (u.id, u.name)).collect(),
            categories: categories.iter().map(|c| (c.code.clone(), category_name(c))).collect(),
            tz: state.tz(),
        })
    }

    fn time(&self, at: Option<DateTime<Utc>>) -> String {
        at.map(|t| t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    }

    /// (township, village or grid) of a ticket's place, from its materialised path.
    fn place(&self, t: &Ticket) -> (String, String) {
        let mut township = String::new();
        let mut below = vec![];
        for id in t.region_path.split('/').filter_map(|p| p.parse::<i64>().ok()) {
            match self.regions.get(&id) {
                Some((RegionLevel::Township, name)) => township = name.clone(),
                Some((RegionLevel::Village | RegionLevel::Grid, name)) => below.push(name.as_str()),
                _ => {}
            }
        }
        (township, below.join("/"))
    }

    /// One ticket as the export's cells, in the order of `HEADER`.
    pub fn cells(&self, t: &Ticket) -> Vec<String> {
        let (township, village) = self.place(t);
        vec![
            t.no.clone(),
            self.time(Some(t.created_at)),
            t.channel.label().to_string(),
            t.kind.label().to_string(),
            self.categories.get(&t.category_code).cloned().unwrap_or_else(|| t.category_code.clone()),
            t.priority.label().to_string(),
            t.status.label().to_string(),
            township,
            village,
            t.unit_id.and_then(|id| self.units.get(&id).cloned()).unwrap_or_default(),
            t.requester_name.clone().unwrap_or_default(),
            super::views::shown_phone(t),
            mask_personal_numbers(&t.description),
            t.address.clone().unwrap_or_default(),
            self.time(t.first_dispatched_at),
            self.time(t.resolved_at),
            self.time(t.closed_at),
            t.repeat_count.to_string(),
        ]
    }
}

/// A CSV field: quoted when it holds a separator, quote or line break; a text a spreadsheet would
/// read as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is prefixed with `'`, so a
/// villager's description can never run in the office's Excel (CSV injection).
pub fn csv_field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_string() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

pub fn csv_line(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// What one export reads: the caller's scope and the list's filters.
#[derive(Clone)]
pub struct Query {
    pub vis: Visibility,
    pub filter: ListFilter,
}

/// Refuses an export larger than the configured maximum (before anything is sent).
pub async fn check_size(state: &AppState, q: &Query) -> ApiResult<u64> {
    let rows = repo::tickets::count_listed(&state.db.conn, &q.vis, &q.filter).await?;
    let max = state.settings.application.export_max_rows;
    if rows > max {
        return Err(ApiError::unprocessable(
            codes::EXPORT_TOO_LARGE,
            "from",
            format!("导出共{rows}条，超过单次上限{max}条，请缩小时间范围或增加筛选条件"),
        ));
    }
    Ok(rows)
}

/// Batches of rows, newest first, until the list is exhausted.
struct Reader {
    state: AppState,
    q: Query,
    before: Option<i64>,
    done: bool,
}

impl Reader {
    async fn next(&mut self) -> ApiResult<Option<Vec<Ticket>>> {
        if self.done {
            return Ok(None);
        }
        let batch = self.state.settings.application.export_batch_rows.max(1);
        let rows =
            repo::tickets::export_batch(&self.state.db.conn, &self.q.vis, &self.q.filter, self.before, batch).await?;
        self.done = (rows.len() as u64) < batch;
        self.before = rows.last().map(|t| t.id);
        Ok(if rows.is_empty() { None } else { Some(rows) })
    }
}

/// The CSV, as a stream of chunks: the byte-order mark and header first, then one chunk per batch.
pub fn csv_stream(
    state: AppState,
    q: Query,
    names: Names,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static {
    let names = Arc::new(names);
    let reader = Reader { state, q, before: None, done: false };
    futures_util::stream::unfold((reader, names, true), |(mut reader, names, first)| async move {
        if first {
            let mut head = String::from("\u{feff}");
            head.push_str(&csv_line(&HEADER.map(String::from)));
            return Some((Ok(Bytes::from(head)), (reader, names, false)));
        }
        match reader.next().await {
            Ok(Some(rows)) => {
                let chunk: String = rows.iter().map(|t| csv_line(&names.cells(t))).collect();
                Some((Ok(Bytes::from(chunk)), (reader, names, false)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "ticket export stopped");
                reader.done = true;
                Some((Err(actix_web::error::ErrorInternalServerError("export failed")), (reader, names, false)))
            }
        }
    })
}

/// Writes the XLSX to a temporary file, row by row (the workbook keeps no rows in memory), while
/// the batches are read; answers the file, removed when dropped.
pub async fn xlsx_file(state: AppState, q: Query, names: Names) -> ApiResult<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new().map_err(ApiError::internal)?;
    let path = file.path().to_path_buf();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<String>>>(4);
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name("工单")?;
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let mut r: u32 = 1;
        while let Some(batch) = rx.blocking_recv() {
            for row in batch {
                for (c, cell) in row.iter().enumerate() {
                    if !cell.is_empty() {
                        sheet.write_string(r, c as u16, cell)?;
                    }
                }
                r += 1;
            }
        }
        book.save(&path)?;
        Ok(())
    });
    let mut reader = Reader { state, q, before: None, done: false };
    let mut failed = None;
    loop {
        match reader.next().await {
            Ok(Some(rows)) => {
                let cells = rows.iter().map(|t| names.cells(t)).collect();
                if tx.send(cells).await.is_err() {
                    break; // the writer stopped: its error is reported below
                }
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(ApiError::internal)?;
    if let Some(e) = failed {
        return Err(e);
    }
    written.map_err(ApiError::internal)?;
    Ok(file)
}

/// A file as a stream of 64 KiB chunks; the file is kept (and so not removed) until the last one.
pub fn file_stream(file: tempfile::NamedTempFile) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some((file, None::<tokio::fs::File>)), |state| async move {
        let (keep, open) = state?;
        let mut f = match open {
            Some(f) => f,
            None => match tokio::fs::File::open(keep.path()).await {
                Ok(f) => f,
                Err(e) => return Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
            },
        };
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some((keep, Some(f)))))
            }
            Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
        }
    })
}

/// The rankings of a period as an XLSX workbook (`GET /api/v1/exports/units.xlsx`): one row per
/// unit, tier by tier, with every rate as its numerator, denominator and value, the four scores,
/// and the formula and rules under the table.
pub fn units_xlsx(a: &super::stats::UnitsAnswer) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    const HEAD: [&str; 25] = [
        "层级",
        "名次",
        "单位",
        "综合得分",
        "未排名原因",
        "响应率",
        "按时签收",
        "应签收",
        "解决率",
        "已解决",
        "回访数",
        "满意率",
        "满意折算",
        "办结率",
        "已办结",
        "受理",
        "重办率",
        "重办",
        "办结次数",
        "超时在办",
        "态度均分",
        "能力均分",
        "便利均分",
        "效率均分",
        "评分次数",
    ];
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let sheet = book.add_worksheet();
    sheet.set_name("单位排名")?;
    let title = format!("{} 单位排名（{} 至 {}）", a.region["name"].as_str().unwrap_or(""), a.from, a.to);
    sheet.write_string_with_format(0, 0, &title, &bold)?;
    for (c, h) in HEAD.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    let reason = |r: Option<&str>| match r {
        Some("no_data") => "本期无数据",
        Some("too_few_visits") => "回访数不足",
        Some("new_unit") => "本期新设单位",
        _ => "",
    };
    let mut r = 3u32;
    for u in &a.items {
        let num = |sheet: &mut rust_xlsxwriter::Worksheet,
                   c: u16,
                   v: Option<f64>,
                   f: Option<&Format>|
         -> anyhow::Result<()> {
            match (v, f) {
                (Some(v), Some(f)) => sheet.write_number_with_format(r, c, v, f).map(|_| ())?,
                (Some(v), None) => sheet.write_number(r, c, v).map(|_| ())?,
                (None, _) => {}
            }
            Ok(())
        };
        sheet.write_string(r, 0, u.tier_label)?;
        num(sheet, 1, u.rank.map(f64::from), None)?;
        sheet.write_string(r, 2, u.unit["name"].as_str().unwrap_or(""))?;
        num(sheet, 3, u.rates.composite_score.map(|s| (s * 10.0).round() / 10.0), None)?;
        sheet.write_string(r, 4, reason(u.unranked_reason))?;
        let f = &u.fractions;
        let rows = [
            (5, u.rates.response_rate, f.response.numerator, f.response.denominator),
            (8, u.rates.resolution_rate, f.resolution.numerator, f.resolution.denominator),
            (11, u.rates.satisfaction_rate, f.satisfaction.numerator, f.satisfaction.denominator),
            (13, u.rates.closure_rate, f.closure.numerator, f.closure.denominator),
            (16, u.rates.reopen_rate, f.reopen.numerator, f.reopen.denominator),
        ];
        for (c, rate, n, d) in rows {
            num(sheet, c, rate, Some(&pct))?;
            num(sheet, c + 1, Some(n), None)?;
            if c != 11 {
                num(sheet, c + 2, Some(d as f64), None)?;
            }
        }
        num(sheet, 10, Some(u.counts.visited as f64), None)?;
        num(sheet, 19, Some(u.counts.overdue as f64), None)?;
        let d = &u.dimensions;
        for (c, dim) in [(20, d.attitude), (21, d.capability), (22, d.convenience), (23, d.efficiency)] {
            num(sheet, c, dim.mean.map(|m| (m * 100.0).round() / 100.0), None)?;
        }
        num(sheet, 24, Some(d.attitude.count.max(d.efficiency.count) as f64), None)?;
        r += 1;
    }
    r += 1;
    sheet.write_string_with_format(r, 0, &a.formula, &bold)?;
    for rule in &a.rules {
        r += 1;
        sheet.write_string(r, 0, rule)?;
    }
    sheet.set_column_width(2, 24)?;
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("停水"), "停水");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("他说\"快来\""), "\"他说\"\"快来\"\"\"");
        assert_eq!(csv_field("第一行\n第二行"), "\"第一行\n第二行\"");
        assert_eq!(csv_field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(csv_field("+86 139"), "'+86 139");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_line(&["a".into(), "b,c".into()]), "a,\"b,c\"\r\n");
    }
}
