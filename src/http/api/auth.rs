//! Sessions: login, logout, choosing a password from a one-time link, `GET /api/v1/me`;
//! throttling of failed logins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::session_length;
use crate::domain::account::Account;
use crate::http::extract::{Caller, JsonBody, bearer_token};
use crate::http::{AppError, AppState, with_auth};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(set_password))
        .routes(routes!(me))
}

/// Login body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// E-mail address (or username for candidates).
    login: String,
    password: String,
    /// "Rester connecté": a session of 30 days instead of 12 hours.
    #[serde(default)]
    rester_connecte: bool,
}

/// Set-password body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The token of the one-time link.
    token: String,
    password: String,
}

/// Logs in; answers a bearer token. Wrong login and wrong password get the same 401; too many
/// failures for an account or an address get 429.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, description = "`{\"token\": \"…\"}`", body = Object),
              (status = 401, description = "Invalid login or password", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many failed logins", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn login(
    State(state): State<AppState>,
    crate::http::extract::ClientIp(peer): crate::http::extract::ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let throttle = state.throttle.clone();
    let client = peer.to_string();
    let stay = body.rester_connecte;
    let token = with_auth(&state, move |a| {
        a.login_throttled(&throttle, &body.login, &body.password, &client, stay)
    })
    .await?;
    Ok(Json(
        serde_json::json!({"token": token, "expires_in": session_length(stay).whole_seconds()}),
    ))
}

/// Ends the session of the bearer token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204, description = "Logged out"), (status = 401, description = "No session", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn logout(
    State(state): State<AppState>,
    Caller(_caller): Caller,
    parts: axum::http::HeaderMap,
) -> Result<StatusCode, AppError> {
    let token = bearer_token(&parts).unwrap_or_default();
    with_auth(&state, move |a| a.logout(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Chooses a password with the token of a one-time link.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "accounts", request_body = PasswordBody,
    responses((status = 204, description = "Password set"), (status = 422, description = "Bad token or weak password", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn set_password(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<StatusCode, AppError> {
    with_auth(&state, move |a| a.set_password(&body.token, &body.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public view of accounts, their services read in one crossing into the store.
pub async fn accounts_json(
    state: &AppState,
    accounts: Vec<Account>,
) -> Result<Vec<serde_json::Value>, AppError> {
    let store = state.engine.store().clone();
    let views = crate::blocking::run(move || {
        accounts
            .iter()
            .map(|a| account_value(&store, a))
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(views)
}

/// The public view of an account.
pub async fn account_json(state: &AppState, a: &Account) -> Result<serde_json::Value, AppError> {
    let mut one = accounts_json(state, vec![a.clone()]).await?;
    Ok(one.remove(0))
}

/// The public view of an account, its services read from `store`.
fn account_value(store: &crate::store::Store, a: &Account) -> serde_json::Value {
    let services: Vec<serde_json::Value> = a
        .services
        .iter()
        .filter_map(|id| store.service(*id).ok().flatten())
        .map(|s| serde_json::json!({"id": s.id, "name": s.name, "administration": s.administration.code(), "versant": s.versant(), "role": a.role_in(s.id).map(|r| r.code())}))
        .collect();
    serde_json::json!({
        "id": a.id, "role": a.role, "state": a.state, "civility": a.civility,
        "first_name": a.first_name, "last_name": a.last_name, "email": a.email, "phone": a.phone,
        "services": services,
        "requested_service": a.requested_service.as_ref().map(|r| serde_json::json!({"administration": r.administration.code(), "name": r.name})),
        "refusal_reason": a.refusal_reason,
        "created_at": a.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    })
}

/// The caller's account (recruiters: with their services).
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, description = "The account", body = Object), (status = 401, description = "No session", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn me(
    State(state): State<AppState>,
    Caller(a): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(account_json(&state, &a).await?))
}
