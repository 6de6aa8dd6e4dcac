//! The public portal, server-rendered in French: the search page with disjunctive facet counts,
//! offer pages with previous/next navigation inside the search, and the error pages. Every
//! page's state lives in its URL, with the API's parameter names.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::body::Bytes;

use super::{
    Ctx, Field, Form, FormPage, Visitor, date_fr, message_page, message_with_links, render,
};
use crate::auth::Auth;
use crate::candidates::{Candidates, NewSearch, Signup};
use crate::domain::account::Role;
use crate::domain::{Facet, Offer, SearchParams, Sort, referentials};
use crate::http::api::offers::run_search;
use crate::http::error::status_of;
use crate::http::with_candidates;
use crate::http::{AppState, query_pairs};
use crate::index::FacetCounts;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_page))
        .routes(routes!(offer_page))
        .routes(routes!(apply_click))
        .routes(routes!(alert_page, create_alert))
        .routes(routes!(signup_page, signup_submit))
}

struct FacetOption {
    value: String,
    label: String,
    count: u64,
    checked: bool,
    toggle_url: String,
}

struct FacetGroup {
    name: &'static str,
    title: &'static str,
    options: Vec<FacetOption>,
    open: bool,
}

struct DepartmentGroup {
    region: String,
    options: Vec<FacetOption>,
}

struct ResultItem {
    reference: String,
    title: String,
    url: String,
    contract: String,
    diploma: String,
    place: String,
    service: String,
    date: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchView {
    ctx: Ctx,
    title: String,
    chosen: Vec<(String, String)>,
    errors: Vec<String>,
    q: String,
    contract: FacetGroup,
    diploma: FacetGroup,
    groups: Vec<FacetGroup>,
    departments: Vec<DepartmentGroup>,
    departments_open: bool,
    total: u64,
    results: Vec<ResultItem>,
    first_rank: u64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    rss_url: String,
    atom_url: String,
    alert_url: String,
    has_query: bool,
    sort_relevance: bool,
    sort_date_url: String,
    sort_relevance_url: String,
}

struct OfferNav {
    position: u64,
    total: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    back_url: String,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferView {
    ctx: Ctx,
    apply: Apply,
    title: String,
    reference: String,
    contract: String,
    published: String,
    fields: Vec<(String, String)>,
    nav: Option<OfferNav>,
    /// (address, title, what it is) of the offers like this one.
    similar: Vec<(String, String, String)>,
}

/// How many similar offers the offer page shows.
const SIMILAR_SHOWN: usize = 4;

/// The 404 page.
pub(crate) fn not_found_page(v: &Visitor) -> Response {
    message_page(
        v,
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette page n'existe pas, ou l'offre n'est plus diffusée.",
    )
}

fn encode(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let qs = encode(pairs);
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

fn place(o: &Offer) -> String {
    let f = &o.fields;
    match (&f.location, f.department) {
        (Some(l), Some(d)) => format!("{l} ({})", d.code()),
        (Some(l), None) => format!("{l}, {}", f.country.label()),
        (None, Some(d)) => d.label().to_string(),
        (None, None) => f.country.label().to_string(),
    }
}

/// The criteria pairs with `value` of `facet` switched on or off; paging reset.
fn toggled(params: &SearchParams, facet: Facet, ord: u16) -> Vec<(&'static str, String)> {
    let mut p = params.clone();
    let list = &mut p.filters[facet.index()];
    if let Some(i) = list.iter().position(|&o| o == ord) {
        list.remove(i);
    } else if facet == Facet::Diploma {
        *list = vec![ord];
    } else {
        list.push(ord);
    }
    p.criteria_pairs()
}

fn options(params: &SearchParams, counts: Option<&FacetCounts>, facet: Facet) -> Vec<FacetOption> {
    let values = facet.values();
    let selected = params.filter(facet);
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
                toggle_url: with_query("/", &toggled(params, facet, ord)),
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
                toggle_url: with_query("/", &toggled(params, facet, ord)),
            });
        }
    }
    out
}

fn group(
    params: &SearchParams,
    facets: Option<&[FacetCounts]>,
    facet: Facet,
    title: &'static str,
) -> FacetGroup {
    let counts = facets.and_then(|f| f.get(facet.index()));
    FacetGroup {
        name: facet.name(),
        title,
        options: options(params, counts, facet),
        open: !params.filter(facet).is_empty(),
    }
}

