//! Shared by the benchmarks: a generated data dir per size, built once and reused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use offerwatch::Engine;
use offerwatch::domain::account::{Frequency, SavedSearch};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::import_jsonl;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::macros::date;

/// Seed of the generated offers.
pub const SEED: u64 = 42;

#[allow(dead_code)] // not the alert benchmarks
/// A data dir holding `count` generated offers, under `target/bench-data/`.
pub fn data_dir(count: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        // v2: offers carry their commune.
        .join(format!("{count}-{SEED}-v2"));
    if !dir.join("ready").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        let lines: String = Generator::new(SEED, date!(2026 - 11 - 20))
            .take(count)
            .map(|o| to_json_line(&o) + "\n")
            .collect();
        let engine = Engine::open(&dir).expect("open");
        let started = Instant::now();
        let report = import_jsonl(&engine, lines.as_bytes(), |_| {}).expect("import");
        eprintln!(
            "built {count} offers in {:.1} s ({:.0} offers/s)",
            started.elapsed().as_secs_f64(),
            report.imported as f64 / started.elapsed().as_secs_f64()
        );
        engine.shutdown();
        std::fs::write(dir.join("ready"), "").expect("marker");
    }
    dir
}

/// Prints p50, p99 and max of latency samples.
#[allow(dead_code)] // not every benchmark prints percentiles
pub fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    eprintln!(
        "{label}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} runs",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        samples.len()
    );
}

/// "100k", "1M": how the benches name a size.
#[allow(dead_code)] // not every benchmark has sizes
pub fn size_label(count: usize) -> String {
    if count >= 1_000_000 {
        format!("{}M", count / 1_000_000)
    } else {
        format!("{}k", count / 1000)
    }
}

#[allow(dead_code)] // the alert benchmarks only
const WORDS: [&str; 20] = [
    "stagiaire",
    "juriste",
    "données",
    "communication",
    "ressources humaines",
    "comptabilité",
    "accueil",
    "archives",
    "numérique",
    "marchés publics",
    "\"chargé de mission\"",
    "ingénieur",
    "urbanisme",
    "santé",
    "patrimoine",
    "développeur",
    "statistiques",
    "logistique",
    "paris",
    "lyon",
];

/// A candidate's typical alert (the generated mix: an offer matches about 4.3 % of them): a contract type, a place, often a domain or keywords.
#[allow(dead_code)] // the alert benchmarks only
pub fn random_criteria(rng: &mut StdRng) -> Vec<(String, String)> {
    let mut c = Vec::new();
    let pick = |rng: &mut StdRng, xs: &[&str]| xs[rng.random_range(0..xs.len())].to_string();
    if rng.random_bool(0.7) {
        c.push(("contract".into(), pick(rng, &["stage", "apprentissage"])));
    }
    if rng.random_bool(0.5) {
        c.push((
            "region".into(),
            pick(
                rng,
                &[
                    "11", "84", "76", "75", "93", "44", "32", "52", "53", "28", "27", "24",
                ],
            ),
        ));
    } else if rng.random_bool(0.5) {
        c.push((
            "department".into(),
            pick(
                rng,
                &[
                    "75", "92", "93", "94", "69", "13", "31", "33", "59", "35", "44", "67",
                ],
            ),
        ));
    }
    if rng.random_bool(0.5) {
        c.push((
            "domain".into(),
            pick(
                rng,
                &[
                    "numerique",
                    "droit-juridique",
                    "ressources-humaines",
                    "communication-multimedia",
                    "achats",
                    "economie-finances",
                    "accueil",
                    "culture-metiers-art",
                    "sante-medico-social",
                    "environnement-energie",
                ],
            ),
        ));
    }
    if rng.random_bool(0.3) {
        c.push((
            "diploma".into(),
            pick(rng, &["niveau-4", "niveau-5", "niveau-6", "niveau-7"]),
        ));
    }
    if rng.random_bool(0.5) {
        c.push(("q".into(), pick(rng, &WORDS)));
    }
    c
}

