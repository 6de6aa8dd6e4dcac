//! The recruiter's offers: create, read, replace, publish / archive / unarchive / clone /
//! filled, delete, and attachments.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::domain::{Offer, OfferInput, OfferState};
use crate::error::{FieldError, ValidationErrors};
use crate::http::api::documents::{read_upload, refused};
use crate::http::extract::{Caller, JsonBody};
use crate::http::{AppError, AppState, with_backoffice as backoffice};

pub(crate) fn router(max_attachment_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, replace, delete))
        .routes(routes!(action))
        .routes(routes!(renew))
        .routes(
            routes!(add_attachment).layer(DefaultBodyLimit::max(max_attachment_bytes + 64 * 1024)),
        )
        .routes(routes!(remove_attachment))
        .layer(DefaultBodyLimit::max(256 * 1024))
}

/// The recruiter's view of an offer: every field, state, audit trail.
pub(crate) fn offer_json(state: &AppState, o: &Offer) -> serde_json::Value {
    let mut v = crate::http::api::offers::public_offer_json(state.config.base_url(), o);
    if let Some(map) = v.as_object_mut() {
        map.insert("state".into(), o.state_name().into());
        map.insert(
            "publish_on".into(),
            o.fields
                .publish_on
                .map(crate::domain::offer::iso_date::format)
                .into(),
        );
        map.insert("service_id".into(), serde_json::json!(o.service_id));
        map.insert("audit".into(), serde_json::json!(o.audit));
        map.remove("url");
        if o.state == OfferState::Published {
            map.insert(
                "url".into(),
                crate::http::api::offers::offer_url(state.config.base_url(), o).into(),
            );
        }
    }
    v
}

/// Filter by state.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// `draft`, `published`, `archived` or `filled`.
    state: Option<String>,
}

/// The offers of the caller's services.
#[utoipa::path(get, path = "/api/v1/recruiter/offers", tag = "recruiter offers", params(StateQuery),
    responses((status = 200, description = "Offers", body = Vec<Object>), (status = 401, description = "No session", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<StateQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            OfferState::parse("state", s)
                .map_err(|e| AppError::bad_request(ValidationErrors(vec![e])))?,
        ),
    };
    let offers = backoffice(&state, move |b| b.offers(&who, filter)).await?;
    Ok(Json(serde_json::json!(
        offers
            .iter()
            .map(|o| offer_json(&state, o))
            .collect::<Vec<_>>()
    )))
}

/// Creates an offer (`"state": "draft"` by default, or `"published"`).
#[utoipa::path(post, path = "/api/v1/recruiter/offers", tag = "recruiter offers", request_body = crate::domain::OfferInput,
    responses((status = 201, description = "The offer with its reference", body = Object),
              (status = 422, description = "Every faulty field, named", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create(
    State(state): State<AppState>,
    Caller(who): Caller,
    JsonBody(body): JsonBody<OfferInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let (offer, _) = backoffice(&state, move |b| b.create_offer(&who, &body)).await?;
    Ok((StatusCode::CREATED, Json(offer_json(&state, &offer))))
}

/// One offer of the caller's services.
#[utoipa::path(get, path = "/api/v1/recruiter/offers/{reference}", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The offer", body = Object), (status = 404, description = "Not in your services", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn read(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let offer = backoffice(&state, move |b| b.offer(&who, &reference)).await?;
    Ok(Json(offer_json(&state, &offer)))
}

/// Replaces the editable fields.
#[utoipa::path(put, path = "/api/v1/recruiter/offers/{reference}", tag = "recruiter offers", request_body = crate::domain::OfferInput,
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The offer", body = Object), (status = 422, description = "Faulty fields", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn replace(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<OfferInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (offer, _) = backoffice(&state, move |b| b.replace_offer(&who, &reference, &body)).await?;
    Ok(Json(offer_json(&state, &offer)))
}