/// Search page: criteria, facet counts, results, pagination, feed and alert links.
#[utoipa::path(get, path = "/", tag = "portal", params(crate::http::api::offers::SearchQuery),
    responses((status = 200, description = "The search page (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "The page, with the faulty criteria explained", content_type = "text/html", body = String)))]
async fn search_page(
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
                url: with_query(&format!("/offres/{}", o.reference), &c),
                contract: o.fields.contract.label().to_string(),
                diploma: o.fields.diploma.label().to_string(),
                place: place(o),
                service: o.fields.service.clone(),
                date: o.published_at.map(date_fr).unwrap_or_default(),
            }
        })
        .collect();
    let dep_counts = options(
        &params,
        facets.and_then(|f| f.get(Facet::Department.index())),
        Facet::Department,
    );
    let departments = referentials()
        .regions
        .iter()
        .filter_map(|r| {
            let options: Vec<FacetOption> = r
                .departments
                .iter()
                .filter_map(|d| dep_counts.iter().find(|o| &o.value == d))
                .map(|o| FacetOption {
                    value: o.value.clone(),
                    label: o.label.clone(),
                    count: o.count,
                    checked: o.checked,
                    toggle_url: o.toggle_url.clone(),
                })
                .collect();
            (!options.is_empty()).then(|| DepartmentGroup {
                region: r.label.clone(),
                options,
            })
        })
        .collect();
    let mut country = group(&params, facets, Facet::Country, "Stage à l'étranger (pays)");
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
    let title = match &params.q {
        Some(q) => format!("{} offres pour « {q} »", page.total),
        None => format!("{} offres", page.total),
    };
    // The chosen criteria, each with the search without it.
    let mut chosen: Vec<(String, String)> = Vec::new();
    if let Some(q) = &params.q {
        let mut p = params.clone();
        p.q = None;
        chosen.push((format!("« {q} »"), with_query("/", &p.criteria_pairs())));
    }
    for f in Facet::ALL {
        for &ord in params.filter(f) {
            chosen.push((
                f.values().label(ord).to_string(),
                with_query("/", &toggled(&params, f, ord)),
            ));
        }
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
            contract: group(&params, facets, Facet::Contract, "Type de contrat"),
            diploma: group(&params, facets, Facet::Diploma, "Niveau de diplôme"),
            groups: vec![
                group(&params, facets, Facet::Domain, "Domaine"),
                group(&params, facets, Facet::Administration, "Administration"),
                group(&params, facets, Facet::Region, "Région"),
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
            rss_url: format!("/feeds/offers.rss{suffix}"),
            atom_url: format!("/feeds/offers.atom{suffix}"),
            alert_url: format!("/alertes/nouvelle{suffix}"),
            has_query: params.q.is_some(),
            sort_relevance: params.sort == Sort::Relevance,
            sort_date_url: with_query("/", &sort_date),
            sort_relevance_url: with_query("/", &sort_rel),
        },
    )
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "Février 2027".
pub(crate) fn month_fr(year: i32, month: u8) -> String {
    let name = MONTHS[usize::from(month.clamp(1, 12) - 1)];
    let mut chars = name.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{} {year}", chars.as_str())
}

/// "20 février 2027" ("1er" for the first day).
pub(crate) fn day_fr(d: time::Date) -> String {
    let day = if d.day() == 1 {
        "1er".to_string()
    } else {
        d.day().to_string()
    };
    format!(
        "{day} {} {}",
        MONTHS[usize::from(u8::from(d.month()) - 1)],
        d.year()
    )
}

fn offer_fields(o: &Offer) -> Vec<(String, String)> {
    let f = &o.fields;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push((k.to_string(), v));
        }
    };
    push("Type de contrat", Some(f.contract.label().into()));
    push("Niveau de diplôme préparé", Some(f.diploma.label().into()));
    push("Domaine", Some(f.domain.label().into()));
    push("Administration", Some(f.administration.label().into()));
    push("Service", Some(f.service.clone()));
    push("Lieu", f.location.clone());
    push(
        "Département",
        f.department
            .map(|d| format!("{} ({})", d.label(), d.code())),
    );
    push("Région", f.region.map(|r| r.label().into()));
    push("Pays", Some(f.country.label().into()));
    push("Date de début", Some(month_fr(f.start.year, f.start.month)));
    let duration = match (
        f.duration_months,
        f.duration_min_months,
        f.duration_max_months,
    ) {
        (Some(n), _, _) => Some(format!("{n} mois")),
        (None, Some(a), Some(b)) => Some(format!("{a} à {b} mois")),
        _ => None,
    };
    push("Durée", duration);
    push(
        "Présentation de l'employeur",
        f.employer_description.clone(),
    );
    push("Missions", Some(f.description.clone()));
    push("Profil recherché", f.profile.clone());
    push("Conditions particulières d'exercice", f.conditions.clone());
    push("Langues", f.languages.clone());
    push("Informations complémentaires", f.extra_info.clone());
    push("Commentaires", f.comments.clone());
    push("Fin de diffusion", Some(day_fr(f.unpublish_on)));
    out
}

