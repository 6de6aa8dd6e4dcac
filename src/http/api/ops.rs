//! Operations: `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json` and a browsable API
//! reference at `/api/docs` (server-rendered from the OpenAPI document: works offline).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::{AppError, AppState, blocking};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive", body = Object)))]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the store is open and the index has applied every logged change.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Object),
        (status = 503, description = "Index still catching up, or degraded (the shared database away: what the node holds still answers)", body = crate::http::Problem, content_type = "application/problem+json")
    )
)]
async fn readyz(State(state): State<AppState>) -> Result<Response, AppError> {
    let engine = state.engine.clone();
    let seen = blocking(move || {
        let applied = engine.indexer().applied();
        Ok((applied, engine.store().last_seq()))
    })
    .await?;
    let (applied, last) = match seen {
        (applied, Ok(last)) => (applied, last),
        (applied, Err(e)) => {
            // Degraded, not down: the node's index and copy of the offers still answer.
            let mut r = AppError::status(
                StatusCode::SERVICE_UNAVAILABLE,
                "Degraded",
                format!(
                    "degraded: the store cannot be read ({e}); public search, facet counts, \
                     feeds and offer pages answer from this node's index (at change {applied}); \
                     writes, logins and private pages answer 503 until it returns"
                ),
            )
            .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return Ok(r);
        }
    };
    if applied >= last {
        Ok(
            Json(serde_json::json!({"status": "ready", "index_seq": applied, "store_seq": last}))
                .into_response(),
        )
    } else {
        Err(AppError::status(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not ready",
            format!("index at change {applied} of {last}"),
        ))
    }
}

/// Prometheus metrics, for the operator only: with `metrics_token` set, to a request bearing
/// it; without, to a client on this machine (loopback) alone. When `metrics_addr` is set they
/// are served there and not here.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
              (status = 401, description = "Not the operator: `Authorization: Bearer <metrics_token>`, or a loopback client when no token is set", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Served on `metrics_addr` instead", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn metrics_text(
    State(state): State<AppState>,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    if state.config.metrics_addr.is_some() {
        return Err(AppError::not_found(
            "the metrics are served on the operator's address (metrics_addr)",
        ));
    }
    let allowed = match state.config.metrics_token.as_deref() {
        Some(token) => crate::http::extract::bearer_token(&headers)
            .is_some_and(|given| same_secret(&given, token)),
        None => client.is_loopback(),
    };
    if !allowed {
        return Err(AppError::status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "the metrics are for the operator: send Authorization: Bearer <metrics_token>",
        ));
    }
    render_metrics(state.engine.clone(), &state.metrics).await
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The metrics in Prometheus' text format, with the index and store gauges brought up to date.
pub(crate) async fn render_metrics(
    engine: std::sync::Arc<crate::engine::Engine>,
    handle: &metrics_exporter_prometheus::PrometheusHandle,
) -> Result<Response, AppError> {
    let (docs, applied, last, commit) = blocking(move || {
        Ok((
            engine.index().num_docs(),
            engine.indexer().applied(),
            engine.store().last_seq()?,
            engine.indexer().last_commit(),
        ))
    })
    .await?;
    metrics::gauge!("index_documents").set(docs as f64);
    metrics::gauge!("index_applied_seq").set(applied as f64);
    metrics::gauge!("store_change_seq").set(last as f64);
    if let Some(t) = commit {
        let age = (time::OffsetDateTime::now_utc() - t).as_seconds_f64();
        metrics::gauge!("index_last_commit_age_seconds").set(age);
    }
    let mut r = handle.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    let mut r = state.openapi.text().as_str().to_owned().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A browsable API reference.
#[utoipa::path(get, path = "/api/docs", tag = "operations", responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
async fn docs(State(state): State<AppState>) -> Html<String> {
    let doc: serde_json::Value = serde_json::from_str(&state.openapi.text()).unwrap_or_default();
    let mut html = String::from(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>offerwatch — référence de l'API</title><link rel=\"stylesheet\" href=\"/static/plain.css\"></head><body>\
         <h1>offerwatch — référence de l'API</h1><p>Document OpenAPI : <a href=\"/api/openapi.json\">/api/openapi.json</a></p>",
    );
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            let Some(ops) = item.as_object() else {
                continue;
            };
            for (method, op) in ops {
                html.push_str(&format!(
                    "<section><h2><span class=\"m\">{}</span> <code>{}</code></h2>",
                    escape(method),
                    escape(path)
                ));
                if let Some(d) = op
                    .get("description")
                    .or(op.get("summary"))
                    .and_then(|d| d.as_str())
                {
                    html.push_str(&format!("<p>{}</p>", escape(d)));
                }
                if let Some(params) = op.get("parameters").and_then(|p| p.as_array()) {
                    html.push_str(
                        "<table><tr><th>paramètre</th><th>où</th><th>description</th></tr>",
                    );
                    for p in params {
                        let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        html.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                            escape(s("name")),
                            escape(s("in")),
                            escape(s("description"))
                        ));
                    }
                    html.push_str("</table>");
                }
                if let Some(resp) = op.get("responses").and_then(|r| r.as_object()) {
                    html.push_str("<ul>");
                    for (code, r) in resp {
                        let d = r.get("description").and_then(|d| d.as_str()).unwrap_or("");
                        html.push_str(&format!("<li><b>{}</b> {}</li>", escape(code), escape(d)));
                    }
                    html.push_str("</ul>");
                }
                html.push_str("</section>");
            }
        }
    }
    html.push_str("</body></html>");
    Html(html)
}
