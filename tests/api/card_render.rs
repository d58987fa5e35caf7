//! Card downloads checked with independent tools, as a print shop or a phone would see them:
//! `zbarimg` (zbar-tools) decodes the QR codes, poppler's `pdftoppm` / `pdftotext` / `pdffonts` /
//! `pdfinfo` read the PDF. `bash .ci/run` installs both packages; a missing tool fails the test.
use crate::helpers::{TestApp, error_of, spawn_app, tool};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn scratch(ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("minsheng-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}.{ext}", uuid::Uuid::new_v4().simple()))
}

/// Every QR code zbar finds in an image, as text.
fn decode_qr(png: &std::path::Path) -> Vec<String> {
    let out = tool("zbarimg", &["-q", "--raw", png.to_str().unwrap()]);
    out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}

async fn download(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r
}

/// `pdfinfo`'s page count.
fn pdf_pages(path: &str) -> usize {
    let info = tool("pdfinfo", &[path]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).expect("Pages line");
    line["Pages:".len()..].trim().parse().unwrap()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

#[tokio::test]
async fn card_png_in_both_sizes_decodes_to_the_card_url() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("李家庄村");
    for (query, dims) in [("", (1011, 638)), ("?size=poster", (1240, 1754)), ("?size=wallet&dpi=200", (674, 425))] {
        let r = download(&app, &format!("/api/v1/cards/{code}/card.png{query}"), &admin).await;
        assert_eq!(r.headers()["content-type"], "image/png");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.contains(&format!("filename=\"card-{code}-")), "{disposition}");
        // The Chinese name, percent-encoded: 李家庄村联系卡-…
        assert!(disposition.contains("filename*=UTF-8''%E6%9D%8E%E5%AE%B6%E5%BA%84%E6%9D%91"), "{disposition}");
        let bytes = r.bytes().await.unwrap();
        assert_eq!(png_size(&bytes), dims, "{query}");
        let file = scratch("png");
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(decode_qr(&file), vec![format!("http://minsheng.test/c/{code}")], "{query}");
    }
}

#[tokio::test]
async fn card_svg_keeps_its_chinese_as_text() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("王家湾村");
    for size in ["wallet", "poster"] {
        let r = download(&app, &format!("/api/v1/cards/{code}/card.svg?size={size}"), &admin).await;
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
        let svg = r.text().await.unwrap();
        for text in ["王家湾村</text>", "王秀英</text>", "13900000302</text>", "马建国</text>", "12345</text>"]
        {
            assert!(svg.contains(text), "{size}: {text}");
        }
        assert!(svg.contains("清河县 东坝镇"), "{size}");
        assert!(svg.contains(&format!("{code}</text>")), "{size}: the code is printed under the QR");
        assert!(svg.contains(&format!("http://minsheng.test/c/{code}")), "{size}: the link is in the description");
        assert!(svg.contains("<title"), "{size}");
    }
}

