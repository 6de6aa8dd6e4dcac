//! A database outage under load: one `serve` node on a PostgreSQL cluster of this test alone, a
//! recruiter's client publishing and a reader searching; the cluster is stopped for a few
//! seconds, then started again. Public search, facet counts, feeds and offer pages keep
//! answering from what the node holds; writes, logins and private answers get 503 with
//! `Retry-After`; `/readyz` says why; nothing acknowledged is lost and the node catches up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use offerwatch::Engine;
use offerwatch::testing::OwnCluster;
use serde_json::json;

use crate::helpers::offer_body;

const OUTAGE: Duration = Duration::from_secs(6);

async fn publish(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> (u16, bool, Option<String>) {
    let mut body = offer_body(1);
    body["state"] = json!("published");
    body["title"] = json!(format!("Stage de cartographie numéro {n}"));
    let Ok(r) = client
        .post(format!("{base}/api/v1/recruiter/offers"))
        .bearer_auth(token)
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
    else {
        return (0, false, None);
    };
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key("retry-after");
    let b: serde_json::Value = r.json().await.unwrap_or_default();
    (
        status,
        retry_after,
        b["reference"].as_str().map(str::to_string),
    )
}

async fn status_of(client: &reqwest::Client, url: String) -> u16 {
    client
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_leaves_public_search_up_and_loses_nothing() {
    let cluster = Arc::new(OwnCluster::start(None).expect("a private PostgreSQL cluster"));
    let url = cluster.database_url().unwrap();
    let dir = tempfile::tempdir().unwrap();
    offerwatch::blocking::run({
        let (d, u) = (dir.path().to_path_buf(), url.clone());
        move || {
            let engine =
                Engine::open_with(&d, Some(&u), offerwatch::engine::system_clock()).unwrap();
            crate::helpers::prepare_alert_storm(&engine, 0);
            engine.shutdown();
        }
    })
    .await
    .unwrap();
    let node_dir = tempfile::tempdir().unwrap();
    let (mut node, base) =
        crate::helpers::serve_node(node_dir.path(), &[("OFFERWATCH_DATABASE_URL", &url)]);
    let client = reqwest::Client::new();
    let r = crate::helpers::recruiter_login(&client, &base).await;
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut acknowledged = Vec::new();
    for n in 0..10 {
        let (s, _, r) = publish(&client, &base, &token, n).await;
        assert_eq!(s, 201);
        acknowledged.push(r.unwrap());
    }
    let page = format!("/offres/{}", acknowledged[0]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&client, format!("{base}{page}")).await != 200 {
        assert!(Instant::now() < deadline, "{page} not shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The reader: search with facets, the search page, a feed, an offer page, in a loop.
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn({
        let (client, base, page, down, stop) = (
            client.clone(),
            base.clone(),
            page.clone(),
            down.clone(),
            stop.clone(),
        );
        async move {
            let paths = [
                "/api/v1/offers?q=cartographie&facets=true".to_string(),
                "/?q=cartographie".to_string(),
                "/feeds/offers.rss?q=cartographie".to_string(),
                page,
            ];
            let (mut during, mut failed) = (0, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                for p in &paths {
                    let s = status_of(&client, format!("{base}{p}")).await;
                    if down.load(Ordering::SeqCst) {
                        during += 1;
                    }
                    if s != 200 {
                        failed.push((p.clone(), s));
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (during, failed)
        }
    });

    // The outage, with the recruiter publishing throughout.
    let stopped = offerwatch::blocking::run({
        let c = cluster.clone();
        move || c.stop()
    });
    stopped.await.unwrap().unwrap();
    down.store(true, Ordering::SeqCst);
    let outage_began = Instant::now();
    let (mut refused, mut refused_without_retry, mut others) = (0, 0, Vec::new());
    let mut n = 10;
    while outage_began.elapsed() < OUTAGE {
        let (s, retry_after, r) = publish(&client, &base, &token, n).await;
        n += 1;
        match s {
            201 => acknowledged.push(r.unwrap()),
            503 => {
                refused += 1;
                if !retry_after {
                    refused_without_retry += 1;
                }
            }
            other => others.push(other),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Logins, private answers and readiness while the database is away.
    let r = crate::helpers::recruiter_login(&client, &base).await;
    assert_eq!(r.status(), 503, "a login while the database is away");
    assert!(r.headers().contains_key("retry-after"));
    let r = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        503,
        "a private answer while the database is away"
    );
    let r = client
        .get(format!("{base}/recruteur/offres"))
        .header("cookie", format!("ow_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "a private page while the database is away");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("momentanément indisponible")
    );
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let why: serde_json::Value = r.json().await.unwrap();
    assert!(
        why["detail"].as_str().unwrap().contains("degraded"),
        "{why}"
    );
    down.store(false, Ordering::SeqCst);
    let restarted = offerwatch::blocking::run({
        let c = cluster.clone();
        move || c.restart()
    });
    restarted.await.unwrap().unwrap();

    // Back: the node reconnects by itself; publications are accepted again.
    let back = Instant::now();
    loop {
        let (s, _, r) = publish(&client, &base, &token, n).await;
        n += 1;
        if s == 201 {
            acknowledged.push(r.unwrap());
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "writes still refused: {s}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let (during, failed) = reader.await.unwrap();
    eprintln!(
        "outage: {during} public reads during it, {} failed; {refused} writes refused with 503",
        failed.len()
    );
    assert!(during >= 20, "only {during} reads during the outage");
    assert!(failed.is_empty(), "public reads failed: {failed:?}");
    assert!(
        refused > 0,
        "no write was tried while the database was away"
    );
    assert_eq!(refused_without_retry, 0, "503 without Retry-After");
    assert!(
        others.is_empty(),
        "writes answered {others:?} during the outage"
    );
    // Every acknowledged publication is there and searchable.
    crate::helpers::all_searchable(&client, &base, &acknowledged).await;
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "ready again");
    let _ = node.kill();
    let _ = node.wait();
}
