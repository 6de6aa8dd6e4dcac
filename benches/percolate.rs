//! Percolation benchmarks: one offer against N stored alerts (facets + keywords, a realistic
//! mix), the rebuild of the percolator from the store, and its memory per alert.
//! `cargo bench --bench percolate` runs 100k alerts; `OFFERWATCH_BENCH_1M=1` runs 1M.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use offerwatch::Engine;
use offerwatch::domain::Offer;
use offerwatch::domain::account::{Account, AccountState, Frequency, Role, SavedSearch};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::{import_jsonl, parse_line};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::macros::date;

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

/// A candidate's typical alert: a contract type, a place, often a domain or keywords.
fn random_criteria(rng: &mut StdRng) -> Vec<(String, String)> {
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

fn data_dir(alerts: usize) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/alerts-{alerts}"));
    if dir.join("ready").exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Engine::open(&dir).expect("open");
    let lines: String = Generator::new(3, date!(2026 - 11 - 20))
        .take(20_000)
        .map(|o| to_json_line(&o) + "\n")
        .collect();
    import_jsonl(&engine, lines.as_bytes(), |_| {}).expect("import");
    let now = engine.now();
    let mut rng = StdRng::seed_from_u64(5);
    engine
        .store()
        .write(|tx| {
            tx.put_account(&Account {
                id: 1,
                role: Role::Candidate,
                state: AccountState::Active,
                civility: None,
                first_name: "Bench".into(),
                last_name: "Bench".into(),
                email: "bench@example.fr".into(),
                username: None,
                email_confirmed: true,
                phone: None,
                password_hash: None,
                services: Vec::new(),
                requested_service: None,
                refusal_reason: None,
                created_at: now,
            })?;
            for id in 1..=alerts as u64 {
                tx.put_saved_search(&SavedSearch {
                    id,
                    account: 1,
                    name: format!("S{id}"),
                    criteria: random_criteria(&mut rng),
                    alert: true,
                    frequency: Frequency::Immediate,
                    created_at: now,
                })?;
            }
            Ok(())
        })
        .expect("alerts");
    engine.shutdown();
    drop(engine);
    std::fs::write(dir.join("ready"), "").expect("marker");
    dir
}

fn bench_at(c: &mut Criterion, alerts: usize) {
    let dir = data_dir(alerts);
    let engine = Engine::open(&dir).expect("open");
    let started = Instant::now();
    let n = engine.rebuild_percolator().expect("rebuild");
    let rebuild = started.elapsed();
    let bytes = engine.percolator().memory_bytes();
    eprintln!(
        "percolator {alerts}: rebuilt {n} alerts from the store in {:.2} s; ~{} bytes per alert",
        rebuild.as_secs_f64(),
        bytes / n.max(1)
    );
    let now = engine.now();
    let offers: Vec<Offer> = Generator::new(11, now.date())
        .take(2000)
        .enumerate()
        .map(|(i, o)| {
            let n = parse_line(&to_json_line(&o), now).expect("offer");
            Offer::published(
                10_000_000 + i as u64,
                offerwatch::domain::Reference {
                    prefix: 'S',
                    year: 2026,
                    number: i as u32 + 1,
                },
                n.fields,
                now,
            )
        })
        .filter(|o| o.is_visible(now))
        .collect();
    let p = engine.percolator();
    eprintln!(
        "percolator {alerts}: {} classes of alerts with the same criteria",
        p.class_count()
    );
    let measure = |read_ids: bool| {
        let mut samples: Vec<Duration> = Vec::new();
        let mut matched = 0;
        let started = Instant::now();
        for o in &offers {
            let t = Instant::now();
            let m = p.matches(o, now);
            matched += if read_ids {
                m.iter().count()
            } else {
                m.len() as usize
            };
            samples.push(t.elapsed());
        }
        let total = started.elapsed();
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        eprintln!(
            "percolate one offer against {alerts} alerts{}: p50 {:.0} µs, p99 {:.0} µs, {:.0} offers/s, {:.1} matches per offer",
            if read_ids { ", reading every id" } else { "" },
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            offers.len() as f64 / total.as_secs_f64(),
            matched as f64 / offers.len() as f64
        );
    };
    measure(false);
    measure(true);
    let mut i = 0;
    c.bench_function(
        &format!("percolate_one_offer_{}k_alerts", alerts / 1000),
        |b| {
            b.iter(|| {
                i = (i + 1) % offers.len();
                p.matches(&offers[i], now)
            })
        },
    );
    drop(p);
    engine.shutdown();
}

fn percolate(c: &mut Criterion) {
    bench_at(c, 100_000);
    if std::env::var_os("OFFERWATCH_BENCH_1M").is_some() {
        bench_at(c, 1_000_000);
    }
}

criterion_group!(benches, percolate);
criterion_main!(benches);
