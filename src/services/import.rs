//! Bulk import of regions, units and staff from the spreadsheets a county already has (XLSX, or CSV
//! in UTF-8 or GB18030). Columns are matched by their fixed Chinese header names in any order; every
//! row is checked against the database and the rows before it, and every error is reported as
//! `{row, column, message}` (row numbers as the spreadsheet shows them: the header is row 1). A dry
//! run writes nothing; an import writes every row in one transaction or, with any error, nothing.
//! Imported staff have no usable password: an admin gives each one a temporary password
//! (`reset-password`) when they start.
use crate::auth::StaffUser;
use crate::domain::roles::Role;
use crate::domain::values::{HandlingLevel, RegionLevel, UnitKind};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::regions::{NewUnit, Region, Unit};
use crate::repo::staff::NewStaff;
use crate::services::directory::{self, Change};
use crate::sheet::{self, Table};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The password hash of an imported account: not a valid hash, so no password verifies against it.
pub const NO_PASSWORD: &str = "!imported";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Regions,
    Units,
    Staff,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "regions" => Some(Kind::Regions),
            "units" => Some(Kind::Units),
            "staff" => Some(Kind::Staff),
            _ => None,
        }
    }

    /// (required columns, optional columns)
    pub fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Kind::Regions => (&["名称", "层级", "上级"], &["热线"]),
            Kind::Units => (&["单位名称", "所属区域", "层级", "类型", "电话"], &["牵头单位"]),
            Kind::Staff => (&["用户名", "姓名", "手机号", "角色", "单位"], &["所属区域", "职务"]),
        }
    }

    fn example(self) -> &'static [&'static str] {
        match self {
            Kind::Regions => &["李家庄村", "村", "东坝镇", ""],
            Kind::Units => &["李家庄村村民委员会", "李家庄村", "村级", "村民委员会", "0871-1234567", "是"],
            Kind::Staff => {
                &["lijiazhuang", "李长河", "13900000301", "承办干部", "李家庄村村民委员会", "", "村党支部书记"]
            }
        }
    }
}

/// The template of a kind: its headers (required, then optional) and one example row.
pub fn template(kind: Kind) -> anyhow::Result<Vec<u8>> {
    let (required, optional) = kind.columns();
    let header: Vec<&str> = required.iter().chain(optional).copied().collect();
    sheet::template(&header, kind.example())
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub kind: &'static str,
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Rows written (0 on a dry run or when any row has an error).
    pub created: usize,
    pub errors: Vec<RowError>,
}

/// A region known to the import: in the database, or planned by an earlier row of the file.
#[derive(Clone, Debug)]
struct Known {
    name: String,
    level: RegionLevel,
    parent: Option<usize>,
    /// The stored region (None: planned by row `row`).
    stored: Option<Region>,
}

struct Regions {
    all: Vec<Known>,
}

impl Regions {
    fn new(stored: Vec<Region>) -> Regions {
        let index: HashMap<i64, usize> = stored.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let all = stored
            .iter()
            .map(|r| Known {
                name: r.name.clone(),
                level: r.level,
                parent: r.parent_id.and_then(|p| index.get(&p).copied()),
                stored: Some(r.clone()),
            })
            .collect();
        Regions { all }
    }

    /// A region by name (`村` or `乡镇/村` when the name alone is not unique), of one of `levels`.
    fn find(&self, spec: &str, levels: &[RegionLevel]) -> Result<usize, String> {
        let parts: Vec<&str> = spec.split('/').map(str::trim).filter(|p| !p.is_empty()).collect();
        let Some((name, above)) = parts.split_last() else { return Err("请填写区域名称".into()) };
        let hits: Vec<usize> = (0..self.all.len())
            .filter(|&i| self.all[i].name == *name && levels.contains(&self.all[i].level))
            .filter(|&i| match above.last() {
                Some(p) => self.all[i].parent.is_some_and(|q| self.all[q].name == *p),
                None => true,
            })
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("找不到区域“{spec}”")),
            _ => Err(format!("区域“{spec}”不唯一，请写成“上级/{name}”")),
        }
    }
}

fn level_of(raw: &str) -> Option<RegionLevel> {
    let named = match raw {
        "乡镇" | "乡" | "镇" => Some(RegionLevel::Township),
        "村" | "社区" => Some(RegionLevel::Village),
        "网格" | "微网格" => Some(RegionLevel::Grid),
        _ => None,
    };
    RegionLevel::parse(raw).or(named)
}

fn handling_level_of(raw: &str) -> Option<HandlingLevel> {
    HandlingLevel::parse(raw).or_else(|| {
        HandlingLevel::ALL.iter().copied().find(|l| l.label() == raw || l.label().trim_end_matches('级') == raw)
    })
}

