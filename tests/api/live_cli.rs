//! The command line against a live server: every operation reaches the running engine through
//! the control socket, a backup taken during a publish storm restores every acknowledged
//! offer, and a data dir held without a server answering gets an explanation.

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use offerwatch::Engine;
use offerwatch::config::Config;
use offerwatch::domain::SearchParams;

use crate::helpers::*;

fn cli(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_offerwatch"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LOG", "warn");
    match stdin {
        None => cmd.output().unwrap(),
        Some(text) => {
            use std::io::Write;
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

async fn cli_async(data_dir: std::path::PathBuf, args: Vec<String>) -> Output {
    offerwatch::blocking::run(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&data_dir, &args, None)
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn listen(app: &TestApp) -> offerwatch::ops::control::Listening {
    let config = Config {
        data_dir: app.data_dir.clone(),
        public_url: Some("https://portail.example".into()),
        ..Config::default()
    };
    offerwatch::ops::control::listen(app.engine.clone(), config).unwrap()
}

#[tokio::test]
async fn every_command_works_on_a_live_server() {
    let app = spawn_app(30).await;
    let _control = listen(&app);
    let dir = app.data_dir.clone();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("control.sock"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // admin create: the account exists in the running server's store.
    let o = cli(
        &dir,
        &["admin", "create", "--email", "ops@culture.gouv.fr"],
        None,
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("https://portail.example/set-password?token="),
        "{out}"
    );
    assert!(
        app.engine
            .store()
            .account_by_login("ops@culture.gouv.fr")
            .unwrap()
            .is_some()
    );
    let o = cli(&dir, &["admin", "pending"], None);
    assert!(text(&o).0.contains("no pending recruiter request"));

    // sources add / list: registered in the running server's store; mistakes named first.
    let bo = offerwatch::backoffice::Backoffice::new(&app.engine, "https://portail.example");
    let (admin, _) = bo.create_admin("chef@culture.gouv.fr", "C", "C").unwrap();
    let service = bo
        .create_service(&admin, "Partenaire", "regions", None)
        .unwrap();
    let sid = service.id.to_string();
    let o = cli(
        &dir,
        &[
            "sources",
            "add",
            "https://partenaire.example/offres.rss",
            "--service",
            &sid,
            "--defaults",
            r#"{"contract":"stage"}"#,
        ],
        None,
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("source 1 registered: https://partenaire.example/offres.rss"),
        "{out}"
    );
    let stored = app.engine.store().sources().unwrap();
    assert_eq!(stored[0].defaults.contract.as_deref(), Some("stage"));
    let o = cli(&dir, &["sources", "list"], None);
    assert!(text(&o).0.contains("never polled"), "{:?}", text(&o));
    let o = cli(
        &dir,
        &["sources", "add", "ftp://x", "--service", "999"],
        None,
    );
    assert!(!o.status.success());
    let err = text(&o).1;
    assert!(err.contains("url") && err.contains("service"), "{err}");
    let o = cli(
        &dir,
        &[
            "sources",
            "add",
            "https://x.example",
            "--service",
            &sid,
            "--defaults",
            "{",
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--defaults"), "{:?}", text(&o));

    // import from a file and from stdin: searchable on the server right away.
    let mut line: serde_json::Value = serde_json::from_str(&offerwatch::fixtures::to_json_line(
        &offerwatch::fixtures::Generator::new(5, time::macros::date!(2026 - 11 - 20))
            .next()
            .unwrap(),
    ))
    .unwrap();
    line["title"] = "Apprenti xylographe".into();
    line["state"] = "published".into();
    let file = dir.join("one.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let o = cli(&dir, &["import", file.to_str().unwrap()], None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(
        text(&o)
            .0
            .contains("imported 1 offers (0 rejected, 0 towns without a commune)")
    );
    visible_soon(&app, "xylographe", 1).await;
    line["title"] = "Stagiaire lithographe".into();
    let bad = r#"{"title": "sans contrat"}"#;
    let o = cli(&dir, &["import", "-"], Some(&format!("{line}\n{bad}\n")));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("imported 1 offers (1 rejected, 0 towns without a commune)"),
        "{out}"
    );
    assert!(err.contains("line 2:") && err.contains("contract"), "{err}");
    visible_soon(&app, "lithographe", 1).await;

    // search prints what the server's index finds; a bad criterion is named before anything.
    let o = cli(&dir, &["search", "lithographe"], None);
    let (out, _) = text(&o);
    assert!(out.starts_with("1 offres"), "{out}");
    assert!(out.contains("Stagiaire lithographe"), "{out}");
    let o = cli(&dir, &["search", "--contract", "cdi"], None);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("contract"), "{:?}", text(&o));

    // rebuild-index goes through the server's index writer.
    let searchable = app.engine.index().num_docs();
    let o = cli(&dir, &["rebuild-index"], None);
    assert!(o.status.success(), "{:?}", text(&o));
    let want = format!("index rebuilt: {searchable} offers searchable");
    assert!(text(&o).0.contains(&want), "{:?}", text(&o));
    assert_eq!(public_total(&app, "lithographe").await, 1);
}

#[tokio::test]
async fn a_data_dir_in_use_without_a_server_answering_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let o = cli(dir.path(), &["admin", "pending"], None);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("in use by another offerwatch process"),
        "{err}"
    );
    assert!(
        err.contains("control.sock") && err.contains("wait for it"),
        "{err}"
    );
    assert!(!err.contains("Cannot acquire lock"), "{err}");
    engine.shutdown();
}

#[tokio::test]
async fn a_backup_during_a_publish_storm_restores_every_acknowledged_offer() {
    let app = spawn_app(200).await;
    let _control = listen(&app);
    let (token, service) = recruiter_of_new_service(
        &app,
        "Musée des copies",
        "min-culture",
        "rec@culture.gouv.fr",
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = Arc::new(app);
    let mut publishers = Vec::new();
    for _ in 0..4 {
        let (app, token, stop) = (app.clone(), token.clone(), stop.clone());
        let published = published.clone();
        publishers.push(tokio::spawn(async move {
            let rec = app.with_token(token);
            let mut acknowledged = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let (s, draft) = rec
                    .post("/api/v1/recruiter/offers", offer_body(service))
                    .await;
                assert_eq!(s, 201, "{draft}");
                let reference = draft["reference"].as_str().unwrap().to_string();
                let (s, b) = rec.offer_action(&reference, "publish").await;
                assert_eq!(s, 200, "{b}");
                acknowledged.push((Instant::now(), reference));
                published.fetch_add(1, Ordering::SeqCst);
            }
            acknowledged
        }));
    }
    // The backup starts once the storm has acknowledged a few offers (however loaded the
    // machine is).
    let waited = Instant::now();
    while published.load(Ordering::SeqCst) < 8 && waited.elapsed().as_secs() < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let backup = tempfile::tempdir().unwrap();
    let dest = backup.path().join("copy");
    let began = Instant::now();
    let o = cli_async(
        app.data_dir.clone(),
        vec!["backup".into(), dest.to_str().unwrap().into()],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    {
        // The copy is its owner's alone.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dest), 0o700);
        for e in std::fs::read_dir(&dest).unwrap().flatten() {
            if e.path().is_file() {
                assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
            }
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let mut before = Vec::new();
    let mut total = 0;
    for p in publishers {
        let acknowledged = p.await.unwrap();
        total += acknowledged.len();
        before.extend(
            acknowledged
                .into_iter()
                .filter(|(t, _)| *t < began)
                .map(|(_, r)| r),
        );
    }
    assert!(
        before.len() >= 4 && total > before.len(),
        "the storm ran across the backup: {} before, {total} in all",
        before.len()
    );

    // Restore into a fresh data dir: every offer acknowledged before the backup is there and
    // searchable (the index is rebuilt from the restored store).
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    let o = cli(&target, &["restore", dest.to_str().unwrap()], None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("restored"), "{:?}", text(&o));
    let o = cli(&target, &["restore", dest.to_str().unwrap()], None);
    assert!(
        !o.status.success(),
        "a second restore over a store is refused"
    );
    assert!(text(&o).1.contains("--replace"), "{:?}", text(&o));
    let restored = Engine::open(&target).unwrap();
    assert!(restored.store().offer_count().unwrap() >= 200 + before.len() as u64);
    for reference in &before {
        let page = restored
            .search(&SearchParams::from_pairs(&[("q".into(), reference.clone())]).unwrap())
            .unwrap();
        assert_eq!(
            page.total, 1,
            "{reference} is not searchable after the restore"
        );
    }
    assert!(
        restored
            .store()
            .account_by_login("rec@culture.gouv.fr")
            .unwrap()
            .is_some()
    );
    restored.shutdown();
}