/// How to apply: by mail (reference and title in the subject), on the web, by phone.
pub(crate) struct Apply {
    mailto: Option<(String, String)>,
    /// (address, as shown).
    url: Option<(String, String)>,
    tel: Option<(String, String)>,
    share: String,
    attachments: Vec<(String, String)>,
}

fn mailto(to: &str, subject: &str, body: &str) -> String {
    let enc = |s: &str| {
        serde_urlencoded::to_string([("x", s)])
            .unwrap_or_default()
            .trim_start_matches("x=")
            .replace('+', "%20")
    };
    let mut q = format!("subject={}", enc(subject));
    if !body.is_empty() {
        q.push_str(&format!("&body={}", enc(body)));
    }
    format!("mailto:{to}?{q}")
}

fn apply_of(o: &Offer, public_url: &str) -> Apply {
    let f = &o.fields;
    let reference = o.reference.to_string();
    Apply {
        mailto: f.contact_email.as_ref().map(|m| {
            (
                mailto(m, &format!("Candidature – {reference} – {}", f.title), ""),
                m.clone(),
            )
        }),
        url: f.contact_url.clone().map(|u| (u.clone(), u)),
        tel: f.contact_phone.as_ref().map(|p| {
            let digits: String = p
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            (format!("tel:{digits}"), p.clone())
        }),
        share: mailto(
            "",
            &format!("Offre {reference} – {}", f.title),
            &format!("Cette offre pourrait vous intéresser : {public_url}"),
        ),
        attachments: f
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let kind = match a.content_type.as_str() {
                    "application/pdf" => "PDF",
                    "application/msword" => "DOC",
                    "application/vnd.oasis.opendocument.text" => "ODT",
                    _ => "DOCX",
                };
                let size = if a.size >= 1024 * 1024 {
                    format!("{:.1} Mo", a.size as f64 / 1048576.0).replace('.', ",")
                } else {
                    format!("{} ko", a.size.div_ceil(1024))
                };
                (
                    format!("/api/v1/offers/{reference}/attachments/{}", i + 1),
                    format!("{} ({kind}, {size})", a.name),
                )
            })
            .collect(),
    }
}

/// Offer page, with "Offre n/N" navigation inside the search it came from (`i` = its rank).
#[utoipa::path(get, path = "/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    responses((status = 200, description = "The offer page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not found page (HTML)", content_type = "text/html", body = String)))]
async fn offer_page(
    State(state): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let engine = state.engine.clone();
    let key = reference.clone();
    let person = crate::http::is_person(&headers);
    let found = crate::http::blocking(move || {
        let Some(offer) = engine.public_offer(&key)? else {
            return Ok(None);
        };
        if person {
            engine.count(offer.id, crate::engine::Event::View);
        }
        let similar = engine.similar(&offer, SIMILAR_SHOWN)?;
        Ok(Some((offer, similar)))
    })
    .await;
    let (offer, similar) = match found {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(&v),
        Err(e) => return e.into_response(),
    };
    let similar = similar
        .iter()
        .map(|o| {
            let f = &o.fields;
            let place = f
                .location
                .clone()
                .unwrap_or_else(|| f.country.label().to_string());
            (
                format!("/offres/{}", o.reference),
                f.title.clone(),
                format!("{} · {} · {}", f.contract.label(), f.domain.label(), place),
            )
        })
        .collect();
    let mut pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes).unwrap_or_default();
    let position: Option<u64> = pairs
        .iter()
        .find(|(k, _)| k == "i")
        .and_then(|(_, v)| v.parse().ok())
        .filter(|&i| (1..=u64::from(crate::domain::search::MAX_DEPTH)).contains(&i));
    pairs.retain(|(k, _)| k != "i" && k != "page" && k != "per_page");
    let nav = match (position, SearchParams::from_pairs(&pairs)) {
        (Some(i), Ok(params)) => offer_nav(&state, params, i).await,
        _ => None,
    };
    render(
        &v,
        StatusCode::OK,
        OfferView {
            ctx: v.ctx(&[(&offer.fields.title, None)]),
            apply: counted_apply(
                apply_of(&offer, &state.links.offer(&offer.reference.to_string())),
                &offer,
            ),
            title: offer.fields.title.clone(),
            reference: offer.reference.to_string(),
            contract: offer.fields.contract.label().to_string(),
            published: offer
                .published_at
                .map(|t| day_fr(crate::domain::local_time::local(t).date()))
                .unwrap_or_default(),
            fields: offer_fields(&offer),
            nav,
            similar,
        },
    )
}

