//! The one-pass search collector: over the documents that match the keyword query it applies
//! visibility and the facet filters, keeps the top hits of the documents that pass every filter,
//! and counts disjunctive facets — a document failing exactly one facet filter counts only in
//! that facet, one failing two or more counts nowhere (DrillSideways in a single pass).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::ahead::{Window, for_each_ahead};
use super::browse::{Browser, SegmentTable};
use super::schema::OfferSchema;
use super::sets::{Sets, for_each_bit, ones, set_bits};
use crate::domain::{Facet, Sort};

/// What the collector must do.
#[derive(Debug, Clone)]
pub struct FacetQuery {
    /// Per facet, the accepted ordinals as a bitset over the referential (`None` = any value).
    pub filters: [Option<Vec<bool>>; Facet::COUNT],
    /// Only documents published at or after this (unix seconds).
    pub published_min: i64,
    /// Documents whose diffusion ends at or before this are invisible (unix seconds).
    pub now: i64,
    /// How many top hits to keep (page × per_page).
    pub top: usize,
    /// Result order.
    pub sort: Sort,
    /// Whether to count facets.
    pub count_facets: bool,
    /// Per commune ordinal, its distance from the searched place when close enough, else
    /// infinity: a document whose commune is not close enough (or that has none) is left out
    /// of everything, counts included.
    pub near: Option<Arc<Vec<f32>>>,
}

impl FacetQuery {
    /// Builds the filter bitsets from per-facet ordinal lists.
    pub fn filters_from(lists: &[Vec<u16>; Facet::COUNT]) -> [Option<Vec<bool>>; Facet::COUNT] {
        std::array::from_fn(|i| {
            let list = &lists[i];
            (!list.is_empty()).then(|| {
                let mut set = vec![false; Facet::ALL[i].values().len() + 1];
                for &o in list {
                    set[o as usize] = true;
                }
                set
            })
        })
    }
}

/// A kept hit; ordered so that the greatest is the best.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// BM25 score (0 when sorting by date).
    pub score: Score,
    /// Publication time, unix seconds.
    pub published_at: i64,
    /// Store id.
    pub id: u64,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.published_at.cmp(&other.published_at))
            .then(self.id.cmp(&other.id))
    }
}

/// The collector's answer.
#[derive(Debug, Clone, Default)]
pub struct FacetResult {
    /// Documents passing every filter.
    pub total: u64,
    /// Best hits first, at most `top`.
    pub hits: Vec<Hit>,
    /// Per facet, count per ordinal (the last slot counts documents without a value).
    pub counts: [Vec<u32>; Facet::COUNT],
}

/// The collector.
pub struct FacetCollector {
    query: FacetQuery,
    schema: OfferSchema,
    browser: Arc<Browser>,
    /// The keyword query as sets of documents, read whole where its lists are long.
    sets: Option<Sets>,
    /// The matches of one segment from which its walk is shared between two threads.
    shared_walk: usize,
}

impl FacetCollector {
    /// A collector for `query`, reading the documents' rows from `browser`'s tables.
    pub(crate) fn new(query: FacetQuery, schema: &OfferSchema, browser: Arc<Browser>) -> Self {
        FacetCollector {
            query,
            schema: schema.clone(),
            browser,
            sets: None,
            shared_walk: SHARED_WALK,
        }
    }

    /// The same, sharing a segment's walk between two threads from `n` matches (`usize::MAX`:
    /// never).
    pub(crate) fn sharing_walks_from(mut self, n: usize) -> Self {
        self.shared_walk = n;
        self
    }

    /// The same, reading the keyword query's matches as `sets` when they need no score and
    /// its posting lists are long enough for it to pay.
    pub(crate) fn with_sets(mut self, sets: Sets) -> Self {
        self.sets = Some(sets);
        self
    }

    /// A segment's collector over `table`, keeping `top` hits (0: counting only).
    fn segment_collector(&self, table: Arc<SegmentTable>, top: usize) -> FacetSegmentCollector {
        let checks = (0..Facet::COUNT)
            .filter_map(|i| Some((i, self.query.filters[i].clone()?)))
            .collect();
        FacetSegmentCollector {
            query: FacetQuery {
                top,
                ..self.query.clone()
            },
            table,
            checks,
            total: 0,
            counts: empty_counts(),
            heap: BinaryHeap::with_capacity(top + 1),
            floor: (Score::NEG_INFINITY, i64::MIN),
        }
    }

