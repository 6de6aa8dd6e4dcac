//! The candidate's space in pages: "Mon compte" (details, address — confirmed again —,
//! password, the export of every personal datum, deletion) and "Mes recherches" (run again,
//! rename, frequency, the bell that switches the alert on and off, delete); and password
//! recovery for every role at `/mot-de-passe-oublie`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    Ctx, Field, Form, FormPage, Visitor, error_page, explain, message_with_links, render, see_other,
};
use crate::auth::{NOT_YOUR_PASSWORD, verify_password};
use crate::candidates::{AccountPatch, SearchPatch};
use crate::domain::Facet;
use crate::domain::account::{Account, Frequency, Role, SavedSearch};
use crate::error::{Error, FieldError};
use crate::http::client::ClientIp;
use crate::http::error::status_of;
use crate::http::{AppState, with_auth, with_candidates};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account_page))
        .routes(routes!(update_details))
        .routes(routes!(update_email))
        .routes(routes!(update_password))
        .routes(routes!(export))
        .routes(routes!(delete_page, delete_submit))
        .routes(routes!(searches_page))
        .routes(routes!(update_search))
        .routes(routes!(delete_search))
        .routes(routes!(recovery_page, recovery_submit))
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

/// What was just done (shown once).
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DoneQuery {
    /// What was just done.
    #[serde(default)]
    fait: String,
}

fn done(fait: &str) -> Option<String> {
    Some(
        match fait {
            "details" => "Vos coordonnées sont enregistrées.",
            "email" => "Un lien a été envoyé à la nouvelle adresse : elle remplacera l'actuelle dès qu'il sera ouvert. Votre adresse actuelle en est informée.",
            "password" => "Mot de passe changé. Vos autres sessions sont fermées.",
            "alert_on" => "Alerte activée.",
            "alert_off" => "Alerte désactivée.",
            "update" => "Recherche enregistrée.",
            "deleted" => "Recherche supprimée.",
            "saved" => "Recherche enregistrée.",
            _ => return None,
        }
        .to_string(),
    )
}

fn candidate(v: &Visitor, back: &str) -> Result<Account, Response> {
    v.require(Role::Candidate, back).cloned()
}

fn changing(v: &Visitor, body: &Bytes, back: &str) -> Result<(Account, Form), Response> {
    v.changing(Role::Candidate, back, body)
}

fn civility_field(value: &str) -> Field {
    Field::new("civility", "Civilité", "select", value).options(vec![
        ("".into(), "— Choisir —".into()),
        ("Mme".into(), "Madame".into()),
        ("M.".into(), "Monsieur".into()),
    ])
}

