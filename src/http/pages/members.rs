//! The members of a service for its gestionnaires (`/recruteur/services/{id}/membres`: roles,
//! removal, invitations by mail) and the administrators' invitation of a recruiter or another
//! administrator (`/admin/comptes/nouveau`). The rules are the back office's.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    Ctx, Field, Form, FormPage, Notice, OrPage, PageResult, Visitor, attach_errors, explain,
    render, see_other,
};
use crate::backoffice::{Invitation, Member};
use crate::domain::account::{AccountState, MemberRole, Role, Service};
use crate::error::Error;
use crate::http::error::status_of;
use crate::http::extract::RecordId;
use crate::http::{AppState, with_backoffice};
use crate::links;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(members_page, invite_submit))
        .routes(routes!(role_submit))
        .routes(routes!(remove_submit))
        .routes(routes!(new_account_page, new_account_submit))
}

/// What was just done.
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DoneQuery {
    /// What was just done (shown once).
    #[serde(default)]
    fait: String,
}

struct MemberView {
    id: u64,
    name: String,
    email: String,
    state: &'static str,
    role: &'static str,
    role_label: &'static str,
    me: bool,
    role_url: String,
    remove_url: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    ctx: Ctx,
    title: String,
    administration: String,
    notice: Option<String>,
    error: Option<String>,
    members: Vec<MemberView>,
    action: String,
    fields: Vec<Field>,
    has_field_errors: bool,
}

/// The fields of an invitation; `roles` are the roles offered, `services` the services (none
/// when the page is one service's).
fn invitation_fields(
    form: &Form,
    roles: Vec<(String, String)>,
    services: Option<Vec<(String, String)>>,
) -> Vec<Field> {
    // A colleague is a rédacteur unless said otherwise.
    let role = match form.get("role") {
        "" => "redacteur",
        r => r,
    };
    let mut fields = vec![
        Field::new("role", "Rôle", "select", role)
            .required()
            .options(roles),
    ];
    if let Some(services) = services {
        fields.push(
            Field::new("service", "Service", "select", form.get("service"))
                .hint("Pour un recruteur ; à laisser vide pour un administrateur")
                .options(services),
        );
    }
    fields.extend([
        Field::new("civility", "Civilité", "select", form.get("civility")).options(vec![
            ("".into(), "— Choisir —".into()),
            ("Mme".into(), "Madame".into()),
            ("M.".into(), "Monsieur".into()),
        ]),
        Field::new("first_name", "Prénom", "text", form.get("first_name")).required(),
        Field::new("last_name", "Nom", "text", form.get("last_name")).required(),
        Field::new(
            "email",
            "Adresse électronique professionnelle",
            "email",
            form.get("email"),
        )
        .required()
        .hint("Format attendu : prenom.nom@administration.gouv.fr"),
        Field::new("phone", "Téléphone", "tel", form.get("phone")),
    ]);
    fields
}

fn member_roles() -> Vec<(String, String)> {
    MemberRole::ALL
        .iter()
        .map(|r| (r.code().to_string(), r.label().to_string()))
        .collect()
}

fn invitation(form: &Form, service: Option<u64>) -> Invitation {
    Invitation {
        email: form.opt("email"),
        civility: form.opt("civility"),
        first_name: form.opt("first_name"),
        last_name: form.opt("last_name"),
        phone: form.opt("phone"),
        service: service.or_else(|| form.get("service").parse().ok()),
        role: form.opt("role"),
    }
}

/// An account's state, as the pages say it.
pub(crate) fn state_fr(s: AccountState) -> &'static str {
    match s {
        AccountState::Active => "Actif",
        AccountState::Pending => "En attente",
        AccountState::Refused => "Refusé",
        AccountState::Disabled => "Désactivé",
    }
}

