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
        // The contact form and the report form.
        visit(&page, &app, "/contact").await;
        page.screenshot(&format!("contact-{suffix}.png")).await;
        visit(
            &page,
            &app,
            &format!("/offres/{}/signaler", offer.reference),
        )
        .await;
        page.screenshot(&format!("report-{suffix}.png")).await;
    }
    // A report without a message is refused next to its field; then sent.
    page.click("main form button[type=submit]").await;
    page.wait_text("Le formulaire contient des erreurs").await;
    page.assert_accessible("the report form with errors").await;
    page.set_value("#f-reason", "frauduleuse").await;
    page.fill(
        "#f-message",
        "Cette offre demande un paiement aux candidats.",
    )
    .await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Signalement envoyé").await;
    // A contact message.
    visit(&page, &app, "/contact").await;
    page.fill("#f-email", "etudiante@exemple.fr").await;
    page.fill("#f-subject", "Accessibilité").await;
    page.fill("#f-message", "Le plan du site est-il disponible en PDF ?")
        .await;
    page.click("main form button[type=submit]").await;
    page.wait_text("Message envoyé").await;
    page.assert_accessible("the contact form sent").await;

    // An alert mail's "Se désabonner" link: a page of the portal, then one click.
    let (s, _) = app
        .anon()
        .post(
            "/api/v1/candidates",
            serde_json::json!({"cgu": true, "first_name": "Marie", "last_name": "Curie", "email": "marie@exemple.fr", "username": "mcurie", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 201);
    let cand = app.with_token(login(&app, "mcurie", PASSWORD).await);
    let (s, search) = cand
        .post(
            "/api/v1/me/searches",
            serde_json::json!({"name": "Juriste", "criteria": {"q": "juriste"}, "alert": true}),
        )
        .await;
    assert_eq!(s, 201, "{search}");
    let token =
        offerwatch::candidates::unsubscribe_token(&app.engine, search["id"].as_u64().unwrap())
            .unwrap();
    let link = format!("/alertes/desabonnement?token={token}");
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 800).await;
        visit(&page, &app, &link).await;
        assert!(page.body_text().await.contains("« Juriste »"));
        page.screenshot(&format!("unsubscribe-{suffix}.png")).await;
    }
    page.click("main form button[type=submit]").await;
    page.wait_text("Désabonnement confirmé").await;
    page.assert_accessible("unsubscribed").await;
    let (_, searches) = cand.get("/api/v1/me/searches").await;
    assert_eq!(searches[0]["alert"], false);

    // The administrator sees the report and withdraws the offer.
    admin(&app).await;
    crate::backoffice_pages::login(&page, &app, "admin@gouv.fr", PASSWORD).await;
    for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
        page.resize(width, 800).await;
        visit(&page, &app, "/admin/signalements").await;
        page.screenshot(&format!("admin-reports-{suffix}.png"))
            .await;
    }
    let text = page.body_text().await;
    assert!(
        text.contains("1 signalement à traiter") && text.contains("Offre frauduleuse"),
        "{text}"
    );
    page.fill(
        "textarea[name=reason]",
        "Demande de paiement aux candidats.",
    )
    .await;
    page.click("button[value=withdraw]").await;
    page.wait_text("Offre retirée de la diffusion").await;
    page.assert_accessible("the reports after a withdrawal")
        .await;
    let public = app
        .get(&format!("/api/v1/offers/{}", offer.reference))
        .await;
    assert_eq!(
        public.status(),
        404,
        "the withdrawn offer is no longer public"
    );
}

