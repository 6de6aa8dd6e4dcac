//! The recruiter's back office in pages: the account request (the organisation tree in steps
//! that need no JavaScript), "Mes offres", the offer form, its lifecycle actions, the renewal
//! of its diffusion, its attachments and its history.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{
    Ctx, Field, Form, FormPage, OptGroup, Section, Visitor, date_fr, error_page, kind_of,
    message_page, read_multipart, render, see_other, size_fr,
};
use crate::backoffice::{Backoffice, MAX_ATTACHMENTS, RecruiterRequest, Refusal};
use crate::domain::account::{Account, Role, Service};
use crate::domain::offer::iso_date;
use crate::domain::{Facet, Offer, OfferInput, OfferState, referentials};
use crate::error::Error;
use crate::http::error::status_of;
use crate::http::pages::Notice;
use crate::http::pages::{OrPage, PageError, PageResult};
use crate::http::{AppState, with_backoffice};
use crate::links;
use crate::links::offer_path;

mod attachments;
mod edit;
mod form;
mod list;
mod request;
pub(crate) use attachments::*;
pub(crate) use edit::*;
pub(crate) use form::*;
pub(crate) use list::*;
pub(crate) use request::*;

/// The recruiter behind the request, or the answer to give instead.
fn recruiter(v: &Visitor, back: &str) -> Result<Account, PageError> {
    v.require(Role::Recruiter, back).cloned()
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_page, request_submit))
        .routes(routes!(offers_page))
        .routes(routes!(offers_csv_page))
        .routes(routes!(new_offer_page, new_offer_submit))
        .routes(routes!(offer_page, offer_submit))
        .routes(routes!(offer_action))
        .routes(routes!(transfer_submit))
        .routes(routes!(preview_page))
        .routes(routes!(renew))
        .routes(routes!(delete_page, delete_submit))
        .routes(routes!(upload).layer(DefaultBodyLimit::max(16 * 1024 * 1024)))
        .routes(routes!(download))
        .routes(routes!(remove_attachment))
}

/// Options of a facet's referential (code, label).
pub(crate) fn facet_options(facet: Facet) -> Vec<(String, String)> {
    let v = facet.values();
    (0..v.len() as u16)
        .map(|i| (v.code(i).to_string(), v.label(i).to_string()))
        .collect()
}
