//! Partner feeds end to end: a feed served on loopback by the test, in RSS and in Atom, polled
//! twice (the second answered 304 to the conditional GET), then changed, then one item removed;
//! a malformed feed and an unreachable address recorded as errors, nothing lost.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::helpers::*;

#[derive(Clone, Default)]
struct Feed {
    body: Arc<Mutex<(String, &'static str)>>,
    not_modified: Arc<Mutex<u32>>,
}

async fn serve_feed(State(f): State<Feed>, headers: HeaderMap) -> axum::response::Response {
    let (body, kind) = f.body.lock().unwrap().clone();
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        *f.not_modified.lock().unwrap() += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::ETAG, Box::leak(etag.into_boxed_str()) as &str),
        ],
        body,
    )
        .into_response()
}

async fn feed_server() -> (String, Feed) {
    let feed = Feed::default();
    let app = axum::Router::new()
        .route("/feed", axum::routing::get(serve_feed))
        // A redirect to wherever the query says (`/moved?to=…`).
        .route(
            "/moved",
            axum::routing::get(
                |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| async move { axum::response::Redirect::temporary(&q["to"]) },
            ),
        )
        .with_state(feed.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/feed"), feed)
}

/// Polls source `id` now: the poll's report.
async fn poll(admin: &Client<'_>, id: u64) -> serde_json::Value {
    let (s, p) = admin
        .post(&format!("/api/v1/admin/sources/{id}/poll"), json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    p
}

/// An administrator's client and the id of a new service of a region.
async fn admin_and_service(app: &TestApp) -> (Client<'_>, u64) {
    let admin = app.as_admin().await;
    let (_, service) = admin
        .post(
            "/api/v1/admin/services",
            json!({"name": "Partenaire régional", "administration": "regions"}),
        )
        .await;
    let sid = service["id"].as_u64().unwrap();
    (admin, sid)
}

fn rss(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, category)| {
            let title = if title.is_empty() { String::new() } else { format!("<title>{title}</title>") };
            format!("<item><guid>{guid}</guid>{title}<link>https://partenaire.example/{guid}</link><description>&lt;p&gt;Missions de {guid} : accueillir le public.&lt;/p&gt;</description><category>{category}</category></item>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Partenaire</title><link>https://partenaire.example</link><description>Offres</description>{items}</channel></rss>"
    )
}

#[tokio::test]
async fn partner_feeds_become_offers_updated_archived_and_rejected_with_reasons() {
    // The test's feeds are on loopback: allowed here, as an operator would allow a partner's
    // private network.
    let app = spawn_app_with(0, |c| {
        c.sources_allowed_networks = vec!["127.0.0.1".parse().unwrap()]
    })
    .await;
    let (admin, sid) = admin_and_service(&app).await;
    let (url, feed) = feed_server().await;
    *feed.body.lock().unwrap() = (
        rss(&[
            ("a-1", "Stagiaire zorblatte accueil", "Stage"),
            ("b-2", "Apprenti zorblatte logistique", "Apprentissage"),
            ("c-3", "", "Stage"),
        ]),
        "application/rss+xml",
    );
    let defaults = json!({"contract": "stage", "diploma": "niveau-5", "domain": "accueil", "country": "FR", "region": "84", "department": "69", "start": "2027-02", "contact_email": "stages@region.fr", "unpublish_on": "2027-03-31"});
    let (s, source) = admin
        .post(
            "/api/v1/admin/sources",
            json!({"url": url, "service": sid, "defaults": defaults}),
        )
        .await;
    assert_eq!(s, 201, "{source}");
    let id = source["id"].as_u64().unwrap();
    let poll = |id: u64| poll(&admin, id);

    // First poll: two offers, one item rejected with its reason.
    let p = poll(id).await;
    assert_eq!(
        (
            p["status"].as_str(),
            p["imported"].as_u64(),
            p["items"].as_u64()
        ),
        (Some("ok"), Some(2), Some(3)),
        "{p}"
    );
    assert_eq!(p["rejected"][0]["guid"], "c-3");
    assert!(
        p["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("title"),
        "{p}"
    );
    visible_soon(&app, "zorblatte", 2).await;
    let b = app.json("/api/v1/offers?q=logistique").await;
    assert_eq!(
        b["offers"][0]["contract"], "apprentissage",
        "the category set the contract"
    );
    assert_eq!(
        b["offers"][0]["region"], "84",
        "the defaults filled the rest"
    );
    let reference = b["offers"][0]["reference"].as_str().unwrap().to_string();
    let full = app.json(&format!("/api/v1/offers/{reference}")).await;
    assert_eq!(full["contact_url"], "https://partenaire.example/b-2");
    assert_eq!(
        full["description"],
        "Missions de b-2 : accueillir le public."
    );

    // Second poll: the conditional GET is answered 304, nothing changes.
    let p = poll(id).await;
    assert_eq!(p["status"], "not-modified", "{p}");
    assert_eq!(*feed.not_modified.lock().unwrap(), 1);
    visible_soon(&app, "zorblatte", 2).await;

    // A changed item updates its offer; an item gone archives its offer.
    feed.body.lock().unwrap().0 = rss(&[
        ("a-1", "Stagiaire zorblatte accueil et orientation", "Stage"),
        ("b-2", "Apprenti zorblatte logistique", "Apprentissage"),
    ]);
    let p = poll(id).await;
    assert_eq!(
        (
            p["updated"].as_u64(),
            p["unchanged"].as_u64(),
            p["imported"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{p}"
    );
    visible_soon(&app, "orientation", 1).await;
    feed.body.lock().unwrap().0 =
        rss(&[("a-1", "Stagiaire zorblatte accueil et orientation", "Stage")]);
    let p = poll(id).await;
    assert_eq!(p["archived"], 1, "{p}");
    visible_soon(&app, "zorblatte", 1).await;
    visible_soon(&app, "logistique", 0).await;
    let (_, shown) = admin.get(&format!("/api/v1/admin/sources/{id}")).await;
    assert_eq!(shown["last_poll"]["archived"], 1);
    assert_eq!(shown["offers"], 1);

    // Atom.
    let (atom_url, atom) = feed_server().await;
    *atom.body.lock().unwrap() = (
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Partenaire</title><id>urn:partenaire</id><updated>2026-11-25T10:00:00Z</updated><entry><id>urn:offre:7</id><title>Chargé de mission quorvex</title><updated>2026-11-25T10:00:00Z</updated><link href="https://partenaire.example/7"/><summary>Suivre les dossiers quorvex du territoire.</summary><category term="Numérique"/></entry></feed>"#.to_string(),
        "application/atom+xml",
    );
    let (_, s2) = admin
        .post(
            "/api/v1/admin/sources",
            json!({"url": atom_url, "service": sid, "defaults": defaults}),
        )
        .await;
    let p = poll(s2["id"].as_u64().unwrap()).await;
    assert_eq!(p["imported"], 1, "{p}");
    visible_soon(&app, "quorvex", 1).await;
    assert_eq!(
        app.json("/api/v1/offers?q=quorvex").await["offers"][0]["domain"],
        "numerique"
    );

    // A malformed feed and an unreachable address: errors recorded, nothing lost.
    *atom.body.lock().unwrap() = ("ceci n'est pas un flux".into(), "text/plain");
    let p = poll(s2["id"].as_u64().unwrap()).await;
    assert_eq!(p["status"], "error");
    assert!(
        p["error"]
            .as_str()
            .unwrap()
            .contains("not an RSS or Atom feed"),
        "{p}"
    );
    visible_soon(&app, "quorvex", 1).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_, s3) = admin
        .post(
            "/api/v1/admin/sources",
            json!({"url": format!("http://{dead}/feed"), "service": sid}),
        )
        .await;
    let p = poll(s3["id"].as_u64().unwrap()).await;
    assert_eq!(p["status"], "error");
    assert!(p["error"].as_str().unwrap().contains("cannot fetch"), "{p}");
    assert_eq!(
        public_total(&app, "zorblatte").await + public_total(&app, "quorvex").await,
        2
    );

    // Bad registrations name the field; listing and removal.
    let (s, b) = admin
        .post(
            "/api/v1/admin/sources",
            json!({"url": "ftp://x", "service": 999}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), vec!["url", "service"]);
    let (_, list) = admin.get("/api/v1/admin/sources").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (s, _) = admin
        .delete(&format!("/api/v1/admin/sources/{}", s3["id"]))
        .await;
    assert_eq!(s, 204);
    let (s, _) = admin
        .get(&format!("/api/v1/admin/sources/{}", s3["id"]))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.anon().get("/api/v1/admin/sources").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn partner_feeds_never_lead_to_this_machine_or_private_networks_unless_allowed() {
    let app = spawn_app(0).await;
    let (admin, sid) = admin_and_service(&app).await;
    let (url, feed) = feed_server().await;
    *feed.body.lock().unwrap() = (
        rss(&[("a-1", "Stagiaire zorblatte", "Stage")]),
        "application/rss+xml",
    );
    let port = url::Url::parse(&url).unwrap().port().unwrap();
    // Refused at registration: loopback, IPv6 loopback, an IPv4 loopback written as IPv6 or as
    // a number, and a name that resolves to loopback (the other ranges — cloud metadata,
    // private networks… — are the filter's unit tests: end to end, only loopback is named).
    for refused in [
        url.clone(),
        format!("http://[::1]:{port}/feed"),
        format!("http://[::ffff:127.0.0.1]:{port}/feed"),
        format!("http://2130706433:{port}/feed"),
        format!("http://localhost:{port}/feed"),
    ] {
        let (s, b) = admin
            .post(
                "/api/v1/admin/sources",
                json!({"url": refused, "service": sid}),
            )
            .await;
        assert_eq!(s, 422, "{refused}: {b}");
        assert_eq!(error_fields(&b), vec!["url"], "{refused}");
        assert!(
            b["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{b}"
        );
    }
    // Registered some other way (an older store, a laxer operator): refused at each fetch,
    // after name resolution, and nothing is imported.
    let lax = offerwatch::backoffice::outbound::Outbound::new(
        &offerwatch::config::parse_networks(&["127.0.0.0/8", "::1"]).unwrap(),
    );
    let bo = offerwatch::backoffice::Backoffice::new(&app.engine, "https://portail.example");
    for sneaked in [url.clone(), format!("http://localhost:{port}/feed")] {
        let s = bo
            .register_source(&sneaked, sid, Default::default(), &lax)
            .unwrap();
        let p = poll(&admin, s.id).await;
        assert_eq!(p["status"], "error", "{p}");
        assert!(p["error"].as_str().unwrap().contains("refused"), "{p}");
    }
    assert_eq!(public_total(&app, "zorblatte").await, 0);

    // Where the operator allows loopback (127.0.0.1 only): the feed is read, but a redirect
    // to an address still refused (IPv6 loopback) is not followed, and a feed of more items
    // than a poll reads changes nothing.
    let lab = spawn_app_with(0, |c| {
        c.sources_allowed_networks = vec!["127.0.0.1".parse().unwrap()]
    })
    .await;
    let (admin, sid) = admin_and_service(&lab).await;
    let moved = url.replace("/feed", &format!("/moved?to=http://[::1]:{port}/feed"));
    let (s, b) = admin
        .post(
            "/api/v1/admin/sources",
            json!({"url": moved, "service": sid}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let p = poll(&admin, b["id"].as_u64().unwrap()).await;
    assert_eq!(p["status"], "error", "{p}");
    assert!(p["error"].as_str().unwrap().contains("refused"), "{p}");
    let many: Vec<(String, String)> = (0..=offerwatch::backoffice::sources::MAX_FEED_ITEMS)
        .map(|i| (format!("g-{i}"), format!("Stagiaire {i}")))
        .collect();
    let items: Vec<(&str, &str, &str)> = many
        .iter()
        .map(|(g, t)| (g.as_str(), t.as_str(), "Stage"))
        .collect();
    *feed.body.lock().unwrap() = (rss(&items), "application/rss+xml");
    let (_, b) = admin
        .post("/api/v1/admin/sources", json!({"url": url, "service": sid}))
        .await;
    let p = poll(&admin, b["id"].as_u64().unwrap()).await;
    assert_eq!(p["status"], "error", "{p}");
    assert!(p["error"].as_str().unwrap().contains("at most 1000"), "{p}");
    assert_eq!(p["imported"], 0);
}
