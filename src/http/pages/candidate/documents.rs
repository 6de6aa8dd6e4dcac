//! « Mes documents » (upload, rename, replace, default, delete, download), « Postuler en
//! ligne » (`/offres/{reference}/candidater`: documents chosen, a message) and « Mes
//! candidatures ».

use axum::extract::Multipart;

use super::*;
use crate::candidates::{
    MAX_APPLICATION_BYTES, MAX_DOCUMENT_BYTES, MAX_MESSAGE_CHARS, application_address,
};
use crate::domain::documents::{Document, DocumentKind};
use crate::domain::files::Refusal;
use crate::http::pages::{kind_of, read_multipart, size_fr};

/// What the file inputs accept (the server checks the content anyway).
const ACCEPT: &str = ".pdf,.doc,.docx,.odt,.jpg,.jpeg,.png";

pub(crate) struct DocumentView {
    pub(super) id: u64,
    pub(super) name: String,
    /// « PDF · 120 ko · ajouté le 3 décembre 2026 ».
    pub(super) detail: String,
    pub(super) default: bool,
    pub(super) download: String,
    pub(super) action: String,
    pub(super) file_action: String,
}

pub(crate) struct DocumentGroup {
    pub(super) code: &'static str,
    pub(super) heading: &'static str,
    pub(super) max: usize,
    pub(super) documents: Vec<DocumentView>,
}

#[derive(Template)]
#[template(path = "documents.html")]
pub(super) struct DocumentsPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) groups: Vec<DocumentGroup>,
    /// (code, label, selected) of each kind.
    pub(super) kinds: Vec<(&'static str, &'static str, bool)>,
    pub(super) max_size: String,
    pub(super) accept: &'static str,
    /// The application page to go back to once a document is added.
    pub(super) back: Option<String>,
}

fn document_view(d: &Document, zone: &crate::domain::local_time::Zone) -> DocumentView {
    let id = d.id.to_string();
    DocumentView {
        id: d.id,
        name: d.name.clone(),
        detail: format!(
            "{} · {} · ajouté le {}",
            kind_of(&d.content_type),
            size_fr(d.size),
            crate::http::pages::portal::day_fr(zone.today(d.uploaded_at))
        ),
        default: d.default,
        download: links::fill(links::DOCUMENT_FILE, &[&id]),
        action: links::fill(links::DOCUMENT, &[&id]),
        file_action: links::fill(links::DOCUMENT_FILE, &[&id]),
    }
}

/// A path of this site to come back to, or none.
fn local_path(back: &str) -> Option<String> {
    (back.starts_with('/') && !back.starts_with("//") && !back.contains('\\'))
        .then(|| back.to_string())
}

/// What the documents' page says besides the documents.
struct Shown {
    notice: Option<String>,
    error: Option<String>,
    /// The kind chosen in the form.
    kind: DocumentKind,
    /// The application page to go back to.
    back: Option<String>,
}

impl Shown {
    /// The page again with an error.
    fn error(error: String, kind: DocumentKind, back: Option<String>) -> Shown {
        Shown {
            notice: None,
            error: Some(error),
            kind,
            back,
        }
    }
}

/// The documents' page.
async fn documents_answer(
    state: &AppState,
    v: &Visitor,
    who: Account,
    status: StatusCode,
    shown: Shown,
) -> PageResult {
    let Shown {
        notice,
        error,
        kind,
        back,
    } = shown;
    let zone = state.engine.zone().clone();
    let docs = with_candidates(state, move |c| c.documents(&who))
        .await
        .or_page(v)?;
    let groups = DocumentKind::ALL
        .iter()
        .map(|k| DocumentGroup {
            code: k.code(),
            heading: k.heading(),
            max: k.max(),
            documents: docs
                .iter()
                .filter(|d| d.kind == *k)
                .map(|d| document_view(d, &zone))
                .collect(),
        })
        .collect();
    Ok(render(
        v,
        status,
        DocumentsPage {
            ctx: v.ctx(&[
                ("Mon compte", Some(links::ACCOUNT)),
                ("Mes documents", None),
            ]),
            notice,
            error,
            groups,
            kinds: DocumentKind::ALL
                .iter()
                .map(|k| (k.code(), k.label(), *k == kind))
                .collect(),
            max_size: size_fr(MAX_DOCUMENT_BYTES as u64),
            accept: ACCEPT,
            back,
        },
    ))
}

