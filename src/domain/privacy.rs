//! Personal numbers typed into free text (a description, a cadre's note, a villager's comment):
//! mainland mobiles, landlines and resident ID numbers are masked wherever a text is shown to
//! someone who may not see the requester's phone (public tracking, the big screen, exports, Open311,
//! the staff ticket view). One masker, used everywhere.
//!
//! What is masked, in runs of digits joined by single spaces or dashes (full-width digits, dashes
//! and spaces count as well):
//! - mobiles `1[3-9]` + 9 digits, whole or grouped (`138 0013 8000`, `138-0013-8000`), with an
//!   optional `+86`/`0086`/`86` prefix: `138****8000`;
//! - landlines: area code `0xx`/`0xxx`, a space or dash, 7–8 digits (`0571-8888 1234` too), or the
//!   same written together (10–12 digits from a `0`): `0571-****1234`;
//! - resident ID numbers: 18 characters (17 digits and a digit or `X`) or 15 digits (the old ones):
//!   `110101********1234`.
//!
//! Digits are replaced by `*` one for one and nothing else changes, so a masked text keeps its
//! length and shape. Ticket numbers (`20261122-000123`), dates, amounts and house numbers are left
//! alone: none of them is one of the shapes above.

/// A digit (ASCII or full-width) as its ASCII form.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8),
        '０'..='９' => Some(b'0' + (c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{3000}' | '－')
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// One group of a run: its char range in the text and its digits (an ID's trailing X as `X`).
struct Group {
    start: usize,
    end: usize,
    digits: Vec<u8>,
}

/// Masks mobiles, landlines and resident ID numbers in `text` (see the module documentation).
pub fn mask_personal_numbers(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        // A run: digit groups joined by single separators; an X may end a group (ID numbers).
        let mut groups: Vec<Group> = vec![];
        let mut j = i;
        loop {
            let start = j;
            let mut digits = vec![];
            while j < chars.len() {
                if let Some(d) = digit(chars[j]) {
                    digits.push(d);
                    j += 1;
                } else {
                    break;
                }
            }
            if j < chars.len() && is_x(chars[j]) && digits.len() == 17 {
                digits.push(b'X');
                j += 1;
            }
            groups.push(Group { start, end: j, digits });
            if j + 1 < chars.len() && is_separator(chars[j]) && digit(chars[j + 1]).is_some() {
                j += 1;
            } else {
                break;
            }
        }
        mask_run(&mut chars, &groups);
        i = j.max(i + 1);
    }
    chars.into_iter().collect()
}

/// How a match is masked: digits kept at the head and at the tail, counted over its digits only.
struct Found {
    /// Groups taken (from the current one).
    groups: usize,
    /// Digits of the match left in clear at its start (a prefix such as `+86` is outside the run's
    /// digits and never touched; `86`/`0086` count here).
    head: usize,
    tail: usize,
}

fn is_mobile(d: &[u8]) -> bool {
    d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1])
}

fn is_id(d: &[u8]) -> bool {
    (d.len() == 18 && d[..17].iter().all(u8::is_ascii_digit)) || (d.len() == 15 && d.iter().all(u8::is_ascii_digit))
}

fn area_len(d: &[u8]) -> usize {
    if matches!(d.get(1), Some(b'1' | b'2')) { 3 } else { 4 }
}

