//! The public red/black list page (`/redblack`).
use super::Frame;
use askama::Template;
use serde_json::Value;

/// One unit on the list, in words: rank, name, score and each rate with its numerator and
/// denominator ("92.5%（37/40）").
pub struct RedBlackRow {
    pub rank: u64,
    pub name: String,
    pub score: String,
    pub response: String,
    pub resolution: String,
    pub satisfaction: String,
}

pub struct RedBlackTier {
    pub label: String,
    pub red: Vec<RedBlackRow>,
    pub black: Vec<RedBlackRow>,
}

/// A rate with its numerator and denominator, "92.5%（37/40）"; "—" without data.
fn pct(rate: &Value, f: &Value) -> String {
    match rate.as_f64() {
        Some(r) => format!(
            "{:.1}%（{}/{}）",
            r * 100.0,
            (f["numerator"].as_f64().unwrap_or(0.0) * 10.0).round() / 10.0,
            f["denominator"]
        ),
        None => "—".into(),
    }
}

impl RedBlackRow {
    fn all_of(list: &Value) -> Vec<RedBlackRow> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|r| RedBlackRow {
                rank: r["rank"].as_u64().unwrap_or(0),
                name: r["unit"]["name"].as_str().unwrap_or("").to_string(),
                score: r["composite_score"].as_f64().map_or("—".into(), |s| format!("{s:.1}")),
                response: pct(&r["response_rate"], &r["fractions"]["response"]),
                resolution: pct(&r["resolution_rate"], &r["fractions"]["resolution"]),
                satisfaction: pct(&r["satisfaction_rate"], &r["fractions"]["satisfaction"]),
            })
            .collect()
    }
}

impl RedBlackTier {
    /// The tiers of a published list (`tiers` of `services::redblack::view`), in words: the public
    /// page and the weekly e-mail show them alike.
    pub fn all_of(tiers: &Value) -> Vec<RedBlackTier> {
        tiers
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| RedBlackTier {
                label: t["tier_label"].as_str().filter(|l| !l.is_empty()).unwrap_or("单位").to_string(),
                red: RedBlackRow::all_of(&t["red"]),
                black: RedBlackRow::all_of(&t["black"]),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "redblack.html")]
pub struct RedBlackPage<'a> {
    pub frame: Frame,
    pub week: &'a str,
    pub period: String,
    pub published: String,
    pub tiers: Vec<RedBlackTier>,
    pub formula: &'a str,
    pub rules: Vec<String>,
    pub weeks: Vec<String>,
    pub chain_ok: bool,
}
