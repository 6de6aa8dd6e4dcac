use offerwatch::domain::{Lifecycle, OfferState};

use crate::helpers::*;

#[tokio::test]
async fn home_page_lists_latest_offers_with_all_facets() {
    let app = spawn_app(400).await;
    let body = app.json("/api/v1/offers").await;
    let total = body["total"].as_u64().unwrap();
    assert!(total > 200, "{total}");
    assert_eq!(
        (body["page"].as_u64(), body["per_page"].as_u64()),
        (Some(1), Some(20))
    );
    let offers = body["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 20);
    let dates: Vec<&str> = offers
        .iter()
        .map(|o| o["published_at"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let first = &offers[0];
    for key in [
        "reference",
        "title",
        "contract",
        "diploma",
        "domain",
        "administration",
        "country",
        "service",
        "start",
        "url",
    ] {
        assert!(first[key].is_string(), "{key} missing in {first}");
    }
    assert!(
        first["url"]
            .as_str()
            .unwrap()
            .starts_with("https://portail.example/offres/")
    );
    let facets = body["facets"].as_object().unwrap();
    assert_eq!(facets.len(), 7);
    let contract_sum: u64 = facets["contract"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(contract_sum, total);
    // Ordered by count desc, no zero counts.
    for (_, values) in facets {
        let counts: Vec<u64> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["count"].as_u64().unwrap())
            .collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]));
        assert!(counts.iter().all(|&c| c > 0));
    }
}

#[tokio::test]
async fn choosing_a_facet_value_keeps_its_siblings_counted() {
    let app = spawn_app(400).await;
    let all = app.json("/api/v1/offers?per_page=0").await;
    let stage = app.json("/api/v1/offers?contract=stage&per_page=0").await;
    assert_eq!(all["facets"]["contract"], stage["facets"]["contract"]);
    let stage_count = all["facets"]["contract"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == "stage")
        .unwrap()["count"]
        .clone();
    assert_eq!(stage["total"], stage_count);
    assert!(stage["offers"].as_array().unwrap().is_empty());
    // Combined filters: every returned offer satisfies all of them.
    let b = app
        .json("/api/v1/offers?contract=stage&region=11&region=84&diploma=niveau-7&per_page=100")
        .await;
    for o in b["offers"].as_array().unwrap() {
        assert_eq!(o["contract"], "stage");
        assert!(o["region"] == "11" || o["region"] == "84");
        assert_eq!(o["diploma"], "niveau-7");
    }
    let no_facets = app.json("/api/v1/offers?facets=false").await;
    assert!(no_facets.get("facets").is_none());
}

#[tokio::test]
async fn keywords_references_and_the_offer_page() {
    let app = spawn_app(0).await;
    let o = app.add(
        offer_input("Ingénieur données (F/H)"),
        OfferState::Published,
    );
    let draft = app.add(offer_input("Brouillon secret"), OfferState::Draft);
    let r = o.reference.to_string();
    let b = app.json("/api/v1/offers?q=ingenieurs").await;
    assert_eq!(b["total"], 1);
    assert_eq!(b["offers"][0]["reference"], r);
    let short = &r[2..];
    assert_eq!(
        app.json(&format!("/api/v1/offers?q={short}")).await["total"],
        1
    );
    assert_eq!(app.json("/api/v1/offers?q=secret").await["total"], 0);
    let full = app.json(&format!("/api/v1/offers/{r}")).await;
    assert_eq!(full["title"], "Ingénieur données (F/H)");
    assert_eq!(full["service"], "Musée <national> & archives");
    assert_eq!(full["labels"]["region"], "Bretagne");
    assert_eq!(full["unpublish_on"], "2027-06-01");
    assert!(full.get("id").is_none());
    problem(
        app.get(&format!("/api/v1/offers/{}", draft.reference))
            .await,
        404,
    )
    .await;
    problem(app.get("/api/v1/offers/S-1999-0001").await, 404).await;
}

#[tokio::test]
async fn a_published_offer_is_searchable_within_a_second_and_leaves_when_archived() {
    let app = spawn_app(50).await;
    let start = std::time::Instant::now();
    let o = app.add(offer_input("Stagiaire zoologiste"), OfferState::Published);
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(app.json("/api/v1/offers?q=zoologiste").await["total"], 1);
    let now = app.engine.now();
    let (_, seq) = app
        .engine
        .update_offer(o.id, |o| o.apply(Lifecycle::Archive, None, now))
        .unwrap();
    app.engine
        .wait_indexed(seq, std::time::Duration::from_secs(1))
        .unwrap();
    assert_eq!(app.json("/api/v1/offers?q=zoologiste").await["total"], 0);
}

#[tokio::test]
async fn referentials_list_every_facet() {
    let app = spawn_app(0).await;
    let r = app.json("/api/v1/referentials").await;
    assert_eq!(r["contracts"].as_array().unwrap().len(), 2);
    assert_eq!(r["diplomas"][3]["label"], "Niveau 6 – (Bac+3 ou 4)");
    let regions = r["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 18);
    let idf = regions.iter().find(|x| x["code"] == "11").unwrap();
    assert!(
        idf["departments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "75" && d["label"] == "Paris")
    );
    assert_eq!(r["countries"].as_array().unwrap().len(), 249);
}

#[tokio::test]
async fn answers_are_compressed_and_cors_allows_the_portal() {
    let app = spawn_app(100).await;
    let r = app
        .client
        .get(app.url("/api/v1/offers"))
        .header("accept-encoding", "gzip")
        .header("origin", "https://portail.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}
