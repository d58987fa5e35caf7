//! Writes sample cards (SVG, PNG, PDF) into a directory, to look at a design change without a
//! database: `cargo run --example card_preview -- /tmp/cards`.
use minsheng::cards::{self, CardContent, CardSize, Contact};

fn contact(post: &str, name: &str, phone: &str) -> Contact {
    Contact { post: post.into(), name: name.into(), phone: phone.into() }
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "card-preview".into());
    std::fs::create_dir_all(&dir)?;
    let full = CardContent {
        code: "K7MQ4XRH2P".into(),
        url: "https://minsheng.qinghe.gov.cn/c/K7MQ4XRH2P".into(),
        version: 2,
        village: "李家庄村".into(),
        township: "东坝镇".into(),
        county: "清河县".into(),
        contacts: vec![
            contact("村党支部书记", "李长河", "13900000301"),
            contact("村委会主任", "王秀英", "13900000302"),
            contact("驻村第一书记", "欧阳建国", "13900000303"),
            contact("网格员", "张堃", "13900000304"),
            contact("乡镇包村领导", "马建国", "0310-5551234"),
        ],
        hotline: "12345".into(),
        warning: None,
    };
    let short = CardContent {
        village: "新华街道前进社区第一居民小组".into(),
        contacts: full.contacts[..2].to_vec(),
        ..full.clone()
    };
    // A test print from a demo install: the QR code points at this machine.
    let test_print = CardContent {
        url: "http://127.0.0.1:8080/c/K7MQ4XRH2P".into(),
        warning: minsheng::domain::card::print_warning("http://127.0.0.1:8080"),
        ..full.clone()
    };
    for (name, card) in [("full", &full), ("short", &short), ("test-print", &test_print)] {
        for size in [CardSize::Wallet, CardSize::Poster] {
            let svg = cards::svg(card, size)?;
            std::fs::write(format!("{dir}/{name}-{}.svg", size.as_str()), &svg)?;
            std::fs::write(
                format!("{dir}/{name}-{}.png", size.as_str()),
                cards::png::render(&svg, size.default_dpi())?,
            )?;
        }
    }
    let sheet: Vec<CardContent> = (0..13).map(|i| if i % 3 == 1 { short.clone() } else { full.clone() }).collect();
    std::fs::write(
        format!("{dir}/sheet-wallet.pdf"),
        cards::pdf::render(&sheet, CardSize::Wallet, "清河县东坝镇 联系卡")?,
    )?;
    std::fs::write(
        format!("{dir}/sheet-poster.pdf"),
        cards::pdf::render(&sheet[..2], CardSize::Poster, "清河县 联系卡")?,
    )?;
    println!("wrote {dir}");
    Ok(())
}
