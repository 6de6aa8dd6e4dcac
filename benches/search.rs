//! Search, import and publish benchmarks on generated fixtures (see DESIGN.md targets).
//!
//! `cargo bench --bench search` runs at 100k offers; `OFFERWATCH_BENCH_1M=1` adds 1M offers
//! (slow: not for CI). Each size's data dir is built once under `target/bench-data/` and reused.
//! Besides criterion's means, p50/p99 over a fixed query mix are printed, as the targets are
//! percentiles.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use offerwatch::Engine;
use offerwatch::domain::{OfferState, SearchParams};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::{import_jsonl, parse_line};
use time::macros::date;

mod common;
use common::{SEED, data_dir, percentiles, size_label};

fn params(q: &str) -> SearchParams {
    let pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|s| !s.is_empty())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ")))
        .collect();
    SearchParams::from_pairs(&pairs).expect("bench query")
}

/// Browsing without keywords, as a portal's visitors click: one filter...
const BROWSE_ONE: [&str; 6] = [
    "contract=stage",
    "contract=apprentissage",
    "region=11",
    "domain=numerique",
    "diploma=niveau-6",
    "region=84&region=76",
];

/// ...and two or three.
const BROWSE_MANY: [&str; 6] = [
    "region=11&contract=stage",
    "contract=apprentissage&domain=numerique",
    "region=11&administration=min-interieur",
    "contract=stage&diploma=niveau-7&region=84",
    "domain=numerique&region=11&contract=apprentissage",
    "department=75&contract=stage&domain=ressources-humaines",
];

/// A realistic mix: keywords alone, keywords + facets, facets alone, relevance.
const QUERIES: [&str; 12] = [
    "q=stagiaire",
    "q=juriste&contract=stage",
    "q=numérique&region=11",
    "q=communication&contract=apprentissage&diploma=niveau-6",
    "q=ressources+humaines&region=84&region=76",
    "q=chargé&department=75&contract=stage",
    "contract=apprentissage&domain=numerique",
    "region=11&administration=min-interieur",
    "q=données&sort=relevance",
    "q=\"chargé de mission\"",
    "q=assistant&domain=ressources-humaines&contract=stage&region=11",
    "q=gestion&published_since=90",
];

/// Searches by distance (30 km around a place), with and without keywords and filters.
const NEAR: [&str; 6] = [
    "near=75001&km=30",
    "near=69003&km=30&contract=stage",
    "near=Marseille&km=30&sort=distance",
    "q=stagiaire&near=31555&km=30",
    "near=35238&km=30&domain=numerique",
    "near=59350&km=30&sort=distance&region=32",
];

/// Keyword queries with one typo each, beside the same queries spelt right: a typo costs a
/// walk of the term dictionary (target: p99 at most twice the exact query's).
const TYPOS: [(&str, &str); 7] = [
    ("q=stagiare", "q=stagiaire"),
    ("q=juritse&contract=stage", "q=juriste&contract=stage"),
    ("q=numériqe&region=11", "q=numérique&region=11"),
    (
        "q=comunication&contract=apprentissage&diploma=niveau-6",
        "q=communication&contract=apprentissage&diploma=niveau-6",
    ),
    (
        "q=ressources+humanies&region=84&region=76",
        "q=ressources+humaines&region=84&region=76",
    ),
    (
        "q=assitant&domain=ressources-humaines&contract=stage&region=11",
        "q=assistant&domain=ressources-humaines&contract=stage&region=11",
    ),
    (
        "q=gestoin&published_since=90",
        "q=gestion&published_since=90",
    ),
];

/// p50/p99 of the typo'd queries and of the same queries spelt right.
fn typos_at(engine: &Engine, label: &str) {
    let typed: Vec<SearchParams> = TYPOS.iter().map(|(t, _)| params(t)).collect();
    let right: Vec<SearchParams> = TYPOS.iter().map(|(_, r)| params(r)).collect();
    for (t, r) in typed.iter().zip(&right) {
        let a = engine.search(t).expect("search");
        let b = engine.search(r).expect("search");
        assert!(!a.corrected.is_empty(), "{:?} was not corrected", t.q);
        assert_eq!(a.total, b.total, "{:?}", t.q);
    }
    for (name, set) in [
        ("keywords spelt right", &right),
        ("keywords with a typo", &typed),
    ] {
        percentiles(&format!("{name} {label}"), timed(engine, set));
    }
}

/// Each search of `set` timed 100 times over (after a warm-up round).
fn timed(engine: &Engine, set: &[SearchParams]) -> Vec<std::time::Duration> {
    for p in set {
        engine.search(p).expect("search");
    }
    let mut samples = Vec::new();
    for _ in 0..100 {
        for p in set {
            let t = Instant::now();
            engine.search(p).expect("search");
            samples.push(t.elapsed());
        }
    }
    samples
}

