//! The server-rendered French pages, in the State's design system (DSFR), working without
//! JavaScript: the portal (search, offer), sessions (`/connexion`), the recruiter's back office
//! and the administrators' pages. Every page answers with the status of the one error table;
//! sessions are `HttpOnly; SameSite=Lax` cookies and every form that changes something carries
//! a CSRF token (the HMAC of a random cookie).

// A page answers early with a whole response (a redirect to the login page, a refusal): once per
// request, never on a hot path, so the size of that `Err` does not matter.
#![allow(clippy::result_large_err)]

mod admin;
mod candidate;
pub(crate) mod portal;
mod recruiter;
mod sessions;
mod stats;

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

/// Every page's routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(portal::router())
        .merge(sessions::router())
        .merge(recruiter::router())
        .merge(admin::router())
        .merge(candidate::router())
        .merge(stats::router())
}

pub(crate) const SESSION_COOKIE: &str = "ow_session";
const CSRF_COOKIE: &str = "ow_csrf";

/// One step of the breadcrumbs: a link, or the current page (no link).
pub(crate) struct Crumb {
    pub label: String,
    pub url: Option<String>,
}

/// Who is logged in, as the header shows it.
pub(crate) struct Who {
    pub name: String,
    pub space_url: &'static str,
    pub space_label: &'static str,
}

/// What the layout of every page needs.
pub(crate) struct Ctx {
    pub who: Option<Who>,
    pub crumbs: Vec<Crumb>,
    pub csrf: String,
}

/// The honeypot field of the public forms.
pub(crate) const HONEYPOT: &str = "site_web";

/// The person behind a request: their session's account if any, and the CSRF cookie (made
/// when absent). Never rejects: a page decides what an anonymous visitor gets.
pub(crate) struct Visitor {
    pub account: Option<Account>,
    pub session: Option<String>,
    /// The session could not be checked: the store is away (its private pages answer 503).
    unavailable: Option<u64>,
    csrf_cookie: String,
    new_csrf: bool,
    csrf: String,
    secure: bool,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let (csrf_cookie, new_csrf) = match cookie(&parts.headers, CSRF_COOKIE) {
            Some(c) => (c.to_string(), false),
            None => (new_token().0, true),
        };
        let csrf = state
            .signer
            .sign(format!("csrf:{csrf_cookie}").as_bytes())
            .unwrap_or_default();
        let (account, unavailable) = match &session {
            Some(token) => {
                let (engine, links, token) =
                    (state.engine.clone(), state.links.clone(), token.clone());
                match blocking(move || Ok(Auth::new(&engine, &links).authenticate(&token))).await {
                    Ok(Ok(a)) => (Some(a), None),
                    Ok(Err(Error::Unavailable(_, wait))) => (None, Some(wait)),
                    _ => (None, None),
                }
            }
            None => (None, None),
        };
        Ok(Visitor {
            account,
            session,
            unavailable,
            csrf_cookie,
            new_csrf,
            csrf,
            secure: state.config.base_url().starts_with("https://"),
        })
    }
}

impl Visitor {
    /// A visitor known by nothing (for answers made outside a handler).
    pub fn anonymous(secure: bool) -> Visitor {
        Visitor {
            account: None,
            session: None,
            unavailable: None,
            csrf_cookie: String::new(),
            new_csrf: false,
            csrf: String::new(),
            secure,
        }
    }

    /// The layout of a page with these breadcrumbs (after "Accueil").
    pub fn ctx(&self, crumbs: &[(&str, Option<&str>)]) -> Ctx {
        let mut all = vec![Crumb {
            label: "Accueil".into(),
            url: Some("/".into()),
        }];
        all.extend(crumbs.iter().map(|(label, url)| Crumb {
            label: label.to_string(),
            url: url.map(str::to_string),
        }));
        if crumbs.is_empty() {
            all.clear();
        }
        Ctx {
            who: self.account.as_ref().map(|a| Who {
                name: format!("{} {}", a.first_name, a.last_name),
                space_url: space_of(a.role),
                space_label: match a.role {
                    Role::Candidate => "Mon compte",
                    Role::Recruiter => "Mes offres",
                    Role::Admin => "Administration",
                },
            }),
            crumbs: all,
            csrf: self.csrf.clone(),
        }
    }

    /// Refuses a changing form whose CSRF token is missing or wrong.
    pub fn check_csrf(&self, form: &Form) -> Result<(), Response> {
        let given = form.get("csrf");
        if !self.new_csrf && !given.is_empty() && given == self.csrf {
            Ok(())
        } else {
            Err(message_page(
                self,
                StatusCode::FORBIDDEN,
                "Formulaire expiré",
                "Ce formulaire n'est plus valable (jeton de sécurité absent ou incorrect). Rechargez la page et recommencez.",
            ))
        }
    }