    /// Whether the query's matches may be most of the segment, and the segment's browse
    /// counts can stand for them (no date or distance criterion, which browsing ignores).
    fn may_take_complement(&self, weight: &dyn Weight, reader: &SegmentReader) -> bool {
        if !self.complement_stands() {
            return false;
        }
        // An estimate: a union's is its largest part, an intersection's its smallest.
        weight
            .scorer(reader, 1.0)
            .is_ok_and(|s| u64::from(s.size_hint()) * 2 >= u64::from(reader.max_doc()))
    }

    /// Whether browse counts can stand for a query's matches (browsing knows no date or
    /// distance criterion).
    fn complement_stands(&self) -> bool {
        let q = &self.query;
        q.near.is_none() && q.published_min == i64::MIN && q.sort != Sort::Distance
    }

    /// A segment whose matches `sets` reads whole: by complement when they are at least half
    /// of it; else, when under a quarter of the segment passes the filters, through the
    /// filtered facets' columns (a match that fails a filter needs that filter's column, not
    /// its 28-byte row: `comptabilité` + department + contract, 213,000 matches, 288 pass);
    /// else each match offered with its row, a long walk shared between two threads.
    fn collect_bits(
        &self,
        weight: &dyn Weight,
        reader: &SegmentReader,
        table: Arc<SegmentTable>,
        matched: Vec<u64>,
    ) -> tantivy::Result<FacetResult> {
        let max_doc = reader.max_doc() as usize;
        let n: usize = matched.iter().map(|w| w.count_ones() as usize).sum();
        if n * 2 >= max_doc && self.complement_stands() {
            return self.complement(weight, reader, table, &matched);
        }
        // Without filters every match passes (a share of 1).
        if self.complement_stands() && table.passing_share(&self.query.filters) * 4.0 < 1.0 {
            let mut child = self.segment_collector(table.clone(), self.query.top);
            let keep = (self.query.top > 0).then_some(&mut child);
            let mut out = self.count_by_columns(&table, |w| matched[w], max_doc, keep);
            out.hits = child.harvest().hits;
            return Ok(out);
        }
        // Each match offered with its row; a long walk in two halves, one per core.
        let walk = |words: Range<usize>| {
            let mut child = self.segment_collector(table.clone(), self.query.top);
            let base = words.start as u32 * 64;
            for_each_ahead(
                ones(&matched[words]).map(|d| d + base),
                |d| table.fetch_row(d),
                |d| child.offer(0.0, d),
            );
            child.harvest()
        };
        match halves(&matched, n, self.shared_walk) {
            Some((pool, at)) => {
                let (a, b) = pool.join(|| walk(0..at), || walk(at..matched.len()));
                self.merge_fruits(vec![a, b])
            }
            None => Ok(walk(0..matched.len())),
        }
    }

    /// A segment where the query matches at least half of the documents (`stagiaire` matches
    /// 70 % of the offers): the total and the counts are those of browsing with the same
    /// filters (kept per segment) less those of the documents the query leaves out, so that
    /// the walk is over the fewer documents; the newest hits are the first matching positions
    /// in result order, the most relevant come from tantivy's pruning top-k (block-max WAND
    /// over term unions) with the filters checked on each candidate. `None`: the matches were
    /// fewer than half after all, and are walked as usual.
    fn collect_complement(
        &self,
        weight: &dyn Weight,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<FacetResult>> {
        let max_doc = reader.max_doc() as usize;
        let mut matched = vec![0u64; max_doc.div_ceil(64)];
        let mut n = 0usize;
        weight.for_each_no_score(reader, &mut |docs| {
            set_bits(&mut matched, docs);
            n += docs.len();
        })?;
        if n * 2 < max_doc {
            return Ok(None);
        }
        let table = self.browser.table(reader, &self.schema)?;
        self.complement(weight, reader, table, &matched).map(Some)
    }

    /// [`Self::collect_complement`] once the matches are known: `matched`, a bitset by id.
    fn complement(
        &self,
        weight: &dyn Weight,
        reader: &SegmentReader,
        table: Arc<SegmentTable>,
        matched: &[u64],
    ) -> tantivy::Result<FacetResult> {
        let max_doc = reader.max_doc() as usize;
        let q = &self.query;
        let lists: [Vec<u16>; Facet::COUNT] = std::array::from_fn(|f| {
            q.filters[f].as_ref().map_or_else(Vec::new, |set| {
                (0..set.len() as u16).filter(|&o| set[o as usize]).collect()
            })
        });
        let all = table.browse(&lists, q.now, 0, q.count_facets);
        let rest = self.count_by_columns(&table, |w| !matched[w], max_doc, None);
        let mut counts = all.counts;
        for (c, r) in counts.iter_mut().zip(&rest.counts) {
            for (c, r) in c.iter_mut().zip(r) {
                debug_assert!(*c >= *r, "a left-out document counted and not browsed");
                *c = c.saturating_sub(*r);
            }
        }
        let is_match = |d: u32| matched[d as usize / 64] & (1 << (d % 64)) != 0;
        let mut hits = Vec::new();
        if q.top > 0 {
            if self.requires_scoring() {
                let mut child = self.segment_collector(table.clone(), q.top);
                weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
                    if let Some(published_at) = child.passes_all(doc) {
                        child.keep(score, doc, published_at);
                    }
                    match child.heap.peek() {
                        // Equal scores are still offered: the tie-breaks may favour them.
                        Some(worst) if child.heap.len() >= q.top => worst.0.score.next_down(),
                        _ => Score::MIN,
                    }
                })?;
                hits = child.harvest().hits;
            } else {
                table.newest_where(&lists, q.now, q.top, is_match, &mut hits);
            }
        }
        Ok(FacetResult {
            total: all.total.saturating_sub(rest.total),
            hits,
            counts,
        })
    }
}

