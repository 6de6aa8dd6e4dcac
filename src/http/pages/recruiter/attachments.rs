//! An offer's attachments: upload (checked by content), removal, download.

use super::*;

/// Adds a document (multipart: `csrf`, then `file`).
#[utoipa::path(post, path = links::RECRUITER_ATTACHMENTS, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 303, description = "Attached: back to the offer"),
              (status = 422, description = "The page again, the file refused", content_type = "text/html", body = String)))]
pub(super) async fn upload(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    multipart: Multipart,
) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_OFFERS)?;
    let (form, file, failure) = match read_multipart(multipart).await {
        Ok((form, file)) => (form, file, None),
        Err(f) => (Form::default(), None, Some(f)),
    };
    if failure.is_none() {
        v.check_csrf(&form)?;
    }
    let max = state.config.max_attachment_bytes;
    let outcome: Result<(), String> = match (failure, file) {
        (Some(f), _) => Err(f),
        (None, None) => Err("Choisissez un fichier à joindre.".to_string()),
        (None, Some((_, bytes))) if bytes.is_empty() => {
            Err("Choisissez un fichier à joindre.".to_string())
        }
        (None, Some((name, bytes))) => {
            let (w, r) = (who.clone(), reference.clone());
            match with_backoffice(&state, move |b| b.attach(&w, &r, &name, &bytes, max)).await {
                Ok(Ok(_)) => {
                    return Ok(see_other(
                        &Notice::Attached.after(&links::recruiter_offer_path(&reference)),
                    ));
                }
                Ok(Err(Refusal::TooLarge(m))) => Err(format!(
                    "Le fichier dépasse la taille maximale ({}).",
                    size_fr(m as u64)
                )),
                Ok(Err(Refusal::NotADocument)) => {
                    Err("Ce fichier n'est pas un document PDF, DOC, DOCX ou ODT.".into())
                }
                Err(e @ Error::Conflict(_)) => Err(format!(
                    "Une offre a au plus {MAX_ATTACHMENTS} pièces jointes ({}).",
                    crate::http::pages::explain(&e)
                )),
                Err(e) => return Err(error_page(&v, &e).into()),
            }
        }
    };
    let message = outcome.err().unwrap_or_default();
    stored_offer_page(
        &state,
        &v,
        &who,
        reference,
        StatusCode::UNPROCESSABLE_ENTITY,
        |page| page.upload_error = Some(message),
    )
    .await
}

/// Removes the n-th document.
#[utoipa::path(post, path = links::RECRUITER_ATTACHMENT_REMOVE, tag = "portal",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Removed: back to the offer")))]
pub(super) async fn remove_attachment(
    State(state): State<AppState>,
    v: Visitor,
    Path((reference, n)): Path<(String, usize)>,
    body: Bytes,
) -> PageResult {
    act(&state, &v, &body, move |b, who, _| {
        b.remove_attachment(who, &reference, n)?;
        Ok(Notice::Detached.after(&links::recruiter_offer_path(&reference)))
    })
    .await
}

/// Downloads the n-th document of an offer of the caller's services (drafts included).
#[utoipa::path(get, path = links::RECRUITER_ATTACHMENT, tag = "portal",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    responses((status = 200, description = "The document", content_type = "application/octet-stream", body = String)))]
pub(super) async fn download(
    State(state): State<AppState>,
    v: Visitor,
    Path((reference, n)): Path<(String, usize)>,
) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_OFFERS)?;
    let result = with_backoffice(&state, move |b| {
        let o = b.offer(&who, &reference)?;
        let a = n
            .checked_sub(1)
            .and_then(|i| o.fields.attachments.get(i))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no attachment {n}")))?;
        let bytes = crate::backoffice::attachment_bytes(b.store(), &a)?;
        Ok((a, bytes))
    })
    .await
    .or_page(&v)?;
    let (a, bytes) = result;
    Ok(crate::http::api::offers::attachment_response(&a, bytes))
}
