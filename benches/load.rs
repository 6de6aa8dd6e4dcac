//! HTTP load: starts `offerwatch serve` (the real binary) on 100k generated offers and runs a
//! bounded mixed search workload from concurrent clients on loopback; prints throughput and
//! latency percentiles. `cargo bench --bench load` (env LOAD_REQUESTS, LOAD_CLIENTS).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MIX: [&str; 12] = [
    "/api/v1/offers",
    "/api/v1/offers?q=stagiaire",
    "/api/v1/offers?q=juriste&contract=stage",
    "/api/v1/offers?q=num%C3%A9rique&region=11",
    "/api/v1/offers?contract=apprentissage&domain=numerique",
    "/api/v1/offers?region=11&department=75&page=2",
    "/api/v1/offers?q=communication&diploma=niveau-6",
    "/api/v1/offers?q=%22charg%C3%A9+de+mission%22",
    "/api/v1/offers?administration=min-interieur&contract=stage",
    "/api/v1/offers?q=donn%C3%A9es&sort=relevance",
    "/feeds/offers.rss?region=84",
    "/api/v1/offers?q=assistant&region=11&region=84&contract=stage",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let requests = env_usize("LOAD_REQUESTS", 20_000);
    let clients = env_usize("LOAD_CLIENTS", 8);
    let dir = common::data_dir(100_000);
    let mut server = Command::new(env!("CARGO_BIN_EXE_offerwatch"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("OFFERWATCH_RATE_LIMIT_PER_SECOND", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start offerwatch serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let base = line.trim().trim_start_matches("listening on ").to_string();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (elapsed, mut latencies, errors) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .expect("client");
        // Warm-up.
        for path in MIX {
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("warm-up");
        }
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, next, base) = (client.clone(), next.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let t = Instant::now();
                    match client
                        .get(format!("{base}{}", MIX[i % MIX.len()]))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        _ => errors += 1,
                    }
                    lat.push(t.elapsed());
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::with_capacity(requests);
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await.expect("task");
            all.extend(lat);
            errors += e;
        }
        (started.elapsed(), all, errors)
    });
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "load: {} requests, {clients} clients, {:.1} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {errors} errors ({} cores)",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(latencies[latencies.len() - 1]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
}
