//! Crash storm: the server is killed with SIGKILL 6 times at random moments while 4 clients
//! publish, 2 search and the mailer sends alert mails. After each restart every acknowledged
//! offer is there and searchable; at the end the index agrees with the store (total and facet
//! counts), every (alert, offer) mail was delivered (counted at a real SMTP server by
//! Message-ID, the key mail clients dedupe on) with at most one batch of results repeated per
//! kill, and SIGTERM
//! stops the server cleanly.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use offerwatch::Engine;
use offerwatch::domain::OfferState;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::helpers::{PASSWORD, offer_body};
use crate::smtp::{Sink, header};

fn start(dir: &std::path::Path, smtp: &str) -> (crate::helpers::NodeProcess, String) {
    crate::helpers::serve_node(dir, &[("OFFERWATCH_SMTP_URL", smtp)])
}

/// Accounts, a service and an immediate alert on every internship, made with the library.
fn prepare(dir: &std::path::Path) {
    let engine = Engine::open(dir).unwrap();
    crate::helpers::prepare_alert_storm(&engine, 1);
    engine.shutdown();
}

/// Domains and diplomas the publishers vary, so that facet counts have something to agree on.
const DOMAINS: [&str; 3] = ["culture-metiers-art", "numerique", "droit-juridique"];
const DIPLOMAS: [&str; 2] = ["niveau-6", "niveau-7"];

async fn login(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "rec@culture.gouv.fr", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_alert_is_mailed_once_across_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, smtp) = Sink::start().await;
    offerwatch::blocking::run({
        let d = dir.path().to_path_buf();
        move || prepare(&d)
    })
    .await
    .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let client = reqwest::Client::new();
    let kills = 6;
    let acknowledged: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    for round in 0..=kills {
        let (mut child, base) = start(dir.path(), &smtp);
        let before: Vec<String> = acknowledged.lock().unwrap().clone();
        crate::helpers::all_searchable(&client, &base, &before).await;
        let token = login(&client, &base).await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for p in 0..4 {
            let (client, base, stop, token) =
                (client.clone(), base.clone(), stop.clone(), token.clone());
            let acknowledged = acknowledged.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut body = offer_body(1);
                    body["state"] = json!("published");
                    body["title"] = json!(format!("Stage {round}-{p}-{n}"));
                    body["domain"] = json!(DOMAINS[n % 3]);
                    body["diploma"] = json!(DIPLOMAS[(n + p) % 2]);
                    // A killed server leaves this request unanswered: that is the point.
                    let Ok(r) = client
                        .post(format!("{base}/api/v1/recruiter/offers"))
                        .bearer_auth(&token)
                        .json(&body)
                        .timeout(Duration::from_secs(2))
                        .send()
                        .await
                    else {
                        break;
                    };
                    assert_eq!(r.status(), 201);
                    let Ok(b) = r.json::<serde_json::Value>().await else {
                        break;
                    };
                    let reference = b["reference"].as_str().unwrap().to_string();
                    acknowledged.lock().unwrap().push(reference);
                    n += 1;
                }
            }));
        }
        for q in ["stage", "restauration"] {
            let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let r = client
                        .get(format!("{base}/api/v1/offers?q={q}&domain=numerique"))
                        .timeout(Duration::from_secs(2))
                        .send()
                        .await;
                    match r {
                        Ok(r) => assert!(r.status().is_success(), "search: {}", r.status()),
                        Err(_) => break,
                    }
                }
            }));
        }
        if round < kills {
            tokio::time::sleep(Duration::from_millis(rng.random_range(300..1200))).await;
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                t.await.unwrap();
            }
        } else {
            tokio::time::sleep(Duration::from_millis(800)).await;
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                t.await.unwrap();
            }
            // Let the last matches go out, until the count holds still.
            let mut last = usize::MAX;
            loop {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let now = sink.all().len();
                if now == last {
                    break;
                }
                last = now;
            }
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(child.wait().unwrap().success());
        }
    }
    let engine = Engine::open(dir.path()).unwrap();
    let mut published = Vec::new();
    let mut by_domain: HashMap<String, u64> = HashMap::new();
    let mut by_diploma: HashMap<String, u64> = HashMap::new();
    let now = engine.now();
    engine
        .store()
        .for_each_offer(|o| {
            if o.state == OfferState::Published {
                published.push(o.id);
            }
            if o.is_visible(now, &offerwatch::domain::local_time::Zone::default()) {
                *by_domain
                    .entry(o.fields.domain.code().to_string())
                    .or_default() += 1;
                *by_diploma
                    .entry(o.fields.diploma.code().to_string())
                    .or_default() += 1;
            }
            Ok(())
        })
        .unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20 && published.len() >= acknowledged.len(),
        "{} acknowledged, {} published",
        acknowledged.len(),
        published.len()
    );
    // The index agrees with the store: total and facet counts.
    let all = engine
        .search(&offerwatch::domain::SearchParams::from_pairs(&[]).unwrap())
        .unwrap();
    assert_eq!(all.total, published.len() as u64);
    for fc in all.facets.unwrap() {
        let want = match fc.facet.name() {
            "domain" => &by_domain,
            "diploma" => &by_diploma,
            _ => continue,
        };
        let got: HashMap<String, u64> = fc
            .values
            .iter()
            .map(|v| (v.value.to_string(), v.count))
            .collect();
        assert_eq!(&got, want, "{} counts", fc.facet.name());
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in sink.with("Message-ID: <alert.") {
        *seen.entry(header(&m, "Message-ID").unwrap()).or_default() += 1;
    }
    let search = engine.store().saved_searches().unwrap()[0].id;
    for id in &published {
        let key = format!("<alert.{search}.{id}@portail.example>");
        assert!(seen.contains_key(&key), "offer {id}: no alert mail");
    }
    assert_eq!(
        seen.len(),
        published.len(),
        "no mail for an offer that is not published"
    );
    // A kill between the SMTP server's acceptance and the store's commit of the batch of
    // results can repeat those mails, with the same Message-ID: at most one batch plus the
    // mails in flight per kill.
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    let per_kill = offerwatch::candidates::MARK_EVERY + offerwatch::candidates::SENDING_AT_ONCE;
    assert!(
        repeats <= kills * per_kill,
        "{repeats} repeated deliveries for {kills} kills"
    );
    eprintln!(
        "{} offers acknowledged, {} published, {} alert mails, {repeats} repeats, {kills} kills",
        acknowledged.len(),
        published.len(),
        seen.len()
    );
    engine.shutdown();
}
