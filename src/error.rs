//! The library's error types: user errors that name a field, and internal failures.

use serde::Serialize;

/// What is wrong with a field, as a stable code: clients and the pages (which say it in
/// French) rely on it; the message says it in English words, with the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// Wrong in a way its message tells.
    #[default]
    Invalid,
    /// Missing.
    Required,
    /// Not one of the allowed values (listed).
    NotAllowed,
    /// Not an e-mail address.
    NotAnEmail,
    /// Not a phone number.
    NotAPhone,
    /// Not an http:// or https:// URL.
    NotAUrl,
    /// A new password shorter than 12 characters.
    PasswordTooShort,
    /// A new password with fewer than three kinds of characters.
    PasswordTooSimple,
    /// A new password containing the account's address.
    PasswordHasEmail,
    /// A change that needs the current password, which was not given.
    CurrentPasswordRequired,
    /// A password that is not the account's.
    NotYourPassword,
    /// A password and its confirmation that differ.
    PasswordsDiffer,
    /// A one-time link unknown, used or expired.
    BadLink,
    /// An offer without a way to apply (an address or a web page).
    ContactRequired,
    /// A date that must come after today.
    NotAfterToday,
    /// A date more than a year ahead.
    TooFarAhead,
    /// An address or username that another account uses.
    AlreadyUsed,
}

/// One faulty field of an input: which field, what was wrong, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Name of the field or parameter, as the API spells it.
    pub field: String,
    /// What is wrong with it, as a stable code.
    pub code: FieldCode,
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
            code: FieldCode::Invalid,
            message: message.into(),
            allowed: Vec::new(),
        }
    }

    /// A missing `field`.
    pub fn required(field: impl Into<String>) -> Self {
        FieldError::new(field, "is required").coded(FieldCode::Required)
    }

    /// The error with its code.
    pub fn coded(mut self, code: FieldCode) -> Self {
        self.code = code;
        self
    }

    /// An error on `field` listing the allowed values.
    pub fn with_allowed(
        field: impl Into<String>,
        message: impl Into<String>,
        allowed: Vec<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: FieldCode::NotAllowed,
            message: message.into(),
            allowed,
        }
    }
}

