//! "Mon compte" of every role — `/compte`, `/recruteur/compte`, `/admin/compte`: the details and
//! phone, the address (it changes once the link mailed to the new one is opened; the old one is
//! told), the password (with the current one; the other sessions end), and "Fermer mes autres
//! sessions". A recruiter's page lists the services they belong to. The candidate's page adds
//! the export and the deletion (`candidate/account.rs`).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::candidate::DoneQuery;
use super::{Ctx, Field, Form, Notice, PageResult, Visitor, explain, render, see_other};
use crate::candidates::AccountPatch;
use crate::domain::account::{Account, Role};
use crate::error::{Error, FieldCode, FieldError};
use crate::http::error::status_of;
use crate::http::extract::ClientIp;
use crate::http::{AppState, with_auth, with_backoffice};
use crate::links;

/// The pages of one role's account.
pub(crate) struct Space {
    pub role: Role,
    /// "Mon compte".
    pub home: &'static str,
    pub details: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sessions: &'static str,
    /// The area's first breadcrumb: its name and page.
    pub area: Option<(&'static str, &'static str)>,
}

/// The candidate's account.
pub(crate) const CANDIDATE: Space = Space {
    role: Role::Candidate,
    home: links::ACCOUNT,
    details: links::ACCOUNT_DETAILS,
    email: links::ACCOUNT_EMAIL,
    password: links::ACCOUNT_PASSWORD,
    sessions: links::ACCOUNT_SESSIONS,
    area: None,
};

/// A recruiter's account.
pub(crate) const RECRUITER: Space = Space {
    role: Role::Recruiter,
    home: links::RECRUITER_ACCOUNT,
    details: links::RECRUITER_ACCOUNT_DETAILS,
    email: links::RECRUITER_ACCOUNT_EMAIL,
    password: links::RECRUITER_ACCOUNT_PASSWORD,
    sessions: links::RECRUITER_ACCOUNT_SESSIONS,
    area: Some(("Mes offres", links::RECRUITER_OFFERS)),
};

/// An administrator's account.
pub(crate) const ADMIN: Space = Space {
    role: Role::Admin,
    home: links::ADMIN_ACCOUNT,
    details: links::ADMIN_ACCOUNT_DETAILS,
    email: links::ADMIN_ACCOUNT_EMAIL,
    password: links::ADMIN_ACCOUNT_PASSWORD,
    sessions: links::ADMIN_ACCOUNT_SESSIONS,
    area: Some(("Administration", links::ADMIN_REQUESTS)),
};

/// The routes of the recruiters' and administrators' accounts.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recruiter_account))
        .routes(routes!(recruiter_details))
        .routes(routes!(recruiter_email))
        .routes(routes!(recruiter_password))
        .routes(routes!(recruiter_sessions))
        .routes(routes!(admin_account))
        .routes(routes!(admin_details))
        .routes(routes!(admin_email))
        .routes(routes!(admin_password))
        .routes(routes!(admin_sessions))
}

/// One small form of a page of several.
pub(crate) struct MiniForm {
    pub title: String,
    pub intro: String,
    pub action: String,
    pub method: &'static str,
    pub fields: Vec<Field>,
    pub submit: &'static str,
    pub secondary: bool,
}

#[derive(Template)]
#[template(path = "forms.html")]
pub(crate) struct FormsPage {
    pub ctx: Ctx,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub details: Vec<(String, String)>,
    pub forms: Vec<MiniForm>,
    pub links: Vec<(String, String)>,
}

pub(crate) fn civility_field(value: &str) -> Field {
    Field::new("civility", "Civilité", "select", value).options(vec![
        ("".into(), "— Choisir —".into()),
        ("Mme".into(), "Madame".into()),
        ("M.".into(), "Monsieur".into()),
    ])
}

