use crate::helpers::*;

#[tokio::test]
async fn unknown_codes_name_the_parameter_and_list_allowed_values() {
    let app = spawn_app(0).await;
    let b = problem(app.get("/api/v1/offers?domain=numerik").await, 400).await;
    assert_eq!(b["errors"][0]["field"], "domain");
    assert_eq!(b["code"], "invalid_parameters");
    assert_eq!(b["errors"][0]["code"], "not_allowed");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("numerik")
    );
    assert!(
        b["errors"][0]["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "numerique")
    );
    let b = problem(app.get("/api/v1/offers?contract=cdi").await, 400).await;
    assert_eq!(
        b["errors"][0]["allowed"],
        serde_json::json!(["apprentissage", "stage"])
    );
}

#[tokio::test]
async fn a_query_of_many_wrong_codes_gets_a_small_answer() {
    let app = spawn_app(0).await;
    // 4 KB of unknown country codes: each parameter reported once, its allowed values once.
    let codes = vec!["x"; 2000].join(",");
    let r = app.get(&format!("/api/v1/offers?country={codes}")).await;
    assert_eq!(r.status(), 400);
    let body = r.bytes().await.unwrap();
    assert!(body.len() < 32 * 1024, "{} bytes", body.len());
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{p}");
    assert_eq!(errors[0]["field"], "country");
    assert!(errors[0]["allowed"].as_array().unwrap().len() > 200);
    // Every facet wrong and many made-up parameters: still small, and the count is said.
    let mut query: Vec<String> = [
        "country",
        "region",
        "department",
        "domain",
        "administration",
    ]
    .iter()
    .map(|f| format!("{f}={}", vec!["zz"; 150].join(",")))
    .collect();
    query.extend((0..150).map(|i| format!("p{i}=1")));
    let r = app
        .get(&format!("/api/v1/offers?{}", query.join("&")))
        .await;
    assert_eq!(r.status(), 400);
    let body = r.bytes().await.unwrap();
    assert!(body.len() < 32 * 1024, "{} bytes", body.len());
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let errors = p["errors"].as_array().unwrap();
    assert!(errors.len() <= 21, "{}", errors.len());
    assert!(
        errors.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("more faulty fields"),
        "{p}"
    );
}

#[tokio::test]
async fn every_malformed_parameter_is_a_400() {
    let app = spawn_app(0).await;
    for (query, field) in [
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("published_since=hier", "published_since"),
        ("published_since=2026-13-01T00:00:00Z", "published_since"),
        ("diploma=niveau-6&diploma=niveau-7", "diploma"),
        ("q=a&q=b", "q"),
        ("sort=price", "sort"),
        ("facets=maybe", "facets"),
        ("colour=blue", "colour"),
        ("region=99", "region"),
        ("country=XX", "country"),
    ] {
        let b = problem(app.get(&format!("/api/v1/offers?{query}")).await, 400).await;
        assert_eq!(b["errors"][0]["field"], field, "{query}");
        // Feeds validate the same way (paging too, which they then replace).
        let b = problem(app.get(&format!("/feeds/offers.rss?{query}")).await, 400).await;
        assert_eq!(b["errors"][0]["field"], field, "feed {query}");
    }
    // Paging past the 10,000th result is served empty, the total still exact.
    let deep = app.json("/api/v1/offers?page=101&per_page=100").await;
    assert_eq!(deep["offers"], serde_json::json!([]));
    assert_eq!(deep["page"], 101);
    let first = app.json("/api/v1/offers?per_page=1").await;
    assert_eq!(deep["total"], first["total"]);
    assert_eq!(
        app.get("/feeds/offers.rss?page=3&per_page=7")
            .await
            .status(),
        200
    );
    let long = format!("/api/v1/offers?q={}", "a".repeat(5000));
    let b = problem(app.get(&long).await, 400).await;
    assert_eq!(b["errors"][0]["field"], "query");
    let b = problem(app.get("/api/v1/offers?q=%FF%FE").await, 400).await;
    assert_eq!(b["errors"][0]["field"], "query");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app(0).await;
    problem(app.get("/api/v1/nothing").await, 404).await;
    let r = app
        .client
        .delete(app.url("/api/v1/offers"))
        .send()
        .await
        .unwrap();
    problem(r, 405).await;
}

#[tokio::test]
async fn clients_over_the_rate_limit_get_429_with_retry_after() {
    let app = spawn_app_with(0, |c| {
        c.rate_limit_per_second = 0.5;
        c.rate_limit_burst = 3.0;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/offers").await.status(), 200);
    }
    let r = app.get("/api/v1/offers").await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry));
    problem(r, 429).await;
    // Operations endpoints are not limited.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn bodies_are_json_objects_and_refusals_of_the_framework_are_problems_too() {
    let app = spawn_app(0).await;
    let anon = app.anon();
    // A JSON value that is not an object is refused, naming the body.
    for body in [
        serde_json::json!([null, null]),
        serde_json::json!("x"),
        serde_json::json!(3),
    ] {
        let (s, b) = anon.post("/api/v1/auth/login", body.clone()).await;
        assert_eq!(s, 422, "{body}");
        assert_eq!(b["errors"][0]["field"], "body");
        assert_eq!(b["errors"][0]["message"], "a JSON object is expected");
    }
    // A field of the wrong type is named by its path.
    let (s, b) = anon
        .post(
            "/api/v1/auth/login",
            serde_json::json!({"login": 5, "password": "x"}),
        )
        .await;
    assert_eq!(s, 422);
    let message = b["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("login: invalid type"), "{message}");
    // A path segment that is not a number: problem+json under /api/, a French page elsewhere.
    let r = app.get("/api/v1/offers/A-2026-0001/attachments/abc").await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    // An unsubscribe link without its token is the page of an invalid link.
    let r = app.get("/api/v1/alerts/unsubscribe").await;
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Lien invalide"));
    // The served document declares the shared answers and the bearer scheme.
    let doc = app.json("/api/openapi.json").await;
    let op = &doc["paths"]["/api/v1/me/searches/{id}"]["delete"];
    for status in ["400", "401", "403", "404"] {
        assert!(op["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = std::collections::HashSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "{op}"
            );
        }
    }
}
