//! The server-rendered French pages, in the State's design system (DSFR), working without
//! JavaScript: the portal (search, offer), sessions (`/connexion`), the recruiter's back office
//! and the administrators' pages. Every page answers with the status of the one error table;
//! sessions are `HttpOnly; SameSite=Lax` cookies and every form that changes something carries
//! a CSRF token (the HMAC of a random cookie).

// A page answers early with a whole response (a redirect to the login page, a refusal): once per
// request, never on a hot path, so the size of that `Err` does not matter.
#![allow(clippy::result_large_err)]

mod account;
mod admin;
mod answers;
mod candidate;
mod contact;
mod forms;
mod info;
pub(crate) mod members;
mod notice;
pub(crate) mod portal;
mod recruiter;
mod sessions;
mod stats;
mod visitor;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{Auth, new_token};
use crate::domain::account::{Account, Role};
use crate::error::{Error, FieldError};
use crate::http::{AppState, blocking};
use crate::links;

pub(crate) use answers::*;
pub(crate) use forms::*;
pub(crate) use notice::Notice;
pub(crate) use visitor::*;

/// Every page's routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(portal::router())
        .merge(sessions::router())
        .merge(recruiter::router())
        .merge(admin::router())
        .merge(candidate::router())
        .merge(stats::router())
        .merge(info::router())
        .merge(contact::router())
        .merge(account::router())
        .merge(members::router())
}

pub(crate) const SESSION_COOKIE: &str = "ow_session";
const CSRF_COOKIE: &str = "ow_csrf";

/// The honeypot field of the public forms.
pub(crate) const HONEYPOT: &str = "site_web";
