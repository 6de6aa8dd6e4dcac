//! The search page: keywords, the seven facets with their counts, the results and their pages.

use std::collections::HashMap;

use super::*;

pub(super) struct FacetOption {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) count: u64,
    pub(super) checked: bool,
    pub(super) toggle_url: String,
}

pub(super) struct FacetGroup {
    pub(super) name: &'static str,
    pub(super) title: &'static str,
    pub(super) options: Vec<FacetOption>,
    pub(super) open: bool,
}

pub(super) struct DepartmentGroup {
    pub(super) region: String,
    pub(super) options: Vec<FacetOption>,
}

pub(super) struct ResultItem {
    pub(super) reference: String,
    pub(super) title: String,
    pub(super) url: String,
    pub(super) contract: String,
    pub(super) diploma: String,
    pub(super) place: String,
    pub(super) service: String,
    pub(super) date: String,
    /// « à 3,2 km » when the search measures a distance.
    pub(super) distance: Option<String>,
    /// For a logged-in candidate: whether the offer is starred (the star's form).
    pub(super) starred: Option<bool>,
}

#[derive(Template)]
#[template(path = "search.html")]
pub(super) struct SearchView {
    pub(super) ctx: Ctx,
    pub(super) title: String,
    pub(super) chosen: Vec<(String, String)>,
    pub(super) errors: Vec<String>,
    pub(super) q: String,
    /// The place of a search by distance, as typed back in its box.
    pub(super) near: String,
    /// The distances offered, the chosen one marked.
    pub(super) km_options: Vec<(u32, bool)>,
    pub(super) sort_distance: bool,
    /// This page's address, where a star's form comes back.
    pub(super) here: String,
    pub(super) sort_distance_url: Option<String>,
    pub(super) contract: FacetGroup,
    pub(super) diploma: FacetGroup,
    pub(super) groups: Vec<FacetGroup>,
    pub(super) departments: Vec<DepartmentGroup>,
    pub(super) departments_open: bool,
    pub(super) total: u64,
    pub(super) results: Vec<ResultItem>,
    pub(super) first_rank: u64,
    pub(super) page: u32,
    pub(super) pages: u64,
    pub(super) prev_url: Option<String>,
    pub(super) next_url: Option<String>,
    pub(super) rss_url: String,
    pub(super) atom_url: String,
    pub(super) alert_url: String,
    pub(super) has_query: bool,
    pub(super) sort_relevance: bool,
    pub(super) sort_date_url: String,
    pub(super) sort_relevance_url: String,
    /// The keywords as read when a word was corrected.
    pub(super) corrected_q: Option<String>,
    /// The same search with the words as typed.
    pub(super) as_typed_url: String,
    /// For a search that found nothing: a query to try and its link.
    pub(super) did_you_mean: Option<(String, String)>,
}

pub(super) fn encode(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub(super) fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let qs = encode(pairs);
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

pub(super) fn place(o: &Offer) -> String {
    let f = &o.fields;
    match (&f.location, f.department) {
        (Some(l), Some(d)) => format!("{l} ({})", d.code()),
        (Some(l), None) => format!("{l}, {}", f.country.label()),
        (None, Some(d)) => d.label().to_string(),
        (None, None) => f.country.label().to_string(),
    }
}

/// The links of a search page's facet options: the search with one value switched on or off,
/// paging reset. The criteria are encoded once, cut around each facet's values (a page has
/// some 150 options; each link was a copy of the criteria encoded anew).
pub(super) struct Toggles<'a> {
    params: &'a SearchParams,
    /// The encoded `q=…` pair, if any.
    head: Vec<String>,
    /// Per facet, its encoded pairs.
    facets: [Vec<String>; Facet::COUNT],
    /// The encoded pairs after the facets' (dates, place, sort).
    tail: Vec<String>,
}

impl<'a> Toggles<'a> {
    pub(super) fn new(params: &'a SearchParams) -> Self {
        let mut t = Toggles {
            params,
            head: Vec::new(),
            facets: Default::default(),
            tail: Vec::new(),
        };
        // `criteria_pairs` lists the keywords, then the facets in order, then the rest.
        for (name, value) in params.criteria_pairs() {
            let pair = encode(&[(name, value)]);
            match Facet::named(name) {
                Some(f) => t.facets[f.index()].push(pair),
                None if name == "q" => t.head.push(pair),
                None => t.tail.push(pair),
            }
        }
        t
    }

