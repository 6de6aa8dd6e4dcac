//! Candidates: sign-up and e-mail confirmation, the personal data rights, saved searches, and
//! the one-click unsubscribe of an alert (RFC 8058).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::candidates::{AccountPatch, NewSearch, SearchPatch, Signup};
use crate::domain::account::SavedSearch;
use crate::http::api::auth::account_json;
use crate::http::extract::{Caller, JsonBody, RecordId};
use crate::http::{AppError, AppState, with_candidates as alerts};
use crate::links;
use crate::mail::html_escape;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(confirm))
        .routes(routes!(update_me, delete_me))
        .routes(routes!(export))
        .routes(routes!(list_searches, create_search))
        .routes(routes!(patch_search, delete_search))
        .routes(routes!(list_favorites))
        .routes(routes!(put_favorite, delete_favorite))
        .routes(routes!(put_standby))
        .routes(routes!(unsubscribe_page, unsubscribe))
}

fn search_json(s: &SavedSearch) -> serde_json::Value {
    let mut criteria = serde_json::Map::new();
    for (k, v) in &s.criteria {
        let repeatable = !["q", "diploma", "published_since", "sort"].contains(&k.as_str());
        match criteria.get_mut(k) {
            Some(serde_json::Value::Array(a)) => a.push(v.clone().into()),
            _ if repeatable => {
                criteria.insert(k.clone(), serde_json::json!([v]));
            }
            _ => {
                criteria.insert(k.clone(), v.clone().into());
            }
        }
    }
    let query = serde_urlencoded::to_string(&s.criteria).unwrap_or_default();
    serde_json::json!({
        "id": s.id, "name": s.name, "criteria": criteria, "alert": s.alert, "frequency": s.frequency,
        "created_at": s.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "search_url": format!("/api/v1/offers?{query}"),
    })
}

/// Creates a candidate account; a link to confirm the address is mailed.
#[utoipa::path(post, path = "/api/v1/candidates", tag = "candidates", request_body = Signup,
    responses((status = 201, description = "The account", body = Object),
              (status = 409, description = "E-mail or username taken", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn signup(
    State(state): State<AppState>,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    JsonBody(body): JsonBody<Signup>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let email = body.email.clone().unwrap_or_default();
    state.mail_allowed(&email, client)?;
    let a = alerts(&state, move |x| x.signup(body)).await?;
    state.mail_sent(&email, client);
    Ok((StatusCode::CREATED, Json(account_json(&state, &a).await?)))
}

/// The token of a confirmation link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// Confirms an e-mail address (no login needed).
#[utoipa::path(post, path = "/api/v1/me/confirm", tag = "candidates", request_body = TokenBody,
    responses((status = 200, description = "The account, confirmed", body = Object), (status = 422, description = "Bad token", body = crate::http::Problem, content_type = "application/problem+json")))]
async fn confirm(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = alerts(&state, move |x| x.confirm(&body.token)).await?;
    Ok(Json(account_json(&state, &a).await?))
}

/// Changes the caller's account: names and phone; the address and the password with the
/// current password. A new address takes effect through the link mailed to it (answered as
/// `pending_email`; the current address is told); a new password ends every other session and
/// pending link.
#[utoipa::path(patch, path = "/api/v1/me", tag = "candidates", request_body = AccountPatch,
    responses((status = 200, description = "The account", body = Object), (status = 422, description = "Invalid fields", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many wrong current passwords, or mails to a new address", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn update_me(
    State(state): State<AppState>,
    Caller(who): Caller,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<AccountPatch>,
) -> Result<Json<serde_json::Value>, AppError> {
    let session = crate::http::extract::bearer_token(&headers);
    let (a, pending) = crate::http::change_account(&state, who, client, session, body).await?;
    let mut answer = account_json(&state, &a).await?;
    if let Some(p) = pending {
        answer["pending_email"] = p.into();
    }
    Ok(Json(answer))
}

/// Deletes the caller's account, saved searches, alerts and pending mails.
#[utoipa::path(delete, path = "/api/v1/me", tag = "candidates",
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not a candidate account", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_me(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<StatusCode, AppError> {
    alerts(&state, move |x| x.delete_me(&who)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every personal datum held about the caller (GDPR portability).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "candidates",
    responses((status = 200, description = "Account, saved searches, alert matches, mails", body = Object)),
    security(("bearer" = [])))]