/// The members page of `service`, with `form` in the invitation and `error` shown.
async fn members(
    state: &AppState,
    v: &Visitor,
    service: u64,
    status: StatusCode,
    form: &Form,
    notice: Option<String>,
    error: Option<&Error>,
) -> PageResult {
    let url = links::fill1(links::RECRUITER_MEMBERS, service);
    let who = v.require(Role::Recruiter, &url)?.clone();
    let me = who.id;
    let loaded: crate::Result<(Service, Vec<Member>)> =
        with_backoffice(state, move |b| b.members(&who, service)).await;
    let (s, list) = loaded.or_page(v)?;
    let mut fields = invitation_fields(form, member_roles(), None);
    let mut top = None;
    if let Some(e) = error {
        let rest = attach_errors(&mut fields, e.fields());
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            rest.join(" ; ")
        })
        .filter(|t| !t.is_empty());
    }
    let has_field_errors = fields.iter().any(|f| f.error.is_some());
    let members = list
        .iter()
        .map(|m| MemberView {
            id: m.account.id,
            name: format!("{} {}", m.account.first_name, m.account.last_name),
            email: m.account.email.clone(),
            state: state_fr(m.account.state),
            role: m.role.code(),
            role_label: m.role.label(),
            me: m.account.id == me,
            role_url: links::fill2(links::RECRUITER_MEMBER_ROLE, service, m.account.id),
            remove_url: links::fill2(links::RECRUITER_MEMBER_REMOVE, service, m.account.id),
        })
        .collect();
    let title = format!("Membres du service {}", s.name);
    Ok(render(
        v,
        status,
        MembersPage {
            ctx: v.ctx(&[
                ("Mes offres", Some(links::RECRUITER_OFFERS)),
                (&title, None),
            ]),
            administration: s.administration.label().to_string(),
            title,
            notice,
            error: top,
            members,
            action: url,
            fields,
            has_field_errors,
        },
    ))
}

/// The members of a service and their roles, with the invitation form (its gestionnaires).
#[utoipa::path(get, path = links::RECRUITER_MEMBERS, tag = "portal",
    params(("id" = u64, Path, description = "Service id"), DoneQuery),
    responses((status = 200, description = "The members (HTML)", content_type = "text/html", body = String),
              (status = 403, description = "Not a gestionnaire of the service (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn members_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    members(
        &state,
        &v,
        id,
        StatusCode::OK,
        &Form::default(),
        Notice::of_query(&q.fait),
        None,
    )
    .await
}

/// Invites a colleague to the service.
#[utoipa::path(post, path = links::RECRUITER_MEMBERS, tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Invited"),
              (status = 422, description = "The page again, faulty fields marked", content_type = "text/html", body = String)))]
pub(super) async fn invite_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let url = links::fill1(links::RECRUITER_MEMBERS, id);
    let (who, form) = v.changing(Role::Recruiter, &url, &body)?;
    let mut inv = invitation(&form, Some(id));
    if inv.role.as_deref() == Some("admin") {
        inv.role = Some(String::new());
    }
    match with_backoffice(&state, move |b| b.invite(&who, inv)).await {
        Ok(_) => Ok(see_other(&Notice::Invited.after(&url))),
        Err(e) => members(&state, &v, id, status_of(&e), &form, None, Some(&e)).await,
    }
}

/// A gestionnaire's change of a member from the members page of service `id`: done, then back
/// to the page with `done` said; or the page with the error.
async fn member_change(
    state: &AppState,
    v: &Visitor,
    id: u64,
    body: &[u8],
    done: Notice,
    change: impl FnOnce(
        &crate::backoffice::Backoffice<'_>,
        &crate::domain::account::Account,
        &Form,
    ) -> crate::Result<crate::domain::account::Account>
    + Send
    + 'static,
) -> PageResult {
    let url = links::fill1(links::RECRUITER_MEMBERS, id);
    let (who, form) = v.changing(Role::Recruiter, &url, body)?;
    match with_backoffice(state, move |b| change(b, &who, &form)).await {
        Ok(_) => Ok(see_other(&done.after(&url))),
        Err(e) => {
            members(
                state,
                v,
                id,
                status_of(&e),
                &Form::default(),
                None,
                Some(&e),
            )
            .await
        }
    }
}

