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
    // Every documented GET route is served.
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let concrete = path.replace("{reference}", &reference);
        let status = app.get(&concrete).await.status().as_u16();
        assert!(status == 200, "{path} answered {status}");
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
