//! The search criteria: the parameters of `GET /api/v1/offers`, parsed and validated once. The
//! same type is the criteria of a saved search and the arguments of `offerwatch search`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::referentials::Facet;
use crate::error::{FieldError, ValidationErrors};

/// Most results on one page.
pub const MAX_PER_PAGE: u32 = 100;
/// Results on a page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Longest `q` accepted.
pub const MAX_QUERY_CHARS: usize = 500;
/// Longest `published_since` in days.
pub const MAX_SINCE_DAYS: u32 = 3660;
/// Deepest result served by paging: a page past it is empty (the total and the counts stay
/// exact), so that no request makes the index collect more than this many hits.
pub const MAX_DEPTH: u32 = 10_000;

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest publication first.
    #[default]
    Date,
    /// Best BM25 score first.
    Relevance,
    /// Nearest first (needs `near`), then newest.
    Distance,
}

/// Searches by distance: `km` at most, `km` when not given.
pub const KM_RANGE: std::ops::RangeInclusive<u32> = 5..=200;
/// The distance of `near` without `km`.
pub const DEFAULT_KM: u32 = 30;

/// `near` and `km`: the place a distance is measured from, and the distance.
#[derive(Debug, Clone)]
pub struct Near {
    /// The place (its key says it whole: two `Near` with the same key and km are equal).
    pub place: super::communes::Place,
    /// Greatest distance, km.
    pub km: u32,
}

impl Near {
    /// How far an offer's commune is from the place, km, one decimal (none without a commune).
    pub fn distance_to(&self, fields: &super::OfferFields) -> Option<f64> {
        let c = super::communes::communes().by_code(fields.commune.as_deref()?)?;
        let d = super::communes::distance_km(self.place.lat, self.place.lon, c.lat, c.lon);
        Some((d * 10.0).round() / 10.0)
    }
}

/// A distance as the pages write it: `1,5 km`.
pub fn km_label(km: f64) -> String {
    format!("{km:.1} km").replace('.', ",")
}

impl PartialEq for Near {
    fn eq(&self, other: &Self) -> bool {
        self.place.key == other.place.key && self.km == other.km
    }
}
impl Eq for Near {}

/// The lower bound of `published_since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// A fixed instant.
    Time(OffsetDateTime),
    /// The last N days before the search runs.
    Days(u32),
}

impl Since {
    /// The instant this bound means at `now`.
    pub fn resolve(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            Since::Time(t) => t,
            Since::Days(d) => now - time::Duration::days(d.into()),
        }
    }
}

impl std::fmt::Display for Since {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Since::Time(t) => f.write_str(&t.format(&Rfc3339).map_err(|_| std::fmt::Error)?),
            Since::Days(d) => write!(f, "{d}"),
        }
    }
}

/// Validated search criteria. Facet filters hold referential ordinals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// Keywords, phrases in double quotes, or a reference.
    pub q: Option<String>,
    /// For each facet (in [`Facet::ALL`] order), the accepted ordinals; empty = any.
    pub filters: [Vec<u16>; Facet::COUNT],
    /// Only offers published at or after this bound.
    pub published_since: Option<Since>,
    /// Result order.
    pub sort: Sort,
    /// 1-based page.
    pub page: u32,
    /// Results per page, 0..=100.
    pub per_page: u32,
    /// Whether to compute facet counts.
    pub facets: bool,
    /// Whether to take the words as typed (no typo tolerance).
    pub exact: bool,
    /// Only offers within a distance of a place.
    pub near: Option<Near>,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            q: None,
            filters: Default::default(),
            published_since: None,
            sort: Sort::Date,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            facets: true,
            exact: false,
            near: None,
        }
    }
}

/// The parameter names a search accepts.
pub const PARAMETERS: [&str; 19] = [
    "q",
    "contract",
    "diploma",
    "domain",
    "administration",
    "region",
    "department",
    "country",
    "telework",
    "paid",
    "versant",
    "published_since",
    "sort",
    "page",
    "per_page",
    "facets",
    "exact",
    "near",
    "km",
];

fn single<'a>(
    errors: &mut ValidationErrors,
    pairs: &'a [(String, String)],
    name: &str,
) -> Option<&'a str> {
    let mut values = pairs
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim());
    let first = values.next()?;
    if values.next().is_some() {
        errors.push(FieldError::new(name, "may be given only once"));
        return None;
    }
    Some(first)
}

