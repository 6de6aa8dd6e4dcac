//! Statistics: `GET /api/v1/recruiter/offers/{reference}/stats` (the offer's recruiters) and
//! `GET /api/v1/admin/stats` (administrators).

use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backoffice::stats::{Census, OfferStats};
use crate::http::extract::Caller;
use crate::http::{AppError, AppState, with_backoffice};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(offer_stats))
        .routes(routes!(census))
}

/// An offer's views (page and API, robots left out), "Postuler" clicks and alert mails sent:
/// totals and per day.
#[utoipa::path(get, path = "/api/v1/recruiter/offers/{reference}/stats", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The statistics", body = Object),
              (status = 404, description = "Not in your services", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn offer_stats(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
) -> Result<Json<OfferStats>, AppError> {
    Ok(Json(
        with_backoffice(&state, move |b| b.offer_stats(&who, &reference)).await?,
    ))
}

/// Every offer counted by state, contract, region, administration and month of first
/// publication.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin",
    responses((status = 200, description = "The census", body = Object)),
    security(("bearer" = [])))]
async fn census(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Census>, AppError> {
    Ok(Json(
        with_backoffice(&state, move |b| b.census(&who)).await?,
    ))
}
