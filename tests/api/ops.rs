use crate::helpers::*;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app(20).await;
    assert_eq!(app.json("/healthz").await["status"], "ok");
    assert_eq!(app.json("/readyz").await["status"], "ready");
    app.json("/api/v1/offers?q=stage").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds",
        "index_documents",
        "search_duration_seconds",
        "index_last_commit_age_seconds",
    ] {
        assert!(text.contains(metric), "{metric} missing from /metrics");
    }
}

#[tokio::test]
async fn openapi_lists_every_served_route_and_every_listed_route_is_served() {
    let app = spawn_app(5).await;
    let doc = app.json("/api/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    let reference = app.json("/api/v1/offers?per_page=1").await["offers"][0]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    // The contract of API.md (public part) is described.
    for p in [
        "/api/v1/offers",
        "/api/v1/offers/{reference}",
        "/api/v1/referentials",
        "/feeds/offers.rss",
        "/feeds/offers.atom",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    // Every documented route and method is served by the router (never its fallback 404 or a
    // 405), whatever the handler then answers without credentials.
    let mut swept = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            swept.insert(method.clone());
            let concrete = path
                .replace("{reference}", &reference)
                .replace("{id}", "1")
                .replace("{n}", "1")
                .replace("{action}", "publish");
            let r = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            // A route that asks for a bearer token says so in the document, and only those.
            let declared = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if path.starts_with("/api/") {
                assert_eq!(
                    status == 401,
                    declared,
                    "{method} {path}: {status} without a token, security declared: {declared}"
                );
            }
            assert!(
                !body.contains("no such resource"),
                "{method} {path} is not routed"
            );
            // Public GETs answer 200 as they are; the others need a session or a token.
            let needs_input = [
                "suggest",
                "communes",
                "postuler",
                "recruiter",
                "admin",
                "/api/v1/me",
                "attachments",
                "unsubscribe",
                "desabonnement",
                "signaler",
                "confirmer-email",
            ]
            .iter()
            .any(|p| path.contains(p));
            if method == "get" && !needs_input {
                assert_eq!(status, 200, "GET {path}");
            }
        }
    }
    // Every method the API uses was swept, PATCH included.
    for m in ["get", "post", "put", "patch", "delete"] {
        assert!(swept.contains(m), "no {m} route was swept");
    }
    // Every public link the library prints is a served route.
    for p in [
        offerwatch::links::SEARCH,
        offerwatch::links::SET_PASSWORD,
        offerwatch::links::CONFIRM_EMAIL,
        offerwatch::links::UNSUBSCRIBE,
        offerwatch::links::SEARCH_API,
        offerwatch::links::FEED_RSS,
        offerwatch::links::FEED_ATOM,
        offerwatch::links::OFFER,
        offerwatch::links::SAVED_SEARCHES,
    ] {
        assert!(paths.contains_key(p), "link path {p} is not a route");
    }
    // The browsable reference renders every route.
    let html = app.get("/api/docs").await.text().await.unwrap();
    for p in paths.keys() {
        assert!(
            html.contains(&p.replace('&', "&amp;")),
            "{p} missing from /api/docs"
        );
    }
}
