//! Recruiter accounts and the organisation tree: requests, review by administrators, services.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::require;
use crate::backoffice::RecruiterRequest;
use crate::domain::account::{AccountState, Role};
use crate::error::{FieldError, ValidationErrors};
use crate::http::api::auth::{account_json, accounts_json};
use crate::http::extract::{Caller, JsonBody, RecordId};
use crate::http::{AppError, AppState, with_backoffice as backoffice};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_account))
        .routes(routes!(list_services))
        .routes(routes!(create_service))
        .routes(routes!(list_requests))
        .routes(routes!(approve))
        .routes(routes!(refuse))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(rename_service, delete_service))
        .routes(routes!(merge_service))
        .routes(routes!(list_accounts))
        .routes(routes!(enable_account))
        .routes(routes!(disable_account))
        .routes(routes!(list_all_offers))
        .routes(routes!(moderate))
}

/// Requests a recruiter account; it starts `pending` until an administrator reviews it.
#[utoipa::path(post, path = "/api/v1/recruiters", tag = "recruiters", request_body = RecruiterRequest,
    responses((status = 201, description = "`{\"id\", \"state\": \"pending\"}`", body = Object),
              (status = 409, description = "E-mail address already used", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn request_account(
    State(state): State<AppState>,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    JsonBody(body): JsonBody<RecruiterRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let email = body.email.clone().unwrap_or_default();
    state.mail_allowed(&email, client)?;
    let a = backoffice(&state, move |b| b.request_recruiter(body)).await?;
    state.mail_sent(&email, client);
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": a.id, "state": a.state})),
    ))
}

/// Filter of the services.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Administration code.
    administration: Option<String>,
}