fn unit_kind_of(raw: &str) -> Option<UnitKind> {
    UnitKind::parse(raw).or_else(|| UnitKind::ALL.iter().copied().find(|k| k.label() == raw))
}

fn yes(raw: &str) -> bool {
    matches!(raw, "是" | "Y" | "y" | "yes" | "true" | "1")
}

/// A row's cells by column name.
struct Row<'a> {
    number: usize,
    cells: &'a [String],
    columns: &'a HashMap<&'static str, usize>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.columns.get(column).and_then(|&i| self.cells.get(i)).map(String::as_str).unwrap_or("")
    }
}

struct Errors(Vec<RowError>);

impl Errors {
    fn add(&mut self, row: usize, column: &str, message: impl Into<String>) {
        self.0.push(RowError { row, column: column.to_string(), message: message.into() });
    }

    fn api(&mut self, row: usize, column: &str, e: ApiError) {
        self.add(row, column, e.message);
    }
}

/// What the rows will write, checked.
enum Plan {
    Regions(Vec<(usize, usize)>), // (row, index in Regions.all)
    Units(Vec<NewUnitRow>),
    Staff(Vec<NewStaffRow>),
}

struct NewUnitRow {
    name: String,
    region: Region,
    level: HandlingLevel,
    kind: UnitKind,
    lead: bool,
    phone: Option<String>,
}

struct NewStaffRow {
    username: String,
    name: String,
    phone: Option<String>,
    roles: Vec<Role>,
    region: Region,
    unit: Option<i64>,
    post: Option<String>,
}

