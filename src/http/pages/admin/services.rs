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
    Path(id): Path<u64>,
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
