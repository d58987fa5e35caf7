//! The demo county: regions, units, categories, SLA policies, staff for every role and one card per
//! village. Seeding is skipped when the database already has regions, so running the demo again
//! reuses its data. Demo staff share the password `minsheng-demo`: never use this outside the demo.
use crate::auth::password::{self, HashParams};
use crate::db::Db;
use crate::domain::ids::CardCode;
use crate::domain::values::{CardStatus, HandlingLevel, RegionLevel, UnitKind};
use crate::repo;
use crate::repo::regions::{NewUnit, Region};
use crate::repo::staff::NewStaff;
use crate::services::cards::contacts_for;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

mod accountability;
mod orders;
mod past;
mod screen;

/// A few days of work in the demo county, written through the services (see `demo::orders`):
/// call once, right after the county is seeded.
pub use accountability::seed as seed_accountability;
pub use orders::seed as seed_orders;
pub use past::seed as seed_past;
pub use screen::hall_screen;

pub const DEMO_PASSWORD: &str = "minsheng-demo";

/// What the demo prints: logins and card links.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub seeded_now: bool,
    pub logins: Vec<(String, String, String)>,
    /// (village, code)
    pub cards: Vec<(String, String)>,
}

struct VillageSpec {
    name: &'static str,
    cadre: (&'static str, &'static str, &'static str, &'static str),
}

/// The grid worker (网格员) of each demo village's first micro-grid: (village, username, name, phone).
/// They appear on the village's card; they are not given orders in the demo (no unit).
const GRID_WORKERS: [(&str, &str, &str, &str); 6] = [
    ("李家庄村", "wg-lijiazhuang", "李晓燕", "13900000401"),
    ("王家湾村", "wg-wangjiawan", "王春生", "13900000402"),
    ("石桥村", "wg-shiqiao", "石永刚", "13900000403"),
    ("柳树沟村", "wg-liushugou", "柳桂芳", "13900000404"),
    ("杏花村", "wg-xinghua", "杏林", "13900000405"),
    ("河口村", "wg-hekou", "赵小河", "13900000406"),
];

struct TownshipSpec {
    name: &'static str,
    office: &'static str,
    cadre: (&'static str, &'static str, &'static str, &'static str),
    villages: [VillageSpec; 3],
}

const TOWNSHIPS: [TownshipSpec; 2] = [
    TownshipSpec {
        name: "东坝镇",
        office: "东坝镇人民政府",
        cadre: ("dongba", "马建国", "13900000201", "东坝镇包村干部"),
        villages: [
            VillageSpec {
                name: "李家庄村", cadre: ("lijiazhuang", "李长河", "13900000301", "村党支部书记")
            },
            VillageSpec { name: "王家湾村", cadre: ("wangjiawan", "王秀英", "13900000302", "村委会主任") },
            VillageSpec { name: "石桥村", cadre: ("shiqiao", "张德顺", "13900000303", "村党支部书记") },
        ],
    },
    TownshipSpec {
        name: "西河乡",
        office: "西河乡人民政府",
        cadre: ("xihe", "何玉兰", "13900000202", "西河乡包村干部"),
        villages: [
            VillageSpec { name: "柳树沟村", cadre: ("liushugou", "刘树林", "13900000304", "村委会主任") },
            VillageSpec { name: "杏花村", cadre: ("xinghua", "杜春花", "13900000305", "村党支部书记") },
            VillageSpec { name: "河口村", cadre: ("hekou", "赵河生", "13900000306", "村委会主任") },
        ],
    },
];

/// County departments: (name, cadre username, cadre name, phone, lead?).
const DEPARTMENTS: [(&str, &str, &str, &str, bool); 7] = [
    ("县民生服务中心", "minsheng", "钱立新", "13900000101", true),
    ("县水利局", "shuili", "孔水生", "13900000102", false),
    ("县交通运输局", "jiaotong", "路平安", "13900000103", false),
    ("县农业农村局", "nongye", "田丰收", "13900000104", false),
    ("县人力资源和社会保障局", "renshe", "任保障", "13900000105", false),
    ("县住房和城乡建设局", "zhujian", "朱安居", "13900000106", false),
    ("县自然资源局", "ziranziyuan", "林地宝", "13900000107", false),
];