/// Deletes a draft (409 for any other state).
#[utoipa::path(delete, path = "/api/v1/recruiter/offers/{reference}", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Not a draft", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
) -> Result<StatusCode, AppError> {
    backoffice(&state, move |b| b.delete_offer(&who, &reference)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `publish`, `archive`, `unarchive`, `filled`, `unfill` (same offer) or `clone` (201, a new
/// draft).
#[utoipa::path(post, path = "/api/v1/recruiter/offers/{reference}/{action}", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference"),
           ("action" = String, Path, description = "publish | archive | unarchive | clone | filled | unfill")),
    responses((status = 200, description = "The offer in its new state", body = Object),
              (status = 201, description = "clone: the new draft", body = Object),
              (status = 409, description = "Not allowed from the current state", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn action(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((reference, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    if action == "clone" {
        let (offer, _) = backoffice(&state, move |b| b.clone_offer(&who, &reference)).await?;
        return Ok((StatusCode::CREATED, Json(offer_json(&state, &offer))));
    }
    if crate::domain::Lifecycle::parse(&action).is_none() {
        return Err(AppError::not_found(format!(
            "no action '{action}' (publish, archive, unarchive, clone, filled, unfill)"
        )));
    }
    let (offer, _) = backoffice(&state, move |b| b.transition(&who, &reference, &action)).await?;
    Ok((StatusCode::OK, Json(offer_json(&state, &offer))))
}

/// The form of an attachment.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AttachmentForm {
    /// The document.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Adds an attachment (multipart field `file`): PDF, DOC, DOCX or ODT, checked by content.
#[utoipa::path(post, path = "/api/v1/recruiter/offers/{reference}/attachments", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "multipart/form-data", content = AttachmentForm, description = "field `file`"),
    responses((status = 201, description = "The offer with its attachments", body = Object),
              (status = 409, description = "Already 3 attachments", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 413, description = "Too large", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 415, description = "Not a PDF, DOC, DOCX or ODT document", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn add_attachment(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let max = state.config.max_attachment_bytes;
    let up = read_upload(multipart, &["file"], max).await?;
    let (name, bytes) = up.file.ok_or_else(|| {
        AppError::unprocessable(FieldError::new(
            "file",
            "a multipart field named 'file' is required",
        ))
    })?;
    let offer = backoffice(&state, move |b| {
        b.attach(&who, &reference, &name, &bytes, max)
    })
    .await?
    .map_err(|r| refused(r, "a PDF, DOC, DOCX or ODT document"))?;
    Ok((StatusCode::CREATED, Json(offer_json(&state, &offer))))
}

/// Removes the n-th attachment (1-based).
#[utoipa::path(delete, path = "/api/v1/recruiter/offers/{reference}/attachments/{n}", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    responses((status = 200, description = "The offer", body = Object), (status = 404, description = "No such attachment", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn remove_attachment(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path((reference, n)): Path<(String, usize)>,
) -> Result<Json<serde_json::Value>, AppError> {
    let offer = backoffice(&state, move |b| b.remove_attachment(&who, &reference, n)).await?;
    Ok(Json(offer_json(&state, &offer)))
}

/// A new end of diffusion.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewBody {
    /// `YYYY-MM-DD`, after today and at most one year ahead.
    unpublish_on: String,
}

/// Renews the diffusion in one step: a new end date; an archived offer is published again.
#[utoipa::path(post, path = "/api/v1/recruiter/offers/{reference}/renew", tag = "recruiter offers",
    params(("reference" = String, Path, description = "Reference")), request_body = RenewBody,
    responses((status = 200, description = "The offer", body = Object),
              (status = 409, description = "A draft has no diffusion", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Bad date", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn renew(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<RenewBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (offer, _) = backoffice(&state, move |b| {
        b.renew(&who, &reference, &body.unpublish_on)
    })
    .await?;
    Ok(Json(offer_json(&state, &offer)))
}
