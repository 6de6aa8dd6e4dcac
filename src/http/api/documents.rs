//! A candidate's documents and applications through the API: `GET/POST /api/v1/me/documents`
//! (multipart `file`, `kind`, `name`), one document's file, name and default, its deletion;
//! `POST /api/v1/offers/{reference}/applications` and `GET /api/v1/me/applications`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::candidates::MAX_DOCUMENT_BYTES;
use crate::domain::documents::{Application, Document, DocumentKind};
use crate::domain::files::Refusal;
use crate::error::{FieldError, ValidationErrors};
use crate::http::extract::{Caller, JsonBody, RecordId};
use crate::http::{AppError, AppState, with_candidates};
use crate::links;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    let upload = DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + 64 * 1024);
    OpenApiRouter::new()
        .routes(routes!(list_documents))
        .routes(routes!(add_document).layer(upload))
        .routes(routes!(document_file, change_document, delete_document))
        .routes(routes!(replace_document).layer(upload))
        .routes(routes!(apply))
        .routes(routes!(list_applications))
}

/// A multipart form as received: its text fields, and its field `file` (file name, bytes).
pub(crate) struct Upload {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) file: Option<(String, Bytes)>,
}

impl Upload {
    /// The text field `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The answer to a file larger than `max` bytes.
pub(crate) fn too_large(max: usize) -> AppError {
    AppError::status(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload too large",
        format!("a file may be at most {max} bytes"),
    )
}

/// Reads a multipart form whose fields are among `allowed` (`file` being the file); a body
/// over the route's limit is a 413, an unknown field a 422 naming it.
pub(crate) async fn read_upload(
    mut multipart: Multipart,
    allowed: &[&str],
    max: usize,
) -> Result<Upload, AppError> {
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max)
        } else {
            AppError::bad_request(ValidationErrors(vec![FieldError::new(
                "file",
                e.body_text(),
            )]))
        }
    };
    let mut upload = Upload {
        fields: Vec::new(),
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if !allowed.contains(&name.as_str()) {
            return Err(AppError::unprocessable(FieldError::with_allowed(
                &name,
                "unknown field of the form",
                allowed.iter().map(|a| a.to_string()).collect(),
            )));
        }
        let file_name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(failed)?;
        if name == "file" {
            upload.file = Some((file_name, bytes));
        } else {
            upload
                .fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok(upload)
}

/// The answer to a refused file.
pub(crate) fn refused(r: Refusal, what: &str) -> AppError {
    match r {
        Refusal::TooLarge(max) => too_large(max),
        Refusal::NotADocument => AppError::status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("the file is not {what} (checked by content)"),
        ),
    }
}

const CANDIDATE_FILES: &str = "a PDF, DOC, DOCX, ODT, JPG or PNG file";

fn document_json(d: &Document) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "kind": d.kind,
        "name": d.name,
        "content_type": d.content_type,
        "size": d.size,
        "default": d.default,
        "uploaded_at": d.uploaded_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "url": format!("/api/v1/me/documents/{}", d.id),
    })
}

fn application_json(x: &Application, offer: Option<&crate::domain::Offer>) -> serde_json::Value {
    serde_json::json!({
        "id": x.id,
        "reference": x.reference,
        "title": x.title,
        "offer_state": offer.map(|o| o.state),
        "to": x.to,
        "documents": x.documents,
        "message": x.message,
        "sent_at": x.sent_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    })
}

/// The caller's documents: CVs, then letters, then others, the latest first.
#[utoipa::path(get, path = "/api/v1/me/documents", tag = "candidates",
    responses((status = 200, description = "`{\"documents\": [...]}`", body = Object)),
    security(("bearer" = [])))]
async fn list_documents(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let docs = with_candidates(&state, move |c| c.documents(&who)).await?;
    Ok(Json(serde_json::json!({
        "documents": docs.iter().map(document_json).collect::<Vec<_>>()
    })))
}

/// The form of a document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DocumentForm {
    /// The file: PDF, DOC, DOCX, ODT, JPG or PNG, 5 MB at most.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `cv`, `lettre` or `autre`.
    kind: String,
    /// Its name (the file's name when absent).
    name: Option<String>,
}