impl FacetCollector {
    /// The total and the counts of a set of documents (its bitset by document id, word by
    /// word: `word(w)`; the documents a query matches, or those it leaves out), by the rules
    /// of [`FacetSegmentCollector::offer`] without dates or distances: the walk reads the end
    /// of diffusion and the filtered facets' columns, and a whole row only for a document that
    /// passes every filter (at 1M offers it reads 8 MB where the rows would be 28 MB). Each
    /// document passing every filter is also offered to `top` as a hit.
    fn count_by_columns(
        &self,
        table: &SegmentTable,
        word: impl Fn(usize) -> u64,
        max_doc: usize,
        mut top: Option<&mut FacetSegmentCollector>,
    ) -> FacetResult {
        let q = &self.query;
        let checks: Vec<(usize, &[bool], &[u16])> = (0..Facet::COUNT)
            .filter_map(|f| Some((f, q.filters[f].as_deref()?, &table.columns[f][..])))
            .collect();
        let mut out = FacetResult {
            counts: empty_counts(),
            ..FacetResult::default()
        };
        // With two filters or more, only the documents that may count.
        let candidates = table.failing_at_most_one(&q.filters);
        // Those that pass every filter are counted in every facet, from their rows, which are
        // scattered: they are counted after the walk, their rows asked for ahead.
        let mut passing = Vec::new();
        for w in 0..max_doc.div_ceil(64) {
            let mut left = word(w) & candidates.as_ref().map_or(u64::MAX, |c| c[w]);
            if (w + 1) * 64 > max_doc {
                left &= (1u64 << (max_doc % 64)) - 1;
            }
            for_each_bit(left, w * 64, |doc| {
                // Without a branch per document (which ones count is as good as random): an
                // invisible (or deleted) document fails as if it failed two filters.
                let invisible = i64::from(table.visible_until[doc]) <= q.now;
                let (mut failures, mut failed, mut value) = (2 * u32::from(invisible), 0, 0);
                for &(f, accepted, column) in &checks {
                    let v = column[doc];
                    let pass = accepted.get(usize::from(v)).copied().unwrap_or(false);
                    failures += u32::from(!pass);
                    (failed, value) = if pass { (failed, value) } else { (f, v) };
                }
                // A document failing one filter counts in that facet only; the slot of
                // `failed` is written either way, by one or by nothing.
                let slot = &mut out.counts[failed][usize::from(value)];
                *slot += u32::from(failures == 1 && q.count_facets);
                if failures == 0 {
                    passing.push(doc as DocId);
                }
            });
        }
        out.total = passing.len() as u64;
        if q.count_facets || top.is_some() {
            let count = |doc: DocId| {
                let row = &table.rows[doc as usize];
                if q.count_facets {
                    for (c, &v) in out.counts.iter_mut().zip(&row.facets) {
                        c[usize::from(v)] += 1;
                    }
                }
                if let Some(top) = top.as_deref_mut() {
                    top.keep(0.0, doc, i64::from(row.published_at));
                }
            };
            for_each_ahead(passing.into_iter(), |d| table.fetch_row(d), count);
        }
        out
    }
}

