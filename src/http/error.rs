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
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl AppError {
    /// A 400 for bad parameters.
    pub fn bad_request(errors: ValidationErrors) -> Self {
        AppError {
            status: StatusCode::BAD_REQUEST,
            title: "Invalid request parameters",
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
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// The same error with another status, for input errors that are query parameters (400).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        if self.status == StatusCode::UNPROCESSABLE_ENTITY {
            self.status = status;
        }
        self
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

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(v) => AppError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Invalid body",
                detail: v.to_string(),
                errors: v.0,
                retry_after: None,
            },
            Error::NotFound(what) => AppError::not_found(what),
            Error::Conflict(what) => AppError::status(StatusCode::CONFLICT, "Conflict", what),
            Error::Unauthorized(what) => {
                AppError::status(StatusCode::UNAUTHORIZED, "Unauthorized", what)
            }
            Error::Forbidden(what) => AppError::status(StatusCode::FORBIDDEN, "Forbidden", what),
            other => AppError::internal(other),
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
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.errors,
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
