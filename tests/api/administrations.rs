//! A government reshuffle without a new build: an administrator adds an administration and
//! renames one through the API of a running server; services, offers, the search's facets,
//! the referentials, the OpenAPI document and the feeds use the new list at once, and a
//! restart keeps it (the index is still good: an addition only appends an ordinal). The
//! server runs as its own process: the administrations are the process's.

use offerwatch::auth::Auth;
use offerwatch::backoffice::{Backoffice, RecruiterRequest};
use offerwatch::engine::Engine;
use offerwatch::links::Links;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Driver, Page};
use crate::helpers::*;

const PUBLIC: &str = "https://portail.example";

/// An administrator and a recruiter `rec@culture.gouv.fr`, both with [`PASSWORD`].
fn prepare(dir: &std::path::Path) {
    let engine = Engine::open(dir).unwrap();
    let bo = Backoffice::new(&engine, PUBLIC);
    let (admin, link) = bo.create_admin("admin@gouv.fr", "Ada", "Admin").unwrap();
    let auth_links = Links::new(PUBLIC);
    let auth = Auth::new(&engine, &auth_links);
    auth.set_password(&token_in(&link), PASSWORD).unwrap();
    let service = bo
        .create_service(&admin, "Service", "min-culture", None)
        .unwrap();
    let r = bo
        .request_recruiter(RecruiterRequest {
            first_name: Some("Rose".into()),
            last_name: Some("Valland".into()),
            email: Some("rec@culture.gouv.fr".into()),
            service: Some(service.id),
            cgu: Some(true),
            ..RecruiterRequest::default()
        })
        .unwrap();
    bo.approve(&admin, r.id).unwrap();
    let mail = engine
        .store()
        .mails()
        .unwrap()
        .into_iter()
        .find(|m| m.to == "rec@culture.gouv.fr")
        .unwrap();
    auth.set_password(&token_in(&mail.text), PASSWORD).unwrap();
}

struct Node {
    http: reqwest::Client,
    base: String,
}