/// Where to come back to from the documents (`retour`).
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DocumentsQuery {
    /// What was just done.
    #[serde(default)]
    pub(crate) fait: String,
    /// The application page to go back to (a path of this site).
    #[serde(default)]
    pub(crate) retour: String,
}

/// "Mes documents".
#[utoipa::path(get, path = links::DOCUMENTS, tag = "portal", params(DocumentsQuery),
    responses((status = 200, description = "The candidate's documents (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn documents_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DocumentsQuery>,
) -> PageResult {
    let who = candidate(&v, links::DOCUMENTS)?;
    let shown = Shown {
        notice: Notice::of_query(&q.fait),
        error: None,
        kind: DocumentKind::Cv,
        back: local_path(&q.retour),
    };
    documents_answer(&state, &v, who, StatusCode::OK, shown).await
}

/// The sentence of a refused file.
fn refusal_fr(r: Refusal) -> String {
    match r {
        Refusal::TooLarge(max) => format!(
            "Le fichier dépasse la taille maximale ({}).",
            size_fr(max as u64)
        ),
        Refusal::NotADocument => {
            "Ce fichier n'est pas un document PDF, DOC, DOCX, ODT, ni une image JPG ou PNG.".into()
        }
    }
}

/// Adds a document (multipart: `csrf`, `kind`, `name`, `file`, and `back`).
#[utoipa::path(post, path = links::DOCUMENTS, tag = "portal",
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 303, description = "Added: back to the documents (or to the application)"),
              (status = 422, description = "The page again, the file refused", content_type = "text/html", body = String)))]
pub(super) async fn add_document(
    State(state): State<AppState>,
    v: Visitor,
    multipart: Multipart,
) -> PageResult {
    let who = candidate(&v, links::DOCUMENTS)?;
    let (form, file) = match read_multipart(multipart).await {
        Ok(x) => x,
        Err(failure) => {
            return documents_answer(
                &state,
                &v,
                who,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown::error(failure, DocumentKind::Cv, None),
            )
            .await;
        }
    };
    v.check_csrf(&form)?;
    let back = local_path(form.get("back"));
    let kind = DocumentKind::parse("kind", form.get("kind")).unwrap_or(DocumentKind::Cv);
    let name = form.get("name").to_string();
    let error = match file {
        Some((file_name, bytes)) if !bytes.is_empty() => {
            let w = who.clone();
            match with_candidates(&state, move |c| {
                c.add_document(&w, kind, &name, &file_name, &bytes)
            })
            .await
            {
                Ok(Ok(_)) => {
                    let page = back.as_deref().unwrap_or(links::DOCUMENTS);
                    return Ok(see_other(&Notice::DocumentAdded.after(page)));
                }
                Ok(Err(r)) => refusal_fr(r),
                Err(e @ Error::Invalid(_)) => explain(&e),
                Err(e) => return Err(error_page(&v, &e).into()),
            }
        }
        _ => "Choisissez un fichier.".to_string(),
    };
    documents_answer(
        &state,
        &v,
        who,
        StatusCode::UNPROCESSABLE_ENTITY,
        Shown::error(error, kind, back),
    )
    .await
}

/// Renames (`do=rename`, `name`), makes default (`do=default`) or deletes (`do=delete`) a
/// document.
#[utoipa::path(post, path = links::DOCUMENT, tag = "portal",
    params(("id" = u64, Path, description = "Document id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the documents"),
              (status = 422, description = "The page again, the name refused", content_type = "text/html", body = String)))]
