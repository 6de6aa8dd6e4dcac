//! The candidate's space in a real browser (headless Chromium through WebDriver): sign-up with
//! mismatched then matching passwords, confirmation, login by username, a search saved without
//! an alert, the bell switched on, an alert mail for a matching publication, rename, delete,
//! the export, password recovery (the other sessions end), deletion of the account (nothing
//! personal remains); the offer page's links. axe-core audits every page. Then bad input over
//! HTTP: wrong, used and expired links, mismatched passwords, unknown addresses.

use std::sync::atomic::Ordering;

use offerwatch::domain::OfferState;
use serde_json::json;

use crate::backoffice_pages::{choose_password, visit};
use crate::browser::{Driver, Page};
use crate::helpers::*;

const NEW_PASSWORD: &str = "Nouveau-Mot-2027!";

#[tokio::test]
async fn a_candidate_lives_in_their_space() {
    let app = spawn_app(20).await;
    let mut juriste = offer_input("Juriste en droit public (F/H)");
    juriste.contact_url = Some("https://recrutement.culture.gouv.fr/offre/42".into());
    juriste.contact_phone = Some("01 40 15 80 00".into());
    juriste.comments = Some("Poste ouvert aux personnes en situation de handicap.".into());
    let first = app.add(juriste, OfferState::Published);
    // The comments are public, in the API as on the page.
    let public = app
        .json(&format!("/api/v1/offers/{}", first.reference))
        .await;
    assert_eq!(
        public["comments"],
        "Poste ouvert aux personnes en situation de handicap."
    );
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };

    // Sign-up: mismatched passwords are refused next to the field, the input kept.
    visit(&page, &app, "/compte/nouveau").await;
    page.choose("civility", "Mme").await;
    page.fill("#f-first_name", "Olympe").await;
    page.fill("#f-last_name", "de Gouges").await;
    page.fill("#f-email", "olympe@exemple.fr").await;
    page.fill("#f-username", "olympe d'gouges").await;
    page.fill("#f-password", PASSWORD).await;
    page.fill("#f-password_confirm", "Autre-Mot-De-Passe-1")
        .await;
    page.click("label[for=f-cgu]").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Le formulaire contient des erreurs").await;
    assert!(
        page.text_of("#f-password_confirm-error")
            .await
            .contains("pas identiques")
    );
    assert_eq!(
        page.script("return document.querySelector('#f-email').value")
            .await,
        "olympe@exemple.fr"
    );
    page.assert_accessible("sign-up with an error").await;
    page.fill("#f-password", PASSWORD).await;
    page.fill("#f-password_confirm", PASSWORD).await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Compte créé").await;

    // The mail confirms the address and recalls the username.
    let mail = app.mail_to("olympe@exemple.fr", "token=").await;
    assert!(
        mail.contains("utilisez votre identifiant « olympe d'gouges »"),
        "{mail}"
    );
    let i = mail.find("/confirmer-email?token=").unwrap();
    let link = mail[i..].split_whitespace().next().unwrap().to_string();
    visit(&page, &app, &link).await;
    page.wait_text("Adresse confirmée").await;

    // Login by username: "Mon compte".
    visit(&page, &app, "/connexion?espace=candidat").await;
    page.fill("#f-login", "olympe d'gouges").await;
    page.fill("#f-password", PASSWORD).await;
    page.click("main form button[type=submit]").await;
    page.wait_url("/compte").await;
    page.wait_text("Mon compte").await;
    page.assert_accessible("/compte").await;
    page.screenshot("mon-compte.png").await;
    // On a phone: the address form with its password field, audited at that width too.
    page.resize(390, 844).await;
    page.assert_accessible("/compte").await;
    page.screenshot("mon-compte-phone.png").await;
    page.resize(1280, 1000).await;

    // A typo is read as the closest word, said, and the words as typed are a click away.
    visit(&page, &app, "/?q=jurriste&contract=stage").await;
    let text = page.body_text().await;
    assert!(text.contains("Résultats pour juriste"), "{text}");
    page.click("#correction a").await;
    page.wait_text("Essayez avec : juriste").await;
    page.assert_accessible("the search as typed").await;

    // From the search page: saved without an alert, after the count of the last 30 days.
    visit(&page, &app, "/?q=juriste&contract=stage").await;
    let text = page.body_text().await;
    assert!(
        text.contains("Critères choisis") && text.contains("Réinitialiser ma recherche"),
        "{text}"
    );
    page.click("a[href^='/alertes/nouvelle']").await;
    let text = page.wait_text("30 derniers jours").await;
    assert!(
        text.contains("1 offre publiée ces 30 derniers jours"),
        "{text}"
    );
    page.assert_accessible("/alertes/nouvelle").await;
    page.fill("#f-name", "Juriste stage").await;
    page.choose("alert", "off").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Recherche enregistrée").await;

    // "Mes recherches": the bell switches the alert on.
    visit(&page, &app, "/compte/recherches").await;
    let text = page.body_text().await;
    assert!(
        text.contains("Juriste stage") && text.contains("Pas d'alerte"),
        "{text}"
    );
    page.click("input[value='alert_on'] + button").await;
    page.wait_text("Alerte activée").await;
    page.assert_accessible("/compte/recherches with an alert")
        .await;
    page.screenshot("mes-recherches.png").await;

    // A matching publication: the alert mail.
    app.add(
        offer_input("Juriste contrats publics (F/H)"),
        OfferState::Published,
    );
    let alert = app
        .mail_to("olympe@exemple.fr", "Juriste contrats publics")
        .await;
    assert!(alert.contains("Juriste stage"), "{alert}");

    // Rename, then delete.
    page.fill("input[id^='name-']", "Juriste – stage à Rennes")
        .await;
    page.click("input[value='update'] ~ button").await;
    page.wait_text("Juriste – stage à Rennes").await;
    page.click("form[action$='/supprimer'] button").await;
    page.wait_text("Recherche supprimée").await;
    assert!(app.engine.store().saved_searches().unwrap().is_empty());

    // The export, downloaded with the session.
    let export = page
        .script("const r = new XMLHttpRequest(); r.open('GET', '/compte/export', false); r.send(); return r.responseText;")
        .await;
    let export: serde_json::Value = serde_json::from_str(export.as_str().unwrap()).unwrap();
    assert_eq!(export["account"]["email"], "olympe@exemple.fr");
    assert!(export["account"].get("password_hash").is_none());

    // A second session elsewhere, then a forgotten password: the same answer for an unknown
    // address; the link of the known one sets a new password and ends the other session.
    let elsewhere = app.browser();
    assert_eq!(
        elsewhere
            .submit(
                "/connexion",
                "/connexion",
                &[("login", "olympe@exemple.fr"), ("password", PASSWORD)]
            )
            .await
            .status,
        303
    );
    assert_eq!(elsewhere.get("/compte").await.status, 200);
    page.click(".fr-header__tools-links form[action='/deconnexion'] button")
        .await;
    page.wait_text("Accès candidat").await;
    let before = app.engine.store().mails().unwrap().len();
    visit(&page, &app, "/mot-de-passe-oublie").await;
    page.fill("#f-email", "personne@exemple.fr").await;
    page.click("main form button[type=submit]").await;
    let unknown = page.wait_text("Demande enregistrée").await;
    assert_eq!(
        app.engine.store().mails().unwrap().len(),
        before,
        "no mail for an unknown address"
    );
    visit(&page, &app, "/mot-de-passe-oublie").await;
    page.fill("#f-email", "olympe@exemple.fr").await;
    page.click("main form button[type=submit]").await;
    let known = page.wait_text("Demande enregistrée").await;
    assert_eq!(
        unknown.replace("personne@exemple.fr", ""),
        known.replace("olympe@exemple.fr", ""),
        "the same answer"
    );
    let mail = app.mail_to("olympe@exemple.fr", "valable 60 minutes").await;
    assert!(mail.contains("valable 60 minutes"), "{mail}");
    choose_password(&page, &app, &mail, NEW_PASSWORD).await;
    assert_eq!(
        elsewhere.get("/compte").await.status,
        303,
        "the other session ended"
    );

    // Deletion, confirmed by the password: nothing personal remains.
    visit(&page, &app, "/connexion").await;
    page.fill("#f-login", "olympe@exemple.fr").await;
    page.fill("#f-password", NEW_PASSWORD).await;
    page.click("main form button[type=submit]").await;
    page.wait_url("/compte").await;
    visit(&page, &app, "/compte/supprimer").await;
    page.fill("#f-password", "pas-le-bon").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Ce n'est pas votre mot de passe").await;
    page.fill("#f-password", NEW_PASSWORD).await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Compte supprimé").await;
    let store = app.engine.store();
    assert!(
        store
            .account_by_login("olympe@exemple.fr")
            .unwrap()
            .is_none()
    );
    assert!(store.account_by_login("olympe d'gouges").unwrap().is_none());
    assert!(store.accounts().unwrap().is_empty());
    assert!(store.saved_searches().unwrap().is_empty());
    assert!(
        store
            .mails()
            .unwrap()
            .iter()
            .all(|m| m.to != "olympe@exemple.fr"
                || m.state != offerwatch::store::mails::MailState::Pending)
    );

    // The offer page: apply by mail (reference and title in the subject), on the web, by phone.
    visit(&page, &app, &format!("/offres/{}", first.reference)).await;
    let hrefs = page
        .script("return [...document.querySelectorAll('aside a')].map(a => a.getAttribute('href') + ' ' + (a.getAttribute('rel') || ''))")
        .await;
    let hrefs: Vec<String> = hrefs
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let reference = first.reference.to_string();
    // "Postuler" goes through the redirect that counts clicks, on to the mail, site or phone.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut targets = Vec::new();
    for way in ["courriel", "en-ligne", "telephone"] {
        let href = format!("/offres/{reference}/postuler?par={way}");
        assert!(hrefs.iter().any(|h| h.starts_with(&href)), "{hrefs:?}");
        let r = no_follow.get(app.url(&href)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{href}");
        targets.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert!(
        targets[0].starts_with("mailto:rh@culture.gouv.fr?subject=Candidature%20%E2%80%93%20")
            && targets[0].contains(&reference),
        "{targets:?}"
    );
    assert_eq!(targets[1], "https://recrutement.culture.gouv.fr/offre/42");
    assert_eq!(targets[2], "tel:0140158000");
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("/offres/") && h.ends_with("noopener noreferrer")),
        "the site opens in a new window: {hrefs:?}"
    );
    assert!(
        hrefs.iter().any(|h| h.starts_with("mailto:?subject=Offre")),
        "{hrefs:?}"
    );
    let text = page.body_text().await;
    assert!(
        text.contains("Poste ouvert aux personnes en situation de handicap")
            && text.contains("Janvier 2027")
            && text.contains("1er juin 2027"),
        "{text}"
    );
    page.resize(360, 800).await;
    page.screenshot("offer-page-phone.png").await;
}

