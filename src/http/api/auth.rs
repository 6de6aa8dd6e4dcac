//! Sessions: login, logout, choosing a password from a one-time link, `GET /api/v1/me`; the
//! bearer-token extractor; throttling of failed logins.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::SESSION_HOURS;
use crate::domain::account::Account;
use crate::error::{FieldError, ValidationErrors};
use crate::http::{AppError, AppState, with_auth};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(set_password))
        .routes(routes!(me))
}

/// A JSON body whose rejections are problem+json: 400 malformed, 413 too large, 415 not JSON,
/// 422 when it parses but does not fit (unknown field, wrong type).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        use axum::extract::rejection::JsonRejection as R;
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(mut v)) => {
                if !v.is_object() {
                    return Err(AppError::unprocessable(FieldError::new(
                        "body",
                        "a JSON object is expected",
                    )));
                }
                whole_numbers(&mut v);
                // As `Json` words it, with the path of the faulty field.
                serde_path_to_error::deserialize(v)
                    .map(JsonBody)
                    .map_err(|e| {
                        AppError::unprocessable(FieldError::new(
                            "body",
                            format!(
                                "Failed to deserialize the JSON body into the target type: {e}"
                            ),
                        ))
                    })
            }
            Err(R::JsonDataError(e)) => Err(AppError::unprocessable(FieldError::new(
                "body",
                e.body_text(),
            ))),
            Err(R::JsonSyntaxError(e)) => Err(AppError::bad_request(ValidationErrors(vec![
                FieldError::new("body", e.body_text()),
            ]))),
            Err(R::MissingJsonContentType(_)) => Err(AppError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "the body is too large",
            )),
            Err(e) => Err(AppError::status(e.status(), "Bad request", e.body_text())),
        }
    }
}

/// Numbers without a fraction written with one (`3.0`) become integers: JSON Schema counts
/// them as integers, so an integer field takes them.
fn whole_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                if (0.0..u64::MAX as f64).contains(&f) {
                    *v = serde_json::Value::from(f as u64);
                } else if (i64::MIN as f64..0.0).contains(&f) {
                    *v = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(o) => o.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// The authenticated caller (`Authorization: Bearer <token>`).
pub struct Caller(pub Account);

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The bearer token of a request, if any.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    bearer_of(headers).map(str::to_string)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts)
            .ok_or_else(|| {
                AppError::status(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "send Authorization: Bearer <token> (POST /api/v1/auth/login)",
                )
            })?
            .to_string();
        let account = with_auth(state, move |a| a.authenticate(&token)).await?;
        Ok(Caller(account))
    }
}

/// Login body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// E-mail address (or username for candidates).
    login: String,
    password: String,
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
    crate::http::client::ClientIp(peer): crate::http::client::ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let throttle = state.throttle.clone();
    let client = peer.to_string();
    let token = with_auth(&state, move |a| {
        a.login_throttled(&throttle, &body.login, &body.password, &client)
    })
    .await?;
    Ok(Json(
        serde_json::json!({"token": token, "expires_in": SESSION_HOURS * 3600}),
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
        .map(|s| serde_json::json!({"id": s.id, "name": s.name, "administration": s.administration.code(), "versant": s.versant()}))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let mut v = json!({"service": 3.0, "list": [1.0, 2.5, -4.0], "big": 3653291047978374.0});
        super::whole_numbers(&mut v);
        assert_eq!(
            v,
            json!({"service": 3, "list": [1, 2.5, -4], "big": 3653291047978374u64})
        );
    }
}