fn number(
    errors: &mut ValidationErrors,
    name: &str,
    v: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Option<u32> {
    match v.parse::<u32>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(
                name,
                format!(
                    "'{v}' is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            None
        }
    }
}

/// Longest prefix completed by the suggestions.
pub const MAX_SUGGEST_CHARS: usize = 100;

/// A list's `limit` parameter (1 to `max`, `default` when absent); any other parameter but
/// those `allowed` is an error.
pub fn limit_param(
    errors: &mut ValidationErrors,
    pairs: &[(String, String)],
    allowed: &[&str],
    default: u32,
    max: u32,
) -> u32 {
    for (k, _) in pairs {
        if k != "limit" && !allowed.contains(&k.as_str()) {
            let mut names: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            names.push("limit".into());
            errors.push(FieldError::with_allowed(
                k.clone(),
                format!("unknown parameter '{k}'"),
                names,
            ));
        }
    }
    single(errors, pairs, "limit")
        .and_then(|v| number(errors, "limit", v, 1..=max))
        .unwrap_or(default)
}

/// The parameters of the suggestions: the prefix `q` (required, kept as typed: a trailing
/// blank means the last word is whole) and `limit` (1 to 20, default 8).
pub fn suggest_params(pairs: &[(String, String)]) -> Result<(String, u32), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let limit = limit_param(&mut errors, pairs, &["q"], 8, 20);
    let qs: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str())
        .collect();
    let q = match qs.as_slice() {
        [q] if !q.trim().is_empty() && q.chars().count() <= MAX_SUGGEST_CHARS => {
            Some(q.to_string())
        }
        [q] if !q.trim().is_empty() => {
            errors.push(FieldError::new(
                "q",
                format!("at most {MAX_SUGGEST_CHARS} characters"),
            ));
            None
        }
        [] | [_] => {
            errors.push(FieldError::new("q", "required: the beginning of a word"));
            None
        }
        _ => {
            errors.push(FieldError::new("q", "may be given only once"));
            None
        }
    };
    errors.into_result((q.unwrap_or_default(), limit))
}