#[tokio::test]
async fn links_and_passwords_are_checked_with_clear_messages() {
    let app = spawn_app(0).await;
    let browser = app.browser();
    // Unknown, used and expired links: a clear message, nothing changed.
    let r = browser
        .submit(
            "/set-password?token=inconnu",
            "/set-password?token=inconnu",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Ce lien est inconnu, déjà utilisé ou expiré"),
        "{}",
        r.body
    );
    let anon = app.anon();
    let (s, _) = anon
        .post("/api/v1/candidates", json!({"cgu": true, "civility": "M.", "first_name": "Jean", "last_name": "Zay", "email": "jean@exemple.fr", "username": "jzay", "password": PASSWORD}))
        .await;
    assert_eq!(s, 201);
    let ask = |email: &'static str| {
        let b = &browser;
        async move {
            b.submit(
                "/mot-de-passe-oublie",
                "/mot-de-passe-oublie",
                &[("email", email)],
            )
            .await
        }
    };
    assert_eq!(ask("jean@exemple.fr").await.status, 200);
    let mail = app.mail_to("jean@exemple.fr", "valable 60 minutes").await;
    let token = token_in(&mail);
    let path = format!("/set-password?token={token}");
    assert_eq!(
        browser
            .submit(&path, &path, &[("password", "court")])
            .await
            .status,
        422,
        "weak password"
    );
    assert_eq!(
        browser
            .submit(&path, &path, &[("password", NEW_PASSWORD)])
            .await
            .status,
        200
    );
    let r = browser
        .submit(&path, &path, &[("password", NEW_PASSWORD)])
        .await;
    assert_eq!(r.status, 422, "single use");
    assert!(
        r.body
            .contains("Ce lien est inconnu, déjà utilisé ou expiré")
    );
    // Expired: an hour later the next link no longer works.
    let seen = outbox_mails(&app, "jean@exemple.fr", "choisir un nouveau mot de passe").len();
    assert_eq!(ask("jean@exemple.fr").await.status, 200);
    let latest = next_mail_to(
        &app,
        "jean@exemple.fr",
        "choisir un nouveau mot de passe",
        seen,
    )
    .await;
    let token = token_in(&latest);
    app.clock.store(61 * 60, Ordering::SeqCst);
    let path = format!("/set-password?token={token}");
    let r = browser
        .submit(&path, &path, &[("password", "Encore-Un-Mot-2028")])
        .await;
    assert_eq!(r.status, 422, "expired");
    app.clock.store(0, Ordering::SeqCst);
    // A malformed address names the field; an unknown one gets the same answer as a known one.
    let r = ask("pas-une-adresse").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"f-email-error\""));
    let unknown = ask("inconnu@exemple.fr").await;
    assert_eq!(unknown.status, 200);
    // Per address: 3 an hour, then a wait (the same for every address).
    assert_eq!(
        ask("jean@exemple.fr").await.status,
        200,
        "the third of the hour"
    );
    let r = ask("jean@exemple.fr").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Trop de tentatives"));
    // Mismatched passwords on the account page: nothing changed.
    let token = browser
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "jzay"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(token.status, 303);
    let r = browser
        .submit(
            "/compte",
            "/compte/mot-de-passe",
            &[
                ("current_password", NEW_PASSWORD),
                ("password", "Tout-Autre-Mot-1"),
                ("password_confirm", "Pas-Le-Meme-2"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"f-password_confirm-error\""));
    let r = browser
        .submit(
            "/compte",
            "/compte/mot-de-passe",
            &[
                ("current_password", "faux"),
                ("password", "Tout-Autre-Mot-1"),
                ("password_confirm", "Tout-Autre-Mot-1"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Indiquez votre mot de passe actuel"),
        "{}",
        r.body
    );
    assert_eq!(
        browser
            .submit(
                "/connexion",
                "/connexion",
                &[("login", "jzay"), ("password", NEW_PASSWORD)]
            )
            .await
            .status,
        303,
        "password unchanged"
    );
    // A malformed new address: named, nothing changed.
    let r = browser
        .submit("/compte", "/compte/email", &[("email", "jean@")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"f-email-error\""));
    assert!(
        app.engine
            .store()
            .account_by_login("jean@exemple.fr")
            .unwrap()
            .is_some()
    );
}