async fn export(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(alerts(&state, move |x| x.export(&who)).await?))
}

/// One starred offer as the API answers it.
fn favorite_json(state: &AppState, o: &crate::domain::Offer) -> serde_json::Value {
    let visible = o.is_visible(state.engine.now(), state.engine.zone());
    serde_json::json!({
        "reference": o.reference.to_string(),
        "title": o.fields.title,
        "state": o.state,
        "visible": visible,
        "url": crate::http::api::offers::offer_url(state.config.base_url(), o),
    })
}

/// The caller's starred offers, the latest first; an offer no longer diffused says
/// `"visible": false`.
#[utoipa::path(get, path = "/api/v1/me/favorites", tag = "candidates",
    responses((status = 200, description = "Starred offers", body = Object)),
    security(("bearer" = [])))]
async fn list_favorites(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let list = alerts(&state, move |x| x.favorites(&who)).await?;
    Ok(Json(serde_json::json!({
        "favorites": list.iter().map(|o| favorite_json(&state, o)).collect::<Vec<_>>()
    })))
}

/// Stars a visible offer (idempotent).
#[utoipa::path(put, path = "/api/v1/me/favorites/{reference}", tag = "candidates",
    params(("reference" = String, Path, description = "`A-YYYY-NNNN` or `S-YYYY-NNNN`")),
    responses((status = 200, description = "The starred offer", body = Object),
              (status = 404, description = "No visible offer of that reference", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Too many favourites", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn put_favorite(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let o = alerts(&state, move |x| x.set_favorite(&who, &reference, true)).await?;
    Ok(Json(favorite_json(&state, &o)))
}

/// Unstars an offer (idempotent).
#[utoipa::path(delete, path = "/api/v1/me/favorites/{reference}", tag = "candidates",
    params(("reference" = String, Path, description = "`A-YYYY-NNNN` or `S-YYYY-NNNN`")),
    responses((status = 204, description = "No longer starred"),
              (status = 404, description = "No offer of that reference", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_favorite(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
) -> Result<StatusCode, AppError> {
    alerts(&state, move |x| x.set_favorite(&who, &reference, false)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/me/standby`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Standby {
    /// `true` pauses every alert of the account, `false` resumes them.
    paused: bool,
}

/// Pauses every alert at once, or resumes them (offers published meanwhile are not mailed).
#[utoipa::path(put, path = "/api/v1/me/standby", tag = "candidates", request_body = Standby,
    responses((status = 200, description = "`{\"paused\": bool, \"paused_since\": RFC 3339}`", body = Object),
              (status = 422, description = "Invalid body", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn put_standby(
    State(state): State<AppState>,
    Caller(who): Caller,
    JsonBody(body): JsonBody<Standby>,
) -> Result<Json<serde_json::Value>, AppError> {
    let a = alerts(&state, move |x| x.set_standby(&who, body.paused)).await?;
    Ok(Json(standby_json(&a)))
}

/// The standby state of an account.
fn standby_json(a: &crate::domain::account::Account) -> serde_json::Value {
    let since = a.paused_since.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    serde_json::json!({"paused": since.is_some(), "paused_since": since})
}

/// The caller's saved searches.
#[utoipa::path(get, path = "/api/v1/me/searches", tag = "candidates",
    responses((status = 200, description = "Saved searches", body = Vec<Object>)),
    security(("bearer" = [])))]
async fn list_searches(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let list = alerts(&state, move |x| x.searches(&who)).await?;
    Ok(Json(serde_json::json!(
        list.iter().map(search_json).collect::<Vec<_>>()
    )))
}

/// Saves a search, with an alert by default (409 past the limit per account).
#[utoipa::path(post, path = "/api/v1/me/searches", tag = "candidates", request_body = NewSearch,
    responses((status = 201, description = "The saved search", body = Object),
              (status = 409, description = "Too many saved searches", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid criteria", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create_search(
    State(state): State<AppState>,
    Caller(who): Caller,
    JsonBody(body): JsonBody<NewSearch>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let s = alerts(&state, move |x| x.create_search(&who, body)).await?;
    Ok((StatusCode::CREATED, Json(search_json(&s))))
}

/// Renames a saved search, switches its alert, changes its frequency.
#[utoipa::path(patch, path = "/api/v1/me/searches/{id}", tag = "candidates", request_body = SearchPatch,
    params(("id" = u64, Path, description = "Saved search id")),
    responses((status = 200, description = "The saved search", body = Object), (status = 404, description = "Not yours", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn patch_search(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(body): JsonBody<SearchPatch>,
) -> Result<Json<serde_json::Value>, AppError> {
    let s = alerts(&state, move |x| x.patch_search(&who, id, body)).await?;
    Ok(Json(search_json(&s)))
}

/// Deletes a saved search and its pending alert mails.
#[utoipa::path(delete, path = "/api/v1/me/searches/{id}", tag = "candidates",
    params(("id" = u64, Path, description = "Saved search id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not yours", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_search(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<StatusCode, AppError> {
    alerts(&state, move |x| x.delete_search(&who, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed token of an unsubscribe link.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    token: String,
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title>\
         <link rel=\"stylesheet\" href=\"/static/plain.css\"></head>\
         <body><h1>{t}</h1>{body}<p><a href=\"/\">Retour au portail</a></p></body></html>",
        t = html_escape(title)
    ))).into_response()
}

/// The answer to a missing, forged or stale unsubscribe link.
fn invalid_link() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Lien invalide",
        "<p>Ce lien de désabonnement n'est pas valide.</p>",
    )
}

/// Shows what the link unsubscribes from, with a button (no login).
#[utoipa::path(get, path = links::UNSUBSCRIBE, tag = "candidates", params(UnsubscribeQuery),
    responses((status = 200, description = "Confirmation page (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "Invalid link (HTML)", content_type = "text/html", body = String)))]
async fn unsubscribe_page(
    State(state): State<AppState>,
    q: Result<Query<UnsubscribeQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return invalid_link();
    };
    let token = q.token.clone();
    match alerts(&state, move |x| x.alert_of_token(&token)).await {
        Ok(s) => page(
            StatusCode::OK,
            "Se désabonner de cette alerte",
            &format!(
                "<p>Vous ne recevrez plus de courriel pour la recherche « {} ».</p>\
             <form method=\"post\" action=\"/api/v1/alerts/unsubscribe?token={}\"><button type=\"submit\">Confirmer le désabonnement</button></form>",
                html_escape(&s.name),
                html_escape(&q.token)
            ),
        ),
        Err(_) => invalid_link(),
    }
}

/// Switches the alert off (RFC 8058 one-click: `List-Unsubscribe=One-Click`).
#[utoipa::path(post, path = links::UNSUBSCRIBE, tag = "candidates", params(UnsubscribeQuery),
    responses((status = 200, description = "Unsubscribed (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "Invalid link", content_type = "text/html", body = String)))]
async fn unsubscribe(
    State(state): State<AppState>,
    q: Result<Query<UnsubscribeQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return invalid_link();
    };
    match alerts(&state, move |x| x.unsubscribe(&q.token)).await {
        Ok(s) => page(
            StatusCode::OK,
            "Désabonnement confirmé",
            &format!(
                "<p>L'alerte « {} » est désactivée.</p>",
                html_escape(&s.name)
            ),
        ),
        Err(_) => invalid_link(),
    }
}
