//! Near home, end to end: offers placed in communes, searches by distance (API, page, feed),
//! the communes' box, and an alert with a distance that mails only the offer close enough; on a
//! phone, the whole way from a search near home to an application with a CV and a favourite.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::smtp::header;

#[tokio::test]
async fn searches_by_distance_answer_the_offers_near_a_place_with_their_distance() {
    let app = spawn_app(400).await;
    let all = app.json("/api/v1/offers?per_page=0").await["total"]
        .as_u64()
        .unwrap();
    let near = app
        .json("/api/v1/offers?near=75001&km=20&sort=distance&per_page=100")
        .await;
    let total = near["total"].as_u64().unwrap();
    assert!(total > 0 && total < all, "{total} of {all}");
    let offers = near["offers"].as_array().unwrap();
    assert_eq!(offers.len() as u64, total.min(100));
    let distances: Vec<f64> = offers
        .iter()
        .map(|o| o["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances.iter().all(|&d| d <= 20.0), "{distances:?}");
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first");
    // The page: the distance select sent with an empty place box means nothing; a distance
    // the select cannot send is said to be wrong.
    assert_eq!(app.get("/?near=&km=30").await.status(), 200);
    let r = app.get("/?km=0").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Critère « km » ignoré"));
    assert!(offers.iter().all(|o| o["commune"].is_string()));
    // Facet counts stay exact under the distance: the contracts add up to the total.
    let contracts: u64 = near["facets"]["contract"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(contracts, total);
    // A wider circle holds at least as much; a town name resolves like its code.
    let wide = app
        .json("/api/v1/offers?near=75001&km=200&per_page=0")
        .await;
    assert!(wide["total"].as_u64().unwrap() >= total);
    let by_name = app.json("/api/v1/offers?near=Lyon&per_page=0").await;
    let by_code = app.json("/api/v1/offers?near=69123&km=30&per_page=0").await;
    assert_eq!(by_name["total"], by_code["total"]);
    // Without near, no distance.
    let plain = app.json("/api/v1/offers?per_page=1").await;
    assert!(plain["offers"][0].get("distance_km").is_none());

    // Mistakes name the parameter.
    for (path, field) in [
        ("/api/v1/offers?near=Atlantide", "near"),
        ("/api/v1/offers?near=69003&km=3", "km"),
        ("/api/v1/offers?km=20", "km"),
        ("/api/v1/offers?sort=distance", "sort"),
    ] {
        let body = problem(app.get(path).await, 400).await;
        assert_eq!(
            error_fields(&body),
            vec![field.to_string()],
            "{path}: {body}"
        );
    }

    // The communes' box.
    let lyon = app.json("/api/v1/communes?q=lyon&limit=3").await;
    assert_eq!(lyon["communes"][0]["name"], "Lyon");
    assert_eq!(lyon["communes"][0]["code"], "69123");
    let by_postcode = app.json("/api/v1/communes?q=69003").await;
    assert_eq!(by_postcode["communes"][0]["code"], "69383");
    assert_eq!(by_postcode["communes"][0]["postcodes"], json!(["69003"]));
    problem(app.get("/api/v1/communes").await, 400).await;

    // The page: the place box, the distance of each result, the criterion to remove.
    let html = app
        .get("/?near=75001&km=20&sort=distance")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("value=\"Paris 1er Arrondissement (75001)\""),
        "place box"
    );
    assert!(html.contains("class=\"ow-distance\">à "), "distances");
    assert!(html.contains("À 20 km de Paris 1er Arrondissement (75001)"));
    assert!(html.contains("<strong>par distance</strong>"));
    // The form sends its distance select with an empty place box: nothing is wrong then.
    let r = app.get("/?near=&km=30").await;
    assert_eq!(r.status(), 200);

    // The feed of the same search.
    let xml = app
        .get("/feeds/offers.rss?near=75001&km=20")
        .await
        .text()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(feed.entries.len() as u64, total.min(50));
}

#[tokio::test]
async fn an_alert_with_a_distance_mails_only_the_offers_close_enough() {
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    let (token, sid) =
        recruiter_of_new_service(&app, "Métropole de Lyon", "min-culture", "rh@lyon.fr").await;
    let rec = app.with_token(token);
    let cand = confirmed_candidate(&app, "lou", "lou@exemple.fr").await;
    let (s, b) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Près de chez moi", "criteria": {"near": "Atlantide"}, "alert": true, "frequency": "immediate"}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), vec!["criteria.near".to_string()]);
    let (s, saved) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Près de chez moi", "criteria": {"near": "69003", "km": "20"}, "alert": true, "frequency": "immediate"}),
        )
        .await;
    assert_eq!(s, 201, "{saved}");
    let search_id = saved["id"].as_u64().unwrap();

    // A commune outside the offer's department is refused, by name.
    let mut wrong = offer_body(sid);
    wrong["region"] = json!("84");
    wrong["department"] = json!("69");
    wrong["commune"] = json!("75101");
    let (s, b) = rec.post("/api/v1/recruiter/offers", wrong).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), vec!["commune".to_string()]);

    let publish = |title: &'static str,
                   region: &'static str,
                   department: &'static str,
                   commune: &'static str| {
        let mut body = offer_body(sid);
        body["title"] = json!(title);
        body["region"] = json!(region);
        body["department"] = json!(department);
        body["commune"] = json!(commune);
        body["state"] = json!("published");
        let rec = &rec;
        async move {
            let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
            assert_eq!(s, 201, "{o}");
            o["reference"].as_str().unwrap().to_string()
        }
    };
    // Villeurbanne is 2 km from Lyon 3e, Tarare 34 km, Paris 390 km.
    let close = publish("Stagiaire médiathèque", "84", "69", "69266").await;
    publish("Stagiaire archives", "84", "69", "69243").await;
    publish("Stagiaire musée", "11", "75", "75101").await;
    let close_id = app
        .engine
        .store()
        .offer_by_reference(&close)
        .unwrap()
        .unwrap()
        .id;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink.with("Message-ID: <alert.").is_empty() {
        assert!(Instant::now() < deadline, "no alert mail");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let ids: Vec<String> = sink
        .with("Message-ID: <alert.")
        .iter()
        .map(|m| header(m, "Message-ID").unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![format!("<alert.{search_id}.{close_id}@portail.example>")]
    );
    // The same search finds it, with its distance.
    let found = app.json("/api/v1/offers?near=69003&km=20").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["offers"][0]["reference"], close);
    let d = found["offers"][0]["distance_km"].as_f64().unwrap();
    assert!((1.0..4.0).contains(&d), "{d}");
}

