//! The recruiter manual, end to end on the real server: request → approval → mail with a link
//! (read from the real .eml output) → password → login → offers through their whole lifecycle,
//! and a second recruiter who can neither see nor change them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn the_recruiter_manual_end_to_end() {
    let app = spawn_app_with(0, |c| c.max_attachment_bytes = 4096).await;
    let admin = app.as_admin().await;
    let (s, service) = admin.post("/api/v1/admin/services", json!({"name": "Musée du Louvre – Service des stages", "administration": "min-culture"})).await;
    assert_eq!(s, 201);
    let service_id = service["id"].as_u64().unwrap();
    let (_, list) = app
        .anon()
        .get("/api/v1/services?administration=min-culture")
        .await;
    assert_eq!(list[0]["versant"], "etat");

    let rec = Client {
        app: &app,
        token: Some(
            recruiter(
                &app,
                &admin,
                "rose@culture.gouv.fr",
                json!({"service": service_id}),
            )
            .await,
        ),
    };
    let (_, me) = rec.get("/api/v1/me").await;
    assert_eq!(me["services"][0]["id"], service_id);
    assert_eq!(me["role"], "recruiter");

    // Wrong password and unknown login get the same answer.
    let anon = app.anon();
    let (s1, b1) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "rose@culture.gouv.fr", "password": "wrong-Password-1"}),
        )
        .await;
    let (s2, b2) = anon
        .post(
            "/api/v1/auth/login",
            json!({"login": "nobody@culture.gouv.fr", "password": "wrong-Password-1"}),
        )
        .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(b1["detail"], b2["detail"]);

    // Validation errors name every faulty field and change nothing.
    let before = app.engine.store().offer_count().unwrap();
    let mut bad = offer_body(service_id);
    bad["domain"] = json!("numerik");
    bad["department"] = json!("69");
    bad["unpublish_on"] = json!("2026-01-01");
    bad.as_object_mut().unwrap().remove("title");
    let (s, b) = rec.post("/api/v1/recruiter/offers", bad).await;
    assert_eq!(s, 422, "{b}");
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["title", "domain", "department", "unpublish_on"] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    let mut foreign = offer_body(service_id);
    foreign["service"] = json!(999);
    let (s, b) = rec.post("/api/v1/recruiter/offers", foreign).await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b)[0], "service");
    let (s, _) = rec
        .post(
            "/api/v1/recruiter/offers",
            json!({"title": "x", "colour": "red"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(app.engine.store().offer_count().unwrap(), before);

    // Draft → publish → visible in search and feeds.
    let (s, draft) = rec
        .post("/api/v1/recruiter/offers", offer_body(service_id))
        .await;
    assert_eq!(s, 201, "{draft}");
    let reference = draft["reference"].as_str().unwrap().to_string();
    assert_eq!(reference, "S-2026-0001");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["administration"], "min-culture");
    assert_eq!(public_total(&app, "restauration").await, 0);
    let (s, b) = rec.offer_action(&reference, "publish").await;
    assert_eq!(s, 200, "{b}");
    visible_soon(&app, "restauration", 1).await;
    let rss = app
        .get("/feeds/offers.rss?q=restauration")
        .await
        .text()
        .await
        .unwrap();
    assert!(rss.contains(&reference));
    let (s, _) = rec.offer_action(&reference, "publish").await;
    assert_eq!(s, 409, "publishing twice is a conflict");

    // Clone: a new draft with a new reference.
    let (s, clone) = rec.offer_action(&reference, "clone").await;
    assert_eq!(s, 201);
    let clone_ref = clone["reference"].as_str().unwrap().to_string();
    assert_eq!(clone_ref, "S-2026-0002");
    assert_eq!(clone["state"], "draft");

    // Archive → gone; unarchive → back; filled → gone.
    let (s, _) = rec.offer_action(&reference, "archive").await;
    assert_eq!(s, 200);
    visible_soon(&app, "restauration", 0).await;
    let (s, _) = rec.offer_action(&reference, "unarchive").await;
    assert_eq!(s, 200);
    visible_soon(&app, "restauration", 1).await;
    let (s, filled) = rec.offer_action(&reference, "filled").await;
    assert_eq!(s, 200);
    assert_eq!(filled["state"], "filled");
    visible_soon(&app, "restauration", 0).await;
    let actions: Vec<&str> = filled["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "published",
            "archived",
            "unarchived",
            "marked filled"
        ]
    );
    assert!(filled["audit"][0]["actor"].is_u64());

    // Delete: refused for a non-draft, allowed for the draft; its number is never reused.
    let (s, b) = rec
        .delete(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(s, 409, "{b}");
    let (s, _) = rec
        .delete(&format!("/api/v1/recruiter/offers/{clone_ref}"))
        .await;
    assert_eq!(s, 204);
    let (_, again) = rec
        .post("/api/v1/recruiter/offers", offer_body(service_id))
        .await;
    assert_eq!(again["reference"], "S-2026-0003");
    let (_, mine) = rec.get("/api/v1/recruiter/offers").await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (_, drafts) = rec.get("/api/v1/recruiter/offers?state=draft").await;
    assert_eq!(drafts.as_array().unwrap().len(), 1);

    // A recruiter of another (newly requested) service sees and changes nothing of these.
    let other = Client {
        app: &app,
        token: Some(
            recruiter(
                &app,
                &admin,
                "paul@mairie.fr",
                json!({"administration": "communes", "service_name": "Mairie de Lyon – RH"}),
            )
            .await,
        ),
    };
    let (_, me2) = other.get("/api/v1/me").await;
    assert_eq!(me2["services"][0]["name"], "Mairie de Lyon – RH");
    let (s, _) = other
        .get(&format!("/api/v1/recruiter/offers/{reference}"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/recruiter/offers/{reference}"),
            Some(offer_body(service_id)),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other.offer_action(&reference, "archive").await;
    assert_eq!(s, 404);
    let (_, theirs) = other.get("/api/v1/recruiter/offers").await;
    assert!(theirs.as_array().unwrap().is_empty());
    let (s, _) = other.get("/api/v1/admin/recruiters").await;
    assert_eq!(s, 403);
    let (s, b) = anon.get("/api/v1/recruiter/offers").await;
    assert_eq!(s, 401);
    assert_eq!(b["status"], 401);

    // Replace: edits stay validated; the state is unchanged.
    let mut edit = offer_body(service_id);
    edit["title"] = json!("Stagiaire restauration de sculptures");
    let again_ref = again["reference"].as_str().unwrap();
    let (s, b) = rec
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/recruiter/offers/{again_ref}"),
            Some(edit),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["title"], "Stagiaire restauration de sculptures");
    assert_eq!(b["state"], "draft");

    // Logout ends the session.
    let (s, _) = rec.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(s, 204);
    let (s, _) = rec.get("/api/v1/me").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn refusal_is_mailed_with_its_reason() {
    let app = spawn_app(0).await;
    let admin = app.as_admin().await;
    let (_, b) = app.anon()
        .post("/api/v1/recruiters", json!({"cgu": true, "first_name": "Jean", "last_name": "Dupont", "email": "jean@x.fr", "administration": "communes", "service_name": "Mairie"}))
        .await;
    let id = b["id"].as_u64().unwrap();
    let (s, b) = admin
        .post(
            &format!("/api/v1/admin/recruiters/{id}/refuse"),
            json!({"reason": "Adresse non professionnelle"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["state"], "refused");
    app.mail_to("jean@x.fr", "Adresse non professionnelle")
        .await;
    let (s, _) = admin
        .post(&format!("/api/v1/admin/recruiters/{id}/approve"), json!({}))
        .await;
    assert_eq!(s, 409);
    // Same address again: conflict. Bad requests name their fields.
    let anon = app.anon();
    let (s, _) = anon.post("/api/v1/recruiters", json!({"cgu": true, "first_name": "J", "last_name": "D", "email": "JEAN@x.fr", "administration": "communes", "service_name": "M"})).await;
    assert_eq!(s, 409);
    let (s, b) = anon.post("/api/v1/recruiters", json!({"cgu": true, "first_name": "J", "email": "pas-une-adresse", "administration": "xx", "service_name": "M"})).await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["last_name", "email", "administration"]);
}

#[tokio::test]
async fn failed_logins_are_throttled() {
    let app = spawn_app(0).await;
    admin(&app).await;
    let anon = app.anon();
    for _ in 0..5 {
        let (s, _) = anon
            .post(
                "/api/v1/auth/login",
                json!({"login": "admin@gouv.fr", "password": "Nope-nope-1234"}),
            )
            .await;
        assert_eq!(s, 401);
    }
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": "admin@gouv.fr", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn eight_concurrent_creators_get_distinct_gap_free_references() {
    let app = spawn_app(0).await;
    let (token, sid) = recruiter_of_new_service(&app, "CHU – DRH", "chu", "drh@chu.fr").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/recruiter/offers"),
            token.clone(),
        );
        let mut body = offer_body(sid);
        body["title"] = json!(format!("Offre concurrente {i}"));
        body["administration"] = json!("chu");
        tasks.push(tokio::spawn(async move {
            let mut refs = Vec::new();
            for _ in 0..3 {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                refs.push(v["reference"].as_str().unwrap().to_string());
            }
            refs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let expected: Vec<String> = (1..=24).map(|n| format!("S-2026-{n:04}")).collect();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn attachments_are_checked_by_content_and_served_safely() {
    let app = spawn_app_with(0, |c| c.max_attachment_bytes = 4096).await;
    let (token, sid) =
        recruiter_of_new_service(&app, "Musée", "min-culture", "doc@culture.gouv.fr").await;
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    let r = app
        .client
        .post(app.url("/api/v1/recruiter/offers"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let offer: Value = r.json().await.unwrap();
    let reference = offer["reference"].as_str().unwrap().to_string();
    let upload = |name: &str, bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        app.client
            .post(app.url(&format!("/api/v1/recruiter/offers/{reference}/attachments")))
            .bearer_auth(&token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec();
    let r = upload("../../fiche de poste \"été\".pdf", pdf.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A text file named .pdf is refused: the type is read from the content.
    let r = upload("faux.pdf", b"just text, not a PDF".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = upload(
        "gros.pdf",
        [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 5000]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    for _ in 0..2 {
        assert_eq!(
            upload("annexe.pdf", pdf.clone()).await.unwrap().status(),
            201
        );
    }
    assert_eq!(
        upload("quatre.pdf", pdf.clone()).await.unwrap().status(),
        409
    );
    // Public download with a safe Content-Disposition.
    let r = app
        .get(&format!("/api/v1/offers/{reference}/attachments/1"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment; filename=\"fiche de poste _t_.pdf\""),
        "{cd}"
    );
    assert!(
        cd.contains("filename*=UTF-8''fiche%20de%20poste%20%22%C3%A9t%C3%A9%22.pdf")
            || cd.contains("filename*=UTF-8''fiche%20de%20poste%20"),
        "{cd}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    assert_eq!(
        app.get(&format!("/api/v1/offers/{reference}/attachments/9"))
            .await
            .status(),
        404
    );
    // Huge JSON bodies are refused with 413 problem+json.
    let huge = json!({"title": "x".repeat(400_000)});
    let r = app
        .client
        .post(app.url("/api/v1/recruiter/offers"))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    problem(r, 413).await;
}

#[tokio::test]
async fn offers_are_archived_when_their_diffusion_ends() {
    let app = spawn_app_with(0, |c| c.archive_interval_seconds = 1).await;
    let (token, sid) = recruiter_of_new_service(&app, "SDIS 69", "sdis", "rh@sdis69.fr").await;
    let mut rec = app.with_token(token);
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    body["administration"] = json!("sdis");
    body["unpublish_on"] = json!("2026-12-01");
    let (s, offer) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{offer}");
    let reference = offer["reference"].as_str().unwrap().to_string();
    visible_soon(&app, "restauration", 1).await;
    // Move the clock past the end of diffusion: the background task archives it.
    app.clock
        .store(7 * 86_400, std::sync::atomic::Ordering::SeqCst);
    // A week later the session has expired too.
    let (s, _) = rec.get("/api/v1/me").await;
    assert_eq!(s, 401);
    rec.token = Some(login(&app, "rh@sdis69.fr", PASSWORD).await);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, o) = rec
            .get(&format!("/api/v1/recruiter/offers/{reference}"))
            .await;
        if o["state"] == "archived" {
            assert!(
                o["audit"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["action"].as_str().unwrap().contains("automatically"))
            );
            break;
        }
        assert!(Instant::now() < deadline, "not archived: {}", o["state"]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    visible_soon(&app, "restauration", 0).await;
    // Unarchiving needs a new end-of-diffusion date first.
    let (s, _) = rec.offer_action(&reference, "unarchive").await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn the_api_renews_reopens_moderates_and_disables() {
    let app = spawn_app(0).await;
    let (token, sid) = recruiter_of_new_service(
        &app,
        "Bureau des stages",
        "min-culture",
        "rec@culture.gouv.fr",
    )
    .await;
    let rec = app.with_token(token);
    // The label shown on the offer is free; the owning service stays; languages as a list.
    let mut body = offer_body(sid);
    body["service_label"] = json!("Musée du Louvre");
    body["languages"] = json!(["Anglais", "Italien"]);
    body["state"] = json!("published");
    let (s, o) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{o}");
    let reference = o["reference"].as_str().unwrap().to_string();
    assert_eq!(o["service"], "Musée du Louvre");
    assert_eq!(o["service_id"], sid);
    assert_eq!(o["languages"], "Anglais, Italien");
    // Filled, then open again.
    let (s, o) = rec.offer_action(&reference, "filled").await;
    assert_eq!((s.as_u16(), o["state"].as_str()), (200, Some("filled")));
    let (s, o) = rec.offer_action(&reference, "unfill").await;
    assert_eq!((s.as_u16(), o["state"].as_str()), (200, Some("published")));
    let (s, _) = rec.offer_action(&reference, "unfill").await;
    assert_eq!(s, 409, "only a filled offer opens again");
    // Renewed: a bad date is named; an archived offer is published again with its new date.
    let path = format!("/api/v1/recruiter/offers/{reference}/renew");
    let (s, b) = rec.post(&path, json!({"unpublish_on": "2026-01-01"})).await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b), ["unpublish_on"]);
    rec.offer_action(&reference, "archive").await;
    let (s, o) = rec.post(&path, json!({"unpublish_on": "2027-06-30"})).await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(
        (o["state"].as_str(), o["unpublish_on"].as_str()),
        (Some("published"), Some("2027-06-30"))
    );
    // Moderation: an administrator withdraws it with a reason, mailed to its service.
    // (recruiter_of_new_service made the administrator.)
    let admin = app.with_token(login(&app, "admin@gouv.fr", PASSWORD).await);
    let (s, list) = admin.get("/api/v1/admin/offers?state=published").await;
    assert_eq!(s, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|o| o["reference"] == reference.as_str())
    );
    let moderate = format!("/api/v1/admin/offers/{reference}/archive");
    let (s, b) = admin.post(&moderate, json!({"reason": " "})).await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b), ["reason"]);
    let (s, o) = admin
        .post(&moderate, json!({"reason": "Offre en double"}))
        .await;
    assert_eq!((s.as_u16(), o["state"].as_str()), (200, Some("archived")));
    app.mail_to("rec@culture.gouv.fr", "Offre en double").await;
    let (s, _) = rec.post(&moderate, json!({"reason": "x"})).await;
    assert_eq!(s, 403, "only administrators moderate");
    // Accounts: listed, disabled (its sessions end), enabled again; memberships removed.
    let (s, accounts) = admin.get("/api/v1/admin/accounts?role=recruiter").await;
    assert_eq!(s, 200);
    let id = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "rec@culture.gouv.fr")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let (s, b) = admin.get("/api/v1/admin/accounts?role=chef").await;
    assert_eq!(s, 400);
    assert_eq!(error_fields(&b), ["role"]);
    let (s, a) = admin
        .post(&format!("/api/v1/admin/accounts/{id}/disable"), json!({}))
        .await;
    assert_eq!((s.as_u16(), a["state"].as_str()), (200, Some("disabled")));
    assert_eq!(rec.get("/api/v1/me").await.0, 401, "the session ended");
    let (s, _) = app
        .anon()
        .post(
            "/api/v1/auth/login",
            json!({"login": "rec@culture.gouv.fr", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 401, "a disabled account cannot log in");
    let (s, _) = admin
        .post(&format!("/api/v1/admin/accounts/{id}/disable"), json!({}))
        .await;
    assert_eq!(s, 409);
    let (s, a) = admin
        .post(&format!("/api/v1/admin/accounts/{id}/enable"), json!({}))
        .await;
    assert_eq!((s.as_u16(), a["state"].as_str()), (200, Some("active")));
    let (s, a) = admin
        .delete(&format!("/api/v1/admin/recruiters/{id}/services/{sid}"))
        .await;
    assert_eq!(s, 200);
    assert!(a["services"].as_array().unwrap().is_empty());
    let (s, _) = admin
        .delete(&format!("/api/v1/admin/recruiters/{id}/services/{sid}"))
        .await;
    assert_eq!(s, 404);
    // A service renamed and moved to an entité.
    let (s, svc) = admin
        .patch(
            &format!("/api/v1/admin/services/{sid}"),
            json!({"name": "Régie des œuvres", "entity": "Musée du Louvre"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (svc["name"].as_str(), svc["entity"].as_str()),
        (Some("Régie des œuvres"), Some("Musée du Louvre"))
    );
    // A request for a service not listed, in an entité not listed: kept on approval.
    let (s, r) = app
        .anon()
        .post("/api/v1/recruiters", json!({"cgu": true, "first_name": "Jean", "last_name": "Zay", "email": "jean.zay@culture.gouv.fr", "administration": "min-culture", "service_name": "Atelier", "entity_name": "Manufacture des Gobelins"}))
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, _) = admin
        .post(
            &format!("/api/v1/admin/recruiters/{}/approve", r["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let created = app
        .engine
        .store()
        .services()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Atelier")
        .unwrap();
    assert_eq!(created.entity.as_deref(), Some("Manufacture des Gobelins"));
}

#[tokio::test]
async fn the_configured_time_zone_decides_the_end_of_diffusion() {
    // Kiritimati is UTC+14: at NOW (25 November, 12:00 UTC) it is already 26 November there.
    let app = spawn_app_with(0, |c| c.time_zone = "Pacific/Kiritimati".into()).await;
    assert_eq!(app.engine.zone().name(), "Pacific/Kiritimati");
    let (token, sid) = recruiter_of_new_service(&app, "SDIS 69", "sdis", "rh@sdis69.fr").await;
    let rec = app.with_token(token);
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    body["administration"] = json!("sdis");
    // Ending on the local today is refused (in Paris it would still be tomorrow).
    body["unpublish_on"] = json!("2026-11-26");
    let (s, b) = rec.post("/api/v1/recruiter/offers", body.clone()).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), ["unpublish_on"]);
    // Ending on 27 November: diffusion ends at local midnight, 26 November 10:00 UTC.
    body["unpublish_on"] = json!("2026-11-27");
    let (s, b) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{b}");
    visible_soon(&app, "restauration", 1).await;
    assert_eq!(
        app.engine.index().committed().time_zone,
        "Pacific/Kiritimati"
    );
    app.clock
        .store(22 * 3600 - 60, std::sync::atomic::Ordering::SeqCst);
    visible_soon(&app, "restauration", 1).await;
    // One minute past 10:00 UTC on the 26th: over there, while Paris would show it all day.
    app.clock
        .store(22 * 3600 + 60, std::sync::atomic::Ordering::SeqCst);
    visible_soon(&app, "restauration", 0).await;
}
