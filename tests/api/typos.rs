//! Typos forgiven over HTTP: the API answers the correction and searches the word as typed on
//! `exact=true` (then proposes the closest word), the search page says « Résultats pour » with a
//! link to the words as typed, and a saved search keeps the corrected words so that its alert
//! does what the person saw.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn typos_are_read_as_the_closest_words_said_and_saved_as_read() {
    let app = spawn_app(400).await;
    let anon = app.anon();
    let (s, right) = anon.get("/api/v1/offers?q=communication&per_page=0").await;
    assert_eq!(s, 200);
    let want = right["total"].as_u64().unwrap();
    assert!(want > 0, "{right}");
    assert!(right.get("corrected").is_none(), "{right}");

    let (s, b) = anon.get("/api/v1/offers?q=comunication&per_page=0").await;
    assert_eq!(s, 200);
    assert_eq!(b["total"], want, "{b}");
    assert_eq!(b["corrected"], json!({"comunication": "communication"}));
    assert_eq!(b["facets"], right["facets"]);

    let (s, b) = anon
        .get("/api/v1/offers?q=comunication&exact=true&per_page=0")
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["total"], 0, "{b}");
    assert!(b.get("corrected").is_none(), "{b}");
    assert_eq!(b["did_you_mean"], "communication", "{b}");
    let (s, b) = anon.get("/api/v1/offers?q=x&exact=oui").await;
    assert_eq!(s, 400);
    assert_eq!(error_fields(&b), ["exact"]);

    // The page says what it searched and links to the words as typed.
    let page = app.browser().get("/?q=comunication").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Résultats pour <strong><em>communication</em></strong>")
    );
    assert!(
        page.body
            .contains("href=\"/?q=comunication&#38;exact=true\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("/alertes/nouvelle?q=communication"),
        "saved as read"
    );
    let page = app.browser().get("/?q=comunication&exact=true").await;
    assert!(
        page.body.contains(
            "Essayez avec : <a class=\"fr-link\" href=\"/?q=communication\">communication</a>"
        ),
        "{}",
        page.body
    );

    // A saved search keeps the words as read, unless asked to take them as typed.
    let (s, b) = anon.post("/api/v1/candidates", json!({"cgu": true, "first_name": "Camille", "last_name": "Claudel", "email": "camille@exemple.fr", "username": "camille", "password": PASSWORD})).await;
    assert_eq!(s, 201, "{b}");
    let text = app.mail_to("camille@exemple.fr", "token=").await;
    let (s, _) = anon
        .post("/api/v1/me/confirm", json!({"token": token_in(&text)}))
        .await;
    assert_eq!(s, 200);
    let cand = app.with_token(login(&app, "camille@exemple.fr", PASSWORD).await);
    let (s, b) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Com", "criteria": {"q": "Stage comunication"}, "alert": true}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["criteria"]["q"], "Stage communication", "{b}");
    let (s, b) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Tel quel", "criteria": {"q": "comunication", "exact": "true"}, "alert": true}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["criteria"]["q"], "comunication", "{b}");
}
