//! Alerts at national scale, end to end: a server holding 1M offers and 1M alerts (the
//! generated mix, 20 per candidate); a recruiter publishes one offer through the API, and every
//! alert mail it matches must be accepted by an SMTP server on loopback. Prints the time to the
//! first and to the last mail, and the server's resident memory after start and after the storm.
//! `cargo bench --bench alert_storm` (builds `target/bench-data/national-…` once: minutes);
//! `STORM_OFFERS` / `STORM_ALERTS` change the sizes; `STORM_LOG=info` shows the server's log;
//! `STORM_STORE=postgres` moves the data into a PostgreSQL database of a private cluster (Debian's
//! server binaries, as `offerwatch migrate --to` does) and serves from it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use offerwatch::Engine;
use offerwatch::domain::AdministrationCode;
use offerwatch::domain::account::{Account, AccountState, Role, Service};
use serde_json::{Value, json};

mod common;
#[path = "../tests/api/smtp.rs"]
#[allow(dead_code)] // the TLS parts serve the tests
mod smtp;

const RECRUITER: &str = "recrutement@culture.gouv.fr";
const PASSWORD: &str = "Tres-Bon-Mot-2026";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The offers of [`common::data_dir`], plus `alerts` alerts and a recruiter of one service.
fn national_dir(offers: usize, alerts: usize) -> (PathBuf, u64) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("national-{offers}-{alerts}"));
    let service_file = dir.join("service");
    if let Ok(id) = std::fs::read_to_string(&service_file) {
        return (dir, id.trim().parse().expect("service id"));
    }
    let base = common::data_dir(offers);
    let _ = std::fs::remove_dir_all(&dir);
    let copied = Command::new("cp")
        .arg("-r")
        .arg(&base)
        .arg(&dir)
        .status()
        .expect("cp");
    assert!(copied.success(), "copying {}", base.display());
    let started = Instant::now();
    let engine = Engine::open(&dir).expect("open");
    common::store_alerts(&engine, alerts, 20, 7, 0.0);
    let now = engine.now();
    let hash = offerwatch::auth::hash_password(PASSWORD).expect("hash");
    let service = engine
        .store()
        .write(|tx| {
            let service = Service {
                id: tx.next_id("service_id")?,
                name: "Bureau des stages".into(),
                administration: AdministrationCode::parse("administration", "min-culture")
                    .expect("administration"),
                entity: None,
                details: Default::default(),
            };
            tx.put_service(&service)?;
            let id = tx.next_id("account_id")?;
            tx.put_account(&Account {
                id,
                role: Role::Recruiter,
                state: AccountState::Active,
                civility: Some("Mme".into()),
                first_name: "Rose".into(),
                last_name: "Valland".into(),
                email: RECRUITER.into(),
                username: None,
                email_confirmed: true,
                phone: None,
                password_hash: Some(hash),
                services: vec![service.id],
                member_roles: Default::default(),
                requested_service: None,
                refusal_reason: None,
                created_at: now,
                terms: Some(offerwatch::domain::account::TermsAccepted::now(now)),
                last_login_at: None,
                inactivity_warned_at: None,
                favorites: Vec::new(),
                paused_since: None,
                documents: Vec::new(),
                applications: Vec::new(),
            })?;
            tx.claim_login(RECRUITER, id)?;
            Ok(service.id)
        })
        .expect("recruiter");
    engine.shutdown();
    drop(engine);
    eprintln!(
        "stored {alerts} alerts in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::write(&service_file, service.to_string()).expect("marker");
    (dir, service)
}