/// What starts at group `k` of a run, if anything.
fn find(groups: &[Group], k: usize) -> Option<Found> {
    let g = &groups[k].digits;
    if is_id(g) {
        return Some(Found { groups: 1, head: 6, tail: 4 });
    }
    // A mobile in one, two or three groups, possibly after a country-code group.
    let prefix = matches!(g.as_slice(), b"86" | b"0086");
    for skip in [usize::from(prefix), 0] {
        let mut digits: Vec<u8> = vec![];
        for (n, grp) in groups[k + skip..].iter().take(3).enumerate() {
            digits.extend_from_slice(&grp.digits);
            if digits.len() > 11 {
                break;
            }
            if is_mobile(&digits) {
                let pre: usize = groups[k..k + skip].iter().map(|g| g.digits.len()).sum();
                return Some(Found { groups: skip + n + 1, head: pre + 3, tail: 4 });
            }
        }
        if skip == 0 {
            break;
        }
    }
    // A mobile with its country code written together (`8613800138000`, `008613800138000`).
    for cc in [&b"86"[..], b"0086"] {
        if g.len() == cc.len() + 11 && g.starts_with(cc) && is_mobile(&g[cc.len()..]) {
            return Some(Found { groups: 1, head: cc.len() + 3, tail: 4 });
        }
    }
    // Landlines.
    if g.first() == Some(&b'0') {
        let next = groups.get(k + 1).filter(|_| (3..=4).contains(&g.len()) && g.len() == area_len(g));
        if let Some(next) = next {
            let n = next.digits.len();
            if (7..=8).contains(&n) && next.digits.iter().all(u8::is_ascii_digit) {
                return Some(Found { groups: 2, head: g.len(), tail: 4 });
            }
            // `0571-8888 1234`: the number itself in two groups of four.
            if let Some(third) = groups.get(k + 2)
                && n + third.digits.len() == 8
                && n >= 3
                && third.digits.len() >= 3
            {
                return Some(Found { groups: 3, head: g.len(), tail: 4 });
            }
        }
        let area = area_len(g);
        if g.len() >= area + 7 && g.len() <= area + 8 && g.iter().all(u8::is_ascii_digit) {
            return Some(Found { groups: 1, head: area, tail: 4 });
        }
    }
    None
}

fn mask_run(chars: &mut [char], groups: &[Group]) {
    let mut k = 0;
    while k < groups.len() {
        match find(groups, k) {
            Some(f) => {
                let taken = &groups[k..k + f.groups];
                let total: usize = taken.iter().map(|g| g.digits.len()).sum();
                let mut n = 0;
                for g in taken {
                    for c in &mut chars[g.start..g.end] {
                        if n >= f.head && n + f.tail < total {
                            *c = '*';
                        }
                        n += 1;
                    }
                }
                k += f.groups;
            }
            None => k += 1,
        }
    }
}

/// What an anonymised ticket keeps in place of the requester's phone: `anon:` and 24 hex digits of
/// an HMAC of the phone under a key the application keeps (`app_secrets`). The same phone gives the
/// same placeholder, so counts of different phones over anonymised tickets stay what they were; it
/// is never a phone (no match, repeat link, SMS or subscription reaches it) and shows nothing of
/// the number. A ticket without a phone (未诉先办) keeps none.
pub fn anonymous_phone(key: &[u8], phone: &str) -> String {
    use hmac::Mac;
    if phone.is_empty() || is_anonymous_phone(phone) {
        return phone.to_string();
    }
    let mut mac = super::mac::hmac_sha256(key);
    mac.update(b"minsheng-retention-v1:");
    mac.update(phone.as_bytes());
    let tag = hex::encode(mac.finalize().into_bytes());
    format!("{ANONYMOUS_PHONE_PREFIX}{}", &tag[..24])
}

pub const ANONYMOUS_PHONE_PREFIX: &str = "anon:";

