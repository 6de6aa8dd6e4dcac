//! "Mon compte" for recruiters and administrators, in Chromium at 1280 and 360 px: the services
//! they belong to, details, a password change that needs the current one, a new address that
//! takes effect through the link mailed to it (the old one told), and "Fermer mes autres
//! sessions" (another device's session ends, this one stays). axe-core on every page.

use serde_json::json;

use crate::backoffice_pages::{login, logout, visit};
use crate::browser::{Driver, Page};
use crate::helpers::*;

const NEW_PASSWORD: &str = "Autre-Mot-De-Passe-2027";

#[tokio::test]
async fn recruiters_and_administrators_keep_their_account_in_pages() {
    let app = spawn_app(0).await;
    recruiter_of_new_service(
        &app,
        "Bureau des stages",
        "min-culture",
        "rh@culture.gouv.fr",
    )
    .await;
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };
    login(&page, &app, "rh@culture.gouv.fr", PASSWORD).await;
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 900).await;
        visit(&page, &app, "/recruteur/compte").await;
        page.screenshot(&format!("recruiter-account-{suffix}.png"))
            .await;
    }
    page.resize(1280, 900).await;
    let text = page.body_text().await;
    assert!(
        text.contains("Bureau des stages (Ministère de la Culture)"),
        "{text}"
    );
    assert!(text.contains("rh@culture.gouv.fr (votre identifiant de connexion)"));

    // Details.
    page.fill("#f-phone", "01 40 15 80 00").await;
    page.click("form[action='/recruteur/compte/coordonnees'] button")
        .await;
    page.wait_text("Vos coordonnées sont enregistrées").await;
    page.assert_accessible("details saved").await;
    assert!(page.body_text().await.contains("01 40 15 80 00"));

    // Another device's session ends; this one stays.
    let other = login_api(&app, "rh@culture.gouv.fr", PASSWORD).await;
    assert_eq!(me(&app, &other).await, 200);
    page.click("form[action='/recruteur/compte/sessions'] button")
        .await;
    page.wait_text("Vos autres sessions sont fermées").await;
    assert_eq!(me(&app, &other).await, 401, "the other session is closed");
    visit(&page, &app, "/recruteur/offres").await;
    assert!(
        page.url().await.contains("/recruteur/offres"),
        "this one stays"
    );

    // The password: the current one is needed.
    visit(&page, &app, "/recruteur/compte").await;
    page.fill("#f-current_password", "pas-le-bon-Mot-1").await;
    page.fill("#f-password", NEW_PASSWORD).await;
    page.fill("#f-password_confirm", NEW_PASSWORD).await;
    page.click("form[action='/recruteur/compte/mot-de-passe'] button")
        .await;
    page.wait_text("contient des erreurs").await;
    page.assert_accessible("wrong current password").await;
    page.fill("#f-current_password", PASSWORD).await;
    page.fill("#f-password", NEW_PASSWORD).await;
    page.fill("#f-password_confirm", NEW_PASSWORD).await;
    page.click("form[action='/recruteur/compte/mot-de-passe'] button")
        .await;
    page.wait_text("Mot de passe changé").await;
    login_api(&app, "rh@culture.gouv.fr", NEW_PASSWORD).await;

    // The address: through the link mailed to the new one; the old one is told.
    page.fill("#f-email", "rose.valland@culture.gouv.fr").await;
    page.fill("#f-email_current_password", NEW_PASSWORD).await;
    page.click("form[action='/recruteur/compte/email'] button")
        .await;
    page.wait_text("Un lien a été envoyé à la nouvelle adresse")
        .await;
    app.mail_to("rh@culture.gouv.fr", "rose.valland@culture.gouv.fr")
        .await;
    let mail = app.mail_to("rose.valland@culture.gouv.fr", "token=").await;
    visit(
        &page,
        &app,
        &format!("/confirmer-email?token={}", token_in(&mail)),
    )
    .await;
    login_api(&app, "rose.valland@culture.gouv.fr", NEW_PASSWORD).await;

    // An administrator's account (made by `recruiter_of_new_service`).
    visit(&page, &app, "/").await;
    logout(&page).await;
    login(&page, &app, "admin@gouv.fr", PASSWORD).await;
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 900).await;
        visit(&page, &app, "/admin/compte").await;
        page.screenshot(&format!("admin-account-{suffix}.png"))
            .await;
    }
    assert!(page.body_text().await.contains("Administrateur du site"));
    // A recruiter's account page is not an administrator's.
    let r = app.browser().get("/recruteur/compte").await;
    assert_eq!(r.status, 303, "to the login page without a session");
}

async fn login_api(app: &TestApp, login: &str, password: &str) -> String {
    let (s, b) = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"login": login, "password": password}),
        )
        .await;
    assert_eq!(s, 200, "{login}: {b}");
    b["token"].as_str().unwrap().to_string()
}

async fn me(app: &TestApp, token: &str) -> u16 {
    app.with_token(token.to_string())
        .get("/api/v1/me")
        .await
        .0
        .as_u16()
}

