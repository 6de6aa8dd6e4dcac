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
    assert_eq!(facets.len(), 10);
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
async fn telework_pay_and_versant_are_facets_counted_like_the_others() {
    let app = spawn_app(400).await;
    let all = app.json("/api/v1/offers?per_page=0").await;
    let total = all["total"].as_u64().unwrap();
    let count = |facet: &str, value: &str| {
        all["facets"][facet]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["value"] == value)
            .map_or(0, |v| v["count"].as_u64().unwrap())
    };
    // Every offer has a versant; some do not say whether they are paid or offer telework.
    let versants: u64 = ["etat", "territoriale", "hospitaliere"]
        .iter()
        .map(|v| count("versant", v))
        .sum();
    assert_eq!(versants, total);
    let (yes, no) = (count("telework", "true"), count("telework", "false"));
    assert!(yes > 0 && no > 0 && yes + no < total, "{yes} {no} {total}");
    let labels: Vec<&str> = all["facets"]["paid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"Rémunéré"), "{labels:?}");
    // A filter: its total is its count, the other values of its facet stay counted.
    let tele = app.json("/api/v1/offers?telework=true&per_page=50").await;
    assert_eq!(tele["total"].as_u64().unwrap(), yes);
    assert_eq!(tele["facets"]["telework"], all["facets"]["telework"]);
    for o in tele["offers"].as_array().unwrap() {
        let r = o["reference"].as_str().unwrap();
        let full = app.json(&format!("/api/v1/offers/{r}")).await;
        assert_eq!(full["telework"], true, "{full}");
    }
    let both = app
        .json("/api/v1/offers?telework=false&paid=true&versant=etat&per_page=0")
        .await;
    assert!(both["total"].as_u64().unwrap() <= no);
    // A value outside the list is refused, naming the parameter.
    let r = app
        .client
        .get(app.url("/api/v1/offers?telework=peut-etre"))
        .send()
        .await
        .unwrap();
    let b = problem(r, 400).await;
    assert_eq!(b["errors"][0]["field"], "telework", "{b}");
    // The feed of the same search reads back.
    let rss = app
        .client
        .get(app.url("/feeds/offers.rss?telework=true&paid=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(rss.status(), 200);
    let feed = feed_rs::parser::parse(rss.bytes().await.unwrap().as_ref()).unwrap();
    assert!(!feed.entries.is_empty());
    // The portal's filters show the three groups.
    let page = app.browser().get("/?telework=true").await;
    assert!(
        page.body.contains("Télétravail")
            && page.body.contains("Fonction publique territoriale")
            && page.body.contains("Rémunération"),
        "{}",
        &page.body[..2000.min(page.body.len())]
    );
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
        .update_offer(o.id, |o| {
            o.apply(
                Lifecycle::Archive,
                None,
                now,
                &offerwatch::domain::local_time::Zone::default(),
            )
        })
        .unwrap();
    app.engine
        .wait_indexed(seq, std::time::Duration::from_secs(10))
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

async fn suggestions(app: &TestApp, q: &str) -> Vec<serde_json::Value> {
    let path = format!(
        "/api/v1/suggest?{}",
        serde_urlencoded::to_string([("q", q), ("limit", "20")]).unwrap()
    );
    app.json(&path).await["suggestions"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until the server has filled its suggestions (it does so in the background at start).
pub async fn suggestions_ready(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while suggestions(app, "a").await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no suggestions after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn folded(s: &str) -> String {
    offerwatch::index::schema::folded_key(&mut offerwatch::index::schema::fr_exact(), s)
}

#[tokio::test]
async fn suggestions_complete_prefixes_ranked_by_visible_offers_and_follow_changes() {
    let app = spawn_app(400).await;
    suggestions_ready(&app).await;
    // Counts are those of the visible offers: checked against the store for towns and words.
    let now = offerwatch::Engine::now(&app.engine);
    let mut visible = Vec::new();
    app.engine
        .store()
        .for_each_offer(|o| {
            if o.is_visible(now, &offerwatch::domain::local_time::Zone::default()) {
                visible.push(o);
            }
            Ok(())
        })
        .unwrap();
    let town = visible[0].fields.location.clone().unwrap();
    let prefix: String = town.chars().take(3).collect();
    let got = suggestions(&app, &prefix.to_uppercase()).await;
    assert!(!got.is_empty(), "{prefix}");
    let counts: Vec<u64> = got.iter().map(|s| s["count"].as_u64().unwrap()).collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "best first: {counts:?}"
    );
    let entry = got
        .iter()
        .find(|s| s["kind"] == "location" && s["text"] == town.as_str())
        .unwrap_or_else(|| panic!("{town} in {got:?}"));
    let want = visible
        .iter()
        .filter(|o| o.fields.location.as_deref().map(folded) == Some(folded(&town)))
        .count() as u64;
    assert_eq!(entry["count"].as_u64(), Some(want));
    for s in &got {
        assert!(
            folded(s["text"].as_str().unwrap()).starts_with(&folded(&prefix)),
            "{s}"
        );
    }
    // Accents and case ignored: "ingé" → "ingénieur" and "ingénieure", counted like the titles.
    let created = app.add(offer_input("Ingénieure cartographe"), OfferState::Published);
    app.add(offer_input("INGÉNIEUR territorial"), OfferState::Published);
    let titles_with = |w: &str| {
        visible
            .iter()
            .filter(|o| folded(&o.fields.title).split(' ').any(|t| t == w))
            .count() as u64
    };
    let count_of = |list: &[serde_json::Value], text: &str| {
        list.iter()
            .find(|s| s["kind"] == "title" && s["text"] == text)
            .map(|s| s["count"].as_u64().unwrap())
    };
    let inge = suggestions(&app, "inge").await;
    assert_eq!(
        count_of(&inge, "ingénieure"),
        Some(titles_with("ingenieure") + 1),
        "{inge:?}"
    );
    assert_eq!(
        count_of(&inge, "ingénieur"),
        Some(titles_with("ingenieur") + 1),
        "{inge:?}"
    );
    assert_eq!(suggestions(&app, "ingé").await, inge);
    // Pairs of words, and what a suggestion leads to.
    let pair = suggestions(&app, "ingénieure car").await;
    assert_eq!(pair[0]["text"], "ingénieure cartographe");
    assert_eq!(pair[0]["search"], "q=ing%C3%A9nieure+cartographe");
    let culture = suggestions(&app, "ministère de la cul").await;
    let adm = culture
        .iter()
        .find(|s| s["kind"] == "administration")
        .unwrap();
    assert_eq!(adm["search"], "administration=min-culture");
    // References.
    let r = created.reference.to_string();
    let refs = suggestions(&app, &r.to_lowercase()[..10]).await;
    assert!(
        refs.iter()
            .any(|s| s["kind"] == "reference" && s["text"] == r.as_str()),
        "{refs:?}"
    );
    // Archived: gone at once.
    archive(&app, created.id);
    let after = suggestions(&app, "ingénieure car").await;
    assert!(
        !after.iter().any(|s| s["text"] == "ingénieure cartographe"),
        "{after:?}"
    );
    let refs = app.json(&format!("/api/v1/suggest?q={}", r)).await;
    assert!(
        !refs["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["text"] == r.as_str())
    );
    // Bad parameters name the field.
    for bad in [
        "/api/v1/suggest",
        "/api/v1/suggest?q=%20",
        "/api/v1/suggest?q=a&limit=0",
        "/api/v1/suggest?q=a&limit=21",
        "/api/v1/suggest?q=a&sort=x",
    ] {
        let p = problem(app.get(bad).await, 400).await;
        assert!(!error_fields(&p).is_empty(), "{bad}: {p}");
    }
}

#[tokio::test]
async fn similar_offers_share_distinctive_words_and_facets_never_the_offer_itself() {
    let app = spawn_app(300).await;
    let mut input = offer_input("Ingénieur géomaticien cartographie numérique");
    input.description =
        Some("Cartographie des réseaux, géomatique et bases de données géographiques".into());
    let me = app.add(input.clone(), OfferState::Published);
    // Same words, same domain and contract: first; same words, another domain and contract: after.
    let twin = app.add(input.clone(), OfferState::Published);
    let mut other = input.clone();
    other.domain = Some("ressources-humaines".into());
    other.contract = Some("apprentissage".into());
    other.diploma = Some("niveau-5".into());
    let cousin = app.add(other, OfferState::Published);
    let hidden = app.add(input, OfferState::Draft);
    let body = app
        .json(&format!("/api/v1/offers/{}/similar?limit=10", me.reference))
        .await;
    let refs: Vec<&str> = body["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert!(!refs.is_empty() && refs.len() <= 10);
    assert_eq!(refs[0], twin.reference.to_string());
    let cousin_at = refs.iter().position(|r| *r == cousin.reference.to_string());
    assert!(cousin_at.is_some_and(|i| i > 0), "{refs:?}");
    assert!(!refs.contains(&me.reference.to_string().as_str()));
    assert!(!refs.contains(&hidden.reference.to_string().as_str()));
    assert_eq!(
        body["offers"][0]["url"],
        format!("https://portail.example/offres/{}", twin.reference)
    );
    let default = app
        .json(&format!("/api/v1/offers/{}/similar", me.reference))
        .await;
    assert_eq!(default["offers"].as_array().unwrap().len(), 5);
    // The offer page shows them.
    let page = app
        .get(&format!("/offres/{}", me.reference))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Offres similaires"));
    assert!(page.contains(&format!("/offres/{}", twin.reference)));
    // Unknown or hidden offers, bad limits.
    problem(
        app.get(&format!("/api/v1/offers/{}/similar", hidden.reference))
            .await,
        404,
    )
    .await;
    problem(app.get("/api/v1/offers/A-1999-0001/similar").await, 404).await;
    for bad in ["limit=0", "limit=21", "limit=x", "sort=date"] {
        let p = problem(
            app.get(&format!("/api/v1/offers/{}/similar?{bad}", me.reference))
                .await,
            400,
        )
        .await;
        assert!(!error_fields(&p).is_empty(), "{bad}");
    }
}
