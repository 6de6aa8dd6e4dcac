//! Runs a search: keyword query, visibility, facet filters, sort and paging in one collector
//! pass, then facet counts labelled from the referentials.

use std::sync::Arc;

use serde::Serialize;
use tantivy::query::{AllQuery, Query};
use time::OffsetDateTime;

use super::SearchIndex;
use super::collector::{FacetCollector, FacetQuery, FacetResult};
use super::query;
use super::schema::{fr_exact, fr_stem};
use super::sets::Sets;
use super::typos::{self, Correction};
use crate::domain::{Facet, SearchParams, Sort};
use crate::error::Result;

/// One facet value with its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    /// The code (borrowed from the compiled-in referentials: nothing is copied per answer).
    pub value: &'static str,
    /// The French label.
    pub label: &'static str,
    /// Disjunctive count.
    pub count: u64,
}

/// Counts of one facet, by count descending then label; zero counts omitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCounts {
    /// The facet.
    #[serde(skip)]
    pub facet: Facet,
    /// Its values.
    pub values: Vec<FacetCount>,
}

/// The ids of one page of results, with the total and the facet counts.
#[derive(Debug, Clone)]
pub struct SearchHits {
    /// Offers matching every criterion.
    pub total: u64,
    /// Store ids of the requested page, in order.
    pub ids: Vec<u64>,
    /// Facet counts, in [`Facet::ALL`] order, when asked.
    pub facets: Option<Vec<FacetCounts>>,
    /// The words of `q` read as others ([`super::typos`]); empty when none was.
    pub corrected: Vec<Correction>,
    /// `q` as it was read when a word was corrected (what a saved search keeps).
    pub corrected_q: Option<String>,
    /// For a keyword query that found nothing: the same query with the closest indexed words.
    pub did_you_mean: Option<String>,
}

/// Labels and orders raw counts.
pub fn label_counts(counts: &[Vec<u32>; Facet::COUNT]) -> Vec<FacetCounts> {
    Facet::ALL
        .into_iter()
        .map(|facet| {
            let values = facet.values();
            let mut ords: Vec<u16> = (0..values.len() as u16)
                .filter(|&o| counts[facet.index()][o as usize] > 0)
                .collect();
            ords.sort_by_key(|&o| {
                (
                    std::cmp::Reverse(counts[facet.index()][o as usize]),
                    values.label_rank(o),
                )
            });
            FacetCounts {
                facet,
                values: ords
                    .into_iter()
                    .map(|o| FacetCount {
                        value: values.code(o),
                        label: values.label(o),
                        count: u64::from(counts[facet.index()][o as usize]),
                    })
                    .collect(),
            }
        })
        .collect()
}

impl SearchIndex {
    /// Runs `params` against the current snapshot, as seen at `now`.
    pub fn search(&self, params: &SearchParams, now: OffsetDateTime) -> Result<SearchHits> {
        let depth = crate::domain::search::MAX_DEPTH;
        let top = params.page.saturating_mul(params.per_page).min(depth) as usize;
        let searcher = self.reader.searcher();
        // The folded analyzer is made only for keywords (browsing stays allocation-light).
        let mut exact = params.q.as_ref().map(|_| fr_exact());
        let corrected = match (params.q.as_deref(), exact.as_mut()) {
            (Some(q), Some(a)) if !params.exact => {
                self.shown(typos::corrections(&searcher, self.schema.text_exact, q, a)?)
            }
            _ => Vec::new(),
        };
        // Without keywords every document scores alike: relevance is the date order too.
        let result =
            if params.q.is_none() && params.published_since.is_none() && params.near.is_none() {
                self.browser.browse(
                    &searcher,
                    self.schema,
                    &params.filters,
                    now.unix_timestamp(),
                    top,
                    params.facets,
                )?
            } else {
                self.collect(&searcher, params, now, top, &corrected)?
            };
        let mut did_you_mean = None;
        let mut corrected_q = None;
        if let (Some(q), Some(a)) = (params.q.as_deref(), exact.as_mut()) {
            if !corrected.is_empty() {
                corrected_q = Some(typos::rewrite(q, &corrected, a));
            }
            if result.total == 0 {
                let read = corrected_q.as_deref().unwrap_or(q);
                let closest = self.shown(typos::did_you_mean(
                    &searcher,
                    self.schema.text_exact,
                    read,
                    a,
                )?);
                if !closest.is_empty() {
                    did_you_mean = Some(typos::rewrite(read, &closest, a));
                }
            }
        }
        let start = ((params.page - 1) * params.per_page) as usize;
        let ids = result
            .hits
            .iter()
            .skip(start)
            .take(params.per_page as usize)
            .map(|h| h.id)
            .collect();
        Ok(SearchHits {
            total: result.total,
            ids,
            facets: params.facets.then(|| label_counts(&result.counts)),
            corrected,
            corrected_q,
            did_you_mean,
        })
    }

