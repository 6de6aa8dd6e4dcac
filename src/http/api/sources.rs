//! Partner feeds (administrators): `POST/GET /api/v1/admin/sources`,
//! `GET/DELETE /api/v1/admin/sources/{id}`, `POST /api/v1/admin/sources/{id}/poll`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backoffice::sources::{feed_client, poll_source};
use crate::domain::OfferInput;
use crate::domain::account::Role;
use crate::http::extract::{Caller, JsonBody, RecordId};
use crate::http::{AppError, AppState, with_backoffice};
use crate::store::sources::{Poll, Source};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(read, remove))
        .routes(routes!(poll))
}

/// A feed to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    /// The RSS or Atom feed's `http://` or `https://` address.
    url: String,
    /// The service its offers belong to.
    service: u64,
    /// Field values of every offer its items do not give (offer fields, as the recruiter API
    /// takes them).
    #[serde(default)]
    defaults: Option<OfferInput>,
}

/// A source as the API shows it (without its item map).
fn source_json(s: &Source) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "url": s.url,
        "service": s.service,
        "defaults": s.defaults,
        "created_at": s.created_at,
        "offers": s.items.len(),
        "last_poll": s.last_poll,
    })
}

/// Registers a partner feed for a service.
#[utoipa::path(post, path = "/api/v1/admin/sources", tag = "admin", request_body = SourceBody,
    responses((status = 201, description = "The source", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn add(
    State(state): State<AppState>,
    Caller(admin): Caller,
    JsonBody(body): JsonBody<SourceBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let outbound = state.outbound.clone();
    let s = with_backoffice(&state, move |b| {
        b.add_source(
            &admin,
            &body.url,
            body.service,
            body.defaults.unwrap_or_default(),
            &outbound,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(source_json(&s))))
}

/// Every partner feed, with its last poll.
#[utoipa::path(get, path = "/api/v1/admin/sources", tag = "admin",
    responses((status = 200, description = "The sources", body = Vec<Object>)),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(admin): Caller,
) -> Result<Json<Vec<serde_json::Value>>, AppError> {
    let all = with_backoffice(&state, move |b| b.sources(&admin)).await?;
    Ok(Json(all.iter().map(source_json).collect()))
}

/// One partner feed: its last poll (imported, updated, archived, rejected items with their
/// reasons, or the error).
#[utoipa::path(get, path = "/api/v1/admin/sources/{id}", tag = "admin",
    params(("id" = u64, Path, description = "Source id")),
    responses((status = 200, description = "The source", body = Object),
              (status = 404, description = "No such source", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn read(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let s = with_backoffice(&state, move |b| b.source(&admin, id)).await?;
    Ok(Json(source_json(&s)))
}

/// Stops polling a partner feed (its offers stay).
#[utoipa::path(delete, path = "/api/v1/admin/sources/{id}", tag = "admin",
    params(("id" = u64, Path, description = "Source id")),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "No such source", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn remove(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<StatusCode, AppError> {
    with_backoffice(&state, move |b| b.remove_source(&admin, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Polls a partner feed now; answers what the poll did.
#[utoipa::path(post, path = "/api/v1/admin/sources/{id}/poll", tag = "admin",
    params(("id" = u64, Path, description = "Source id")),
    responses((status = 200, description = "The poll's report", body = Poll),
              (status = 404, description = "No such source", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn poll(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<Poll>, AppError> {
    crate::auth::require(&admin, Role::Admin)?;
    let client = feed_client(&state.outbound);
    Ok(Json(
        poll_source(&state.engine, (&client, &state.outbound), id).await?,
    ))
}
