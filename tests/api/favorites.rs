//! Favourites — starred through the API and from the pages (results and offer page), listed
//! the latest first, an offer archived since said as such, unstarred — and the standby of
//! every alert, with a real SMTP server.

use crate::helpers::*;

#[tokio::test]
async fn candidates_star_offers_and_find_them_in_their_favourites() {
    let app = spawn_app(30).await;
    let list = app.json("/api/v1/offers?per_page=3").await;
    let refs: Vec<String> = list["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap().to_string())
        .collect();
    let cand = confirmed_candidate(&app, "etoile", "etoile@exemple.fr").await;

    // Through the API: starring is idempotent, the latest first.
    for r in [&refs[0], &refs[1], &refs[0]] {
        let (s, b) = cand
            .put(&format!("/api/v1/me/favorites/{r}"), serde_json::json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["reference"], r.as_str());
    }
    let (s, b) = cand.get("/api/v1/me/favorites").await;
    assert_eq!(s, 200);
    let starred: Vec<&str> = b["favorites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reference"].as_str().unwrap())
        .collect();
    assert_eq!(starred, [refs[0].as_str(), refs[1].as_str()]);
    let (s, _) = cand
        .put("/api/v1/me/favorites/A-2099-9999", serde_json::json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .anon()
        .put(
            &format!("/api/v1/me/favorites/{}", refs[2]),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 401);

    // An offer archived since stays listed, said as such.
    let archived = app
        .engine
        .store()
        .offer_by_reference(&refs[1])
        .unwrap()
        .unwrap();
    archive(&app, archived.id);
    let (_, b) = cand.get("/api/v1/me/favorites").await;
    assert_eq!(b["favorites"][1]["visible"], false);
    assert_eq!(b["favorites"][1]["state"], "archived");
    let (s, export) = cand.get("/api/v1/me/export").await;
    assert_eq!(s, 200);
    assert_eq!(export["account"]["favorites"].as_array().unwrap().len(), 2);

    // The pages: a star on each result and on the offer page, the list, unstarring.
    let page = app.browser();
    let r = page
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "etoile"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303);
    let home = page.get("/").await.body;
    assert!(home.contains("Retirer des favoris"), "the starred offer");
    assert!(home.contains("Ajouter aux favoris"), "the others");
    // Back to the page of the star; never to a page elsewhere.
    for (back, location) in [
        ("/?contract=stage", "/?contract=stage"),
        ("//ailleurs.example/", "/compte/favoris?fait=favorite_added"),
    ] {
        let r = page
            .submit(
                "/",
                "/compte/favoris",
                &[("reference", &refs[2]), ("do", "add"), ("back", back)],
            )
            .await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some(location)));
    }
    let offer_page = page.get(&format!("/offres/{}", refs[2])).await.body;
    assert!(offer_page.contains("Retirer des favoris"));
    let favorites = page.get("/compte/favoris").await.body;
    assert!(favorites.contains("Offre archivée"), "{favorites}");
    assert_eq!(favorites.matches("Retirer<span").count(), 3);
    let r = page
        .submit(
            "/compte/favoris",
            "/compte/favoris",
            &[("reference", &refs[0]), ("do", "remove")],
        )
        .await;
    assert_eq!(r.status, 303);
    let (_, b) = cand.get("/api/v1/me/favorites").await;
    assert_eq!(b["favorites"].as_array().unwrap().len(), 2);
    let (s, _) = cand
        .delete(&format!("/api/v1/me/favorites/{}", refs[2]))
        .await;
    assert_eq!(s, 204);
    let (_, b) = cand.get("/api/v1/me/favorites").await;
    assert_eq!(b["favorites"].as_array().unwrap().len(), 1);
    // Anonymous visitors see no star.
    let anon = app.get("/").await.text().await.unwrap();
    assert!(!anon.contains("favoris"));
}

#[tokio::test]
async fn alerts_in_standby_mail_nothing_and_resume_with_the_next_offers() {
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    let (token, sid) =
        recruiter_of_new_service(&app, "Archives de Lyon", "min-culture", "rh@archives.fr").await;
    let rec = app.with_token(token);
    let cand = confirmed_candidate(&app, "veilleur", "veilleur@exemple.fr").await;
    let (s, saved) = cand
        .post(
            "/api/v1/me/searches",
            serde_json::json!({"name": "Archives", "criteria": {"q": "archiviste"}, "alert": true, "frequency": "immediate"}),
        )
        .await;
    assert_eq!(s, 201, "{saved}");
    let publish = |title: &'static str| {
        let mut body = offer_body(sid);
        body["title"] = serde_json::json!(title);
        body["state"] = serde_json::json!("published");
        let rec = &rec;
        async move {
            let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
            assert_eq!(s, 201, "{o}");
            o["reference"].as_str().unwrap().to_string()
        }
    };
    let (s, b) = cand
        .put("/api/v1/me/standby", serde_json::json!({"paused": true}))
        .await;
    assert_eq!(
        (s.as_u16(), &b["paused"]),
        (200, &serde_json::json!(true)),
        "{b}"
    );
    let (s, b) = cand
        .put("/api/v1/me/standby", serde_json::json!({"paused": "oui"}))
        .await;
    assert_eq!(s, 422, "{b}");
    publish("Archiviste adjoint(e) pendant la veille").await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        sink.with("Message-ID: <alert.").is_empty(),
        "no mail in standby"
    );

    // Resumed from the page: the next offer is mailed, the one published meanwhile never.
    let page = app.browser();
    page.submit(
        "/connexion",
        "/connexion",
        &[("login", "veilleur"), ("password", PASSWORD)],
    )
    .await;
    let standby = page.get("/compte/veille").await.body;
    assert!(standby.contains("en veille depuis le"), "{standby}");
    let r = page
        .submit("/compte/veille", "/compte/veille", &[("do", "resume")])
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/compte/veille?fait=alerts_resumed")
    );
    assert!(
        page.get("/compte/veille")
            .await
            .body
            .contains("Vos alertes sont actives")
    );
    let after = publish("Archiviste documentaliste après la veille").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sink.with("Message-ID: <alert.").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no alert after resuming"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mails = sink.with("Message-ID: <alert.");
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains(&after),
        "the offer published after resuming"
    );
}
