//! Roles inside a service and scheduled publication, in Chromium: a gestionnaire invites a
//! colleague as lecteur; the lecteur sees the offers and their statistics but no button, and
//! the API refuses the lecteur's publication (403); a rédacteur previews a draft and schedules
//! it, and the clock moved past local midnight publishes it and mails the matching alert; the
//! administrators' CSV of the accounts names each one's role. axe-core on every page.

use std::sync::atomic::Ordering;

use serde_json::json;

use crate::backoffice_pages::{choose_password, login, logout, visit};
use crate::browser::{Driver, Page};
use crate::helpers::*;

/// A confirmed candidate with an immediate alert on `q`.
async fn candidate_with_alert(app: &TestApp, email: &str, q: &str) {
    let anon = app.anon();
    let (s, b) = anon.post("/api/v1/candidates", json!({"cgu": true, "first_name": "Camille", "last_name": "Claudel", "email": email, "username": "camille", "password": PASSWORD})).await;
    assert_eq!(s, 201, "{b}");
    let text = app.mail_to(email, "token=").await;
    let (s, _) = anon
        .post("/api/v1/me/confirm", json!({"token": token_in(&text)}))
        .await;
    assert_eq!(s, 200);
    let cand = app.with_token(login_api(app, email).await);
    let (s, b) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": q, "criteria": {"q": q}, "alert": true, "frequency": "immediate"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

async fn login_api(app: &TestApp, email: &str) -> String {
    crate::helpers::login(app, email, PASSWORD).await
}

#[tokio::test]
async fn a_service_works_with_roles_and_scheduled_publication() {
    let app = spawn_app_with(0, |c| c.archive_interval_seconds = 1).await;
    // The first member of a new service manages it.
    let (token, sid) = recruiter_of_new_service(
        &app,
        "Bureau des stages",
        "min-culture",
        "rh@culture.gouv.fr",
    )
    .await;
    let gestionnaire = app.with_token(token);
    let (_, me) = gestionnaire.get("/api/v1/me").await;
    assert_eq!(me["services"][0]["role"], "gestionnaire", "{me}");
    candidate_with_alert(&app, "camille@exemple.fr", "restauration").await;
    let (s, draft) = gestionnaire
        .post("/api/v1/recruiter/offers", offer_body(sid))
        .await;
    assert_eq!(s, 201, "{draft}");
    let reference = draft["reference"].as_str().unwrap().to_string();

    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };
    // The gestionnaire invites a lecteur from the members page.
    login(&page, &app, "rh@culture.gouv.fr", PASSWORD).await;
    visit(&page, &app, "/recruteur/offres").await;
    page.click("a[href$='/membres']").await;
    page.wait_text("Membres du service Bureau des stages").await;
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 900).await;
        page.assert_accessible("members").await;
        page.screenshot(&format!("members-{suffix}.png")).await;
    }
    page.resize(1280, 900).await;
    page.click("#f-role option[value='lecteur']").await;
    page.fill("#f-first_name", "Louise").await;
    page.fill("#f-last_name", "Lecture").await;
    page.fill("#f-email", "lecteur@culture.gouv.fr").await;
    page.click("form[action$='/membres'] button[type=submit]")
        .await;
    page.wait_text("Invitation envoyée").await;
    page.assert_accessible("invited").await;
    assert!(page.body_text().await.contains("lecteur@culture.gouv.fr"));
    // An invitation with a faulty address shows the field.
    page.click("#f-role option[value='redacteur']").await;
    page.fill("#f-first_name", "Rémi").await;
    page.fill("#f-last_name", "Rédaction").await;
    page.fill("#f-email", "pas-une-adresse").await;
    page.click("form[action$='/membres'] button[type=submit]")
        .await;
    page.wait_text("corrigez les champs signalés").await;
    page.assert_accessible("invitation with errors").await;
    logout(&page).await;

    // The lecteur: the offers and statistics, no button.
    let mail = app.mail_to("lecteur@culture.gouv.fr", "token=").await;
    assert!(mail.contains("avec le rôle lecteur"), "{mail}");
    choose_password(&page, &app, &mail, PASSWORD).await;
    login(&page, &app, "lecteur@culture.gouv.fr", PASSWORD).await;
    visit(&page, &app, "/recruteur/offres").await;
    let text = page.body_text().await;
    assert!(text.contains(&reference), "{text}");
    assert!(!text.contains("Créer une offre"), "{text}");
    assert!(page.find_all("td.ow-actions form").await.is_empty());
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    page.screenshot("lecteur-offer.png").await;
    assert!(
        page.find_all("main button").await.is_empty(),
        "no action for a lecteur"
    );
    assert!(page.body_text().await.contains("Vous êtes lecteur"));
    visit(
        &page,
        &app,
        &format!("/recruteur/offres/{reference}/statistiques"),
    )
    .await;
    let lecteur = app.with_token(login_api(&app, "lecteur@culture.gouv.fr").await);
    let (s, b) = lecteur
        .post(
            &format!("/api/v1/recruiter/offers/{reference}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, _) = lecteur
        .get(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = lecteur
        .get(&format!("/api/v1/recruiter/services/{sid}/members"))
        .await;
    assert_eq!(s, 403);
    logout(&page).await;

    // A rédacteur, invited through the API, previews the draft and schedules it.
    let (s, b) = gestionnaire
        .post(
            &format!("/api/v1/recruiter/services/{sid}/members"),
            json!({"email": "redac@culture.gouv.fr", "first_name": "Rémi", "last_name": "Rédaction", "role": "redacteur"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let mail = app.mail_to("redac@culture.gouv.fr", "token=").await;
    choose_password(&page, &app, &mail, PASSWORD).await;
    login(&page, &app, "redac@culture.gouv.fr", PASSWORD).await;
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    page.click("a[href$='/apercu']").await;
    page.wait_text("Aperçu").await;
    page.assert_accessible("preview").await;
    visit(&page, &app, &format!("/recruteur/offres/{reference}")).await;
    // The clock says 25 November 2026, 13:00 in Paris: tomorrow is the 26th.
    page.set_value("#f-publish_on", "2026-11-26").await;
    page.click("main form button[value='save']").await;
    page.wait_text("Modifications enregistrées").await;
    page.assert_accessible("scheduled").await;
    assert!(page.body_text().await.to_lowercase().contains("programmée"));
    visit(&page, &app, "/recruteur/offres?state=scheduled").await;
    let text = page.body_text().await;
    assert!(text.contains("programmée le 26/11/2026"), "{text}");
    let (_, o) = gestionnaire
        .get(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(
        (o["state"].as_str(), o["publish_on"].as_str()),
        (Some("scheduled"), Some("2026-11-26"))
    );
    assert_eq!(public_total(&app, "restauration").await, 0);
    // A date already past is refused, naming the field.
    let mut body = offer_body(sid);
    body["publish_on"] = json!("2026-11-25");
    let (s, b) = gestionnaire.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b), ["publish_on"]);

    // 11 hours later it is 00:00 on the 26th in Paris: the server publishes it and the alert
    // goes out.
    app.clock.store(11 * 3600 + 60, Ordering::SeqCst);
    visible_soon(&app, "restauration", 1).await;
    let alert = app.mail_to("camille@exemple.fr", &reference).await;
    assert!(alert.contains("Stagiaire restauration"), "{alert}");
    let (_, o) = gestionnaire
        .get(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(o["state"], "published", "{o}");
    assert!(o["publish_on"].is_null());

    // The administrators' CSV of the accounts: one line each, with the roles.
    let admin = app.browser();
    admin
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "admin@gouv.fr"), ("password", PASSWORD)],
        )
        .await;
    admin
        .submit("/cgu/accepter", "/cgu/accepter", &[("cgu", "on")])
        .await;
    let csv = admin
        .client
        .get(app.url("/admin/comptes.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}Nom;Prénom;Adresse électronique;"));
    assert_eq!(csv.trim_end().split("\r\n").count(), 5, "{csv}");
    assert!(
        csv.contains(
            "Lecture;Louise;lecteur@culture.gouv.fr;;Recruteur;Actif;Bureau des stages (Lecteur)"
        ),
        "{csv}"
    );
    assert!(csv.contains("Bureau des stages (Gestionnaire)"), "{csv}");

    // An administrator merges the service into another: the offer and the members follow.
    let admin_api = app.with_token(crate::helpers::login(&app, "admin@gouv.fr", PASSWORD).await);
    let (_, musee) = admin_api
        .post(
            "/api/v1/admin/services",
            json!({"name": "Musée des Beaux-Arts", "administration": "min-culture"}),
        )
        .await;
    let into = musee["id"].as_u64().unwrap();
    visit(&page, &app, "/").await;
    logout(&page).await;
    login(&page, &app, "admin@gouv.fr", PASSWORD).await;
    visit(&page, &app, &format!("/admin/services/{into}")).await;
    page.fill("#f-phone", "04 72 10 17 40").await;
    page.fill("#f-website", "pas un site").await;
    page.click("form[action$='/coordonnees'] button").await;
    page.wait_text("Site internet").await;
    page.assert_accessible("service details with an error")
        .await;
    page.fill("#f-website", "https://www.mba-lyon.fr").await;
    page.click("form[action$='/coordonnees'] button").await;
    page.wait_text("Coordonnées du service enregistrées").await;
    visit(&page, &app, &format!("/admin/services/{sid}")).await;
    page.screenshot("admin-service.png").await;
    page.click(&format!("#f-into option[value='{into}']")).await;
    page.click("form[action$='/fusion'] button").await;
    page.wait_text("Fusionner « Bureau des stages » dans « Musée des Beaux-Arts »")
        .await;
    page.assert_accessible("merge summary").await;
    let text = page.body_text().await;
    assert!(
        text.contains("1 offre(s)") && text.contains("3 membre(s)"),
        "{text}"
    );
    page.click("main form button[type=submit]").await;
    page.wait_text("Services fusionnés").await;
    page.assert_accessible("merged").await;
    let (_, o) = gestionnaire
        .get(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(o["service_id"], into, "{o}");
    assert!(o["audit"].to_string().contains("services merged"), "{o}");
    let (_, me) = gestionnaire.get("/api/v1/me").await;
    assert_eq!(me["services"][0]["id"], into, "{me}");
    assert_eq!(me["services"][0]["role"], "gestionnaire", "{me}");
    let (s, _) = admin_api
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/services/{into}"),
            None,
        )
        .await;
    assert_eq!(s, 409, "a service with offers is merged, not deleted");
    let (s, _) = admin_api
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/services/{sid}"),
            None,
        )
        .await;
    assert_eq!(s, 404, "the merged service is gone");
}
