//! Public search: `GET /api/v1/offers`, `GET /api/v1/offers/{reference}`,
//! `GET /api/v1/referentials`.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Facet, Offer, SearchParams, referentials};
use crate::engine::SearchPage;
use crate::http::Problem;
use crate::http::api::public_offer::PublicOffer;
use crate::http::{AppError, AppState, blocking, query_pairs};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(offer))
        .routes(routes!(referentials_answer))
        .routes(routes!(suggest))
        .routes(routes!(communes_answer))
        .routes(routes!(similar))
        .routes(routes!(attachment))
}

// Borrowed from the decoded offer: an answer copies nothing but what it formats.
/// One offer in a result list.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferSummary<'a> {
    reference: String,
    title: &'a str,
    contract: &'static str,
    diploma: &'static str,
    domain: &'static str,
    administration: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'static str>,
    country: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    /// The commune (INSEE code).
    #[serde(skip_serializing_if = "Option::is_none")]
    commune: Option<&'a str>,
    /// Distance from `near`, km, one decimal (only when `near` is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_km: Option<f64>,
    service: &'a str,
    /// RFC 3339.
    published_at: String,
    /// `YYYY-MM`.
    start: String,
    /// The offer on the portal.
    url: String,
}

/// A facet value and its disjunctive count.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    value: &'static str,
    label: &'static str,
    count: u64,
}

/// Counts per facet.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Facets {
    contract: Vec<FacetValue>,
    diploma: Vec<FacetValue>,
    domain: Vec<FacetValue>,
    administration: Vec<FacetValue>,
    region: Vec<FacetValue>,
    department: Vec<FacetValue>,
    country: Vec<FacetValue>,
    telework: Vec<FacetValue>,
    paid: Vec<FacetValue>,
    versant: Vec<FacetValue>,
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchAnswer<'a> {
    total: u64,
    page: u32,
    per_page: u32,
    offers: Vec<OfferSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<Facets>,
    /// The words of `q` read as others, typed → used, folded (`{"informatiqe":
    /// "informatique"}`); absent when none was (or with `exact=true`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(required = false)]
    corrected: BTreeMap<String, String>,
    /// For a keyword query that found nothing: the query with the closest words of the offers.
    #[serde(skip_serializing_if = "Option::is_none")]
    did_you_mean: Option<String>,
}

/// The search parameters (documentation of the query string).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchQuery {
    /// Keywords (all must match; accents, case and plurals ignored), a "quoted phrase", or a
    /// reference (`A-2021-0192`, `2021-0192`).
    q: Option<String>,
    /// `apprentissage`, `stage` (repeatable).
    contract: Option<Vec<String>>,
    /// One diploma level code, e.g. `niveau-6`.
    diploma: Option<String>,
    /// Domain codes (repeatable).
    domain: Option<Vec<String>>,
    /// Administration codes (repeatable).
    administration: Option<Vec<String>>,
    /// INSEE region codes (repeatable).
    region: Option<Vec<String>>,
    /// INSEE department codes (repeatable).
    department: Option<Vec<String>>,
    /// `true` (telework possible) or `false` (repeatable).
    telework: Option<Vec<String>>,
    /// `true` (paid) or `false` (repeatable).
    paid: Option<Vec<String>>,
    /// `etat`, `territoriale`, `hospitaliere` (repeatable).
    versant: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 codes (repeatable).
    country: Option<Vec<String>>,
    /// RFC 3339 time or a number of days.
    published_since: Option<String>,
    /// A place: a postal code (`69003`), an INSEE code (`69123`) or a commune's name
    /// (`Lyon`, `Saint-Pierre (974)`); only offers within `km` of it.
    near: Option<String>,
    /// Greatest distance from `near`, km (5 to 200; 30 when `near` is given alone).
    #[param(minimum = 5, maximum = 200)]
    km: Option<u32>,
    /// `date` (default), `relevance`, or `distance` (nearest first; needs `near`).
    sort: Option<String>,
    /// 1-based page.
    page: Option<u32>,
    /// 0..=100, default 20.
    per_page: Option<u32>,
    /// `true` (default) or `false`.
    facets: Option<bool>,
    /// `true` takes the words as typed; by default a word of 5 letters or more that no offer
    /// holds is read as the closest word of the offers (one edit; two from 9 letters).
    exact: Option<bool>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The portal URL of an offer.
pub(crate) fn offer_url(base: &str, o: &Offer) -> String {
    format!("{base}/offres/{}", o.reference)
}

