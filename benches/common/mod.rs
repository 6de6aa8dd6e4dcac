//! Shared by the benchmarks: a generated data dir per size, built once and reused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use offerwatch::Engine;
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::import_jsonl;
use time::macros::date;

/// Seed of the generated offers.
pub const SEED: u64 = 42;

/// A data dir holding `count` generated offers, under `target/bench-data/`.
pub fn data_dir(count: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("{count}-{SEED}"));
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
