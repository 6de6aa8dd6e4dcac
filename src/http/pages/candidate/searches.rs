//! "Mes recherches": run again, rename, frequency, the bell that switches the alert on and off, delete.

use super::*;

pub(crate) struct SearchView {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) summary: String,
    pub(super) alert: bool,
    pub(super) frequency: &'static str,
    pub(super) frequency_label: &'static str,
    pub(super) run_url: String,
}

#[derive(Template)]
#[template(path = "searches.html")]
pub(super) struct SearchesPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) confirmed: bool,
    pub(super) searches: Vec<SearchView>,
}

/// The criteria of a search in words: « keywords » · labels of the chosen values.
pub(crate) fn criteria_summary(pairs: &[(String, String)]) -> String {
    let mut parts = Vec::new();
    for (k, v) in pairs {
        if k == "q" {
            parts.push(format!("« {v} »"));
        } else if let Some(f) = Facet::named(k) {
            let values = f.values();
            parts.push(
                values
                    .ordinal(v)
                    .map_or(v.clone(), |o| values.label(o).to_string()),
            );
        } else if k == "near" {
            let place = crate::domain::communes::communes()
                .resolve(v)
                .map_or(v.clone(), |p| p.label);
            parts.push(format!("près de {place}"));
        } else if k == "km" {
            parts.push(format!("dans un rayon de {v} km"));
        } else if k == "published_since" {
            parts.push(format!("publiées depuis {v} jours"));
        }
    }
    if parts.is_empty() {
        "Toutes les offres".into()
    } else {
        parts.join(" · ")
    }
}

pub(super) fn search_view(s: &SavedSearch) -> SearchView {
    let (frequency, frequency_label) = match s.frequency {
        Frequency::Immediate => ("immediate", "un courriel à chaque nouvelle offre"),
        Frequency::Daily => ("daily", "un récapitulatif par jour"),
    };
    SearchView {
        id: s.id,
        name: s.name.clone(),
        summary: criteria_summary(&s.criteria),
        alert: s.alert,
        frequency,
        frequency_label,
        run_url: crate::links::with_query(
            "/",
            &serde_urlencoded::to_string(&s.criteria).unwrap_or_default(),
        ),
    }
}

pub(super) async fn searches(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let who = candidate(v, links::SAVED_SEARCHES)?;
    let confirmed = who.email_confirmed;
    Ok(
        match with_candidates(state, move |c| c.searches(&who)).await {
            Ok(list) => render(
                v,
                status,
                SearchesPage {
                    ctx: v.ctx(&[
                        ("Mon compte", Some(links::ACCOUNT)),
                        ("Mes recherches", None),
                    ]),
                    notice,
                    error,
                    confirmed,
                    searches: list.iter().map(search_view).collect(),
                },
            ),
            Err(e) => error_page(v, &e),
        },
    )
}

/// "Mes recherches".
#[utoipa::path(get, path = links::SAVED_SEARCHES, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The saved searches (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn searches_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    searches(&state, &v, StatusCode::OK, Notice::of_query(&q.fait), None).await
}

/// The bell (`do` = alert_on | alert_off) or a rename and frequency (`do` = update).
#[utoipa::path(post, path = links::SAVED_SEARCH, tag = "portal",
    params(("id" = u64, Path, description = "Saved search id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn update_search(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (who, form) = changing(&v, &body, links::SAVED_SEARCHES)?;
    let step = form.get("do").to_string();
    let p = match step.as_str() {
        "alert_on" => SearchPatch {
            alert: Some(true),
            ..SearchPatch::default()
        },
        "alert_off" => SearchPatch {
            alert: Some(false),
            ..SearchPatch::default()
        },
        _ => SearchPatch {
            name: Some(form.get("name").to_string()),
            frequency: Some(form.get("frequency").to_string()),
            ..SearchPatch::default()
        },
    };
    Ok(
        match with_candidates(&state, move |c| c.patch_search(&who, id, p)).await {
            Ok(_) => see_other(
                &Notice::parse(&step)
                    .filter(|n| matches!(n, Notice::AlertOn | Notice::AlertOff))
                    .unwrap_or(Notice::SearchSaved)
                    .after(links::SAVED_SEARCHES),
            ),
            Err(e) => searches(&state, &v, status_of(&e), None, Some(explain(&e))).await?,
        },
    )
}

/// Deletes a saved search (and its alert).
#[utoipa::path(post, path = links::SAVED_SEARCH_DELETE, tag = "portal",
    params(("id" = u64, Path, description = "Saved search id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Deleted")))]
pub(super) async fn delete_search(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (who, _) = changing(&v, &body, links::SAVED_SEARCHES)?;
    Ok(
        match with_candidates(&state, move |c| c.delete_search(&who, id)).await {
            Ok(()) => see_other(&Notice::SearchDeleted.after(links::SAVED_SEARCHES)),
            Err(e) => searches(&state, &v, status_of(&e), None, Some(explain(&e))).await?,
        },
    )
}
