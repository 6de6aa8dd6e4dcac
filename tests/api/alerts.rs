//! Candidates and alerts end to end, with a real SMTP server on loopback: sign-up and
//! confirmation, two saved searches (immediate and daily), offers that match one, both or
//! neither, exactly the expected mails with the right headers, one-click unsubscribe.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::smtp::{decoded, header};

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn candidates_save_searches_and_get_exactly_the_expected_alert_mails() {
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    let admin = app.as_admin().await;
    let (_, service) = admin
        .post(
            "/api/v1/admin/services",
            json!({"name": "Musée d'Orsay", "administration": "min-culture"}),
        )
        .await;
    let sid = service["id"].as_u64().unwrap();
    let rec = Client {
        app: &app,
        token: Some(recruiter(&app, &admin, "rh@orsay.fr", json!({"service": sid})).await),
    };

    // Sign-up, confirmation link by mail, login with the username.
    let anon = app.anon();
    let (s, b) = anon.post("/api/v1/candidates", json!({"cgu": true, "civility": "Mme", "first_name": "Camille", "last_name": "Claudel", "email": "camille@exemple.fr", "username": "camille", "password": PASSWORD})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = anon.post("/api/v1/candidates", json!({"cgu": true, "first_name": "C", "last_name": "C", "email": "autre@exemple.fr", "username": "Camille", "password": PASSWORD})).await;
    assert_eq!(s, 409, "usernames are unique, whatever the case");
    assert_eq!(b["code"], "already_used", "{b}");
    let (s, b) = anon.post("/api/v1/candidates", json!({"cgu": true, "civility": "Mme", "first_name": "C", "last_name": "C", "email": "pas-une-adresse", "password": "court"})).await;
    assert_eq!(
        (s.as_u16(), &b["code"]),
        (422, &json!("invalid_body")),
        "{b}"
    );
    let codes: Vec<(&str, &str)> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("email", "not_an_email")), "{codes:?}");
    assert!(
        codes.contains(&("password", "password_too_short")),
        "{codes:?}"
    );
    let text = app.mail_to("camille@exemple.fr", "token=").await;
    let (s, b) = anon
        .post("/api/v1/me/confirm", json!({"token": token_in(&text)}))
        .await;
    assert_eq!(s, 200, "{b}");
    let cand = app.with_token(login(&app, "camille", PASSWORD).await);

    let (s, immediate) = cand.post("/api/v1/me/searches", json!({"name": "Restauration", "criteria": {"q": "restauration", "contract": ["stage"]}, "alert": true, "frequency": "immediate"})).await;
    assert_eq!(s, 201, "{immediate}");
    let (s, daily) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Île-de-France", "criteria": {"region": ["11"]}, "frequency": "daily"}),
        )
        .await;
    assert_eq!(s, 201, "{daily}");
    let (s, b) = cand
        .post(
            "/api/v1/me/searches",
            json!({"name": "Mauvaise", "criteria": {"domain": ["numerik"], "per_page": "5"}}),
        )
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["criteria.per_page", "criteria.domain"]);
    let (imm_id, daily_id) = (
        immediate["id"].as_u64().unwrap(),
        daily["id"].as_u64().unwrap(),
    );

    // Offers: A matches both, B only the daily one, C only the immediate one, D neither.
    let publish = |title: &'static str, region: &'static str, department: &'static str| {
        let mut body = offer_body(sid);
        body["title"] = json!(title);
        body["region"] = json!(region);
        body["department"] = json!(department);
        body["description"] = json!("Missions au musée");
        body["state"] = json!("published");
        let rec = &rec;
        async move {
            let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
            assert_eq!(s, 201, "{o}");
            o["reference"].as_str().unwrap().to_string()
        }
    };
    let a = publish("Stagiaire restauration de peintures", "11", "75").await;
    let b = publish("Stagiaire médiation culturelle", "11", "92").await;
    let c = publish("Stagiaire restauration de sculptures", "84", "69").await;
    let d = publish("Stagiaire documentation", "84", "69").await;
    let id_of = |r: &str| {
        app.engine
            .store()
            .offer_by_reference(r)
            .unwrap()
            .unwrap()
            .id
    };

    // Immediate: one mail per matching offer (A, C), with the RFC 8058 headers.
    let expect_a = format!("<alert.{imm_id}.{}@portail.example>", id_of(&a));
    let expect_c = format!("<alert.{imm_id}.{}@portail.example>", id_of(&c));
    wait_for("the two immediate alerts", || {
        sink.with("alert.").len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts = sink.with("Message-ID: <alert.");
    let mut ids: Vec<String> = alerts
        .iter()
        .map(|m| header(m, "Message-ID").unwrap())
        .collect();
    ids.sort();
    let mut want = vec![expect_a.clone(), expect_c.clone()];
    want.sort();
    assert_eq!(ids, want);
    let mail_a = alerts.iter().find(|m| m.contains(&expect_a)).unwrap();
    assert_eq!(
        header(mail_a, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = header(mail_a, "List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with("<https://portail.example/alertes/desabonnement?token="),
        "{unsubscribe}"
    );
    assert!(
        header(mail_a, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    let body = decoded(mail_a);
    assert!(body.contains(&a) && body.contains(&format!("https://portail.example/offres/{a}")));
    assert!(body.contains("Stagiaire restauration de peintures"));
    // The mail says what matched, and links to the portal's search, not to the API.
    assert!(
        body.contains("Pourquoi : « restauration » dans l'intitulé ; Stage"),
        "{body}"
    );
    assert!(
        body.contains("https://portail.example/?contract=stage&q=restauration"),
        "{body}"
    );
    assert!(body.contains("Gérer mes alertes : https://portail.example/compte/recherches"));
    assert!(!body.contains("/api/v1/offers"), "{body}");
    assert!(!decoded(&sink.all().join("\n")).contains(&format!("alert.{imm_id}.{}", id_of(&d))));
    // Each mail counts in the offer's statistics.
    let mails_of = |r: &str| -> u64 {
        app.engine
            .offer_stats(id_of(r))
            .unwrap()
            .iter()
            .map(|(_, c)| c.mails)
            .sum()
    };
    assert_eq!((mails_of(&a), mails_of(&c), mails_of(&d)), (1, 1, 0));

    // Daily: nothing before the digest hour; the next day, one digest listing A and B.
    assert!(sink.with("digest.").is_empty());
    app.clock.store(86_400, std::sync::atomic::Ordering::SeqCst);
    wait_for("the daily digest", || !sink.with("digest.").is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let digests = sink.with("Message-ID: <digest.");
    assert_eq!(digests.len(), 1);
    assert_eq!(
        header(&digests[0], "Message-ID").unwrap(),
        format!("<digest.{daily_id}.2026-11-26@portail.example>")
    );
    let text = decoded(&digests[0]);
    assert!(text.contains(&a) && text.contains(&b) && !text.contains(&c) && !text.contains(&d));
    // Each offer of the digest says why, in the text and the HTML parts.
    assert_eq!(
        text.matches("Pourquoi : Île-de-France").count(),
        4,
        "{text}"
    );
    app.clock.store(0, std::sync::atomic::Ordering::SeqCst);

    // Re-publishing, editing or unarchiving never re-sends.
    for action in ["archive", "unarchive"] {
        let (s, _) = rec
            .post(&format!("/api/v1/recruiter/offers/{a}/{action}"), json!({}))
            .await;
        assert_eq!(s, 200);
    }
    let mut edit = offer_body(sid);
    edit["title"] = json!("Stagiaire restauration de peintures anciennes");
    let (s, _) = rec
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/recruiter/offers/{a}"),
            Some(edit),
        )
        .await;
    assert_eq!(s, 200);

    // One-click unsubscribe (POST, no login) stops further mails of that alert.
    let url = unsubscribe
        .trim_start_matches('<')
        .trim_end_matches('>')
        .replace("https://portail.example", &app.base);
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Restauration"));
    let r = app
        .client
        .post(&url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, searches) = cand.get("/api/v1/me/searches").await;
    assert_eq!(searches[0]["alert"], false);
    let forged = url.replace("token=", "token=9");
    assert_eq!(app.client.post(&forged).send().await.unwrap().status(), 400);
    let e = publish("Stagiaire restauration de tapisseries", "11", "75").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.with("Message-ID: <alert.").len(),
        2,
        "no mail after unsubscribing nor for re-publications ({e})"
    );

    // Export then deletion of the account.
    let (s, export) = cand.get("/api/v1/me/export").await;
    assert_eq!(s, 200);
    assert_eq!(export["account"]["email"], "camille@exemple.fr");
    assert!(export["account"].get("password_hash").is_none());
    assert_eq!(export["saved_searches"].as_array().unwrap().len(), 2);
    assert!(export["alert_matches"].as_array().unwrap().len() >= 4);
    let (s, _) = cand.delete("/api/v1/me").await;
    assert_eq!(s, 204);
    assert!(app.engine.store().saved_searches().unwrap().is_empty());
    let (s, _) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "camille", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn unconfirmed_addresses_get_no_alerts_and_saved_searches_are_limited() {
    let app = spawn_app_with(0, |c| c.max_saved_searches = 2).await;
    let anon = app.anon();
    let (s, _) = anon.post("/api/v1/candidates", json!({"cgu": true, "first_name": "Jean", "last_name": "Moulin", "email": "jean@exemple.fr", "username": "jmoulin", "password": PASSWORD})).await;
    assert_eq!(s, 201);
    let cand = app.with_token(login(&app, "jean@exemple.fr", PASSWORD).await);
    for i in 0..2 {
        let (s, _) = cand
            .post(
                "/api/v1/me/searches",
                json!({"name": format!("S{i}"), "criteria": {"contract": "stage"}}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, _) = cand
        .post("/api/v1/me/searches", json!({"name": "S3", "criteria": {}}))
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        app.engine.percolator().len(),
        0,
        "unconfirmed: no active alert"
    );
    // Rename, switch off, change frequency; someone else's search is not found.
    let (_, list) = cand.get("/api/v1/me/searches").await;
    let id = list[0]["id"].as_u64().unwrap();
    let (s, b) = cand
        .patch(
            &format!("/api/v1/me/searches/{id}"),
            json!({"name": "Stages", "frequency": "daily", "alert": false}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["name"].as_str(),
            b["frequency"].as_str(),
            b["alert"].as_bool()
        ),
        (Some("Stages"), Some("daily"), Some(false))
    );
    let (s, _) = cand
        .patch(
            &format!("/api/v1/me/searches/{id}"),
            json!({"frequency": "hourly"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = cand.delete("/api/v1/me/searches/999").await;
    assert_eq!(s, 404);
    // Changing the password needs the current one.
    let (s, b) = cand
        .patch("/api/v1/me", json!({"password": "Nouveau-Mot-2027"}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b)[0], "current_password");
    let (s, _) = cand.patch("/api/v1/me", json!({"password": "Nouveau-Mot-2027", "current_password": PASSWORD, "phone": "06 12 34 56 78"})).await;
    assert_eq!(s, 200);
    login(&app, "jmoulin", "Nouveau-Mot-2027").await;
}
