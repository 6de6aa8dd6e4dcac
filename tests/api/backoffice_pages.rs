//! The back office in a real browser (headless Chromium through WebDriver), as its people use
//! it: an administrator adds a service; a person requests a recruiter account in the form; the
//! administrator approves it; the recruiter chooses a password from the mailed link, logs in,
//! creates a draft with a faulty field, fixes it, publishes, finds it on the public portal,
//! clones it, archives it and attaches a PDF; a recruiter of another service sees none of it.
//! axe-core audits every page visited; screenshots (desktop and phone) go to
//! `target/test-artifacts/`. Then bad input over HTTP: every form comes back with the input
//! kept and the faulty fields marked, and a missing or wrong CSRF token is refused.

use offerwatch::backoffice::{Backoffice, RecruiterRequest};
use offerwatch::domain::account::AccountState;

use crate::browser::{Driver, Page};
use crate::helpers::*;

pub(crate) async fn visit(page: &Page<'_>, app: &TestApp, path: &str) {
    page.go(&app.url(path)).await;
    page.assert_accessible(path).await;
}

/// Chooses `password` on the page of the link that `mail` (or a link) carries.
pub(crate) async fn choose_password(page: &Page<'_>, app: &TestApp, mail: &str, password: &str) {
    visit(
        page,
        app,
        &format!("/set-password?token={}", token_in(mail)),
    )
    .await;
    page.fill("#f-password", password).await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Mot de passe enregistré").await;
}

pub(crate) async fn login(page: &Page<'_>, app: &TestApp, login: &str, password: &str) {
    visit(page, app, "/connexion").await;
    page.fill("#f-login", login).await;
    page.fill("#f-password", password).await;
    page.click("main form button[type=submit]").await;
    for _ in 0..50 {
        let url = page.url().await;
        if url.contains("/cgu/accepter") {
            // An account that has not accepted the terms in force (an administrator made by
            // the command line) accepts them first.
            page.assert_accessible("/cgu/accepter").await;
            page.click("label[for=f-cgu]").await;
            page.click("main form button[type=submit]").await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        }
        if !url.contains("/connexion") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{login} did not get past the login page: {}",
        page.body_text().await
    );
}

pub(crate) async fn logout(page: &Page<'_>) {
    page.click(".fr-header__tools-links form[action='/deconnexion'] button")
        .await;
    page.wait_text("Accès recruteur").await;
}