/// A counter of the server's Prometheus page.
async fn metric(client: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut r = client.post(url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.expect("request");
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// The records of `dir` copied into a new PostgreSQL database, and a node's data dir holding
/// `dir`'s index (the same change log): where to serve from.
fn on_postgres(dir: &std::path::Path) -> (PathBuf, String) {
    use offerwatch::store::Store;
    let url = offerwatch::testing::database_url();
    let started = Instant::now();
    let src = Store::open(&dir.join("store.redb")).expect("open the embedded store");
    let dest = Store::connect(&url).expect("connect");
    let mut last = Instant::now();
    let copied = src
        .copy_into(&dest, &mut |table, n| {
            if last.elapsed() > Duration::from_secs(5) {
                last = Instant::now();
                eprintln!("  {table}: {n} rows");
            }
        })
        .expect("copy into PostgreSQL");
    eprintln!(
        "moved into PostgreSQL in {:.0} s: {} offers, {} saved searches, {} accounts",
        started.elapsed().as_secs_f64(),
        copied.rows("offers"),
        copied.rows("saved_searches"),
        copied.rows("accounts")
    );
    let node = dir.with_extension("pg-node");
    let _ = std::fs::remove_dir_all(&node);
    std::fs::create_dir_all(&node).expect("node dir");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(dir.join("index"))
        .arg(&node)
        .status()
        .expect("cp");
    assert!(copied.success(), "copying the index");
    (node, url)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let offers = env_usize("STORM_OFFERS", 1_000_000);
    let alerts = env_usize("STORM_ALERTS", 1_000_000);
    let (dir, service) = national_dir(offers, alerts);
    let (dir, database) = match std::env::var("STORM_STORE").as_deref() {
        Ok("postgres") => {
            let (node, url) = on_postgres(&dir);
            (node, Some(url))
        }
        _ => (dir, None),
    };
    // A portal in service has percolated every offer it holds (the generated ones were
    // imported, never percolated): the storm is the one offer published now.
    {
        let engine = Engine::open_with(
            &dir,
            database.as_deref(),
            offerwatch::engine::system_clock(),
        )
        .expect("open");
        let last = engine.store().last_seq().expect("last seq");
        engine
            .store()
            .set_meta(offerwatch::candidates::PERCOLATED_CURSOR, &last.to_string())
            .expect("cursor");
        engine.shutdown();
    }
    let store_name = if database.is_some() {
        "PostgreSQL"
    } else {
        "embedded store"
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (sink, smtp_url) = smtp::Sink::start().await;
        let started = Instant::now();
        // The percolator is built before the server listens.
        let log = std::env::var("STORM_LOG").unwrap_or_else(|_| "warn".into());
        let mut env = vec![("OFFERWATCH_SMTP_URL", smtp_url.as_str()), ("RUST_LOG", &log)];
        if let Some(url) = &database {
            env.push(("OFFERWATCH_DATABASE_URL", url));
        }
        let (server, base) = common::serve(&dir, &env);
        let client = reqwest::Client::new();
        common::suggestions_filled(&base, Duration::from_secs(300)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        eprintln!(
            "serve {offers} offers, {alerts} alerts ({store_name}): ready in {:.0} s, {}",
            started.elapsed().as_secs_f64(),
            common::rss(server.id())
        );
        let login = post(
            &client,
            format!("{base}/api/v1/auth/login"),
            None,
            json!({"login": RECRUITER, "password": PASSWORD}),
        )
        .await;
        let token = login["token"].as_str().expect("token").to_string();
        // A typical offer of the generated mix, then a broad one (Paris, communication).
        let offers_to_publish = [
            json!({
                "title": "Apprenti juriste en droit public (F/H)",
                "contract": "apprentissage", "diploma": "niveau-7", "domain": "droit-juridique",
                "service": service, "country": "FR", "region": "84", "department": "69",
                "location": "Lyon 3e",
                "description": "Rédiger des notes juridiques, suivre les marchés publics et les contentieux, assurer une veille réglementaire au sein du service juridique.",
                "profile": "Master de droit public", "start": "2027-09",
                "duration_months": 24, "contact_email": "stages@culture.gouv.fr",
                "unpublish_on": "2027-06-30"
            }),
            json!({
                "title": "Stagiaire chargé de communication numérique (F/H)",
                "contract": "stage", "diploma": "niveau-6", "domain": "communication-multimedia",
                "service": service, "country": "FR", "region": "11", "department": "75",
                "location": "Paris 7e",
                "description": "Participer à la communication numérique du ministère : réseaux sociaux, site, données de fréquentation et statistiques, archives photographiques, accueil des publics lors des journées du patrimoine.",
                "profile": "Licence ou master en communication", "start": "2027-02",
                "duration_months": 6, "contact_email": "stages@culture.gouv.fr",
                "unpublish_on": "2027-03-31"
            }),
        ];
        for body in offers_to_publish {
            let matches_before = metric(&client, &base, "alert_matches_total").await;
            let draft = post(
                &client,
                format!("{base}/api/v1/recruiter/offers"),
                Some(&token),
                body,
            )
            .await;
            let reference = draft["reference"].as_str().expect("reference").to_string();
            let before = sink.messages.lock().unwrap().len();
            let published = Instant::now();
            post(
                &client,
                format!("{base}/api/v1/recruiter/offers/{reference}/publish"),
                Some(&token),
                json!({}),
            )
            .await;
            let acknowledged = published.elapsed();
            let (mut first, mut last, mut count) = (None, Duration::ZERO, 0);
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let n = sink.messages.lock().unwrap().len() - before;
                if n > count {
                    count = n;
                    last = published.elapsed();
                    first.get_or_insert(last);
                }
                let quiet = published.elapsed() - last;
                if (count > 0 && quiet > Duration::from_secs(5))
                    || published.elapsed() > Duration::from_secs(300)
                {
                    break;
                }
            }
            let matches = metric(&client, &base, "alert_matches_total").await - matches_before;
            let first = first.unwrap_or_default();
            eprintln!(
                "publish {reference}: acknowledged in {:.0} ms; {matches} matches, {count} mails accepted by the SMTP server",
                acknowledged.as_secs_f64() * 1e3
            );
            eprintln!(
                "  first mail {:.2} s after the publish request, last {:.1} s ({:.0} mails/s)",
                first.as_secs_f64(),
                last.as_secs_f64(),
                count as f64 / last.as_secs_f64().max(1e-9)
            );
            sink.messages.lock().unwrap().clear();
        }
        let sent = metric(&client, &base, "alert_mails_sent_total").await;
        eprintln!("{sent} alert mails sent in all");
        eprintln!(
            "serve {offers} offers, {alerts} alerts: {} after the storm",
            common::rss(server.id())
        );
        common::stop(server);
    });
}
