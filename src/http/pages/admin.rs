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
use crate::http::{AppState, with_backoffice};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(requests_page))
        .routes(routes!(approve))
        .routes(routes!(refuse))
        .routes(routes!(services_page, add_service))
        .routes(routes!(rename_service))
        .routes(routes!(accounts_page))
        .routes(routes!(add_membership))
        .routes(routes!(remove_membership))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(offers_page))
        .routes(routes!(moderate_page, moderate_submit))
}

/// What was just done, or what failed (shown once).
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct NoticeQuery {
    /// What was just done.
    #[serde(default)]
    fait: String,
}

fn notice(fait: &str) -> Option<String> {
    Some(
        match fait {
            "approved" => {
                "Demande acceptée : le recruteur a reçu un lien pour choisir son mot de passe."
            }
            "refused" => "Demande refusée : le motif a été envoyé.",
            "added" => "Service ajouté.",
            "renamed" => "Service modifié.",
            "member" => "Rattachement ajouté.",
            "unmember" => "Rattachement retiré.",
            "disabled" => "Compte désactivé : ses sessions sont terminées.",
            "enabled" => "Compte réactivé.",
            "moderated" => "Offre retirée : le motif a été envoyé à son service.",
            _ => return None,
        }
        .to_string(),
    )
}

/// The admin behind the request, or the answer to give instead.
fn admin_of(v: &Visitor, back: &str) -> Result<Account, Response> {
    v.require(Role::Admin, back).cloned()
}

/// Checks the CSRF token and the role of a changing form.
fn changing(v: &Visitor, body: &Bytes) -> Result<(Account, Form), Response> {
    v.changing(Role::Admin, "/admin/demandes", body)
}

struct RequestView {
    id: u64,
    name: String,
    email: String,
    phone: String,
    date: String,
    service: String,
}

#[derive(Template)]
#[template(path = "admin_requests.html")]
struct RequestsPage {
    ctx: Ctx,
    notice: Option<String>,
    error: Option<String>,
    requests: Vec<RequestView>,
}

fn describe_service(b: &Backoffice<'_>, a: &Account) -> String {
    match (&a.requested_service, a.services.first()) {
        (Some(r), _) => format!(
            "Service non listé à créer : « {} »{} – {}",
            r.name,
            r.entity
                .as_ref()
                .map(|e| format!(", entité « {e} »"))
                .unwrap_or_default(),
            r.administration.label()
        ),
        (None, Some(id)) => {
            b.service(*id)
                .ok()
                .flatten()
                .map_or(format!("Service n° {id}"), |s| {
                    format!(
                        "Service : {}{} – {}",
                        s.name,
                        s.entity.map(|e| format!(" ({e})")).unwrap_or_default(),
                        s.administration.label()
                    )
                })
        }
        (None, None) => "Aucun service".into(),
    }
}

async fn requests(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice_: Option<String>,
    error: Option<String>,
) -> Response {
    let list = with_backoffice(state, |b| {
        Ok(b.recruiters(Some(AccountState::Pending))?
            .into_iter()
            .map(|a| RequestView {
                id: a.id,
                name: format!(
                    "{} {} {}",
                    a.civility.clone().unwrap_or_default(),
                    a.first_name,
                    a.last_name
                )
                .trim()
                .to_string(),
                email: a.email.clone(),
                phone: a.phone.clone().unwrap_or_default(),
                date: date_fr(a.created_at),
                service: describe_service(b, &a),
            })
            .collect::<Vec<_>>())
    })
    .await;
    match list {
        Ok(requests) => render(
            v,
            status,
            RequestsPage {
                ctx: v.ctx(&[("Administration", None), ("Demandes", None)]),
                notice: notice_,
                error,
                requests,
            },
        ),
        Err(e) => error_page(v, &e),
    }
}

/// The pending recruiter requests.
#[utoipa::path(get, path = "/admin/demandes", tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The requests (HTML)", content_type = "text/html", body = String)))]
async fn requests_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Err(r) = admin_of(&v, "/admin/demandes") {
        return r;
    }
    requests(&state, &v, StatusCode::OK, notice(&q.fait), None).await
}

