//! The public portal, server-rendered in French: the search page with disjunctive facet counts,
//! offer pages with previous/next navigation inside the search, and the error pages. Every
//! page's state lives in its URL, with the API's parameter names.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::body::Bytes;

use super::{
    Ctx, Field, Form, FormPage, Visitor, date_fr, message_page, message_with_links, render,
};
use crate::auth::Auth;
use crate::candidates::{Candidates, NewSearch};
use crate::domain::account::Role;
use crate::domain::{Facet, Offer, SearchParams, Sort, referentials};
use crate::http::api::offers::run_search;
use crate::http::error::status_of;
use crate::http::pages::PageResult;
use crate::http::{AppState, query_pairs};
use crate::index::FacetCounts;
use crate::links;

mod alert;
mod offer;
mod search;
pub(crate) use alert::*;
pub(crate) use offer::*;
pub(crate) use search::*;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_page))
        .routes(routes!(offer_page))
        .routes(routes!(apply_click))
        .routes(routes!(alert_page, create_alert))
        .routes(routes!(unsubscribe_page, unsubscribe))
}