/// The "Offre n/N" navigation of the offer at rank `i` of a search: the search is run for the
/// two neighbours alone (ranks `i-1` and `i+1`, one offer each), so that a page view reads at
/// most two offers whatever its rank.
async fn offer_nav(state: &AppState, mut params: SearchParams, i: u64) -> Option<OfferNav> {
    params.facets = false;
    params.per_page = 1;
    let neighbour = |rank: u64| {
        let mut p = params.clone();
        async move {
            p.page = u32::try_from(rank).ok().filter(|&r| r >= 1)?;
            run_search(state, p).await.ok()
        }
    };
    let (prev, next) = tokio::join!(neighbour(i - 1), neighbour(i + 1));
    let total = next
        .as_ref()
        .or(prev.as_ref())
        .map(|(_, page)| page.total)?;
    let criteria = params.criteria_pairs();
    let link = |found: Option<(SearchParams, crate::engine::SearchPage)>, rank: u64| {
        let (_, page) = found?;
        let o = page.offers.first()?;
        let mut c = criteria.clone();
        c.push(("i", rank.to_string()));
        Some(with_query(&format!("/offres/{}", o.reference), &c))
    };
    let mut back = criteria.clone();
    let back_page = (i - 1) / u64::from(crate::domain::search::DEFAULT_PER_PAGE) + 1;
    if back_page > 1 {
        back.push(("page", back_page.to_string()));
    }
    Some(OfferNav {
        position: i,
        total,
        prev_url: link(prev, i - 1),
        next_url: link(next, i + 1),
        back_url: with_query("/", &back),
    })
}

/// How a candidate applies: `courriel`, `en-ligne`, `telephone`.
const APPLY_WAYS: [&str; 3] = ["courriel", "en-ligne", "telephone"];

impl Apply {
    /// Each way of applying under its name in [`APPLY_WAYS`]: (address, as shown), if given.
    fn ways_mut(&mut self) -> [(&'static str, Option<&mut (String, String)>); 3] {
        [
            (APPLY_WAYS[0], self.mailto.as_mut()),
            (APPLY_WAYS[1], self.url.as_mut()),
            (APPLY_WAYS[2], self.tel.as_mut()),
        ]
    }
}

/// The "Postuler" links through the redirect that counts them.
fn counted_apply(mut a: Apply, o: &Offer) -> Apply {
    for (way, link) in a.ways_mut() {
        if let Some(link) = link {
            link.0 = format!("/offres/{}/postuler?par={way}", o.reference);
        }
    }
    a
}

/// How to apply (documentation of the query string).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ApplyQuery {
    /// `courriel`, `en-ligne` or `telephone`.
    #[param(pattern = "^(courriel|en-ligne|telephone)$")]
    par: String,
}

/// A click on "Postuler": counted (robots left out), then sent on to the offer's address,
/// mail or phone.
#[utoipa::path(get, path = "/offres/{reference}/postuler", tag = "portal",
    params(("reference" = String, Path, description = "Offer reference"), ApplyQuery),
    responses((status = 303, description = "To the way of applying"),
              (status = 400, description = "Unknown way of applying (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not found page (HTML)", content_type = "text/html", body = String)))]
