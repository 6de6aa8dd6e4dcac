//! The percolator: every active alert (saved search) in memory, to find at once the alerts an
//! offer matches on its first publication.
//!
//! Facet part: per facet, a roaring bitmap of alerts per value plus one of alerts that do not
//! constrain that facet; candidates = AND over facets of (bitmap[offer's value] OR
//! unconstrained). Keyword part: each keyword alert is filed under its rarest required term;
//! the offer's terms pick the few candidates, which are verified with the search's own analyzers
//! and query semantics ([`verify`]). An alert matches iff its search would return the offer.

pub mod explain;
pub mod verify;

use std::collections::HashMap;

use roaring::RoaringBitmap;
use time::OffsetDateTime;

use crate::domain::{Facet, Offer, SearchParams, Since};
use crate::index::query::{ParsedQuery, parse};
use crate::index::synonyms::Alternative;
pub use verify::OfferText;

/// One active alert. Its facet constraints live only in the bitmaps (kept small: the
/// percolator holds up to millions of these).
#[derive(Debug, Clone)]
struct Alert {
    search: u64,
    query: Option<Box<ParsedQuery>>,
    /// `published_since` as a fixed instant (unix seconds), `i64::MIN` when none.
    since: i64,
}

/// The keys every offer the query returns must have (its required words and references).
fn required_keys(q: &ParsedQuery) -> impl Iterator<Item = String> + '_ {
    q.terms
        .iter()
        .map(|t| key('s', t))
        .chain(q.exact_terms.iter().map(|t| key('e', t)))
        .chain(q.phrases.iter().flatten().map(|t| key('e', t)))
        .chain(q.references.iter().map(|r| key('r', r)))
}

/// The keys of one member of a synonym group.
fn alternative_keys(a: &Alternative) -> impl Iterator<Item = String> + '_ {
    a.terms
        .iter()
        .map(|t| key('s', t))
        .chain(a.exact_terms.iter().map(|t| key('e', t)))
}

/// Every key a query could be filed under.
fn anchor_keys(q: &ParsedQuery) -> impl Iterator<Item = String> + '_ {
    required_keys(q).chain(
        q.any_of
            .iter()
            .flat_map(|g| g.iter().flat_map(alternative_keys)),
    )
}

/// The keys to file a keyword alert under, so that every offer it matches has one of them: its
/// rarest required key; for a query of synonym groups only, the rarest key of each member of
/// its rarest group.
fn choose_anchors(q: &ParsedQuery, doc_freq: &dyn Fn(&str) -> u64) -> Vec<String> {
    if let Some(k) = required_keys(q).min_by_key(|k| (doc_freq(k), k.clone())) {
        return vec![k];
    }
    q.any_of
        .iter()
        .map(|group| {
            let keys: Vec<(u64, String)> = group
                .iter()
                .filter_map(|a| alternative_keys(a).map(|k| (doc_freq(&k), k)).min())
                .collect();
            (keys.iter().map(|(n, _)| n).sum::<u64>(), keys)
        })
        .min()
        .map(|(_, keys)| keys.into_iter().map(|(_, k)| k).collect())
        .unwrap_or_default()
}

/// The in-memory alert index.
#[derive(Default)]
pub struct Percolator {
    alerts: Vec<Option<Alert>>,
    by_search: HashMap<u64, u32>,
    free: Vec<u32>,
    values: Vec<Vec<RoaringBitmap>>,
    unconstrained: Vec<RoaringBitmap>,
    anchors: HashMap<Box<str>, RoaringBitmap, verify::FxBuild>,
    no_keywords: RoaringBitmap,
    /// Keyword alerts whose whole query is their anchor (one word, one quoted word or one
    /// reference): finding the anchor among the offer's terms is the verification.
    anchor_is_query: RoaringBitmap,
    /// Alerts with a fixed `published_since`.
    with_since: RoaringBitmap,
    /// Saved-search id of each dense id (0 when free): the hot path's only lookup.
    searches: Vec<u64>,
}