fn account_forms(a: &Account, form: &Form) -> Vec<MiniForm> {
    let pick = |name: &str, stored: &str| {
        if form.0.iter().any(|(k, _)| k == name) {
            form.get(name).to_string()
        } else {
            stored.to_string()
        }
    };
    vec![
        MiniForm {
            title: "Mes coordonnées".into(),
            intro: String::new(),
            action: "/compte/coordonnees".into(),
            method: "post",
            fields: vec![
                civility_field(&pick("civility", a.civility.as_deref().unwrap_or(""))).required(),
                Field::new("first_name", "Prénom", "text", &pick("first_name", &a.first_name)).required().autocomplete("given-name"),
                Field::new("last_name", "Nom", "text", &pick("last_name", &a.last_name)).required().autocomplete("family-name"),
                Field::new("phone", "Téléphone (facultatif)", "tel", &pick("phone", a.phone.as_deref().unwrap_or(""))).autocomplete("tel"),
            ],
            submit: "Enregistrer mes coordonnées",
            secondary: false,
        },
        MiniForm {
            title: "Mon adresse électronique".into(),
            intro: "La nouvelle adresse remplacera l'actuelle lorsque le lien qui y sera envoyé aura été ouvert ; l'adresse actuelle en est informée.".into(),
            action: "/compte/email".into(),
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
            intro: String::new(),
            action: "/compte/mot-de-passe".into(),
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
    ]
}

fn account_view(
    v: &Visitor,
    a: &Account,
    form: &Form,
    notice: Option<String>,
    error: Option<&Error>,
    which: usize,
) -> FormsPage {
    let mut forms = account_forms(a, form);
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
    FormsPage {
        ctx: v.ctx(&[("Mon compte", None)]),
        title: "Mon compte".into(),
        notice,
        error: top,
        details: vec![
            (
                "Nom".into(),
                format!("{civility} {} {}", a.first_name, a.last_name)
                    .trim()
                    .to_string(),
            ),
            ("Identifiant".into(), a.username.clone().unwrap_or_default()),
            (
                "Adresse électronique".into(),
                format!(
                    "{}{}",
                    a.email,
                    if a.email_confirmed {
                        " (confirmée)"
                    } else {
                        " (à confirmer)"
                    }
                ),
            ),
            (
                "Téléphone".into(),
                a.phone.clone().unwrap_or_else(|| "—".into()),
            ),
        ],
        forms,
        links: vec![
            (
                "/compte/recherches".into(),
                "Mes recherches et mes alertes".into(),
            ),
            (
                "/compte/export".into(),
                "Télécharger mes données (JSON)".into(),
            ),
            ("/compte/supprimer".into(), "Supprimer mon compte".into()),
        ],
    }
}

/// "Mon compte".
#[utoipa::path(get, path = "/compte", tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The account (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
async fn account_page(v: Visitor, Query(q): Query<DoneQuery>) -> Response {
    match candidate(&v, "/compte") {
        Ok(a) => render(
            &v,
            StatusCode::OK,
            account_view(&v, &a, &Form::default(), done(&q.fait), None, 0),
        ),
        Err(r) => r,
    }
}

async fn patch(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    who: Account,
    form: Form,
    p: AccountPatch,
    which: usize,
    fait: &str,
) -> Response {
    match crate::http::change_account(state, who.clone(), client, v.session.clone(), p).await {
        Ok(_) => see_other(&format!("/compte?fait={fait}")),
        Err(e) => render(
            v,
            status_of(&e),
            account_view(v, &who, &form, None, Some(&e), which),
        ),
    }
}

/// Changes the details.
#[utoipa::path(post, path = "/compte/coordonnees", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn update_details(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Response {
    let (who, form) = match changing(&v, &body, "/compte") {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.get("civility").is_empty() {
        let e = Error::invalid(FieldError::new("civility", "is required"));
        return render(
            &v,
            status_of(&e),
            account_view(&v, &who, &form, None, Some(&e), 0),
        );
    }
    let p = AccountPatch {
        civility: Some(form.get("civility").to_string()),
        first_name: Some(form.get("first_name").to_string()),
        last_name: Some(form.get("last_name").to_string()),
        phone: Some(form.get("phone").to_string()),
        ..AccountPatch::default()
    };
    patch(&state, (&v, client), who, form, p, 0, "details").await
}

/// Changes the address (confirmed again).
#[utoipa::path(post, path = "/compte/email", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn update_email(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Response {
    let (who, form) = match changing(&v, &body, "/compte") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = AccountPatch {
        email: Some(form.get("email").to_string()),
        current_password: Some(form.get("email_current_password").to_string()),
        ..AccountPatch::default()
    };
    patch(&state, (&v, client), who, form, p, 1, "email").await
}

/// Changes the password: the current one, the new one twice.
#[utoipa::path(post, path = "/compte/mot-de-passe", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Changed"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
async fn update_password(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Response {
    let (who, form) = match changing(&v, &body, "/compte") {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.get("password") != form.get("password_confirm") {
        let e = Error::invalid(FieldError::new(
            "password_confirm",
            "the two passwords differ",
        ));
        return render(
            &v,
            status_of(&e),
            account_view(&v, &who, &Form::default(), None, Some(&e), 2),
        );
    }
    let p = AccountPatch {
        password: Some(form.get("password").to_string()),
        current_password: Some(form.get("current_password").to_string()),
        ..AccountPatch::default()
    };
    patch(&state, (&v, client), who, Form::default(), p, 2, "password").await
}

/// Every personal datum held, as a JSON download.
#[utoipa::path(get, path = "/compte/export", tag = "portal",
    responses((status = 200, description = "The data (JSON download)", content_type = "application/json", body = Object)))]
async fn export(State(state): State<AppState>, v: Visitor) -> Response {
    let who = match candidate(&v, "/compte") {
        Ok(a) => a,
        Err(r) => return r,
    };
    match with_candidates(&state, move |c| c.export(&who)).await {
        Ok(data) => {
            let mut r = serde_json::to_string_pretty(&data)
                .unwrap_or_default()
                .into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"mes-donnees.json\""),
            );
            r
        }
        Err(e) => error_page(&v, &e),
    }
}

fn delete_form(v: &Visitor) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[("Mon compte", Some("/compte")), ("Supprimer mon compte", None)]),
        "Supprimer mon compte",
        "/compte/supprimer",
        vec![Field::new("password", "Votre mot de passe, pour confirmer", "password", "").required().autocomplete("current-password")],
        "Supprimer définitivement mon compte",
    )
    .intro("Votre compte, vos recherches, vos alertes et les courriels en attente seront supprimés. Cette action est définitive ; téléchargez vos données avant si vous le souhaitez.")
    .links(vec![("/compte/export".into(), "Télécharger mes données (JSON)".into()), ("/compte".into(), "Annuler".into())]);
    page.width = "fr-col-md-8";
    page
}