/// Reads, checks and (unless `dry_run` or an error) writes a file, as `user` (an admin; the rows must
/// lie in their region). `progress(done, total)` is called while rows are written.
pub async fn run(
    database: &crate::db::Db,
    now: chrono::DateTime<chrono::Utc>,
    user: &StaffUser,
    kind: Kind,
    bytes: &[u8],
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> ApiResult<Report> {
    if !user.is_admin() {
        return Err(ApiError::forbidden("仅管理员可导入区域、单位和人员"));
    }
    let table = sheet::read(bytes).map_err(|e| ApiError::validation("file", format!("{e:#}")))?;
    let name = match kind {
        Kind::Regions => "regions",
        Kind::Units => "units",
        Kind::Staff => "staff",
    };
    let mut report = Report { kind: name, dry_run, rows: table.rows.len(), created: 0, errors: vec![] };
    let db = &database.conn;
    let mut regions = Regions::new(repo::regions::all_under(db, &user.scope.region_path).await?);
    let (plan, errors) = check(db, kind, &table, &mut regions).await?;
    report.errors = errors;
    if dry_run || !report.errors.is_empty() {
        return Ok(report);
    }
    let tx = database.begin().await?;
    report.created = write(&*tx, now, user, plan, &mut regions, &mut progress).await?;
    tx.commit().await?;
    tracing::info!(kind = name, rows = report.created, by = user.id, "import written");
    Ok(report)
}

async fn check<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    table: &Table,
    regions: &mut Regions,
) -> ApiResult<(Plan, Vec<RowError>)> {
    let mut errors = Errors(vec![]);
    let (required, optional) = kind.columns();
    let mut columns = HashMap::new();
    for name in required.iter().chain(optional) {
        match table.header.iter().position(|h| h.trim() == *name) {
            Some(i) => {
                columns.insert(*name, i);
            }
            None if required.contains(name) => errors.add(1, name, format!("缺少“{name}”列")),
            None => {}
        }
    }
    if !errors.0.is_empty() {
        return Ok((Plan::Regions(vec![]), errors.0));
    }
    let rows = table.rows.iter().enumerate().map(|(i, cells)| Row { number: i + 2, cells, columns: &columns });
    let plan = match kind {
        Kind::Regions => {
            let mut planned = vec![];
            for row in rows {
                let n = row.number;
                let name = row.get("名称");
                let level = level_of(row.get("层级"));
                if name.is_empty() || name.chars().count() > 30 {
                    errors.add(n, "名称", "区域名称须为1到30个字");
                }
                let Some(level) = level.filter(|l| *l != RegionLevel::County) else {
                    errors.add(n, "层级", "层级应为 乡镇、村 或 网格");
                    continue;
                };
                let above = match level {
                    RegionLevel::Township => RegionLevel::County,
                    RegionLevel::Village => RegionLevel::Township,
                    _ => RegionLevel::Village,
                };
                let parent = match regions.find(row.get("上级"), &[above]) {
                    Ok(p) => p,
                    Err(m) => {
                        errors.add(n, "上级", format!("{m}（{}的上级应为{}）", level.label(), above.label()));
                        continue;
                    }
                };
                if regions.all.iter().any(|r| r.parent == Some(parent) && r.name == name) {
                    errors.add(n, "名称", format!("“{}”下已有“{name}”", regions.all[parent].name));
                    continue;
                }
                regions.all.push(Known { name: name.to_string(), level, parent: Some(parent), stored: None });
                planned.push((n, regions.all.len() - 1));
            }
            Plan::Regions(planned)
        }
        Kind::Units => {
            let stored: Vec<i64> = regions.all.iter().filter_map(|r| r.stored.as_ref().map(|s| s.id)).collect();
            let mut taken: HashSet<(i64, String)> =
                repo::regions::units_in(db, stored).await?.into_iter().map(|u| (u.region_id, u.name)).collect();
            let mut planned = vec![];
            for row in rows {
                let n = row.number;
                let name = row.get("单位名称").to_string();
                if name.is_empty() || name.chars().count() > 50 {
                    errors.add(n, "单位名称", "单位名称须为1到50个字");
                }
                let region = regions.find(row.get("所属区域"), RegionLevel::ALL).map(|i| regions.all[i].stored.clone());
                let level = handling_level_of(row.get("层级"));
                let kind = unit_kind_of(row.get("类型"));
                let phone = directory::telephone(Some(row.get("电话").to_string()), "phone");
                if level.is_none() {
                    errors.add(n, "层级", "层级应为 村级、乡镇级 或 县级");
                }
                if kind.is_none() {
                    let kinds: Vec<&str> = UnitKind::ALL.iter().map(|k| k.label()).collect();
                    errors.add(n, "类型", format!("类型应为 {}", kinds.join("、")));
                }
                match (&phone, kind) {
                    (Err(e), _) => errors.add(n, "电话", e.message.clone()),
                    (Ok(p), Some(k)) => {
                        if let Err(e) = directory::outside_needs_phone(k, p.as_deref()) {
                            errors.add(n, "电话", e.message);
                        }
                    }
                    _ => {}
                }
                let region = match region {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(m) => {
                        errors.add(n, "所属区域", m);
                        continue;
                    }
                };
                if !taken.insert((region.id, name.clone())) {
                    errors.add(n, "单位名称", format!("“{}”已有名为“{name}”的单位", region.name));
                    continue;
                }
                if let (Some(level), Some(kind), Ok(phone)) = (level, kind, phone) {
                    planned.push(NewUnitRow { name, region, level, kind, lead: yes(row.get("牵头单位")), phone });
                }
            }
            Plan::Units(planned)
        }
        Kind::Staff => {
            let stored: Vec<i64> = regions.all.iter().filter_map(|r| r.stored.as_ref().map(|s| s.id)).collect();
            let units = repo::regions::units_in(db, stored).await?;
            let mut usernames = repo::staff::usernames(db).await?;
            let mut planned = vec![];
            for row in rows {
                let n = row.number;
                let username = directory::username(row.get("用户名"));
                let name = row.get("姓名");
                if name.is_empty() || name.chars().count() > 30 {
                    errors.add(n, "姓名", "姓名须为1到30个字");
                }
                let phone = match row.get("手机号") {
                    "" => {
                        errors.add(n, "手机号", "请填写手机号");
                        None
                    }
                    p => directory::mobile(Some(p.to_string()), "phone")
                        .map_err(|e| errors.api(n, "手机号", e))
                        .ok()
                        .flatten(),
                };
                let split: Vec<String> = row
                    .get("角色")
                    .split([',', '，', '、', ';', '；', '/', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let roles = directory::roles(&split).map_err(|e| errors.api(n, "角色", e)).ok();
                let region_spec = row.get("所属区域");
                let region = match region_spec {
                    "" => None,
                    spec => match regions.find(spec, RegionLevel::ALL) {
                        Ok(i) => regions.all[i].stored.clone(),
                        Err(m) => {
                            errors.add(n, "所属区域", m);
                            continue;
                        }
                    },
                };
                let unit = match row.get("单位") {
                    "" => None,
                    u => {
                        let hits: Vec<&Unit> = units
                            .iter()
                            .filter(|x| x.name == u && x.active)
                            .filter(|x| region.as_ref().is_none_or(|r| units_region_matches(x, r)))
                            .collect();
                        match hits.as_slice() {
                            [one] if one.kind == UnitKind::Outside => {
                                errors.add(n, "单位", format!("“{u}”是公共服务企业，不开设控制台账号"));
                                continue;
                            }
                            [one] => Some((*one).clone()),
                            [] => {
                                errors.add(n, "单位", format!("找不到单位“{u}”"));
                                continue;
                            }
                            _ => {
                                errors.add(n, "单位", format!("单位“{u}”不唯一，请在“所属区域”列写明其区域"));
                                continue;
                            }
                        }
                    }
                };
                let region = match (region, &unit) {
                    (Some(r), _) => r,
                    (None, Some(u)) => {
                        match regions.all.iter().find_map(|k| k.stored.clone().filter(|s| s.id == u.region_id)) {
                            Some(r) => r,
                            None => continue,
                        }
                    }
                    (None, None) => {
                        errors.add(n, "所属区域", "没有单位的人员须填写所属区域");
                        continue;
                    }
                };
                let Some(roles) = roles else { continue };
                if roles.contains(&Role::Cadre) && unit.is_none() {
                    errors.add(n, "单位", "承办干部须属于一个承办单位");
                    continue;
                }
                let username = match username {
                    Ok(u) if usernames.insert(u.clone()) => u,
                    Ok(u) => {
                        errors.add(n, "用户名", format!("用户名“{u}”已被使用"));
                        continue;
                    }
                    Err(e) => {
                        errors.api(n, "用户名", e);
                        continue;
                    }
                };
                let post = Some(row.get("职务").to_string()).filter(|p| !p.is_empty());
                if post.as_ref().is_some_and(|p| p.chars().count() > 30) {
                    errors.add(n, "职务", "职务不超过30个字");
                    continue;
                }
                planned.push(NewStaffRow {
                    username,
                    name: name.to_string(),
                    phone,
                    roles,
                    region,
                    unit: unit.map(|u| u.id),
                    post,
                });
            }
            Plan::Staff(planned)
        }
    };
    let mut errors = errors.0;
    errors.sort_by_key(|e| e.row);
    Ok((plan, errors))
}

/// A unit given by name with a region column: the unit's own region is that region.
fn units_region_matches(u: &Unit, r: &Region) -> bool {
    u.region_id == r.id
}

async fn write<C: ConnectionTrait>(
    db: &C,
    now: chrono::DateTime<chrono::Utc>,
    user: &StaffUser,
    plan: Plan,
    regions: &mut Regions,
    progress: &mut impl FnMut(usize, usize),
) -> ApiResult<usize> {
    let audit = |entity: &'static str, id: i64, path: String, after: serde_json::Value| async move {
        let change = Change {
            action: "create",
            entity,
            entity_id: id.to_string(),
            region_path: &path,
            before: None,
            after: Some(after),
        };
        directory::audit(db, user, now, change).await
    };
    let done = match plan {
        Plan::Regions(rows) => {
            let total = rows.len();
            for (k, (_, i)) in rows.into_iter().enumerate() {
                let known = regions.all[i].clone();
                let parent = known.parent.and_then(|p| regions.all[p].stored.clone()).ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("import: the parent of {} was not written", known.name))
                })?;
                let r = repo::regions::create(db, Some(&parent), known.level, &known.name, None, now).await?;
                audit("region", r.id, r.path.clone(), directory::region_json(&r)).await?;
                regions.all[i].stored = Some(r);
                progress(k + 1, total);
            }
            total
        }
        Plan::Units(rows) => {
            let total = rows.len();
            for (k, u) in rows.into_iter().enumerate() {
                let new = NewUnit {
                    name: &u.name,
                    level: u.level,
                    kind: u.kind,
                    region_id: u.region.id,
                    is_lead: u.lead,
                    phone: u.phone.as_deref(),
                };
                let unit = repo::regions::create_unit(db, new, now).await?;
                audit("unit", unit.id, u.region.path.clone(), directory::unit_json(&unit)).await?;
                progress(k + 1, total);
            }
            total
        }
        Plan::Staff(rows) => {
            let total = rows.len();
            for (k, s) in rows.into_iter().enumerate() {
                let roles = crate::domain::roles::join_roles(&s.roles);
                let new = NewStaff {
                    username: &s.username,
                    name: &s.name,
                    password_hash: NO_PASSWORD,
                    roles: &roles,
                    region_id: s.region.id,
                    unit_id: s.unit,
                    phone: s.phone.as_deref(),
                    post: s.post.as_deref(),
                    must_change_password: true,
                };
                let created = repo::staff::create(db, new, now).await?;
                audit("staff", created.id, s.region.path.clone(), directory::staff_audit_json(&created)).await?;
                progress(k + 1, total);
            }
            total
        }
    };
    Ok(done)
}
