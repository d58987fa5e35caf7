//! The layout rules of README "Architecture", checked on the source so they cannot drift: only
//! `src/repo` touches the entities, every ticket change goes through one door, and the service
//! modules depend on each other without a loop.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file without its unit tests (they may build what production code may not).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[test]
fn only_the_repo_layer_uses_the_entities() {
    let mut offenders = vec![];
    for path in rust_files(&src()) {
        if path.starts_with(src().join("repo")) {
            continue;
        }
        let text = code(&path);
        if text.contains("entity::") || text.lines().any(|l| l.trim_start().starts_with("use entity")) {
            offenders.push(path.strip_prefix(src()).unwrap().display().to_string());
        }
    }
    assert!(offenders.is_empty(), "entity types used outside src/repo: {offenders:?}");
}

#[test]
fn every_ticket_change_goes_through_the_one_door() {
    let door = src().join("services/change.rs");
    let mut offenders = vec![];
    for path in rust_files(&src()) {
        if path == door || path.starts_with(src().join("repo")) {
            continue;
        }
        if code(&path).contains("tickets::apply(") {
            offenders.push(path.strip_prefix(src()).unwrap().display().to_string());
        }
    }
    assert!(offenders.is_empty(), "ticket changes that bypass services::change: {offenders:?}");
}

/// Which service modules each service module uses (`super::x` at the top level of `services`,
/// `crate::services::x` anywhere).
fn service_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = src().join("services");
    let modules: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_stem().is_some_and(|s| s != "mod"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(&root) {
        let rel = path.strip_prefix(&root).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "mod" {
            continue;
        }
        // In a module's own folder `super::` is that module; at the top level it is `services`.
        let nested = rel.components().count() > 1 && !rel.ends_with("mod.rs");
        let text = code(&path);
        let mut used = BTreeSet::new();
        for prefix in ["crate::services::", "super::"] {
            if prefix == "super::" && nested {
                continue;
            }
            for (i, _) in text.match_indices(prefix) {
                let name: String =
                    text[i + prefix.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) && name != top {
                    used.insert(name);
                }
            }
        }
        deps.entry(top).or_default().extend(used);
    }
    deps
}

#[test]
fn the_service_modules_have_no_dependency_loop() {
    let deps = service_dependencies();
    assert!(deps.get("actions").is_some_and(|d| d.contains("change")), "the scan sees dependencies: {deps:?}");
    // Depth-first search for a back edge, reporting the loop it closes.
    fn visit(
        n: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in deps.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, deps, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in deps.keys() {
        if let Some(cycle) = visit(n, &deps, &mut vec![], &mut done) {
            panic!("service modules depend on each other in a loop: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn no_page_markup_is_built_in_rust_strings() {
    // Pages come from the askama templates in templates/ (escaped by default); the printable card
    // (src/cards) is SVG drawn by its own writer.
    let mut offenders = vec![];
    for path in rust_files(&src()) {
        if path.starts_with(src().join("cards")) {
            continue;
        }
        for (n, line) in code(&path).lines().enumerate() {
            let tag = line.match_indices("\"<").any(|(i, _)| {
                line[i + 2..].chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
            });
            if tag {
                offenders.push(format!("{}:{}", path.strip_prefix(src()).unwrap().display(), n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "HTML built in Rust string literals: {offenders:?}");
}
