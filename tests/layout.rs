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

/// The modules of `store/` (its files and folders, the parent `mod.rs` aside) → the sibling
/// modules their code (tests aside) names.
fn store_graph() -> BTreeMap<String, BTreeSet<String>> {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files = Vec::new();
    sources(&store, &mut files);
    let module_of = |f: &Path| {
        let rel = f.strip_prefix(&store).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        first.trim_end_matches(".rs").to_string()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let me = module_of(f);
        if me == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        // A file of a folder names its siblings one `super::` further.
        let rel = f.strip_prefix(&store).unwrap();
        let depth = rel.components().count() - usize::from(rel.ends_with("mod.rs"));
        let prefixes = ["super::".repeat(depth), "crate::store::".to_string()];
        let uses = g.entry(me.clone()).or_default();
        for prefix in &prefixes {
            for (i, _) in code.match_indices(prefix.as_str()) {
                if prefix.starts_with("super") && code[..i].ends_with("super::") {
                    continue;
                }
                let rest = &code[i + prefix.len()..];
                let mut names = vec![
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>(),
                ];
                if let Some(group) = rest.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(0)];
                    names.extend(
                        group
                            .split(',')
                            .map(|n| n.trim().split("::").next().unwrap_or("").to_string()),
                    );
                }
                for name in names {
                    if name != me && modules.contains(&name) && name != "mod" {
                        uses.insert(name);
                    }
                }
            }
        }
    }
    g
}

#[test]
fn no_circle_between_the_modules_of_the_store() {
    let g = store_graph();
    for m in ["kv", "table", "redb", "postgres"] {
        assert!(g.contains_key(m), "no store module {m}: {g:?}");
    }
    for (m, uses) in &g {
        for n in uses {
            assert!(
                !reaches(&g, n, m),
                "store: {m} uses {n}, which leads back to {m}"
            );
        }
    }
    // The table layer sits on the backends, never the other way; the backends know the tables'
    // types only.
    assert!(
        g["kv"].contains("redb") && g["kv"].contains("postgres"),
        "{g:?}"
    );
    for backend in ["redb", "postgres"] {
        assert_eq!(
            g[backend].iter().collect::<Vec<_>>(),
            ["table"],
            "the {backend} backend: {g:?}"
        );
    }
}
