//! The real binary: `serve --addr 127.0.0.1:0 --demo`, then SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_demo_answers_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_offerwatch"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect(&line)
        .to_string();
    let body: serde_json::Value = reqwest::get(format!("{base}/api/v1/offers?contract=stage"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["total"].as_u64().unwrap() > 1000,
        "demo data loaded: {}",
        body["total"]
    );
    assert!(
        body["offers"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    // The index was committed on the way out: the next start finds it current.
    let (_, state) = offerwatch::index::SearchIndex::open(&dir.path().join("index")).unwrap();
    assert!(matches!(
        state,
        offerwatch::index::IndexState::Current { .. }
    ));
}
