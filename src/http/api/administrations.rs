//! The administrations for administrators: the list (compiled and added), an addition, a new
//! label — effective at once for the facets, the feeds, the forms and this API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backoffice::administrations::{
    AdministrationPatch, AdministrationRow, NewAdministration,
};
use crate::domain::referentials::Administration;
use crate::http::extract::{Caller, JsonBody};
use crate::http::{AppError, AppState, with_backoffice as backoffice};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(rename))
}

fn administration_json(a: &Administration) -> serde_json::Value {
    serde_json::json!({
        "code": a.code,
        "label": a.label,
        "short_label": a.short_label,
        "versant": a.versant,
        "type": a.kind,
        "aliases": a.aliases,
    })
}

fn row_json(r: &AdministrationRow) -> serde_json::Value {
    let mut v = administration_json(&r.administration);
    v["added"] = r.added.into();
    v["renamed"] = r.renamed.into();
    v["services"] = r.services.into();
    v
}

/// Every administration, compiled and added, with its services' count (administrators).
#[utoipa::path(get, path = "/api/v1/admin/administrations", tag = "recruiters",
    responses((status = 200, description = "`{\"administrations\": [{\"code\", \"label\", \"short_label\", \"versant\", \"type\", \"aliases\", \"added\", \"renamed\", \"services\"}]}`", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(admin): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let rows = backoffice(&state, move |b| b.administrations(&admin)).await?;
    Ok(Json(serde_json::json!({
        "administrations": rows.iter().map(row_json).collect::<Vec<_>>(),
    })))
}

/// Adds an administration (administrators); its code never changes.
#[utoipa::path(post, path = "/api/v1/admin/administrations", tag = "recruiters", request_body = NewAdministration,
    responses((status = 201, description = "The administration", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "The code was taken meanwhile", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn add(
    State(state): State<AppState>,
    Caller(admin): Caller,
    JsonBody(body): JsonBody<NewAdministration>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let a = backoffice(&state, move |b| b.add_administration(&admin, body)).await?;
    Ok((StatusCode::CREATED, Json(administration_json(&a))))
}

/// Renames an administration (administrators): its label and short label; the former label
/// stays among its other names.
#[utoipa::path(patch, path = "/api/v1/admin/administrations/{code}", tag = "recruiters", request_body = AdministrationPatch,
    params(("code" = String, Path, description = "The administration's code")),
    responses((status = 200, description = "The administration", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such administration", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn rename(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<AdministrationPatch>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| {
        b.rename_administration(&admin, &code, body)
    })
    .await?;
    Ok(Json(administration_json(&a)))
}
