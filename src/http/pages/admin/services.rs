//! The organisation's services, by administration and entity: add, rename.

use super::*;

pub(super) struct ServiceView {
    pub(super) id: u64,
    pub(super) name: String,
}

pub(super) struct EntityView {
    pub(super) name: String,
    pub(super) services: Vec<ServiceView>,
}

pub(super) struct AdministrationView {
    pub(super) label: String,
    pub(super) versant: &'static str,
    pub(super) entities: Vec<EntityView>,
}

#[derive(Template)]
#[template(path = "admin_services.html")]
pub(super) struct ServicesPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) add_fields: Vec<Field>,
    pub(super) tree: Vec<AdministrationView>,
}

pub(super) fn tree(services: &[Service]) -> Vec<AdministrationView> {
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

pub(super) async fn services(
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
        let rest = crate::http::pages::attach_errors(&mut add_fields, e.fields());
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
#[utoipa::path(get, path = links::ADMIN_SERVICES, tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The services (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn services_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    admin_of(&v, links::ADMIN_SERVICES)?;
    Ok(services(
        &state,
        &v,
        StatusCode::OK,
        &Form::default(),
        Notice::of_query(&q.fait),
        None,
    )
    .await)
}

/// Adds a service (and its entité when new).
#[utoipa::path(post, path = links::ADMIN_SERVICES, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Added"), (status = 422, description = "The form again (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn add_service(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let (name, adm, entity) = (
        form.get("name").to_string(),
        form.get("administration").to_string(),
        form.opt("entity"),
    );
    Ok(
        match with_backoffice(&state, move |b| {
            b.create_service(&admin, &name, &adm, entity)
        })
        .await
        {
            Ok(_) => see_other(&Notice::ServiceAdded.after(links::ADMIN_SERVICES)),
            Err(e) => services(&state, &v, status_of(&e), &form, None, Some(&e)).await,
        },
    )
}

/// Renames a service or changes its entité.
#[utoipa::path(post, path = links::ADMIN_SERVICE, tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Renamed")))]
pub(super) async fn rename_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let (name, entity) = (form.get("name").to_string(), form.get("entity").to_string());
    Ok(
        match with_backoffice(&state, move |b| {
            b.rename_service(&admin, id, Some(&name), Some(&entity))
        })
        .await
        {
            Ok(_) => see_other(&Notice::ServiceRenamed.after(links::ADMIN_SERVICES)),
            Err(e) => services(&state, &v, status_of(&e), &Form::default(), None, Some(&e)).await,
        },
    )
}

#[derive(Template)]
#[template(path = "admin_service.html")]
pub(super) struct ServicePage {
    pub(super) ctx: Ctx,
    pub(super) title: String,
    pub(super) administration: String,
    pub(super) entity: String,
    pub(super) offers: usize,
    /// (name, role) of each member.
    pub(super) members: Vec<(String, &'static str)>,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) fields: Vec<Field>,
    pub(super) details_action: String,
    pub(super) delete_action: String,
    pub(super) merge_action: String,
    pub(super) targets: Vec<(String, String)>,
}

/// A service's page, with `form` in its details form and `error` shown.
async fn service(
    state: &AppState,
    v: &Visitor,
    id: u64,
    status: StatusCode,
    form: Option<&Form>,
    notice_: Option<String>,
    error: Option<&Error>,
) -> PageResult {
    let admin = admin_of(v, &links::fill1(links::ADMIN_SERVICE, id))?;
    let loaded = with_backoffice(state, move |b| {
        Ok((b.service_overview(&admin, id)?, b.services(None)?))
    })
    .await;
    let ((s, offers, members), all) = loaded.or_page(v)?;
    let value = |name: &str, stored: &Option<String>| match form {
        Some(f) => f.get(name).to_string(),
        None => stored.clone().unwrap_or_default(),
    };
    let mut fields = vec![
        Field::new(
            "address",
            "Adresse postale",
            "textarea",
            &value("address", &s.details.address),
        ),
        Field::new(
            "phone",
            "Téléphone",
            "tel",
            &value("phone", &s.details.phone),
        ),
        Field::new(
            "email",
            "Adresse électronique",
            "email",
            &value("email", &s.details.email),
        )
        .hint("Format attendu : nom@domaine.fr"),
        Field::new(
            "website",
            "Site internet",
            "url",
            &value("website", &s.details.website),
        )
        .hint("Format attendu : https://www.exemple.fr"),
    ];
    let mut top = None;
    if let Some(e) = error {
        let rest = crate::http::pages::attach_errors(&mut fields, e.fields());
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            rest.join(" ; ")
        })
        .filter(|t| !t.is_empty());
    }
    let title = format!("Service {}", s.name);
    Ok(render(
        v,
        status,
        ServicePage {
            ctx: v.ctx(&[
                ("Administration", None),
                ("Services", Some(links::ADMIN_SERVICES)),
                (&s.name, None),
            ]),
            title,
            administration: s.administration.label().to_string(),
            entity: s.entity.clone().unwrap_or_default(),
            offers,
            members: members
                .iter()
                .map(|m| {
                    (
                        format!("{} {}", m.account.first_name, m.account.last_name),
                        m.role.label(),
                    )
                })
                .collect(),
            notice: notice_,
            error: top,
            fields,
            details_action: links::fill1(links::ADMIN_SERVICE_DETAILS, id),
            delete_action: links::fill1(links::ADMIN_SERVICE_DELETE, id),
            merge_action: links::fill1(links::ADMIN_SERVICE_MERGE, id),
            targets: all
                .iter()
                .filter(|t| t.id != id)
                .map(|t| {
                    (
                        t.id.to_string(),
                        format!("{} – {}", t.name, t.administration.label()),
                    )
                })
                .collect(),
        },
    ))
}