/// The forms of the page, in this order: details, address, password, sessions.
fn account_forms(space: &Space, a: &Account, form: &Form) -> Vec<MiniForm> {
    let pick = |name: &str, stored: &str| {
        if form.0.iter().any(|(k, _)| k == name) {
            form.get(name).to_string()
        } else {
            stored.to_string()
        }
    };
    let phone_label = if space.role == Role::Candidate {
        "Téléphone (facultatif)"
    } else {
        "Téléphone professionnel (facultatif)"
    };
    vec![
        MiniForm {
            title: "Mes coordonnées".into(),
            intro: String::new(),
            action: space.details.into(),
            method: "post",
            fields: vec![
                civility_field(&pick("civility", a.civility.as_deref().unwrap_or(""))).required(),
                Field::new("first_name", "Prénom", "text", &pick("first_name", &a.first_name)).required().autocomplete("given-name"),
                Field::new("last_name", "Nom", "text", &pick("last_name", &a.last_name)).required().autocomplete("family-name"),
                Field::new("phone", phone_label, "tel", &pick("phone", a.phone.as_deref().unwrap_or(""))).autocomplete("tel"),
            ],
            submit: "Enregistrer mes coordonnées",
            secondary: false,
        },
        MiniForm {
            title: "Mon adresse électronique".into(),
            intro: "La nouvelle adresse remplacera l'actuelle lorsque le lien qui y sera envoyé aura été ouvert ; l'adresse actuelle en est informée.".into(),
            action: space.email.into(),
            method: "post",
            fields: vec![
                Field::new("email", "Adresse électronique", "email", &pick("email", &a.email)).required().autocomplete("email"),
                Field::new("email_current_password", "Mot de passe actuel", "password", "").required().autocomplete("current-password"),
            ],
            submit: "Changer d'adresse",
            secondary: false,
        },
        MiniForm {
            title: "Mon mot de passe".into(),
            intro: "Vos autres sessions seront fermées.".into(),
            action: space.password.into(),
            method: "post",
            fields: vec![
                Field::new("current_password", "Mot de passe actuel", "password", "").required().autocomplete("current-password"),
                Field::new("password", "Nouveau mot de passe", "password", "").required().autocomplete("new-password")
                    .hint("Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles."),
                Field::new("password_confirm", "Confirmation du nouveau mot de passe", "password", "").required().autocomplete("new-password"),
            ],
            submit: "Changer de mot de passe",
            secondary: false,
        },
        MiniForm {
            title: "Mes sessions".into(),
            intro: "Vous êtes peut-être resté connecté sur un autre appareil (un ordinateur partagé, un ancien téléphone). Cette session-ci reste ouverte.".into(),
            action: space.sessions.into(),
            method: "post",
            fields: Vec::new(),
            submit: "Fermer mes autres sessions",
            secondary: true,
        },
    ]
}

/// The page: what the account holds, then its forms (`which` is the one `error` is about).
#[allow(clippy::too_many_arguments)]
pub(crate) fn account_view(
    space: &Space,
    v: &Visitor,
    a: &Account,
    services: &[String],
    form: &Form,
    notice: Option<String>,
    error: Option<&Error>,
    which: usize,
) -> FormsPage {
    let mut forms = account_forms(space, a, form);
    let mut top = None;
    if let Some(e) = error {
        // The address form names its password field apart (one id per page).
        let fields: Vec<FieldError> = e
            .fields()
            .iter()
            .cloned()
            .map(|mut f| {
                if which == 1 && f.field == "current_password" {
                    f.field = "email_current_password".into();
                }
                f
            })
            .collect();
        let rest = super::attach_errors(&mut forms[which].fields, &fields);
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            format!(
                "Le formulaire « {} » contient des erreurs. {}",
                forms[which].title,
                rest.join(" ; ")
            )
        });
    }
    let civility = match a.civility.as_deref() {
        Some("Mme") => "Madame",
        Some("M.") => "Monsieur",
        _ => "",
    };
    let mut details = vec![(
        "Nom".to_string(),
        format!("{civility} {} {}", a.first_name, a.last_name)
            .trim()
            .to_string(),
    )];
    let address = if space.role == Role::Candidate {
        details.push(("Identifiant".into(), a.username.clone().unwrap_or_default()));
        format!(
            "{}{}",
            a.email,
            if a.email_confirmed {
                " (confirmée)"
            } else {
                " (à confirmer)"
            }
        )
    } else {
        format!("{} (votre identifiant de connexion)", a.email)
    };
    details.push(("Adresse électronique".into(), address));
    details.push((
        "Téléphone".into(),
        a.phone.clone().unwrap_or_else(|| "—".into()),
    ));
    match space.role {
        Role::Recruiter => details.push((
            "Mes services".into(),
            if services.is_empty() {
                "Aucun : un administrateur vous rattache à un service.".into()
            } else {
                services.join(" ; ")
            },
        )),
        Role::Admin => details.push(("Rôle".into(), "Administrateur du site".into())),
        Role::Candidate => {}
    }
    let mut crumbs: Vec<(&str, Option<&str>)> = Vec::new();
    if let Some((name, page)) = space.area {
        crumbs.push((name, Some(page)));
    }
    crumbs.push(("Mon compte", None));
    let links = match space.role {
        Role::Candidate => vec![
            (
                links::SAVED_SEARCHES.into(),
                "Mes recherches et mes alertes".into(),
            ),
            (links::FAVORITES.into(), "Mes offres favorites".into()),
            (
                links::DOCUMENTS.into(),
                "Mes documents (CV, lettres)".into(),
            ),
            (links::APPLICATIONS.into(), "Mes candidatures".into()),
            (links::STANDBY.into(), "Mettre mes alertes en veille".into()),
            (
                links::ACCOUNT_EXPORT.into(),
                "Télécharger mes données (JSON)".into(),
            ),
            (links::ACCOUNT_DELETE.into(), "Supprimer mon compte".into()),
        ],
        Role::Recruiter => vec![(links::RECRUITER_OFFERS.into(), "Mes offres".into())],
        Role::Admin => vec![(links::ADMIN_REQUESTS.into(), "Administration".into())],
    };
    FormsPage {
        ctx: v.ctx(&crumbs),
        title: "Mon compte".into(),
        notice,
        error: top,
        details,
        forms,
        links,
    }
}