pub(super) async fn document_action(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (who, form) = changing(&v, &body, links::DOCUMENTS)?;
    let what = form.get("do").to_string();
    let name = form.get("name").to_string();
    let w = who.clone();
    let done = with_candidates(&state, move |c| match what.as_str() {
        "rename" => c
            .change_document(&w, id, Some(&name), false)
            .map(|_| Notice::DocumentRenamed),
        "default" => c
            .change_document(&w, id, None, true)
            .map(|_| Notice::DocumentDefault),
        "delete" => c.delete_document(&w, id).map(|_| Notice::DocumentDeleted),
        _ => Err(Error::invalid(FieldError::with_allowed(
            "do",
            "unknown action",
            vec!["rename".into(), "default".into(), "delete".into()],
        ))),
    })
    .await;
    match done {
        Ok(n) => Ok(see_other(&n.after(links::DOCUMENTS))),
        Err(e @ Error::Invalid(_)) => {
            let shown = Shown::error(explain(&e), DocumentKind::Cv, None);
            documents_answer(&state, &v, who, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(e) => Err(error_page(&v, &e).into()),
    }
}

/// Downloads one of the candidate's documents.
#[utoipa::path(get, path = links::DOCUMENT_FILE, tag = "portal",
    params(("id" = u64, Path, description = "Document id")),
    responses((status = 200, description = "The document", content_type = "application/octet-stream", body = String),
              (status = 404, description = "Not one of yours (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn document_download(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
) -> PageResult {
    let who = candidate(&v, links::DOCUMENTS)?;
    let (d, bytes) = with_candidates(&state, move |c| c.document_file(&who, id))
        .await
        .or_page(&v)?;
    Ok(crate::http::api::offers::file_response(
        &d.content_type,
        &d.file_name(),
        bytes,
    ))
}

/// Replaces a document's file (multipart: `csrf`, `file`).
#[utoipa::path(post, path = links::DOCUMENT_FILE, tag = "portal",
    params(("id" = u64, Path, description = "Document id")),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 303, description = "Replaced: back to the documents"),
              (status = 422, description = "The page again, the file refused", content_type = "text/html", body = String)))]
pub(super) async fn document_replace(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    multipart: Multipart,
) -> PageResult {
    let who = candidate(&v, links::DOCUMENTS)?;
    let error = match read_multipart(multipart).await {
        Err(failure) => failure,
        Ok((form, file)) => {
            v.check_csrf(&form)?;
            match file {
                Some((_, bytes)) if !bytes.is_empty() => {
                    let w = who.clone();
                    match with_candidates(&state, move |c| c.replace_document(&w, id, &bytes)).await
                    {
                        Ok(Ok(_)) => {
                            return Ok(see_other(
                                &Notice::DocumentReplaced.after(links::DOCUMENTS),
                            ));
                        }
                        Ok(Err(r)) => refusal_fr(r),
                        Err(e) => return Err(error_page(&v, &e).into()),
                    }
                }
                _ => "Choisissez un fichier.".to_string(),
            }
        }
    };
    documents_answer(
        &state,
        &v,
        who,
        StatusCode::UNPROCESSABLE_ENTITY,
        Shown::error(error, DocumentKind::Cv, None),
    )
    .await
}

pub(crate) struct ApplicationView {
    pub(super) date: String,
    pub(super) title: String,
    pub(super) reference: String,
    pub(super) url: Option<String>,
    pub(super) state: &'static str,
    pub(super) documents: String,
    pub(super) to: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
pub(super) struct ApplicationsPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) applications: Vec<ApplicationView>,
}

