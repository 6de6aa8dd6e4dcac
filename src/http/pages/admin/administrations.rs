//! The administrations de rattachement (`/admin/administrations`): the list with each one's
//! versant, type and services, a form to add one, a form to rename one.

use super::*;
use crate::backoffice::administrations::{
    AdministrationPatch, AdministrationRow, NewAdministration, VERSANTS, kinds,
};
use crate::http::pages::recruiter::versant_label;

/// The French name of a type of employer.
fn kind_label(kind: &str) -> String {
    match kind {
        "ministere" => "Ministère",
        "services-centraux" => "Services du Premier ministre",
        "etablissement-public" => "Établissement public",
        "etablissement-public-local" => "Établissement public local",
        "autorite-independante" => "Autorité indépendante",
        "juridiction" => "Juridiction",
        "collectivite" => "Collectivité territoriale",
        "intercommunalite" => "Intercommunalité",
        "etablissement-sante" => "Établissement de santé",
        "etablissement-medico-social" => "Établissement social ou médico-social",
        other => other,
    }
    .to_string()
}

pub(super) struct AdministrationLine {
    pub(super) code: String,
    pub(super) label: String,
    pub(super) short_label: String,
    pub(super) versant: &'static str,
    pub(super) kind: String,
    pub(super) services: usize,
    pub(super) origin: &'static str,
    pub(super) aliases: String,
}

#[derive(Template)]
#[template(path = "admin_administrations.html")]
pub(super) struct AdministrationsPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) add_fields: Vec<Field>,
    pub(super) rename_fields: Vec<Field>,
    pub(super) lines: Vec<AdministrationLine>,
}

fn line(r: AdministrationRow) -> AdministrationLine {
    let a = r.administration;
    AdministrationLine {
        origin: if r.added {
            "Ajoutée"
        } else if r.renamed {
            "Renommée"
        } else {
            "D'origine"
        },
        versant: versant_label(&a.versant),
        kind: kind_label(&a.kind),
        aliases: a.aliases.join(" ; "),
        code: a.code,
        label: a.label,
        short_label: a.short_label,
        services: r.services,
    }
}

/// Which of the page's two forms an error belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Add,
    Rename,
}

async fn administrations(
    state: &AppState,
    v: &Visitor,
    admin: Account,
    status: StatusCode,
    form: &Form,
    notice_: Option<String>,
    error: Option<(Which, &Error)>,
) -> Response {
    let add_form = |name: &str| match error {
        Some((Which::Add, _)) => form.get(name).to_string(),
        _ => String::new(),
    };
    let rename_form = |name: &str| match error {
        Some((Which::Rename, _)) => form.get(name).to_string(),
        _ => String::new(),
    };
    let mut add_fields = vec![
        Field::new("label", "Nom", "text", &add_form("label"))
            .required()
            .hint("Par exemple : Ministère de la Mer et de la Pêche"),
        Field::new(
            "short_label",
            "Nom court (facultatif)",
            "text",
            &add_form("short_label"),
        )
        .hint("Pour les listes étroites ; le nom s'il est vide"),
        Field::new("versant", "Versant", "select", &add_form("versant"))
            .required()
            .options(
                std::iter::once((String::new(), "— Choisir —".to_string()))
                    .chain(VERSANTS.map(|v| (v.to_string(), versant_label(v).to_string())))
                    .collect(),
            ),
        Field::new("type", "Type d'employeur", "select", &add_form("type"))
            .required()
            .options(
                std::iter::once((String::new(), "— Choisir —".to_string()))
                    .chain(kinds().into_iter().map(|k| {
                        let l = kind_label(&k);
                        (k, l)
                    }))
                    .collect(),
            ),
        Field::new("code", "Code (facultatif)", "text", &add_form("code")).hint(
            "Lettres minuscules, chiffres et tirets ; fait à partir du nom s'il est vide. Il ne change plus ensuite.",
        ),
    ];
    let mut rename_fields = vec![
        Field::new(
            "administration",
            "Administration",
            "select",
            &rename_form("administration"),
        )
        .required()
        .groups(administration_groups("— Choisir —")),
        Field::new(
            "new_label",
            "Nouveau nom",
            "text",
            &rename_form("new_label"),
        )
        .hint("L'ancien nom reste reconnu ; vide pour le garder"),
        Field::new(
            "new_short_label",
            "Nouveau nom court",
            "text",
            &rename_form("new_short_label"),
        )
        .hint("Vide pour le garder"),
    ];
    let mut top = None;
    if let Some((which, e)) = error {
        let fields = match which {
            Which::Add => &mut add_fields,
            Which::Rename => &mut rename_fields,
        };
        let rest = crate::http::pages::attach_errors(fields, e.fields());
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            // Said above the forms too, for whoever does not see the fields' marks.
            std::iter::once("Le formulaire contient des erreurs".to_string())
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ; ")
        });
    }
    match with_backoffice(state, move |b| b.administrations(&admin)).await {
        Ok(rows) => render(
            v,
            status,
            AdministrationsPage {
                ctx: v.ctx(&[("Administration", None), ("Administrations", None)]),
                notice: notice_,
                error: top,
                add_fields,
                rename_fields,
                lines: rows.into_iter().map(line).collect(),
            },
        ),
        Err(e) => error_page(v, &e),
    }
}