    /// The account if it has `role`, else a redirect to the login page (or a 403 page).
    pub fn require(&self, role: Role, back: &str) -> Result<&Account, Response> {
        if let Some(wait) = self.unavailable {
            return Err(error_page(
                self,
                &Error::Unavailable("the database cannot be reached".into(), wait),
            ));
        }
        match &self.account {
            Some(a) if a.role == role => Ok(a),
            Some(_) => Err(message_page(
                self,
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Votre compte ne donne pas accès à cette page.",
            )),
            None => Err(Redirect::to(&format!(
                "/connexion?{}",
                serde_urlencoded::to_string([("suite", back)]).unwrap_or_default()
            ))
            .into_response()),
        }
    }

    /// A form that changes something, from anyone: parsed, or the refusal of its CSRF token.
    pub fn form(&self, body: &[u8]) -> Result<Form, Response> {
        let form = Form::parse(body);
        self.check_csrf(&form)?;
        // The honeypot: a field no person sees (hidden by the stylesheet, out of the
        // accessibility tree), which form-filling robots fill.
        if !form.get(HONEYPOT).is_empty() {
            metrics::counter!("forms_honeypot_total").increment(1);
            return Err(message_page(
                self,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Formulaire refusé",
                "Le champ « Site web » doit rester vide. Rechargez la page et recommencez.",
            ));
        }
        Ok(form)
    }

    /// A form that changes something, from a person of `role`: the account and the parsed
    /// form, or the answer to give instead (the login page, a refusal, an expired form).
    pub fn changing(
        &self,
        role: Role,
        back: &str,
        body: &[u8],
    ) -> Result<(Account, Form), Response> {
        // The form first: a post without a valid form token is refused as such (403) whoever
        // sends it; one with a valid token from a visitor whose session ended leads to login.
        let form = self.form(body)?;
        Ok((self.require(role, back)?.clone(), form))
    }

    fn cookie_attrs(&self) -> String {
        format!(
            "Path=/; HttpOnly; SameSite=Lax{}",
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` of a new session.
    pub fn session_cookie(&self, token: &str) -> String {
        format!(
            "{SESSION_COOKIE}={token}; {}; Max-Age={}",
            self.cookie_attrs(),
            crate::auth::SESSION_HOURS * 3600
        )
    }

    /// `Set-Cookie` that ends the session.
    pub fn clear_session_cookie(&self) -> String {
        format!("{SESSION_COOKIE}=; {}; Max-Age=0", self.cookie_attrs())
    }

    /// Adds the CSRF cookie to an answer when the visitor had none.
    pub fn finish(&self, mut r: Response) -> Response {
        if self.new_csrf
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{CSRF_COOKIE}={}; {}",
                self.csrf_cookie,
                self.cookie_attrs()
            ))
        {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }
}

/// Unknown paths: a problem+json 404 under the API and the feeds, the 404 page elsewhere.
pub(crate) async fn fallback(v: Visitor, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path.starts_with("/feeds/") || path.starts_with("/static/") {
        crate::http::AppError::not_found("no such resource").into_response()
    } else {
        portal::not_found_page(&v)
    }
}

/// Where each role lands after logging in.
pub(crate) fn space_of(role: Role) -> &'static str {
    match role {
        Role::Candidate => "/compte",
        Role::Recruiter => "/recruteur/offres",
        Role::Admin => "/admin/demandes",
    }
}

/// A submitted form: its pairs, repeated names kept in order.
#[derive(Default)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Form {
        Form(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name` ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_string()).filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// One option of a select, in an optional group.
pub(crate) struct OptGroup {
    pub label: String,
    pub options: Vec<(String, String)>,
}

/// One input of a form, with its help text and its error.
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `email`, `tel`, `password`, `date`, `month`, `number`, `url`, `textarea`,
    /// `select`, `checkbox` or `hidden`.
    pub kind: &'static str,
    pub value: String,
    pub groups: Vec<OptGroup>,
    pub error: Option<String>,
    pub required: bool,
    pub autocomplete: &'static str,
}

impl Field {
    /// An input.
    pub fn new(name: &str, label: &str, kind: &'static str, value: &str) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            hint: String::new(),
            kind,
            value: value.into(),
            groups: Vec::new(),
            error: None,
            required: false,
            autocomplete: "",
        }
    }

