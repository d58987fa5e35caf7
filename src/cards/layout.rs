//! The two card designs, in millimetres with the origin at the top left. The hierarchy a villager
//! needs at a glance: the village name, the QR code, the people and their phones, the hotline.
//! Everything important is dark on white so a black-and-white office printer keeps it legible.
use super::qr::Qr;
use super::svg::{Anchor, Svg, Text};
use super::{CardContent, fonts};

const RED: &str = "#b71c1c";
const TINT: &str = "#fdecea";
const INK: &str = "#1a1a1a";
const GRAY: &str = "#555555";
const LIGHT: &str = "#8a8a8a";
const RULE: &str = "#d0d0d0";
const WHITE: &str = "#ffffff";

const SLOGAN: &str = "民声直达 · 接诉即办";

/// The stamp across a card whose QR code would not open for villagers.
pub const STAMP: &str = "样卡 · 请勿张贴";

/// A red stamp across `(x, y, w, h)`, tilted, saying the card must not be posted and why. It stays
/// clear of the QR code, so the test print can still be scanned on the desk.
fn stamp(s: &mut Svg, why: &str, (x, y, w, h): (f32, f32, f32, f32), size: f32) {
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let mut inner = Svg::new();
    inner.raw(&format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{WHITE}\" fill-opacity=\"0.9\" \
         stroke=\"{RED}\" stroke-width=\"{}\"/>",
        super::svg::num(x),
        super::svg::num(y),
        super::svg::num(w),
        super::svg::num(h),
        super::svg::num(size * 0.3),
        super::svg::num(size * 0.12),
    ));
    inner.text(Text::new(cx, y + h * 0.5, size, STAMP, RED).bold().anchor(Anchor::Middle).fit(w * 0.9));
    inner.text(Text::new(cx, y + h * 0.82, size * 0.4, why, RED).anchor(Anchor::Middle).fit(w * 0.94));
    s.raw(&format!(
        "<g transform=\"rotate(-7 {} {})\">{}</g>",
        super::svg::num(cx),
        super::svg::num(cy),
        inner.finish()
    ));
}