/// Matches from which a segment's walk is shared between two threads by default: about a
/// millisecond of work, against some tens of microseconds to hand half of it over.
pub const SHARED_WALK: usize = 50_000;

/// The threads that share long walks (one per core; none on a single core).
fn walkers() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores < 2 {
            return None;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("search-walk-{i}"))
            .build()
            .inspect_err(|e| tracing::warn!(error = %e, "no threads to share long searches"))
            .ok()
    })
    .as_ref()
}

/// Where to split a walk over the `n` set bits of `bits` into two halves of about as many
/// (a word index), with the threads to run them: `None` when the walk is shorter than `min`
/// or there are no such threads.
fn halves(bits: &[u64], n: usize, min: usize) -> Option<(&'static rayon::ThreadPool, usize)> {
    if n < min {
        return None;
    }
    let pool = walkers()?;
    let mut seen = 0;
    let at = bits.iter().position(|w| {
        seen += w.count_ones() as usize;
        seen * 2 >= n
    })?;
    Some((pool, at + 1))
}

fn empty_counts() -> [Vec<u32>; Facet::COUNT] {
    std::array::from_fn(|i| vec![0; Facet::ALL[i].values().len() + 1])
}

/// Segment part of [`FacetCollector`].
pub struct FacetSegmentCollector {
    query: FacetQuery,
    table: Arc<SegmentTable>,
    /// The facets that carry a filter: each one's index and accepted ordinals.
    checks: Vec<(usize, Vec<bool>)>,
    total: u64,
    counts: [Vec<u32>; Facet::COUNT],
    heap: BinaryHeap<std::cmp::Reverse<Hit>>,
    /// The worst kept hit's score and publication time once `top` hits are kept (a document
    /// below it cannot enter), until then the least there is.
    floor: (Score, i64),
}

impl Collector for FacetCollector {
    type Fruit = FacetResult;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        Ok(self.segment_collector(self.browser.table(reader, &self.schema)?, self.query.top))
    }

    fn requires_scoring(&self) -> bool {
        self.query.sort == Sort::Relevance
    }

    /// Matching documents are offered with their rows asked for ahead (see [`Window`]);
    /// no alive bitset is read: a deleted document's row is never visible.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetResult> {
        if !self.requires_scoring()
            && let Some(sets) = &self.sets
        {
            let table = self.browser.table(reader, &self.schema)?;
            let open = sets.open(reader, &table.kept)?;
            if open.worth_reading_whole(reader.max_doc()) {
                let matched = open.bits(reader.max_doc() as usize, &table.kept);
                return self.collect_bits(weight, reader, table, matched);
            }
        }
        if self.may_take_complement(weight, reader)
            && let Some(result) = self.collect_complement(weight, reader)?
        {
            return Ok(result);
        }
        let mut child = self.for_segment(ord, reader)?;
        let table = child.table.clone();
        if self.requires_scoring() {
            let mut window = Window::new();
            weight.for_each(reader, &mut |doc, score| {
                if let Some((doc, score)) = window.push((doc, score), |&(d, _)| table.fetch_row(d))
                {
                    child.offer(score, doc);
                }
            })?;
            window
                .drain()
                .for_each(|(doc, score)| child.offer(score, doc));
        } else {
            let mut window = Window::new();
            weight.for_each_no_score(reader, &mut |docs| {
                for &doc in docs {
                    if let Some(doc) = window.push(doc, |&d| table.fetch_row(d)) {
                        child.offer(0.0, doc);
                    }
                }
            })?;
            window.drain().for_each(|doc| child.offer(0.0, doc));
        }
        Ok(child.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<FacetResult>) -> tantivy::Result<FacetResult> {
        let mut out = FacetResult {
            counts: empty_counts(),
            ..FacetResult::default()
        };
        for f in fruits {
            out.total += f.total;
            out.hits.extend(f.hits);
            for (acc, c) in out.counts.iter_mut().zip(f.counts) {
                for (a, b) in acc.iter_mut().zip(c) {
                    *a += b;
                }
            }
        }
        out.hits.sort_unstable_by(|a, b| b.cmp(a));
        out.hits.truncate(self.query.top);
        Ok(out)
    }
}