    /// With a help text.
    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = hint.into();
        self
    }

    /// Marked required.
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// With an `autocomplete` token.
    pub fn autocomplete(mut self, token: &'static str) -> Field {
        self.autocomplete = token;
        self
    }

    /// A select's options (one group without a label).
    pub fn options(mut self, options: Vec<(String, String)>) -> Field {
        self.groups = vec![OptGroup {
            label: String::new(),
            options,
        }];
        self
    }

    /// A select's grouped options.
    pub fn groups(mut self, groups: Vec<OptGroup>) -> Field {
        self.groups = groups;
        self
    }
}

/// Puts each field error next to its field; the others are returned (shown at the top).
pub(crate) fn attach_errors(fields: &mut [Field], errors: &[FieldError]) -> Vec<String> {
    let mut rest = Vec::new();
    for e in errors {
        let message = french(&e.message);
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) => {
                f.error = Some(match f.error.take() {
                    Some(prev) => format!("{prev} ; {message}"),
                    None => message,
                })
            }
            None => rest.push(format!("{} : {message}", e.field)),
        }
    }
    rest
}

/// The validators' messages, in French for the pages.
fn french(message: &str) -> String {
    let table: &[(&str, &str)] = &[
        (
            "is required and must be the current password",
            "Indiquez votre mot de passe actuel.",
        ),
        (
            "the two passwords differ",
            "Les deux mots de passe ne sont pas identiques.",
        ),
        ("is not your password", "Ce n'est pas votre mot de passe."),
        ("is required", "Ce champ est obligatoire."),
        (
            "is not an e-mail address",
            "n'est pas une adresse électronique valide.",
        ),
        (
            "is not a phone number",
            "n'est pas un numéro de téléphone valide.",
        ),
        (
            "must be an http:// or https:// URL",
            "Indiquez une adresse web commençant par http:// ou https://.",
        ),
        (
            "at least 12 characters are required",
            "Au moins 12 caractères sont nécessaires.",
        ),
        (
            "use at least three of",
            "Utilisez au moins trois sortes de caractères : minuscules, majuscules, chiffres, symboles.",
        ),
        (
            "must not contain the e-mail address",
            "Le mot de passe ne doit pas contenir l'adresse électronique.",
        ),
        (
            "unknown, used or expired link",
            "Ce lien est inconnu, déjà utilisé ou expiré.",
        ),
        (
            "one of contact_email or contact_url is required",
            "Indiquez une adresse électronique ou une adresse web pour postuler.",
        ),
        (
            "must be after today",
            "La date doit être postérieure à aujourd'hui.",
        ),
        ("at most one year ahead", "La date ne peut dépasser un an."),
        (
            "already used",
            "Cette adresse ou cet identifiant est déjà utilisé.",
        ),
    ];
    for &(en, fr) in table {
        if let Some(i) = message.find(en) {
            let before = message[..i].trim();
            return if before.is_empty() {
                fr.to_string()
            } else {
                format!("{before} {fr}")
            };
        }
    }
    message.to_string()
}

/// The message of an engine error for a person.
pub(crate) fn explain(e: &Error) -> String {
    match e {
        Error::Invalid(v) | Error::BadRequest(v) => {
            v.0.iter()
                .map(|f| format!("{} : {}", f.field, french(&f.message)))
                .collect::<Vec<_>>()
                .join(" ; ")
        }
        Error::Unauthorized(_) => "Identifiant ou mot de passe incorrect.".into(),
        Error::TooMany(wait) => format!(
            "Trop de tentatives : réessayez dans {} minutes.",
            wait.div_ceil(60)
        ),
        Error::Conflict(m) | Error::NotFound(m) | Error::Forbidden(m) => french(m),
        Error::Unavailable(..) => {
            "Le service est momentanément indisponible : réessayez dans quelques instants.".into()
        }
        _ => "Le service n'a pas pu répondre ; réessayez plus tard.".into(),
    }
}

/// Renders a template with a status; the visitor's CSRF cookie is set when new.
pub(crate) fn render(v: &Visitor, status: StatusCode, t: impl Template) -> Response {
    let r = match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => crate::http::AppError::internal(format!("template: {e}")).into_response(),
    };
    v.finish(r)
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageView {
    ctx: Ctx,
    title: String,
    class: &'static str,
    message: String,
    links: Vec<(String, String)>,
}

/// A page that says one thing, with links onward.
pub(crate) fn message_with_links(
    v: &Visitor,
    status: StatusCode,
    title: &str,
    message: &str,
    links: Vec<(String, String)>,
) -> Response {
    render(
        v,
        status,
        MessageView {
            ctx: v.ctx(&[(title, None)]),
            title: title.to_string(),
            class: if status.is_success() {
                "fr-alert--success"
            } else if status.is_client_error() {
                "fr-alert--error"
            } else {
                "fr-alert--warning"
            },
            message: message.to_string(),
            links,
        },
    )
}