/// "Mes candidatures".
#[utoipa::path(get, path = links::APPLICATIONS, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The applications sent (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn applications_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let who = candidate(&v, links::APPLICATIONS)?;
    let (now, zone) = (state.engine.now(), state.engine.zone().clone());
    let list = with_candidates(&state, move |c| c.applications(&who))
        .await
        .or_page(&v)?;
    let applications = list
        .iter()
        .map(|(x, o)| {
            let visible = o.as_ref().is_some_and(|o| o.is_visible(now, &zone));
            ApplicationView {
                date: crate::http::pages::portal::day_fr(zone.today(x.sent_at)),
                title: x.title.clone(),
                reference: x.reference.clone(),
                url: visible.then(|| links::fill(links::OFFER, &[&x.reference])),
                state: match o {
                    _ if visible => "En ligne",
                    Some(o) if o.state == crate::domain::OfferState::Filled => "Pourvue",
                    Some(_) => "N'est plus diffusée",
                    None => "Supprimée",
                },
                documents: x.documents.join(", "),
                to: x.to.clone(),
            }
        })
        .collect();
    Ok(render(
        &v,
        StatusCode::OK,
        ApplicationsPage {
            ctx: v.ctx(&[
                ("Mon compte", Some(links::ACCOUNT)),
                ("Mes candidatures", None),
            ]),
            notice: Notice::of_query(&q.fait),
            applications,
        },
    ))
}

pub(crate) struct ChoiceView {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) detail: String,
    pub(super) checked: bool,
}

#[derive(Template)]
#[template(path = "apply.html")]
pub(super) struct ApplyPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) title: String,
    pub(super) reference: String,
    pub(super) offer_url: String,
    pub(super) to: String,
    pub(super) email: String,
    pub(super) previous: Option<String>,
    pub(super) errors: Vec<String>,
    pub(super) documents_error: bool,
    pub(super) message_error: bool,
    pub(super) documents: Vec<ChoiceView>,
    pub(super) message: String,
    pub(super) action: String,
    pub(super) add_document: String,
    pub(super) max_total: String,
    pub(super) max_message: usize,
}

/// What the application form holds: the documents chosen (none: the defaults) and the
/// message, with the errors of a refused try.
#[derive(Default)]
struct Draft {
    notice: Option<String>,
    chosen: Option<Vec<u64>>,
    message: String,
    errors: Vec<String>,
    documents_error: bool,
    message_error: bool,
}

async fn apply_answer(
    state: &AppState,
    v: &Visitor,
    who: Account,
    reference: String,
    status: StatusCode,
    draft: Draft,
) -> PageResult {
    let zone = state.engine.zone().clone();
    let r = reference.clone();
    let w = who.clone();
    let (offer, docs) =
        with_candidates(state, move |c| Ok((c.visible_offer(&r)?, c.documents(&w)?)))
            .await
            .or_page(v)?;
    // The visitor's account is read at each request: its applications are current.
    let previous = who
        .applications
        .iter()
        .find(|x| x.offer_id == offer.id)
        .map(|x| x.sent_at);
    let Some(to) = application_address(&offer).map(str::to_string) else {
        return Err(message_with_links(
            v,
            StatusCode::CONFLICT,
            "Candidature en ligne impossible",
            "Cette offre ne reçoit pas de candidatures par courriel : son annonce dit comment postuler.",
            vec![(
                links::fill(links::OFFER, &[&offer.reference]),
                "Revenir à l'offre".into(),
            )],
        )
        .into());
    };
    let here = links::fill(links::OFFER_APPLY_ONLINE, &[&offer.reference]);
    let documents = docs
        .iter()
        .map(|d| {
            let view = document_view(d, &zone);
            ChoiceView {
                id: d.id,
                name: d.name.clone(),
                detail: format!("{} · {}", d.kind.label(), view.detail),
                checked: match &draft.chosen {
                    Some(ids) => ids.contains(&d.id),
                    None => d.default && d.kind != DocumentKind::Autre,
                },
            }
        })
        .collect();
    Ok(render(
        v,
        status,
        ApplyPage {
            ctx: v.ctx(&[
                (
                    &offer.fields.title,
                    Some(&links::fill(links::OFFER, &[&offer.reference])),
                ),
                ("Postuler en ligne", None),
            ]),
            notice: draft.notice,
            title: offer.fields.title.clone(),
            reference: offer.reference.to_string(),
            offer_url: links::fill(links::OFFER, &[&offer.reference]),
            to,
            email: who.email.clone(),
            previous: previous.map(|t| crate::http::pages::portal::day_fr(zone.today(t))),
            errors: draft.errors,
            documents_error: draft.documents_error,
            message_error: draft.message_error,
            documents,
            message: draft.message,
            add_document: format!(
                "{}?retour={}",
                links::DOCUMENTS,
                serde_urlencoded::to_string([("", here.as_str())])
                    .unwrap_or_default()
                    .trim_start_matches('=')
            ),
            action: here,
            max_total: size_fr(MAX_APPLICATION_BYTES),
            max_message: MAX_MESSAGE_CHARS,
        },
    ))
}