/// Adds a document (multipart: `file`, `kind` = cv | lettre | autre, `name`): 5 CVs, 5 letters
/// and 3 others at most, checked by content.
#[utoipa::path(post, path = "/api/v1/me/documents", tag = "candidates",
    request_body(content_type = "multipart/form-data", content = DocumentForm),
    responses((status = 201, description = "The document", body = Object),
              (status = 413, description = "Larger than 5 MB", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 415, description = "Not a PDF, DOC, DOCX, ODT, JPG or PNG file", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Kind unknown or full, name invalid, file missing", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn add_document(
    State(state): State<AppState>,
    Caller(who): Caller,
    multipart: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let up = read_upload(multipart, &["file", "kind", "name"], MAX_DOCUMENT_BYTES).await?;
    let kind = DocumentKind::parse("kind", up.get("kind")).map_err(AppError::unprocessable)?;
    let name = up.get("name").to_string();
    let (file_name, bytes) = up.file.ok_or_else(|| {
        AppError::unprocessable(FieldError::new(
            "file",
            "a multipart field named 'file' is required",
        ))
    })?;
    let d = with_candidates(&state, move |c| {
        c.add_document(&who, kind, &name, &file_name, &bytes)
    })
    .await?
    .map_err(|r| refused(r, CANDIDATE_FILES))?;
    Ok((StatusCode::CREATED, Json(document_json(&d))))
}

/// Downloads one of the caller's documents.
#[utoipa::path(get, path = "/api/v1/me/documents/{id}", tag = "candidates",
    params(("id" = u64, Path, description = "Document id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = String),
              (status = 404, description = "No such document", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn document_file(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<Response, AppError> {
    let (d, bytes) = with_candidates(&state, move |c| c.document_file(&who, id)).await?;
    Ok(crate::http::api::offers::file_response(
        &d.content_type,
        &d.file_name(),
        bytes,
    ))
}

/// `PATCH /api/v1/me/documents/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    /// A new name (1 to 120 characters).
    name: Option<String>,
    /// `true` makes it the default of its kind (the one chosen first when applying).
    default: Option<bool>,
}

/// Renames a document or makes it the default of its kind.
#[utoipa::path(patch, path = "/api/v1/me/documents/{id}", tag = "candidates",
    params(("id" = u64, Path, description = "Document id")), request_body = DocumentPatch,
    responses((status = 200, description = "The document", body = Object),
              (status = 404, description = "No such document", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Invalid name or body", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn change_document(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
    JsonBody(patch): JsonBody<DocumentPatch>,
) -> Result<Json<serde_json::Value>, AppError> {
    if patch.default == Some(false) {
        return Err(AppError::unprocessable(FieldError::new(
            "default",
            "only true: make another document the default instead",
        )));
    }
    let d = with_candidates(&state, move |c| {
        c.change_document(&who, id, patch.name.as_deref(), patch.default == Some(true))
    })
    .await?;
    Ok(Json(document_json(&d)))
}

/// The form of a replaced document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileForm {
    /// The new file: PDF, DOC, DOCX, ODT, JPG or PNG, 5 MB at most.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Replaces a document's file (multipart `file`); its name, kind and default stay.
#[utoipa::path(put, path = "/api/v1/me/documents/{id}/file", tag = "candidates",
    params(("id" = u64, Path, description = "Document id")),
    request_body(content_type = "multipart/form-data", content = FileForm),
    responses((status = 200, description = "The document", body = Object),
              (status = 404, description = "No such document", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than 5 MB", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 415, description = "Not a PDF, DOC, DOCX, ODT, JPG or PNG file", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "File missing", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn replace_document(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
    multipart: Multipart,
) -> Result<Json<serde_json::Value>, AppError> {
    let up = read_upload(multipart, &["file"], MAX_DOCUMENT_BYTES).await?;
    let (_, bytes) = up.file.ok_or_else(|| {
        AppError::unprocessable(FieldError::new(
            "file",
            "a multipart field named 'file' is required",
        ))
    })?;
    let d = with_candidates(&state, move |c| c.replace_document(&who, id, &bytes))
        .await?
        .map_err(|r| refused(r, CANDIDATE_FILES))?;
    Ok(Json(document_json(&d)))
}

/// Deletes a document and its file.
#[utoipa::path(delete, path = "/api/v1/me/documents/{id}", tag = "candidates",
    params(("id" = u64, Path, description = "Document id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such document", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_document(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(RecordId(id)): Path<RecordId>,
) -> Result<StatusCode, AppError> {
    with_candidates(&state, move |c| c.delete_document(&who, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/offers/{reference}/applications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// Ids of the caller's documents to attach (1 to 5, 10 MB in all).
    #[schema(value_type = Vec<u64>)]
    documents: Vec<RecordId>,
    /// The message to the recruiter (1 to 4000 characters).
    message: String,
}

/// Applies to an offer applied to by e-mail: one mail to its application contact with the
/// documents attached (answers go to the candidate), a copy to the candidate; 20 a day.
#[utoipa::path(post, path = "/api/v1/offers/{reference}/applications", tag = "candidates",
    params(("reference" = String, Path, description = "`A-YYYY-NNNN` or `S-YYYY-NNNN`")),
    request_body = ApplicationInput,
    responses((status = 201, description = "The application", body = Object),
              (status = 404, description = "No visible offer of that reference", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 409, description = "The offer is not applied to by e-mail, or the address is unconfirmed", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Documents or message invalid", body = crate::http::Problem, content_type = "application/problem+json"),
              (status = 429, description = "20 applications in the last 24 hours", body = crate::http::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn apply(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(reference): Path<String>,
    JsonBody(input): JsonBody<ApplicationInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let ids: Vec<u64> = input.documents.iter().map(|d| d.0).collect();
    let (x, offer) = with_candidates(&state, move |c| {
        c.apply(&who, &reference, &ids, &input.message)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(application_json(&x, Some(&offer))),
    ))
}

/// The caller's applications, the latest first, with the offer's state now.
#[utoipa::path(get, path = "/api/v1/me/applications", tag = "candidates",
    responses((status = 200, description = "`{\"applications\": [...]}`", body = Object)),
    security(("bearer" = [])))]
async fn list_applications(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let list = with_candidates(&state, move |c| c.applications(&who)).await?;
    Ok(Json(serde_json::json!({
        "applications": list.iter().map(|(x, o)| application_json(x, o.as_ref())).collect::<Vec<_>>(),
        "page": links::APPLICATIONS,
    })))
}
