//! The module map of docs/DESIGN.md, checked on the source: which top-level module of `src/`
//! uses which (`crate::name` paths), no circle among them, and the directions the design keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Top-level module → the top-level modules its code names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&src).ok()?;
            let first = rel.components().next()?.as_os_str().to_str()?;
            Some(first.trim_end_matches(".rs").to_string())
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let me = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if me == "lib" || me == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let uses = g.entry(me.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + 7..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name != me && modules.contains(&name) {
                uses.insert(name);
            }
        }
    }
    g
}

fn reaches(g: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for n in g.get(&m).into_iter().flatten() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                todo.push(n.clone());
            }
        }
    }
    false
}

#[test]
fn no_circle_between_top_level_modules() {
    let g = graph();
    for (m, uses) in &g {
        for n in uses {
            assert!(!reaches(&g, n, m), "{m} uses {n}, which leads back to {m}");
        }
    }
}

#[test]
fn the_directions_of_the_module_map_hold() {
    let g = graph();
    let uses = |m: &str| g.get(m).cloned().unwrap_or_default();
    for (m, used) in &g {
        if m != "app" {
            assert!(!used.contains("http"), "{m} imports http; only app may");
        }
    }
    for above in [
        "engine",
        "auth",
        "backoffice",
        "candidates",
        "workers",
        "app",
        "http",
        "index",
    ] {
        assert!(!uses("mail").contains(above), "mail imports {above}");
    }
    for core in ["domain", "store", "index", "percolator", "engine"] {
        for above in [
            "auth",
            "backoffice",
            "candidates",
            "workers",
            "app",
            "http",
            "mail",
            "ops",
        ] {
            assert!(!uses(core).contains(above), "{core} imports {above}");
        }
    }
    assert!(!uses("auth").contains("backoffice") && !uses("auth").contains("candidates"));
    // The operations of the command line sit above the engine; only the composition root
    // starts their control socket.
    for (m, used) in &g {
        if m != "app" {
            assert!(!used.contains("ops"), "{m} imports ops; only app may");
        }
    }
}
