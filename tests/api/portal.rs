//! The portal in a real browser: headless Chromium driven through chromedriver's WebDriver
//! protocol. Clicks a facet, checks results and counts against the API for the same URL, opens
//! an offer, follows next/previous, and saves desktop and phone screenshots under
//! `target/test-artifacts/`.

use serde_json::json;

use crate::browser::{Driver, ELEMENT, Page};

use crate::helpers::*;

fn count_in(label: &str) -> u64 {
    label
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_person_searches_clicks_a_facet_and_browses_offers_in_chromium() {
    let app = spawn_app(400).await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session.clone(),
    };

    page.go(&app.url("/")).await;
    let api = app.json("/api/v1/offers").await;
    let heading = page.text_of("#resultats").await;
    assert_eq!(heading, format!("{} offres", api["total"]));
    page.screenshot("portal-desktop.png").await;

    // Click "Stage": results and counts become what the API says for the same URL.
    page.click("a[data-facet=\"contract\"][data-value=\"stage\"]")
        .await;
    let url = page.url().await;
    let query = url
        .split_once('?')
        .map(|(_, q)| q.to_string())
        .unwrap_or_default();
    assert_eq!(query, "contract=stage");
    let api = app.json(&format!("/api/v1/offers?{query}")).await;
    assert_eq!(
        page.text_of("#resultats").await,
        format!("{} offres", api["total"])
    );
    let titles: Vec<String> = {
        let mut t = Vec::new();
        for el in page.find_all(".results h3 a").await {
            t.push(page.text(&el).await);
        }
        t
    };
    let api_titles: Vec<String> = api["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles, api_titles);
    for facet in ["contract", "domain", "region"] {
        for v in api["facets"][facet].as_array().unwrap().iter().take(5) {
            let css = format!(
                "a[data-facet=\"{facet}\"][data-value=\"{}\"]",
                v["value"].as_str().unwrap()
            );
            let el = page.find(&css).await;
            // The count is in the label's sibling span: read the whole label text.
            let label_text = page
                .d
                .call(
                    "POST",
                    &format!("/session/{session}/element/{el}/element"),
                    Some(json!({"using": "xpath", "value": ".."})),
                )
                .await;
            // textContent: the value lists of closed <details> are not rendered, so not "text".
            let label = page
                .d
                .call(
                    "GET",
                    &format!(
                        "/session/{session}/element/{}/property/textContent",
                        label_text[ELEMENT].as_str().unwrap()
                    ),
                    None,
                )
                .await;
            let label = label.as_str().unwrap().trim().to_string();
            assert_eq!(
                count_in(&label),
                v["count"].as_u64().unwrap(),
                "{facet} {label}"
            );
        }
    }

    // Open the first offer, then next and previous inside the search.
    page.click(".results h3 a").await;
    assert_eq!(page.text_of("h1").await, api_titles[0]);
    let nav = page.text_of("nav.offer-nav").await;
    assert!(nav.contains(&format!("Offre 1/{}", api["total"])), "{nav}");
    page.click("nav.offer-nav a[rel=next]").await;
    assert_eq!(page.text_of("h1").await, api_titles[1]);
    assert!(
        page.text_of("nav.offer-nav")
            .await
            .contains(&format!("Offre 2/{}", api["total"]))
    );
    page.click("nav.offer-nav a[rel=prev]").await;
    assert_eq!(page.text_of("h1").await, api_titles[0]);

    // Phone width: the page still renders; keep the picture.
    page.go(&app.url("/?contract=stage")).await;
    page.resize(390, 844).await;
    page.screenshot("portal-phone.png").await;
    driver
        .call("DELETE", &format!("/session/{session}"), None)
        .await;
}

#[tokio::test]
async fn pages_are_french_accessible_and_escape_user_text() {
    let app = spawn_app(0).await;
    let o = app.add(
        offer_input("Stage <script>alert(1)</script> & \"R&D\""),
        offerwatch::domain::OfferState::Published,
    );
    let html = normalize(app.get("/").await.text().await.unwrap());
    assert!(html.contains("<html lang=\"fr\""));
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("<label class=\"fr-label\" for=\"q\">"));
    let r = app.get(&format!("/offres/{}", o.reference)).await;
    assert_eq!(r.status(), 200);
    let html = normalize(r.text().await.unwrap());
    assert!(html.contains("Musée &lt;national&gt; &amp; archives"));
    // A print stylesheet, served by the binary.
    assert!(html.contains("media=\"print\""));
    let css = app
        .get("/static/offerwatch.css")
        .await
        .text()
        .await
        .unwrap();
    assert!(css.contains("@media print"));
    let r = app.get("/offres/S-1999-0001").await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page introuvable"));
    let r = app.get("/?domain=numerik").await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Critère « domain » ignoré")
    );
}

/// Named and numeric character references are equivalent; compare on one form.
fn normalize(html: String) -> String {
    html.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#38;", "&amp;")
        .replace("&#34;", "&quot;")
}