impl Node {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn login(&self, login: &str) -> String {
        let (s, b) = self
            .call(
                "POST",
                "/api/v1/auth/login",
                "",
                Some(json!({"login": login, "password": PASSWORD})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["token"].as_str().unwrap().to_string()
    }

    async fn public(&self, path: &str) -> Value {
        self.call("GET", path, "", None).await.1
    }

    async fn text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// The administration facet's value for `code` in a search answer.
fn facet_value(answer: &Value, code: &str) -> Value {
    answer["facets"]["administration"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("no facet value {code} in {answer}"))
}

#[tokio::test]
async fn administrators_add_and_rename_administrations_without_a_new_build() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let (mut child, base) = serve_node(dir.path(), &[]);
    let node = Node {
        http: reqwest::Client::new(),
        base,
    };
    let admin = node.login("admin@gouv.fr").await;
    let rec = node.login("rec@culture.gouv.fr").await;

    // Bad input names each field and what it allows; recruiters may not.
    let (s, b) = node
        .call(
            "POST",
            "/api/v1/admin/administrations",
            &admin,
            Some(json!({"label": "Ministère de la Culture", "versant": "federal", "type": "ministry", "code": "Min Mer"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let mut fields = error_fields(&b);
    fields.sort();
    assert_eq!(fields, ["code", "label", "type", "versant"], "{b}");
    let versant = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "versant")
        .unwrap();
    assert_eq!(
        versant["allowed"],
        json!(["etat", "territoriale", "hospitaliere"])
    );
    let (s, _) = node
        .call(
            "POST",
            "/api/v1/admin/administrations",
            &rec,
            Some(json!({"label": "Ministère de la Mer", "versant": "etat", "type": "ministere"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Added: its code is made from the label and it is at once a code like the others.
    let (s, b) = node
        .call(
            "POST",
            "/api/v1/admin/administrations",
            &admin,
            Some(json!({"label": "Ministère de la Mer", "short_label": "Mer", "versant": "etat", "type": "ministere"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["code"], "ministere-de-la-mer");
    let (s, b) = node
        .call(
            "POST",
            "/api/v1/admin/administrations",
            &admin,
            Some(json!({"label": "Autre nom", "code": "ministere-de-la-mer", "versant": "etat", "type": "ministere"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_fields(&b), ["code"]);
    let refs = node.public("/api/v1/referentials").await;
    assert!(
        refs["administrations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "ministere-de-la-mer" && a["versant"] == "etat"),
        "{refs}"
    );
    assert!(
        node.text("/api/openapi.json")
            .await
            .contains("\"ministere-de-la-mer\"")
    );

    // A service of it, a recruiter there, an offer published: the facet counts it.
    let (s, svc) = node
        .call(
            "POST",
            "/api/v1/admin/services",
            &admin,
            Some(json!({"name": "Direction des affaires maritimes", "administration": "ministere-de-la-mer"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{svc}");
    let sid = svc["id"].as_u64().unwrap();
    let me = node.call("GET", "/api/v1/me", &rec, None).await.1;
    let (s, b) = node
        .call(
            "POST",
            &format!("/api/v1/admin/recruiters/{}/services", me["id"]),
            &admin,
            Some(json!({"service": sid, "role": "redacteur"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut body = offer_body(sid);
    body["title"] = json!("Stage hydrographie côtière");
    let (s, o) = node
        .call("POST", "/api/v1/recruiter/offers", &rec, Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let reference = o["reference"].as_str().unwrap().to_string();
    let (s, b) = node
        .call(
            "POST",
            &format!("/api/v1/recruiter/offers/{reference}/publish"),
            &rec,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut answer = Value::Null;
    for _ in 0..50 {
        answer = node
            .public("/api/v1/offers?administration=ministere-de-la-mer")
            .await;
        if answer["total"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answer["total"], 1, "{answer}");
    assert_eq!(
        facet_value(&answer, "ministere-de-la-mer")["label"],
        "Ministère de la Mer"
    );
    assert_eq!(answer["facets"]["versant"][0]["value"], "etat");

    // Renamed: the labels change everywhere at once, the former one is another name.
    let (s, b) = node
        .call(
            "PATCH",
            "/api/v1/admin/administrations/ministere-de-la-mer",
            &admin,
            Some(json!({"label": "Ministère de la Mer et de la Pêche"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["aliases"], json!(["Ministère de la Mer"]));
    let (s, b) = node
        .call(
            "PATCH",
            "/api/v1/admin/administrations/min-culture",
            &admin,
            Some(json!({"label": "Ministère de la Culture et de la Communication", "short_label": "Culture et communication"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = node
        .call(
            "PATCH",
            "/api/v1/admin/administrations/min-mer-inconnu",
            &admin,
            Some(json!({"label": "X"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = node
        .call(
            "PATCH",
            "/api/v1/admin/administrations/min-culture",
            &admin,
            Some(json!({"label": "Ministère de la Mer et de la Pêche"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_fields(&b), ["label"]);
    let answer = node
        .public("/api/v1/offers?administration=ministere-de-la-mer")
        .await;
    assert_eq!(
        facet_value(&answer, "ministere-de-la-mer")["label"],
        "Ministère de la Mer et de la Pêche"
    );
    let feed = node
        .text("/feeds/offers.rss?administration=ministere-de-la-mer")
        .await;
    assert!(
        feed.contains("Ministère de la Mer et de la Pêche"),
        "{feed}"
    );
    let list = node
        .call("GET", "/api/v1/admin/administrations", &admin, None)
        .await
        .1;
    let rows = list["administrations"].as_array().unwrap();
    let mer = rows
        .iter()
        .find(|a| a["code"] == "ministere-de-la-mer")
        .unwrap();
    assert_eq!(
        (mer["added"].clone(), mer["services"].clone()),
        (json!(true), json!(1))
    );
    let culture = rows.iter().find(|a| a["code"] == "min-culture").unwrap();
    assert_eq!(
        (culture["renamed"].clone(), culture["short_label"].clone()),
        (json!(true), json!("Culture et communication"))
    );

    // A restart keeps the list and the index; one more addition takes the next ordinal.
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, base) = serve_node(dir.path(), &[]);
    let node = Node {
        http: reqwest::Client::new(),
        base,
    };
    let admin = node.login("admin@gouv.fr").await;
    let answer = node
        .public("/api/v1/offers?administration=ministere-de-la-mer")
        .await;
    assert_eq!(answer["total"], 1, "{answer}");
    assert_eq!(
        facet_value(&answer, "ministere-de-la-mer")["label"],
        "Ministère de la Mer et de la Pêche"
    );
    let (s, b) = node
        .call(
            "POST",
            "/api/v1/admin/administrations",
            &admin,
            Some(json!({"label": "Agence du littoral", "versant": "etat", "type": "etablissement-public", "code": "agence-littoral"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let all = node.public("/api/v1/offers").await;
    assert_eq!(
        facet_value(&all, "ministere-de-la-mer")["count"],
        1,
        "{all}"
    );
    let refs = node.public("/api/v1/referentials").await;
    let codes: Vec<&str> = refs["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes[codes.len() - 2..],
        ["ministere-de-la-mer", "agence-littoral"]
    );

    // In pages: the administrator adds one (a fault first) and renames it, axe-core checking.
    let (driver, session) = Driver::start().await;
    let page = Page {
        d: &driver,
        s: session,
    };
    let visit = |path: &str| format!("{}{path}", node.base);
    page.go(&visit("/connexion")).await;
    page.fill("#f-login", "admin@gouv.fr").await;
    page.fill("#f-password", PASSWORD).await;
    page.click("main form button[type=submit]").await;
    for _ in 0..50 {
        let url = page.url().await;
        if url.contains("/cgu/accepter") {
            // An administrator made by the command line accepts the terms in force first.
            page.click("label[for=f-cgu]").await;
            page.click("main form button[type=submit]").await;
        } else if !url.contains("/connexion") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    page.go(&visit("/admin/administrations")).await;
    page.assert_accessible("/admin/administrations").await;
    page.fill("#f-label", "Agence des stages").await;
    page.click("form[action='/admin/administrations'] button[type=submit]")
        .await;
    page.wait_text("Le formulaire contient des erreurs").await;
    let fault = page.text_of("#f-versant-error").await;
    assert!(fault.contains("obligatoire"), "{fault}");
    assert_eq!(
        page.script("return document.querySelector('#f-label').value")
            .await,
        "Agence des stages"
    );
    page.assert_accessible("/admin/administrations with faults")
        .await;
    page.choose("versant", "etat").await;
    page.choose("type", "etablissement-public").await;
    page.click("form[action='/admin/administrations'] button[type=submit]")
        .await;
    let text = page.wait_text("Administration ajoutée").await;
    assert!(text.contains("agence-des-stages"), "{text}");
    page.choose("administration", "agence-des-stages").await;
    page.fill("#f-new_label", "Agence nationale des stages")
        .await;
    page.click("form[action='/admin/administrations/renommer'] button[type=submit]")
        .await;
    let text = page.wait_text("Administration renommée").await;
    assert!(text.contains("Autres noms : Agence des stages"), "{text}");
    page.assert_accessible("/admin/administrations after renaming")
        .await;
    page.screenshot("admin-administrations.png").await;
    let refs = node.public("/api/v1/referentials").await;
    let agence = refs["administrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "agence-des-stages")
        .cloned()
        .unwrap();
    assert_eq!(agence["label"], "Agence nationale des stages");
    child.kill().unwrap();
    child.wait().unwrap();
}
