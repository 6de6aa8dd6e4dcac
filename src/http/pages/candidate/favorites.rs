//! "Mes offres favorites": the offers starred from results and offer pages, and the star's
//! form (`reference`, `do` = add | remove, `back` = the page to return to).

use super::*;

pub(crate) struct FavoriteView {
    pub(super) reference: String,
    pub(super) title: String,
    pub(super) url: Option<String>,
    pub(super) state: &'static str,
}

#[derive(Template)]
#[template(path = "favorites.html")]
pub(super) struct FavoritesPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) favorites: Vec<FavoriteView>,
}

/// "Mes offres favorites".
#[utoipa::path(get, path = links::FAVORITES, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The starred offers (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn favorites_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let who = candidate(&v, links::FAVORITES)?;
    let (now, zone) = (state.engine.now(), state.engine.zone().clone());
    Ok(
        match with_candidates(&state, move |c| c.favorites(&who)).await {
            Ok(list) => render(
                &v,
                StatusCode::OK,
                FavoritesPage {
                    ctx: v.ctx(&[("Mon compte", Some(links::ACCOUNT)), ("Favoris", None)]),
                    notice: Notice::of_query(&q.fait),
                    favorites: list
                        .iter()
                        .map(|o| {
                            let visible = o.is_visible(now, &zone);
                            FavoriteView {
                                reference: o.reference.to_string(),
                                title: o.fields.title.clone(),
                                url: visible.then(|| links::fill(links::OFFER, &[&o.reference])),
                                state: if visible {
                                    "Toujours en ligne"
                                } else if o.state == crate::domain::OfferState::Published {
                                    "N'est plus diffusée"
                                } else {
                                    "Offre archivée"
                                },
                            }
                        })
                        .collect(),
                },
            ),
            Err(e) => error_page(&v, &e),
        },
    )
}

/// Stars (`do=add`) or unstars (`do=remove`) the offer `reference`, then back to `back` (a
/// page of this site) or to the favourites.
#[utoipa::path(post, path = links::FAVORITES, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done"), (status = 404, description = "No such offer (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn toggle_favorite(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (who, form) = changing(&v, &body, links::FAVORITES)?;
    let reference = form.get("reference").trim().to_string();
    let on = form.get("do") != "remove";
    let back = form.get("back");
    // Only a path of this site: never an address elsewhere.
    let back = if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back.to_string()
    } else {
        links::FAVORITES.to_string()
    };
    Ok(
        match with_candidates(&state, move |c| c.set_favorite(&who, &reference, on)).await {
            // Back to the page of the star (which shows it changed), or the favourites' notice.
            Ok(_) if back != links::FAVORITES => see_other(&back),
            Ok(_) => see_other(
                &(if on {
                    Notice::FavoriteAdded
                } else {
                    Notice::FavoriteRemoved
                })
                .after(&back),
            ),
            Err(e) => error_page(&v, &e),
        },
    )
}

#[derive(Template)]
#[template(path = "standby.html")]
pub(super) struct StandbyPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    /// « le 3 décembre 2026 » when the alerts are paused.
    pub(super) paused_since: Option<String>,
}

/// "Mettre en veille": every alert paused at once, resumed in one click.
#[utoipa::path(get, path = links::STANDBY, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The standby state (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn standby_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let who = candidate(&v, links::STANDBY)?;
    let zone = state.engine.zone().clone();
    Ok(render(
        &v,
        StatusCode::OK,
        StandbyPage {
            ctx: v.ctx(&[("Mon compte", Some(links::ACCOUNT)), ("Veille", None)]),
            notice: Notice::of_query(&q.fait),
            paused_since: who
                .paused_since
                .map(|t| crate::http::pages::portal::day_fr(zone.today(t))),
        },
    ))
}

/// Pauses (`do=pause`) or resumes (`do=resume`) every alert.
#[utoipa::path(post, path = links::STANDBY, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done")))]
pub(super) async fn standby_submit(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    let (who, form) = changing(&v, &body, links::STANDBY)?;
    let paused = form.get("do") == "pause";
    Ok(
        match with_candidates(&state, move |c| c.set_standby(&who, paused)).await {
            Ok(_) => see_other(
                &(if paused {
                    Notice::AlertsPaused
                } else {
                    Notice::AlertsResumed
                })
                .after(links::STANDBY),
            ),
            Err(e) => error_page(&v, &e),
        },
    )
}
