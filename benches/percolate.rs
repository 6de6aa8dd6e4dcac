//! Percolation benchmarks: one offer against N stored alerts (facets + keywords, a realistic
//! mix), the rebuild of the percolator from the store, and its memory per alert.
//! `cargo bench --bench percolate` runs 100k alerts; `OFFERWATCH_BENCH_1M=1` runs 1M;
//! `PERCOLATE_STORE=postgres` rebuilds from a PostgreSQL database (a private cluster's) instead.

use std::time::{Duration, Instant};

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use offerwatch::Engine;
use offerwatch::domain::Offer;
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::{import_jsonl, parse_line};
use time::macros::date;

fn data_dir(alerts: usize) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/alerts-{alerts}-v2"));
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
    // 30 % of the alerts measure a distance from a place.
    common::store_alerts(&engine, alerts, 20, 5, 0.3);
    engine.shutdown();
    drop(engine);
    std::fs::write(dir.join("ready"), "").expect("marker");
    dir
}

/// The engine to rebuild from: the embedded store of `dir`, or a copy of it in PostgreSQL.
fn engine_of(dir: &std::path::Path, node: &std::path::Path) -> Engine {
    if std::env::var("PERCOLATE_STORE").as_deref() != Ok("postgres") {
        return Engine::open(dir).expect("open");
    }
    let url = offerwatch::testing::database_url();
    {
        let src = offerwatch::store::Store::open(&dir.join("store.redb")).expect("open");
        let dest = offerwatch::store::Store::connect(&url).expect("connect");
        let started = Instant::now();
        src.copy_into(&dest, &mut |_, _| {}).expect("copy");
        eprintln!(
            "copied into PostgreSQL in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    Engine::open_with(node, Some(&url), offerwatch::engine::system_clock()).expect("open")
}

fn bench_at(c: &mut Criterion, alerts: usize) {
    let dir = data_dir(alerts);
    let node = tempfile::tempdir().expect("node dir");
    let engine = engine_of(&dir, node.path());
    let store_name = if engine.store().is_shared() {
        "PostgreSQL"
    } else {
        "embedded store"
    };
    let started = Instant::now();
    let n = engine.rebuild_percolator().expect("rebuild");
    let rebuild = started.elapsed();
    let bytes = engine.percolator().memory_bytes();
    eprintln!(
        "percolator {alerts}: rebuilt {n} alerts from the {store_name} in {:.2} s; ~{} bytes per alert",
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
        .filter(|o| o.is_visible(now, &offerwatch::domain::local_time::Zone::default()))
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
