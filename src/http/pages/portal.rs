//! The public portal, server-rendered in French: the search page with disjunctive facet counts,
//! offer pages with previous/next navigation inside the search, and the error pages. Every
//! page's state lives in its URL, with the API's parameter names.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::candidates::{Candidates, NewSearch, Signup};
use crate::domain::offer::iso_date;
use crate::domain::{Facet, Offer, SearchParams, Sort, referentials};
use crate::http::api::offers::run_search;
use crate::http::{AppState, query_pairs};
use crate::index::FacetCounts;
use crate::links::Links;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_page))
        .routes(routes!(offer_page))
        .routes(routes!(alert_page, create_alert))
        .routes(routes!(signup_page, signup_submit))
        .routes(routes!(confirm_email))
        .routes(routes!(password_page, password_submit))
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
    title: String,
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
    title: String,
    reference: String,
    contract: String,
    published: String,
    fields: Vec<(String, String)>,
    nav: Option<OfferNav>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageView {
    title: String,
    class: &'static str,
    message: String,
    links: Vec<(String, String)>,
}

fn render(status: StatusCode, t: impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => crate::http::AppError::internal(format!("template: {e}")).into_response(),
    }
}

fn message(status: StatusCode, title: &str, message: String) -> Response {
    render(
        status,
        MessageView {
            title: title.to_string(),
            class: if status.is_success() {
                "notice"
            } else {
                "error"
            },
            message,
            links: vec![("/".into(), "Revenir à la recherche".into())],
        },
    )
}

/// The 404 page.
pub(crate) fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette page n'existe pas, ou l'offre n'est plus diffusée.".into(),
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