/// Asks to confirm the deletion of the account.
#[utoipa::path(get, path = "/compte/supprimer", tag = "portal",
    responses((status = 200, description = "The confirmation (HTML)", content_type = "text/html", body = String)))]
async fn delete_page(v: Visitor) -> Response {
    match candidate(&v, "/compte/supprimer") {
        Ok(_) => render(&v, StatusCode::OK, delete_form(&v)),
        Err(r) => r,
    }
}

/// Deletes the account and everything attached to it, confirmed by the password.
#[utoipa::path(post, path = "/compte/supprimer", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Deleted (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "Wrong password (HTML)", content_type = "text/html", body = String)))]
async fn delete_submit(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Response {
    let (who, form) = match changing(&v, &body, "/compte/supprimer") {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The password confirms the deletion: a password check, under the login throttle, off
    // the async workers (argon2 takes tens of milliseconds).
    let (given, throttle, peer) = (
        form.get("password").to_string(),
        state.throttle.clone(),
        client.to_string(),
    );
    let (login, hash) = (who.email.clone(), who.password_hash.clone());
    let checked = crate::blocking::run(move || {
        throttle.password_check(&login, &peer, || {
            let matches = match hash {
                Some(h) => verify_password(&given, &h)?,
                None => false,
            };
            if matches {
                Ok(())
            } else {
                Err(Error::invalid(FieldError::new(
                    "password",
                    NOT_YOUR_PASSWORD,
                )))
            }
        })
    })
    .await
    .and_then(|checked| checked);
    if let Err(e) = checked {
        return render(&v, status_of(&e), delete_form(&v).with_error(&e));
    }
    match with_candidates(&state, move |c| c.delete_me(&who)).await {
        Ok(()) => {
            let mut r = message_with_links(
                &v,
                StatusCode::OK,
                "Compte supprimé",
                "Votre compte et toutes vos données ont été supprimés.",
                vec![("/".into(), "Revenir à la recherche".into())],
            );
            if let Ok(c) = HeaderValue::from_str(&v.clear_session_cookie()) {
                r.headers_mut().append(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => error_page(&v, &e),
    }
}

// ----- Mes recherches -----

pub(crate) struct SearchView {
    id: u64,
    name: String,
    summary: String,
    alert: bool,
    frequency: &'static str,
    frequency_label: &'static str,
    run_url: String,
}

#[derive(Template)]
#[template(path = "searches.html")]
struct SearchesPage {
    ctx: Ctx,
    notice: Option<String>,
    error: Option<String>,
    confirmed: bool,
    searches: Vec<SearchView>,
}

/// The criteria of a search in words: « keywords » · labels of the chosen values.
pub(crate) fn criteria_summary(pairs: &[(String, String)]) -> String {
    let mut parts = Vec::new();
    for (k, v) in pairs {
        if k == "q" {
            parts.push(format!("« {v} »"));
        } else if let Some(f) = Facet::ALL.iter().find(|f| f.name() == k) {
            let values = f.values();
            parts.push(
                values
                    .ordinal(v)
                    .map_or(v.clone(), |o| values.label(o).to_string()),
            );
        } else if k == "published_since" {
            parts.push(format!("publiées depuis {v} jours"));
        }
    }
    if parts.is_empty() {
        "Toutes les offres".into()
    } else {
        parts.join(" · ")
    }
}

fn search_view(s: &SavedSearch) -> SearchView {
    let (frequency, frequency_label) = match s.frequency {
        Frequency::Immediate => ("immediate", "un courriel à chaque nouvelle offre"),
        Frequency::Daily => ("daily", "un récapitulatif par jour"),
    };
    SearchView {
        id: s.id,
        name: s.name.clone(),
        summary: criteria_summary(&s.criteria),
        alert: s.alert,
        frequency,
        frequency_label,
        run_url: crate::links::with_query(
            "/",
            &serde_urlencoded::to_string(&s.criteria).unwrap_or_default(),
        ),
    }
}

async fn searches(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let who = match candidate(v, "/compte/recherches") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let confirmed = who.email_confirmed;
    match with_candidates(state, move |c| c.searches(&who)).await {
        Ok(list) => render(
            v,
            status,
            SearchesPage {
                ctx: v.ctx(&[("Mon compte", Some("/compte")), ("Mes recherches", None)]),
                notice,
                error,
                confirmed,
                searches: list.iter().map(search_view).collect(),
            },
        ),
        Err(e) => error_page(v, &e),
    }
}

/// "Mes recherches".
#[utoipa::path(get, path = "/compte/recherches", tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The saved searches (HTML)", content_type = "text/html", body = String)))]
async fn searches_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> Response {
    searches(&state, &v, StatusCode::OK, done(&q.fait), None).await
}

/// The bell (`do` = alert_on | alert_off) or a rename and frequency (`do` = update).
#[utoipa::path(post, path = "/compte/recherches/{id}", tag = "portal",
    params(("id" = u64, Path, description = "Saved search id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again (HTML)", content_type = "text/html", body = String)))]
async fn update_search(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let (who, form) = match changing(&v, &body, "/compte/recherches") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let step = form.get("do").to_string();
    let p = match step.as_str() {
        "alert_on" => SearchPatch {
            alert: Some(true),
            ..SearchPatch::default()
        },
        "alert_off" => SearchPatch {
            alert: Some(false),
            ..SearchPatch::default()
        },
        _ => SearchPatch {
            name: Some(form.get("name").to_string()),
            frequency: Some(form.get("frequency").to_string()),
            ..SearchPatch::default()
        },
    };
    match with_candidates(&state, move |c| c.patch_search(&who, id, p)).await {
        Ok(_) => see_other(&format!(
            "/compte/recherches?fait={}",
            if step.starts_with("alert_") {
                step.as_str()
            } else {
                "update"
            }
        )),
        Err(e) => searches(&state, &v, status_of(&e), None, Some(explain(&e))).await,
    }
}

/// Deletes a saved search (and its alert).
#[utoipa::path(post, path = "/compte/recherches/{id}/supprimer", tag = "portal",
    params(("id" = u64, Path, description = "Saved search id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Deleted")))]
async fn delete_search(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let (who, _) = match changing(&v, &body, "/compte/recherches") {
        Ok(x) => x,
        Err(r) => return r,
    };
    match with_candidates(&state, move |c| c.delete_search(&who, id)).await {
        Ok(()) => see_other("/compte/recherches?fait=deleted"),
        Err(e) => searches(&state, &v, status_of(&e), None, Some(explain(&e))).await,
    }
}

// ----- password recovery -----

fn recovery_form(v: &Visitor, email: &str) -> FormPage {
    FormPage::new(
        v.ctx(&[("Connexion", Some("/connexion")), ("Mot de passe oublié", None)]),
        "Mot de passe oublié",
        "/mot-de-passe-oublie",
        vec![Field::new("email", "Adresse électronique de votre compte", "email", email).required().autocomplete("email")
            .hint("Format attendu : nom@domaine.fr")],
        "Recevoir un lien",
    )
    .intro("Candidats, recruteurs et administrateurs : indiquez l'adresse de votre compte ; un lien pour choisir un nouveau mot de passe y sera envoyé, valable une heure et utilisable une fois.")
}

/// The recovery form.
#[utoipa::path(get, path = "/mot-de-passe-oublie", tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn recovery_page(v: Visitor) -> Response {
    render(&v, StatusCode::OK, recovery_form(&v, ""))
}