/// Faulty fields an answer lists; the others are counted.
pub const MAX_REPORTED_FIELDS: usize = 20;
/// Allowed values an answer lists for one field (the referentials' longest list is shorter).
const MAX_ALLOWED_LISTED: usize = 300;

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
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

    /// The errors as an answer may carry them, small whatever the input: one error per field
    /// (a field named several times says how many more of its values were wrong), its allowed
    /// values once, each name and message cut to a bounded length, at most
    /// [`MAX_REPORTED_FIELDS`] fields and a last entry counting the others.
    pub fn compact(self) -> ValidationErrors {
        let mut out: Vec<(FieldError, usize)> = Vec::new();
        for e in self.0 {
            match out.iter_mut().find(|(o, _)| o.field == e.field) {
                Some((_, more)) => *more += 1,
                None => out.push((e, 0)),
            }
        }
        let total = out.len();
        let mut errors: Vec<FieldError> = out
            .into_iter()
            .take(MAX_REPORTED_FIELDS)
            .map(|(mut e, more)| {
                e.field = cut(&e.field, 80);
                e.message = cut(&e.message, 300);
                if more > 0 {
                    e.message = format!("{} (and {more} more wrong values)", e.message);
                }
                e.allowed.truncate(MAX_ALLOWED_LISTED);
                e.allowed.iter_mut().for_each(|a| *a = cut(a, 80));
                e
            })
            .collect();
        if total > MAX_REPORTED_FIELDS {
            errors.push(FieldError::new(
                "…",
                format!(
                    "{} more faulty fields not listed",
                    total - MAX_REPORTED_FIELDS
                ),
            ));
        }
        ValidationErrors(errors)
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
    /// A body or form is invalid; the caller can fix it (422).
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    /// Request parameters (query string, path) are invalid (400).
    #[error("invalid parameters: {0}")]
    BadRequest(ValidationErrors),
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
    /// An address or username that another account already uses (a conflict).
    #[error("conflict: {0}")]
    AlreadyUsed(String),
    /// Too many attempts; the caller may retry after this many seconds.
    #[error("too many attempts; retry in {0} s")]
    TooMany(u64),
    /// The service cannot do this now (busy, or its database is away); the caller may retry
    /// after this many seconds.
    #[error("temporarily unavailable: {0}; retry in {1} s")]
    Unavailable(String, u64),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// A layer below failed (redb, PostgreSQL, a record's JSON): what was being done, and the
    /// failure itself, kept as the error's source.
    #[error("{doing}: {}", chain(source.as_ref()))]
    Failed {
        /// What was being done.
        doing: &'static str,
        /// The failure below.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
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

/// What an error is to the person who caused it: the HTTP status the API and the pages answer
/// with, the problem title, and whether it is the caller's fault (shown as is) or internal
/// (logged, answered without detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    /// The HTTP status.
    pub status: u16,
    /// The problem title (RFC 9457), stable per kind.
    pub title: &'static str,
    /// True when the caller can fix it; false for internal failures.
    pub user_fault: bool,
    /// A stable code of the kind, for clients (`invalid_body`, `not_found`…).
    pub code: &'static str,
}

impl Error {
    /// The one table from error to status and title, for the API and the pages alike.
    pub fn kind(&self) -> ErrorKind {
        let (status, title, user_fault, code) = match self {
            Error::Invalid(_) => (422, "Invalid body", true, "invalid_body"),
            Error::BadRequest(_) => (
                400,
                "Invalid request parameters",
                true,
                "invalid_parameters",
            ),
            Error::NotFound(_) => (404, "Not found", true, "not_found"),
            Error::Unauthorized(_) => (401, "Unauthorized", true, "unauthorized"),
            Error::Forbidden(_) => (403, "Forbidden", true, "forbidden"),
            Error::Conflict(_) => (409, "Conflict", true, "conflict"),
            Error::AlreadyUsed(_) => (409, "Conflict", true, "already_used"),
            Error::TooMany(_) => (429, "Too many requests", true, "too_many_requests"),
            Error::Unavailable(..) => (503, "Service unavailable", true, "unavailable"),
            Error::Store(_)
            | Error::Failed { .. }
            | Error::Index(_)
            | Error::Io(_)
            | Error::Internal(_) => (500, "Internal error", false, "internal"),
        };
        ErrorKind {
            status,
            title,
            user_fault,
            code,
        }
    }

    /// The faulty fields of an input error (empty for other kinds).
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Error::Invalid(v) | Error::BadRequest(v) => &v.0,
            _ => &[],
        }
    }

    /// A failure of the layer below while `doing` something, kept as the source.
    pub fn failed(doing: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Failed {
            doing,
            source: Box::new(e),
        }
    }

    /// One faulty field as a 422.
    pub fn invalid(e: FieldError) -> Error {
        Error::Invalid(ValidationErrors(vec![e]))
    }
}

/// An error and its causes, each said once (a cause that repeats its error's words is left out).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut words = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !words.contains(&said) {
            words.push_str(": ");
            words.push_str(&said);
        }
        cause = c.source();
    }
    words
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! store_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::failed("store (redb)", e)
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
        Error::failed("json", e)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_below_is_kept_as_the_source() {
        let json = serde_json::from_str::<u8>("[").unwrap_err();
        let e = Error::failed("corrupt record", json);
        assert_eq!(e.kind().code, "internal");
        let source = std::error::Error::source(&e).expect("a source");
        assert!(source.is::<serde_json::Error>());
        assert!(
            e.to_string().starts_with("corrupt record: invalid type"),
            "{e}"
        );
        let io = std::io::Error::other("disk gone");
        let e = Error::from(redb::StorageError::from(io));
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().contains("disk gone"), "{e}");
    }
}
