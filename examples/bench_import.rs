//! Bulk import benchmark: `cargo run --release --example bench_import [-- --db sqlite|postgres|both]`.
//! Imports a county of 20 townships, 300 villages and 1,200 grids (one regions file), 400 units and
//! 2,000 staff (CSV and XLSX) into an empty database through the same service as
//! `POST /api/v1/imports/{kind}` and prints the time of each dry run and each import.
use minsheng::auth::StaffUser;
use minsheng::db::Db;
use minsheng::domain::roles::{Role, Scope};
use minsheng::domain::values::RegionLevel;
use minsheng::repo;
use minsheng::services::import::{self, Kind};
use sea_orm::{ConnectionTrait, Database};
use std::time::Instant;

const TOWNSHIPS: usize = 20;
const VILLAGES_PER_TOWNSHIP: usize = 15;
const GRIDS_PER_VILLAGE: usize = 4;
const DEPARTMENTS: usize = 80;
const STAFF: usize = 2_000;

fn township(t: usize) -> String {
    format!("第{t}镇")
}

fn village(t: usize, v: usize) -> String {
    format!("第{t}镇{v}村")
}

/// (regions CSV, units CSV, staff rows) of the county.
fn county_files() -> (String, String, Vec<[String; 5]>) {
    let mut regions = String::from("名称,层级,上级\n");
    let mut units = String::from("单位名称,所属区域,层级,类型,电话\n");
    let mut unit_names = vec![];
    for t in 0..TOWNSHIPS {
        regions.push_str(&format!("{},乡镇,测试县\n", township(t)));
        let office = format!("{}人民政府", township(t));
        units.push_str(&format!("{office},{},乡镇级,乡镇政府,0871-55{t:05}\n", township(t)));
        unit_names.push(office);
        for v in 0..VILLAGES_PER_TOWNSHIP {
            regions.push_str(&format!("{},村,{}\n", village(t, v), township(t)));
            for g in 0..GRIDS_PER_VILLAGE {
                regions.push_str(&format!("第{g}网格,网格,{}\n", village(t, v)));
            }
            let committee = format!("{}村民委员会", village(t, v));
            units.push_str(&format!("{committee},{},村级,村民委员会,\n", village(t, v)));
            unit_names.push(committee);
        }
    }
    for d in 0..DEPARTMENTS {
        let name = format!("县第{d}局");
        units.push_str(&format!("{name},测试县,县级,县直部门,0871-66{d:05}\n"));
        unit_names.push(name);
    }
    let staff = (0..STAFF)
        .map(|i| {
            [
                format!("s{i:04}"),
                format!("干部{i}"),
                format!("139{i:08}"),
                "承办干部".to_string(),
                unit_names[i % unit_names.len()].clone(),
            ]
        })
        .collect();
    (regions, units, staff)
}

fn staff_csv(rows: &[[String; 5]]) -> String {
    let mut s = String::from("用户名,姓名,手机号,角色,单位\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s
}

fn staff_xlsx(rows: &[[String; 5]]) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["用户名", "姓名", "手机号", "角色", "单位"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

async fn timed(db: &Db, admin: &StaffUser, kind: Kind, bytes: &[u8], dry_run: bool) -> anyhow::Result<(f64, usize)> {
    let t = Instant::now();
    let r = import::run(db, chrono::Utc::now(), admin, kind, bytes, dry_run, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    anyhow::ensure!(r.errors.is_empty(), "errors: {:?}", &r.errors[..r.errors.len().min(3)]);
    Ok((t.elapsed().as_secs_f64(), r.rows))
}

async fn run(backend: &str, pg: &str) -> anyhow::Result<()> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = if backend == "postgres" {
        let server = Database::connect(format!("{pg}/postgres")).await?;
        server.execute_unprepared(&format!("CREATE DATABASE ms_bench_{id}")).await?;
        format!("{pg}/ms_bench_{id}")
    } else {
        let dir = std::env::temp_dir().join("minsheng-bench");
        std::fs::create_dir_all(&dir)?;
        format!("sqlite://{}?mode=rwc", dir.join(format!("{id}.sqlite")).display())
    };
    let db = Db::connect(&url, 5).await?;
    db.migrate().await?;
    let county = repo::regions::create(&db.conn, None, RegionLevel::County, "测试县", None, chrono::Utc::now()).await?;
    let admin = StaffUser {
        id: 0,
        name: "bench".into(),
        region_id: county.id,
        scope: Scope { roles: vec![Role::Admin], region_path: county.path.clone(), unit_id: None },
    };
    let (regions, units, staff) = county_files();
    let (csv, xlsx) = (staff_csv(&staff), staff_xlsx(&staff)?);
    println!("\n== {backend}");
    let mut total = 0.0;
    for (what, kind, bytes) in
        [("regions (CSV)", Kind::Regions, regions.as_bytes()), ("units (CSV)", Kind::Units, units.as_bytes())]
    {
        let (dry, n) = timed(&db, &admin, kind, bytes, true).await?;
        let (done, _) = timed(&db, &admin, kind, bytes, false).await?;
        total += done;
        println!("  {what:<16} {n:>5} rows: dry run {:>6.0} ms, import {:>6.0} ms", dry * 1e3, done * 1e3);
    }
    let (dry_xlsx, n) = timed(&db, &admin, Kind::Staff, &xlsx, true).await?;
    let (dry_csv, _) = timed(&db, &admin, Kind::Staff, csv.as_bytes(), true).await?;
    let (done, _) = timed(&db, &admin, Kind::Staff, &xlsx, false).await?;
    total += done;
    println!(
        "  {:<16} {n:>5} rows: dry run {:>6.0} ms (CSV {:.0} ms), import {:>6.0} ms",
        "staff (XLSX)",
        dry_xlsx * 1e3,
        dry_csv * 1e3,
        done * 1e3
    );
    println!("  the whole county imported in {total:.2} s ({} KB of XLSX for the staff)", xlsx.len() / 1024);
    db.conn.clone().close().await.ok();
    if backend == "postgres" {
        let server = Database::connect(format!("{pg}/postgres")).await?;
        server.execute_unprepared(&format!("DROP DATABASE IF EXISTS ms_bench_{id} WITH (FORCE)")).await?;
    } else if let Some(path) = url.strip_prefix("sqlite://").and_then(|s| s.split('?').next()) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.iter().position(|a| a == "--db").and_then(|i| args.get(i + 1)).map_or("both", String::as_str);
    let pg = std::env::var("MINSHENG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let backends: Vec<&str> = if db == "both" { vec!["sqlite", "postgres"] } else { vec![db] };
    println!(
        "bulk import: {TOWNSHIPS} townships, {} villages, {} grids, {} units, {STAFF} staff",
        TOWNSHIPS * VILLAGES_PER_TOWNSHIP,
        TOWNSHIPS * VILLAGES_PER_TOWNSHIP * GRIDS_PER_VILLAGE,
        TOWNSHIPS * (VILLAGES_PER_TOWNSHIP + 1) + DEPARTMENTS
    );
    for b in backends {
        run(b, &pg).await?;
    }
    Ok(())
}
