//! Search aids on generated fixtures (DESIGN.md targets): suggestions as a person types
//! (p99 ≤ 2 ms at 100k offers, ≤ 5 ms at 1M) and similar offers (p99 ≤ 10 ms at 100k).
//!
//! `cargo bench --bench aids` runs at 100k offers; `OFFERWATCH_BENCH_1M=1` adds 1M (slow: not for
//! CI). Besides criterion's means, p50/p99 over fixed mixes are printed.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use offerwatch::Engine;
use offerwatch::domain::SearchParams;

mod common;
use common::{data_dir, percentiles, size_label};

/// What people type, letter by letter: short and long prefixes, words with and without
/// accents, pairs of words, towns, administrations, references.
const PREFIXES: [&str; 16] = [
    "s",
    "st",
    "stagi",
    "ing",
    "ingé",
    "inge",
    "assistant d",
    "chargé d'ac",
    "par",
    "ren",
    "min",
    "ministère de l",
    "ress",
    "A-2026-00",
    "2026-01",
    "juri",
];

/// The process's resident memory (VmRSS), in MB.
fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn aids_at(c: &mut Criterion, count: usize) {
    let dir = data_dir(count);
    let engine = Engine::open(&dir).expect("open");
    let label = size_label(count);
    let before = resident_mb();
    let started = Instant::now();
    engine.indexer().fill_suggestions();
    while engine.suggest("a", 1).expect("suggest").is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "suggestions filled from {count} offers in {:.1} s; resident memory {before} MB before, {} MB after",
        started.elapsed().as_secs_f64(),
        resident_mb()
    );
    let mut samples = Vec::new();
    for _ in 0..100 {
        for p in PREFIXES {
            let t = Instant::now();
            engine.suggest(p, 8).expect("suggest");
            samples.push(t.elapsed());
        }
    }
    percentiles(&format!("suggest {label}"), samples);

    // Similar offers of the newest 200 offers.
    let mut latest = SearchParams {
        per_page: 100,
        facets: false,
        ..SearchParams::default()
    };
    let mut offers = engine.search(&latest).expect("search").offers;
    latest.page = 2;
    offers.extend(engine.search(&latest).expect("search").offers);
    let mut samples = Vec::new();
    for o in &offers {
        let t = Instant::now();
        engine.similar(o, 5).expect("similar");
        samples.push(t.elapsed());
    }
    for o in &offers {
        let t = Instant::now();
        engine.similar(o, 5).expect("similar");
        samples.push(t.elapsed());
    }
    percentiles(&format!("similar offers {label}"), samples);

    let mut g = c.benchmark_group(format!("aids_{label}"));
    let mut i = 0;
    g.bench_function("suggest_mix", |b| {
        b.iter(|| {
            i = (i + 1) % PREFIXES.len();
            engine.suggest(PREFIXES[i], 8).expect("suggest")
        })
    });
    let mut j = 0;
    g.bench_function("similar", |b| {
        b.iter(|| {
            j = (j + 1) % offers.len();
            engine.similar(&offers[j], 5).expect("similar")
        })
    });
    g.finish();
    engine.shutdown();
}

fn aids(c: &mut Criterion) {
    aids_at(c, 100_000);
    if std::env::var_os("OFFERWATCH_BENCH_1M").is_some() {
        aids_at(c, 1_000_000);
    }
}

criterion_group!(benches, aids);
criterion_main!(benches);