pub(crate) fn summary<'a>(base: &str, o: &'a Offer) -> OfferSummary<'a> {
    let f = &o.fields;
    OfferSummary {
        reference: o.reference.to_string(),
        title: &f.title,
        contract: f.contract.code(),
        diploma: f.diploma.code(),
        domain: f.domain.code(),
        administration: f.administration.code(),
        region: f.region.map(|r| r.code()),
        department: f.department.map(|d| d.code()),
        country: f.country.code(),
        location: f.location.as_deref(),
        commune: f.commune.as_deref(),
        distance_km: None,
        service: &f.service,
        published_at: rfc3339(o.published_at.unwrap_or(o.created_at)),
        start: f.start.to_string(),
        url: offer_url(base, o),
    }
}

fn facets_answer(page: &SearchPage) -> Option<Facets> {
    let counts = page.facets.as_ref()?;
    let mut out = Facets::default();
    for fc in counts {
        let values = fc
            .values
            .iter()
            .map(|v| FacetValue {
                value: v.value,
                label: v.label,
                count: v.count,
            })
            .collect();
        match fc.facet {
            Facet::Contract => out.contract = values,
            Facet::Diploma => out.diploma = values,
            Facet::Domain => out.domain = values,
            Facet::Administration => out.administration = values,
            Facet::Region => out.region = values,
            Facet::Department => out.department = values,
            Facet::Country => out.country = values,
            Facet::Telework => out.telework = values,
            Facet::Paid => out.paid = values,
            Facet::Versant => out.versant = values,
        }
    }
    Some(out)
}

/// Parses and runs a search off the async workers.
pub(crate) async fn run_search(
    state: &AppState,
    params: SearchParams,
) -> Result<(SearchParams, SearchPage), AppError> {
    let engine = state.engine.clone();
    blocking(move || {
        let started = Instant::now();
        let page = engine.search(&params)?;
        metrics::histogram!("search_duration_seconds").record(started.elapsed().as_secs_f64());
        Ok((params, page))
    })
    .await
}

/// Search the visible offers, with disjunctive facet counts.
#[utoipa::path(
    get,
    path = "/api/v1/offers",
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of offers with facet counts", body = SearchAnswer),
        (status = 400, description = "A parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json")
    )
)]
async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes)?;
    let params = SearchParams::from_pairs(&pairs).map_err(AppError::bad_request)?;
    let (params, page) = run_search(&state, params).await?;
    let base = state.config.base_url();
    Ok(json_answer(&SearchAnswer {
        total: page.total,
        page: params.page,
        per_page: params.per_page,
        offers: page
            .offers
            .iter()
            .map(|o| OfferSummary {
                distance_km: params.near.as_ref().and_then(|n| n.distance_to(&o.fields)),
                ..summary(base, o)
            })
            .collect(),
        facets: facets_answer(&page),
        corrected: page.corrected.iter().cloned().collect(),
        did_you_mean: page.did_you_mean.clone(),
    }))
}

/// `value` as a JSON answer, written once into a buffer of the size a page of results takes
/// (axum's `Json` starts from 128 bytes and grows a 20 KB answer by copies).
fn json_answer(value: &impl Serialize) -> Response {
    let mut body = Vec::with_capacity(32 * 1024);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => AppError::internal(format!("cannot write the answer: {e}")).into_response(),
    }
}

/// The public fields of an offer ([`PublicOffer`]), as JSON.
pub(crate) fn public_offer_json(base: &str, o: &Offer) -> serde_json::Value {
    serde_json::to_value(PublicOffer::of(base, o)).unwrap_or_default()
}

/// One visible offer with every public field.
#[utoipa::path(
    get,
    path = "/api/v1/offers/{reference}",
    tag = "search",
    params(("reference" = String, Path, description = "`A-YYYY-NNNN` or `S-YYYY-NNNN`")),
    responses(
        (status = 200, description = "The offer", body = PublicOffer),
        (status = 404, description = "Unknown, draft or no longer diffused", body = Problem, content_type = "application/problem+json")
    )
)]
async fn offer(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(reference): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let engine = state.engine.clone();
    let key = reference.clone();
    let offer = blocking(move || Ok(engine.public_offer(&key)?)).await?;
    match offer {
        Some(o) => {
            if crate::http::is_person(&headers) {
                state.engine.count(o.id, crate::engine::Event::View);
            }
            Ok(Json(public_offer_json(state.config.base_url(), &o)))
        }
        None => Err(AppError::not_found(format!("no visible offer {reference}"))),
    }
}

