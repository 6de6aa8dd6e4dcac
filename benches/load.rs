//! HTTP load: starts `offerwatch serve` (the real binary) on generated offers (100k, or
//! LOAD_OFFERS) and runs bounded workloads on loopback: one keep-alive client over the portal's
//! mix (300 random searches, half with keywords, 20 results, the total and the facet counts) as
//! JSON and as the search page (HTML), and over the browse URLs (latency); then concurrent
//! clients over the browse mix and over the mixed search mix (throughput). Each phase prints the
//! client's percentiles and the server's own (the `latency_ms` of its request log, matched by the
//! `x-request-id` each request carries), and the server's resident memory after start and after
//! the loads. `cargo bench --bench load` (env LOAD_REQUESTS, LOAD_CLIENTS, LOAD_OFFERS).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

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

/// The portal's searches: `count` random criteria (a contract, a place, often a domain, keywords
/// half of the time), each a page of 20 with its facet counts, under `path` (`/api/v1/offers`
/// or the search page `/`).
fn portal_mix(path: &str, count: usize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..count)
        .map(|_| {
            let mut pairs = common::random_criteria(&mut rng);
            if path != "/" {
                pairs.push(("facets".into(), "true".into()));
            }
            let qs: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            format!("{path}?{qs}")
        })
        .collect()
}

/// The server's own latencies of one phase: the `latency_ms` of the request-log lines whose
/// request id starts with `phase-`.
fn server_latencies(log: &Path, phase: &str) -> Vec<Duration> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let id = format!("request_id=\"{phase}-");
    text.lines()
        .filter(|l| l.contains(&id))
        .filter_map(|l| {
            let v = l.split("latency_ms=").nth(1)?;
            let v: String = v
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            v.parse::<f64>().ok()
        })
        .map(|ms| Duration::from_secs_f64(ms / 1e3))
        .collect()
}

/// Runs `requests` requests over `paths` from `clients` keep-alive clients; each request
/// carries the request id `phase-N`.
async fn run(
    client: &reqwest::Client,
    base: &str,
    (phase, paths): (&'static str, Arc<Vec<String>>),
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
                    .header("x-request-id", format!("{phase}-{i}"))
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// Prints a phase's throughput and client-side percentiles, then the server's own.
fn report(
    name: &str,
    (phase, clients): (&str, usize),
    (elapsed, mut latencies, errors): (Duration, Vec<Duration>, usize),
    log: &Path,
) {
    latencies.sort();
    println!(
        "{name}: {} requests, {clients} clients, {:.1} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {errors} errors ({} cores)",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    // The log is written as the answers go: give the last lines a moment.
    std::thread::sleep(Duration::from_millis(300));
    let mut server = server_latencies(log, phase);
    server.sort();
    println!(
        "  server-side (request log, {} answers): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        server.len(),
        percentile(&server, 0.5),
        percentile(&server, 0.99),
        percentile(&server, 1.0),
    );
}

/// The `n` searches of a one-client phase whose answers took longest at the median of their
/// repeats (server-side), to know which query the p99 is made of.
fn slowest(log: &Path, phase: &str, paths: &[String], n: usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let id = format!("request_id=\"{phase}-");
    let mut per_path: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    for line in text.lines() {
        let Some(rest) = line.split(&id).nth(1) else {
            continue;
        };
        let i: Option<usize> = rest.split('"').next().and_then(|i| i.parse().ok());
        let ms: Option<f64> = line
            .split("latency_ms=")
            .nth(1)
            .and_then(|v| v.split_whitespace().next()?.parse().ok());
        if let (Some(i), Some(ms)) = (i, ms) {
            per_path[i % paths.len()].push(ms);
        }
    }
    let mut medians: Vec<(f64, &String)> = per_path
        .iter_mut()
        .zip(paths)
        .filter(|(l, _)| !l.is_empty())
        .map(|(l, p)| {
            l.sort_by(f64::total_cmp);
            (l[l.len() / 2], p)
        })
        .collect();
    medians.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, path) in medians.iter().take(n) {
        println!("    {ms:.3} ms (median)  {path}");
    }
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
    let log = dir.with_extension("serve.log");
    let (server, base) = common::serve_logged(&dir, &[], Some(&log));
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
        let list =
            |paths: &[&str]| Arc::new(paths.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        let (browse, mix, wide) = (list(&BROWSE), list(&MIX), Arc::new(browse_wide()));
        let (portal, page) = (
            Arc::new(portal_mix("/api/v1/offers", 300)),
            Arc::new(portal_mix("/", 300)),
        );
        for path in MIX.iter().chain(BROWSE.iter()) {
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("warm-up");
        }
        // One pass over the portal's searches and pages, unmeasured (the first answer of a
        // query reads its postings from disk).
        run(&client, &base, ("warm", portal.clone()), 300, 1).await;
        run(&client, &base, ("warm", page.clone()), 300, 1).await;
        let load = |phase: &'static str, paths: &Arc<Vec<String>>| (phase, paths.clone());
        report(
            "portal searches (JSON, facets=true), one keep-alive client",
            ("portal", 1),
            run(&client, &base, load("portal", &portal), 3_000, 1).await,
            &log,
        );
        slowest(&log, "portal", &portal, 5);
        report(
            "portal search page (HTML), one keep-alive client",
            ("page", 1),
            run(&client, &base, load("page", &page), 3_000, 1).await,
            &log,
        );
        report(
            "browse, one keep-alive client",
            ("browse1", 1),
            run(&client, &base, load("browse1", &browse), 3_000, 1).await,
            &log,
        );
        report(
            "browse mix",
            ("browse", clients),
            run(&client, &base, load("browse", &browse), requests, clients).await,
            &log,
        );
        report(
            "browse, every department, pages 1-3 (cache misses)",
            ("wide", clients),
            run(&client, &base, load("wide", &wide), requests, clients).await,
            &log,
        );
        report(
            "mixed load",
            ("mixed", clients),
            run(&client, &base, load("mixed", &mix), requests, clients).await,
            &log,
        );
        report(
            "portal searches (JSON, facets=true)",
            ("portalN", clients),
            run(&client, &base, load("portalN", &portal), requests, clients).await,
            &log,
        );
    });
    println!(
        "serve on {offers} offers: {} after the loads",
        common::rss(server.id())
    );
    // An idle server hands back what the bursts left free in glibc's arenas (within 2 s).
    std::thread::sleep(Duration::from_secs(3));
    println!(
        "serve on {offers} offers: {} idle, 3 s after the loads",
        common::rss(server.id())
    );
    common::stop(server);
}
