//! The standard catalogue of requests (首问首办 17类28项), shipped as data in
//! `assets/catalogue/standard.yaml`, and loading a catalogue file into a county that has no
//! categories yet (`minsheng admin catalogue load standard`; the demo county is seeded the same way).
use crate::domain::sla::Policy;
use crate::domain::values::{HandlingLevel, Priority};
use crate::repo;
use anyhow::{Context, bail, ensure};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::collections::HashSet;

/// The shipped standard catalogue.
pub const STANDARD: &str = include_str!("../../assets/catalogue/standard.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    categories: Vec<Entry>,
}

/// One subject or item of a catalogue file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The county department (a unit's name) that handles it at county level, if the county has it.
    pub department: Option<String>,
    pub policy: Option<PolicySpec>,
    /// A card intake in it is dispatched at once to the suggested unit (its items inherit nothing:
    /// each says so itself).
    #[serde(default)]
    pub auto_dispatch: bool,
    /// The kind a request here usually is (consultation, complaint, …).
    pub default_kind: Option<String>,
    #[serde(default)]
    pub items: Vec<Entry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Days to the result (the default is DESIGN.md's 72 hours).
    pub resolve_days: Option<i64>,
    pub signoff_required: Option<bool>,
}

/// Reads and checks a catalogue file: known levels, unique codes, each item's code under its
/// subject's (`water.supply` under `water`), names 1–30 characters, at most two levels.
pub fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
    let file: CatalogueFile = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Yaml))
        .build()
        .and_then(|c| c.try_deserialize())
        .context("the catalogue file is not valid YAML of the expected shape")?;
    let mut seen = HashSet::new();
    let mut check = |e: &Entry, parent: Option<&str>| -> anyhow::Result<()> {
        ensure!(HandlingLevel::parse(&e.level).is_some(), "{}: unknown level {:?}", e.code, e.level);
        if let Some(k) = &e.default_kind {
            ensure!(crate::domain::values::Kind::parse(k).is_some(), "{}: unknown default_kind {k:?}", e.code);
        }
        ensure!((1..=30).contains(&e.name.chars().count()), "{}: the name must have 1 to 30 characters", e.code);
        ensure!(seen.insert(e.code.clone()), "{}: the code appears twice", e.code);
        if let Some(p) = parent {
            ensure!(
                e.code.starts_with(&format!("{p}.")),
                "{}: an item's code starts with its subject's ({p}.)",
                e.code
            );
            ensure!(e.items.is_empty(), "{}: items have no items of their own", e.code);
        }
        if let Some(days) = e.policy.as_ref().and_then(|p| p.resolve_days) {
            ensure!((1..=365).contains(&days), "{}: resolve_days must be 1 to 365", e.code);
        }
        Ok(())
    };
    for top in &file.categories {
        check(top, None)?;
        for item in &top.items {
            check(item, Some(&top.code))?;
        }
    }
    ensure!(!file.categories.is_empty(), "the catalogue has no categories");
    Ok(file.categories)
}

/// What a load wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct Loaded {
    pub subjects: usize,
    pub items: usize,
    pub policies: usize,
}

/// Loads a catalogue into a county without categories (the caller's transaction): the categories in
/// file order, each department resolved to the county's unit of that name, the county's default
/// SLA policies if it has none, and each subject's own policy.
pub async fn load<C: ConnectionTrait>(db: &C, text: &str) -> anyhow::Result<Loaded> {
    let entries = parse(text)?;
    if !repo::catalog::every_category(db).await?.is_empty() {
        bail!("this county already has categories: a catalogue is loaded only into an empty one");
    }
    let mut sort = 0;
    let mut loaded = Loaded { subjects: 0, items: 0, policies: 0 };
    for top in &entries {
        for (entry, parent) in
            std::iter::once((top, None)).chain(top.items.iter().map(|i| (i, Some(top.code.as_str()))))
        {
            let unit = match &entry.department {
                Some(name) => repo::regions::active_unit_named(db, name).await?.map(|u| u.id),
                None => None,
            };
            let row = repo::catalog::Category {
                code: entry.code.clone(),
                name: entry.name.clone(),
                parent_code: parent.map(str::to_string),
                level: entry.level.clone(),
                sort,
                active: true,
                unit_id: unit,
                auto_dispatch: entry.auto_dispatch,
                default_kind: entry.default_kind.clone(),
            };
            repo::catalog::insert_category(db, row).await?;
            sort += 1;
            if parent.is_some() {
                loaded.items += 1;
            } else {
                loaded.subjects += 1;
            }
            if let Some(p) = &entry.policy {
                let base = Policy::default_normal();
                let policy = Policy {
                    resolve_minutes: p.resolve_days.map_or(base.resolve_minutes, |d| d * 24 * 60),
                    signoff_required: p.signoff_required.unwrap_or(false),
                    ..base
                };
                repo::catalog::insert_policy(db, &entry.name, Some(&entry.code), None, Priority::Normal, &policy)
                    .await?;
                loaded.policies += 1;
            }
        }
    }
    let policies = repo::sla_policies::list(db).await?;
    if !policies.iter().any(|p| p.category_code.is_none() && p.kind.is_none() && p.priority == Priority::Normal) {
        repo::catalog::insert_policy(db, "默认（普通）", None, None, Priority::Normal, &Policy::default_normal())
            .await?;
        loaded.policies += 1;
    }
    if !policies.iter().any(|p| p.category_code.is_none() && p.kind.is_none() && p.priority == Priority::Urgent) {
        repo::catalog::insert_policy(db, "默认（紧急）", None, None, Priority::Urgent, &Policy::default_urgent())
            .await?;
        loaded.policies += 1;
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_catalogue_has_17_subjects_with_28_items_covering_the_required_ones() {
        let all = parse(STANDARD).unwrap();
        assert_eq!(all.len(), 17);
        assert_eq!(all.iter().map(|t| t.items.len()).sum::<usize>(), 28);
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        for want in [
            "饮水安全",
            "道路交通",
            "产业发展",
            "水电气热",
            "拖欠工资",
            "土地纠纷",
            "住房安全",
            "环境卫生",
            "社会保障",
            "教育就学",
            "医疗卫生",
            "邻里纠纷",
            "社会治安",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        let wages = all.iter().find(|t| t.code == "wages").unwrap();
        assert_eq!(wages.policy.as_ref().and_then(|p| p.resolve_days), Some(15));
    }

    #[test]
    fn a_broken_catalogue_is_refused_with_the_reason() {
        let bad = |text: &str, says: &str| {
            let e = parse(text).unwrap_err();
            assert!(format!("{e:#}").contains(says), "{e:#} should say {says}");
        };
        bad("categories:\n  - { code: a, name: 甲, level: city }\n", "unknown level");
        bad(
            "categories:\n  - { code: a, name: 甲, level: village }\n  - { code: a, name: 乙, level: village }\n",
            "twice",
        );
        bad(
            "categories:\n  - code: a\n    name: 甲\n    level: village\n    items:\n      - { code: b, name: 乙, level: village }\n",
            "starts with",
        );
        bad("categories:\n  - { code: a, name: 甲, level: village, colour: red }\n", "expected shape");
    }
}
