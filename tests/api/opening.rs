//! Opening day, as a new visitor tries it in Chromium at 1280 and 360 px: the information pages
//! of the footer (the operator's identity from the configuration, « à compléter » where a
//! setting is missing), the keyword box in the first screen of a phone, the DSFR menu button,
//! the result ranks inside the page, "Imprimer" and "Signaler cette offre" on an offer, the
//! contact form; axe-core on every page.

use offerwatch::domain::OfferState;
use serde_json::Value;

use crate::backoffice_pages::visit;
use crate::browser::{Driver, Page};
use crate::helpers::*;

/// Every page the footer links to, with a sentence each must show.
const INFO_PAGES: [(&str, &str); 6] = [
    (
        "/mentions-legales",
        "Directeur ou directrice de la publication",
    ),
    ("/donnees-personnelles", "Vos droits"),
    ("/accessibilite", "conformité partielle"),
    ("/cgu", "Version 1"),
    ("/plan-du-site", "Espace recruteur"),
    ("/aide", "Comment publier une offre ?"),
];

async fn number(page: &Page<'_>, script: &str) -> f64 {
    match page.script(script).await {
        Value::Number(n) => n.as_f64().unwrap(),
        other => panic!("{script}: {other}"),
    }
}

#[tokio::test]
async fn a_new_visitor_finds_the_pages_a_public_site_owes_on_a_desktop_and_a_phone() {
    let app = spawn_app_with(60, |c| {
        c.site_name = "Stages et apprentissage publics".into();
        c.operator_name = Some("Ministère de l'Exemple".into());
        c.operator_address = Some("1 place de l'Exemple, 75007 Paris".into());
        c.publication_director = Some("Le secrétaire général".into());
        c.dpo_email = Some("dpo@exemple.gouv.fr".into());
        c.contact_email = Some("contact@exemple.gouv.fr".into());
        // host_name left unset: the legal notice says it is to be completed.
    })
    .await;
    let offer = app.add(offer_input("Stagiaire juriste"), OfferState::Published);
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };

    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 800).await;
        for (path, needle) in INFO_PAGES {
            visit(&page, &app, path).await;
            let text = page.body_text().await;
            assert!(text.contains(needle), "{path} at {width}px: {needle}");
            assert!(text.contains("Stages et apprentissage publics"), "{path}");
            let name = path.trim_start_matches('/');
            page.screenshot(&format!("info-{name}-{suffix}.png")).await;
        }
    }
    // The legal notice names the operator, and marks the missing host.
    visit(&page, &app, "/mentions-legales").await;
    let text = page.body_text().await;
    assert!(text.contains("Ministère de l'Exemple") && text.contains("Le secrétaire général"));
    assert_eq!(page.text_of(".ow-todo").await, "à compléter");
    // The footer of every page links to them, and to the State's sites.
    let footer: Vec<String> = {
        let mut hrefs = Vec::new();
        for el in page.find_all("footer a").await {
            let href = page
                .d
                .call(
                    "GET",
                    &format!("/session/{}/element/{el}/attribute/href", page.s),
                    None,
                )
                .await;
            hrefs.push(href.as_str().unwrap_or_default().to_string());
        }
        hrefs
    };
    for (path, _) in INFO_PAGES {
        assert!(footer.iter().any(|h| h == path), "footer links to {path}");
    }
    for site in [
        "legifrance.gouv.fr",
        "info.gouv.fr",
        "service-public.fr",
        "data.gouv.fr",
    ] {
        assert!(
            footer.iter().any(|h| h.contains(site)),
            "footer links to {site}"
        );
    }
    assert!(footer.iter().any(|h| h == "/contact"));
    // The display settings: choosing the dark theme applies it.
    page.resize(1280, 900).await;
    visit(&page, &app, "/").await;
    page.click("footer button[aria-controls=fr-theme-modal]")
        .await;
    page.wait_text("Choisissez un thème").await;
    page.click("label[for=fr-radios-theme-dark]").await;
    let mut theme = Value::Null;
    for _ in 0..30 {
        theme = page
            .script("return document.documentElement.getAttribute('data-fr-theme')")
            .await;
        if theme == "dark" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(theme, "dark", "the dark theme applies");
    page.screenshot("home-dark-desktop.png").await;
    page.script("localStorage.clear(); return 0").await;

    // A phone: the keyword box and its button are in the first screen, the filters behind
    // "Filtres", the header's DSFR menu button in place of the two access buttons, the ranks of
    // the results inside the page.
    page.resize(360, 740).await;
    visit(&page, &app, "/").await;
    page.screenshot("home-phone.png").await;
    let screen = number(&page, "return window.innerHeight").await;
    let bottom = number(
        &page,
        "return document.querySelector('#q').getBoundingClientRect().bottom",
    )
    .await;
    assert!(
        bottom < screen,
        "keyword box bottom at {bottom} of {screen}"
    );
    let button = number(
        &page,
        "return document.querySelector('button[form=criteres]').getBoundingClientRect().bottom",
    )
    .await;
    assert!(
        button < screen,
        "search button bottom at {button} of {screen}"
    );
    assert_eq!(
        page.script("return document.querySelector('details.ow-filters').open")
            .await,
        false,
        "the filters wait behind their button"
    );
    let shown = |css: &str| {
        format!(
            "const e = document.querySelector('{css}'); return !!e && e.getBoundingClientRect().width > 0"
        )
    };
    assert_eq!(page.script(&shown("#bouton-menu")).await, true);
    assert_eq!(
        page.script(&shown(".fr-header__tools-links a")).await,
        false,
        "no full-width access buttons"
    );
    let rank_room = number(
        &page,
        "return document.querySelector('ol.results > li').getBoundingClientRect().left",
    )
    .await;
    assert!(rank_room >= 24.0, "the ranks have room: {rank_room}");
    // The menu button opens the access links.
    page.click("#bouton-menu").await;
    page.wait_text("Accès candidat").await;
    page.screenshot("menu-phone.png").await;
    // A search from the top box keeps working.
    page.go(&app.url("/")).await;
    page.fill("#q", "juriste").await;
    page.click("button[form=criteres]").await;
    let url = page.wait_url("q=juriste").await;
    assert!(url.contains("q=juriste"), "{url}");
    page.assert_accessible("a search on a phone").await;

    // The offer page: "Imprimer" and "Signaler cette offre".
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 800).await;
        visit(&page, &app, &format!("/offres/{}", offer.reference)).await;
        assert_eq!(page.script(&shown("button[data-print]")).await, true);
        page.screenshot(&format!("offer-tools-{suffix}.png")).await;
    }
}
