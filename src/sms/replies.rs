//! What a reply SMS says. A villager answers a rating request with 1/2/3 (or the words), a cadre
//! signs for an order with 1 or 收到, anyone unsubscribes with TD; a reply may name its ticket.
//! Full-width digits and letters, spaces and punctuation are forgiven.
use crate::domain::values::{Satisfaction, Solved};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// A digit 1–3 (or the words 满意 / 基本满意 / 不满意).
    Digit(u8),
    /// 收到 / 签收 / 确认 / 好的.
    Acknowledge,
    Unsubscribe,
    /// A ticket number alone (or with 查询 / 进度): the sender asks where their request stands.
    StatusQuery,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub intent: Intent,
    /// A ticket number `YYYYMMDD-NNNNNN` written in the reply, if any.
    pub ticket_no: Option<String>,
}

/// Folds full-width ASCII (１, ＴＤ) to half-width and drops spaces and punctuation.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation() && !"，。！？、；：“”‘’（）【】《》…—".contains(*c))
        .collect::<String>()
        .to_uppercase()
}

fn find_ticket_no(text: &str) -> Option<String> {
    let b: Vec<char> = text.chars().collect();
    (0..b.len().saturating_sub(14)).find_map(|i| {
        let w = &b[i..i + 15];
        let ok = w.iter().enumerate().all(|(j, c)| if j == 8 { *c == '-' } else { c.is_ascii_digit() });
        ok.then(|| w.iter().collect())
    })
}

pub fn parse(text: &str) -> Reply {
    let ticket_no = find_ticket_no(text);
    let mut rest = normalise(text);
    if let Some(no) = &ticket_no {
        rest = rest.replace(&no.replace('-', ""), "");
    }
    let intent = match rest.as_str() {
        "1" | "满意" | "非常满意" => Intent::Digit(1),
        "2" | "基本满意" => Intent::Digit(2),
        "3" | "不满意" => Intent::Digit(3),
        "收到" | "签收" | "确认" | "好的" | "已收到" | "收到1" | "1收到" => Intent::Acknowledge,
        "TD" | "T" | "N" | "退订" | "TD退订" | "退订TD" => Intent::Unsubscribe,
        "" | "查询" | "查" | "进度" | "查进度" | "查询进度" | "进度查询" | "状态" | "工单" | "查询工单" | "CX"
            if ticket_no.is_some() =>
        {
            Intent::StatusQuery
        }
        _ => Intent::Other,
    };
    Reply { intent, ticket_no }
}

/// A rating reply as a return visit. The rating SMS asks one question (满意程度), so "solved" follows
/// from it as on the link page (`Satisfaction::implied_solved`): 1 满意 → yes, 2 基本满意 → partly,
/// 3 不满意 → no (the ticket is reopened and handled again).
pub fn rating(digit: u8) -> Option<(Solved, Satisfaction, &'static str)> {
    let s = match digit {
        1 => Satisfaction::Satisfied,
        2 => Satisfaction::BasicallySatisfied,
        3 => Satisfaction::Dissatisfied,
        _ => return None,
    };
    Some((s.implied_solved(), s, s.label()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(s: &str) -> Intent {
        parse(s).intent
    }

    #[test]
    fn digits_words_and_full_width_forms() {
        assert_eq!(intent("1"), Intent::Digit(1));
        assert_eq!(intent(" １ "), Intent::Digit(1));
        assert_eq!(intent("2。"), Intent::Digit(2));
        assert_eq!(intent("不满意"), Intent::Digit(3));
        assert_eq!(intent("基本满意！"), Intent::Digit(2));
        assert_eq!(intent("满意"), Intent::Digit(1));
        assert_eq!(intent("4"), Intent::Other);
        assert_eq!(intent("12"), Intent::Other);
    }

    #[test]
    fn acknowledgement_unsubscribe_and_free_text() {
        assert_eq!(intent("收到"), Intent::Acknowledge);
        assert_eq!(intent("收到！"), Intent::Acknowledge);
        assert_eq!(intent("td"), Intent::Unsubscribe);
        assert_eq!(intent("ＴＤ"), Intent::Unsubscribe);
        assert_eq!(intent("退订"), Intent::Unsubscribe);
        assert_eq!(intent("水还是没来，什么时候修"), Intent::Other);
        assert_eq!(intent(""), Intent::Other);
    }

    #[test]
    fn a_reply_may_name_its_ticket() {
        let r = parse("收到 20261122-000123");
        assert_eq!(r, Reply { intent: Intent::Acknowledge, ticket_no: Some("20261122-000123".into()) });
        let r = parse("20261122-000123 3");
        assert_eq!(r.intent, Intent::Digit(3));
        assert_eq!(parse("1").ticket_no, None);
    }

    #[test]
    fn a_ticket_number_alone_asks_for_its_status() {
        assert_eq!(intent("20261122-000123"), Intent::StatusQuery);
        assert_eq!(intent("查询 20261122-000123"), Intent::StatusQuery);
        assert_eq!(intent("20261122－000123进度？"), Intent::Other, "a full-width dash is no ticket number");
        assert_eq!(intent("查询"), Intent::Other, "no number, no query");
        assert_eq!(intent("20261122-000123 路灯还是不亮"), Intent::Other, "a number with words is a message");
    }

    #[test]
    fn rating_mapping_is_documented() {
        assert_eq!(rating(1), Some((Solved::Yes, Satisfaction::Satisfied, "满意")));
        assert_eq!(rating(2), Some((Solved::Partly, Satisfaction::BasicallySatisfied, "基本满意")));
        assert_eq!(rating(3), Some((Solved::No, Satisfaction::Dissatisfied, "不满意")));
        assert_eq!(rating(4), None);
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            // Any text a phone can send is read as something, and a ticket number found is one.
            #[test]
            fn any_reply_is_read_and_a_number_found_is_well_formed(text in "\\PC{0,160}") {
                let r = parse(&text);
                if let Some(no) = &r.ticket_no {
                    prop_assert_eq!(no.chars().count(), 15);
                    prop_assert!(text.contains(no.as_str()));
                }
            }

            // A rating digit survives any padding of spaces and punctuation, half- or full-width.
            #[test]
            fn a_digit_in_any_padding_is_the_digit(d in 1u8..=3, pad in "[ ，。！ ]{0,4}", full in any::<bool>()) {
                let digit = if full { char::from_u32(0xFF10 + d as u32).unwrap() } else { (b'0' + d) as char };
                let r = parse(&format!("{pad}{digit}{pad}"));
                prop_assert_eq!(r.intent, Intent::Digit(d));
            }

            // A ticket number with a query word asks where it stands, however it is spaced.
            #[test]
            fn a_number_with_a_query_word_is_a_status_query(no in "20[0-9]{6}-[0-9]{6}", sep in "[ ：:]{0,2}") {
                let r = parse(&format!("查询{sep}{no}"));
                prop_assert_eq!(r.intent, Intent::StatusQuery);
                prop_assert_eq!(r.ticket_no, Some(no));
            }
        }
    }
}