/// [`random_criteria`], and for a share `near` of the alerts a distance from a commune drawn
/// at random (5 to 100 km): candidates live everywhere.
#[allow(dead_code)] // the alert benchmarks only
pub fn random_alert_criteria(rng: &mut StdRng, near: f64) -> Vec<(String, String)> {
    let mut c = random_criteria(rng);
    if rng.random_bool(near) {
        let communes = offerwatch::domain::communes::communes();
        let commune = communes
            .get(rng.random_range(0..communes.len()) as u16)
            .expect("commune");
        let km = [5, 10, 20, 30, 30, 50, 100][rng.random_range(0..7)];
        c.push(("near".into(), commune.code.to_string()));
        c.push(("km".into(), km.to_string()));
    }
    c
}

/// Stores `alerts` saved searches of the generated mix with their alert on (immediate mails),
/// `per_account` per confirmed candidate account, in one transaction; a share `near` of them
/// with a distance criterion.
#[allow(dead_code)] // the alert benchmarks only
pub fn store_alerts(engine: &Engine, alerts: usize, per_account: usize, seed: u64, near: f64) {
    let now = engine.now();
    let mut rng = StdRng::seed_from_u64(seed);
    engine
        .store()
        .write(|tx| {
            let mut account = 0;
            for n in 0..alerts {
                if n % per_account == 0 {
                    account = tx.next_id("account_id")?;
                    tx.put_account(&offerwatch::testing::candidate(account, now))?;
                }
                let id = tx.next_id("saved_search_id")?;
                tx.put_saved_search(&SavedSearch {
                    id,
                    account,
                    name: format!("Recherche {id}"),
                    criteria: random_alert_criteria(&mut rng, near),
                    alert: true,
                    frequency: Frequency::Immediate,
                    created_at: now,
                })?;
            }
            Ok(())
        })
        .expect("alerts");
}

/// Starts `offerwatch serve` (the real binary) on `dir` with the rate limits off and `env`;
/// returns the child and its base URL.
#[allow(dead_code)] // the HTTP benchmarks only
pub fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    serve_logged(dir, env, None)
}

/// [`serve`], with the server's log (its request log: `RUST_LOG=offerwatch=info`, no colours)
/// written to `log` when given.
#[allow(dead_code)] // the HTTP benchmarks only
pub fn serve_logged(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    // `LOAD_WRAP=heaptrack` (or any program taking a command) runs the server under it.
    let mut command = match std::env::var("LOAD_WRAP") {
        Ok(wrap) if !wrap.is_empty() => {
            let mut c = std::process::Command::new(wrap);
            c.arg(env!("CARGO_BIN_EXE_offerwatch"));
            c
        }
        _ => std::process::Command::new(env!("CARGO_BIN_EXE_offerwatch")),
    };
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("OFFERWATCH_RATE_LIMIT_PER_SECOND", "0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped());
    if let Some(log) = log {
        let file = std::fs::File::create(log).expect("server log");
        command
            .env("RUST_LOG", "warn,offerwatch=info")
            .env("NO_COLOR", "1")
            .stderr(file);
    }
    let mut server = command
        .envs(env.iter().copied())
        .spawn()
        .expect("start offerwatch serve");
    let mut stdout = std::io::BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    // A wrapper may print its own lines first.
    while !line.starts_with("listening on ") {
        line.clear();
        if stdout.read_line(&mut line).expect("listening line") == 0 {
            panic!("offerwatch serve ended before listening");
        }
    }
    let base = line.trim().trim_start_matches("listening on ").to_string();
    (server, base)
}

/// Waits (at most `limit`) until a server has filled its suggestions, which it does from the
/// store in the background at start: the steady state the benchmarks measure.
#[allow(dead_code)] // the HTTP benchmarks only
pub async fn suggestions_filled(base: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let url = format!("{base}/api/v1/suggest?q=st");
    while started.elapsed() < limit {
        let body = match reqwest::get(&url).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains("\"text\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

/// A process's resident memory: "N MB resident (M MB anonymous)".
#[allow(dead_code)] // the HTTP benchmarks only
pub fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    format!(
        "{:.0} MB resident ({:.0} MB anonymous)",
        mb("VmRSS:"),
        mb("RssAnon:")
    )
}

/// Stops a server with SIGTERM and waits for it.
#[allow(dead_code)] // the HTTP benchmarks only
pub fn stop(mut server: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
