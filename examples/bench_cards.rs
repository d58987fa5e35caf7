//! Card rendering benchmark: `cargo run --release --example bench_cards`.
//! Prints cards rendered per second as SVG, PNG and PDF, then the time and size of the region PDF of
//! a county of 300 villages through the real service (SQLite in a temporary file, the same code path
//! as `GET /api/v1/regions/{id}/cards.pdf`). Figures are recorded in bench/cards.md.
use minsheng::auth::StaffUser;
use minsheng::cards::{self, CardContent, CardSize, Contact};
use minsheng::configuration::{AppEnvironment, load};
use minsheng::db::Db;
use minsheng::domain::ids::CardCode;
use minsheng::domain::values::RegionLevel;
use minsheng::repo;
use minsheng::services::card_render;
use minsheng::startup::build_state;
use secrecy::SecretString;
use std::time::Instant;

const SURNAMES: &str = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文";
const GIVEN: &str = "建国秀英德顺树林春花河生长玉兰立新水平安丰收保居地宝志强明华丽娟军杰涛超勇艳敏静磊洋刚桂英平凤霞红梅海燕云飞鹏辉俊峰晓东学文兵亮";
const PLACES: &str = "家庄家湾家沟家营家堡家寨家坪家岭家峪家店家屯家集家洼家坡家窑";
const POSTS: [&str; 5] = ["村党支部书记", "村委会主任", "驻村第一书记", "网格员", "乡镇包村领导"];

/// A small deterministic generator, so every run prints the same cards.
struct Lcg(u64);

impl Lcg {
    fn pick(&mut self, s: &str, n: usize) -> String {
        let chars: Vec<char> = s.chars().collect();
        (0..n)
            .map(|_| {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                chars[(self.0 >> 33) as usize % chars.len()]
            })
            .collect()
    }

    fn phone(&mut self) -> String {
        format!("139{}", self.pick("0123456789", 8))
    }
}

fn village_name(rng: &mut Lcg, i: usize) -> String {
    let place: Vec<char> = PLACES.chars().collect();
    let k = (i * 2) % place.len();
    format!("{}{}{}村", rng.pick(SURNAMES, 1), place[k], place[k + 1])
}

fn contacts(rng: &mut Lcg) -> Vec<Contact> {
    POSTS
        .iter()
        .take(4)
        .map(|post| Contact {
            post: post.to_string(),
            name: format!("{}{}", rng.pick(SURNAMES, 1), rng.pick(GIVEN, 2)),
            phone: rng.phone(),
        })
        .collect()
}

fn county_cards(n: usize) -> Vec<CardContent> {
    let mut rng = Lcg(5);
    (0..n)
        .map(|i| {
            let code = CardCode::generate().as_str().to_string();
            CardContent {
                url: format!("https://minsheng.qinghe.gov.cn/c/{code}"),
                code,
                version: 1,
                village: village_name(&mut rng, i),
                township: format!("{}镇", rng.pick(SURNAMES, 2)),
                county: "清河县".into(),
                contacts: contacts(&mut rng),
                hotline: "12345".into(),
                warning: None,
            }
        })
        .collect()
}

fn rate(what: &str, n: usize, start: Instant, bytes: usize) {
    let s = start.elapsed().as_secs_f64();
    println!(
        "| {what:<34} | {n:>5} | {:>7.3} s | {:>9.1} | {:>8.1} KiB |",
        s,
        n as f64 / s,
        bytes as f64 / n as f64 / 1024.0
    );
}

