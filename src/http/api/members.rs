//! The members of a service and their roles (a gestionnaire, or an administrator), the
//! invitations, and the transfer of an offer between services.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backoffice::{Invitation, Invited};
use crate::http::api::auth::account_json;
use crate::http::api::recruiter_offers::offer_json;
use crate::http::extract::{Caller, JsonBody, RecordId};
use crate::http::{AppError, AppState, with_backoffice as backoffice};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(members, invite_member))
        .routes(routes!(change_role, remove))
        .routes(routes!(invite))
        .routes(routes!(transfer))
        .routes(routes!(admin_transfer))
}

/// The members of a service, each with their role (its gestionnaires, administrators).
#[utoipa::path(get, path = "/api/v1/recruiter/services/{id}/members", tag = "recruiters",
    params(("id" = u64, Path, description = "Service id")),
    responses((status = 200, description = "`{\"service\", \"members\": [{\"id\", \"first_name\", \"last_name\", \"email\", \"state\", \"role\"}]}`", body = Object),
              (status = 403, description = "Not a gestionnaire of the service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not one of your services", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn members(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (service, members) = backoffice(&state, move |b| b.members(&who, id)).await?;
    Ok(Json(serde_json::json!({
        "service": {"id": service.id, "name": service.name, "administration": service.administration.code()},
        "members": members.iter().map(|m| serde_json::json!({
            "id": m.account.id, "civility": m.account.civility, "first_name": m.account.first_name,
            "last_name": m.account.last_name, "email": m.account.email, "state": m.account.state,
            "role": m.role.code(),
        })).collect::<Vec<_>>(),
    })))
}

async fn invited(
    state: &AppState,
    done: Invited,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(account_json(state, &done.account).await?)))
}

/// Invites a colleague to the service by mail (its gestionnaires, administrators): a new
/// account (201) gets a link to choose a password, an existing recruiter (200) is added.
#[utoipa::path(post, path = "/api/v1/recruiter/services/{id}/members", tag = "recruiters",
    params(("id" = u64, Path, description = "Service id")), request_body = Invitation,
    responses((status = 201, description = "A new account, invited", body = Object),
              (status = 200, description = "An existing recruiter, added", body = Object),
              (status = 403, description = "Not a gestionnaire of the service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "The address belongs to another kind of account, or is already a member", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn invite_member(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(mut body): JsonBody<Invitation>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    if body.service.is_some_and(|s| s != id) {
        return Err(AppError::from(crate::Error::invalid(
            crate::FieldError::new(
                "service",
                format!("the invitation is to service {id}: leave it out or give {id}"),
            ),
        )));
    }
    body.service = Some(id);
    if body.role.as_deref().is_some_and(|r| r.trim() == "admin") {
        return Err(AppError::from(crate::Error::invalid(
            crate::FieldError::with_allowed(
                "role",
                "a service's members are gestionnaire, redacteur or lecteur",
                ["gestionnaire", "redacteur", "lecteur"]
                    .map(String::from)
                    .to_vec(),
            ),
        )));
    }
    let done = backoffice(&state, move |b| b.invite(&who, body)).await?;
    invited(&state, done).await
}

/// A member's new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `gestionnaire`, `redacteur` or `lecteur`.
    #[schema(pattern = r"^\s*(gestionnaire|redacteur|lecteur)\s*$")]
    role: String,
}

/// Changes a member's role (its gestionnaires, administrators; not one's own).
#[utoipa::path(patch, path = "/api/v1/recruiter/services/{id}/members/{account}", tag = "recruiters",
    params(("id" = u64, Path, description = "Service id"), ("account" = u64, Path, description = "Account id")),
    request_body = RoleBody,
    responses((status = 200, description = "The account", body = Object),
              (status = 422, description = "Unknown role", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a gestionnaire of the service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a member", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "One's own membership", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn change_role(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((id, account)): Path<(RecordId, RecordId)>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (id, account) = (id.0, account.0);
    let a = backoffice(&state, move |b| {
        b.set_member_role(&who, id, account, &body.role)
    })
    .await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Removes a member from the service (its gestionnaires, administrators; not oneself).
#[utoipa::path(delete, path = "/api/v1/recruiter/services/{id}/members/{account}", tag = "recruiters",
    params(("id" = u64, Path, description = "Service id"), ("account" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object),
              (status = 403, description = "Not a gestionnaire of the service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a member", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "One's own membership", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn remove(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((id, account)): Path<(RecordId, RecordId)>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (id, account) = (id.0, account.0);
    let a = backoffice(&state, move |b| b.remove_member(&who, account, id)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Invites a recruiter to a service with a role, or another administrator (`"role": "admin"`,
/// no service) — administrators.
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "recruiters", request_body = Invitation,
    responses((status = 201, description = "A new account, invited", body = Object),
              (status = 200, description = "An existing recruiter, added to the service", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "The address is used", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn invite(
    State(state): State<AppState>,
    Caller(admin): Caller,
    JsonBody(body): JsonBody<Invitation>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let done = backoffice(&state, move |b| {
        crate::auth::require(&admin, crate::domain::account::Role::Admin)?;
        b.invite(&admin, body)
    })
    .await?;
    invited(&state, done).await
}

/// The service an offer moves to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// Service id.
    service: u64,
}

/// Moves an offer to another of the caller's services (recorded in its history).
#[utoipa::path(post, path = "/api/v1/recruiter/offers/{reference}/transfer", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")), request_body = TransferBody,
    responses((status = 200, description = "The offer", body = Object),
              (status = 403, description = "A lecteur", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already in that service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not one of your services", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn transfer(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<TransferBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (o, _) = backoffice(&state, move |b| {
        crate::auth::require(&who, crate::domain::account::Role::Recruiter)?;
        b.transfer(&who, &reference, body.service)
    })
    .await?;
    Ok(Json(offer_json(&state, &o)))
}

/// Moves any offer to any service (administrators; recorded in its history).
#[utoipa::path(post, path = "/api/v1/admin/offers/{reference}/transfer", tag = "recruiters",
    params(("reference" = String, Path, description = "Reference")), request_body = TransferBody,
    responses((status = 200, description = "The offer", body = Object),
              (status = 404, description = "No such offer", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already in that service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "No such service", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn admin_transfer(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<TransferBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (o, _) = backoffice(&state, move |b| {
        crate::auth::require(&admin, crate::domain::account::Role::Admin)?;
        b.transfer(&admin, &reference, body.service)
    })
    .await?;
    Ok(Json(offer_json(&state, &o)))
}
