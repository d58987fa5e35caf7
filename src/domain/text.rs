//! Free text from outside (descriptions, names, notes, comments): control characters are refused —
//! NUL cannot even be stored in PostgreSQL text, and the others only hide or garble what a cadre or
//! caller reads — and direction overrides are dropped, because they make a text read differently
//! from what it is. Invisible characters are kept (they matter inside some scripts) but never count
//! towards a minimum length.
use std::borrow::Cow;

/// Why a text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    /// A C0/C1 control character other than tab and line breaks (including NUL).
    ControlCharacter,
}

impl TextError {
    pub fn message(self) -> &'static str {
        match self {
            TextError::ControlCharacter => "含有不允许的控制字符，请删除后重新提交",
        }
    }
}

/// C0 and C1 controls and DEL, except tab, line feed and carriage return.
fn is_forbidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}')
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder how
/// a text is shown (the "RLO" trick that makes `gpj.exe` read as `exe.jpg`).
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: zero-width spaces and joiners, word joiner, BOM, soft hyphen,
/// direction marks, Mongolian vowel separator, Hangul fillers, invisible math operators.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    ) || is_direction_override(c)
}

/// Checks one text: refuses control characters, drops direction overrides.
pub fn clean(raw: &str) -> Result<Cow<'_, str>, TextError> {
    if raw.chars().any(is_forbidden_control) {
        return Err(TextError::ControlCharacter);
    }
    if raw.chars().any(is_direction_override) {
        return Ok(Cow::Owned(raw.chars().filter(|c| !is_direction_override(*c)).collect()));
    }
    Ok(Cow::Borrowed(raw))
}

/// For text that must be taken whatever it holds (an SMS from a phone, relayed by a provider):
/// control characters (but tab and line breaks) and direction overrides are dropped.
pub fn scrub(raw: &str) -> String {
    raw.chars().filter(|c| !is_forbidden_control(*c) && !is_direction_override(*c)).collect()
}

/// The characters a reader sees: not whitespace, not invisible.
pub fn visible_len(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace() && !is_invisible(*c)).count()
}

/// Cleans every string (and object key) of a JSON value in place; on refusal, the path of the
/// offending value (`description`, `location.note`, `upload_ids[0]`).
pub fn clean_json(v: &mut serde_json::Value) -> Result<(), (String, TextError)> {
    fn walk(v: &mut serde_json::Value, path: &mut String) -> Result<(), TextError> {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                if let Cow::Owned(c) = clean(s)? {
                    *s = c;
                }
                Ok(())
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                if map.keys().any(|k| clean(k).map(|c| c != k.as_str()).unwrap_or(true)) {
                    return Err(TextError::ControlCharacter);
                }
                for (k, item) in map.iter_mut() {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let mut path = String::new();
    walk(v, &mut path).map_err(|e| (path, e))
}

/// Masks the token of every signed link in a text (`/w/…` the cadre's order page, `/r/…` the
/// villager's rating page): whoever holds the token acts as its owner, so an admin reading the
/// outbox sees that a link was sent, not the link. The first four characters stay for support.
pub fn mask_link_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = ["/w/", "/r/"].iter().filter_map(|m| rest.find(m)).min() {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end =
            tail.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(tail.len());
        let token = &tail[..end];
        if !token.is_empty() {
            out.push_str(&token[..token.len().min(4)]);
            out.push_str("****");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Escapes text for XML element content or attribute values (Open311's XML, the cards' SVG): the
/// five markup characters; characters XML 1.0 cannot carry at all are dropped (input is cleaned of
/// control characters at the edge already; this keeps a document well-formed whatever comes).
pub fn escape_xml_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// [`escape_xml_into`] into a new string.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_xml_into(s, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_are_refused_and_line_breaks_kept() {
        assert_eq!(clean("路灯坏了\n请修理\t谢谢\r\n").unwrap(), "路灯坏了\n请修理\t谢谢\r\n");
        for bad in ["a\u{0}b", "\u{7}", "x\u{1B}[31m", "\u{7F}", "\u{85}", "\u{9F}"] {
            assert_eq!(clean(bad), Err(TextError::ControlCharacter), "{bad:?}");
        }
    }

    #[test]
    fn direction_overrides_are_dropped() {
        assert_eq!(clean("照片\u{202E}gpj.exe").unwrap(), "照片gpj.exe");
        assert_eq!(clean("\u{2066}村东\u{2069}").unwrap(), "村东");
        assert!(matches!(clean("平常的文字"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn scrubbing_drops_what_clean_refuses() {
        assert_eq!(scrub("1\u{0}\u{202E}满意\n"), "1满意\n");
        assert_eq!(scrub("收到"), "收到");
    }

    #[test]
    fn invisible_characters_do_not_count() {
        assert_eq!(visible_len("\u{200B}\u{200B}\u{200D}\u{FEFF}\u{200E}\u{2060} \u{3000}"), 0);
        assert_eq!(visible_len("水\u{200B}停\u{200C}了"), 3);
        assert_eq!(visible_len("路灯 坏了"), 4);
    }

    #[test]
    fn link_tokens_are_masked() {
        let body = "【民声直达】工单20261201-000001已办结，请评价：http://x.cn/r/1a.2.k3.Zm9vYmFyYmF6cXV4 回复1满意";
        let masked = mask_link_tokens(body);
        assert_eq!(masked, "【民声直达】工单20261201-000001已办结，请评价：http://x.cn/r/1a.2**** 回复1满意");
        assert!(!masked.contains("Zm9vYmFy"));
        assert_eq!(
            mask_link_tokens("派单 http://x.cn/w/AbCdEfGhIjKlMn，请签收"),
            "派单 http://x.cn/w/AbCd****，请签收"
        );
        assert_eq!(mask_link_tokens("no links /t/20261201-000001"), "no links /t/20261201-000001");
        assert_eq!(mask_link_tokens("a/w/ b"), "a/w/ b");
    }

    #[test]
    fn json_is_cleaned_in_place_and_the_path_named() {
        let mut v = json!({"description": "好\u{202E}的", "location": {"lat": 1.0}, "ids": ["a", "b"]});
        clean_json(&mut v).unwrap();
        assert_eq!(v["description"], "好的");
        let mut v = json!({"location": {"note": "a\u{0}"}});
        assert_eq!(clean_json(&mut v), Err(("location.note".into(), TextError::ControlCharacter)));
        let mut v = json!({"upload_ids": ["ok", "x\u{1}"]});
        assert_eq!(clean_json(&mut v).unwrap_err().0, "upload_ids[1]");
        let mut v = json!({"a\u{0}": 1});
        assert!(clean_json(&mut v).is_err());
    }
}
