//! The candidate's space in pages: the sign-up (`/compte/nouveau`), "Mon compte" (details,
//! address — confirmed again —, password, the export of every personal datum, deletion) and
//! "Mes recherches" (run again, rename, frequency, the bell that switches the alert on and off,
//! delete); and password recovery for every role at `/mot-de-passe-oublie`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{
    Ctx, Field, Form, FormPage, Visitor, error_page, explain, message_with_links, render, see_other,
};
use crate::auth::{not_your_password, verify_password};
use crate::candidates::MAX_DOCUMENT_BYTES;
use crate::candidates::SearchPatch;
use crate::domain::Facet;
use crate::domain::account::{Account, Frequency, Role, SavedSearch};
use crate::error::{Error, FieldError};
use crate::http::error::status_of;
use crate::http::extract::{ClientIp, RecordId};
use crate::http::pages::Notice;
use crate::http::pages::{OrPage, PageError, PageResult};
use crate::http::{AppState, with_auth, with_candidates};
use crate::links;

mod account;
mod documents;
mod favorites;
mod recovery;
mod searches;
mod signup;
pub(crate) use account::*;
pub(crate) use documents::*;
pub(crate) use favorites::*;
pub(crate) use recovery::*;
pub(crate) use searches::*;
pub(crate) use signup::*;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup_page, signup_submit))
        .routes(routes!(account_page))
        .routes(routes!(update_details))
        .routes(routes!(update_email))
        .routes(routes!(update_password))
        .routes(routes!(close_sessions))
        .routes(routes!(export))
        .routes(routes!(delete_page, delete_submit))
        .routes(routes!(searches_page))
        .routes(routes!(favorites_page, toggle_favorite))
        .routes(routes!(standby_page, standby_submit))
        .routes(
            routes!(documents_page, add_document)
                .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + 64 * 1024)),
        )
        .routes(routes!(document_action))
        .routes(
            routes!(document_download, document_replace)
                .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + 64 * 1024)),
        )
        .routes(routes!(applications_page))
        .routes(routes!(apply_page, apply_submit))
        .routes(routes!(update_search))
        .routes(routes!(delete_search))
        .routes(routes!(recovery_page, recovery_submit))
}

/// What was just done (shown once).
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DoneQuery {
    /// What was just done.
    #[serde(default)]
    pub(crate) fait: String,
}

fn candidate(v: &Visitor, back: &str) -> Result<Account, PageError> {
    v.require(Role::Candidate, back).cloned()
}

fn changing(v: &Visitor, body: &Bytes, back: &str) -> Result<(Account, Form), PageError> {
    v.changing(Role::Candidate, back, body)
}