/// Waits until the sink holds `n` messages or more.
async fn at_least(sink: &crate::smtp::Sink, n: usize, what: &str) {
    for _ in 0..100 {
        if sink.all().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: {} mails, {n} expected", sink.all().len());
}

#[tokio::test]
async fn every_mail_speaks_in_the_portal_s_name_in_text_and_html_and_says_why() {
    use serde_json::json;
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    let admin = app.as_admin().await;
    let (_, service) = admin
        .post(
            "/api/v1/admin/services",
            json!({"name": "Musée du Louvre", "administration": "min-culture"}),
        )
        .await;
    let sid = service["id"].as_u64().unwrap();
    // Request + approval (the new-request mail to the administrator, the activation mail).
    let rec =
        app.with_token(recruiter(&app, &admin, "rh@louvre.fr", json!({"service": sid})).await);
    let activation = app.mail_to("rh@louvre.fr", "token=").await;
    assert!(
        activation.contains("votre identifiant est votre adresse e-mail : rh@louvre.fr"),
        "{activation}"
    );
    // A refused request.
    let (_, b) = app
        .anon()
        .post(
            "/api/v1/recruiters",
            json!({"cgu": true, "civility": "M.", "first_name": "Jean", "last_name": "Refus", "email": "jean@exemple.fr", "phone": "01 02 03 04 05", "service": sid}),
        )
        .await;
    let id = b["id"].as_u64().unwrap();
    let (s, _) = admin
        .post(
            &format!("/api/v1/admin/recruiters/{id}/refuse"),
            json!({"reason": "Adresse personnelle : utilisez votre adresse professionnelle."}),
        )
        .await;
    assert_eq!(s, 200);
    // A candidate: sign-up, confirmation, an immediate alert and a daily one.
    let cand = confirmed_candidate(&app, "berthe", "berthe@exemple.fr").await;
    for (name, frequency) in [("Tout de suite", "immediate"), ("Chaque jour", "daily")] {
        let (s, b) = cand
            .post(
                "/api/v1/me/searches",
                json!({"name": name, "criteria": {"q": "restauration"}, "alert": true, "frequency": frequency}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    // Recovery through the page.
    let browser = app.browser();
    let r = browser
        .submit(
            "/mot-de-passe-oublie",
            "/mot-de-passe-oublie",
            &[("email", "berthe@exemple.fr")],
        )
        .await;
    assert!(r.status < 400, "{}", r.body);
    // A publication (the immediate alert), then its withdrawal by moderation.
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{o}");
    let reference = o["reference"].as_str().unwrap().to_string();
    wait_for_mail(&sink, "Message-ID: <alert.").await;
    // A contact message and a report of the offer, through their pages.
    let r = browser
        .submit(
            "/contact",
            "/contact",
            &[
                ("email", "visiteur@exemple.fr"),
                ("subject", "Question"),
                (
                    "message",
                    "Les offres sont-elles ouvertes aux étudiants étrangers ?",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let report = format!("/offres/{reference}/signaler");
    let r = browser
        .submit(
            &report,
            &report,
            &[
                ("reason", "erronee"),
                ("message", "Le lieu indiqué est faux."),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The digest, the next day.
    app.clock.store(86_400, std::sync::atomic::Ordering::SeqCst);
    wait_for_mail(&sink, "Message-ID: <digest.").await;
    // A day later the administrator's session has ended: a new one.
    let admin = app.with_token(login(&app, "admin@gouv.fr", PASSWORD).await);
    let (s, _) = admin
        .post(
            &format!("/api/v1/admin/offers/{reference}/archive"),
            json!({"reason": "Offre signalée : le lieu est faux."}),
        )
        .await;
    assert_eq!(s, 200);
    // Sign-up, recovery, request (to the administrator), approval, refusal, alert, digest,
    // report (to the administrator), contact (to the administrator), withdrawal.
    at_least(&sink, 10, "every flow's mail").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mails = sink.all();
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| crate::smtp::header(m, "Subject").unwrap_or_default())
        .collect();
    for (m, subject) in mails.iter().zip(&subjects) {
        let text = crate::smtp::decoded(m).to_lowercase();
        let from = crate::smtp::header(m, "From").unwrap_or_default();
        assert!(
            !text.contains("offerwatch"),
            "the program's name in {subject}:\n{m}"
        );
        assert!(!text.contains("/api/"), "an API path in {subject}:\n{m}");
        assert!(
            // (a folded header's lines are joined without their spaces)
            from.replace(' ', "")
                .contains("Apprentissageetstagesdanslafonctionpublique"),
            "sender of {subject}: {from}"
        );
        assert!(
            m.contains("text/plain") && m.contains("text/html"),
            "{subject}"
        );
        assert!(
            text.contains("vous recevez ce message parce qu"),
            "{subject}: {text}"
        );
    }
    for needle in [
        "Confirmez votre adresse",
        "Mot de passe",
        "Nouvelle demande de compte recruteur",
        "Votre compte recruteur",
        "Votre demande de compte recruteur",
        "Nouvelle offre",
        "Message de contact",
        "Offre signalée",
        "Une de vos offres",
    ] {
        assert!(
            subjects.iter().any(|s| words(s).contains(needle)),
            "no mail about {needle}: {subjects:?}"
        );
    }
    // The contact mail answers the visitor.
    let contact = sink.with("Reply-To: visiteur@exemple.fr");
    assert!(!contact.is_empty(), "the contact mail answers the visitor");
}

/// A header with its RFC 2047 words (`=?utf-8?b?…?=`) decoded.
fn words(header: &str) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    for part in header.split_whitespace() {
        let decoded = part
            .strip_prefix("=?utf-8?b?")
            .and_then(|p| p.strip_suffix("?="))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok());
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(decoded.as_deref().unwrap_or(part));
    }
    out
}

async fn wait_for_mail(sink: &crate::smtp::Sink, needle: &str) {
    for _ in 0..100 {
        if !sink.with(needle).is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail with {needle}");
}

#[tokio::test]
async fn rester_connecte_keeps_a_session_30_days_instead_of_12_hours() {
    let app = spawn_app(0).await;
    admin(&app).await;
    for (ticked, max_age, lasts) in [(false, 43_200, 11), (true, 2_592_000, 29 * 24)] {
        let browser = app.browser();
        let page = browser.get("/connexion").await;
        assert!(page.body.contains("Rester connecté"));
        let mut form = vec![("login", "admin@gouv.fr"), ("password", PASSWORD)];
        if ticked {
            form.push(("rester_connecte", "on"));
        }
        let r = browser
            .client
            .post(app.url("/connexion"))
            .form(&[form, vec![("csrf", &csrf_of(&page.body))]].concat())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains(&format!("Max-Age={max_age}")), "{cookie}");
        // The session itself lasts that long: still open `lasts` hours later, not a day after.
        let token = cookie
            .trim_start_matches("ow_session=")
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let auth_at = |hours: i64| {
            app.clock
                .store(hours * 3600, std::sync::atomic::Ordering::SeqCst);
            let links = offerwatch::links::Links::new("https://portail.example");
            offerwatch::auth::Auth::new(&app.engine, &links)
                .authenticate(&token)
                .is_ok()
        };
        assert!(auth_at(lasts), "open after {lasts} h");
        assert!(!auth_at(lasts + 25), "closed after {} h", lasts + 25);
        app.clock.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}