#[tokio::test]
async fn recruiters_and_administrators_work_in_pages() {
    let app = spawn_app(30).await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };

    // The first administrator comes from the command line; the password from its link's page.
    let (_, link) = Backoffice::new(&app.engine, "https://portail.example")
        .create_admin("admin@culture.gouv.fr", "Ada", "Admin")
        .unwrap();
    choose_password(&page, &app, &link, PASSWORD).await;

    // The administrator adds a service, under an entité.
    login(&page, &app, "admin@culture.gouv.fr", PASSWORD).await;
    page.wait_url("/admin/demandes").await;
    page.assert_accessible("/admin/demandes").await;
    visit(&page, &app, "/admin/services").await;
    page.choose("administration", "min-culture").await;
    page.fill("#f-entity", "Direction générale des patrimoines")
        .await;
    page.fill("#f-name", "Bureau des stages").await;
    page.click("form[action='/admin/services'] button[type=submit]")
        .await;
    let text = page.wait_text("Service ajouté").await;
    assert!(
        text.contains("Direction générale des patrimoines"),
        "{text}"
    );
    page.assert_accessible("/admin/services after adding").await;
    page.screenshot("admin-services.png").await;
    logout(&page).await;

    // A person requests a recruiter account: the administration first, then the service.
    visit(&page, &app, "/recruteur/demande").await;
    page.choose("administration", "min-culture").await;
    page.click("main form button[type=submit]").await;
    page.wait_url("administration=min-culture").await;
    page.assert_accessible("/recruteur/demande step 2").await;
    let service_id = app
        .engine
        .store()
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Bureau des stages")
        .unwrap()
        .id;
    page.choose("civility", "Mme").await;
    page.fill("#f-first_name", "Rose").await;
    page.fill("#f-last_name", "Valland").await;
    page.fill("#f-email", "rose.valland@culture.gouv.fr").await;
    page.fill("#f-phone", "01 40 15 80 00").await;
    page.choose("service", &service_id.to_string()).await;
    page.click("label[for=f-cgu]").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Demande envoyée").await;
    page.assert_accessible("request sent").await;
    app.mail_to("admin@culture.gouv.fr", "Rose Valland").await;

    // The administrator approves it in /admin/demandes.
    login(&page, &app, "admin@culture.gouv.fr", PASSWORD).await;
    page.wait_text("Rose Valland").await;
    page.click("form[action$='/accepter'] button").await;
    page.wait_text("Demande acceptée").await;
    logout(&page).await;

    // The recruiter chooses a password from the mailed link and logs in: "Mes offres".
    let mail = app.mail_to("rose.valland@culture.gouv.fr", "token=").await;
    choose_password(&page, &app, &mail, PASSWORD).await;
    login(&page, &app, "rose.valland@culture.gouv.fr", PASSWORD).await;
    page.wait_url("/recruteur/offres").await;
    page.assert_accessible("/recruteur/offres (empty)").await;

    // A draft with a faulty field: the message stands next to the field, the input is kept.
    page.click("a[href='/recruteur/offres/nouvelle']").await;
    page.assert_accessible("/recruteur/offres/nouvelle").await;
    page.fill("#f-title", "Stagiaire régisseur d'œuvres (F/H)")
        .await;
    page.choose("contract", "stage").await;
    page.choose("diploma", "niveau-7").await;
    page.choose("domain", "culture-metiers-art").await;
    page.set_value("#f-start", "2027-02").await;
    page.fill("#f-duration_months", "6").await;
    page.set_value("#f-unpublish_on", "2026-01-01").await; // in the past
    page.choose("region", "11").await;
    page.choose("department", "75").await;
    page.fill("#f-location", "Paris 1er").await;
    page.fill(
        "#f-description",
        "Préparer les prêts d'œuvres et suivre les constats d'état.",
    )
    .await;
    page.fill("#f-contact_email", "stages@culture.gouv.fr")
        .await;
    page.click("button[value='save']").await;
    page.wait_text("corrigez les champs signalés").await;
    let error = page.text_of("#f-unpublish_on-error").await;
    assert!(error.contains("postérieure à aujourd'hui"), "{error}");
    assert_eq!(
        page.script("return document.querySelector('#f-title').value")
            .await,
        "Stagiaire régisseur d'œuvres (F/H)"
    );
    page.assert_accessible("offer form with an error").await;
    page.screenshot("offer-form-error.png").await;
    page.resize(360, 800).await;
    page.screenshot("offer-form-error-phone.png").await;
    page.resize(1280, 1000).await;

    // Fixed, with the conditions and who receives the applications, then published.
    page.set_value("#f-unpublish_on", "2027-03-31").await;
    page.choose("paid", "true").await;
    page.fill("#f-pay", "Gratification légale").await;
    page.choose("telework", "true").await;
    page.choose("working_time", "temps-plein").await;
    page.fill("[id='f-application_contact.name']", "Régie des œuvres")
        .await;
    page.fill(
        "[id='f-application_contact.email']",
        "regie@culture.gouv.fr",
    )
    .await;
    page.fill("#f-service_label", "Musée du Louvre – régie des œuvres")
        .await;
    page.click("button[value='publish']").await;
    page.wait_text("L'offre est publiée").await;
    let url = page.url().await;
    let reference = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert!(reference.starts_with("S-"), "{reference}");
    page.assert_accessible("offer page, published").await;

    // On the public portal, with the service label chosen.
    visit(&page, &app, "/?q=régisseur").await;
    let text = page.body_text().await;
    assert!(
        text.contains("Stagiaire régisseur d'œuvres") && text.contains("régie des œuvres"),
        "{text}"
    );
    // Its page says the conditions and who receives the applications.
    visit(&page, &app, &format!("/offres/{reference}")).await;
    let text = page.body_text().await;
    for said in [
        "Rémunéré : Gratification légale",
        "Temps plein",
        "Télétravail\nPossible",
        "Candidatures reçues par : Régie des œuvres (regie@culture.gouv.fr)",
        "Fonction publique de l'État",
    ] {
        assert!(text.contains(said), "{said} in {text}");
    }

    // Cloned, then archived; a PDF attached.
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    page.click("form[action$='/action'] input[value='clone'] + button")
        .await;
    page.wait_text("Copie créée").await;
    let copy = page
        .url()
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(copy, reference);
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    page.click("form[action$='/action'] input[value='archive'] + button")
        .await;
    page.wait_text("L'offre est archivée").await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("fiche-de-poste.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )
    .unwrap();
    page.fill("#f-file", pdf.to_str().unwrap()).await;
    page.click("form[enctype='multipart/form-data'] button")
        .await;
    let text = page.wait_text("Document joint").await;
    assert!(
        text.contains("Document joint")
            && text.contains("fiche-de-poste.pdf")
            && text.contains("PDF"),
        "{text}"
    );
    assert!(
        text.contains("Historique") && text.contains("archivée par Rose Valland"),
        "{text}"
    );
    page.assert_accessible("offer page with an attachment")
        .await;
    page.screenshot("offer-page.png").await;

    // "Mes offres" lists both, with their states; filter by state and by reference.
    visit(&page, &app, "/recruteur/offres").await;
    let text = page.body_text().await;
    assert!(
        text.contains(&reference)
            && text.contains(&copy)
            && text.contains("Archivée")
            && text.contains("Brouillon"),
        "{text}"
    );
    page.screenshot("mes-offres.png").await;
    page.resize(360, 800).await;
    page.screenshot("mes-offres-phone.png").await;
    page.assert_accessible("/recruteur/offres at 360 px").await;
    page.resize(1280, 1000).await;
    visit(
        &page,
        &app,
        &format!("/recruteur/offres?state=draft&q={copy}"),
    )
    .await;
    let text = page.body_text().await;
    assert!(text.contains(&copy) && !text.contains(&reference), "{text}");
    logout(&page).await;

    // A recruiter of another service sees none of it.
    let bo = Backoffice::new(&app.engine, "https://portail.example");
    let admin = app
        .engine
        .store()
        .account_by_login("admin@culture.gouv.fr")
        .unwrap()
        .unwrap();
    let other_service = bo
        .create_service(&admin, "Service des archives", "min-interieur", None)
        .unwrap();
    let other = bo
        .request_recruiter(RecruiterRequest {
            first_name: Some("Jean".into()),
            last_name: Some("Moulin".into()),
            email: Some("jean.moulin@interieur.gouv.fr".into()),
            service: Some(other_service.id),
            cgu: Some(true),
            ..RecruiterRequest::default()
        })
        .unwrap();
    bo.approve(&admin, other.id).unwrap();
    let mail = app.mail_to("jean.moulin@interieur.gouv.fr", "token=").await;
    choose_password(&page, &app, &mail, PASSWORD).await;
    login(&page, &app, "jean.moulin@interieur.gouv.fr", PASSWORD).await;
    let text = page.wait_text("Mes offres (Jean Moulin)").await;
    assert!(
        text.contains("0 offre") && !text.contains(&reference),
        "{text}"
    );
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    page.wait_text("Page introuvable").await;
    logout(&page).await;

    // The administrator withdraws the other offer... (moderation), and disables an account.
    login(&page, &app, "admin@culture.gouv.fr", PASSWORD).await;
    let live = app
        .engine
        .search(&offerwatch::domain::SearchParams::from_pairs(&[]).unwrap())
        .unwrap()
        .offers[0]
        .reference
        .to_string();
    visit(&page, &app, "/admin/offres").await;
    visit(&page, &app, &format!("/admin/offres/{live}")).await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Le formulaire contient des erreurs").await;
    assert!(
        page.text_of("#f-reason-error")
            .await
            .contains("obligatoire")
    );
    page.fill("#f-reason", "Offre en double").await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Offre retirée").await;
    visit(&page, &app, "/admin/comptes").await;
    page.click(&format!(
        "form[action='/admin/comptes/{}/desactiver'] button",
        other.id
    ))
    .await;
    page.wait_text("Compte désactivé").await;
    page.screenshot("admin-comptes.png").await;
    assert_eq!(
        app.engine.store().account(other.id).unwrap().unwrap().state,
        AccountState::Disabled
    );
}

