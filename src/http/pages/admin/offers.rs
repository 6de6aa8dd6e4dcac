//! Every offer, and its moderation: withdraw one that breaks the rules, the reason mailed to its service.

use super::*;
use crate::domain::Offer;
use axum::extract::RawQuery;

/// Every offer and the names of the people of their histories.
async fn every_offer(
    state: &AppState,
    v: &Visitor,
    q: &ListQuery,
) -> Result<(Vec<Offer>, std::collections::HashMap<u64, String>), PageError> {
    let admin = admin_of(v, links::ADMIN_OFFERS)?;
    // A state that does not exist is refused; the states are counted over every offer.
    q.state().or_page(v)?;
    with_backoffice(state, move |b| {
        Ok((b.all_offers(&admin, None)?, b.account_names()?))
    })
    .await
    .or_page(v)
}

/// Every offer as CSV, with the filters of the list.
#[utoipa::path(get, path = links::ADMIN_OFFERS_CSV, tag = "portal", params(ListQuery),
    responses((status = 200, description = "The list (CSV: UTF-8 with BOM, `;`)", content_type = "text/csv", body = String)))]
pub(super) async fn offers_csv_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = ListQuery::from_raw(raw.as_deref());
    let (offers, names) = every_offer(&state, &v, &q).await?;
    let csv = crate::http::pages::recruiter::offers_csv(
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o| o.fields.service.clone(),
            actions: &|_| Vec::new(),
            zone: state.engine.zone(),
        },
        true,
    );
    Ok(crate::http::pages::recruiter::csv_answer("offres.csv", csv))
}

/// Every offer, to withdraw one that breaks the rules.
#[utoipa::path(get, path = links::ADMIN_OFFERS, tag = "portal", params(ListQuery),
    responses((status = 200, description = "The offers (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn offers_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = ListQuery::from_raw(raw.as_deref());
    let (offers, names) = every_offer(&state, &v, &q).await?;
    let mut list = offers_list(
        v.ctx(&[("Administration", None), ("Offres", None)]),
        "Toutes les offres",
        links::ADMIN_OFFERS,
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o| o.fields.service.clone(),
            actions: &|_| Vec::new(),
            zone: state.engine.zone(),
        },
    );
    for r in &mut list.rows {
        r.url = links::fill(links::ADMIN_OFFER, &[&r.reference]);
    }
    list.notice = Notice::of_query(q.done());
    Ok(render(&v, StatusCode::OK, list))
}

pub(super) fn moderate_form(
    v: &Visitor,
    reference: &str,
    title: &str,
    state: OfferState,
    reason: &str,
) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[
            ("Administration", None),
            ("Offres", Some(links::ADMIN_OFFERS)),
            (reference, None),
        ]),
        &format!("Retirer l'offre {reference}"),
        &links::fill(links::ADMIN_OFFER, &[&reference]),
        vec![
            Field::new("reason", "Motif du retrait", "textarea", reason)
                .required()
                .hint("Envoyé aux recruteurs du service de l'offre."),
        ],
        "Retirer l'offre",
    )
    .intro(&format!(
        "« {title} » – état : {}. Retirer une offre l'archive : elle n'est plus diffusée.",
        crate::http::pages::recruiter::state_name(state)
    ))
    .links(vec![(
        links::ADMIN_OFFERS.into(),
        "Revenir à la liste".into(),
    )]);
    if !matches!(state, OfferState::Published | OfferState::Filled) {
        page.notice =
            Some("Cette offre n'est pas diffusée : elle ne peut pas être retirée.".into());
    }
    page
}

/// The withdrawal form of an offer.
#[utoipa::path(get, path = links::ADMIN_OFFER, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn moderate_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let admin = admin_of(&v, links::ADMIN_OFFERS)?;
    let r = reference.clone();
    Ok(
        match with_backoffice(&state, move |b| b.any_offer(&admin, &r)).await {
            Ok(o) => render(
                &v,
                StatusCode::OK,
                moderate_form(&v, &reference, &o.fields.title, o.state, ""),
            ),
            Err(e) => error_page(&v, &e),
        },
    )
}

/// Withdraws the offer; the reason is mailed to its service.
#[utoipa::path(post, path = links::ADMIN_OFFER, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Withdrawn"), (status = 422, description = "No reason (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn moderate_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let reason = form.get("reason").to_string();
    let (a, r, why) = (admin.clone(), reference.clone(), reason.clone());
    Ok(
        match with_backoffice(&state, move |b| b.moderate(&a, &r, &why)).await {
            Ok(_) => see_other(&Notice::Moderated.after(links::ADMIN_OFFERS)),
            Err(e) => {
                let r = reference.clone();
                match with_backoffice(&state, move |b| b.any_offer(&admin, &r)).await {
                    Ok(o) => render(
                        &v,
                        status_of(&e),
                        moderate_form(&v, &reference, &o.fields.title, o.state, &reason)
                            .with_error(&e),
                    ),
                    Err(e) => error_page(&v, &e),
                }
            }
        },
    )
}