fn render_rates(cards: &[CardContent]) -> anyhow::Result<()> {
    println!("| rendering (one thread)             | cards |      time | cards / s |  size / card |");
    println!("|------------------------------------|-------|-----------|-----------|--------------|");
    for size in [CardSize::Wallet, CardSize::Poster] {
        let t = Instant::now();
        let mut bytes = 0;
        for c in cards {
            bytes += cards::svg(c, size)?.len();
        }
        rate(&format!("SVG {}", size.as_str()), cards.len(), t, bytes);
    }
    for (size, dpi, n) in [(CardSize::Wallet, 300, 60), (CardSize::Poster, 150, 20)] {
        let t = Instant::now();
        let mut bytes = 0;
        for c in &cards[..n] {
            bytes += cards::png::render(&cards::svg(c, size)?, dpi)?.len();
        }
        rate(&format!("PNG {} {dpi} dpi", size.as_str()), n, t, bytes);
    }
    for size in [CardSize::Wallet, CardSize::Poster] {
        let t = Instant::now();
        let pdf = cards::pdf::render(cards, size, "清河县 联系卡")?;
        rate(&format!("PDF {} (one sheet of all)", size.as_str()), cards.len(), t, pdf.len());
    }
    Ok(())
}

/// A county of `n` villages (10 townships) with one active card each, in a fresh SQLite file.
async fn seeded_county(n: usize) -> anyhow::Result<(minsheng::state::AppState, i64, StaffUser)> {
    let dir = std::env::temp_dir().join("minsheng-bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{}.sqlite", uuid::Uuid::new_v4().simple()));
    let mut settings = load(AppEnvironment::Local)?;
    settings.database.url = SecretString::from(format!("sqlite://{}?mode=rwc", file.display()));
    settings.application.public_url = "https://minsheng.qinghe.gov.cn".into();
    settings.auth.argon2_memory_kib = 1024;
    settings.auth.argon2_iterations = 1;
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 5).await?;
    db.migrate().await?;
    let now = chrono::Utc::now();
    let mut rng = Lcg(7);
    let tx = db.begin().await?;
    let county = repo::regions::create(&*tx, None, RegionLevel::County, "清河县", Some("12345"), now).await?;
    for t in 0..10 {
        let township =
            repo::regions::create(&*tx, Some(&county), RegionLevel::Township, &format!("第{}镇", t + 1), None, now)
                .await?;
        for v in 0..n / 10 {
            let name = village_name(&mut rng, t * 100 + v);
            let village = repo::regions::create(&*tx, Some(&township), RegionLevel::Village, &name, None, now).await?;
            let code = CardCode::generate();
            let new = repo::cards::NewCard {
                code: code.as_str(),
                region_id: village.id,
                version: 1,
                contacts_json: serde_json::to_string(&contacts(&mut rng))?,
                hotline: "12345",
                issued_by: None,
            };
            repo::cards::insert(&*tx, new, now).await?;
        }
    }
    let staff = repo::staff::NewStaff {
        username: "bench-admin",
        name: "管理员",
        password_hash: "-",
        roles: "admin",
        region_id: county.id,
        unit_id: None,
        phone: None,
        post: None,
        must_change_password: false,
    };
    let admin = repo::staff::create(&*tx, staff, now).await?;
    tx.commit().await?;
    let user = StaffUser::from_record(&admin, &county.path);
    Ok((build_state(settings, db).await?, county.id, user))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "minsheng card benchmark ({} cores)\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    render_rates(&county_cards(300))?;

    println!("\n| GET /regions/{{county}}/cards.pdf, 300 villages |   time | pages |     size |");
    println!("|------------------------------------------------|--------|-------|----------|");
    let (state, county, admin) = seeded_county(300).await?;
    for size in [CardSize::Wallet, CardSize::Poster] {
        // First call warms the font and the database pages; the second is the one reported.
        card_render::region_pdf(&state, &admin, county, size, 1).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = Instant::now();
        let pdf = card_render::region_pdf(&state, &admin, county, size, 1).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let (cols, rows) = minsheng::cards::pdf::grid(size);
        let pages = 300usize.div_ceil(cols * rows);
        println!(
            "| {:<46} | {:.2} s | {:>5} | {:>4.0} KiB |",
            format!("{} ({})", size.as_str(), size.label()),
            t.elapsed().as_secs_f64(),
            pages,
            pdf.bytes.len() as f64 / 1024.0
        );
    }
    Ok(())
}