/// The parameters of the suggestions (documentation of the query string).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SuggestQuery {
    /// What the person typed so far (1 to 100 characters; accents and case ignored; a
    /// trailing blank ends the last word).
    #[param(min_length = 1, max_length = 100, pattern = r"\S")]
    q: String,
    /// 1..=20, default 8.
    #[param(minimum = 1, maximum = 20)]
    limit: Option<u32>,
}

/// One completion.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionAnswer {
    /// As the offers write it.
    text: String,
    /// `title`, `location`, `service`, `administration` or `reference`.
    kind: &'static str,
    /// Visible offers holding it.
    count: u64,
    /// The portal search it leads to (a query string: keywords, or the administration's
    /// filter).
    search: String,
}

/// Completions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestAnswer {
    suggestions: Vec<SuggestionAnswer>,
}

/// The query string a completion leads to.
pub(crate) fn suggestion_search(s: &crate::index::suggest::Suggestion) -> String {
    use crate::index::suggest::SuggestionKind;
    let code = (s.kind == SuggestionKind::Administration)
        .then(|| {
            let v = Facet::Administration.values();
            (0..v.len() as u16)
                .find(|&o| v.label(o) == s.text)
                .map(|o| v.code(o))
        })
        .flatten();
    let pair = match code {
        Some(c) => ("administration", c.to_string()),
        None => ("q", s.text.clone()),
    };
    serde_urlencoded::to_string([pair]).unwrap_or_default()
}

/// Completions of the keyword box as a person types: titles' words and pairs of words, towns,
/// services, administrations and references, most visible offers first.
#[utoipa::path(
    get,
    path = "/api/v1/suggest",
    tag = "search",
    params(SuggestQuery),
    responses(
        (status = 200, description = "The completions, best first", body = SuggestAnswer),
        (status = 400, description = "A parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json")
    )
)]
async fn suggest(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SuggestAnswer>, AppError> {
    let pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes)?;
    let (q, limit) =
        crate::domain::search::suggest_params(&pairs).map_err(AppError::bad_request)?;
    let engine = state.engine.clone();
    let found = blocking(move || {
        let started = Instant::now();
        let found = engine.suggest(&q, limit as usize)?;
        metrics::histogram!("suggest_duration_seconds").record(started.elapsed().as_secs_f64());
        Ok(found)
    })
    .await?;
    Ok(Json(SuggestAnswer {
        suggestions: found
            .iter()
            .map(|s| SuggestionAnswer {
                search: suggestion_search(s),
                text: s.text.clone(),
                kind: s.kind.name(),
                count: s.count,
            })
            .collect(),
    }))
}

/// One commune of the referential.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneAnswer {
    /// INSEE code.
    code: &'static str,
    /// Name.
    name: &'static str,
    /// Postal codes.
    postcodes: Vec<&'static str>,
    /// Department code.
    department: &'static str,
}

/// Communes matching a prefix.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunesAnswer {
    communes: Vec<CommuneAnswer>,
}

/// The communes whose name (accents and case ignored), postal code or INSEE code begins with
/// `q`: the "Ville ou code postal" box of a search by distance.
#[utoipa::path(
    get,
    path = "/api/v1/communes",
    tag = "search",
    params(SuggestQuery),
    responses(
        (status = 200, description = "Communes, exact names and most populated first", body = CommunesAnswer),
        (status = 400, description = "A parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json")
    )
)]
async fn communes_answer(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CommunesAnswer>, AppError> {
    let pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes)?;
    let (q, limit) =
        crate::domain::search::suggest_params(&pairs).map_err(AppError::bad_request)?;
    let found = crate::domain::communes::communes().suggest(&q, limit as usize);
    Ok(Json(CommunesAnswer {
        communes: found
            .into_iter()
            .map(|c| CommuneAnswer {
                code: c.code,
                name: c.name,
                postcodes: c.postcodes().collect(),
                department: c.department,
            })
            .collect(),
    }))
}

/// Offers like another.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarAnswer<'a> {
    offers: Vec<OfferSummary<'a>>,
}

/// The parameter of the similar offers (documentation of the query string).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SimilarQuery {
    /// 1..=20, default 5.
    #[param(minimum = 1, maximum = 20)]
    limit: Option<u32>,
}