/// A page that says one thing, with a link back to the search.
pub(crate) fn message_page(
    v: &Visitor,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    message_with_links(
        v,
        status,
        title,
        message,
        vec![("/".into(), "Revenir à la recherche".into())],
    )
}

/// The page of an engine error.
pub(crate) fn error_page(v: &Visitor, e: &Error) -> Response {
    let status = crate::http::error::status_of(e);
    if !e.kind().user_fault {
        tracing::error!(error = %e, "page failed");
    }
    let mut r = message_page(v, status, e.kind_title_fr(), &explain(e));
    if let Error::TooMany(s) | Error::Unavailable(_, s) = e {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*s));
    }
    r
}

impl Error {
    /// A French title for the kind of error (pages).
    fn kind_title_fr(&self) -> &'static str {
        match self.kind().status {
            400 | 422 => "Données incorrectes",
            401 => "Connexion nécessaire",
            403 => "Accès refusé",
            404 => "Page introuvable",
            409 => "Action impossible",
            429 => "Trop de tentatives",
            503 => "Service momentanément indisponible",
            _ => "Erreur du service",
        }
    }
}

/// A 303 to `to` (after a form that changed something).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A 303 that also sets a cookie.
pub(crate) fn see_other_with_cookie(to: &str, cookie: &str) -> Response {
    let mut r = see_other(to);
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A short French date (`25/11/2026`).
pub(crate) fn date_fr(t: time::OffsetDateTime) -> String {
    let t = crate::domain::local_time::local(t);
    format!("{:02}/{:02}/{}", t.day(), t.month() as u8, t.year())
}

/// A group of fields under a title (none for a plain form).
pub(crate) struct Section {
    pub title: String,
    pub intro: String,
    pub fields: Vec<Field>,
}

impl Section {
    /// A titled group.
    pub fn new(title: &str, fields: Vec<Field>) -> Section {
        Section {
            title: title.into(),
            intro: String::new(),
            fields,
        }
    }
}

/// A form page: sections of fields, the faulty ones marked next to the field and summed up at
/// the top with a link to each.
#[derive(Template)]
#[template(path = "form.html")]
pub(crate) struct FormPage {
    pub ctx: Ctx,
    pub title: String,
    pub width: &'static str,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub has_field_errors: bool,
    pub intro: String,
    pub action: String,
    /// `post` (changes something: CSRF token) or `get` (a step of a choice).
    pub method: &'static str,
    pub multipart: bool,
    pub sections: Vec<Section>,
    /// (name, value, label) of each submit button; the first is the main one.
    pub buttons: Vec<(&'static str, &'static str, &'static str)>,
    pub links: Vec<(String, String)>,
}

impl FormPage {
    /// A one-section form posting to `action`.
    pub fn new(
        ctx: Ctx,
        title: &str,
        action: &str,
        fields: Vec<Field>,
        submit: &'static str,
    ) -> FormPage {
        FormPage {
            ctx,
            title: title.into(),
            width: "fr-col-md-8 fr-col-lg-6",
            notice: None,
            errors: Vec::new(),
            has_field_errors: false,
            intro: String::new(),
            action: action.into(),
            method: "post",
            multipart: false,
            sections: vec![Section::new("", fields)],
            buttons: vec![("action", "submit", submit)],
            links: Vec::new(),
        }
    }

    /// With an introduction.
    pub fn intro(mut self, intro: &str) -> FormPage {
        self.intro = intro.into();
        self
    }

    /// With links under the form.
    pub fn links(mut self, links: Vec<(String, String)>) -> FormPage {
        self.links = links;
        self
    }

    /// Shows an engine error: each faulty field marked, the rest at the top.
    pub fn with_error(mut self, e: &Error) -> FormPage {
        let fields = e.fields();
        if fields.is_empty() {
            self.errors.push(explain(e));
        } else {
            let mut rest = Vec::new();
            for s in &mut self.sections {
                rest = attach_errors(&mut s.fields, fields);
            }
            if self.sections.len() > 1 {
                // A field is in one section only: keep the errors no section took.
                rest = fields
                    .iter()
                    .filter(|f| {
                        !self
                            .sections
                            .iter()
                            .any(|s| s.fields.iter().any(|x| x.name == f.field))
                    })
                    .map(|f| format!("{} : {}", f.field, french(&f.message)))
                    .collect();
            }
            self.errors.extend(rest);
        }
        self.has_field_errors = self
            .sections
            .iter()
            .any(|s| s.fields.iter().any(|f| f.error.is_some()));
        self
    }
}