#[tokio::test]
async fn create_an_alert_from_the_search_page_without_javascript() {
    let app = spawn_app(0).await;
    let html = app
        .get("/?contract=stage&q=juriste")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("/alertes/nouvelle?q=juriste&amp;contract=stage")
            || html.contains("/alertes/nouvelle?q=juriste&#38;contract=stage"),
        "alert link"
    );
    // Sign up with the form, confirm with the mailed link's page, then save the alert.
    let form = [
        ("civility", "Mme"),
        ("first_name", "Olympe"),
        ("last_name", "de Gouges"),
        ("email", "olympe@exemple.fr"),
        ("username", "olympe"),
        ("password", "Declaration-1791"),
        ("password_confirm", "Declaration-1791"),
        ("phone", ""),
        ("cgu", "on"),
    ];
    let browser = app.browser();
    let r = browser
        .submit(
            "/compte/nouveau?q=juriste&contract=stage",
            "/compte/nouveau?q=juriste&contract=stage",
            &form,
        )
        .await;
    assert_eq!(r.status, 201);
    let r = browser
        .submit("/compte/nouveau", "/compte/nouveau", &form)
        .await;
    assert_eq!(r.status, 409, "same address twice");
    assert!(r.body.contains("déjà utilisé"), "{}", r.body);
    // Without the form's CSRF token, nothing is created.
    let r = app
        .client
        .post(app.url("/compte/nouveau"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let mail = mail_to(&app, "olympe@exemple.fr", "/confirmer-email?token=").await;
    let i = mail.find("/confirmer-email?token=").unwrap();
    let link = mail[i..].split_whitespace().next().unwrap().to_string();
    let r = app.get(&link).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Adresse confirmée"));
    let bad = [
        ("name", "Juriste"),
        ("frequency", "immediate"),
        ("login", "olympe"),
        ("password", "wrong-Password-1"),
    ];
    let r = browser
        .submit(
            "/alertes/nouvelle?q=juriste&contract=stage",
            "/alertes/nouvelle?q=juriste&contract=stage",
            &bad,
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Identifiant ou mot de passe incorrect"));
    let ok = [
        ("name", "Juriste"),
        ("frequency", "daily"),
        ("login", "olympe"),
        ("password", "Declaration-1791"),
    ];
    let r = browser
        .submit(
            "/alertes/nouvelle?q=juriste&contract=stage",
            "/alertes/nouvelle?q=juriste&contract=stage&page=2",
            &ok,
        )
        .await;
    assert_eq!(r.status, 201);
    let saved = app.engine.store().saved_searches().unwrap();
    assert_eq!(saved.len(), 1);
    let mut criteria = saved[0].criteria.clone();
    criteria.sort();
    assert_eq!(
        criteria,
        vec![
            ("contract".to_string(), "stage".to_string()),
            ("q".to_string(), "juriste".to_string())
        ]
    );
    assert_eq!(app.engine.percolator().len(), 1);
}

#[tokio::test]
async fn malformed_addresses_get_french_accessible_pages() {
    let app = spawn_app(5).await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session.clone(),
    };
    // A malformed criterion of a saved search, and a path segment that is not a number.
    for (path, title, shot) in [
        (
            "/alertes/nouvelle?sort=prix",
            "Recherche incorrecte",
            "bad-search",
        ),
        (
            "/recruteur/offres/A-2026-0001/pieces-jointes/abc",
            "Adresse incorrecte",
            "bad-address",
        ),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
        page.go(&app.url(path)).await;
        assert_eq!(page.text_of("h1").await, title);
        if shot == "bad-search" {
            let text = page.text_of("main").await;
            assert!(text.contains("ne sont pas valables : sort"), "{text}");
        }
        page.assert_accessible(path).await;
        page.resize(1280, 900).await;
        page.screenshot(&format!("{shot}-desktop.png")).await;
        page.resize(390, 844).await;
        page.screenshot(&format!("{shot}-phone.png")).await;
    }
    assert!(
        page.text_of("main").await.contains("n'est pas valable"),
        "the page says what is wrong"
    );
    driver
        .call("DELETE", &format!("/session/{session}"), None)
        .await;
}

#[tokio::test]
async fn the_keyword_box_offers_completions_as_an_accessible_combobox() {
    let app = spawn_app(200).await;
    crate::search::suggestions_ready(&app).await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session.clone(),
    };
    page.go(&app.url("/")).await;
    page.fill("#q", "stagi").await;
    for _ in 0..50 {
        if page
            .script("return document.querySelectorAll('#q-suggestions [role=option]').length")
            .await
            .as_u64()
            > Some(0)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let expanded = page
        .script("return document.getElementById('q').getAttribute('aria-expanded')")
        .await;
    assert_eq!(expanded, "true");
    let first = page.text_of("#q-suggestion-0").await;
    assert!(first.starts_with("stagiaire"), "{first}");
    assert!(first.contains("offres"), "{first}");
    page.assert_accessible("the open combobox").await;
    page.resize(1280, 900).await;
    page.screenshot("suggest-desktop.png").await;
    page.resize(390, 844).await;
    page.screenshot("suggest-phone.png").await;
    // The keyboard: down to the first completion, Enter follows it.
    let el = page.find("#q").await;
    driver
        .call(
            "POST",
            &format!("/session/{session}/element/{el}/value"),
            Some(json!({"text": "\u{E015}"})),
        )
        .await;
    let activedescendant = page
        .script("return document.getElementById('q').getAttribute('aria-activedescendant')")
        .await;
    assert_eq!(activedescendant, "q-suggestion-0");
    driver
        .call(
            "POST",
            &format!("/session/{session}/element/{el}/value"),
            Some(json!({"text": "\u{E007}"})),
        )
        .await;
    let url = page.wait_url("q=stagiaire").await;
    assert!(url.contains("q=stagiaire"), "{url}");
    // Without JavaScript the box is a plain search field of the form.
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains(r#"<input class="fr-input" type="search" id="q" name="q""#));
    assert!(!html.contains("role=\"combobox\""));
    driver
        .call("DELETE", &format!("/session/{session}"), None)
        .await;
}