    /// `corrections` with the forms the offers' titles write (accents back).
    fn shown(&self, mut corrections: Vec<Correction>) -> Vec<Correction> {
        if !corrections.is_empty() {
            let suggester = self.suggester.read().unwrap_or_else(|p| p.into_inner());
            typos::show(&mut corrections, |w| suggester.written(w));
        }
        corrections
    }

    /// `q` with its typos corrected as a search would read it; `None` when nothing changes.
    pub fn corrected_query(&self, q: &str) -> Result<Option<String>> {
        let searcher = self.reader.searcher();
        let mut exact = fr_exact();
        let corrected = self.shown(typos::corrections(
            &searcher,
            self.schema.text_exact,
            q,
            &mut exact,
        )?);
        Ok((!corrected.is_empty()).then(|| typos::rewrite(q, &corrected, &mut exact)))
    }

    /// The store ids of the published offers whose diffusion has ended at `now` (the
    /// archiver's work list, without reading the store).
    pub fn expired(&self, now: OffsetDateTime) -> Result<Vec<u64>> {
        Ok(self
            .browser
            .expired(&self.reader.searcher(), self.schema, now.unix_timestamp())?)
    }

    /// The one-pass collector over the documents matching the keywords.
    fn collect(
        &self,
        searcher: &tantivy::Searcher,
        params: &SearchParams,
        now: OffsetDateTime,
        top: usize,
        corrected: &[Correction],
    ) -> Result<FacetResult> {
        let parsed = params.q.as_deref().map(|q| {
            query::parse_with(
                q,
                &mut fr_stem(),
                &mut fr_exact(),
                &self.synonyms.get(),
                corrected,
            )
        });
        let text: Box<dyn Query> = parsed
            .as_ref()
            .and_then(|p| query::to_query(p, self.schema))
            .unwrap_or_else(|| Box::new(AllQuery));
        let sets = match parsed.as_ref().and_then(|p| query::to_plan(p, self.schema)) {
            Some(plan) if params.sort != Sort::Relevance => {
                Some(Sets::new(&plan, &self.schema.schema)?)
            }
            _ => None,
        };
        let fq = FacetQuery {
            filters: FacetQuery::filters_from(&params.filters),
            published_min: params
                .published_since
                .map_or(i64::MIN, |s| s.resolve(now).unix_timestamp()),
            now: now.unix_timestamp(),
            top,
            sort: params.sort,
            count_facets: params.facets,
            near: params.near.as_ref().map(|n| {
                Arc::new(crate::domain::communes::communes().within(
                    n.place.lat,
                    n.place.lon,
                    f64::from(n.km),
                ))
            }),
        };
        let mut collector = FacetCollector::new(fq, self.schema, self.browser.clone())
            .sharing_walks_from(self.shared_walk);
        if let Some(sets) = sets {
            collector = collector.with_sets(sets);
        }
        let result = searcher.search(&*text, &collector)?;
        let live: Vec<_> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        self.browser.forget_gone(&live);
        Ok(result)
    }
}