/// The anchor key of a stemmed term, a folded term or a reference.
fn key(kind: char, t: &str) -> String {
    format!("{kind}:{t}")
}

impl Percolator {
    /// An empty percolator.
    pub fn new() -> Self {
        Percolator {
            values: Facet::ALL
                .iter()
                .map(|f| vec![RoaringBitmap::new(); f.values().len()])
                .collect(),
            unconstrained: vec![RoaringBitmap::new(); 7],
            ..Percolator::default()
        }
    }

    /// Number of active alerts.
    pub fn len(&self) -> usize {
        self.by_search.len()
    }

    /// True when no alert is active.
    pub fn is_empty(&self) -> bool {
        self.by_search.is_empty()
    }

    /// Adds (or replaces) the alert of a saved search. `doc_freq` tells how common an anchor
    /// key is among offers, to file the alert under its rarest required term.
    pub fn insert(&mut self, search: u64, params: &SearchParams, doc_freq: &dyn Fn(&str) -> u64) {
        let query = params.q.as_deref().map(parse);
        self.insert_parsed(search, params, query, doc_freq);
    }

    /// [`Percolator::insert`] with the keyword query already analyzed (bulk rebuilds analyze
    /// in parallel).
    pub fn insert_parsed(
        &mut self,
        search: u64,
        params: &SearchParams,
        query: Option<ParsedQuery>,
        doc_freq: &dyn Fn(&str) -> u64,
    ) {
        self.remove(search);
        let query = query.filter(|p| !p.is_empty());
        let anchors = query
            .as_ref()
            .map(|q| choose_anchors(q, doc_freq))
            .unwrap_or_default();
        let since = match params.published_since {
            Some(Since::Time(t)) => t.unix_timestamp(),
            _ => i64::MIN,
        };
        let alert = Alert {
            search,
            query: query.map(Box::new),
            since,
        };
        let id = self.free.pop().unwrap_or(self.alerts.len() as u32);
        if since != i64::MIN {
            self.with_since.insert(id);
        }
        for (i, f) in params.filters.iter().enumerate() {
            if f.is_empty() {
                self.unconstrained[i].insert(id);
            } else {
                for &v in f.iter() {
                    self.values[i][v as usize].insert(id);
                }
            }
        }
        let whole = alert.query.as_ref().is_some_and(|q| {
            q.terms.len() + q.exact_terms.len() + q.references.len() == 1
                && q.phrases.is_empty()
                && q.any_of.is_empty()
        });
        if whole {
            self.anchor_is_query.insert(id);
        }
        if anchors.is_empty() {
            self.no_keywords.insert(id);
        }
        for a in anchors {
            self.anchors
                .entry(a.into_boxed_str())
                .or_default()
                .insert(id);
        }
        if id as usize == self.alerts.len() {
            self.alerts.push(Some(alert));
            self.searches.push(search);
        } else {
            self.alerts[id as usize] = Some(alert);
            self.searches[id as usize] = search;
        }
        self.by_search.insert(search, id);
    }

    /// Removes the alert of a saved search, if present.
    pub fn remove(&mut self, search: u64) {
        let Some(id) = self.by_search.remove(&search) else {
            return;
        };
        let Some(alert) = self.alerts[id as usize].take() else {
            return;
        };
        self.searches[id as usize] = 0;
        self.with_since.remove(id);
        self.anchor_is_query.remove(id);
        for (unconstrained, values) in self.unconstrained.iter_mut().zip(&mut self.values) {
            unconstrained.remove(id);
            for b in values.iter_mut() {
                b.remove(id);
            }
        }
        match &alert.query {
            Some(q) => {
                for k in anchor_keys(q) {
                    if let Some(b) = self.anchors.get_mut(k.as_str()) {
                        b.remove(id);
                        if b.is_empty() {
                            self.anchors.remove(k.as_str());
                        }
                    }
                }
            }
            None => {
                self.no_keywords.remove(id);
            }
        }
        self.free.push(id);
    }