/// Approves a request: the recruiter is mailed a link to choose a password.
#[utoipa::path(post, path = "/admin/demandes/{id}/accepter", tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the requests")))]
async fn approve(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let (admin, _) = match changing(&v, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match with_backoffice(&state, move |b| b.approve(&admin, id)).await {
        Ok(_) => see_other("/admin/demandes?fait=approved"),
        Err(e) => requests(&state, &v, status_of(&e), None, Some(explain(&e))).await,
    }
}

/// Refuses a request with a reason, mailed to the person.
#[utoipa::path(post, path = "/admin/demandes/{id}/refuser", tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the requests"),
              (status = 422, description = "No reason (HTML)", content_type = "text/html", body = String)))]
async fn refuse(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let (admin, form) = match changing(&v, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reason = form.get("reason").to_string();
    match with_backoffice(&state, move |b| b.refuse(&admin, id, &reason)).await {
        Ok(_) => see_other("/admin/demandes?fait=refused"),
        Err(e) => {
            let message = match &e {
                Error::Invalid(_) => {
                    "Indiquez le motif du refus : il est envoyé au demandeur.".to_string()
                }
                other => explain(other),
            };
            requests(&state, &v, status_of(&e), None, Some(message)).await
        }
    }
}

// ----- services -----

struct ServiceView {
    id: u64,
    name: String,
}

struct EntityView {
    name: String,
    services: Vec<ServiceView>,
}

struct AdministrationView {
    label: String,
    versant: &'static str,
    entities: Vec<EntityView>,
}

#[derive(Template)]
#[template(path = "admin_services.html")]
struct ServicesPage {
    ctx: Ctx,
    notice: Option<String>,
    error: Option<String>,
    add_fields: Vec<Field>,
    tree: Vec<AdministrationView>,
}

fn tree(services: &[Service]) -> Vec<AdministrationView> {
    referentials()
        .administrations
        .iter()
        .filter_map(|a| {
            let mine: Vec<&Service> = services
                .iter()
                .filter(|s| s.administration.code() == a.code)
                .collect();
            if mine.is_empty() {
                return None;
            }
            let mut names: Vec<Option<&str>> = mine.iter().map(|s| s.entity.as_deref()).collect();
            names.sort();
            names.dedup();
            Some(AdministrationView {
                label: a.label.clone(),
                versant: match a.versant.as_str() {
                    "territoriale" => "fonction publique territoriale",
                    "hospitaliere" => "fonction publique hospitalière",
                    _ => "fonction publique de l'État",
                },
                entities: names
                    .into_iter()
                    .map(|n| EntityView {
                        name: n.unwrap_or("").to_string(),
                        services: mine
                            .iter()
                            .filter(|s| s.entity.as_deref() == n)
                            .map(|s| ServiceView {
                                id: s.id,
                                name: s.name.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect()
}

async fn services(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    form: &Form,
    notice_: Option<String>,
    error: Option<&Error>,
) -> Response {
    let mut add_fields = vec![
        Field::new(
            "administration",
            "Administration",
            "select",
            form.get("administration"),
        )
        .required()
        .groups(administration_groups("— Choisir —")),
        Field::new("entity", "Entité (facultatif)", "text", form.get("entity"))
            .hint("Une entité existante ou nouvelle : direction, établissement, pôle"),
        Field::new("name", "Nom du service", "text", form.get("name")).required(),
    ];
    let mut top = None;
    if let Some(e) = error {
        let rest = super::attach_errors(&mut add_fields, e.fields());
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            rest.join(" ; ")
        })
        .filter(|t| !t.is_empty());
    }
    match with_backoffice(state, |b| b.services(None)).await {
        Ok(list) => render(
            v,
            status,
            ServicesPage {
                ctx: v.ctx(&[("Administration", None), ("Services", None)]),
                notice: notice_,
                error: top,
                add_fields,
                tree: tree(&list),
            },
        ),
        Err(e) => error_page(v, &e),
    }
}

/// The organisation tree, with forms to add and rename services.
#[utoipa::path(get, path = "/admin/services", tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The services (HTML)", content_type = "text/html", body = String)))]
async fn services_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Err(r) = admin_of(&v, "/admin/services") {
        return r;
    }
    services(
        &state,
        &v,
        StatusCode::OK,
        &Form::default(),
        notice(&q.fait),
        None,
    )
    .await
}

/// Adds a service (and its entité when new).
#[utoipa::path(post, path = "/admin/services", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Added"), (status = 422, description = "The form again (HTML)", content_type = "text/html", body = String)))]
async fn add_service(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let (admin, form) = match changing(&v, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (name, adm, entity) = (
        form.get("name").to_string(),
        form.get("administration").to_string(),
        form.opt("entity"),
    );
    match with_backoffice(&state, move |b| {
        b.create_service(&admin, &name, &adm, entity)
    })
    .await
    {
        Ok(_) => see_other("/admin/services?fait=added"),
        Err(e) => services(&state, &v, status_of(&e), &form, None, Some(&e)).await,
    }
}

/// Renames a service or changes its entité.
#[utoipa::path(post, path = "/admin/services/{id}", tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Renamed")))]
async fn rename_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let (admin, form) = match changing(&v, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (name, entity) = (form.get("name").to_string(), form.get("entity").to_string());
    match with_backoffice(&state, move |b| {
        b.rename_service(&admin, id, Some(&name), Some(&entity))
    })
    .await
    {
        Ok(_) => see_other("/admin/services?fait=renamed"),
        Err(e) => services(&state, &v, status_of(&e), &Form::default(), None, Some(&e)).await,
    }
}

// ----- accounts -----

struct AccountView {
    id: u64,
    name: String,
    email: String,
    role: &'static str,
    state: &'static str,
    services: Vec<(u64, String)>,
    recruiter: bool,
    can_disable: bool,
    can_enable: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    ctx: Ctx,
    notice: Option<String>,
    error: Option<String>,
    accounts: Vec<AccountView>,
    service_options: Vec<(String, String)>,
}

async fn accounts(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice_: Option<String>,
    error: Option<String>,
) -> Response {
    let admin = match admin_of(v, "/admin/comptes") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let me = admin.id;
    let loaded = with_backoffice(state, move |b| {
        Ok((b.staff(&admin, None)?, b.services(None)?))
    })
    .await;
    let (list, services) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(v, &e),
    };
    let name_of = |id: u64| {
        services
            .iter()
            .find(|s| s.id == id)
            .map_or(format!("Service n° {id}"), |s| s.name.clone())
    };
    let accounts = list
        .iter()
        .map(|a| AccountView {
            id: a.id,
            name: format!("{} {}", a.first_name, a.last_name),
            email: a.email.clone(),
            role: if a.role == Role::Admin {
                "Administrateur"
            } else {
                "Recruteur"
            },
            state: match a.state {
                AccountState::Active => "Actif",
                AccountState::Pending => "En attente",
                AccountState::Refused => "Refusé",
                AccountState::Disabled => "Désactivé",
            },
            services: a.services.iter().map(|id| (*id, name_of(*id))).collect(),
            recruiter: a.role == Role::Recruiter,
            can_disable: a.state == AccountState::Active && a.id != me,
            can_enable: a.state == AccountState::Disabled,
        })
        .collect();
    let service_options = services
        .iter()
        .map(|s| {
            (
                s.id.to_string(),
                format!("{} – {}", s.name, s.administration.label()),
            )
        })
        .collect();
    render(
        v,
        status,
        AccountsPage {
            ctx: v.ctx(&[("Administration", None), ("Comptes", None)]),
            notice: notice_,
            error,
            accounts,
            service_options,
        },
    )
}

/// The recruiter and administrator accounts.
#[utoipa::path(get, path = "/admin/comptes", tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The accounts (HTML)", content_type = "text/html", body = String)))]
async fn accounts_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    accounts(&state, &v, StatusCode::OK, notice(&q.fait), None).await
}

async fn account_change(
    state: &AppState,
    v: &Visitor,
    body: &Bytes,
    done: &str,
    f: impl FnOnce(&Backoffice<'_>, &Account, &Form) -> crate::Result<Account> + Send + 'static,
) -> Response {
    let (admin, form) = match changing(v, body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match with_backoffice(state, move |b| f(b, &admin, &form)).await {
        Ok(_) => see_other(&format!("/admin/comptes?fait={done}")),
        Err(e) => accounts(state, v, status_of(&e), None, Some(explain(&e))).await,
    }
}

/// Adds a recruiter to a service.
#[utoipa::path(post, path = "/admin/comptes/{id}/services", tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Added")))]
async fn add_membership(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    account_change(&state, &v, &body, "member", move |b, admin, form| {
        let service = form
            .get("service")
            .parse::<u64>()
            .map_err(|_| Error::invalid(crate::FieldError::new("service", "choose a service")))?;
        b.add_member(admin, id, service)
    })
    .await
}

/// Removes a recruiter from a service.
#[utoipa::path(post, path = "/admin/comptes/{id}/services/{service}/retirer", tag = "portal",
    params(("id" = u64, Path, description = "Account id"), ("service" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Removed")))]
async fn remove_membership(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, service)): Path<(u64, u64)>,
    body: Bytes,
) -> Response {
    account_change(&state, &v, &body, "unmember", move |b, admin, _| {
        b.remove_member(admin, id, service)
    })
    .await
}

/// Disables an account.
#[utoipa::path(post, path = "/admin/comptes/{id}/desactiver", tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Disabled")))]
async fn disable(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    account_change(&state, &v, &body, "disabled", move |b, admin, _| {
        b.set_enabled(admin, id, false)
    })
    .await
}

/// Enables an account again.
#[utoipa::path(post, path = "/admin/comptes/{id}/reactiver", tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Enabled")))]
async fn enable(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    account_change(&state, &v, &body, "enabled", move |b, admin, _| {
        b.set_enabled(admin, id, true)
    })
    .await
}

// ----- every offer (moderation) -----

/// Every offer, to withdraw one that breaks the rules.
#[utoipa::path(get, path = "/admin/offres", tag = "portal", params(ListQuery),
    responses((status = 200, description = "The offers (HTML)", content_type = "text/html", body = String)))]
async fn offers_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let admin = match admin_of(&v, "/admin/offres") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let filter = match q.state() {
        Ok(f) => f,
        Err(e) => return error_page(&v, &e),
    };
    let loaded = with_backoffice(&state, move |b| {
        Ok((b.all_offers(&admin, filter)?, b.account_names()?))
    })
    .await;
    let (offers, names) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&v, &e),
    };
    let mut list = offers_list(
        v.ctx(&[("Administration", None), ("Offres", None)]),
        "Toutes les offres",
        "/admin/offres",
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o| o.fields.service.clone(),
            actions: &|_| Vec::new(),
        },
    );
    for r in &mut list.rows {
        r.url = format!("/admin/offres/{}", r.reference);
    }
    list.notice = notice(q.done());
    render(&v, StatusCode::OK, list)
}

fn moderate_form(
    v: &Visitor,
    reference: &str,
    title: &str,
    state: OfferState,
    reason: &str,
) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[
            ("Administration", None),
            ("Offres", Some("/admin/offres")),
            (reference, None),
        ]),
        &format!("Retirer l'offre {reference}"),
        &format!("/admin/offres/{reference}"),
        vec![
            Field::new("reason", "Motif du retrait", "textarea", reason)
                .required()
                .hint("Envoyé aux recruteurs du service de l'offre."),
        ],
        "Retirer l'offre",
    )
    .intro(&format!(
        "« {title} » – état : {}. Retirer une offre l'archive : elle n'est plus diffusée.",
        super::recruiter::state_name(state)
    ))
    .links(vec![("/admin/offres".into(), "Revenir à la liste".into())]);
    if !matches!(state, OfferState::Published | OfferState::Filled) {
        page.notice =
            Some("Cette offre n'est pas diffusée : elle ne peut pas être retirée.".into());
    }
    page
}