/// "Postuler en ligne": the candidate's documents to choose (the defaults chosen), a message.
#[utoipa::path(get, path = links::OFFER_APPLY_ONLINE, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference"), DoneQuery),
    responses((status = 200, description = "The application form (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "No visible offer (HTML)", content_type = "text/html", body = String),
              (status = 409, description = "The offer is not applied to by e-mail (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn apply_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    if crate::domain::Reference::parse(&reference).is_none() {
        return Ok(crate::http::pages::portal::not_found_page(&v));
    }
    let here = links::fill(links::OFFER_APPLY_ONLINE, &[&reference]);
    let who = candidate(&v, &here)?;
    let draft = Draft {
        notice: Notice::of_query(&q.fait),
        ..Draft::default()
    };
    apply_answer(&state, &v, who, reference, StatusCode::OK, draft).await
}

/// Sends the application (`csrf`, `documents` repeated, `message`), then « Mes candidatures ».
#[utoipa::path(post, path = links::OFFER_APPLY_ONLINE, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Sent: to « Mes candidatures »"),
              (status = 422, description = "The form again, with what to correct", content_type = "text/html", body = String),
              (status = 429, description = "20 applications in 24 hours (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn apply_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    if crate::domain::Reference::parse(&reference).is_none() {
        return Ok(crate::http::pages::portal::not_found_page(&v));
    }
    let here = links::fill(links::OFFER_APPLY_ONLINE, &[&reference]);
    let (who, form) = changing(&v, &body, &here)?;
    let chosen: Vec<u64> = form
        .all("documents")
        .iter()
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    let message = form.get("message").to_string();
    let (w, r, ids, m) = (
        who.clone(),
        reference.clone(),
        chosen.clone(),
        message.clone(),
    );
    match with_candidates(&state, move |c| c.apply(&w, &r, &ids, &m)).await {
        Ok(_) => Ok(see_other(
            &Notice::ApplicationSent.after(links::APPLICATIONS),
        )),
        Err(Error::Invalid(errors)) => {
            let has = |f: &str| errors.0.iter().any(|e| e.field == f);
            let draft = Draft {
                documents_error: has("documents"),
                message_error: has("message"),
                errors: vec![explain(&Error::Invalid(errors.clone()))],
                chosen: Some(chosen),
                message,
                notice: None,
            };
            apply_answer(
                &state,
                &v,
                who,
                reference,
                StatusCode::UNPROCESSABLE_ENTITY,
                draft,
            )
            .await
        }
        Err(e) => Err(error_page(&v, &e).into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documents_page_sends_back_only_to_this_site() {
        assert_eq!(
            super::local_path("/offres/A-2026-0001/candidater").as_deref(),
            Some("/offres/A-2026-0001/candidater")
        );
        assert_eq!(super::local_path("//ailleurs.example/x"), None);
        assert_eq!(super::local_path("https://ailleurs.example"), None);
        assert_eq!(super::local_path("/\\ailleurs"), None);
    }
}