    /// The saved searches whose search returns `offer` at `now` (its first publication), in no
    /// particular order.
    pub fn matches(&self, offer: &Offer, now: OffsetDateTime) -> Vec<u64> {
        if !offer.is_visible(now) || self.by_search.is_empty() {
            return Vec::new();
        }
        let ords = offer.fields.facet_ordinals();
        let mut candidates: Option<RoaringBitmap> = None;
        for (i, ord) in ords.iter().enumerate() {
            let mut allowed = self.unconstrained[i].clone();
            if let Some(o) = ord {
                allowed |= &self.values[i][*o as usize];
            }
            candidates = Some(match candidates {
                None => allowed,
                Some(c) => c & allowed,
            });
            if candidates.as_ref().is_some_and(RoaringBitmap::is_empty) {
                return Vec::new();
            }
        }
        let candidates = candidates.unwrap_or_default();
        let published = offer.published_at.unwrap_or(now).unix_timestamp();
        let accept = |id: u32, text: Option<&OfferText>| -> Option<u64> {
            let a = self.alerts.get(id as usize)?.as_ref()?;
            if published < a.since {
                return None;
            }
            if let (Some(q), Some(t)) = (&a.query, text)
                && !t.satisfies(q)
            {
                return None;
            }
            Some(a.search)
        };
        let plain = &candidates & &self.no_keywords;
        // The common case: no keywords, no fixed date — a plain lookup.
        let direct_plain = &plain - &self.with_since;
        let mut out: Vec<u64> = Vec::with_capacity(plain.len() as usize + 64);
        out.extend(direct_plain.iter().map(|id| self.searches[id as usize]));
        out.extend(
            (&plain & &self.with_since)
                .iter()
                .filter_map(|id| accept(id, None)),
        );
        if !self.anchors.is_empty() {
            let text = OfferText::new(offer);
            let mut keyed = RoaringBitmap::new();
            for k in text.anchor_keys() {
                if let Some(b) = self.anchors.get(k.as_str()) {
                    keyed |= b;
                }
            }
            keyed &= &candidates;
            let mut direct = &keyed & &self.anchor_is_query;
            direct -= &self.with_since;
            out.reserve(direct.len() as usize);
            out.extend(direct.iter().map(|id| self.searches[id as usize]));
            keyed -= &direct;
            out.reserve(keyed.len() as usize);
            out.extend(keyed.iter().filter_map(|id| accept(id, Some(&text))));
        }
        out
    }

    /// Approximate heap bytes held (bitmaps, alerts, maps).
    pub fn memory_bytes(&self) -> usize {
        let bitmaps: usize = self
            .values
            .iter()
            .flatten()
            .chain(self.unconstrained.iter())
            .chain(self.anchors.values())
            .chain(std::iter::once(&self.no_keywords))
            .map(|b| b.serialized_size())
            .sum();
        let alerts: usize = self
            .alerts
            .iter()
            .flatten()
            .map(|a| {
                std::mem::size_of::<Option<Alert>>()
                    + a.query.as_ref().map_or(0, |q| {
                        std::mem::size_of::<ParsedQuery>()
                            + q.terms
                                .iter()
                                .chain(&q.exact_terms)
                                .chain(&q.references)
                                .chain(q.phrases.iter().flatten())
                                .map(|s| s.len() + 24)
                                .sum::<usize>()
                            + q.any_of.len() * 16
                    })
            })
            .sum();
        let maps = self.by_search.capacity() * 16 + self.anchors.capacity() * 40;
        bitmaps
            + alerts
            + maps
            + (self.alerts.capacity() - self.alerts.len()) * std::mem::size_of::<Option<Alert>>()
    }
}