impl SearchParams {
    /// [`SearchParams::from_pairs`] of borrowed pairs.
    pub fn from_str_pairs(pairs: &[(&str, &str)]) -> Result<SearchParams, ValidationErrors> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SearchParams::from_pairs(&pairs)
    }

    /// Parses query-string pairs. Empty values are ignored (as an HTML form sends them); an
    /// unknown parameter, an unknown code, a malformed value or a repeated single-value
    /// parameter is an error that names the parameter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<SearchParams, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut p = SearchParams::default();
        for (k, _) in pairs {
            if !PARAMETERS.contains(&k.as_str()) {
                errors.push(FieldError::with_allowed(
                    k.clone(),
                    format!("unknown parameter '{k}'"),
                    PARAMETERS.map(String::from).to_vec(),
                ));
            }
        }
        if let Some(q) = single(&mut errors, pairs, "q") {
            if q.chars().count() > MAX_QUERY_CHARS {
                errors.push(FieldError::new(
                    "q",
                    format!("at most {MAX_QUERY_CHARS} characters"),
                ));
            } else {
                p.q = Some(q.to_string());
            }
        }
        for facet in Facet::ALL {
            let name = facet.name();
            if facet == Facet::Diploma {
                if let Some(v) = single(&mut errors, pairs, name) {
                    match facet.values().parse(name, v) {
                        Ok(o) => p.filters[facet.index()].push(o),
                        Err(e) => errors.push(e),
                    }
                }
                continue;
            }
            for (_, v) in pairs.iter().filter(|(k, _)| k == name) {
                // `region=11,84` is accepted as well as `region=11&region=84`.
                for code in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    match facet.values().parse(name, code) {
                        Ok(o) if !p.filters[facet.index()].contains(&o) => {
                            p.filters[facet.index()].push(o)
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(e),
                    }
                }
            }
        }
        if let Some(v) = single(&mut errors, pairs, "published_since") {
            if let Ok(days) = v.parse::<u32>() {
                if days <= MAX_SINCE_DAYS {
                    p.published_since = Some(Since::Days(days));
                } else {
                    errors.push(FieldError::new(
                        "published_since",
                        format!("at most {MAX_SINCE_DAYS} days"),
                    ));
                }
            } else if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
                p.published_since = Some(Since::Time(t));
            } else {
                errors.push(FieldError::new(
                    "published_since",
                    format!("'{v}' is neither an RFC 3339 time (2026-01-31T00:00:00Z) nor a number of days"),
                ));
            }
        }
        let km =
            single(&mut errors, pairs, "km").and_then(|v| number(&mut errors, "km", v, KM_RANGE));
        match single(&mut errors, pairs, "near") {
            Some(v) => match super::communes::communes().resolve(v) {
                Some(place) => {
                    p.near = Some(Near {
                        place,
                        km: km.unwrap_or(DEFAULT_KM),
                    })
                }
                None => errors.push(FieldError::new(
                    "near",
                    format!(
                        "'{v}' is neither a postal code, an INSEE code nor the name of a commune \
                         (69003, 69123, Lyon, Saint-Pierre (974))"
                    ),
                )),
            },
            None if km.is_some() => errors.push(FieldError::new(
                "km",
                "a distance needs a place: give near as well",
            )),
            None => {}
        }
        if let Some(v) = single(&mut errors, pairs, "sort") {
            match v {
                "date" => p.sort = Sort::Date,
                "relevance" => p.sort = Sort::Relevance,
                "distance" if p.near.is_some() => p.sort = Sort::Distance,
                "distance" => errors.push(FieldError::new(
                    "sort",
                    "sort=distance needs a place: give near as well",
                )),
                _ => errors.push(FieldError::with_allowed(
                    "sort",
                    format!("unknown sort '{v}'"),
                    vec!["date".into(), "relevance".into(), "distance".into()],
                )),
            }
        }
        if let Some(v) = single(&mut errors, pairs, "per_page")
            && let Some(n) = number(&mut errors, "per_page", v, 0..=MAX_PER_PAGE)
        {
            p.per_page = n;
        }
        if let Some(v) = single(&mut errors, pairs, "page")
            && let Some(n) = number(&mut errors, "page", v, 1..=MAX_DEPTH)
        {
            p.page = n;
        }
        for (name, flag) in [("facets", &mut p.facets), ("exact", &mut p.exact)] {
            if let Some(v) = single(&mut errors, pairs, name) {
                match v {
                    "true" => *flag = true,
                    "false" => *flag = false,
                    _ => errors.push(FieldError::with_allowed(
                        name,
                        format!("'{v}' is not a boolean"),
                        vec!["true".into(), "false".into()],
                    )),
                }
            }
        }
        errors.into_result(p)
    }

    /// The criteria as query-string pairs (no paging), e.g. to link back to the same search.
    pub fn criteria_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(q) = &self.q {
            out.push(("q", q.clone()));
        }
        for facet in Facet::ALL {
            for &o in &self.filters[facet.index()] {
                out.push((facet.name(), facet.values().code(o).to_string()));
            }
        }
        if let Some(s) = self.published_since {
            out.push(("published_since", s.to_string()));
        }
        if let Some(n) = &self.near {
            out.push(("near", n.place.key.clone()));
            out.push(("km", n.km.to_string()));
        }
        match self.sort {
            Sort::Date => {}
            Sort::Relevance => out.push(("sort", "relevance".into())),
            Sort::Distance => out.push(("sort", "distance".into())),
        }
        if self.exact {
            out.push(("exact", "true".into()));
        }
        out
    }

    /// The filter of one facet.
    pub fn filter(&self, facet: Facet) -> &[u16] {
        &self.filters[facet.index()]
    }

    /// True when no criterion narrows the search (the home page).
    pub fn is_unconstrained(&self) -> bool {
        self.q.is_none()
            && self.published_since.is_none()
            && self.near.is_none()
            && self.filters.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_parameter() {
        let p = SearchParams::from_pairs(&pairs(&[
            ("q", "ingénieur"),
            ("contract", "stage"),
            ("contract", "apprentissage"),
            ("diploma", "niveau-6"),
            ("region", "11,84"),
            ("published_since", "7"),
            ("sort", "relevance"),
            ("page", "2"),
            ("per_page", "0"),
            ("facets", "false"),
            ("domain", ""),
        ]))
        .unwrap();
        assert_eq!(p.filter(Facet::Contract).len(), 2);
        assert_eq!(p.filter(Facet::Region).len(), 2);
        assert!(p.filter(Facet::Domain).is_empty());
        assert_eq!(p.published_since, Some(Since::Days(7)));
        assert_eq!(
            (p.page, p.per_page, p.facets, p.sort),
            (2, 0, false, Sort::Relevance)
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = SearchParams::from_pairs(&pairs(&[
            ("domain", "numerik"),
            ("per_page", "101"),
            ("diploma", "niveau-6"),
            ("diploma", "niveau-7"),
            ("published_since", "yesterday"),
            ("colour", "blue"),
        ]))
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["colour", "diploma", "domain", "published_since", "per_page"]
        );
        assert!(e.0[2].allowed.contains(&"numerique".to_string()));
    }

    #[test]
    fn near_reads_a_place_and_a_distance() {
        let p =
            SearchParams::from_pairs(&pairs(&[("near", "69003"), ("sort", "distance")])).unwrap();
        let near = p.near.as_ref().unwrap();
        assert_eq!((near.place.key.as_str(), near.km), ("69003", DEFAULT_KM));
        assert_eq!(p.sort, Sort::Distance);
        let e = SearchParams::from_pairs(&pairs(&[("km", "4"), ("sort", "distance")])).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["km", "sort"]);
        let e = SearchParams::from_pairs(&pairs(&[("near", "Atlantis")])).unwrap_err();
        assert_eq!(e.0[0].field, "near");
        let e = SearchParams::from_pairs(&pairs(&[("km", "20")])).unwrap_err();
        assert_eq!(e.0[0].field, "km");
        let p = SearchParams::from_pairs(&pairs(&[("near", "Lyon"), ("km", "20")])).unwrap();
        assert_eq!(p.near.as_ref().unwrap().place.key, "69123");
        let back: Vec<(String, String)> = p
            .criteria_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(SearchParams::from_pairs(&back).unwrap(), p);
    }

    #[test]
    fn criteria_round_trip() {
        let p = SearchParams::from_pairs(&pairs(&[("q", "a b"), ("department", "75")])).unwrap();
        let back: Vec<(String, String)> = p
            .criteria_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(SearchParams::from_pairs(&back).unwrap(), p);
    }
}
