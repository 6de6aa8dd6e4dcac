use offerwatch::domain::OfferState;

use crate::helpers::*;

async fn fetch(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    let headers = r.headers().clone();
    (headers, r.text().await.unwrap())
}

/// Validates a feed with Python feedparser (installed by .ci/run): bozo must be 0.
fn feedparser_bozo(xml: &str) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, xml).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, feedparser; d = feedparser.parse(sys.argv[1]); print(int(d.bozo), len(d.entries)); print(d.get('bozo_exception', ''), file=sys.stderr)",
        ])
        .arg(&path)
        .output()
        .expect("python3 with feedparser (pip install feedparser)");
    assert!(
        out.status.success(),
        "feedparser failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bozo: i64 = stdout.split_whitespace().next().unwrap().parse().unwrap();
    if bozo != 0 {
        eprintln!("feedparser: {}", String::from_utf8_lossy(&out.stderr));
    }
    bozo
}

#[tokio::test]
async fn rss_and_atom_carry_the_newest_50_offers_of_the_search() {
    let app = spawn_app(300).await;
    let search = app.json("/api/v1/offers?contract=stage&per_page=50").await;
    let expected: Vec<String> = search["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expected.len(), 50);
    for (path, kind) in [
        ("/feeds/offers.rss?contract=stage&page=3", "rss"),
        ("/feeds/offers.atom?contract=stage", "atom"),
    ] {
        let (headers, xml) = fetch(&app, path).await;
        assert!(headers["content-type"].to_str().unwrap().contains(kind));
        assert!(headers.contains_key("etag") && headers.contains_key("last-modified"));
        let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(feed.entries.len(), 50);
        let ids: Vec<String> = feed
            .entries
            .iter()
            .map(|e| e.id.trim_start_matches("urn:offerwatch:offer:").to_string())
            .collect();
        assert_eq!(ids, expected, "{kind} items in search order");
        for e in &feed.entries {
            assert!(e.title.as_ref().is_some_and(|t| !t.content.is_empty()));
            let link = &e.links[0].href;
            assert!(
                link.starts_with("https://portail.example/offres/"),
                "{link}"
            );
            assert!(e.published.is_some());
            assert!(
                e.summary
                    .as_ref()
                    .is_some_and(|s| s.content.contains("Stage"))
            );
            assert!(e.categories.iter().any(|c| c.term == "Stage"));
            assert!(e.categories.len() >= 5);
        }
        assert_eq!(feedparser_bozo(&xml), 0, "{kind} must validate");
        // The channel links back to the same search on the portal.
        assert!(
            feed.links
                .iter()
                .any(|l| l.href == "https://portail.example/?contract=stage"),
            "{:?}",
            feed.links
        );
    }
}

#[tokio::test]
async fn user_text_is_escaped_and_empty_searches_are_valid_feeds() {
    let app = spawn_app(0).await;
    let title = "Stage \"R&D\" <b>données</b> & 'co'";
    app.add(offer_input(title), OfferState::Published);
    for path in ["/feeds/offers.rss", "/feeds/offers.atom"] {
        let (_, xml) = fetch(&app, path).await;
        let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, title);
        assert_eq!(feedparser_bozo(&xml), 0);
        let (headers, xml) = fetch(&app, &format!("{path}?q=introuvable")).await;
        let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert!(feed.entries.is_empty());
        assert!(headers.contains_key("etag"));
        assert_eq!(feedparser_bozo(&xml), 0);
    }
}

#[tokio::test]
async fn conditional_requests_get_304() {
    let app = spawn_app(30).await;
    let (headers, _) = fetch(&app, "/feeds/offers.rss").await;
    let etag = headers["etag"].to_str().unwrap().to_string();
    let lm = headers["last-modified"].to_str().unwrap().to_string();
    let r = app
        .client
        .get(app.url("/feeds/offers.rss"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    let r = app
        .client
        .get(app.url("/feeds/offers.rss"))
        .header("if-modified-since", &lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    // Another format or another search has another ETag; a new offer changes it.
    let (atom_headers, _) = fetch(&app, "/feeds/offers.atom").await;
    assert_ne!(atom_headers["etag"].to_str().unwrap(), etag);
    app.add(offer_input("Nouvelle offre"), OfferState::Published);
    let r = app
        .client
        .get(app.url("/feeds/offers.rss"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