/// The names of a recruiter's services, with their administration.
async fn services_of(state: &AppState, a: &Account) -> Vec<String> {
    let ids = a.services.clone();
    with_backoffice(state, move |b| {
        let mut names = Vec::new();
        for id in ids {
            if let Some(s) = b.service(id)? {
                names.push(format!("{} ({})", s.name, s.administration.label()));
            }
        }
        Ok(names)
    })
    .await
    .unwrap_or_default()
}

/// The page of `space`'s account after an action, or with an error of form `which`.
async fn page(
    state: &AppState,
    v: &Visitor,
    space: &Space,
    a: &Account,
    form: &Form,
    notice: Option<String>,
    failed: Option<(&Error, usize)>,
) -> Response {
    let services = services_of(state, a).await;
    let (error, which) = failed.map_or((None, 0), |(e, w)| (Some(e), w));
    let status = error.map_or(StatusCode::OK, status_of);
    render(
        v,
        status,
        account_view(space, v, a, &services, form, notice, error, which),
    )
}

/// "Mon compte" of `space`.
pub(crate) async fn show(
    state: &AppState,
    v: &Visitor,
    space: &Space,
    q: &DoneQuery,
) -> PageResult {
    let a = v.require(space.role, space.home)?.clone();
    Ok(page(
        state,
        v,
        space,
        &a,
        &Form::default(),
        Notice::of_query(&q.fait),
        None,
    )
    .await)
}

async fn patch(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    space: &Space,
    (who, form): (Account, Form),
    p: AccountPatch,
    which: usize,
    done: Notice,
) -> Response {
    match crate::http::change_account(state, who.clone(), client, v.session.clone(), p).await {
        Ok(_) => see_other(&done.after(space.home)),
        Err(e) => page(state, v, space, &who, &form, None, Some((&e, which))).await,
    }
}

/// Changes the details.
pub(crate) async fn details(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    space: &Space,
    body: &Bytes,
) -> PageResult {
    let (who, form) = v.changing(space.role, space.home, body)?;
    if form.get("civility").is_empty() {
        let e = Error::invalid(FieldError::required("civility"));
        return Ok(page(state, v, space, &who, &form, None, Some((&e, 0))).await);
    }
    let p = AccountPatch {
        civility: Some(form.get("civility").to_string()),
        first_name: Some(form.get("first_name").to_string()),
        last_name: Some(form.get("last_name").to_string()),
        phone: Some(form.get("phone").to_string()),
        ..AccountPatch::default()
    };
    Ok(patch(
        state,
        (v, client),
        space,
        (who, form),
        p,
        0,
        Notice::DetailsSaved,
    )
    .await)
}

