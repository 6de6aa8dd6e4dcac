//! HTTP load: starts `offerwatch serve` (the real binary) on generated offers (100k, or
//! LOAD_OFFERS) and runs bounded workloads on loopback: one keep-alive client over the browse
//! URLs (latency), then concurrent clients over the browse mix and over the mixed search mix
//! (throughput); prints percentiles and the server's resident memory after start and after the
//! loads. `cargo bench --bench load` (env LOAD_REQUESTS, LOAD_CLIENTS, LOAD_OFFERS).

mod common;

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

/// Browsing without keywords: the home page and facet clicks.
const BROWSE: [&str; 6] = [
    "/api/v1/offers?per_page=20",
    "/api/v1/offers?contract=stage",
    "/api/v1/offers?region=11",
    "/api/v1/offers?region=11&contract=stage",
    "/api/v1/offers?domain=numerique&contract=apprentissage",
    "/api/v1/offers?per_page=20&facets=false",
];

/// Browsing beyond what the cache of decoded offers holds: every department, pages 1 to 3
/// (some 5,600 distinct offers cycled through, more than the 4,096 kept decoded, so that the
/// least-recently-used cache misses on every offer — the worst case).
fn browse_wide() -> Vec<String> {
    let mut paths = Vec::new();
    for page in 1..=3 {
        for d in (1..=95).filter(|d| *d != 20) {
            paths.push(format!("/api/v1/offers?department={d:02}&page={page}"));
        }
    }
    paths
}

/// Resident memory of a process, from /proc (Linux): all of it, and the anonymous part (the
/// rest is the index's and the store's file pages, which the kernel drops first).
async fn run(
    client: &reqwest::Client,
    base: &str,
    paths: Arc<Vec<String>>,
    requests: usize,
    clients: usize,
) -> (Duration, Vec<Duration>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, next, base, paths) = (
            client.clone(),
            next.clone(),
            base.to_string(),
            paths.clone(),
        );
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
                    .get(format!("{base}{}", paths[i % paths.len()]))
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
}

fn report(
    name: &str,
    clients: usize,
    (elapsed, mut latencies, errors): (Duration, Vec<Duration>, usize),
) {
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name}: {} requests, {clients} clients, {:.1} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {errors} errors ({} cores)",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(latencies[latencies.len() - 1]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
}

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
    let offers = env_usize("LOAD_OFFERS", 100_000);
    let dir = common::data_dir(offers);
    let (server, base) = common::serve(&dir, &[]);
    let filled = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(common::suggestions_filled(&base, Duration::from_secs(120)));
    println!(
        "suggestions filled {:.1} s after listening",
        filled.as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "serve on {offers} offers: {} after start",
        common::rss(server.id())
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .expect("client");
        for path in MIX.iter().chain(BROWSE.iter()) {
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("warm-up");
        }
        let list =
            |paths: &[&str]| Arc::new(paths.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        let (browse, mix, wide) = (list(&BROWSE), list(&MIX), Arc::new(browse_wide()));
        report(
            "browse, one keep-alive client",
            1,
            run(&client, &base, browse.clone(), 3_000, 1).await,
        );
        report(
            "browse mix",
            clients,
            run(&client, &base, browse, requests, clients).await,
        );
        report(
            "browse, every department, pages 1-3 (cache misses)",
            clients,
            run(&client, &base, wide, requests, clients).await,
        );
        report(
            "mixed load",
            clients,
            run(&client, &base, mix, requests, clients).await,
        );
    });
    println!(
        "serve on {offers} offers: {} after the loads",
        common::rss(server.id())
    );
    common::stop(server);
}