#[tokio::test]
async fn on_a_phone_a_candidate_searches_near_home_applies_with_a_cv_and_keeps_favourites() {
    use crate::browser::{Driver, Page};
    use offerwatch::domain::OfferState;
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    for (title, commune) in [
        ("Stagiaire médiathèque de Villeurbanne", "69266"),
        ("Stagiaire archives de Tarare", "69243"),
    ] {
        let mut input = offer_input(title);
        input.region = Some("84".into());
        input.department = Some("69".into());
        input.commune = Some(commune.into());
        app.add(input, OfferState::Published);
    }
    confirmed_candidate(&app, "lou", "lou@exemple.fr").await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session.clone(),
    };
    page.resize(360, 800).await;
    crate::backoffice_pages::login(&page, &app, "lou", PASSWORD).await;
    page.go(&app.url("/")).await;
    // On a phone the filters start closed behind their button.
    page.click("summary.ow-filters-button").await;
    page.fill("#near", "69003").await;
    // The box proposes communes as one types.
    for _ in 0..50 {
        if page
            .script("return document.querySelectorAll('#near-communes option').length")
            .await
            .as_u64()
            > Some(0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = page
        .script("return document.querySelector('#near-communes option').value")
        .await;
    assert_eq!(first, "Lyon 3e Arrondissement (69003)");
    page.assert_accessible("the place box").await;
    page.choose("km", "20").await;
    page.click("#criteres button[type=submit]").await;
    let url = page.wait_url("near=").await;
    assert!(url.contains("near=69003") && url.contains("km=20"), "{url}");
    assert_eq!(page.text_of("#resultats").await, "1 offre");
    let distance = page.text_of(".ow-distance").await;
    assert!(
        distance.starts_with("à ") && distance.ends_with(" km"),
        "{distance}"
    );
    assert!(page.body_text().await.contains("Villeurbanne"));
    page.assert_accessible("results near home").await;
    page.screenshot("near-phone.png").await;

    // Saved with an alert.
    page.click("a[href^='/alertes/nouvelle']").await;
    page.wait_url("/alertes/nouvelle").await;
    page.assert_accessible("saving the search").await;
    page.fill("#f-name", "Près de chez moi").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Mes recherches").await;
    let saved = app.engine.store().saved_searches().unwrap();
    assert_eq!(saved.len(), 1);
    assert!(saved[0].alert);
    assert!(saved[0].criteria.contains(&("near".into(), "69003".into())));
    assert!(saved[0].criteria.contains(&("km".into(), "20".into())));

    // The offer, then « Postuler en ligne »: no document yet, a CV uploaded on the way.
    page.go(&app.url("/?near=69003&km=20")).await;
    page.click("ol.results h3 a").await;
    page.wait_url("/offres/").await;
    page.assert_accessible("the offer near home").await;
    page.click("#postuler-en-ligne").await;
    page.wait_url("/candidater").await;
    page.assert_accessible("applying without a document").await;
    page.click("#sans-document a").await;
    page.wait_url("/compte/documents").await;
    page.assert_accessible("my documents").await;
    page.screenshot("documents-empty-phone.png").await;
    let dir = tempfile::tempdir().unwrap();
    let cv = dir.path().join("CV Lou.pdf");
    std::fs::write(
        &cv,
        crate::documents::pdf("Lou, étudiante en documentation"),
    )
    .unwrap();
    page.fill("#file", cv.to_str().unwrap()).await;
    page.click("#ajout-document button[type=submit]").await;
    page.wait_url("/candidater?fait=document_added").await;
    page.wait_text("Document ajouté").await;
    assert_eq!(
        page.script("return document.querySelector('input[name=documents]').checked")
            .await,
        true,
        "the first CV is chosen by default"
    );
    page.assert_accessible("the application form").await;
    page.screenshot("apply-phone.png").await;
    page.fill(
        "#message",
        "Bonjour, je souhaite faire mon stage à la médiathèque.",
    )
    .await;
    page.click("main form button[type=submit]").await;
    page.wait_url("/compte/candidatures").await;
    let text = page.wait_text("Candidature envoyée").await;
    assert!(
        text.contains("Stagiaire médiathèque de Villeurbanne") && text.contains("CV Lou.pdf"),
        "{text}"
    );
    page.assert_accessible("my applications").await;
    page.screenshot("applications-phone.png").await;
    // The SMTP server receives one mail for the recruiter, with the CV attached.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink.with("To: rh@culture.gouv.fr").is_empty() {
        assert!(Instant::now() < deadline, "no application mail");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mails = sink.with("To: rh@culture.gouv.fr");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("filename=\"CV Lou.pdf\""), "{}", mails[0]);
    assert_eq!(
        header(&mails[0], "Reply-To").as_deref(),
        Some("lou@exemple.fr")
    );

    // Another offer starred from the results, found in the favourites.
    page.go(&app.url("/?q=Tarare")).await;
    page.click("ol.results button.ow-star").await;
    page.wait_text("Retirer des favoris").await;
    page.go(&app.url("/compte/favoris")).await;
    let text = page.wait_text("Mes offres favorites").await;
    assert!(text.contains("Stagiaire archives de Tarare"), "{text}");
    page.assert_accessible("my favourites").await;
    page.screenshot("applied-phone.png").await;
    // The same pages on a desktop screen.
    page.resize(1280, 900).await;
    for (path, shot) in [
        ("/compte/documents", "documents-desktop.png"),
        ("/compte/candidatures", "applications-desktop.png"),
    ] {
        page.go(&app.url(path)).await;
        page.assert_accessible(path).await;
        page.screenshot(shot).await;
    }
    page.go(&app.url("/?q=Tarare")).await;
    page.click("ol.results h3 a").await;
    page.click("#postuler-en-ligne").await;
    page.wait_url("/candidater").await;
    page.assert_accessible("the application form on a desktop")
        .await;
    page.screenshot("apply-desktop.png").await;
    driver
        .call("DELETE", &format!("/session/{session}"), None)
        .await;
}