/// Changes the address (confirmed by the link mailed to the new one).
pub(crate) async fn email(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    space: &Space,
    body: &Bytes,
) -> PageResult {
    let (who, form) = v.changing(space.role, space.home, body)?;
    let p = AccountPatch {
        email: Some(form.get("email").to_string()),
        current_password: Some(form.get("email_current_password").to_string()),
        ..AccountPatch::default()
    };
    Ok(patch(
        state,
        (v, client),
        space,
        (who, form),
        p,
        1,
        Notice::AddressPending,
    )
    .await)
}

/// Changes the password: the current one, the new one twice.
pub(crate) async fn password(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    space: &Space,
    body: &Bytes,
) -> PageResult {
    let (who, form) = v.changing(space.role, space.home, body)?;
    if form.get("password") != form.get("password_confirm") {
        let e = Error::invalid(
            FieldError::new("password_confirm", "the two passwords differ")
                .coded(FieldCode::PasswordsDiffer),
        );
        return Ok(page(state, v, space, &who, &Form::default(), None, Some((&e, 2))).await);
    }
    let p = AccountPatch {
        password: Some(form.get("password").to_string()),
        current_password: Some(form.get("current_password").to_string()),
        ..AccountPatch::default()
    };
    let blank = Form::default();
    Ok(patch(
        state,
        (v, client),
        space,
        (who, blank),
        p,
        2,
        Notice::PasswordChanged,
    )
    .await)
}

/// Ends every session of the account but this one.
pub(crate) async fn sessions(
    state: &AppState,
    v: &Visitor,
    space: &Space,
    body: &Bytes,
) -> PageResult {
    let (who, form) = v.changing(space.role, space.home, body)?;
    let keep = v.session.clone();
    let id = who.id;
    match with_auth(state, move |a| a.close_other_sessions(id, keep.as_deref())).await {
        Ok(_) => Ok(see_other(&Notice::SessionsClosed.after(space.home))),
        Err(e) => Ok(page(state, v, space, &who, &form, None, Some((&e, 3))).await),
    }
}

/// A recruiter's "Mon compte".
#[utoipa::path(get, path = links::RECRUITER_ACCOUNT, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The account (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
async fn recruiter_account(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    show(&state, &v, &RECRUITER, &q).await
}

/// A recruiter's details.
#[utoipa::path(post, path = links::RECRUITER_ACCOUNT_DETAILS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn recruiter_details(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    details(&state, (&v, client), &RECRUITER, &body).await
}

/// A recruiter's address.
#[utoipa::path(post, path = links::RECRUITER_ACCOUNT_EMAIL, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "A link mailed to the new address"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn recruiter_email(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    email(&state, (&v, client), &RECRUITER, &body).await
}

/// A recruiter's password.
#[utoipa::path(post, path = links::RECRUITER_ACCOUNT_PASSWORD, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Changed"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn recruiter_password(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    password(&state, (&v, client), &RECRUITER, &body).await
}

/// Closes a recruiter's other sessions.
#[utoipa::path(post, path = links::RECRUITER_ACCOUNT_SESSIONS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Closed")))]
async fn recruiter_sessions(State(state): State<AppState>, v: Visitor, body: Bytes) -> PageResult {
    sessions(&state, &v, &RECRUITER, &body).await
}

/// An administrator's "Mon compte".
#[utoipa::path(get, path = links::ADMIN_ACCOUNT, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The account (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
async fn admin_account(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    show(&state, &v, &ADMIN, &q).await
}

/// An administrator's details.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_DETAILS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn admin_details(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    details(&state, (&v, client), &ADMIN, &body).await
}

/// An administrator's address.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_EMAIL, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "A link mailed to the new address"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn admin_email(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    email(&state, (&v, client), &ADMIN, &body).await
}

/// An administrator's password.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_PASSWORD, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Changed"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn admin_password(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    password(&state, (&v, client), &ADMIN, &body).await
}

/// Closes an administrator's other sessions.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_SESSIONS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Closed")))]
async fn admin_sessions(State(state): State<AppState>, v: Visitor, body: Bytes) -> PageResult {
    sessions(&state, &v, &ADMIN, &body).await
}