#[tokio::test]
async fn a_recruiter_previews_a_draft_as_candidates_will_see_it() {
    let app = spawn_app(0).await;
    let (token, sid) = recruiter_of_new_service(
        &app,
        "Bureau des stages",
        "min-culture",
        "rh@culture.gouv.fr",
    )
    .await;
    let rec = app.with_token(token);
    let (s, draft) = rec.post("/api/v1/recruiter/offers", offer_body(sid)).await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["state"], "draft");
    let reference = draft["reference"].as_str().unwrap().to_string();
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };
    login(&page, &app, "rh@culture.gouv.fr", PASSWORD).await;
    // From "Mes offres", then from the offer's page.
    visit(&page, &app, "/recruteur/offres").await;
    page.click(&format!("a[href='/recruteur/offres/{reference}/apercu']"))
        .await;
    page.wait_url("/apercu").await;
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 900).await;
        visit(
            &page,
            &app,
            &format!("/recruteur/offres/{reference}/apercu"),
        )
        .await;
        page.screenshot(&format!("preview-{suffix}.png")).await;
    }
    let text = page.body_text().await;
    assert!(
        text.contains("Aperçu") && text.contains("n'est pas diffusée"),
        "{text}"
    );
    assert!(text.contains("Stagiaire restauration d'œuvres (F/H)"));
    assert!(text.contains("pas encore publiée") && !text.contains("Signaler cette offre"));
    assert_eq!(
        page.script("return document.querySelector('meta[name=robots]').content")
            .await,
        "noindex, nofollow"
    );
    page.resize(1280, 900).await;
    page.click("a.fr-notice__link").await;
    page.wait_url(&format!("/recruteur/offres/{reference}"))
        .await;
    page.click(&format!("a[href='/recruteur/offres/{reference}/apercu']"))
        .await;
    page.wait_url("/apercu").await;
    // Candidates do not see it; a visitor without a session goes to the login page.
    assert_eq!(app.get(&format!("/offres/{reference}")).await.status(), 404);
    let r = app
        .browser()
        .get(&format!("/recruteur/offres/{reference}/apercu"))
        .await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn mes_offres_filters_with_counts_and_exports_csv_for_a_spreadsheet() {
    let app = spawn_app(0).await;
    let (token, sid) = recruiter_of_new_service(
        &app,
        "Bureau des stages",
        "min-culture",
        "rh@culture.gouv.fr",
    )
    .await;
    let rec = app.with_token(token);
    for (title, contract, department, region, published) in [
        ("Stagiaire juriste", "stage", "75", "11", true),
        ("Stagiaire « archives »; fonds", "stage", "75", "11", true),
        ("Apprenti électricien", "apprentissage", "69", "84", false),
    ] {
        let mut body = offer_body(sid);
        body["title"] = json!(title);
        body["contract"] = json!(contract);
        body["department"] = json!(department);
        body["region"] = json!(region);
        if published {
            body["state"] = json!("published");
        }
        let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
        assert_eq!(s, 201, "{o}");
    }
    let browser = app.browser();
    let r = browser
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "rh@culture.gouv.fr"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = browser.get("/recruteur/offres?contract=stage").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("2 offres"), "{}", page.body);
    // Each filter counts under the others: the contracts over every state and department.
    assert!(
        page.body.contains(">Stage (2)</option>")
            && page.body.contains(">Apprentissage (1)</option>")
    );
    assert!(page.body.contains("Paris (75) (2)") && !page.body.contains("Rhône (69) (1)"));
    assert!(page.body.contains(">Publiée (2)</option>"));
    let page = browser
        .get("/recruteur/offres?state=draft&department=69")
        .await;
    assert!(page.body.contains("1 offre") && page.body.contains("Apprenti électricien"));
    assert_eq!(
        browser.get("/recruteur/offres?state=perdue").await.status,
        400
    );
    // The CSV of the filtered list: BOM, `;`, a header and one line per offer, quoted when needed.
    let r = browser
        .client
        .get(app.url("/recruteur/offres.csv?contract=stage"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("mes-offres.csv")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}Référence;Intitulé;État;Contrat;"),
        "{csv}"
    );
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"Stagiaire « archives »; fonds\";Publiée;Stage")),
        "{csv}"
    );
    assert!(!csv.contains("électricien"));
    // The administrators' list and its CSV, by administration.
    let admin = app.browser();
    let r = admin
        .submit(
            "/connexion",
            "/connexion",
            &[("login", "admin@gouv.fr"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303);
    admin
        .submit("/cgu/accepter", "/cgu/accepter", &[("cgu", "on")])
        .await;
    let page = admin.get("/admin/offres?administration=min-culture").await;
    assert!(
        page.body.contains("3 offres") && page.body.contains("Ministère de la Culture (3)"),
        "{}",
        page.body
    );
    let csv = admin
        .client
        .get(app.url("/admin/offres.csv?administration=min-culture&year=2026"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.trim_end().split("\r\n").count(), 4, "{csv}");
}