fn date_fr(t: time::OffsetDateTime) -> String {
    format!("{:02}/{:02}/{}", t.day(), t.month() as u8, t.year())
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
            let ord = values.ordinal(&v.value)?;
            Some(FacetOption {
                value: v.value.clone(),
                label: v.label.clone(),
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
async fn search_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let pairs = match query_pairs(raw.as_deref(), state.config.max_query_bytes) {
        Ok(p) => p,
        Err(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Recherche invalide",
                "L'adresse de cette recherche est mal formée.".into(),
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
    render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        SearchView {
            title,
            errors,
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
    push(
        "Début",
        Some(format!("{:02}/{}", f.start.month, f.start.year)),
    );
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
    push("Missions", Some(f.description.clone()));
    push(
        "Présentation de l'employeur",
        f.employer_description.clone(),
    );
    push("Profil recherché", f.profile.clone());
    push("Conditions particulières", f.conditions.clone());
    push("Langues", f.languages.clone());
    push("Informations complémentaires", f.extra_info.clone());
    push("Contact", f.contact_email.clone());
    push("Candidater en ligne", f.contact_url.clone());
    push("Téléphone", f.contact_phone.clone());
    for (i, a) in f.attachments.iter().enumerate() {
        push(
            &format!("Pièce jointe {}", i + 1),
            Some(format!("{} ({} Ko)", a.name, a.size / 1024)),
        );
    }
    push("Fin de diffusion", Some(iso_date::format(f.unpublish_on)));
    out
}

/// Offer page, with "Offre n/N" navigation inside the search it came from (`i` = its rank).
#[utoipa::path(get, path = "/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    responses((status = 200, description = "The offer page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not found page (HTML)", content_type = "text/html", body = String)))]
async fn offer_page(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let engine = state.engine.clone();
    let key = reference.clone();
    let offer = match crate::http::blocking(move || Ok(engine.public_offer(&key)?)).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(),
        Err(e) => return e.into_response(),
    };
    let mut pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes).unwrap_or_default();
    let position: Option<u64> = pairs
        .iter()
        .find(|(k, _)| k == "i")
        .and_then(|(_, v)| v.parse().ok())
        .filter(|&i| (1..=u64::from(crate::domain::search::MAX_DEPTH)).contains(&i));
    pairs.retain(|(k, _)| k != "i" && k != "page" && k != "per_page");
    let nav = match (position, SearchParams::from_pairs(&pairs)) {
        (Some(i), Ok(mut params)) => {
            // Ranks 1..=i+1 of the same search: the neighbours are i-1 and i+1.
            params.facets = false;
            params.page = 1;
            params.per_page = (i + 1) as u32;
            match run_search(&state, params).await {
                Ok((params, page)) => {
                    let criteria = params.criteria_pairs();
                    let link = |rank: u64| {
                        let o = page
                            .offers
                            .get(usize::try_from(rank).ok()?.checked_sub(1)?)?;
                        let mut c = criteria.clone();
                        c.push(("i", rank.to_string()));
                        Some(with_query(&format!("/offres/{}", o.reference), &c))
                    };
                    let mut back = criteria.clone();
                    let back_page =
                        (i - 1) / u64::from(crate::domain::search::DEFAULT_PER_PAGE) + 1;
                    if back_page > 1 {
                        back.push(("page", back_page.to_string()));
                    }
                    Some(OfferNav {
                        position: i,
                        total: page.total,
                        prev_url: link(i - 1),
                        next_url: link(i + 1),
                        back_url: with_query("/", &back),
                    })
                }
                Err(_) => None,
            }
        }
        _ => None,
    };
    render(
        StatusCode::OK,
        OfferView {
            title: offer.fields.title.clone(),
            reference: offer.reference.to_string(),
            contract: offer.fields.contract.label().to_string(),
            published: offer.published_at.map(date_fr).unwrap_or_default(),
            fields: offer_fields(&offer),
            nav,
        },
    )
}

struct FormField {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    required: bool,
    options: Vec<(String, String)>,
}

fn field(name: &'static str, label: &'static str, kind: &'static str, value: &str) -> FormField {
    FormField {
        name,
        label,
        kind,
        value: value.to_string(),
        required: kind != "tel",
        options: Vec::new(),
    }
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormView {
    title: String,
    intro: String,
    error: Option<String>,
    notice: Option<String>,
    action: String,
    fields: Vec<FormField>,
    submit: &'static str,
    links: Vec<(String, String)>,
}

/// The message of an engine error for a person.
fn explain(e: &crate::Error) -> String {
    match e {
        crate::Error::Invalid(v) => {
            v.0.iter()
                .map(|f| format!("{} : {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" ; ")
        }
        crate::Error::Unauthorized(_) => "Identifiant ou mot de passe incorrect.".into(),
        crate::Error::TooMany(wait) => {
            format!(
                "Trop de tentatives : réessayez dans {} minutes.",
                wait.div_ceil(60)
            )
        }
        crate::Error::Conflict(m) | crate::Error::NotFound(m) | crate::Error::Forbidden(m) => {
            m.clone()
        }
        _ => "Le service n'a pas pu répondre ; réessayez plus tard.".into(),
    }
}

fn criteria_of(raw: &Option<String>) -> (String, Vec<(String, String)>) {
    let qs = raw.clone().unwrap_or_default();
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(&qs).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| {
            !v.is_empty() && !["page", "per_page", "facets", "i"].contains(&k.as_str())
        })
        .collect();
    (serde_urlencoded::to_string(&kept).unwrap_or_default(), kept)
}

fn alert_form(qs: &str, error: Option<String>, login: &str, name: &str) -> FormView {
    let suffix = if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    };
    let mut frequency = field(
        "frequency",
        "Fréquence des courriels",
        "select",
        "immediate",
    );
    frequency.options = vec![
        ("immediate".into(), "À chaque nouvelle offre".into()),
        ("daily".into(), "Un récapitulatif par jour".into()),
    ];
    FormView {
        title: "Créer une alerte".into(),
        intro: "Recevez par courriel les nouvelles offres de cette recherche. Connectez-vous avec votre compte candidat.".into(),
        error,
        notice: None,
        action: format!("/alertes/nouvelle{suffix}"),
        fields: vec![
            field("name", "Nom de l'alerte", "text", name),
            frequency,
            field("login", "Identifiant ou adresse e-mail", "text", login),
            field("password", "Mot de passe", "password", ""),
        ],
        submit: "Créer l'alerte",
        links: vec![
            (format!("/compte/nouveau{suffix}"), "Pas encore de compte ? Créer un compte candidat".into()),
            (format!("/feeds/offers.rss{suffix}"), "Ou suivre cette recherche par flux RSS".into()),
            (format!("/{suffix}"), "Revenir à la recherche".into()),
        ],
    }
}

/// "Créer une alerte": saves the current search for a candidate (login in the form).
#[utoipa::path(get, path = "/alertes/nouvelle", tag = "portal", params(crate::http::api::offers::SearchQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn alert_page(RawQuery(raw): RawQuery) -> Response {
    let (qs, pairs) = criteria_of(&raw);
    let name = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map_or("Ma recherche".to_string(), |(_, v)| v.clone());
    render(StatusCode::OK, alert_form(&qs, None, "", &name))
}

/// The alert form.
#[derive(serde::Deserialize)]
pub struct AlertForm {
    name: String,
    frequency: String,
    login: String,
    password: String,
}

/// Creates the alert: logs in, saves the search with the criteria of the URL.
#[utoipa::path(post, path = "/alertes/nouvelle", tag = "portal", params(crate::http::api::offers::SearchQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 401, description = "Wrong credentials (HTML form again)", content_type = "text/html", body = String)))]
async fn create_alert(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
    axum::Form(form): axum::Form<AlertForm>,
) -> Response {
    let (qs, pairs) = criteria_of(&raw);
    let engine = state.engine.clone();
    let links = state.links.clone();
    let throttle = state.throttle.clone();
    let max = state.config.max_saved_searches;
    let (login, name) = (form.login.clone(), form.name.clone());
    let result = crate::http::blocking(move || {
        let auth = Auth::new(&engine, &links);
        let run = || -> crate::Result<(crate::domain::account::SavedSearch, bool)> {
            let token = auth.login_throttled(
                &throttle,
                &form.login,
                &form.password,
                &peer.ip().to_string(),
            )?;
            let who = auth.authenticate(&token)?;
            let _ = auth.logout(&token);
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
                    name: Some(form.name),
                    criteria,
                    alert: Some(true),
                    frequency: Some(form.frequency),
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
            let extra = if confirmed {
                ""
            } else {
                " Confirmez d'abord votre adresse e-mail avec le lien reçu : les alertes ne partent que vers une adresse confirmée."
            };
            message(
                StatusCode::CREATED,
                "Alerte créée",
                format!("L'alerte « {} » est enregistrée.{extra}", s.name),
            )
        }
        Ok(Err(e)) => render(
            crate::http::error::status_of(&e),
            alert_form(&qs, Some(explain(&e)), &login, &name),
        ),
        Err(e) => e.into_response(),
    }
}

fn signup_form(qs: &str, error: Option<String>, values: &SignupForm) -> FormView {
    let suffix = if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    };
    let mut civility = field("civility", "Civilité", "select", &values.civility);
    civility.options = vec![
        ("".into(), "—".into()),
        ("Mme".into(), "Madame".into()),
        ("M.".into(), "Monsieur".into()),
    ];
    FormView {
        title: "Créer un compte candidat".into(),
        intro: "Un lien de confirmation vous sera envoyé par courriel. Le mot de passe compte au moins 12 caractères de trois sortes (minuscules, majuscules, chiffres, symboles).".into(),
        error,
        notice: None,
        action: format!("/compte/nouveau{suffix}"),
        fields: vec![
            civility,
            field("first_name", "Prénom", "text", &values.first_name),
            field("last_name", "Nom", "text", &values.last_name),
            field("email", "Adresse e-mail", "email", &values.email),
            field("username", "Identifiant", "text", &values.username),
            field("password", "Mot de passe", "password", ""),
            field("phone", "Téléphone (facultatif)", "tel", &values.phone),
        ],
        submit: "Créer mon compte",
        links: vec![(format!("/alertes/nouvelle{suffix}"), "J'ai déjà un compte".into())],
    }
}

/// The sign-up form.
#[derive(serde::Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    civility: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    phone: String,
}

/// Candidate sign-up form.
#[utoipa::path(get, path = "/compte/nouveau", tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn signup_page(RawQuery(raw): RawQuery) -> Response {
    let (qs, _) = criteria_of(&raw);
    render(
        StatusCode::OK,
        signup_form(&qs, None, &SignupForm::default()),
    )
}

/// Creates a candidate account from the form.
#[utoipa::path(post, path = "/compte/nouveau", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
async fn signup_submit(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    axum::Form(form): axum::Form<SignupForm>,
) -> Response {
    let (qs, _) = criteria_of(&raw);
    let engine = state.engine.clone();
    let base = state.config.base_url().to_string();
    let max = state.config.max_saved_searches;
    let opt = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let signup = Signup {
        civility: opt(&form.civility),
        first_name: opt(&form.first_name),
        last_name: opt(&form.last_name),
        email: opt(&form.email),
        username: opt(&form.username),
        password: opt(&form.password),
        phone: opt(&form.phone),
    };
    let result =
        crate::http::blocking(move || Ok(Candidates::new(&engine, &base, max).signup(signup)))
            .await;
    match result {
        Ok(Ok(a)) => {
            state.mail_wake.notify_one();
            let suffix = if qs.is_empty() {
                String::new()
            } else {
                format!("?{qs}")
            };
            render(
                StatusCode::CREATED,
                MessageView {
                    title: "Compte créé".into(),
                    class: "notice",
                    message: format!(
                        "Un lien de confirmation a été envoyé à {}. Vous pouvez dès maintenant créer votre alerte.",
                        a.email
                    ),
                    links: vec![(
                        format!("/alertes/nouvelle{suffix}"),
                        "Créer l'alerte de cette recherche".into(),
                    )],
                },
            )
        }
        Ok(Err(e)) => render(
            crate::http::error::status_of(&e),
            signup_form(&qs, Some(explain(&e)), &form),
        ),
        Err(e) => e.into_response(),
    }
}

/// The token of a mailed link.
#[derive(serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The confirmation link of a candidate's e-mail address.
#[utoipa::path(get, path = "/confirmer-email", tag = "portal",
    responses((status = 200, description = "Confirmed (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "Invalid link (HTML)", content_type = "text/html", body = String)))]
async fn confirm_email(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> Response {
    let engine = state.engine.clone();
    let base = state.config.base_url().to_string();
    let max = state.config.max_saved_searches;
    match crate::http::blocking(move || Ok(Candidates::new(&engine, &base, max).confirm(&q.token)))
        .await
    {
        Ok(Ok(a)) => message(
            StatusCode::OK,
            "Adresse confirmée",
            format!(
                "L'adresse {} est confirmée : vos alertes sont actives.",
                a.email
            ),
        ),
        Ok(Err(e)) => message(
            crate::http::error::status_of(&e),
            "Lien invalide",
            "Ce lien est inconnu, déjà utilisé ou expiré.".into(),
        ),
        Err(e) => e.into_response(),
    }
}

fn password_form(token: &str, error: Option<String>) -> FormView {
    FormView {
        title: "Choisir mon mot de passe".into(),
        intro: "Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles.".into(),
        error,
        notice: None,
        action: format!("/set-password?token={}", serde_urlencoded::to_string([("t", token)]).unwrap_or_default().trim_start_matches("t=")),
        fields: vec![field("password", "Nouveau mot de passe", "password", "")],
        submit: "Enregistrer",
        links: Vec::new(),
    }
}

/// The one-time link of a recruiter or administrator to choose a password.
#[utoipa::path(get, path = "/set-password", tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn password_page(axum::extract::Query(q): axum::extract::Query<TokenQuery>) -> Response {
    render(StatusCode::OK, password_form(&q.token, None))
}

/// The password form.
#[derive(serde::Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// Sets the password of a one-time link.
#[utoipa::path(post, path = "/set-password", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Done (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the error", content_type = "text/html", body = String)))]
async fn password_submit(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Response {
    let engine = state.engine.clone();
    let base = state.config.base_url().to_string();
    let token = q.token.clone();
    match crate::http::blocking(move || {
        Ok(Auth::new(&engine, &Links::new(&base)).set_password(&token, &form.password))
    })
    .await
    {
        Ok(Ok(())) => message(
            StatusCode::OK,
            "Mot de passe enregistré",
            "Vous pouvez vous connecter (POST /api/v1/auth/login).".into(),
        ),
        Ok(Err(e)) => render(
            crate::http::error::status_of(&e),
            password_form(&q.token, Some(explain(&e))),
        ),
        Err(e) => e.into_response(),
    }
}
