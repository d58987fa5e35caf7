//! Contact-card rules: what a printed contact line may say, and who may manage or read a village's
//! card. Pure: the caller loads the staff member's region and the village's path.
use super::phone::Phone;
use super::roles::{Role, Scope};
use super::values::RegionLevel;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line of a card: the post (村党支部书记, 网格员 …), the person, and a phone villagers may call.
/// Card phones are public by design: they are printed on the notice board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub post: String,
    pub name: String,
    pub phone: String,
}

/// A wallet card has room for six readable lines; a longer list belongs on a separate notice.
pub const MAX_CONTACTS: usize = 6;
const MAX_POST_CHARS: usize = 12;
const MAX_NAME_CHARS: usize = 8;

/// A rejected field, named the way the request spells it (`contacts[1].phone`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// A phone to print: a mainland mobile (stored as 11 digits) or a landline with its area code
/// (`0310-5551234`, kept as written without spaces). Anything else is refused.
pub fn card_phone(input: &str) -> Option<String> {
    if let Some(p) = Phone::parse(input) {
        return Some(p.as_str().to_string());
    }
    let s: String = input.chars().filter(|c| *c != ' ').collect();
    let (area, number) = s.split_once('-').unwrap_or(("", s.as_str()));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = if area.is_empty() {
        // Without a dash: area code 0xx(x) followed by a 7–8 digit number, 10–12 digits in all.
        s.starts_with('0') && (10..=12).contains(&s.len()) && digits(&s)
    } else {
        area.starts_with('0')
            && (3..=4).contains(&area.len())
            && (7..=8).contains(&number.len())
            && digits(area)
            && digits(number)
    };
    ok.then_some(s)
}

/// The county or village hotline: 3–20 digits with at most two dashes (12345, 0310-12345).
pub fn hotline(input: &str) -> Option<String> {
    let s = input.trim();
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let ok = (3..=20).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && s.bytes().filter(|b| *b == b'-').count() <= 2
        && !s.starts_with('-')
        && !s.ends_with('-')
        && digits >= 3;
    ok.then(|| s.to_string())
}

fn text(v: &Value, field: String, label: &str, max: usize) -> Result<String, FieldError> {
    let Some(s) = v.as_str() else {
        return Err(err(field, format!("请填写{label}")));
    };
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 {
        return Err(err(field, format!("请填写{label}")));
    }
    if n > max {
        return Err(err(field, format!("{label}最多{max}个字")));
    }
    if s.chars().any(char::is_control) {
        return Err(err(field, format!("{label}含有不能打印的字符")));
    }
    Ok(s.to_string())
}

/// Parses the `contacts` array of a request: 1–6 lines, each with post, name and a printable phone.
pub fn parse_contacts(v: &Value) -> Result<Vec<Contact>, FieldError> {
    let Some(items) = v.as_array() else {
        return Err(err("contacts", "联系人必须是列表"));
    };
    if items.is_empty() {
        return Err(err("contacts", "联系卡至少要有一位联系人"));
    }
    if items.len() > MAX_CONTACTS {
        return Err(err("contacts", format!("联系卡最多印{MAX_CONTACTS}位联系人")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |k: &str| format!("contacts[{i}].{k}");
            if !item.is_object() {
                return Err(err(format!("contacts[{i}]"), "联系人格式不正确"));
            }
            let post = text(&item["post"], at("post"), "职务", MAX_POST_CHARS)?;
            let name = text(&item["name"], at("name"), "姓名", MAX_NAME_CHARS)?;
            let raw = item["phone"].as_str().unwrap_or("");
            let phone =
                card_phone(raw).ok_or_else(|| err(at("phone"), "电话号码格式不正确（手机号或带区号的固定电话）"))?;
            Ok(Contact { post, name, phone })
        })
        .collect()
}

/// What a caller wants to do with cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardAccess {
    /// List, read details and scan counts, download SVG/PNG/PDF.
    Read,
    /// Issue, rotate, revoke, edit contacts.
    Manage,
}

