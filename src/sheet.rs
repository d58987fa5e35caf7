//! Spreadsheets a county already has: reading the first sheet of an XLSX file or a CSV file (UTF-8,
//! with or without BOM, or GB18030/GBK as Excel in China saves it) into rows of text, and writing a
//! template XLSX (a header row and one example row).
use anyhow::{Context, bail};
use std::io::Cursor;

/// At most this many data rows per file (a county has about 2,000 staff).
pub const MAX_ROWS: usize = 20_000;

/// A table read from a file: the header row and the data rows (spreadsheet row `i + 2` for `rows[i]`).
#[derive(Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads XLSX (a zip: starts with `PK`) or CSV. Cells are trimmed; wholly empty rows are skipped.
pub fn read(bytes: &[u8]) -> anyhow::Result<Table> {
    let mut all = if bytes.starts_with(b"PK\x03\x04") { read_xlsx(bytes)? } else { read_csv(bytes)? };
    all.retain(|r| r.iter().any(|c| !c.is_empty()));
    if all.is_empty() {
        bail!("文件中没有数据（第一行应为表头）");
    }
    let header = all.remove(0);
    if all.len() > MAX_ROWS {
        bail!("文件行数过多（最多{MAX_ROWS}行）");
    }
    Ok(Table { header, rows: all })
}

/// The text of a CSV file: UTF-8 (a BOM is dropped) when it is valid UTF-8, GB18030 otherwise.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_csv(bytes: &[u8]) -> anyhow::Result<Vec<Vec<String>>> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("第{}行不是有效的CSV", i + 1))?;
        out.push(record.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> anyhow::Result<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).context("不是有效的XLSX文件")?;
    let range = book.worksheet_range_at(0).context("XLSX文件中没有工作表")?.context("无法读取第一个工作表")?;
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        // Phone numbers typed as numbers come back as floats: 13812345678.0 → "13812345678".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string().trim().to_string(),
    };
    Ok(range.rows().map(|r| r.iter().map(text).collect()).collect())
}

/// A template: the header row in bold and one example row, every column as text (so phone numbers
/// keep their digits).
pub fn template(header: &[&str], example: &[&str]) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (col, name) in header.iter().enumerate() {
        let col = u16::try_from(col)?;
        sheet.write_string_with_format(0, col, *name, &bold)?;
        sheet.set_column_width(col, 16)?;
        sheet.set_column_format(col, &text)?;
    }
    for (col, value) in example.iter().enumerate() {
        sheet.write_string_with_format(1, u16::try_from(col)?, *value, &text)?;
    }
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_from_excel_reads_as_chinese() {
        let text = "用户名,姓名\r\nlisi,李四\r\n";
        let (gbk, _, lossy) = encoding_rs::GB18030.encode(text);
        assert!(!lossy && std::str::from_utf8(&gbk).is_err(), "really GBK bytes");
        let t = read(&gbk).unwrap();
        assert_eq!(t.header, vec!["用户名", "姓名"]);
        assert_eq!(t.rows, vec![vec!["lisi".to_string(), "李四".to_string()]]);
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(read(&bom).unwrap().header[0], "用户名", "a UTF-8 BOM is dropped");
    }

    #[test]
    fn a_template_reads_back_with_its_header_and_example() {
        let bytes = template(&["用户名", "手机号"], &["zhangsan", "13812345678"]).unwrap();
        let t = read(&bytes).unwrap();
        assert_eq!(t.header, vec!["用户名", "手机号"]);
        assert_eq!(t.rows, vec![vec!["zhangsan".to_string(), "13812345678".to_string()]]);
    }
}