/// The visible offers most like this one: sharing its most distinctive words, the same domain
/// and contract weighing most, the same region next. Never the offer itself.
#[utoipa::path(
    get,
    path = "/api/v1/offers/{reference}/similar",
    tag = "search",
    params(("reference" = String, Path, description = "`A-YYYY-NNNN` or `S-YYYY-NNNN`"), SimilarQuery),
    responses(
        (status = 200, description = "The similar offers, best first", body = SimilarAnswer),
        (status = 400, description = "A parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, draft or no longer diffused", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json")
    )
)]
async fn similar(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes)?;
    let mut errors = crate::error::ValidationErrors::default();
    let limit = crate::domain::search::limit_param(&mut errors, &pairs, &[], 5, 20);
    errors.into_result(()).map_err(AppError::bad_request)?;
    let engine = state.engine.clone();
    let key = reference.clone();
    let found = blocking(move || {
        let Some(offer) = engine.public_offer(&key)? else {
            return Ok(None);
        };
        let started = Instant::now();
        let similar = engine.similar(&offer, limit as usize)?;
        metrics::histogram!("similar_duration_seconds").record(started.elapsed().as_secs_f64());
        Ok(Some(similar))
    })
    .await?;
    let Some(similar) = found else {
        return Err(AppError::not_found(format!("no visible offer {reference}")));
    };
    let base = state.config.base_url();
    Ok(json_answer(&SimilarAnswer {
        offers: similar.iter().map(|o| summary(base, o)).collect(),
    }))
}

/// Every facet's codes and labels.
#[utoipa::path(
    get,
    path = "/api/v1/referentials",
    tag = "search",
    responses((status = 200, description = "Codes and labels", body = Object))
)]
async fn referentials_answer() -> Json<serde_json::Value> {
    let r = referentials();
    let list = |f: Facet| -> Vec<serde_json::Value> {
        let v = f.values();
        (0..v.len() as u16)
            .map(|o| serde_json::json!({"code": v.code(o), "label": v.label(o)}))
            .collect()
    };
    let dep = Facet::Department.values();
    Json(serde_json::json!({
        "contracts": list(Facet::Contract),
        "diplomas": list(Facet::Diploma),
        "domains": list(Facet::Domain),
        "administrations": r.administrations.iter().map(|a| serde_json::json!({
            "code": a.code, "label": a.label, "versant": a.versant, "type": a.kind, "short_label": a.short_label
        })).collect::<Vec<_>>(),
        "regions": r.regions.iter().map(|reg| serde_json::json!({
            "code": reg.code, "label": reg.label, "kind": reg.kind,
            "departments": reg.departments.iter().map(|d| serde_json::json!({
                "code": d, "label": dep.ordinal(d).map(|o| dep.label(o)).unwrap_or(d)
            })).collect::<Vec<_>>()
        })).collect::<Vec<_>>(),
        "countries": r.countries.iter().map(|c| serde_json::json!({
            "code": c.code, "label": c.label, "continent": c.continent
        })).collect::<Vec<_>>(),
    }))
}

/// `attachment; filename="…"; filename*=UTF-8''…` that no browser can misread.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// An attachment of a visible offer (1-based).
#[utoipa::path(
    get,
    path = crate::links::OFFER_ATTACHMENT,
    tag = "search",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    responses(
        (status = 200, description = "The document", content_type = "application/octet-stream", body = String),
        (status = 404, description = "No such offer or attachment", body = Problem, content_type = "application/problem+json")
    )
)]
async fn attachment(
    State(state): State<AppState>,
    Path((reference, n)): Path<(String, usize)>,
) -> Result<axum::response::Response, AppError> {
    let engine = state.engine.clone();
    let found = blocking(move || {
        let Some(o) = engine.public_offer(&reference)? else {
            return Ok(None);
        };
        let Some(a) = n
            .checked_sub(1)
            .and_then(|i| o.fields.attachments.get(i))
            .cloned()
        else {
            return Ok(None);
        };
        let bytes = crate::backoffice::attachment_bytes(engine.store(), &a)?;
        Ok(Some((a, bytes)))
    })
    .await?;
    let (a, bytes) = found.ok_or_else(|| AppError::not_found("no such attachment"))?;
    Ok(attachment_response(&a, bytes))
}

/// A document as a download: its type, its name, never sniffed.
pub(crate) fn attachment_response(
    a: &crate::domain::offer::Attachment,
    bytes: Vec<u8>,
) -> axum::response::Response {
    file_response(&a.content_type, &a.name, bytes)
}

/// A file to download under `name`, of a type told by content (never sniffed again by the
/// browser).
pub(crate) fn file_response(
    content_type: &str,
    name: &str,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    if let Ok(v) = axum::http::HeaderValue::from_str(content_type) {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = axum::http::HeaderValue::from_str(&content_disposition(name)) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        "x-content-type-options",
        axum::http::HeaderValue::from_static("nosniff"),
    );
    r
}