impl FacetSegmentCollector {
    /// Counts and keeps the document `doc` of the segment.
    #[inline]
    fn offer(&mut self, score: Score, doc: DocId) {
        let mut distance = 0.0;
        if let Some(near) = &self.query.near {
            let commune = self.table.communes[doc as usize];
            distance = near
                .get(usize::from(commune))
                .copied()
                .unwrap_or(f32::INFINITY);
            if distance.is_infinite() {
                return;
            }
        }
        let row = &self.table.rows[doc as usize];
        if !row.visible(self.query.now) {
            return; // deleted documents' rows are never visible
        }
        let published_at = i64::from(row.published_at);
        if published_at < self.query.published_min {
            return;
        }
        let vals = &row.facets;
        // Which filters the document fails, without a branch per filter (whether a document
        // passes one is as good as random).
        let (mut failures, mut failed) = (0u32, 0usize);
        for (f, accepted) in &self.checks {
            let pass = accepted
                .get(usize::from(vals[*f]))
                .copied()
                .unwrap_or(false);
            failures += u32::from(!pass);
            failed = if pass { failed } else { *f };
        }
        match failures {
            0 => {}
            1 => {
                if self.query.count_facets {
                    self.counts[failed][usize::from(vals[failed])] += 1;
                }
                return;
            }
            _ => return, // fails two filters: counts nowhere
        }
        self.total += 1;
        if self.query.count_facets {
            for (c, &v) in self.counts.iter_mut().zip(vals) {
                c[v as usize] += 1;
            }
        }
        if self.query.top == 0 {
            return;
        }
        // The greatest score is the best: nearest first is the least distance.
        let score = match self.query.sort {
            Sort::Relevance => score,
            Sort::Date => 0.0,
            Sort::Distance => -distance,
        };
        self.keep(score, doc, published_at);
    }

    /// The publication time of `doc` when it is visible and passes every filter (a query
    /// without date or distance criteria).
    fn passes_all(&self, doc: DocId) -> Option<i64> {
        let row = self.table.rows.get(doc as usize)?;
        let passes = row.visible(self.query.now)
            && self.checks.iter().all(|(f, accepted)| {
                accepted
                    .get(usize::from(row.facets[*f]))
                    .copied()
                    .unwrap_or(false)
            });
        passes.then_some(i64::from(row.published_at))
    }

    /// Keeps `doc` among the top hits when it is good enough: most documents of a long walk
    /// are not, which one comparison with the floor tells.
    #[inline(always)]
    fn keep(&mut self, score: Score, doc: DocId, published_at: i64) {
        let (floor_score, floor_published) = self.floor;
        if score
            .total_cmp(&floor_score)
            .then(published_at.cmp(&floor_published))
            .is_ge()
        {
            self.enter(score, doc, published_at);
        }
    }

    /// [`Self::keep`] for a document at or above the floor.
    fn enter(&mut self, score: Score, doc: DocId, published_at: i64) {
        let id = |t: &SegmentTable| t.ids[doc as usize];
        if self.heap.len() < self.query.top {
            self.heap.push(std::cmp::Reverse(Hit {
                score,
                published_at,
                id: id(&self.table),
            }));
        } else if let Some(mut min) = self.heap.peek_mut() {
            let worst = min.0;
            // The store id (the final tie-break) is read only when it can matter.
            let id = match score
                .total_cmp(&worst.score)
                .then(published_at.cmp(&worst.published_at))
            {
                Ordering::Less => return,
                Ordering::Greater => id(&self.table),
                Ordering::Equal => match id(&self.table) {
                    id if id > worst.id => id,
                    _ => return,
                },
            };
            *min = std::cmp::Reverse(Hit {
                score,
                published_at,
                id,
            });
        }
        if self.heap.len() >= self.query.top
            && let Some(worst) = self.heap.peek()
        {
            self.floor = (worst.0.score, worst.0.published_at);
        }
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetResult;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(score, doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let table = self.table.clone();
        for_each_ahead(
            docs.iter().copied(),
            |d| table.fetch_row(d),
            |d| self.offer(0.0, d),
        );
    }

    fn harvest(self) -> FacetResult {
        FacetResult {
            total: self.total,
            hits: self.heap.into_iter().map(|r| r.0).collect(),
            counts: self.counts,
        }
    }
}