/// Mails a one-time link when the address is an account's; the same answer either way.
#[utoipa::path(post, path = "/mot-de-passe-oublie", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "The same answer whether or not the address exists (HTML)", content_type = "text/html", body = String),
              (status = 429, description = "Too many requests (HTML)", content_type = "text/html", body = String)))]
async fn recovery_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::client::ClientIp(peer): crate::http::client::ClientIp,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let email = form.get("email").to_string();
    let (per_address, per_client) = (
        state.mails_per_address.clone(),
        state.mails_per_client.clone(),
    );
    let client = peer.to_string();
    let e2 = email.clone();
    match with_auth(&state, move |a| {
        a.recover(&per_address, &per_client, &e2, &client)
    })
    .await
    {
        Ok(()) => message_with_links(
            &v,
            StatusCode::OK,
            "Demande enregistrée",
            "Si un compte utilise cette adresse, un courriel vient d'y être envoyé avec un lien pour choisir un nouveau mot de passe, valable une heure.",
            vec![("/connexion".into(), "Revenir à la connexion".into())],
        ),
        Err(e @ Error::TooMany(_)) => {
            let mut page = recovery_form(&v, &email);
            page.errors.push(explain(&e));
            render(&v, StatusCode::TOO_MANY_REQUESTS, page)
        }
        Err(e) => render(&v, status_of(&e), recovery_form(&v, &email).with_error(&e)),
    }
}
