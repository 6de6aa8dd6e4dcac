//! Engine tests: the real store and index on a temp dir, no server.

mod common;
mod crash;
mod facets;
mod percolate;
mod search;
mod typos;

/// The same suite on PostgreSQL: this test binary again, every engine on a database of a
/// private cluster (Debian's PostgreSQL; failing, not skipped, when it cannot start).
#[test]
fn the_engine_suite_passes_on_postgres() {
    if std::env::var_os(common::ON_POSTGRES).is_some() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(common::ON_POSTGRES, "1")
        .args(["--skip", "the_engine_suite_passes_on_postgres"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "on PostgreSQL:\n{text}");
    assert!(text.contains("test result: ok"), "{text}");
    eprintln!(
        "{}",
        text.lines()
            .filter(|l| l.contains("test result"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
