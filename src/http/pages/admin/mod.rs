//! The administrators' pages: recruiter requests (approve, or refuse with a mailed reason), the
//! organisation's services (add, rename), the accounts (disable, re-enable, memberships) and
//! every offer (withdraw one that breaks the rules, the reason mailed to its service).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::recruiter::{ListQuery, Lookups, administration_groups, offers_list};
use super::{Ctx, Field, Form, FormPage, Visitor, date_fr, error_page, explain, render, see_other};
use crate::backoffice::Backoffice;
use crate::domain::account::{Account, AccountState, Role, Service};
use crate::domain::{OfferState, referentials};
use crate::error::Error;
use crate::http::error::status_of;
use crate::http::extract::RecordId;
use crate::http::pages::Notice;
use crate::http::pages::{OrPage, PageError, PageResult};
use crate::http::{AppState, with_backoffice};
use crate::links;

mod accounts;
mod administrations;
mod offers;
mod reports;
mod requests;
mod services;
pub(crate) use accounts::*;
pub(crate) use administrations::*;
pub(crate) use offers::*;
pub(crate) use reports::*;
pub(crate) use requests::*;
pub(crate) use services::*;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(requests_page))
        .routes(routes!(approve))
        .routes(routes!(refuse))
        .routes(routes!(services_page, add_service))
        .routes(routes!(administrations_page, add_administration))
        .routes(routes!(rename_administration))
        .routes(routes!(service_page, rename_service))
        .routes(routes!(service_details))
        .routes(routes!(service_delete))
        .routes(routes!(merge_page, merge_submit))
        .routes(routes!(accounts_page))
        .routes(routes!(accounts_csv_page))
        .routes(routes!(add_membership))
        .routes(routes!(remove_membership))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(offers_page))
        .routes(routes!(offers_csv_page))
        .routes(routes!(moderate_page, moderate_submit))
        .routes(routes!(reports_page))
        .routes(routes!(handle_report))
}

/// What was just done, or what failed (shown once).
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct NoticeQuery {
    /// What was just done.
    #[serde(default)]
    fait: String,
}

/// The admin behind the request, or the answer to give instead.
fn admin_of(v: &Visitor, back: &str) -> Result<Account, PageError> {
    v.require(Role::Admin, back).cloned()
}

/// Checks the CSRF token and the role of a changing form.
fn changing(v: &Visitor, body: &Bytes) -> Result<(Account, Form), PageError> {
    v.changing(Role::Admin, links::ADMIN_REQUESTS, body)
}