async fn apply_click(
    State(state): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = address_pairs(&raw);
    let way = match pairs.as_slice() {
        [(k, w)] if k == "par" && APPLY_WAYS.contains(&w.as_str()) => w.clone(),
        _ => {
            return message_page(
                &v,
                StatusCode::BAD_REQUEST,
                "Adresse incorrecte",
                "Le paramètre par n'est pas valable : courriel, en-ligne ou telephone.",
            );
        }
    };
    let engine = state.engine.clone();
    let offer = match crate::http::blocking(move || Ok(engine.public_offer(&reference)?)).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(&v),
        Err(e) => return e.into_response(),
    };
    let mut a = apply_of(&offer, "");
    let target = a
        .ways_mut()
        .into_iter()
        .find(|(name, _)| *name == way)
        .and_then(|(_, link)| link.map(|l| l.0.clone()));
    let Some(target) = target else {
        return not_found_page(&v);
    };
    if crate::http::is_person(&headers) {
        state.engine.count(offer.id, crate::engine::Event::Click);
    }
    axum::response::Redirect::to(&target).into_response()
}

/// The criteria of the search in the address, checked like the search's own (the answer to
/// give instead when one is malformed); `i` (a position in the results) is left out.
fn checked_criteria(
    v: &Visitor,
    raw: &Option<String>,
) -> Result<(String, Vec<(String, String)>), Response> {
    let pairs = address_pairs(raw);
    let searched: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "i").cloned().collect();
    match SearchParams::from_pairs(&searched) {
        Ok(_) => Ok(carried(pairs)),
        Err(errors) => {
            let fields: Vec<&str> = errors.0.iter().map(|f| f.field.as_str()).collect();
            Err(message_page(
                v,
                StatusCode::BAD_REQUEST,
                "Recherche incorrecte",
                &format!(
                    "Ces critères de l'adresse ne sont pas valables : {}. Revenez à la recherche et choisissez-les dans les listes.",
                    fields.join(", ")
                ),
            ))
        }
    }
}

fn address_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or_default())
        .unwrap_or_default()
}

/// The criteria carried along in the address (paging and empty values left out).
fn criteria_of(raw: &Option<String>) -> (String, Vec<(String, String)>) {
    carried(address_pairs(raw))
}

fn carried(pairs: Vec<(String, String)>) -> (String, Vec<(String, String)>) {
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| {
            !v.is_empty() && !["page", "per_page", "facets", "i"].contains(&k.as_str())
        })
        .collect();
    (serde_urlencoded::to_string(&kept).unwrap_or_default(), kept)
}

fn suffix(qs: &str) -> String {
    if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    }
}

fn frequency_field(value: &str) -> Field {
    Field::new("frequency", "Fréquence des courriels", "select", value).options(vec![
        ("immediate".into(), "À chaque nouvelle offre".into()),
        ("daily".into(), "Un récapitulatif par jour".into()),
    ])
}

fn alert_form(v: &Visitor, qs: &str, form: &Form, name: &str, recent: Option<u64>) -> FormPage {
    let sfx = suffix(qs);
    let mut fields = vec![
        Field::new("name", "Nom de la recherche", "text", name).required(),
        Field::new(
            "alert",
            "Alerte par courriel",
            "select",
            if form.get("alert") == "off" {
                "off"
            } else {
                "on"
            },
        )
        .options(vec![
            (
                "on".into(),
                "Oui : m'envoyer les nouvelles offres de cette recherche".into(),
            ),
            (
                "off".into(),
                "Non : seulement enregistrer la recherche".into(),
            ),
        ])
        .hint("Vous pourrez activer ou désactiver l'alerte dans « Mes recherches »."),
        frequency_field(if form.get("frequency").is_empty() {
            "immediate"
        } else {
            form.get("frequency")
        }),
    ];
    let logged_in = v
        .account
        .as_ref()
        .is_some_and(|a| a.role == Role::Candidate);
    if !logged_in {
        fields.push(
            Field::new(
                "login",
                "Identifiant ou adresse électronique",
                "text",
                form.get("login"),
            )
            .required()
            .autocomplete("username"),
        );
        fields.push(
            Field::new("password", "Mot de passe", "password", "")
                .required()
                .autocomplete("current-password"),
        );
    }
    let mut page = FormPage::new(
        v.ctx(&[("Enregistrer cette recherche", None)]),
        "Enregistrer cette recherche",
        &format!("/alertes/nouvelle{sfx}"),
        fields,
        "Enregistrer la recherche",
    )
    .intro(if logged_in {
        "Retrouvez cette recherche dans « Mes recherches », avec ou sans alerte."
    } else {
        "Retrouvez cette recherche dans « Mes recherches », avec ou sans alerte. Connectez-vous avec votre compte candidat."
    })
    .links(vec![
        (format!("/compte/nouveau{sfx}"), "Pas encore de compte ? Créer un compte candidat".into()),
        (format!("/feeds/offers.rss{sfx}"), "Ou suivre cette recherche par flux RSS".into()),
        (format!("/{sfx}"), "Revenir à la recherche".into()),
    ]);
    page.notice = match recent {
        Some(0) => {
            Some("Aucune offre de cette recherche n'a été publiée ces 30 derniers jours.".into())
        }
        Some(1) => Some("Cette recherche a trouvé 1 offre publiée ces 30 derniers jours.".into()),
        Some(n) => Some(format!(
            "Cette recherche a trouvé {n} offres publiées ces 30 derniers jours."
        )),
        None => None,
    };
    page
}

