//! Two `serve` nodes on one PostgreSQL database (a private cluster of this test process): an
//! offer published on node A is searchable on node B within a second; 100 candidates' alerts ×
//! 50 publications spread over both nodes are mailed once per (alert, offer) to a real SMTP
//! server, while node A is SIGKILLed mid-storm and B finishes the work; a session opened on A
//! works on B; and the database moves back into an embedded store with `offerwatch migrate`.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use offerwatch::Engine;
use serde_json::json;

use crate::helpers::{offer_body, search_total};
use crate::smtp::{Sink, header};

const CANDIDATES: usize = 100;
const PUBLICATIONS: usize = 50;

fn start(dir: &std::path::Path, url: &str, smtp: &str) -> (crate::helpers::NodeProcess, String) {
    crate::helpers::serve_node(
        dir,
        &[
            ("OFFERWATCH_DATABASE_URL", url),
            ("OFFERWATCH_SMTP_URL", smtp),
        ],
    )
}

/// The accounts and alerts of the storm, written into the database with the library.
fn prepare(dir: &std::path::Path, url: &str) -> Vec<u64> {
    let engine = Engine::open_with(dir, Some(url), offerwatch::engine::system_clock()).unwrap();
    let searches = crate::helpers::prepare_alert_storm(&engine, CANDIDATES);
    engine.shutdown();
    searches
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let r = crate::helpers::recruiter_login(client, base).await;
    assert_eq!(r.status(), 200);
    r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn publish(client: &reqwest::Client, base: &str, token: &str, n: usize) -> Option<String> {
    let mut body = offer_body(1);
    body["state"] = json!("published");
    body["title"] = json!(format!("Stage de médiation numéro {n}"));
    let r = client
        .post(format!("{base}/api/v1/recruiter/offers"))
        .bearer_auth(token)
        .json(&body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    assert_eq!(r.status(), 201);
    let b: serde_json::Value = r.json().await.ok()?;
    Some(b["reference"].as_str()?.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_database_and_mail_each_match_once() {
    let url = offerwatch::testing::database_url();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (sink, smtp) = Sink::start().await;
    let searches = offerwatch::blocking::run({
        let (d, u) = (a_dir.path().to_path_buf(), url.clone());
        move || prepare(&d, &u)
    })
    .await
    .unwrap();
    assert_eq!(searches.len(), CANDIDATES);
    let (mut a, a_base) = start(a_dir.path(), &url, &smtp);
    let (mut b, b_base) = start(b_dir.path(), &url, &smtp);
    let client = reqwest::Client::new();

    // A session opened on A is good on B (sessions live in the database).
    let token = login(&client, &a_base).await;
    let me = client
        .get(format!("{b_base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "a session of node A on node B");

    // Published on A, searchable on B within a second.
    let first = publish(&client, &a_base, &token, 0).await.unwrap();
    let published_at = Instant::now();
    loop {
        if search_total(&client, &b_base, &first).await == 1 {
            break;
        }
        assert!(
            published_at.elapsed() < Duration::from_secs(1),
            "{first}, published on A, is not searchable on B after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let visible_after = published_at.elapsed();

    // The storm: publications alternate between the nodes; A is killed half-way.
    let mut acknowledged = vec![first];
    for n in 1..PUBLICATIONS {
        let on_a = n % 2 == 0 && n < PUBLICATIONS / 2;
        let base = if on_a { &a_base } else { &b_base };
        if let Some(r) = publish(&client, base, &token, n).await {
            acknowledged.push(r);
        }
        if n == PUBLICATIONS / 2 {
            // Mid-storm: the mails of the first half are being sent.
            a.kill().unwrap(); // SIGKILL
            a.wait().unwrap();
        }
    }
    assert_eq!(
        acknowledged.len(),
        PUBLICATIONS,
        "every publication answered"
    );

    // B finishes every mail (A's leases lapse, B takes the work over).
    let want = CANDIDATES * PUBLICATIONS;
    let started = Instant::now();
    let distinct = |sink: &Sink| -> HashMap<String, usize> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for m in sink.with("Message-ID: <alert.") {
            *seen.entry(header(&m, "Message-ID").unwrap()).or_default() += 1;
        }
        seen
    };
    while distinct(&sink).len() < want && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = distinct(&sink);
    let all_done = started.elapsed();

    // Every acknowledged offer is in the database and searchable on B.
    let engine = offerwatch::blocking::run({
        let (d, u) = (tempfile::tempdir().unwrap(), url.clone());
        move || {
            let e =
                Engine::open_with(d.path(), Some(&u), offerwatch::engine::system_clock()).unwrap();
            (e, d)
        }
    })
    .await
    .unwrap();
    let (engine, _check_dir) = engine;
    let engine = std::sync::Arc::new(engine);
    let (e, refs) = (engine.clone(), acknowledged.clone());
    let found = offerwatch::blocking::run(move || {
        refs.iter()
            .map(|r| e.store().offer_by_reference(r).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (reference, o) in acknowledged.iter().zip(found) {
        ids.push(
            o.unwrap_or_else(|| panic!("{reference} acknowledged, then lost"))
                .id,
        );
        assert_eq!(
            search_total(&client, &b_base, reference).await,
            1,
            "{reference} on B"
        );
    }
    // Each (alert, offer) pair mailed, and nothing else.
    for s in &searches {
        for id in &ids {
            let key = format!("<alert.{s}.{id}@portail.example>");
            assert!(seen.contains_key(&key), "alert {s}, offer {id}: no mail");
        }
    }
    assert_eq!(seen.len(), want, "mails for pairs that do not exist");
    // A kill between the SMTP server's acceptance and the database's commit of a batch of
    // results can repeat those mails (same Message-ID): at most one batch plus the mails in
    // flight.
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    let bound = offerwatch::candidates::MARK_EVERY + offerwatch::candidates::SENDING_AT_ONCE;
    assert!(
        repeats <= bound,
        "{repeats} repeated deliveries for one kill"
    );
    eprintln!(
        "searchable on B {} ms after publication on A; {want} alert mails ({repeats} repeated) all accepted {:.1} s after the last publication, A killed mid-storm",
        visible_after.as_millis(),
        all_done.as_secs_f64()
    );

    // And back: the database into an embedded store, counted.
    Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status()
        .unwrap();
    assert!(b.wait().unwrap().success());
    let counts = offerwatch::blocking::run(move || {
        let counts = engine.store().counts().unwrap();
        engine.shutdown();
        counts
    })
    .await
    .unwrap();
    let back = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_offerwatch"))
        .args(["migrate", "--to"])
        .arg(back.path())
        .env("OFFERWATCH_DATABASE_URL", &url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("counts checked"), "{text}");
    let store = back.path().join("store.redb");
    let local = offerwatch::blocking::run(move || {
        let local = offerwatch::store::Store::open(&store).unwrap();
        (local.counts().unwrap(), local.offer_count().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(local, (counts, PUBLICATIONS as u64));
}

#[test]
fn migrate_moves_an_embedded_store_into_postgresql_with_its_attachments() {
    use offerwatch::domain::offer::Attachment;
    use offerwatch::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sample.jsonl");
    let imported = Command::new(env!("CARGO_BIN_EXE_offerwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["import", sample])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    let pdf = b"%PDF-1.4 une fiche de poste".to_vec();
    let sha = offerwatch::auth::sha256_hex(&pdf);
    let (counts, with_attachment) = {
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        store.put_attachment(&sha, &pdf).unwrap();
        let (offer, _) = store
            .update_offer(1, |o| {
                o.fields.attachments.push(Attachment {
                    name: "fiche.pdf".into(),
                    content_type: "application/pdf".into(),
                    size: pdf.len() as u64,
                    sha256: sha.clone(),
                });
                Ok(())
            })
            .unwrap();
        // A candidate's CV: its bytes go too.
        let cv = b"%PDF-1.4 un CV".to_vec();
        store.put_attachment("document-9-cv", &cv).unwrap();
        store
            .write(|tx| {
                let mut a = offerwatch::testing::candidate(900, offer.created_at);
                a.documents.push(offerwatch::domain::documents::Document {
                    id: 9,
                    kind: offerwatch::domain::documents::DocumentKind::Cv,
                    name: "CV".into(),
                    content_type: "application/pdf".into(),
                    size: cv.len() as u64,
                    sha256: offerwatch::auth::sha256_hex(&cv),
                    key: "document-9-cv".into(),
                    default: true,
                    uploaded_at: offer.created_at,
                });
                tx.put_account(&a)
            })
            .unwrap();
        (store.counts().unwrap(), offer.reference.to_string())
    };
    let url = offerwatch::testing::database_url();
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_offerwatch"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["migrate", "--to", &url])
            .output()
            .unwrap()
    };
    let out = migrate();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("counts checked"), "{text}");
    let shared = Store::connect(&url).unwrap();
    // Every table holds the same rows; the attachment file became a row.
    let without_attachments = |c: offerwatch::store::backup::Copied| -> Vec<(String, u64)> {
        c.tables
            .into_iter()
            .filter(|(t, _)| t != "attachments")
            .collect()
    };
    assert_eq!(
        without_attachments(shared.counts().unwrap()),
        without_attachments(counts.clone())
    );
    assert!(text.contains("attachments: 2 rows copied"), "{text}");
    assert_eq!(shared.attachment(&sha).unwrap(), Some(pdf));
    assert_eq!(
        shared.attachment("document-9-cv").unwrap(),
        Some(b"%PDF-1.4 un CV".to_vec())
    );
    let offer = shared
        .offer_by_reference(&with_attachment)
        .unwrap()
        .unwrap();
    assert_eq!(offer.fields.attachments[0].name, "fiche.pdf");
    // Into a database that holds records: refused, nothing written.
    let again = migrate();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already holds records"), "{err}");
    assert_eq!(
        without_attachments(shared.counts().unwrap()),
        without_attachments(counts)
    );
    // A URL that is not PostgreSQL's is refused with the setting named.
    let bad = Command::new(env!("CARGO_BIN_EXE_offerwatch"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("search")
        .env("OFFERWATCH_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("OFFERWATCH_DATABASE_URL"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