#[tokio::test]
async fn forms_keep_the_input_mark_the_faults_and_need_their_csrf_token() {
    let app = spawn_app(0).await;
    let browser = app.browser();
    // No token, or a wrong one: refused, nothing created.
    for token in [None, Some("0123")] {
        let mut form = vec![("login", "x"), ("password", "y")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let r = browser
            .client
            .post(app.url("/connexion"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // A faulty request: 422, every faulty field marked next to it, the input kept.
    let r = browser
        .submit(
            "/recruteur/demande?administration=min-culture",
            "/recruteur/demande?administration=min-culture",
            &[
                ("first_name", "Rose"),
                ("last_name", ""),
                ("email", "pas-une-adresse"),
                ("service_name", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    for id in ["f-last_name-error", "f-email-error", "f-service_name-error"] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(r.body.contains("value=\"Rose\"") && r.body.contains("value=\"pas-une-adresse\""));
    // An unknown administration at the first step: a page, not a 500.
    let r = browser
        .get("/recruteur/demande?administration=inconnue")
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Pages of another role: to the login page, or refused once logged in.
    let r = browser.get("/recruteur/offres").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some("/connexion?suite=%2Frecruteur%2Foffres")
    );
    let r = browser.get("/admin/demandes").await;
    assert_eq!(r.status, 303);
    // Session cookies: HttpOnly, SameSite=Lax, Secure behind https (the test's public URL).
    let (_, link) = Backoffice::new(&app.engine, "https://portail.example")
        .create_admin("admin@gouv.fr", "Ada", "Admin")
        .unwrap();
    let r = browser
        .submit(
            &format!("/set-password?token={}", token_in(&link)),
            &format!("/set-password?token={}", token_in(&link)),
            &[("password", "faible")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"f-password-error\""));
    let page = browser.get("/connexion").await;
    let r = browser
        .client
        .post(app.url(&format!("/set-password?token={}", token_in(&link))))
        .form(&[("password", PASSWORD), ("csrf", &csrf_of(&page.body))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Never to another site: a full address, and the ones browsers read as another site once
    // they drop the tab (`/%09/evil.example` in a link) or read `\` as `/`.
    let mut cookie = String::new();
    for evil in [
        "https://evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "\n//evil.example",
    ] {
        let r = browser
            .client
            .post(app.url("/connexion"))
            .form(&[
                ("login", "admin@gouv.fr"),
                ("password", PASSWORD),
                ("csrf", &csrf_of(&page.body)),
                ("suite", evil),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/demandes", "{evil:?}");
        cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    }
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
    // An administrator made by the command line accepts the terms of use before anything.
    let r = browser.get("/admin/services").await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/cgu/accepter?suite=%2Fadmin%2Fservices"))
    );
    let r = browser.submit("/cgu/accepter", "/cgu/accepter", &[]).await;
    assert_eq!(r.status, 422, "the box must be ticked");
    assert!(r.body.contains("id=\"f-cgu-error\""), "{}", r.body);
    let r = browser
        .submit(
            "/cgu/accepter",
            "/cgu/accepter",
            &[("cgu", "on"), ("suite", "/admin/services")],
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/admin/services"))
    );
    let terms = app
        .engine
        .store()
        .account_by_login("admin@gouv.fr")
        .unwrap()
        .unwrap()
        .terms
        .unwrap();
    assert_eq!(terms.version, offerwatch::domain::account::TERMS_VERSION);
    // A faulty refusal (no reason) and a missing service: messages, never a 500.
    let r = browser
        .submit(
            "/admin/services",
            "/admin/services",
            &[("name", ""), ("administration", "")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("id=\"f-name-error\"") && r.body.contains("id=\"f-administration-error\"")
    );
    let r = browser
        .submit(
            "/admin/demandes",
            "/admin/demandes/999/refuser",
            &[("reason", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = browser
        .submit("/admin/demandes", "/admin/demandes/999/accepter", &[])
        .await;
    assert_eq!(r.status, 404);
    // Logout ends the session.
    let r = browser.submit("/admin/demandes", "/deconnexion", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(browser.get("/admin/demandes").await.status, 303);
    // Failed logins are throttled like the API: 5 per login in 15 minutes.
    for _ in 0..5 {
        let r = browser
            .submit(
                "/connexion",
                "/connexion",
                &[("login", "nobody@x.fr"), ("password", "wrong")],
            )
            .await;
        assert_eq!(r.status, 401);
        assert!(r.body.contains("Identifiant ou mot de passe incorrect"));
    }
    let r = browser
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "nobody@x.fr"), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, 429);
}