pub fn is_anonymous_phone(stored: &str) -> bool {
    stored.starts_with(ANONYMOUS_PHONE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TicketNo;
    use proptest::prelude::*;

    #[test]
    fn mobiles_are_masked_in_every_written_form() {
        let cases = [
            ("电话13800138000，谢谢", "电话138****8000，谢谢"),
            ("打138-0013-8000找我", "打138-****-8000找我"),
            ("打 138 0013 8000 找我", "打 138 **** 8000 找我"),
            ("+8613800138000", "+86138****8000"),
            ("+86 138 0013 8000", "+86 138 **** 8000"),
            ("0086-13800138000", "0086-138****8000"),
            ("8613800138000", "86138****8000"),
            ("手机１３８００１３８０００", "手机１３８****８０００"),
            ("13800138000和13900139000", "138****8000和139****9000"),
            ("13800138000 13900139000", "138****8000 139****9000"),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_personal_numbers(raw), masked, "{raw}");
        }
    }

    #[test]
    fn landlines_and_id_numbers_are_masked() {
        let cases = [
            ("村委会0571-88881234", "村委会0571-****1234"),
            ("010-87654321", "010-****4321"),
            ("座机0571 8888 1234", "座机0571 **** 1234"),
            ("057188881234", "0571****1234"),
            ("身份证11010519491231002X", "身份证110105********002X"),
            ("身份证110105194912310021。", "身份证110105********0021。"),
            ("老身份证110105491231002", "老身份证110105*****1002"),
            ("证号11010519491231002x", "证号110105********002x"),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_personal_numbers(raw), masked, "{raw}");
        }
    }

    #[test]
    fn ticket_numbers_dates_and_amounts_survive() {
        for text in [
            "工单20261122-000123已办结",
            "与20261122-1234567合并",
            "2026年3月5日停水，2026-03-05 08:00来电",
            "补助12000元，门牌12号，面积1380平方米",
            "金额12345678901元",
            "12345678",
            "编号 20261122 000123",
        ] {
            assert_eq!(mask_personal_numbers(text), text);
        }
    }

    #[test]
    fn the_phone_placeholder_is_stable_keyed_and_no_phone() {
        let a = anonymous_phone(b"k", "13800138000");
        assert_eq!(a, anonymous_phone(b"k", "13800138000"));
        assert_ne!(a, anonymous_phone(b"k", "13900139000"));
        assert_ne!(a, anonymous_phone(b"other", "13800138000"));
        assert!(a.starts_with("anon:") && a.len() == 29 && !a.contains("8000"), "{a}");
        assert!(crate::domain::phone::Phone::parse(&a).is_none());
        assert_eq!(anonymous_phone(b"k", &a), a, "anonymising twice changes nothing");
        assert_eq!(anonymous_phone(b"k", ""), "");
    }

    fn chinese() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![Just('村'), Just('路'), Just('灯'), Just('，'), Just('。'), Just(' '), Just('号'), Just('a')],
            0..8,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn mobile() -> impl Strategy<Value = String> {
        (3u8..=9, proptest::collection::vec(0u8..=9, 9)).prop_map(|(second, rest)| {
            let mut s = format!("1{second}");
            s.extend(rest.iter().map(|d| char::from(b'0' + d)));
            s
        })
    }

    fn written(m: &str, form: u8) -> String {
        match form {
            0 => m.to_string(),
            1 => format!("{}-{}-{}", &m[..3], &m[3..7], &m[7..]),
            2 => format!("{} {} {}", &m[..3], &m[3..7], &m[7..]),
            3 => format!("+86{m}"),
            _ => format!("+86 {m}"),
        }
    }

    proptest! {
        #[test]
        fn a_mobile_in_any_text_loses_its_middle(pre in chinese(), post in chinese(), m in mobile(), form in 0u8..5) {
            let text = format!("{pre}电话{}。{post}", written(&m, form));
            let hidden = written(&format!("{}****{}", &m[..3], &m[7..]), form);
            prop_assert_eq!(mask_personal_numbers(&text), format!("{pre}电话{hidden}。{post}"));
        }

        #[test]
        fn an_id_number_keeps_region_and_tail(pre in chinese(), d in proptest::collection::vec(0u8..=9, 17), x in any::<bool>()) {
            let mut id: String = d.iter().map(|d| char::from(b'0' + d)).collect();
            id.push(if x { 'X' } else { '7' });
            let masked = mask_personal_numbers(&format!("{pre}身份证{id}"));
            let expected = format!("{pre}身份证{}********{}", &id[..6], &id[14..]);
            prop_assert_eq!(masked, expected);
        }

        #[test]
        fn ticket_numbers_are_never_touched(pre in chinese(), post in chinese(), day in 0i64..3650, seq in 1i64..2_000_000) {
            let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(day);
            let text = format!("{pre}工单{}{post}", TicketNo::new(date, seq).as_str());
            prop_assert_eq!(mask_personal_numbers(&text), text);
        }

        #[test]
        fn masking_keeps_length_and_is_idempotent(text in "[0-9a-z 村\\-+Xx，]{0,60}") {
            let once = mask_personal_numbers(&text);
            prop_assert_eq!(once.chars().count(), text.chars().count());
            for (a, b) in text.chars().zip(once.chars()) {
                prop_assert!(a == b || (b == '*' && digit(a).is_some()));
            }
            prop_assert_eq!(mask_personal_numbers(&once), once.clone());
        }
    }
}
