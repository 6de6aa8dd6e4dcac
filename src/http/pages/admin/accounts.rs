//! The accounts: disable, re-enable, memberships of services.

use super::*;

pub(super) struct AccountView {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) role: &'static str,
    pub(super) state: &'static str,
    pub(super) services: Vec<(u64, String, &'static str)>,
    pub(super) recruiter: bool,
    pub(super) can_disable: bool,
    pub(super) can_enable: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
pub(super) struct AccountsPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) accounts: Vec<AccountView>,
    pub(super) service_options: Vec<(String, String)>,
}

pub(super) async fn accounts(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice_: Option<String>,
    error: Option<String>,
) -> PageResult {
    let admin = admin_of(v, links::ADMIN_ACCOUNTS)?;
    let me = admin.id;
    let loaded = with_backoffice(state, move |b| {
        Ok((b.staff(&admin, None)?, b.services(None)?))
    })
    .await;
    let (list, services) = loaded.or_page(v)?;
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
            state: crate::http::pages::members::state_fr(a.state),
            services: a
                .services
                .iter()
                .map(|id| {
                    let role = a.role_in(*id).unwrap_or_default().label();
                    (*id, name_of(*id), role)
                })
                .collect(),
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
    Ok(render(
        v,
        status,
        AccountsPage {
            ctx: v.ctx(&[("Administration", None), ("Comptes", None)]),
            notice: notice_,
            error,
            accounts,
            service_options,
        },
    ))
}

/// The recruiter and administrator accounts as CSV (UTF-8 with BOM, `;`): one line per
/// account, its services with its role in each.
#[utoipa::path(get, path = links::ADMIN_ACCOUNTS_CSV, tag = "portal",
    responses((status = 200, description = "The accounts (CSV)", content_type = "text/csv", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn accounts_csv_page(State(state): State<AppState>, v: Visitor) -> PageResult {
    let admin = admin_of(&v, links::ADMIN_ACCOUNTS)?;
    let loaded = with_backoffice(&state, move |b| {
        Ok((b.staff(&admin, None)?, b.services(None)?))
    })
    .await;
    let (list, services) = loaded.or_page(&v)?;
    let zone = state.engine.zone();
    let rows = list.iter().map(|a| {
        let memberships: Vec<String> = a
            .services
            .iter()
            .map(|id| {
                let name = services
                    .iter()
                    .find(|s| s.id == *id)
                    .map_or(format!("Service n° {id}"), |s| s.name.clone());
                format!("{name} ({})", a.role_in(*id).unwrap_or_default().label())
            })
            .collect();
        vec![
            a.last_name.clone(),
            a.first_name.clone(),
            a.email.clone(),
            a.phone.clone().unwrap_or_default(),
            if a.role == Role::Admin {
                "Administrateur"
            } else {
                "Recruteur"
            }
            .to_string(),
            crate::http::pages::members::state_fr(a.state).to_string(),
            memberships.join(" | "),
            date_fr(a.created_at, zone),
            a.last_login_at
                .map(|t| date_fr(t, zone))
                .unwrap_or_default(),
        ]
    });
    let csv = super::super::recruiter::csv_text(
        "Nom;Prénom;Adresse électronique;Téléphone;Rôle;État;Services (rôle);Créé le;Dernière connexion",
        rows,
    );
    Ok(super::super::recruiter::csv_answer("comptes.csv", csv))
}

/// The recruiter and administrator accounts.
#[utoipa::path(get, path = links::ADMIN_ACCOUNTS, tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The accounts (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn accounts_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    accounts(&state, &v, StatusCode::OK, Notice::of_query(&q.fait), None).await
}

pub(super) async fn account_change(
    state: &AppState,
    v: &Visitor,
    body: &Bytes,
    done: Notice,
    f: impl FnOnce(&Backoffice<'_>, &Account, &Form) -> crate::Result<Account> + Send + 'static,
) -> PageResult {
    let (admin, form) = changing(v, body)?;
    Ok(
        match with_backoffice(state, move |b| f(b, &admin, &form)).await {
            Ok(_) => see_other(&done.after(links::ADMIN_ACCOUNTS)),
            Err(e) => accounts(state, v, status_of(&e), None, Some(explain(&e))).await?,
        },
    )
}

/// Adds a recruiter to a service.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_SERVICES, tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Added")))]
pub(super) async fn add_membership(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    account_change(
        &state,
        &v,
        &body,
        Notice::MemberAdded,
        move |b, admin, form| {
            let service = form.get("service").parse::<u64>().map_err(|_| {
                Error::invalid(crate::FieldError::new("service", "choose a service"))
            })?;
            let role = Some(form.get("role")).filter(|r| !r.is_empty());
            b.add_member(admin, id, service, role)
        },
    )
    .await
}

/// Removes a recruiter from a service.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_SERVICE_REMOVE, tag = "portal",
    params(("id" = u64, Path, description = "Account id"), ("service" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Removed")))]
pub(super) async fn remove_membership(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, service)): Path<(RecordId, RecordId)>,
    body: Bytes,
) -> PageResult {
    let (id, service) = (id.0, service.0);
    account_change(
        &state,
        &v,
        &body,
        Notice::MemberRemoved,
        move |b, admin, _| b.remove_member(admin, id, service),
    )
    .await
}

/// Disables an account.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_DISABLE, tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Disabled")))]
pub(super) async fn disable(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    account_change(&state, &v, &body, Notice::Disabled, move |b, admin, _| {
        b.set_enabled(admin, id, false)
    })
    .await
}

/// Enables an account again.
#[utoipa::path(post, path = links::ADMIN_ACCOUNT_ENABLE, tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Enabled")))]
pub(super) async fn enable(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    account_change(&state, &v, &body, Notice::Enabled, move |b, admin, _| {
        b.set_enabled(admin, id, true)
    })
    .await
}