    /// The search with `ord` of `facet` switched: removed when chosen, else added (the only
    /// one for the diploma).
    pub(super) fn url(&self, facet: Facet, ord: u16) -> String {
        let chosen = self.params.filter(facet);
        let values: Vec<u16> = if chosen.contains(&ord) {
            chosen.iter().copied().filter(|&o| o != ord).collect()
        } else if facet == Facet::Diploma {
            vec![ord]
        } else {
            chosen.iter().copied().chain([ord]).collect()
        };
        let own: Vec<String> = values
            .iter()
            .map(|&o| encode(&[(facet.name(), facet.values().code(o).to_string())]))
            .collect();
        let parts = self
            .facets
            .iter()
            .enumerate()
            .flat_map(|(i, pairs)| if i == facet.index() { &own } else { pairs });
        let mut url = String::from("/");
        for (n, part) in self.head.iter().chain(parts).chain(&self.tail).enumerate() {
            url.push(if n == 0 { '?' } else { '&' });
            url.push_str(part);
        }
        url
    }

    /// The options of `facet`: its values with their counts, and the chosen ones.
    pub(super) fn options(&self, counts: Option<&FacetCounts>, facet: Facet) -> Vec<FacetOption> {
        let values = facet.values();
        let selected = self.params.filter(facet);
        let mut out: Vec<FacetOption> = counts
            .map(|c| c.values.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| {
                let ord = values.ordinal(v.value)?;
                Some(FacetOption {
                    value: v.value.to_string(),
                    label: v.label.to_string(),
                    count: v.count,
                    checked: selected.contains(&ord),
                    toggle_url: self.url(facet, ord),
                })
            })
            .collect();
        // A chosen value stays visible even when nothing matches it any more.
        for &ord in selected {
            if !out.iter().any(|o| o.value == values.code(ord)) {
                out.push(FacetOption {
                    value: values.code(ord).to_string(),
                    label: values.label(ord).to_string(),
                    count: 0,
                    checked: true,
                    toggle_url: self.url(facet, ord),
                });
            }
        }
        out
    }

    pub(super) fn group(
        &self,
        facets: Option<&[FacetCounts]>,
        facet: Facet,
        title: &'static str,
    ) -> FacetGroup {
        let counts = facets.and_then(|f| f.get(facet.index()));
        FacetGroup {
            name: facet.name(),
            title,
            options: self.options(counts, facet),
            open: !self.params.filter(facet).is_empty(),
        }
    }
}

