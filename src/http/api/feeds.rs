//! `GET /feeds/offers.rss` and `GET /feeds/offers.atom`: the newest 50 offers of any search,
//! with `ETag` / `Last-Modified` and 304 answers.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::domain::{Offer, SearchParams, Sort};
use crate::feed::{FeedInfo, FeedItem, atom, rss};
use crate::http::api::offers::{offer_url, run_search};
use crate::http::{AppError, AppState, query_pairs};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Items in a feed.
const FEED_ITEMS: u32 = 50;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rss_feed))
        .routes(routes!(atom_feed))
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Format {
    Rss,
    Atom,
}

fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default()
}

fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let d = time::PrimitiveDateTime::parse(
        s.trim(),
        format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ),
    )
    .ok()?;
    Some(d.assume_utc())
}

fn item(base: &str, o: &Offer) -> FeedItem {
    let f = &o.fields;
    let place = f
        .location
        .clone()
        .unwrap_or_else(|| f.country.label().to_string());
    let mut categories = vec![
        ("contract".to_string(), f.contract.label().to_string()),
        ("diploma".to_string(), f.diploma.label().to_string()),
        ("domain".to_string(), f.domain.label().to_string()),
        (
            "administration".to_string(),
            f.administration.label().to_string(),
        ),
    ];
    if let Some(r) = f.region {
        categories.push(("region".into(), r.label().into()));
    }
    if let Some(d) = f.department {
        categories.push(("department".into(), d.label().into()));
    }
    categories.push(("country".into(), f.country.label().into()));
    let mut summary = format!(
        "{} · {} · {} · {} — début {}.\n",
        f.contract.label(),
        f.diploma.label(),
        f.service,
        place,
        f.start
    );
    summary.extend(f.description.chars().take(600));
    FeedItem {
        guid: o.reference.to_string(),
        title: f.title.clone(),
        link: offer_url(base, o),
        published: o.published_at.unwrap_or(o.created_at),
        updated: o.updated_at,
        summary,
        categories,
    }
}

fn query_string(params: &SearchParams) -> String {
    let pairs = params.criteria_pairs();
    if pairs.is_empty() {
        String::new()
    } else {
        format!(
            "?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

async fn feed(
    state: AppState,
    raw: Option<String>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, AppError> {
    // Paging is checked like the search's, then replaced: a feed is the newest items.
    let pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes)?;
    let mut params = SearchParams::from_pairs(&pairs).map_err(AppError::bad_request)?;
    params.page = 1;
    params.per_page = FEED_ITEMS;
    params.facets = false;
    params.sort = Sort::Date;
    let (params, page) = run_search(&state, params).await?;
    let base = state.config.base_url();
    let items: Vec<FeedItem> = page.offers.iter().map(|o| item(base, o)).collect();

    let mut hasher = DefaultHasher::new();
    format.hash(&mut hasher);
    query_string(&params).hash(&mut hasher);
    for i in &items {
        i.guid.hash(&mut hasher);
        i.updated.unix_timestamp().hash(&mut hasher);
    }
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    let last_modified = items
        .iter()
        .map(|i| i.updated.max(i.published))
        .max()
        .map(|t| t.replace_nanosecond(0).unwrap_or(t));

    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => match (
            headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_http_date),
            last_modified,
        ) {
            (Some(since), Some(lm)) => lm <= since,
            _ => false,
        },
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let qs = query_string(&params);
        let (content_type, path) = match format {
            Format::Rss => ("application/rss+xml; charset=utf-8", "offers.rss"),
            Format::Atom => ("application/atom+xml; charset=utf-8", "offers.atom"),
        };
        let info = FeedInfo {
            title: match &params.q {
                Some(q) => format!("Offres d'apprentissage et de stage : {q}"),
                None => "Offres d'apprentissage et de stage".to_string(),
            },
            link: format!("{base}/{qs}"),
            self_link: format!("{base}/feeds/{path}{qs}"),
            description: format!(
                "Les {} offres les plus récentes de cette recherche ({} en tout).",
                items.len(),
                page.total
            ),
            updated: last_modified.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        };
        let xml = match format {
            Format::Rss => rss(&info, &items),
            Format::Atom => atom(&info, &items),
        };
        let mut r = xml.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(lm) = last_modified
        && let Ok(v) = HeaderValue::from_str(&http_date(lm))
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

/// RSS 2.0 feed of the newest 50 offers of a search (same parameters as the search).
#[utoipa::path(
    get,
    path = "/feeds/offers.rss",
    tag = "feeds",
    params(crate::http::api::offers::SearchQuery),
    responses(
        (status = 200, description = "RSS 2.0", content_type = "application/rss+xml", body = String),
        (status = 304, description = "Not modified (If-None-Match / If-Modified-Since)"),
        (status = 400, description = "A parameter is unknown or malformed", body = crate::http::Problem, content_type = "application/problem+json")
    )
)]
async fn rss_feed(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    feed(state, raw, headers, Format::Rss).await
}

/// Atom 1.0 feed of the newest 50 offers of a search (same parameters as the search).
#[utoipa::path(
    get,
    path = "/feeds/offers.atom",
    tag = "feeds",
    params(crate::http::api::offers::SearchQuery),
    responses(
        (status = 200, description = "Atom 1.0", content_type = "application/atom+xml", body = String),
        (status = 304, description = "Not modified (If-None-Match / If-Modified-Since)"),
        (status = 400, description = "A parameter is unknown or malformed", body = crate::http::Problem, content_type = "application/problem+json")
    )
)]
async fn atom_feed(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    feed(state, raw, headers, Format::Atom).await
}