/// The services, to choose from.
#[utoipa::path(get, path = "/api/v1/services", tag = "recruiters", params(ServicesQuery),
    responses((status = 200, description = "Services", body = Vec<Object>), (status = 400, description = "Unknown administration", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn list_services(
    State(state): State<AppState>,
    Query(q): Query<ServicesQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let services = backoffice(&state, move |b| b.services(q.administration.as_deref())).await?;
    Ok(Json(
        serde_json::json!(services.iter().map(|s| serde_json::json!({
        "id": s.id, "name": s.name, "administration": s.administration.code(),
        "administration_label": s.administration.label(), "versant": s.versant(), "entity": s.entity,
        "details": s.details,
    })).collect::<Vec<_>>()),
    ))
}

/// A new service.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    name: String,
    administration: String,
    entity: Option<String>,
}

/// Creates a service (administrators).
#[utoipa::path(post, path = "/api/v1/admin/services", tag = "recruiters", request_body = ServiceBody,
    responses((status = 201, description = "The service", body = Object), (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create_service(
    State(state): State<AppState>,
    Caller(admin): Caller,
    JsonBody(body): JsonBody<ServiceBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let s = backoffice(&state, move |b| {
        b.create_service(&admin, &body.name, &body.administration, body.entity)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({"id": s.id, "name": s.name, "administration": s.administration.code(), "versant": s.versant()}),
        ),
    ))
}

/// Filter of the requests.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// `pending`, `active` or `refused`.
    state: Option<String>,
}

/// Recruiter accounts to review (administrators).
#[utoipa::path(get, path = "/api/v1/admin/recruiters", tag = "recruiters", params(RequestsQuery),
    responses((status = 200, description = "Accounts", body = Vec<Object>), (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list_requests(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Query(q): Query<RequestsQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    require(&admin, Role::Admin)?;
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some("pending") => Some(AccountState::Pending),
        Some("active") => Some(AccountState::Active),
        Some("refused") => Some(AccountState::Refused),
        Some(s) => {
            return Err(AppError::bad_request(ValidationErrors(vec![
                FieldError::with_allowed(
                    "state",
                    format!("unknown state '{s}'"),
                    vec!["pending".into(), "active".into(), "refused".into()],
                ),
            ])));
        }
    };
    let list = backoffice(&state, move |b| b.recruiters(filter)).await?;
    Ok(Json(serde_json::json!(accounts_json(&state, list).await?)))
}

/// Approves a request and mails a one-time link to choose a password.
#[utoipa::path(post, path = "/api/v1/admin/recruiters/{id}/approve", tag = "recruiters",
    params(("id" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object), (status = 409, description = "Not pending", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn approve(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| b.approve(&admin, id)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// A refusal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    reason: String,
}

/// Refuses a request; the reason is mailed.
#[utoipa::path(post, path = "/api/v1/admin/recruiters/{id}/refuse", tag = "recruiters", request_body = RefuseBody,
    params(("id" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object), (status = 409, description = "Not pending", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn refuse(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(body): JsonBody<RefuseBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| b.refuse(&admin, id, &body.reason)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// A membership.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    service: u64,
    /// `gestionnaire`, `redacteur` or `lecteur`; by default gestionnaire for a service without
    /// members, redacteur otherwise.
    #[schema(pattern = r"^\s*(gestionnaire|redacteur|lecteur)\s*$")]
    role: Option<String>,
}

/// Adds a recruiter to one more service with a role, or changes their role there
/// (administrators).
#[utoipa::path(post, path = "/api/v1/admin/recruiters/{id}/services", tag = "recruiters", request_body = MemberBody,
    params(("id" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object),
              (status = 404, description = "No such recruiter or service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Unknown role", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn add_member(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| {
        b.add_member(&admin, id, body.service, body.role.as_deref())
    })
    .await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Removes a recruiter from a service (administrators).
#[utoipa::path(delete, path = "/api/v1/admin/recruiters/{id}/services/{service}", tag = "recruiters",
    params(("id" = u64, Path, description = "Account id"), ("service" = u64, Path, description = "Service id")),
    responses((status = 200, description = "The account", body = Object),
              (status = 403, description = "Not an administrator", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such membership", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path((id, service)): Path<(RecordId, RecordId)>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (id, service) = (id.0, service.0);
    require(&admin, Role::Admin)?;
    let a = backoffice(&state, move |b| b.remove_member(&admin, id, service)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// A change of a service.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    /// A new name.
    name: Option<String>,
    /// A new entité (empty to remove).
    entity: Option<String>,
    /// How to reach the service (replaces the current details when given).
    #[serde(default, deserialize_with = "crate::domain::validate::object_only")]
    details: Option<crate::domain::account::ServiceDetails>,
}

fn service_json(s: &crate::domain::account::Service) -> serde_json::Value {
    serde_json::json!({"id": s.id, "name": s.name, "administration": s.administration.code(), "versant": s.versant(), "entity": s.entity, "details": s.details})
}

/// Renames a service or moves it to another entité (administrators).
#[utoipa::path(patch, path = "/api/v1/admin/services/{id}", tag = "recruiters", request_body = ServicePatch,
    params(("id" = u64, Path, description = "Service id")),
    responses((status = 200, description = "The service", body = Object), (status = 404, description = "No such service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn rename_service(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(body): JsonBody<ServicePatch>,
) -> Result<Json<serde_json::Value>, AppError> {
    let s = backoffice(&state, move |b| {
        let s = b.rename_service(&admin, id, body.name.as_deref(), body.entity.as_deref())?;
        match body.details {
            Some(d) => b.set_service_details(&admin, id, d),
            None => Ok(s),
        }
    })
    .await?;
    Ok(Json(service_json(&s)))
}

/// Deletes a service without offers nor members (administrators).
#[utoipa::path(delete, path = "/api/v1/admin/services/{id}", tag = "recruiters",
    params(("id" = u64, Path, description = "Service id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "It still has offers or members: merge it", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_service(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<StatusCode, AppError> {
    backoffice(&state, move |b| b.delete_service(&admin, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The service another is merged into.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The id of the service that receives the offers and the members.
    into: u64,
}

/// Merges a service into another (administrators): its offers (history and statistics with
/// them) and its members move, then it is deleted. Answers what moved.
#[utoipa::path(post, path = "/api/v1/admin/services/{id}/merge", tag = "recruiters", request_body = MergeBody,
    params(("id" = u64, Path, description = "Service id")),
    responses((status = 200, description = "`{\"from\", \"into\", \"offers\", \"members\"}`", body = Object),
              (status = 404, description = "No such service", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "No such target, or the same service", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn merge_service(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(body): JsonBody<MergeBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let m = backoffice(&state, move |b| b.merge_services(&admin, id, body.into)).await?;
    Ok(Json(serde_json::json!({
        "from": service_json(&m.from), "into": service_json(&m.into),
        "offers": m.offers, "members": m.members,
    })))
}

/// Filter of the accounts.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// `recruiter` or `admin`; both when absent.
    role: Option<String>,
}

/// Every recruiter and administrator account (administrators).
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "recruiters", params(AccountsQuery),
    responses((status = 200, description = "Accounts", body = Vec<Object>), (status = 400, description = "Unknown role", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list_accounts(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Query(q): Query<AccountsQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let role = match q.role.as_deref() {
        None | Some("") => None,
        Some("recruiter") => Some(Role::Recruiter),
        Some("admin") => Some(Role::Admin),
        Some(r) => {
            return Err(AppError::bad_request(ValidationErrors(vec![
                FieldError::with_allowed(
                    "role",
                    format!("unknown role '{r}'"),
                    vec!["recruiter".into(), "admin".into()],
                ),
            ])));
        }
    };
    let accounts = backoffice(&state, move |b| b.staff(&admin, role)).await?;
    Ok(Json(serde_json::json!(
        accounts_json(&state, accounts).await?
    )))
}

/// Enables a disabled account again (administrators).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/enable", tag = "recruiters",
    params(("id" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object), (status = 409, description = "Not disabled", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn enable_account(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| b.set_enabled(&admin, id, true)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Disables an account: its sessions end and it cannot log in (administrators).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/disable", tag = "recruiters",
    params(("id" = u64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = Object), (status = 409, description = "Not active", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn disable_account(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = backoffice(&state, move |b| b.set_enabled(&admin, id, false)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Filter of every offer.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOffersQuery {
    /// `draft`, `published`, `archived` or `filled`.
    state: Option<String>,
}

/// Every offer, for moderation (administrators).
#[utoipa::path(get, path = "/api/v1/admin/offers", tag = "recruiters", params(AdminOffersQuery),
    responses((status = 200, description = "Offers", body = Vec<Object>), (status = 400, description = "Unknown state", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list_all_offers(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Query(q): Query<AdminOffersQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            crate::domain::OfferState::parse("state", s)
                .map_err(|e| AppError::bad_request(ValidationErrors(vec![e])))?,
        ),
    };
    let offers = backoffice(&state, move |b| b.all_offers(&admin, filter)).await?;
    Ok(Json(serde_json::json!(
        offers
            .iter()
            .map(|o| crate::http::api::recruiter_offers::offer_json(&state, o))
            .collect::<Vec<_>>()
    )))
}

/// Why an offer is withdrawn.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationBody {
    /// The reason, mailed to the recruiters of the offer's service.
    reason: String,
}

/// Archives an offer that breaks the rules; the reason is mailed to its service (administrators).
#[utoipa::path(post, path = "/api/v1/admin/offers/{reference}/archive", tag = "recruiters", request_body = ModerationBody,
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The offer", body = Object), (status = 409, description = "Not published or filled", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn moderate(
    State(state): State<AppState>,
    Caller(admin): Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<ModerationBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let o = backoffice(&state, move |b| {
        b.moderate(&admin, &reference, &body.reason)
    })
    .await?;
    Ok(Json(crate::http::api::recruiter_offers::offer_json(
        &state, &o,
    )))
}