/// Changes a member's role.
#[utoipa::path(post, path = links::RECRUITER_MEMBER_ROLE, tag = "portal",
    params(("id" = u64, Path, description = "Service id"), ("account" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Changed")))]
pub(super) async fn role_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, account)): Path<(RecordId, RecordId)>,
    body: Bytes,
) -> PageResult {
    let (id, account) = (id.0, account.0);
    member_change(
        &state,
        &v,
        id,
        &body,
        Notice::RoleChanged,
        move |b, who, form| b.set_member_role(who, id, account, form.get("role")),
    )
    .await
}

/// Removes a member from the service.
#[utoipa::path(post, path = links::RECRUITER_MEMBER_REMOVE, tag = "portal",
    params(("id" = u64, Path, description = "Service id"), ("account" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Removed")))]
pub(super) async fn remove_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, account)): Path<(RecordId, RecordId)>,
    body: Bytes,
) -> PageResult {
    let (id, account) = (id.0, account.0);
    member_change(
        &state,
        &v,
        id,
        &body,
        Notice::MemberRemoved,
        move |b, who, _| b.remove_member(who, account, id),
    )
    .await
}

/// The administrators' invitation form.
async fn new_account(
    state: &AppState,
    v: &Visitor,
    form: &Form,
    status: StatusCode,
    error: Option<&Error>,
) -> PageResult {
    let admin = v.require(Role::Admin, links::ADMIN_NEW_ACCOUNT)?.clone();
    let services = with_backoffice(state, move |b| {
        crate::auth::require(&admin, Role::Admin)?;
        b.services(None)
    })
    .await
    .or_page(v)?;
    let mut roles = vec![("".to_string(), "— Choisir —".to_string())];
    roles.extend(member_roles());
    roles.push(("admin".into(), "Administrateur (sans service)".into()));
    let mut options = vec![("".to_string(), "— Aucun (administrateur) —".to_string())];
    options.extend(services.iter().map(|s| {
        (
            s.id.to_string(),
            format!("{} – {}", s.name, s.administration.label()),
        )
    }));
    let mut page = FormPage::new(
        v.ctx(&[
            ("Comptes", Some(links::ADMIN_ACCOUNTS)),
            ("Inviter", None),
        ]),
        "Inviter un recruteur ou un administrateur",
        links::ADMIN_NEW_ACCOUNT,
        invitation_fields(form, roles, Some(options)),
        "Envoyer l'invitation",
    )
    .intro("Un recruteur est rattaché à un service avec un rôle ; un administrateur n'a pas de service. La personne reçoit un lien pour choisir son mot de passe (ou, si elle a déjà un compte recruteur, l'annonce de son rattachement).")
    .links(vec![(links::ADMIN_ACCOUNTS.into(), "Retour aux comptes".into())]);
    if let Some(e) = error {
        page = page.with_error(e);
    }
    Ok(render(v, status, page))
}

/// Invites a recruiter to a service with a role, or another administrator.
#[utoipa::path(get, path = links::ADMIN_NEW_ACCOUNT, tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn new_account_page(State(state): State<AppState>, v: Visitor) -> PageResult {
    new_account(&state, &v, &Form::default(), StatusCode::OK, None).await
}

/// Sends the invitation.
#[utoipa::path(post, path = links::ADMIN_NEW_ACCOUNT, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Invited: to the accounts"),
              (status = 422, description = "The form again, faulty fields marked", content_type = "text/html", body = String)))]
pub(super) async fn new_account_submit(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (admin, form) = v.changing(Role::Admin, links::ADMIN_NEW_ACCOUNT, &body)?;
    let inv = invitation(&form, None);
    match with_backoffice(&state, move |b| b.invite(&admin, inv)).await {
        Ok(_) => Ok(see_other(&Notice::Invited.after(links::ADMIN_ACCOUNTS))),
        Err(e) => new_account(&state, &v, &form, status_of(&e), Some(&e)).await,
    }
}