fn place(c: &CardContent) -> String {
    [c.county.as_str(), c.township.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

fn version(c: &CardContent) -> String {
    format!("第{}版", c.version)
}

/// Columns of a contact row: where post, name and phone go, and how wide each may be.
struct Columns {
    post_x: f32,
    post_w: f32,
    name_x: f32,
    name_w: f32,
    phone_end: f32,
    phone_w: f32,
}

/// The contact rows between `top` and `bottom`; names and phones are the biggest text after the
/// village name, because they are what people read when they need help.
fn contacts(s: &mut Svg, c: &CardContent, top: f32, bottom: f32, cols: &Columns, max_row: f32, max_size: f32) {
    let n = c.contacts.len();
    if n == 0 {
        let y = (top + bottom) / 2.0;
        s.text(
            Text::new(cols.post_x, y, max_size * 0.8, "联系人待公布，请拨打服务热线", GRAY)
                .fit(cols.phone_end - cols.post_x),
        );
        return;
    }
    let row = ((bottom - top) / n as f32).min(max_row);
    let size = (row * 0.56).min(max_size);
    // A short list sits in the middle of its area rather than hanging from the top.
    let top = top + ((bottom - top) - row * n as f32) / 2.0;
    for (i, p) in c.contacts.iter().enumerate() {
        let mid = top + row * (i as f32 + 0.5);
        let base = mid + size * 0.36;
        s.text(Text::new(cols.post_x, base, size * 0.72, &p.post, GRAY).fit(cols.post_w));
        s.text(Text::new(cols.name_x, base, size, &p.name, INK).bold().fit(cols.name_w));
        s.text(
            Text::new(cols.phone_end, base, size * 1.04, &p.phone, INK).bold().anchor(Anchor::End).fit(cols.phone_w),
        );
        if i + 1 < n {
            let y = top + row * (i as f32 + 1.0);
            s.line((cols.post_x, y), (cols.phone_end, y), RULE, size * 0.035);
        }
    }
}

/// Wallet card, 85.6 × 54 mm (ID-1, the size of a bank card): one for every household.
pub fn wallet(c: &CardContent, qr: &Qr) -> String {
    let (w, h) = (85.6_f32, 54.0_f32);
    let mut s = Svg::new();
    s.rect(0.0, 0.0, w, h, WHITE, 0.0);

    // Header: village name first, place and slogan on the right.
    s.rect(0.0, 0.0, w, 12.0, RED, 0.0);
    let place = place(c);
    let right_w = fonts::advance(&place, 2.4, 0.0).max(fonts::advance(SLOGAN, 2.2, 0.0)).min(30.0);
    s.text(Text::new(w - 3.5, 5.3, 2.4, &place, WHITE).anchor(Anchor::End).fit(30.0));
    s.text(Text::new(w - 3.5, 9.2, 2.2, SLOGAN, WHITE).anchor(Anchor::End).fit(30.0));
    let label_w = fonts::advance("联系卡", 3.0, 0.0) + 1.2;
    let title_max = (w - 3.5 - right_w - 3.0 - 4.0 - label_w).max(12.0);
    let title_w = s.text(Text::new(4.0, 8.3, 5.6, &c.village, WHITE).bold().fit(title_max).min(3.2));
    s.text(Text::new(4.0 + title_w + 1.2, 8.3, 3.0, "联系卡", WHITE));

    // Contacts on the left, QR on the right.
    let cols = Columns { post_x: 4.0, post_w: 14.5, name_x: 19.5, name_w: 11.5, phone_end: 53.0, phone_w: 21.5 };
    contacts(&mut s, c, 14.4, 41.4, &cols, 6.6, 3.5);

    // Hotline under a red rule.
    s.line((4.0, 42.8), (53.0, 42.8), RED, 0.3);
    let label = "服务热线";
    let lw = s.text(Text::new(4.0, 50.0, 2.5, label, GRAY));
    s.text(Text::new(4.0 + lw + 1.6, 50.3, 5.4, &c.hotline, RED).bold().fit(53.0 - 5.6 - lw).min(3.5));

    // QR with its quiet zone, the code as text beneath it (to type in by hand), then the call to act.
    let (qx, qy, qs) = (w - 2.8 - 27.5, 13.4, 27.5);
    s.raw(&qr.svg(qx, qy, qs));
    let cx = qx + qs / 2.0;
    s.text(Text::new(cx, 44.6, 2.6, &c.code, INK).spacing(0.28).anchor(Anchor::Middle).fit(qs));
    s.text(Text::new(cx, 48.4, 2.3, "微信或手机相机扫码", INK).anchor(Anchor::Middle).fit(qs));
    let tail = format!("反映诉求 · {}", version(c));
    s.text(Text::new(cx, 51.7, 1.8, &tail, LIGHT).anchor(Anchor::Middle).fit(qs));
    if let Some(why) = &c.warning {
        stamp(&mut s, why, (4.0, 17.0, 48.0, 20.0), 4.6);
    }
    s.finish()
}

/// Notice-board poster on A4 (210 × 297 mm), with 10 mm margins so office printers keep it whole.
pub fn poster(c: &CardContent, qr: &Qr) -> String {
    let w = 210.0_f32;
    let cx = w / 2.0;
    let mut s = Svg::new();
    s.rect(0.0, 0.0, w, 297.0, WHITE, 0.0);

    s.rect(10.0, 10.0, 190.0, 50.0, RED, 3.0);
    s.text(Text::new(cx, 23.0, 7.0, &place(c), WHITE).anchor(Anchor::Middle).fit(170.0));
    s.text(Text::new(cx, 44.5, 19.0, &c.village, WHITE).bold().anchor(Anchor::Middle).fit(176.0).min(9.0));
    s.text(Text::new(cx, 55.0, 6.5, "接诉即办 · 联系卡", WHITE).anchor(Anchor::Middle));

    s.raw(&qr.svg(cx - 50.0, 64.0, 100.0));
    let code_line = format!("卡号 {}", c.code);
    s.text(Text::new(cx, 172.5, 6.0, &code_line, INK).spacing(0.6).anchor(Anchor::Middle));
    s.text(
        Text::new(cx, 184.0, 7.5, "微信或手机相机扫一扫，反映困难和诉求", INK).bold().anchor(Anchor::Middle).fit(180.0),
    );
    s.text(
        Text::new(cx, 192.5, 4.8, "填写问题和手机号即可提交，办理进度以短信通知", GRAY)
            .anchor(Anchor::Middle)
            .fit(180.0),
    );

    s.frame((10.0, 199.0, 190.0, 61.0), RULE, 0.35, 2.0);
    let cols = Columns { post_x: 18.0, post_w: 52.0, name_x: 74.0, name_w: 42.0, phone_end: 192.0, phone_w: 72.0 };
    contacts(&mut s, c, 201.0, 258.0, &cols, 11.0, 8.5);

    s.rect(10.0, 265.0, 190.0, 22.0, TINT, 3.0);
    let lw = s.text(Text::new(20.0, 279.5, 6.5, "服务热线", RED));
    let version = version(c);
    let vw = s.text(Text::new(192.0, 279.5, 4.2, &version, LIGHT).anchor(Anchor::End));
    s.text(Text::new(20.0 + lw + 4.0, 280.5, 13.0, &c.hotline, RED).bold().fit(172.0 - lw - 4.0 - vw - 6.0).min(7.0));
    if let Some(why) = &c.warning {
        stamp(&mut s, why, (25.0, 205.0, 160.0, 48.0), 16.0);
    }
    s.finish()
}