/// (username, name, roles, phone)
const COUNTY_STAFF: [(&str, &str, &str, &str); 7] = [
    ("admin", "系统管理员", "admin", "13900000001"),
    ("operator", "刘敏", "operator", "13900000002"),
    ("dispatcher", "陈刚", "dispatcher", "13900000003"),
    ("caller", "赵丽", "caller", "13900000004"),
    ("leader", "孙伟", "leader", "13900000005"),
    ("inspector", "周洁", "inspector", "13900000006"),
    // The principal leader (主要领导): a second leader, so that four-party sign-off has four people.
    ("principal", "吴国强", "leader", "13900000007"),
];

async fn unit_with_cadre(
    db: &sea_orm::DatabaseTransaction,
    region: &Region,
    unit: (&str, HandlingLevel, UnitKind, bool),
    cadre: (&str, &str, &str, &str),
    hash: &str,
    now: DateTime<Utc>,
    out: &mut Summary,
) -> anyhow::Result<repo::regions::Unit> {
    let (name, level, kind, lead) = unit;
    // The county's units were there long before minsheng: a year, so every period of the demo's
    // history ranks them (units set up after a period began are not ranked in it).
    let u = repo::regions::create_unit(
        db,
        NewUnit { name, level, kind, region_id: region.id, is_lead: lead, phone: None },
        now - chrono::Duration::days(365),
    )
    .await?;
    let (username, person, phone, post) = cadre;
    repo::staff::create(
        db,
        NewStaff {
            username,
            name: person,
            password_hash: hash,
            roles: "cadre",
            region_id: region.id,
            unit_id: Some(u.id),
            phone: Some(phone),
            post: Some(post),
            must_change_password: false,
        },
        now,
    )
    .await?;
    out.logins.push((username.into(), format!("承办干部 · {name}"), "cadre".into()));
    Ok(u)
}

/// 路平安 of 县交通运输局 is away on training this week; his colleague 车顺达 stands in (new orders
/// naming him, their SMS and his line on any card go to the deputy while the leave runs).
async fn on_leave(
    db: &sea_orm::DatabaseTransaction,
    hash: &str,
    now: DateTime<Utc>,
    out: &mut Summary,
) -> anyhow::Result<()> {
    let away = repo::staff::by_username(db, "jiaotong").await?.ok_or_else(|| anyhow::anyhow!("jiaotong missing"))?;
    let admin = repo::staff::by_username(db, "admin").await?.ok_or_else(|| anyhow::anyhow!("admin missing"))?;
    let deputy = NewStaff {
        username: "jiaotong2",
        name: "车顺达",
        password_hash: hash,
        roles: "cadre",
        region_id: away.region_id,
        unit_id: away.unit_id,
        phone: Some("13900000108"),
        post: Some("科员"),
        must_change_password: false,
    };
    let deputy = repo::staff::create(db, deputy, now).await?;
    out.logins.push(("jiaotong2".into(), "承办干部 · 县交通运输局（代路平安）".into(), "cadre".into()));
    let leave = repo::leaves::NewLeave {
        staff_id: away.id,
        deputy_id: deputy.id,
        from: now - chrono::Duration::days(1),
        to: now + chrono::Duration::days(6),
        reason: "县委党校培训",
        created_by: admin.id,
    };
    repo::leaves::create(db, leave, now).await?;
    Ok(())
}