/// How many offers the search found among those published in the last 30 days.
async fn recent_count(state: &AppState, pairs: &[(String, String)]) -> Option<u64> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "published_since")
        .cloned()
        .collect();
    pairs.push(("published_since".into(), "30".into()));
    pairs.push(("per_page".into(), "0".into()));
    pairs.push(("facets".into(), "false".into()));
    let params = SearchParams::from_pairs(&pairs).ok()?;
    run_search(state, params)
        .await
        .ok()
        .map(|(_, page)| page.total)
}

/// "Créer une alerte": saves the current search for a candidate (login in the form).
#[utoipa::path(get, path = "/alertes/nouvelle", tag = "portal", params(crate::http::api::offers::SearchQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn alert_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> Response {
    let (qs, pairs) = match checked_criteria(&v, &raw) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let name = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map_or("Ma recherche".to_string(), |(_, v)| v.clone());
    let recent = recent_count(&state, &pairs).await;
    render(
        &v,
        StatusCode::OK,
        alert_form(&v, &qs, &Form::default(), &name, recent),
    )
}

/// Creates the alert: the candidate's session or the credentials of the form (under the login
/// throttle), then the search saved with the criteria of the URL.
#[utoipa::path(post, path = "/alertes/nouvelle", tag = "portal", params(crate::http::api::offers::SearchQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 401, description = "Wrong credentials (HTML form again)", content_type = "text/html", body = String)))]
async fn create_alert(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::client::ClientIp(peer): crate::http::client::ClientIp,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (qs, pairs) = match checked_criteria(&v, &raw) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let engine = state.engine.clone();
    let links = state.links.clone();
    let throttle = state.throttle.clone();
    let max = state.config.max_saved_searches;
    let session = v.account.clone().filter(|a| a.role == Role::Candidate);
    let (login, password) = (
        form.get("login").to_string(),
        form.get("password").to_string(),
    );
    let (name, frequency) = (
        form.get("name").to_string(),
        form.get("frequency").to_string(),
    );
    let alert = form.get("alert") != "off";
    let result = crate::http::blocking(move || {
        let auth = Auth::new(&engine, &links);
        let run = || -> crate::Result<(crate::domain::account::SavedSearch, bool)> {
            let who = match session {
                Some(a) => a,
                None => {
                    let token =
                        auth.login_throttled(&throttle, &login, &password, &peer.to_string())?;
                    let who = auth.authenticate(&token)?;
                    let _ = auth.logout(&token);
                    who
                }
            };
            let mut criteria = serde_json::Map::new();
            for (k, v) in pairs {
                match criteria.get_mut(&k) {
                    Some(serde_json::Value::Array(a)) => a.push(v.into()),
                    Some(other) => *other = serde_json::Value::Array(vec![other.clone(), v.into()]),
                    None => {
                        criteria.insert(k, v.into());
                    }
                }
            }
            let s = Candidates::new(&engine, links.base(), max).create_search(
                &who,
                NewSearch {
                    name: Some(name),
                    criteria,
                    alert: Some(alert),
                    frequency: Some(frequency),
                },
            )?;
            Ok((s, who.email_confirmed))
        };
        Ok(run())
    })
    .await;
    match result {
        Ok(Ok((s, confirmed))) => {
            state.mail_wake.notify_one();
            let extra = if !s.alert {
                " Elle n'a pas d'alerte : activez-la quand vous voulez dans « Mes recherches »."
            } else if confirmed {
                " Son alerte est active."
            } else {
                " Confirmez d'abord votre adresse électronique avec le lien reçu : les alertes ne partent que vers une adresse confirmée."
            };
            message_with_links(
                &v,
                StatusCode::CREATED,
                if s.alert {
                    "Alerte créée"
                } else {
                    "Recherche enregistrée"
                },
                &format!("La recherche « {} » est enregistrée.{extra}", s.name),
                vec![
                    ("/compte/recherches".into(), "Mes recherches".into()),
                    ("/".into(), "Revenir à la recherche".into()),
                ],
            )
        }
        Ok(Err(e)) => render(
            &v,
            status_of(&e),
            alert_form(&v, &qs, &form, form.get("name"), None).with_error(&e),
        ),
        Err(e) => e.into_response(),
    }
}

