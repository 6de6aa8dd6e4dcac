//! Favourites: starred through the API and from the pages (results and offer page), listed
//! the latest first, an offer archived since said as such, unstarred.

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
