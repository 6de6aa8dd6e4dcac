//! Statistics end to end: views of the offer page and API by people (robots left out), clicks
//! on "Postuler" through the redirect that counts, the recruiter's figures (API, page, CSV) and
//! the administrator's census — the pages audited with axe-core in Chromium and photographed.

use serde_json::json;

use crate::browser::{Driver, Page};
use crate::helpers::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";

async fn get_as(app: &TestApp, path: &str, ua: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut r = client.get(app.url(path));
    if let Some(ua) = ua {
        r = r.header("User-Agent", ua);
    }
    r.send().await.unwrap()
}

/// The statistics of an offer that the store holds (written, not only counted).
fn stored_stats(app: &TestApp, reference: &str) -> Vec<(i32, offerwatch::store::stats::Counts)> {
    let store = app.engine.store();
    let id = store.offer_by_reference(reference).unwrap().unwrap().id;
    store.offer_stats(id).unwrap()
}

#[tokio::test]
async fn views_and_clicks_are_counted_for_people_and_shown_to_recruiters_and_administrators() {
    let app = spawn_app(40).await;
    let admin = app.as_admin().await;
    let service = |name: &'static str| {
        let admin = &admin;
        async move {
            let (_, s) = admin
                .post(
                    "/api/v1/admin/services",
                    json!({"name": name, "administration": "min-culture"}),
                )
                .await;
            s["id"].as_u64().unwrap()
        }
    };
    let sid = service("Musée d'Orsay").await;
    let rec = app.with_token(recruiter(&app, &admin, "rh@orsay.fr", json!({"service": sid})).await);
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{o}");
    let reference = o["reference"].as_str().unwrap().to_string();

    // People: two page views, one API view. Robots and scripts: not counted.
    for path in [
        format!("/offres/{reference}"),
        format!("/offres/{reference}"),
    ] {
        assert_eq!(get_as(&app, &path, Some(FIREFOX)).await.status(), 200);
    }
    let api = format!("/api/v1/offers/{reference}");
    assert_eq!(get_as(&app, &api, Some(FIREFOX)).await.status(), 200);
    for ua in [
        Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
        Some("curl/8.5.0"),
        None,
    ] {
        assert_eq!(get_as(&app, &api, ua).await.status(), 200);
    }
    // "Postuler" by mail: counted, then on to the mail client; unknown ways refused.
    let r = get_as(
        &app,
        &format!("/offres/{reference}/postuler?par=courriel"),
        Some(FIREFOX),
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("mailto:stages@culture.gouv.fr?subject="),
        "{to}"
    );
    let r = get_as(
        &app,
        &format!("/offres/{reference}/postuler?par=fax"),
        Some(FIREFOX),
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = get_as(
        &app,
        &format!("/offres/{reference}/postuler?par=telephone"),
        Some(FIREFOX),
    )
    .await;
    assert_eq!(r.status(), 404, "no phone given");
    // The offer page's "Postuler" link goes through the counting redirect.
    let page = app
        .get(&format!("/offres/{reference}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!(
        "href=\"/offres/{reference}/postuler?par=courriel\""
    )));

    let (s, stats) = rec
        .get(&format!("/api/v1/recruiter/offers/{reference}/stats"))
        .await;
    assert_eq!(s, 200, "{stats}");
    assert_eq!(
        stats["totals"],
        json!({"views": 3, "clicks": 1, "mails": 0, "applications": 0})
    );
    assert_eq!(stats["days"][0]["date"], "2026-11-25");
    // Written in a batch, the same figures come back from the store.
    app.engine.flush_stats().unwrap();
    let stored = stored_stats(&app, &reference);
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].1.views, stored[0].1.clicks), (3, 1));
    let (_, again) = rec
        .get(&format!("/api/v1/recruiter/offers/{reference}/stats"))
        .await;
    assert_eq!(again["totals"], stats["totals"]);

    // Another service's recruiter sees nothing of it.
    let archives = service("Archives").await;
    let other = recruiter(&app, &admin, "rh@archives.fr", json!({"service": archives})).await;
    let (s, _) = app
        .with_token(other)
        .get(&format!("/api/v1/recruiter/offers/{reference}/stats"))
        .await;
    assert_eq!(s, 404);

    // The administrator's census counts every offer of the store.
    let (s, census) = admin.get("/api/v1/admin/stats").await;
    assert_eq!(s, 200, "{census}");
    let mut total = 0;
    app.engine
        .store()
        .for_each_offer(|_| {
            total += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(census["total"], total);
    let sum = |k: &str| {
        census[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    for k in ["states", "contracts", "regions", "administrations"] {
        assert_eq!(sum(k), total, "{k}");
    }
    assert!(
        census["months"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"] == "2026-11")
    );
    let (s, _) = rec.get("/api/v1/admin/stats").await;
    assert_eq!(s, 403);

    // Pages in Chromium: charts, tables, CSV.
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session.clone(),
    };
    crate::backoffice_pages::login(&page, &app, "rh@orsay.fr", PASSWORD).await;
    page.go(&app.url(&format!("/recruteur/offres/{reference}")))
        .await;
    page.click(&format!(
        "a[href='/recruteur/offres/{reference}/statistiques']"
    ))
    .await;
    let text = page.wait_text("Chiffres par jour").await;
    assert!(
        text.contains("3 vues, 1 clic sur « Postuler », 0 alerte envoyée"),
        "{text}"
    );
    assert_eq!(page.find_all("svg[role=img]").await.len(), 2);
    page.assert_accessible("offer statistics").await;
    page.resize(1280, 900).await;
    page.screenshot("stats-offer-desktop.png").await;
    page.resize(390, 844).await;
    page.screenshot("stats-offer-phone.png").await;
    let csv = page
        .script(&format!(
            "return fetch('/recruteur/offres/{reference}/statistiques.csv').then(r => r.text())"
        ))
        .await;
    assert_eq!(
        csv.as_str().unwrap(),
        "Jour,Vues,Clics sur Postuler,Alertes envoyées,Candidatures en ligne\r\n2026-11-25,3,1,0,0\r\n"
    );
    page.resize(1280, 900).await;
    page.click(".fr-header__tools-links form[action='/deconnexion'] button")
        .await;
    page.wait_text("Accès recruteur").await;
    crate::backoffice_pages::login(&page, &app, "admin@gouv.fr", PASSWORD).await;
    page.go(&app.url("/admin/statistiques")).await;
    let text = page.wait_text("Offres par administration").await;
    assert!(text.contains(&format!("{total} offres en tout")), "{text}");
    assert_eq!(page.find_all("svg[role=img]").await.len(), 5);
    page.assert_accessible("census").await;
    page.resize(1280, 900).await;
    page.screenshot("stats-admin-desktop.png").await;
    page.resize(390, 844).await;
    page.screenshot("stats-admin-phone.png").await;
    let csv = page
        .script("return fetch('/admin/statistiques.csv').then(r => r.text())")
        .await;
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("dimension,code,libellé,offres\r\n"),
        "{csv}"
    );
    assert!(csv.contains("etats,published,Publiée,"), "{csv}");
    driver
        .call("DELETE", &format!("/session/{session}"), None)
        .await;
}

#[tokio::test]
async fn every_background_loop_stops_with_the_server_and_the_last_counts_are_written() {
    let app = spawn_app(3).await;
    let offers = app.json("/api/v1/offers?per_page=1&facets=false").await;
    let reference = offers["offers"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get_as(&app, &format!("/offres/{reference}"), Some(FIREFOX))
            .await
            .status(),
        200
    );
    // Counted in memory, written every 5 s: the stop writes what was counted since.
    assert_eq!(
        app.stop_workers().await,
        5,
        "percolator, mailer, statistics, partner feeds, archiver"
    );
    let stored = stored_stats(&app, &reference);
    assert_eq!(stored.len(), 1, "the view was written at the stop");
    assert_eq!(stored[0].1.views, 1);
}