fn signup_form(v: &Visitor, qs: &str, form: &Form) -> FormPage {
    FormPage::new(
        v.ctx(&[("Créer un compte candidat", None)]),
        "Créer un compte candidat",
        &format!("/compte/nouveau{}", suffix(qs)),
        vec![
            Field::new("civility", "Civilité", "select", form.get("civility"))
                .required()
                .options(vec![
                    ("".into(), "— Choisir —".into()),
                    ("Mme".into(), "Madame".into()),
                    ("M.".into(), "Monsieur".into()),
                ]),
            Field::new("first_name", "Prénom", "text", form.get("first_name"))
                .required()
                .autocomplete("given-name"),
            Field::new("last_name", "Nom", "text", form.get("last_name"))
                .required()
                .autocomplete("family-name"),
            Field::new("email", "Adresse électronique", "email", form.get("email"))
                .required()
                .autocomplete("email")
                .hint("Format attendu : nom@domaine.fr. Un lien de confirmation y sera envoyé."),
            Field::new("username", "Identifiant", "text", form.get("username"))
                .required()
                .autocomplete("username")
                .hint("De 3 à 40 caractères : lettres, chiffres, espace, point, tiret, apostrophe ou @."),
            Field::new("password", "Mot de passe", "password", "")
                .required()
                .autocomplete("new-password")
                .hint("Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles."),
            Field::new("password_confirm", "Confirmation du mot de passe", "password", "")
                .required()
                .autocomplete("new-password"),
            Field::new("phone", "Téléphone (facultatif)", "tel", form.get("phone")).autocomplete("tel"),
        ],
        "Créer mon compte",
    )
    .links(vec![(format!("/alertes/nouvelle{}", suffix(qs)), "J'ai déjà un compte".into())])
}

/// Candidate sign-up form.
#[utoipa::path(get, path = "/compte/nouveau", tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn signup_page(v: Visitor, RawQuery(raw): RawQuery) -> Response {
    let (qs, _) = criteria_of(&raw);
    render(&v, StatusCode::OK, signup_form(&v, &qs, &Form::default()))
}

/// Creates a candidate account from the form; the confirmation link is mailed.
#[utoipa::path(post, path = "/compte/nouveau", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
async fn signup_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::client::ClientIp(client): crate::http::client::ClientIp,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (qs, _) = criteria_of(&raw);
    // The page asks what the API leaves to its clients: a civility, the password twice.
    let mut faults = Vec::new();
    if form.get("civility").is_empty() {
        faults.push(crate::FieldError::new("civility", "is required"));
    }
    if form.get("password") != form.get("password_confirm") {
        faults.push(crate::FieldError::new(
            "password_confirm",
            "the two passwords differ",
        ));
    }
    if !faults.is_empty() {
        let e = crate::Error::Invalid(crate::ValidationErrors(faults));
        return render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        );
    }
    let signup = Signup {
        civility: form.opt("civility"),
        first_name: form.opt("first_name"),
        last_name: form.opt("last_name"),
        email: form.opt("email"),
        username: form.opt("username"),
        password: Some(form.get("password").to_string()).filter(|p| !p.is_empty()),
        phone: form.opt("phone"),
    };
    let email = form.get("email").to_string();
    if let Err(e) = state.mail_allowed(&email, client) {
        return render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        );
    }
    let created = with_candidates(&state, move |c| c.signup(signup)).await;
    if created.is_ok() {
        state.mail_sent(&email, client);
    }
    match created {
        Ok(a) => message_with_links(
            &v,
            StatusCode::CREATED,
            "Compte créé",
            &format!(
                "Un lien de confirmation a été envoyé à {}. Vous pouvez dès maintenant créer votre alerte.",
                a.email
            ),
            vec![(
                format!("/alertes/nouvelle{}", suffix(&qs)),
                "Créer l'alerte de cette recherche".into(),
            )],
        ),
        Err(e) => render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        ),
    }
}
