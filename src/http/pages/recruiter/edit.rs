//! The offer's pages and actions: new, edit, submit, the lifecycle actions, renewal, deletion.

use super::*;

pub(super) async fn load(
    state: &AppState,
    who: &Account,
    reference: Option<String>,
) -> crate::Result<EditState> {
    let (w, zone) = (who.clone(), state.engine.zone().clone());
    with_backoffice(state, move |b| {
        let offer = reference.map(|r| b.offer(&w, &r)).transpose()?;
        let (names, services) = lookups(b, &w)?;
        Ok(EditState {
            offer,
            services,
            names,
            zone,
        })
    })
    .await
}

/// The page of a stored offer of the caller's services, with `tweak` applied (a notice, an
/// error beside one of its forms), answered with `status`.
pub(super) async fn stored_offer_page(
    state: &AppState,
    v: &Visitor,
    who: &Account,
    reference: String,
    status: StatusCode,
    tweak: impl FnOnce(&mut OfferEdit),
) -> PageResult {
    let st = load(state, who, Some(reference)).await.or_page(v)?;
    let offer = st
        .offer
        .as_ref()
        .ok_or_else(|| Error::NotFound("offer".into()))
        .or_page(v)?;
    let values = Values::of_offer(offer);
    let mut page = edit_page(v, &st, &values, state.config.max_attachment_bytes);
    tweak(&mut page);
    Ok(render(v, status, page))
}

/// The form of a new offer.
#[utoipa::path(get, path = links::RECRUITER_NEW_OFFER, tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn new_offer_page(State(state): State<AppState>, v: Visitor) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_NEW_OFFER)?;
    let st = load(&state, &who, None).await.or_page(&v)?;
    let mut values = Values(Form::default());
    if let [only] = st.services.as_slice() {
        values.0.0.push(("service".into(), only.id.to_string()));
    }
    Ok(render(
        &v,
        StatusCode::OK,
        edit_page(&v, &st, &values, state.config.max_attachment_bytes),
    ))
}

/// Creates the offer: a draft, or published at once with "Publier".
#[utoipa::path(post, path = links::RECRUITER_NEW_OFFER, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Created: to its page"),
              (status = 422, description = "The form again, faulty fields marked", content_type = "text/html", body = String)))]
pub(super) async fn new_offer_submit(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_NEW_OFFER)?;
    let values = Values(Form::parse(&body));
    v.check_csrf(&values.0)?;
    let mut input = values.input();
    if values.0.get("action") == "publish" {
        input.state = Some("published".into());
    }
    let w = who.clone();
    match with_backoffice(&state, move |b| b.create_offer(&w, &input)).await {
        Ok((o, _)) => Ok(see_other(
            &if o.state == OfferState::Published {
                Notice::Published
            } else {
                Notice::DraftCreated
            }
            .after(&links::recruiter_offer_path(o.reference)),
        )),
        Err(e) => {
            let st = load(&state, &who, None).await.or_page(&v)?;
            let mut page = edit_page(&v, &st, &values, state.config.max_attachment_bytes);
            page.form = page.form.with_error(&e);
            Ok(render(&v, status_of(&e), page))
        }
    }
}

/// What was just done on an offer's page.
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DoneQuery {
    /// What was just done (shown once).
    #[serde(default)]
    pub(super) fait: String,
}

/// An offer of the caller's services: the form, its actions, attachments and history.
#[utoipa::path(get, path = links::RECRUITER_OFFER, tag = "portal",
    params(("reference" = String, Path, description = "Reference"), DoneQuery),
    responses((status = 200, description = "The offer's page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not an offer of the caller's services (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn offer_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let who = recruiter(&v, &links::recruiter_offer_path(&reference))?;
    stored_offer_page(&state, &v, &who, reference, StatusCode::OK, |page| {
        page.form.notice = Notice::of_query(&q.fait)
    })
    .await
}

/// Saves the offer's fields ("Publier" also publishes a draft).
#[utoipa::path(post, path = links::RECRUITER_OFFER, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved: back to its page"),
              (status = 422, description = "The form again, faulty fields marked", content_type = "text/html", body = String)))]
pub(super) async fn offer_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    let who = recruiter(&v, &links::recruiter_offer_path(&reference))?;
    let values = Values(Form::parse(&body));
    v.check_csrf(&values.0)?;
    let input = values.input();
    let publish = values.0.get("action") == "publish";
    let (w, r) = (who.clone(), reference.clone());
    let result = with_backoffice(&state, move |b| {
        let (o, _) = b.replace_offer(&w, &r, &input)?;
        if publish && o.state == OfferState::Draft {
            b.transition(&w, &r, "publish")?;
        }
        Ok(o)
    })
    .await;
    let e = match result {
        Ok(_) => {
            return Ok(see_other(
                &if publish {
                    Notice::Published
                } else {
                    Notice::OfferSaved
                }
                .after(&links::recruiter_offer_path(&reference)),
            ));
        }
        Err(e) => e,
    };
    // The form again with its errors; an offer gone meanwhile is that, not the form's error.
    let st = match load(&state, &who, Some(reference)).await {
        Ok(st) => st,
        Err(gone @ Error::NotFound(_)) => return Err(error_page(&v, &gone).into()),
        Err(_) => return Err(error_page(&v, &e).into()),
    };
    let mut page = edit_page(&v, &st, &values, state.config.max_attachment_bytes);
    page.form = page.form.with_error(&e);
    Ok(render(&v, status_of(&e), page))
}