/// Search page: criteria, facet counts, results, pagination, feed and alert links.
#[utoipa::path(get, path = links::SEARCH, tag = "portal", params(crate::http::api::offers::SearchQuery),
    responses((status = 200, description = "The search page (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "The page, with the faulty criteria explained", content_type = "text/html", body = String)))]
pub(super) async fn search_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = match query_pairs(raw.as_deref(), state.config.max_query_bytes) {
        Ok(p) => p,
        Err(_) => {
            return message_page(
                &v,
                StatusCode::BAD_REQUEST,
                "Recherche invalide",
                "L'adresse de cette recherche est mal formée.",
            );
        }
    };
    // The form's distance select is sent with an empty place box: it means nothing then (a
    // distance the select cannot send is still said to be wrong).
    let mut pairs = pairs;
    if !pairs
        .iter()
        .any(|(k, v)| k == "near" && !v.trim().is_empty())
    {
        pairs.retain(|(k, v)| {
            k != "km"
                || !(v.trim().is_empty()
                    || v.trim()
                        .parse::<u32>()
                        .is_ok_and(|km| crate::domain::search::KM_RANGE.contains(&km)))
        });
    }
    let (params, errors) = match SearchParams::from_pairs(&pairs) {
        Ok(p) => (p, Vec::new()),
        Err(e) => {
            // Show what was wrong, and the search without the faulty criteria.
            let bad: Vec<String> = e.0.iter().map(|f| f.field.clone()).collect();
            let kept: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(k, _)| !bad.contains(k))
                .collect();
            let messages =
                e.0.iter()
                    .map(|f| format!("Critère « {} » ignoré : {}", f.field, f.message))
                    .collect();
            (
                SearchParams::from_pairs(&kept).unwrap_or_default(),
                messages,
            )
        }
    };
    let mut params = params;
    params.facets = true;
    let (params, page) = match run_search(&state, params).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let facets = page.facets.as_deref();
    let toggles = Toggles::new(&params);
    let criteria = params.criteria_pairs();
    let per_page = u64::from(params.per_page.max(1));
    let pages = page.total.div_ceil(per_page).max(1);
    let page_url = |n: u32| {
        let mut c = criteria.clone();
        if n > 1 {
            c.push(("page", n.to_string()));
        }
        if params.per_page != crate::domain::search::DEFAULT_PER_PAGE {
            c.push(("per_page", params.per_page.to_string()));
        }
        with_query("/", &c)
    };
    let first_rank = u64::from(params.page - 1) * per_page + 1;
    let favorites = v.candidate().map(|a| a.favorites.clone());
    let results = page
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut c = criteria.clone();
            c.push(("i", (first_rank + i as u64).to_string()));
            ResultItem {
                reference: o.reference.to_string(),
                title: o.fields.title.clone(),
                url: with_query(&links::fill(links::OFFER, &[&o.reference]), &c),
                contract: o.fields.contract.label().to_string(),
                diploma: o.fields.diploma.label().to_string(),
                place: place(o),
                service: o.fields.service.clone(),
                starred: favorites.as_ref().map(|f| f.contains(&o.id)),
                distance: params
                    .near
                    .as_ref()
                    .and_then(|n| n.distance_to(&o.fields))
                    .map(|d| format!("à {}", crate::domain::search::km_label(d))),
                date: o
                    .published_at
                    .map(|t| date_fr(t, state.engine.zone()))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut dep_counts: HashMap<String, FacetOption> = toggles
        .options(
            facets.and_then(|f| f.get(Facet::Department.index())),
            Facet::Department,
        )
        .into_iter()
        .map(|o| (o.value.clone(), o))
        .collect();
    let departments = referentials()
        .regions
        .iter()
        .filter_map(|r| {
            let options: Vec<FacetOption> = r
                .departments
                .iter()
                .filter_map(|d| dep_counts.remove(d))
                .collect();
            (!options.is_empty()).then(|| DepartmentGroup {
                region: r.label.clone(),
                options,
            })
        })
        .collect();
    let mut country = toggles.group(facets, Facet::Country, "Stage à l'étranger (pays)");
    country.options.retain(|o| o.value != "FR");
    let qs = encode(&criteria);
    let suffix = if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    };
    let mut sort_date = criteria.clone();
    sort_date.retain(|(k, _)| *k != "sort");
    let mut sort_rel = sort_date.clone();
    sort_rel.push(("sort", "relevance".into()));
    let mut sort_distance = sort_date.clone();
    sort_distance.push(("sort", "distance".into()));
    let title = match (&page.corrected_q, &params.q) {
        (Some(q), _) | (None, Some(q)) => format!("{} offres pour « {q} »", page.total),
        (None, None) => format!("{} offres", page.total),
    };
    // Saved as it was read: an alert does what the person saw.
    let mut as_read = params.clone();
    if page.corrected_q.is_some() {
        as_read.q = page.corrected_q.clone();
    }
    let alert_qs = encode(&as_read.criteria_pairs());
    let mut as_typed = params.clone();
    as_typed.exact = true;
    let did_you_mean = page.did_you_mean.as_ref().map(|d| {
        let mut p = params.clone();
        p.q = Some(d.clone());
        p.exact = false;
        (d.clone(), with_query("/", &p.criteria_pairs()))
    });
    // The chosen criteria, each with the search without it.
    let mut chosen: Vec<(String, String)> = Vec::new();
    if let Some(q) = &params.q {
        let mut p = params.clone();
        p.q = None;
        chosen.push((format!("« {q} »"), with_query("/", &p.criteria_pairs())));
    }
    for f in Facet::ALL {
        for &ord in params.filter(f) {
            chosen.push((f.values().label(ord).to_string(), toggles.url(f, ord)));
        }
    }
    if let Some(n) = &params.near {
        let mut p = params.clone();
        p.near = None;
        if p.sort == Sort::Distance {
            p.sort = Sort::Date;
        }
        chosen.push((
            format!("À {} km de {}", n.km, n.place.label),
            with_query("/", &p.criteria_pairs()),
        ));
    }
    if params.published_since.is_some() {
        let mut p = params.clone();
        p.published_since = None;
        chosen.push((
            "Publiées récemment".into(),
            with_query("/", &p.criteria_pairs()),
        ));
    }
    render(
        &v,
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        SearchView {
            ctx: v.ctx(&[]),
            title,
            errors,
            chosen,
            q: params.q.clone().unwrap_or_default(),
            near: params
                .near
                .as_ref()
                .map(|n| n.place.label.clone())
                .unwrap_or_default(),
            km_options: [5, 10, 20, 30, 50, 100, 200]
                .into_iter()
                .map(|km| {
                    let chosen = params
                        .near
                        .as_ref()
                        .map_or(crate::domain::search::DEFAULT_KM, |n| n.km);
                    (km, km == chosen)
                })
                .collect(),
            sort_distance: params.sort == Sort::Distance,
            here: page_url(params.page),
            sort_distance_url: params
                .near
                .is_some()
                .then(|| with_query("/", &sort_distance)),
            contract: toggles.group(facets, Facet::Contract, "Type de contrat"),
            diploma: toggles.group(facets, Facet::Diploma, "Niveau de diplôme"),
            groups: vec![
                toggles.group(facets, Facet::Paid, "Rémunération"),
                toggles.group(facets, Facet::Telework, "Télétravail"),
                toggles.group(facets, Facet::Versant, "Fonction publique"),
                toggles.group(facets, Facet::Domain, "Domaine"),
                toggles.group(facets, Facet::Administration, "Administration"),
                toggles.group(facets, Facet::Region, "Région"),
                country,
            ],
            departments,
            departments_open: !params.filter(Facet::Department).is_empty(),
            total: page.total,
            results,
            first_rank,
            page: params.page,
            pages,
            prev_url: (params.page > 1).then(|| page_url(params.page - 1)),
            next_url: (u64::from(params.page) < pages).then(|| page_url(params.page + 1)),
            rss_url: format!("{}{suffix}", links::FEED_RSS),
            atom_url: format!("{}{suffix}", links::FEED_ATOM),
            alert_url: if alert_qs.is_empty() {
                links::NEW_ALERT.to_string()
            } else {
                format!("{}?{alert_qs}", links::NEW_ALERT)
            },
            has_query: params.q.is_some(),
            sort_relevance: params.sort == Sort::Relevance,
            sort_date_url: with_query("/", &sort_date),
            sort_relevance_url: with_query("/", &sort_rel),
            corrected_q: page.corrected_q.clone(),
            as_typed_url: with_query("/", &as_typed.criteria_pairs()),
            did_you_mean,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search with `ord` of `facet` switched, encoded from scratch.
    fn switched_naively(params: &SearchParams, facet: Facet, ord: u16) -> String {
        let mut p = params.clone();
        let list = &mut p.filters[facet.index()];
        if let Some(i) = list.iter().position(|&o| o == ord) {
            list.remove(i);
        } else if facet == Facet::Diploma {
            *list = vec![ord];
        } else {
            list.push(ord);
        }
        with_query("/", &p.criteria_pairs())
    }

    #[test]
    fn a_toggle_link_is_the_search_with_one_value_switched() {
        let pairs = |s: &[(&str, &str)]| -> Vec<(String, String)> {
            s.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for criteria in [
            pairs(&[]),
            pairs(&[("q", "chargé de mission & co")]),
            pairs(&[
                ("q", "juriste"),
                ("contract", "stage"),
                ("diploma", "niveau-6"),
                ("region", "11"),
                ("department", "69"),
                ("published_since", "7"),
                ("sort", "relevance"),
            ]),
            pairs(&[
                ("region", "84"),
                ("region", "76"),
                ("near", "69003"),
                ("km", "20"),
            ]),
        ] {
            let params = SearchParams::from_pairs(&criteria).expect("criteria");
            let toggles = Toggles::new(&params);
            for facet in Facet::ALL {
                for ord in 0..facet.values().len() as u16 {
                    assert_eq!(
                        toggles.url(facet, ord),
                        switched_naively(&params, facet, ord),
                        "{criteria:?} {facet:?} {ord}"
                    );
                }
            }
        }
    }
}