/// Seeds the demo county unless the database already has one; returns what to print.
pub async fn seed(
    db: &Db,
    params: HashParams,
    hotline: &str,
    county_name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Summary> {
    if repo::regions::count(&db.conn).await? > 0 {
        return existing(db).await;
    }
    let hash = password::hash(SecretString::from(DEMO_PASSWORD), params).await?;
    let mut out = Summary { seeded_now: true, ..Default::default() };
    let tx = db.begin().await?;
    let county = repo::regions::create(&*tx, None, RegionLevel::County, county_name, Some(hotline), now).await?;
    for (username, name, roles, phone) in COUNTY_STAFF {
        repo::staff::create(
            &*tx,
            NewStaff {
                username,
                name,
                password_hash: &hash,
                roles,
                region_id: county.id,
                unit_id: None,
                phone: Some(phone),
                post: None,
                must_change_password: false,
            },
            now,
        )
        .await?;
        out.logins.push((username.into(), name.into(), roles.into()));
    }
    for (name, username, person, phone, lead) in DEPARTMENTS {
        let kind = if lead { UnitKind::Center } else { UnitKind::Department };
        unit_with_cadre(
            &tx,
            &county,
            (name, HandlingLevel::County, kind, lead),
            (username, person, phone, "科室负责人"),
            &hash,
            now,
            &mut out,
        )
        .await?;
    }
    on_leave(&tx, &hash, now, &mut out).await?;
    let mut villages = vec![];
    for t in &TOWNSHIPS {
        let township = repo::regions::create(&*tx, Some(&county), RegionLevel::Township, t.name, None, now).await?;
        unit_with_cadre(
            &tx,
            &township,
            (t.office, HandlingLevel::Township, UnitKind::Office, true),
            t.cadre,
            &hash,
            now,
            &mut out,
        )
        .await?;
        for v in &t.villages {
            let village = repo::regions::create(&*tx, Some(&township), RegionLevel::Village, v.name, None, now).await?;
            let committee = format!("{}村民委员会", v.name);
            unit_with_cadre(
                &tx,
                &village,
                (&committee, HandlingLevel::Village, UnitKind::Committee, true),
                v.cadre,
                &hash,
                now,
                &mut out,
            )
            .await?;
            for (i, grid) in ["第一网格", "第二网格"].into_iter().enumerate() {
                let grid = repo::regions::create(&*tx, Some(&village), RegionLevel::Grid, grid, None, now).await?;
                let worker = GRID_WORKERS.iter().find(|w| w.0 == v.name && i == 0);
                if let Some((_, username, name, phone)) = worker {
                    let s = NewStaff {
                        username,
                        name,
                        password_hash: &hash,
                        roles: "cadre",
                        region_id: grid.id,
                        unit_id: None,
                        phone: Some(phone),
                        post: Some("网格员"),
                        must_change_password: false,
                    };
                    repo::staff::create(&*tx, s, now).await?;
                }
            }
            villages.push(village);
        }
    }
    // The standard catalogue (its departments are the units made above), with its policies: complex
    // matters get longer result deadlines (15–90 days); land disputes need four-party sign-off.
    crate::services::catalogue::load(&*tx, crate::services::catalogue::STANDARD).await?;
    seed_kind_windows(&*tx).await?;
    for village in &villages {
        let contacts = contacts_for(&*tx, village).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let code = CardCode::generate();
        repo::cards::insert(
            &*tx,
            repo::cards::NewCard {
                code: code.as_str(),
                region_id: village.id,
                version: 1,
                contacts_json: serde_json::to_string(&contacts)?,
                hotline,
                issued_by: None,
            },
            now,
        )
        .await?;
        out.cards.push((village.name.clone(), code.as_str().to_string()));
    }
    tx.commit().await?;
    Ok(out)
}

async fn existing(db: &Db) -> anyhow::Result<Summary> {
    let mut out = Summary::default();
    let page = repo::Page { page: 1, per_page: 100 };
    let (rows, _) = repo::cards::list(&db.conn, "/", Some(CardStatus::Active), page).await?;
    for (card, region) in rows {
        out.cards.push((region.map(|r| r.name).unwrap_or_default(), card.code));
    }
    let (staff, _) = repo::staff::list(&db.conn, "/", None, None, page).await?;
    for s in staff {
        out.logins.push((s.username, s.name, crate::domain::roles::join_roles(&s.roles)));
    }
    Ok(out)
}

/// SLA windows by kind (issue 20 point 2), on the working-day clock: a consultation (咨询) is
/// answered within one working day, a complaint (投诉) within 15 working days, and a complaint
/// about a land dispute (土地纠纷) within 60 working days with four-party sign-off. Other kinds
/// (求助 included) keep the county default.
async fn seed_kind_windows<C: sea_orm::ConnectionTrait>(db: &C) -> anyhow::Result<()> {
    use crate::domain::sla::{ClockKind, Policy};
    use crate::domain::values::{Kind, Priority};
    const DAY: i64 = 24 * 60;
    let base = Policy { clock: ClockKind::Workdays, ..Policy::default_normal() };
    let consult =
        Policy { respond_minutes: 60, progress_minutes: 240, resolve_minutes: DAY, visit_minutes: DAY, ..base.clone() };
    let complaint = Policy { resolve_minutes: 15 * DAY, ..base.clone() };
    let land = Policy { resolve_minutes: 60 * DAY, signoff_required: true, ..base };
    for (name, category, kind, p) in [
        ("默认·咨询", None, Kind::Consultation, &consult),
        ("默认·投诉", None, Kind::Complaint, &complaint),
        ("土地纠纷·投诉", Some("land"), Kind::Complaint, &land),
    ] {
        repo::catalog::insert_policy(db, name, category, Some(kind), Priority::Normal, p).await?;
    }
    Ok(())
}