/// One lifecycle step from a button (`do` = publish, archive, unarchive, filled, unfill, clone).
#[utoipa::path(post, path = links::RECRUITER_OFFER_ACTION, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the offer (or to the copy)"),
              (status = 409, description = "Not possible in this state (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn offer_action(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    act(&state, &v, &body, move |b, who, form| {
        let step = form.get("do").to_string();
        let (o, _) = if step == "clone" {
            b.clone_offer(who, &reference)?
        } else {
            b.transition(who, &reference, &step)?
        };
        let page = links::recruiter_offer_path(o.reference);
        Ok(match Notice::of_step(&step) {
            Some(n) => n.after(&page),
            None => page,
        })
    })
    .await
}

/// Moves the offer to another of the recruiter's services.
#[utoipa::path(post, path = links::RECRUITER_OFFER_TRANSFER, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Moved: back to the offer")))]
pub(super) async fn transfer_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    act(&state, &v, &body, move |b, who, form| {
        let service = form
            .get("service")
            .parse::<u64>()
            .map_err(|_| Error::invalid(crate::FieldError::new("service", "choose a service")))?;
        let (o, _) = b.transfer(who, &reference, service)?;
        Ok(Notice::Transferred.after(&links::recruiter_offer_path(o.reference)))
    })
    .await
}

/// A button of the back office: the recruiter's form checked, the work done, then a redirect
/// to where `f` says, or the error's page.
pub(super) async fn act(
    state: &AppState,
    v: &Visitor,
    body: &[u8],
    f: impl FnOnce(&Backoffice<'_>, &Account, &Form) -> crate::Result<String> + Send + 'static,
) -> PageResult {
    let (who, form) = v.changing(Role::Recruiter, links::RECRUITER_OFFERS, body)?;
    let to = with_backoffice(state, move |b| f(b, &who, &form))
        .await
        .or_page(v)?;
    Ok(see_other(&to))
}

/// Renews the diffusion: a new end date in one step.
#[utoipa::path(post, path = links::RECRUITER_OFFER_RENEW, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Renewed: back to the offer"),
              (status = 422, description = "The page again, the date marked", content_type = "text/html", body = String)))]
pub(super) async fn renew(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    let (who, form) = v.changing(Role::Recruiter, links::RECRUITER_OFFERS, &body)?;
    let date = form.get("unpublish_on").to_string();
    let (w, r, d) = (who.clone(), reference.clone(), date.clone());
    match with_backoffice(&state, move |b| b.renew(&w, &r, &d)).await {
        Ok(_) => Ok(see_other(
            &Notice::Renewed.after(&links::recruiter_offer_path(&reference)),
        )),
        Err(e) => {
            stored_offer_page(&state, &v, &who, reference, status_of(&e), |page| {
                page.renew_value = date;
                page.renew_error = Some(crate::http::pages::explain(&e));
            })
            .await
        }
    }
}

/// Asks to confirm the deletion of a draft.
#[utoipa::path(get, path = links::RECRUITER_OFFER_DELETE, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The confirmation (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn delete_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_OFFERS)?;
    let r = reference.clone();
    let o = with_backoffice(&state, move |b| b.offer(&who, &r))
        .await
        .or_page(&v)?;
    let mut page = FormPage::new(
        v.ctx(&[
            ("Mes offres", Some(links::RECRUITER_OFFERS)),
            (&reference, Some(&links::recruiter_offer_path(&reference))),
            ("Supprimer", None),
        ]),
        "Supprimer ce brouillon ?",
        &links::fill(links::RECRUITER_OFFER_DELETE, &[&reference]),
        Vec::new(),
        "Supprimer définitivement",
    )
    .intro(&format!(
        "Le brouillon {} « {} » sera supprimé ; cette action est définitive.",
        o.reference, o.fields.title
    ))
    .links(vec![(
        links::recruiter_offer_path(&reference),
        "Annuler et revenir à l'offre".into(),
    )]);
    page.sections.clear();
    Ok(render(&v, StatusCode::OK, page))
}

/// Deletes the draft (confirmed).
#[utoipa::path(post, path = links::RECRUITER_OFFER_DELETE, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Deleted: to Mes offres"),
              (status = 409, description = "Not a draft (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn delete_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    act(&state, &v, &body, move |b, who, _| {
        b.delete_offer(who, &reference)?;
        Ok(Notice::DraftDeleted.after(links::RECRUITER_OFFERS))
    })
    .await
}

/// An offer of the recruiter's services seen as candidates will see it once published (an
/// "Aperçu" banner; never indexed, never counted).
#[utoipa::path(get, path = links::RECRUITER_OFFER_PREVIEW, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The preview (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not an offer of the recruiter's services (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn preview_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let who = recruiter(
        &v,
        &links::fill(links::RECRUITER_OFFER_PREVIEW, &[&reference]),
    )?;
    let r = reference.clone();
    let o = with_backoffice(&state, move |b| b.offer(&who, &r))
        .await
        .or_page(&v)?;
    let reference = o.reference.to_string();
    let back = links::recruiter_offer_path(&reference);
    let public = state.links.offer(&reference);
    let view = crate::http::pages::portal::preview_view(&v, &o, &public, &back);
    let mut page = render(&v, StatusCode::OK, view);
    page.headers_mut().insert(
        axum::http::header::HeaderName::from_static("x-robots-tag"),
        axum::http::HeaderValue::from_static("noindex, nofollow"),
    );
    Ok(page)
}
