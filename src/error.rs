//! The library's error types: user errors that name a field, and internal failures.

use serde::Serialize;

/// One faulty field of an input: which field, what was wrong, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Name of the field or parameter, as the API spells it.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
    /// The allowed values when they form a closed list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

impl FieldError {
    /// An error on `field` without a list of allowed values.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            allowed: Vec::new(),
        }
    }

    /// An error on `field` listing the allowed values.
    pub fn with_allowed(
        field: impl Into<String>,
        message: impl Into<String>,
        allowed: Vec<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            allowed,
        }
    }
}

/// Every faulty field of one input, collected rather than stopping at the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Adds an error.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
            if !e.allowed.is_empty() {
                let shown: Vec<&str> = e.allowed.iter().take(12).map(String::as_str).collect();
                write!(f, " (allowed: {}", shown.join(", "))?;
                if e.allowed.len() > shown.len() {
                    write!(f, ", … {} in all", e.allowed.len())?;
                }
                write!(f, ")")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// The engine's error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is invalid; the caller can fix it.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Credentials are missing, wrong or expired.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Credentials are valid but do not allow this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A file could not be read or written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else internal.
    #[error("internal: {0}")]
    Internal(String),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! store_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Store(e.to_string())
            }
        }
    )*};
}
store_error!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Error::Index(e.into())
    }
}

impl From<tantivy::query::QueryParserError> for Error {
    fn from(e: tantivy::query::QueryParserError) -> Self {
        Error::Index(e.into())
    }
}
