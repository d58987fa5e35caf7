//! The public red/black list page (`/redblack`).
use super::Frame;
use askama::Template;

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