/// The administrations, with forms to add one and to rename one.
#[utoipa::path(get, path = links::ADMIN_ADMINISTRATIONS, tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The administrations (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn administrations_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let admin = admin_of(&v, links::ADMIN_ADMINISTRATIONS)?;
    Ok(administrations(
        &state,
        &v,
        admin,
        StatusCode::OK,
        &Form::default(),
        Notice::of_query(&q.fait),
        None,
    )
    .await)
}

/// Adds an administration.
#[utoipa::path(post, path = links::ADMIN_ADMINISTRATIONS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Added"), (status = 422, description = "The form again (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn add_administration(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let who = admin.clone();
    let input = NewAdministration {
        code: form.opt("code"),
        label: form.opt("label"),
        short_label: form.opt("short_label"),
        versant: form.opt("versant"),
        kind: form.opt("type"),
    };
    Ok(
        match with_backoffice(&state, move |b| b.add_administration(&admin, input)).await {
            Ok(_) => see_other(&Notice::AdministrationAdded.after(links::ADMIN_ADMINISTRATIONS)),
            Err(e) => {
                administrations(
                    &state,
                    &v,
                    who,
                    status_of(&e),
                    &form,
                    None,
                    Some((Which::Add, &e)),
                )
                .await
            }
        },
    )
}

/// Renames an administration.
#[utoipa::path(post, path = links::ADMIN_ADMINISTRATION_RENAME, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Renamed"), (status = 422, description = "The form again (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn rename_administration(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let who = admin.clone();
    let code = form.get("administration").to_string();
    // The rename form's names differ from the add form's: one page, unique ids.
    let patch = AdministrationPatch {
        label: form.opt("new_label"),
        short_label: form.opt("new_short_label"),
    };
    let result = if code.is_empty() {
        Err(Error::invalid(crate::FieldError::required(
            "administration",
        )))
    } else {
        with_backoffice(&state, move |b| {
            b.rename_administration(&admin, &code, patch)
        })
        .await
    };
    Ok(match result {
        Ok(_) => see_other(&Notice::AdministrationRenamed.after(links::ADMIN_ADMINISTRATIONS)),
        Err(e) => {
            let e = match e {
                // The select offers the known codes only: another is a field error, not a page.
                Error::NotFound(_) => Error::invalid(crate::FieldError::new(
                    "administration",
                    "unknown administration",
                )),
                Error::Invalid(mut v) => {
                    for f in &mut v.0 {
                        if f.field == "label" || f.field == "short_label" {
                            f.field = format!("new_{}", f.field);
                        }
                    }
                    Error::Invalid(v)
                }
                e => e,
            };
            administrations(
                &state,
                &v,
                who,
                status_of(&e),
                &form,
                None,
                Some((Which::Rename, &e)),
            )
            .await
        }
    })
}