/// The `@font-face` of a card SVG: its family and the font file.
fn embedded_font(svg: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let css = svg.split("@font-face{").nth(1).expect("@font-face").split("</style>").next().unwrap();
    let family = css.split("font-family:\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let b64 = css.split("url(data:font/ttf;base64,").nth(1).expect("data URL").split(')').next().unwrap();
    (family, base64::engine::general_purpose::STANDARD.decode(b64).unwrap())
}

#[tokio::test]
async fn card_svg_carries_a_subset_of_the_card_font_for_its_text() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("王家湾村");
    for (size, bound) in [("wallet", 150_000), ("poster", 200_000)] {
        let svg =
            download(&app, &format!("/api/v1/cards/{code}/card.svg?size={size}"), &admin).await.text().await.unwrap();
        let (family, ttf) = embedded_font(&svg);
        println!("{size}: card.svg {} bytes, embedded font {} bytes ({family})", svg.len(), ttf.len());
        assert!(svg.len() < bound, "{size}: {} bytes", svg.len());
        assert!(family.starts_with("MinshengCard-"), "{family}");
        assert!(
            svg.contains(&format!("font-family=\"'{family}', 'WenQuanYi Micro Hei'")),
            "{size}: unique family first"
        );
        // Still text: the village name is the content of a <text> element, not a path.
        assert!(svg.contains(">王家湾村</text>"), "{size}");
        let face = ttf_parser::Face::parse(&ttf, 0).expect("the embedded font parses");
        for c in "王家湾村王秀英马建国服务热线12345".chars() {
            assert!(face.glyph_index(c).is_some(), "{size}: {c} not in the embedded font");
        }
        for c in "李庄石桥".chars() {
            assert!(face.glyph_index(c).is_none(), "{size}: {c} is not printed, so not embedded");
        }
        assert!(face.number_of_glyphs() < 400, "{size}: {} glyphs", face.number_of_glyphs());
    }
    // The PNG drawn from the same card is unaffected (and the QR still decodes).
    let png = download(&app, &format!("/api/v1/cards/{code}/card.png"), &admin).await.bytes().await.unwrap();
    let file = scratch("png");
    std::fs::write(&file, &png).unwrap();
    assert_eq!(decode_qr(&file), vec![format!("http://minsheng.test/c/{code}")]);
}

#[tokio::test]
async fn region_pdf_has_every_village_card_decodable_searchable_and_font_subset() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let county = app.region_id("清河县").await;
    let r = download(&app, &format!("/api/v1/regions/{county}/cards.pdf"), &admin).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.len() < 300_000, "{} bytes: the font must be subset", pdf.len());
    let file = scratch("pdf");
    std::fs::write(&file, &pdf).unwrap();
    let path = file.to_str().unwrap();

    assert_eq!(pdf_pages(path), 1, "six wallet cards fit one sheet");
    let info = tool("pdfinfo", &[path]);
    assert!(info.contains("(A4)"), "{info}");

    // Font embedded and subset (pdffonts columns: emb sub uni).
    let fonts = tool("pdffonts", &[path]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{fonts}");
    assert!(rows[0].contains("WenQuanYi") && rows[0].contains("yes yes yes"), "{fonts}");
    assert!(rows[0].split_whitespace().next().unwrap().chars().nth(6) == Some('+'), "subset tag: {fonts}");

    let text = tool("pdftotext", &[path, "-"]);
    for needle in ["清河县", "东坝镇", "西河乡", "服务热线", "12345", "李长河", "13900000301", "马建国", "何玉兰"]
    {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let mut expected = BTreeSet::new();
    for (village, code) in &app.cards {
        assert!(text.contains(village.as_str()), "{village}");
        assert!(text.contains(code.as_str()), "{code}");
        expected.insert(format!("http://minsheng.test/c/{code}"));
    }

    // Rasterised at 300 dpi (an office printer prints at 300–600; at 150 dpi zbar once missed one of
    // six codes on the page in a local PostgreSQL run, a random code's pattern), every card's QR decodes to its own link.
    let prefix = scratch("page");
    tool("pdftoppm", &["-r", "300", "-png", "-f", "1", "-l", "1", path, prefix.to_str().unwrap()]);
    let page = PathBuf::from(format!("{}-1.png", prefix.display()));
    let found: BTreeSet<String> = decode_qr(&page).into_iter().collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn township_staff_print_their_own_villages_only() {
    let app = spawn_app().await;
    let dongba = app.token("dongba").await;
    let township = app.region_id("东坝镇").await;
    let pdf = download(&app, &format!("/api/v1/regions/{township}/cards.pdf?size=poster"), &dongba).await;
    let file = scratch("pdf");
    std::fs::write(&file, pdf.bytes().await.unwrap()).unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(pdf_pages(path), 3, "one poster per village");
    let text = tool("pdftotext", &[path, "-"]);
    assert!(text.contains("李家庄村") && text.contains("石桥村") && !text.contains("柳树沟村"), "{text}");

    let other = app.region_id("西河乡").await;
    let county = app.region_id("清河县").await;
    for region in [other, county] {
        let e = error_of(
            app.get(&format!("/api/v1/regions/{region}/cards.pdf"), Some(&dongba)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(e["code"], "forbidden");
    }
    let code = app.card("柳树沟村");
    assert_eq!(app.get(&format!("/api/v1/cards/{code}/card.png"), Some(&dongba)).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rotated_and_revoked_cards_are_not_printed_and_the_new_card_is() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let old = app.card("石桥村");
    let village = app.region_id("石桥村").await;
    let issued: Value =
        app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await.json().await.unwrap();
    let new = issued["code"].as_str().unwrap();
    let e = error_of(app.get(&format!("/api/v1/cards/{old}/card.png"), Some(&admin)).await, StatusCode::GONE).await;
    assert_eq!(e["code"], "card_rotated");
    let png = download(&app, &format!("/api/v1/cards/{new}/card.png"), &admin).await.bytes().await.unwrap();
    let file = scratch("png");
    std::fs::write(&file, &png).unwrap();
    assert_eq!(decode_qr(&file), vec![format!("http://minsheng.test/c/{new}")]);

    app.post(&format!("/api/v1/cards/{new}/revoke"), Some(&admin), &json!({})).await;
    let e = error_of(app.get(&format!("/api/v1/cards/{new}/card.svg"), Some(&admin)).await, StatusCode::GONE).await;
    assert_eq!(e["code"], "card_revoked");
    // The village now has no active card: a PDF of just that village has nothing to print.
    let e =
        error_of(app.get(&format!("/api/v1/regions/{village}/cards.pdf"), Some(&admin)).await, StatusCode::NOT_FOUND)
            .await;
    assert_eq!(e["code"], "not_found");
}

#[tokio::test]
async fn render_parameters_and_callers_are_checked() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("河口村");
    let e = error_of(
        app.get(&format!("/api/v1/cards/{code}/card.png?size=huge"), Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "size");
    let e =
        error_of(app.get(&format!("/api/v1/cards/{code}/card.png?dpi=5"), Some(&admin)).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(e["field"], "dpi");
    let e = error_of(
        app.get(&format!("/api/v1/cards/{code}/card.png?size=poster&dpi=600"), Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "dpi");
    error_of(app.get("/api/v1/cards/ZZZZZZZZZZ/card.svg", Some(&admin)).await, StatusCode::NOT_FOUND).await;
    error_of(app.get("/api/v1/regions/999999/cards.pdf", Some(&admin)).await, StatusCode::NOT_FOUND).await;
    error_of(app.get(&format!("/api/v1/cards/{code}/card.svg"), None).await, StatusCode::UNAUTHORIZED).await;
    for who in ["dispatcher", "operator", "hekou", "caller"] {
        let t = app.token(who).await;
        error_of(app.get(&format!("/api/v1/cards/{code}/card.svg"), Some(&t)).await, StatusCode::FORBIDDEN).await;
    }
    // Leaders may look at and download cards (read only).
    let leader = app.token("leader").await;
    download(&app, &format!("/api/v1/cards/{code}/card.pdf"), &leader).await;
}

/// Red pixels (the stamp's ink) in the contacts half of a wallet card PNG.
fn stamp_ink(png: &[u8]) -> usize {
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    img.enumerate_pixels()
        .filter(|(x, y, p)| *x < w * 60 / 100 && *y > h / 4 && p[0] > 150 && p[1] < 90 && p[2] < 90)
        .count()
}

#[tokio::test]
async fn a_card_printed_from_a_loopback_address_says_not_to_post_it_in_every_format() {
    let app = crate::helpers::spawn_app_with(|s| s.application.public_url = "http://127.0.0.1:8080".into()).await;
    let public =
        crate::helpers::spawn_app_with(|s| s.application.public_url = "https://12345.qinghe.gov.cn".into()).await;
    let warning = "二维码指向本机地址（127.0.0.1），群众手机无法打开";
    let mut inks = vec![];
    for (app, warned) in [(&app, true), (&public, false)] {
        let admin = app.token("admin").await;
        let code = app.card("李家庄村");
        let svg = download(app, &format!("/api/v1/cards/{code}/card.svg"), &admin).await.text().await.unwrap();
        assert_eq!(svg.contains("样卡 · 请勿张贴"), warned, "svg");
        assert_eq!(svg.contains(warning), warned, "svg");
        assert!(svg.contains("微信或手机相机扫码"), "the wallet card says how to scan");
        for query in ["", "?size=poster"] {
            let pdf =
                download(app, &format!("/api/v1/cards/{code}/card.pdf{query}"), &admin).await.bytes().await.unwrap();
            let file = scratch("pdf");
            std::fs::write(&file, &pdf).unwrap();
            let text = tool("pdftotext", &[file.to_str().unwrap(), "-"]).replace(char::is_whitespace, "");
            // The stamp is tilted: pdftotext gives its words in pieces.
            assert_eq!(text.contains("样卡") && text.contains("请勿"), warned, "pdf{query}: {text}");
        }
        let county = app.region_id("清河县").await;
        let sheet = download(app, &format!("/api/v1/regions/{county}/cards.pdf"), &admin).await.bytes().await.unwrap();
        let file = scratch("pdf");
        std::fs::write(&file, &sheet).unwrap();
        let text = tool("pdftotext", &[file.to_str().unwrap(), "-"]).replace(char::is_whitespace, "");
        assert_eq!(text.matches("样卡").count(), if warned { 6 } else { 0 }, "every card of the sheet");
        let png = download(app, &format!("/api/v1/cards/{code}/card.png"), &admin).await.bytes().await.unwrap();
        inks.push(stamp_ink(&png));
        // The stamp leaves the QR code readable: a test print can still be tried on a phone.
        let file = scratch("png");
        std::fs::write(&file, &png).unwrap();
        assert_eq!(decode_qr(&file).len(), 1);
    }
    assert!(inks[0] > inks[1] + 5_000, "the PNG carries the red stamp: {inks:?}");
}

#[tokio::test]
async fn the_card_sheet_prints_n_copies_of_each_village_for_households() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let county = app.region_id("清河县").await;
    let r = download(&app, &format!("/api/v1/regions/{county}/cards.pdf?copies=3"), &admin).await;
    let name = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(name.contains("18%E5%BC%A0"), "18张 in the name: {name}");
    let file = scratch("pdf");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(pdf_pages(path), 2, "6 villages × 3 copies = 18 wallet cards, 10 to a page");
    let text = tool("pdftotext", &[path, "-"]);
    for (village, code) in &app.cards {
        assert_eq!(text.matches(code.as_str()).count(), 3, "{village}: three copies");
    }
    // A village's copies are printed together.
    let first = &app.cards[0].1;
    let positions: Vec<usize> = text.match_indices(first.as_str()).map(|(i, _)| i).collect();
    let others = app.cards[1..]
        .iter()
        .filter(|(_, c)| text.match_indices(c.as_str()).any(|(i, _)| i > positions[0] && i < positions[2]));
    assert_eq!(others.count(), 0, "no other village between the first village's copies");
    // One village's card, a sheet of ten for its households.
    let code = app.card("石桥村");
    let r = download(&app, &format!("/api/v1/cards/{code}/card.pdf?copies=10"), &admin).await;
    let file = scratch("pdf");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(pdf_pages(path), 1);
    assert_eq!(tool("pdftotext", &[path, "-"]).matches(code.as_str()).count(), 10);
    for bad in ["0", "21"] {
        let r = app.get(&format!("/api/v1/regions/{county}/cards.pdf?copies={bad}"), Some(&admin)).await;
        let e = error_of(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], "copies", "copies={bad}: {e}");
        let r = app.get(&format!("/api/v1/cards/{code}/card.pdf?copies={bad}"), Some(&admin)).await;
        assert_eq!(error_of(r, StatusCode::BAD_REQUEST).await["field"], "copies");
    }
    let r = app.get(&format!("/api/v1/regions/{county}/cards.pdf?copies=x"), Some(&admin)).await;
    error_of(r, StatusCode::BAD_REQUEST).await;
}