/// The withdrawal form of an offer.
#[utoipa::path(get, path = "/admin/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn moderate_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> Response {
    let admin = match admin_of(&v, "/admin/offres") {
        Ok(a) => a,
        Err(r) => return r,
    };
    let r = reference.clone();
    match with_backoffice(&state, move |b| b.any_offer(&admin, &r)).await {
        Ok(o) => render(
            &v,
            StatusCode::OK,
            moderate_form(&v, &reference, &o.fields.title, o.state, ""),
        ),
        Err(e) => error_page(&v, &e),
    }
}

/// Withdraws the offer; the reason is mailed to its service.
#[utoipa::path(post, path = "/admin/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Withdrawn"), (status = 422, description = "No reason (HTML)", content_type = "text/html", body = String)))]
async fn moderate_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    let (admin, form) = match changing(&v, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reason = form.get("reason").to_string();
    let (a, r, why) = (admin.clone(), reference.clone(), reason.clone());
    match with_backoffice(&state, move |b| b.moderate(&a, &r, &why)).await {
        Ok(_) => see_other("/admin/offres?fait=moderated"),
        Err(e) => {
            let r = reference.clone();
            match with_backoffice(&state, move |b| b.any_offer(&admin, &r)).await {
                Ok(o) => render(
                    &v,
                    status_of(&e),
                    moderate_form(&v, &reference, &o.fields.title, o.state, &reason).with_error(&e),
                ),
                Err(e) => error_page(&v, &e),
            }
        }
    }
}