/// A service: its details, members, offers' count; delete it when empty, or merge it.
#[utoipa::path(get, path = links::ADMIN_SERVICE, tag = "portal",
    params(("id" = u64, Path, description = "Service id"), NoticeQuery),
    responses((status = 200, description = "The service (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "No such service (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn service_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    service(
        &state,
        &v,
        id,
        StatusCode::OK,
        None,
        Notice::of_query(&q.fait),
        None,
    )
    .await
}

/// Saves how to reach a service.
#[utoipa::path(post, path = links::ADMIN_SERVICE_DETAILS, tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"),
              (status = 422, description = "The page again, faulty fields marked", content_type = "text/html", body = String)))]
pub(super) async fn service_details(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let details = crate::domain::account::ServiceDetails {
        address: form.opt("address"),
        phone: form.opt("phone"),
        email: form.opt("email"),
        website: form.opt("website"),
    };
    match with_backoffice(&state, move |b| b.set_service_details(&admin, id, details)).await {
        Ok(_) => Ok(see_other(
            &Notice::ServiceDetailsSaved.after(&links::fill1(links::ADMIN_SERVICE, id)),
        )),
        Err(e) => service(&state, &v, id, status_of(&e), Some(&form), None, Some(&e)).await,
    }
}

/// Deletes an empty service.
#[utoipa::path(post, path = links::ADMIN_SERVICE_DELETE, tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Deleted"),
              (status = 409, description = "Not empty (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn service_delete(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, _) = changing(&v, &body)?;
    match with_backoffice(&state, move |b| b.delete_service(&admin, id)).await {
        Ok(_) => Ok(see_other(
            &Notice::ServiceDeleted.after(links::ADMIN_SERVICES),
        )),
        Err(e) => service(&state, &v, id, status_of(&e), None, None, Some(&e)).await,
    }
}

/// The service a merge goes into.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct MergeQuery {
    /// The id of the service that receives everything.
    #[serde(default)]
    into: String,
}

/// The summary of a merge, before it is confirmed.
#[utoipa::path(get, path = links::ADMIN_SERVICE_MERGE, tag = "portal",
    params(("id" = u64, Path, description = "Service id"), MergeQuery),
    responses((status = 200, description = "What will move (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn merge_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    Query(q): Query<MergeQuery>,
) -> PageResult {
    let admin = admin_of(&v, &links::fill1(links::ADMIN_SERVICE, id))?;
    let Ok(into) = q.into.trim().parse::<u64>() else {
        let e = Error::invalid(crate::FieldError::new("into", "choose a service"));
        return service(&state, &v, id, status_of(&e), None, None, Some(&e)).await;
    };
    match with_backoffice(&state, move |b| b.merge_summary(&admin, id, into)).await {
        Ok(m) => {
            let action = links::fill1(links::ADMIN_SERVICE_MERGE, id);
            let mut page = FormPage::new(
                v.ctx(&[
                    ("Services", Some(links::ADMIN_SERVICES)),
                    ("Fusion", None),
                ]),
                &format!("Fusionner « {} » dans « {} »", m.from.name, m.into.name),
                &action,
                vec![Field::new("into", "", "hidden", &into.to_string())],
                "Fusionner les services",
            )
            .intro(&format!(
                "{} offre(s), avec leur historique et leurs statistiques, et {} membre(s) passeront du service « {} » ({}) au service « {} » ({}). Un membre des deux services garde le rôle le plus étendu. Le service « {} » sera ensuite supprimé.",
                m.offers,
                m.members,
                m.from.name,
                m.from.administration.label(),
                m.into.name,
                m.into.administration.label(),
                m.from.name
            ))
            .links(vec![(
                links::fill1(links::ADMIN_SERVICE, id),
                "Annuler et revenir au service".into(),
            )]);
            page.buttons = vec![("action", "merge", "Fusionner les services")];
            Ok(render(&v, StatusCode::OK, page))
        }
        Err(e) => service(&state, &v, id, status_of(&e), None, None, Some(&e)).await,
    }
}

/// Merges the service into another.
#[utoipa::path(post, path = links::ADMIN_SERVICE_MERGE, tag = "portal",
    params(("id" = u64, Path, description = "Service id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Merged: to the services")))]
pub(super) async fn merge_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let into = form.get("into").parse::<u64>().unwrap_or(0);
    match with_backoffice(&state, move |b| b.merge_services(&admin, id, into)).await {
        Ok(m) => Ok(see_other(
            &Notice::ServicesMerged.after(&links::fill1(links::ADMIN_SERVICE, m.into.id)),
        )),
        Err(e) => service(&state, &v, id, status_of(&e), None, None, Some(&e)).await,
    }
}