/// Who may touch the cards of a region (a village, or every village under a township or county):
/// an admin within their region, or township staff for their own villages (the township prints and
/// posts them); leaders and inspectors may read within their region. Everyone else: no.
pub fn may(scope: &Scope, own_region_level: Option<RegionLevel>, target_path: &str, access: CardAccess) -> bool {
    let covers = !scope.region_path.is_empty() && target_path.starts_with(&scope.region_path);
    if !covers {
        return false;
    }
    if scope.has(Role::Admin) || own_region_level == Some(RegionLevel::Township) {
        return true;
    }
    access == CardAccess::Read && (scope.has(Role::Leader) || scope.has(Role::Inspector))
}

/// Whether the caller may use card features at all (for lists, which are then filtered by region).
pub fn may_list(scope: &Scope, own_region_level: Option<RegionLevel>) -> bool {
    may(scope, own_region_level, &scope.region_path, CardAccess::Read)
}

/// Why a printed card's QR code would not open on a villager's phone, if it would not: the
/// `public_url` it encodes is a loopback, private or reserved address, or a demo host. Printed
/// cards carry this as a warning across them, so a test print is never posted by mistake.
pub fn print_warning(public_url: &str) -> Option<String> {
    let rest = public_url.trim();
    let Some(rest) = rest.strip_prefix("https://").or_else(|| rest.strip_prefix("http://")) else {
        return Some(format!("二维码地址「{rest}」不是网址，群众手机无法打开"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or("").to_ascii_lowercase(),
        None => authority.split(':').next().unwrap_or("").trim_end_matches('.').to_ascii_lowercase(),
    };
    let why = |what: &str| Some(format!("二维码指向{what}（{host}），群众手机无法打开"));
    if host.is_empty() {
        return Some("二维码地址没有主机名，群众手机无法打开".into());
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return match ip {
            std::net::IpAddr::V4(v4) if v4.is_loopback() || v4.is_unspecified() => why("本机地址"),
            std::net::IpAddr::V4(v4)
                if v4.is_private()
                    || v4.is_link_local()
                    || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) =>
            {
                why("内网地址")
            }
            std::net::IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => why("本机地址"),
            std::net::IpAddr::V6(v6)
                if (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80 =>
            {
                why("内网地址")
            }
            _ => None,
        };
    }
    let labels: Vec<&str> = host.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    if host == "localhost" || tld == "localhost" {
        return why("本机地址");
    }
    // Names that never resolve on the internet (RFC 2606, RFC 6761, mDNS, home networks).
    if matches!(tld, "test" | "example" | "invalid" | "local" | "lan" | "internal" | "intranet" | "home" | "corp")
        || host.ends_with(".home.arpa")
        || matches!(host.as_str(), "example.com" | "example.net" | "example.org")
        || host.ends_with(".example.com")
        || host.ends_with(".example.net")
        || host.ends_with(".example.org")
        || labels.len() == 1
    {
        return why("测试或内网域名");
    }
    if labels.iter().any(|l| *l == "demo" || l.starts_with("demo-")) {
        return why("演示地址");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(roles: &[Role], path: &str) -> Scope {
        Scope { roles: roles.to_vec(), region_path: path.into(), unit_id: None }
    }

    #[test]
    fn admins_and_township_staff_manage_their_own_villages_only() {
        let village = "/1/2/3/";
        let other_township_village = "/1/9/10/";
        let admin = scope(&[Role::Admin], "/1/");
        assert!(may(&admin, Some(RegionLevel::County), village, CardAccess::Manage));
        let township_cadre = scope(&[Role::Cadre], "/1/2/");
        assert!(may(&township_cadre, Some(RegionLevel::Township), village, CardAccess::Manage));
        assert!(!may(&township_cadre, Some(RegionLevel::Township), other_township_village, CardAccess::Manage));
        assert!(!may(&township_cadre, Some(RegionLevel::Township), "/1/", CardAccess::Read), "not the whole county");
        // "/1/2/" must not reach "/1/20/…".
        assert!(!may(&township_cadre, Some(RegionLevel::Township), "/1/20/21/", CardAccess::Read));
        let county_dispatcher = scope(&[Role::Dispatcher, Role::Operator], "/1/");
        assert!(!may(&county_dispatcher, Some(RegionLevel::County), village, CardAccess::Manage));
        assert!(!may(&county_dispatcher, Some(RegionLevel::County), village, CardAccess::Read));
        let village_cadre = scope(&[Role::Cadre], village);
        assert!(!may(&village_cadre, Some(RegionLevel::Village), village, CardAccess::Read));
        let leader = scope(&[Role::Leader], "/1/");
        assert!(may(&leader, Some(RegionLevel::County), village, CardAccess::Read));
        assert!(!may(&leader, Some(RegionLevel::County), village, CardAccess::Manage));
        assert!(may_list(&leader, Some(RegionLevel::County)) && may_list(&township_cadre, Some(RegionLevel::Township)));
        assert!(!may_list(&county_dispatcher, Some(RegionLevel::County)));
        assert!(!may(&scope(&[Role::Admin], ""), Some(RegionLevel::County), village, CardAccess::Read));
    }

    #[test]
    fn contacts_are_parsed_with_the_failing_field_named() {
        let ok = json!([{"post": " 村党支部书记 ", "name": "李长河", "phone": "+86 139-0000-0301"},
                        {"post": "村委会", "name": "值班室", "phone": "0310-5551234"}]);
        let c = parse_contacts(&ok).unwrap();
        assert_eq!(c[0], Contact { post: "村党支部书记".into(), name: "李长河".into(), phone: "13900000301".into() });
        assert_eq!(c[1].phone, "0310-5551234");
        let bad_phone = json!([{"post": "网格员", "name": "王五", "phone": "12345"}]);
        assert_eq!(parse_contacts(&bad_phone).unwrap_err().field, "contacts[0].phone");
        let no_name = json!([ok[0].clone(), {"post": "网格员", "phone": "13900000001"}]);
        assert_eq!(parse_contacts(&no_name).unwrap_err().field, "contacts[1].name");
        let long_post = json!([{"post": "一二三四五六七八九十一二三", "name": "王五", "phone": "13900000001"}]);
        assert_eq!(parse_contacts(&long_post).unwrap_err().field, "contacts[0].post");
        assert_eq!(parse_contacts(&json!([])).unwrap_err().field, "contacts");
        assert_eq!(parse_contacts(&json!("x")).unwrap_err().field, "contacts");
        let seven: Vec<Value> = (0..7).map(|_| ok[0].clone()).collect();
        assert_eq!(parse_contacts(&Value::Array(seven)).unwrap_err().field, "contacts");
    }

    #[test]
    fn phones_and_hotlines() {
        assert_eq!(card_phone("03105551234").as_deref(), Some("03105551234"));
        assert_eq!(card_phone("010-12345678").as_deref(), Some("010-12345678"));
        for bad in ["", "12345", "0310-123", "abc", "1-5551234", "0310-555123a"] {
            assert!(card_phone(bad).is_none(), "{bad}");
        }
        assert_eq!(hotline(" 12345 ").as_deref(), Some("12345"));
        assert_eq!(hotline("0310-12345").as_deref(), Some("0310-12345"));
        for bad in ["", "12", "-123", "123-", "1-2-3-4", "12a45"] {
            assert!(hotline(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_card_warns_when_its_qr_code_cannot_open_on_a_villagers_phone() {
        for (url, why) in [
            ("http://127.0.0.1:8080", "本机地址"),
            ("http://127.9.9.9", "本机地址"),
            ("http://localhost:8080/", "本机地址"),
            ("http://app.localhost", "本机地址"),
            ("http://[::1]:8080", "本机地址"),
            ("http://0.0.0.0:8080", "本机地址"),
            ("http://192.168.1.20", "内网地址"),
            ("http://10.0.0.5:8080", "内网地址"),
            ("http://172.20.1.1", "内网地址"),
            ("http://minsheng.test", "测试或内网域名"),
            ("https://example.com", "测试或内网域名"),
            ("http://minsheng", "测试或内网域名"),
            ("https://demo.minsheng.cn", "演示地址"),
        ] {
            let w = print_warning(url).unwrap_or_else(|| panic!("{url} should warn"));
            assert!(w.contains(why), "{url}: {w}");
        }
        assert!(print_warning("minsheng.gov.cn").is_some_and(|w| w.contains("不是网址")));
        for url in
            ["https://12345.qinghe.gov.cn", "http://8.8.8.8", "https://ms.example.cn/", "https://minsheng.cn:8443"]
        {
            assert_eq!(print_warning(url), None, "{url}");
        }
    }
}
