//! Template variables as providers accept them: strings only, no links, no 【】 (they would pose as
//! a signature), verification codes of 4–6 digits, and no longer than the account allows.
use super::values::OutboxKind;
use serde_json::Value;

/// The variables as strings (providers reject numbers and booleans in template parameters).
pub fn as_strings(params: &Value) -> Vec<(String, String)> {
    let Some(obj) = params.as_object() else { return vec![] };
    obj.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect()
}

/// Checks variables against provider limits; the error names the variable, in Chinese.
pub fn validate(kind: &str, vars: &[(String, String)], max_chars: usize) -> Result<(), String> {
    for (name, value) in vars {
        let v = value.trim();
        if v.is_empty() {
            return Err(format!("模板变量 {name} 为空"));
        }
        let lower = v.to_ascii_lowercase();
        if lower.contains("://") || lower.starts_with("www.") || lower.contains(" www.") {
            return Err(format!("模板变量 {name} 不能包含链接"));
        }
        if v.contains('【') || v.contains('】') {
            return Err(format!("模板变量 {name} 不能包含【】"));
        }
        let n = v.chars().count();
        if max_chars > 0 && n > max_chars {
            return Err(format!("模板变量 {name} 长 {n} 字，超过服务商上限 {max_chars} 字"));
        }
        let digits = (4..=6).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
        if OutboxKind::parse(kind) == Some(OutboxKind::Otp) && name == "code" && !digits {
            return Err("验证码须为4到6位数字".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vec<(String, String)> {
        as_strings(&v)
    }

    #[test]
    fn values_become_strings() {
        assert_eq!(vars(json!({"n": 3, "s": "x", "z": null})), [("n".into(), "3".into()), ("s".into(), "x".into())]);
    }

    #[test]
    fn provider_limits_are_enforced() {
        assert!(validate("assignment", &vars(json!({"no": "20261122-000001", "village": "李家庄村"})), 35).is_ok());
        assert!(validate("assignment", &vars(json!({"no": "20261122-000001"})), 12).unwrap_err().contains("no"));
        assert!(validate("assignment", &vars(json!({"no": "20261122-000001"})), 0).is_ok());
        assert!(validate("confirmation", &vars(json!({"no": "见 https://x.cn"})), 0).is_err());
        assert!(validate("confirmation", &vars(json!({"no": "www.x.cn"})), 0).is_err());
        assert!(validate("confirmation", &vars(json!({"no": "【假签名】"})), 0).is_err());
        assert!(validate("confirmation", &vars(json!({"no": " "})), 0).is_err());
        assert!(validate("otp", &vars(json!({"code": "123456"})), 0).is_ok());
        assert!(validate("otp", &vars(json!({"code": "12a456"})), 0).is_err());
        assert!(validate("otp", &vars(json!({"code": "1234567"})), 0).is_err());
    }
}
