//! The real binary: `serve --addr 127.0.0.1:0 --demo`, then SIGTERM.

use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_demo_answers_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // The operator's metrics on an address of their own (a port free a moment ago).
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let (mut child, base) = serve_demo_with(
        dir.path(),
        &[(
            "OFFERWATCH_METRICS_ADDR",
            std::path::Path::new(&metrics_addr),
        )],
    )
    .await;
    let public = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(public.status(), 404, "not on the public address");
    let own = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("index_documents"));
    // What the server wrote is its user's alone.
    fn walk(dir: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", e.path().display());
            if meta.is_dir() {
                walk(&e.path());
            }
        }
    }
    walk(dir.path());
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
    let exit = offerwatch::blocking::run(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    // The index was committed on the way out: the next start finds it current.
    let (_, state) = offerwatch::index::SearchIndex::open(
        &dir.path().join("index"),
        Default::default(),
        offerwatch::index::synonyms::Synonyms::builtin(),
    )
    .unwrap();
    assert!(matches!(
        state,
        offerwatch::index::IndexState::Current { .. }
    ));
}

/// Starts the binary on a fresh data dir with demo data and `env`; returns it and its base URL.
async fn serve_demo_with(
    dir: &std::path::Path,
    env: &[(&str, &std::path::Path)],
) -> (std::process::Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_offerwatch"));
    cmd.args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let (child, base) = offerwatch::blocking::run(move || {
        let base = crate::helpers::listening_base(&mut child);
        (child, base)
    })
    .await
    .unwrap();
    (child, base)
}

#[tokio::test]
async fn a_changed_synonym_list_applies_to_search_and_feeds_without_reindexing() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("synonyms.json");
    std::fs::write(
        &list,
        r#"{"version": 1, "groups": [["RH", "ressources humaines"]]}"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let (mut child, base) = serve_demo_with(&data, &[("OFFERWATCH_SYNONYMS_FILE", &list)]).await;
    let total = |q: &'static str| {
        let url = format!("{base}/api/v1/offers?q={q}&per_page=0");
        async move {
            let v: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            v["total"].as_u64().unwrap()
        }
    };
    let informatique = total("informatique").await;
    assert!(informatique > 0);
    assert_eq!(total("zorglub").await, 0);
    let index_files = |d: &std::path::Path| {
        let mut v: Vec<_> = std::fs::read_dir(d.join("index"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".idx"))
            .collect();
        v.sort();
        v
    };
    let before = index_files(&data);
    assert!(!before.is_empty());
    std::fs::write(
        &list,
        r#"{"version": 2, "groups": [["RH", "ressources humaines"], ["zorglub", "informatique"]]}"#,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while total("zorglub").await != informatique {
        assert!(
            std::time::Instant::now() < deadline,
            "the new list was not applied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let rss = reqwest::get(format!("{base}/feeds/offers.rss?q=zorglub"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(&rss[..]).unwrap();
    assert!(!feed.entries.is_empty());
    // A list that does not parse leaves the previous one in place.
    std::fs::write(&list, r#"{"version": 3, "groups": [["zorglub"]]}"#).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(total("zorglub").await, informatique);
    assert_eq!(index_files(&data), before, "the index was not rebuilt");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = offerwatch::blocking::run(move || child.wait()).await;
}
