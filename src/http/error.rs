//! Every error answer is `application/problem+json` (RFC 9457). User errors say what was wrong
//! and what is allowed; internal errors are logged and answered without detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Error, FieldError, ValidationErrors};

/// An error answer.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    title: &'static str,
    /// The stable code of the kind (`invalid_body`, `not_found`, `already_used`…).
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
}

/// The problem+json error body (RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    kind: String,
    /// The kind's stable title.
    title: &'static str,
    /// The kind's stable code, for programs: `invalid_parameters`, `invalid_body`,
    /// `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, `conflict`,
    /// `already_used`, `payload_too_large`, `unsupported_media_type`, `too_many_requests`,
    /// `unavailable`, `internal`.
    code: &'static str,
    /// The HTTP status.
    status: u16,
    /// What went wrong, in plain words.
    detail: String,
    /// The faulty fields of an input, each with what is allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl AppError {
    /// A 400 for bad parameters.
    pub fn bad_request(errors: ValidationErrors) -> Self {
        let errors = errors.compact();
        AppError {
            status: StatusCode::BAD_REQUEST,
            title: "Invalid request parameters",
            code: "invalid_parameters",
            detail: errors.to_string(),
            errors: errors.0,
            retry_after: None,
        }
    }

    /// A 422 for one faulty field.
    pub fn unprocessable(e: FieldError) -> Self {
        AppError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid body",
            code: "invalid_body",
            detail: format!("{}: {}", e.field, e.message),
            errors: vec![e],
            retry_after: None,
        }
    }

    /// An answer with this status and detail.
    pub fn status(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        AppError {
            status,
            title,
            code: code_of(status),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::NOT_FOUND, "Not found", detail)
    }

    /// A 429 with `Retry-After`.
    pub fn too_many(retry_after: u64) -> Self {
        AppError {
            retry_after: Some(retry_after),
            ..Self::status(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                format!("rate limit exceeded; retry in {retry_after} s"),
            )
        }
    }

    /// A 500 that leaks nothing; the cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the server failed to answer; the error was logged",
        )
    }
}

/// The code of an answer made from its status alone (the framework's refusals, the limits).
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_parameters",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_body",
        429 => "too_many_requests",
        503 => "unavailable",
        _ => "internal",
    }
}

/// The status of an error, from the one table ([`Error::kind`]); pages answer with it too.
pub fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.kind().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        if !kind.user_fault {
            return AppError::internal(e);
        }
        let status = status_of(&e);
        let retry_after = match e {
            Error::TooMany(s) | Error::Unavailable(_, s) => Some(s),
            _ => None,
        };
        let e = match e {
            Error::Invalid(v) => Error::Invalid(v.compact()),
            Error::BadRequest(v) => Error::BadRequest(v.compact()),
            other => other,
        };
        let detail = match &e {
            Error::Invalid(v) | Error::BadRequest(v) => v.to_string(),
            Error::NotFound(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::Conflict(m)
            | Error::AlreadyUsed(m) => m.clone(),
            Error::Unavailable(m, s) => format!("{m}; retry in {s} s"),
            other => other.to_string(),
        };
        let errors = match e {
            Error::Invalid(v) | Error::BadRequest(v) => v.0,
            _ => Vec::new(),
        };
        AppError {
            status,
            title: kind.title,
            code: kind.code,
            detail,
            errors,
            retry_after,
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let slug = self.title.to_lowercase().replace(' ', "-");
        let body = serde_json::to_vec(&Problem {
            kind: format!("https://offerwatch.example/problems/{slug}"),
            title: self.title,
            code: self.code,
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        })
        .unwrap_or_default();
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}