fn search_at(c: &mut Criterion, count: usize) {
    let dir = data_dir(count);
    let engine = Engine::open(&dir).expect("open");
    let label = size_label(count);
    // Facet-only queries are the browse cases below: the keyword mix keeps the others.
    let mix: Vec<SearchParams> = QUERIES
        .iter()
        .filter(|q| q.contains("q="))
        .map(|q| params(q))
        .collect();
    let one: Vec<SearchParams> = BROWSE_ONE.iter().map(|q| params(q)).collect();
    let many: Vec<SearchParams> = BROWSE_MANY.iter().map(|q| params(q)).collect();
    let near: Vec<SearchParams> = NEAR.iter().map(|q| params(q)).collect();
    let home = params("");
    let reference = engine.search(&params("per_page=1")).expect("search").offers[0]
        .reference
        .to_string();

    // Warm up, then percentiles over the mix.
    percentiles(&format!("keyword+facets {label}"), timed(&engine, &mix));
    let samples = (0..300)
        .map(|_| {
            let t = Instant::now();
            engine.search(&home).expect("search");
            t.elapsed()
        })
        .collect();
    percentiles(&format!("browse: home page {label}"), samples);
    for (name, set) in [("browse: 1 filter", &one), ("browse: 2-3 filters", &many)] {
        percentiles(&format!("{name} {label}"), timed(&engine, set));
    }
    percentiles(&format!("near + km=30 {label}"), timed(&engine, &near));
    let samples = (0..2000)
        .map(|_| {
            let t = Instant::now();
            engine.public_offer(&reference).expect("lookup");
            t.elapsed()
        })
        .collect();
    percentiles(&format!("reference lookup {label}"), samples);
    typos_at(&engine, &label);

    let mut g = c.benchmark_group(format!("search_{label}"));
    let mut i = 0;
    g.bench_function("keyword_facets_mix", |b| {
        b.iter(|| {
            i = (i + 1) % mix.len();
            engine.search(&mix[i]).expect("search")
        })
    });
    g.bench_function("home_page", |b| {
        b.iter(|| engine.search(&home).expect("search"))
    });
    let mut j = 0;
    g.bench_function("browse_one_filter", |b| {
        b.iter(|| {
            j = (j + 1) % one.len();
            engine.search(&one[j]).expect("search")
        })
    });
    let mut k = 0;
    g.bench_function("browse_two_three_filters", |b| {
        b.iter(|| {
            k = (k + 1) % many.len();
            engine.search(&many[k]).expect("search")
        })
    });
    let mut m = 0;
    g.bench_function("near_30km", |b| {
        b.iter(|| {
            m = (m + 1) % near.len();
            engine.search(&near[m]).expect("search")
        })
    });
    g.bench_function("reference_lookup", |b| {
        b.iter(|| engine.public_offer(&reference).expect("lookup"))
    });
    g.finish();
    engine.shutdown();
}

fn search(c: &mut Criterion) {
    search_at(c, 100_000);
    if std::env::var_os("OFFERWATCH_BENCH_1M").is_some() {
        search_at(c, 1_000_000);
    }
}

fn import(c: &mut Criterion) {
    const N: usize = 20_000;
    let lines: String = Generator::new(SEED, date!(2026 - 11 - 20))
        .take(N)
        .map(|o| to_json_line(&o) + "\n")
        .collect();
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("jsonl_20k_store_and_index", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().expect("tmp"),
            |dir| {
                let engine = Engine::open(dir.path()).expect("open");
                import_jsonl(&engine, lines.as_bytes(), |_| {}).expect("import");
                engine.shutdown();
            },
        )
    });
    g.finish();
}

fn publish(c: &mut Criterion) {
    let dir = data_dir(100_000);
    let engine = Engine::open(&dir).expect("open");
    let now = engine.now();
    let mut generator = Generator::new(7, now.date());
    let mut g = c.benchmark_group("publish");
    g.sample_size(20);
    g.bench_function("publish_to_searchable_100k", |b| {
        b.iter(|| {
            let mut o = parse_line(&to_json_line(&generator.next_offer()), now).expect("offer");
            o.state = OfferState::Published;
            o.published_at = Some(now);
            let (_, seq) = engine.create_offers(vec![o]).expect("create");
            engine
                .wait_indexed(seq, Duration::from_secs(5))
                .expect("visible");
        })
    });
    g.finish();
    engine.shutdown();
}

criterion_group!(benches, search, import, publish);
criterion_main!(benches);
