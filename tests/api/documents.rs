//! « Mes documents » and « Postuler en ligne » through the API, with a real SMTP server: files
//! told by content and bounded, renamed, replaced, a default per kind; an application mailed
//! to the offer's contact with the documents attached and a copy to the candidate, listed,
//! counted in the offer's statistics, 20 a day; everything gone with the account.

use serde_json::json;

use crate::helpers::*;
use crate::smtp::header;

/// A small PDF.
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

/// A PNG header (enough to be told by content).
pub fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&[
        0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2,
    ]);
    b
}

/// `POST` (or `PUT`) a multipart form with a file and text fields, as the candidate.
pub async fn upload(
    c: &Client<'_>,
    method: reqwest::Method,
    path: &str,
    file: (&str, Vec<u8>),
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_string()),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let mut req = c
        .app
        .client
        .request(method, c.app.url(path))
        .multipart(form);
    if let Some(t) = &c.token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

fn files_named(app: &TestApp, prefix: &str) -> usize {
    std::fs::read_dir(app.data_dir.join("attachments"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(prefix))
            })
            .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn candidates_keep_documents_and_apply_with_them_by_mail() {
    let app = spawn_app_with_smtp(0).await;
    let sink = app.sink.clone().unwrap();
    let (token, sid) =
        recruiter_of_new_service(&app, "Musée des Confluences", "min-culture", "rh@musee.fr").await;
    let rec = app.with_token(token);
    let mut body = offer_body(sid);
    body["state"] = json!("published");
    let (s, offer) = rec.post("/api/v1/recruiter/offers", body).await;
    assert_eq!(s, 201, "{offer}");
    let reference = offer["reference"].as_str().unwrap().to_string();
    let cand = confirmed_candidate(&app, "lou", "lou@exemple.fr").await;
    let post = reqwest::Method::POST;

    // Files are told by content, bounded, of a known kind, and counted per kind.
    let (s, cv) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("CV Lou.pdf", pdf("cv 1")),
        &[("kind", "cv")],
    )
    .await;
    assert_eq!(s, 201, "{cv}");
    assert_eq!(cv["name"], "CV Lou.pdf");
    assert_eq!(cv["content_type"], "application/pdf");
    assert_eq!(cv["default"], true, "the first CV is the default");
    let (s, b) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("cv.pdf", b"Je suis un CV".to_vec()),
        &[("kind", "cv")],
    )
    .await;
    assert_eq!(s, 415, "{b}");
    let big = [pdf("gros"), vec![b' '; 5 * 1024 * 1024]].concat();
    let (s, _) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("gros.pdf", big),
        &[("kind", "cv")],
    )
    .await;
    assert_eq!(s, 413);
    let (s, b) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("cv.pdf", pdf("x")),
        &[("kind", "photo")],
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), ["kind"]);
    assert_eq!(b["errors"][0]["allowed"], json!(["cv", "lettre", "autre"]));
    for n in 2..=5 {
        let (s, b) = upload(
            &cand,
            post.clone(),
            "/api/v1/me/documents",
            (&format!("cv{n}.pdf"), pdf(&format!("cv {n}"))),
            &[("kind", "cv")],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["default"], false);
    }
    let (s, b) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("cv6.pdf", pdf("cv 6")),
        &[("kind", "cv")],
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(error_fields(&b), ["kind"]);
    let (s, letter) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("lettre.pdf", pdf("lettre")),
        &[("kind", "lettre"), ("name", "Lettre musée")],
    )
    .await;
    assert_eq!(s, 201, "{letter}");
    assert_eq!(letter["name"], "Lettre musée");
    let (s, photo) = upload(
        &cand,
        post.clone(),
        "/api/v1/me/documents",
        ("diplome.png", png()),
        &[("kind", "autre")],
    )
    .await;
    assert_eq!(s, 201, "{photo}");
    assert_eq!(photo["content_type"], "image/png");
    let (s, list) = cand.get("/api/v1/me/documents").await;
    assert_eq!(s, 200);
    assert_eq!(list["documents"].as_array().unwrap().len(), 7);
    assert_eq!(list["documents"][0]["kind"], "cv");
    assert_eq!(list["documents"][6]["kind"], "autre");

    // Renamed, made the default, replaced; another CV becomes the default.
    let cv_id = cv["id"].as_u64().unwrap();
    let (s, b) = cand
        .patch(
            &format!("/api/v1/me/documents/{cv_id}"),
            json!({"name": "CV Lou Martin"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "CV Lou Martin");
    let (s, b) = cand
        .patch(
            &format!("/api/v1/me/documents/{cv_id}"),
            json!({"name": "  "}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(error_fields(&b), ["name"]);
    let (s, b) = upload(
        &cand,
        reqwest::Method::PUT,
        &format!("/api/v1/me/documents/{cv_id}/file"),
        ("cv-v2.pdf", pdf("cv version 2")),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "CV Lou Martin");
    let r = app
        .client
        .get(app.url(&format!("/api/v1/me/documents/{cv_id}")))
        .bearer_auth(cand.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("CV Lou Martin.pdf")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf("cv version 2"));
    let (_, list) = cand.get("/api/v1/me/documents").await;
    let other_cv = list["documents"][0]["id"].as_u64().unwrap();
    let (s, _) = cand
        .patch(
            &format!("/api/v1/me/documents/{other_cv}"),
            json!({"default": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = cand.get("/api/v1/me/documents").await;
    let defaults: Vec<u64> = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["default"] == true)
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(defaults.len(), 3, "one per kind: {list}");
    assert!(defaults.contains(&other_cv) && !defaults.contains(&cv_id));
    let (s, _) = cand
        .delete(&format!("/api/v1/me/documents/{other_cv}"))
        .await;
    assert_eq!(s, 204);
    let (s, _) = cand
        .delete(&format!("/api/v1/me/documents/{other_cv}"))
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        files_named(&app, "document-"),
        6,
        "the deleted one's file is gone"
    );

    // Applying: checked, then one mail with the documents attached and a copy.
    let letter_id = letter["id"].as_u64().unwrap();
    let path = format!("/api/v1/offers/{reference}/applications");
    let (s, b) = cand
        .post(&path, json!({"documents": [], "message": "Bonjour"}))
        .await;
    assert_eq!(
        (s.as_u16(), error_fields(&b)),
        (422, vec!["documents".to_string()])
    );
    let (s, b) = cand
        .post(&path, json!({"documents": [cv_id], "message": " "}))
        .await;
    assert_eq!(
        (s.as_u16(), error_fields(&b)),
        (422, vec!["message".to_string()])
    );
    let (s, b) = cand
        .post(
            &path,
            json!({"documents": [cv_id, 999_999], "message": "Bonjour"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), error_fields(&b)),
        (422, vec!["documents".to_string()])
    );
    let (s, _) = cand
        .post(
            "/api/v1/offers/A-2099-9999/applications",
            json!({"documents": [cv_id], "message": "Bonjour"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .anon()
        .post(&path, json!({"documents": [cv_id], "message": "Bonjour"}))
        .await;
    assert_eq!(s, 401);
    let (s, x) = cand
        .post(&path, json!({"documents": [cv_id, letter_id], "message": "Madame, Monsieur,\nJe souhaite faire mon stage au musée."}))
        .await;
    assert_eq!(s, 201, "{x}");
    assert_eq!(x["to"], "stages@culture.gouv.fr");
    assert_eq!(
        x["documents"],
        json!(["CV Lou Martin.pdf", "Lettre musée.pdf"])
    );
    let raw = next_raw(&sink, "To: stages@culture.gouv.fr").await;
    assert_eq!(header(&raw, "Reply-To").as_deref(), Some("lou@exemple.fr"));
    assert!(
        header(&raw, "Content-Type")
            .unwrap()
            .starts_with("multipart/mixed"),
        "{raw}"
    );
    assert!(
        raw.contains("Content-Disposition: attachment; filename=\"CV Lou Martin.pdf\""),
        "{raw}"
    );
    let text = crate::smtp::decoded(&raw);
    assert!(
        text.contains("Camille Candidate postule") && text.contains("faire mon stage au musée"),
        "{text}"
    );
    assert!(text.contains("cv version 2"), "the CV's bytes are attached");
    let copy = app.mail_to("lou@exemple.fr", "Votre candidature").await;
    assert!(
        copy.contains("Votre candidature") && copy.contains("stages@culture.gouv.fr"),
        "{copy}"
    );
    // Once sent, the mail's copies of the documents are forgotten; the documents stay.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while files_named(&app, "application-") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "application files kept"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files_named(&app, "document-"), 6);

    // Listed, counted in the offer's statistics.
    let (s, list) = cand.get("/api/v1/me/applications").await;
    assert_eq!(s, 200);
    assert_eq!(list["applications"][0]["reference"], reference.as_str());
    assert_eq!(list["applications"][0]["offer_state"], "published");
    let (s, stats) = rec
        .get(&format!("/api/v1/recruiter/offers/{reference}/stats"))
        .await;
    assert_eq!(s, 200, "{stats}");
    assert_eq!(stats["totals"]["applications"], 1, "{stats}");

    // 20 applications in 24 hours, then a wait.
    for _ in 1..20 {
        let (s, b) = cand
            .post(&path, json!({"documents": [cv_id], "message": "Encore"}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = cand
        .post(
            &path,
            json!({"documents": [cv_id], "message": "Une de trop"}),
        )
        .await;
    assert_eq!(s, 429, "{b}");

    // An unconfirmed address cannot apply; an offer applied to on the web has no mail to send.
    let (s, _) = app.anon().post("/api/v1/candidates", json!({"cgu": true, "first_name": "Noé", "last_name": "Nouveau", "email": "noe@exemple.fr", "username": "noe", "password": PASSWORD})).await;
    assert_eq!(s, 201);
    let noe = app.with_token(login(&app, "noe", PASSWORD).await);
    let (s, d) = upload(
        &noe,
        post.clone(),
        "/api/v1/me/documents",
        ("cv.pdf", pdf("noé")),
        &[("kind", "cv")],
    )
    .await;
    assert_eq!(s, 201);
    let (s, b) = noe
        .post(&path, json!({"documents": [d["id"]], "message": "Bonjour"}))
        .await;
    assert_eq!(s, 409, "{b}");
    let mut web = offer_input("Stagiaire bibliothèque");
    web.contact_email = None;
    web.contact_url = Some("https://candidature.culture.gouv.fr/offre".into());
    let o = app.add(web, offerwatch::domain::OfferState::Published);
    let o = json!({"reference": o.reference.to_string()});
    let (s, b) = cand
        .post(
            &format!(
                "/api/v1/offers/{}/applications",
                o["reference"].as_str().unwrap()
            ),
            json!({"documents": [cv_id], "message": "Bonjour"}),
        )
        .await;
    assert_eq!(s, 409, "{b}");

    // Exported, and deleted with the account (files included).
    let (_, export) = cand.get("/api/v1/me/export").await;
    assert_eq!(export["account"]["documents"].as_array().unwrap().len(), 6);
    assert_eq!(
        export["account"]["applications"].as_array().unwrap().len(),
        20
    );
    let (s, _) = cand.delete("/api/v1/me").await;
    assert_eq!(s, 204);
    assert_eq!(files_named(&app, "document-"), 1, "only Noé's CV is left");
}

/// The first message whose headers contain `needle`, waiting for it.
async fn next_raw(sink: &crate::smtp::Sink, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(m) = sink.with(needle).into_iter().next() {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail with {needle}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
