//! What a page answers besides itself: the message and error pages (in French, by the codes of
//! the errors, with the status of the one error table), redirects, French dates.

use super::*;
use crate::error::FieldCode;

/// The answer a page gives instead of itself: the login page, a refusal, an expired form, the
/// error page of a failed call. Handlers return [`PageResult`], so each early answer is a `?`.
pub(crate) struct PageError(Response);

/// What a page handler returns.
pub(crate) type PageResult = Result<Response, PageError>;

impl From<Response> for PageError {
    fn from(r: Response) -> PageError {
        PageError(r)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0
    }
}

/// A failed call of the services, answered as the error page of the visitor.
pub(crate) trait OrPage<T> {
    /// The value, or the error page of `v`.
    fn or_page(self, v: &Visitor) -> Result<T, PageError>;
}

impl<T> OrPage<T> for crate::Result<T> {
    fn or_page(self, v: &Visitor) -> Result<T, PageError> {
        self.map_err(|e| PageError(error_page(v, &e)))
    }
}

/// Unknown paths: a problem+json 404 under the API and the feeds, the 404 page elsewhere.
pub(crate) async fn fallback(v: Visitor, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    if under(links::API) || under(links::FEEDS) || under(links::STATIC) {
        crate::http::AppError::not_found("no such resource").into_response()
    } else {
        portal::not_found_page(&v)
    }
}

/// What is wrong with a field, in French, by its code; a field error without a French
/// sentence of its own shows its message.
pub(super) fn french(e: &FieldError) -> String {
    let fr = match e.code {
        FieldCode::Required => "Ce champ est obligatoire.",
        FieldCode::NotAnEmail => "Ce n'est pas une adresse électronique valide.",
        FieldCode::NotAPhone => "Ce n'est pas un numéro de téléphone valide.",
        FieldCode::NotAUrl => "Indiquez une adresse web commençant par http:// ou https://.",
        FieldCode::PasswordTooShort => "Au moins 12 caractères sont nécessaires.",
        FieldCode::PasswordTooSimple => {
            "Utilisez au moins trois sortes de caractères : minuscules, majuscules, chiffres, symboles."
        }
        FieldCode::PasswordHasEmail => {
            "Le mot de passe ne doit pas contenir l'adresse électronique."
        }
        FieldCode::CurrentPasswordRequired => "Indiquez votre mot de passe actuel.",
        FieldCode::NotYourPassword => "Ce n'est pas votre mot de passe.",
        FieldCode::PasswordsDiffer => "Les deux mots de passe ne sont pas identiques.",
        FieldCode::BadLink => "Ce lien est inconnu, déjà utilisé ou expiré.",
        FieldCode::ContactRequired => {
            "Indiquez une adresse électronique ou une adresse web pour postuler."
        }
        FieldCode::NotAfterToday => "La date doit être postérieure à aujourd'hui.",
        FieldCode::TooFarAhead => "La date ne peut dépasser un an.",
        FieldCode::AlreadyUsed => ALREADY_USED,
        FieldCode::Invalid | FieldCode::NotAllowed => return e.message.clone(),
    };
    fr.to_string()
}

const ALREADY_USED: &str = "Cette adresse ou cet identifiant est déjà utilisé.";

/// The message of an engine error for a person.
pub(crate) fn explain(e: &Error) -> String {
    match e {
        Error::Invalid(v) | Error::BadRequest(v) => {
            v.0.iter()
                .map(|f| format!("{} : {}", f.field, french(f)))
                .collect::<Vec<_>>()
                .join(" ; ")
        }
        Error::Unauthorized(_) => "Identifiant ou mot de passe incorrect.".into(),
        Error::TooMany(wait) => format!(
            "Trop de tentatives : réessayez dans {} minutes.",
            wait.div_ceil(60)
        ),
        Error::AlreadyUsed(_) => ALREADY_USED.into(),
        Error::Conflict(m) | Error::NotFound(m) | Error::Forbidden(m) => m.clone(),
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
pub(super) struct MessageView {
    pub(super) ctx: Ctx,
    pub(super) title: String,
    pub(super) class: &'static str,
    pub(super) message: String,
    pub(super) links: Vec<(String, String)>,
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
    pub(super) fn kind_title_fr(&self) -> &'static str {
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

/// A short French date (`25/11/2026`), local to `zone`.
pub(crate) fn date_fr(t: time::OffsetDateTime, zone: &crate::domain::local_time::Zone) -> String {
    let t = zone.local(t);
    format!("{:02}/{:02}/{}", t.day(), t.month() as u8, t.year())
}
