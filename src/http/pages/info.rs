//! The information pages a French public site owes its visitors, linked from every page's
//! footer: the legal notice, personal data, the accessibility statement, the terms of use, the
//! site map and the help. The operator's identity comes from the configuration; a setting left
//! unset shows « à compléter » in its place (and the server warns at start).

use super::*;
use crate::config::Config;
use crate::mail::html_escape;
use axum::extract::State;

/// Every information page.
pub(super) fn router() -> OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(legal_notice))
        .routes(routes!(privacy))
        .routes(routes!(accessibility))
        .routes(routes!(terms))
        .routes(routes!(site_map))
        .routes(routes!(help))
}

/// The operator's identity as the pages show it: each value escaped, or a visible
/// « à compléter ».
pub(crate) struct Identity {
    pub site: String,
    pub operator_name: String,
    pub operator_address: String,
    pub publication_director: String,
    pub host_name: String,
    pub dpo_email: String,
    pub contact_email: String,
}

/// A configured value, or the mark of a setting to fill in.
fn shown(v: Option<&str>) -> String {
    match v {
        Some(v) => html_escape(v),
        None => "<strong class=\"ow-todo\">à compléter</strong>".into(),
    }
}

/// An address as a link, or the mark of a setting to fill in.
fn mailto(v: Option<&str>) -> String {
    match v {
        Some(v) => format!("<a href=\"mailto:{0}\">{0}</a>", html_escape(v)),
        None => shown(None),
    }
}

impl Identity {
    pub(crate) fn of(c: &Config) -> Identity {
        Identity {
            site: c.site_name.clone(),
            operator_name: shown(c.operator_name.as_deref()),
            operator_address: shown(c.operator_address.as_deref()),
            publication_director: shown(c.publication_director.as_deref()),
            host_name: shown(c.host_name.as_deref()),
            dpo_email: mailto(c.dpo_email.as_deref()),
            contact_email: mailto(c.contact_email.as_deref()),
        }
    }
}

macro_rules! info_page {
    ($name:ident, $file:literal) => {
        #[derive(Template)]
        #[template(path = $file)]
        struct $name {
            ctx: Ctx,
            id: Identity,
        }
    };
}

info_page!(LegalNotice, "info/mentions.html");
info_page!(Privacy, "info/privacy.html");
info_page!(Accessibility, "info/accessibility.html");
info_page!(Terms, "info/terms.html");
info_page!(SiteMap, "info/sitemap.html");
info_page!(Help, "info/help.html");

/// The page of `title` in the breadcrumbs.
fn page(state: &AppState, v: &Visitor, title: &str) -> (Ctx, Identity) {
    (v.ctx(&[(title, None)]), Identity::of(&state.config))
}

/// "Mentions légales": publisher, director of publication, host.
#[utoipa::path(get, path = links::LEGAL_NOTICE, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn legal_notice(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Mentions légales");
    render(&v, StatusCode::OK, LegalNotice { ctx, id })
}

/// "Données personnelles": what is kept of whom, why, how long, and the rights.
#[utoipa::path(get, path = links::PRIVACY, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn privacy(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Données personnelles");
    render(&v, StatusCode::OK, Privacy { ctx, id })
}

/// The RGAA accessibility statement.
#[utoipa::path(get, path = links::ACCESSIBILITY, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn accessibility(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Déclaration d'accessibilité");
    render(&v, StatusCode::OK, Accessibility { ctx, id })
}

/// The terms of use (their version is stored with each account that accepts them).
#[utoipa::path(get, path = links::TERMS, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn terms(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Conditions générales d'utilisation");
    render(&v, StatusCode::OK, Terms { ctx, id })
}

/// "Plan du site".
#[utoipa::path(get, path = links::SITE_MAP, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn site_map(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Plan du site");
    render(&v, StatusCode::OK, SiteMap { ctx, id })
}

/// "Aide": the questions of candidates and of recruiters.
#[utoipa::path(get, path = links::HELP, tag = "portal",
    responses((status = 200, description = "HTML", content_type = "text/html", body = String)))]
async fn help(State(state): State<AppState>, v: Visitor) -> Response {
    let (ctx, id) = page(&state, &v, "Aide");
    render(&v, StatusCode::OK, Help { ctx, id })
}
