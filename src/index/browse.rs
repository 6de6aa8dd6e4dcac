//! Browsing without keywords — the home page and every facet click — answered from memory.
//!
//! Per segment of the index, a table: per document id, a row of its facet ordinals, publication
//! time, end of diffusion and store id (the keyword collector reads its matching documents'
//! rows there, in id order); the live documents in result order (newest publication first,
//! then the higher store id), whose positions the rest speaks of; per facet value, a bitmap of
//! the positions that hold it; and
//! counts over the visible documents, both per facet and per pair of facet values (how many
//! visible documents have value v of facet f and value w of facet g). The counts stay valid
//! until the next end of diffusion among them; a segment whose deleted documents changed is
//! read again. Then:
//! - no filter: the counts as they are, the hits from the first positions;
//! - one filtered facet: its own counts are the unfiltered ones, the others are sums of pair
//!   counts over its chosen values; the hits walk the union of its values' positions;
//! - two: each filtered facet's counts are pair sums over the other's values; the unfiltered
//!   facets count one pass over the intersection;
//! - three or more: one pass per filtered facet over the intersection of the others.
//!
//! The rules are the collector's (`collector.rs`): a document failing exactly one filter
//! counts in that facet only. The facet proptest compares both with a naive oracle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use roaring::RoaringBitmap;
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use super::ahead::{for_each_ahead, prefetch};
use super::collector::{FacetResult, Hit};
use super::schema::OfferSchema;
use super::sets::KeptSets;
use crate::domain::Facet;

/// Where each facet's ordinals start in the flattened slot space (ordinal `len` = no value), for
/// one version of the referentials (an administration added at run time widens its facet).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Slots {
    start: [usize; Facet::COUNT],
    width: [usize; Facet::COUNT],
    total: usize,
}

fn slots() -> Slots {
    let r = crate::domain::referentials::referentials();
    let mut start = [0; Facet::COUNT];
    let mut width = [0; Facet::COUNT];
    let mut total = 0;
    for (i, f) in Facet::ALL.iter().enumerate() {
        start[i] = total;
        width[i] = r.values(*f).len() + 1;
        total += width[i];
    }
    Slots {
        start,
        width,
        total,
    }
}

/// Counts over the documents visible at some instant, valid until `valid_until`.
struct Counts {
    valid_until: i64,
    /// The slots they were counted in.
    slots: Slots,
    /// Per slot, visible documents holding it.
    all: Vec<u32>,
    /// `pairs[a * total + b]`: visible documents holding slot a and slot b.
    pairs: Vec<u32>,
}

/// One document's row: what the browse answers and the keyword collector read of it, in 28
/// bytes (the collector's time goes to fetching rows: the smaller they are, the more of them
/// the processor's caches hold).
#[derive(Clone, Copy)]
pub(crate) struct Row {
    /// End of diffusion (unix seconds, within 1..=u32::MAX); 0 for a deleted document.
    pub(super) visible_until: u32,
    /// Publication time (unix seconds, within 1..=u32::MAX).
    pub(super) published_at: u32,
    /// The facet ordinals.
    pub(super) facets: [u16; Facet::COUNT],
}

impl Row {
    /// Whether the document is visible at `now` (never when deleted).
    #[inline]
    pub(super) fn visible(&self, now: i64) -> bool {
        i64::from(self.visible_until) > now
    }
}

/// Unix seconds as a row keeps them: 1970 and 2106 bound them, 0 is left for "deleted".
fn row_secs(t: i64) -> u32 {
    t.clamp(1, i64::from(u32::MAX)) as u32
}

/// One segment's browse table.
pub(crate) struct SegmentTable {
    deleted: u32,
    /// The referentials' widths its ordinals were read with (a table is read again when an
    /// administration added at run time widens its facet, so that "no value" stays the last).
    slots: Slots,
    /// Per document id of the segment, its row: the keyword collector walks matching documents
    /// in id order, so their rows are read in memory order.
    pub(super) rows: Vec<Row>,
    /// The rows' ends of diffusion and facet ordinals again, one column each: the keyword
    /// collector's walk over the documents a query leaves out reads only the columns of the
    /// filtered facets (2 bytes a document instead of a 28-byte row) and a row only for the
    /// few documents that pass every filter.
    pub(super) visible_until: Vec<u32>,
    pub(super) columns: [Vec<u16>; Facet::COUNT],
    /// Per facet, per ordinal, the live documents holding it, by id.
    holders: [Vec<Holders>; Facet::COUNT],
    /// Per document id, the store id (read only for the documents a page keeps).
    pub(super) ids: Vec<u64>,
    /// Per document id, the ordinal of its commune (`u16::MAX`: none); read only by searches
    /// by distance.
    pub(super) communes: Vec<u16>,
    /// Per position (result order), the document id.
    order: Vec<u32>,
    /// Per position, the document's facet ordinals and end of diffusion again: the browse
    /// counts walk positions, and read them in memory order here.
    pos_facets: Vec<[u16; Facet::COUNT]>,
    pos_visible_until: Vec<u32>,
    /// Per facet, per ordinal, the positions holding it.
    postings: [Vec<RoaringBitmap>; Facet::COUNT],
    counts: Mutex<Option<Arc<Counts>>>,
    /// The bitsets of the segment's dense keywords (see [`super::sets`]).
    pub(super) kept: KeptSets,
}

fn read<T: Copy + PartialOrd + std::fmt::Debug + Send + Sync + 'static>(
    col: Column<T>,
    doc: u32,
    default: T,
) -> T {
    col.first(doc).unwrap_or(default)
}

impl SegmentTable {
    fn build(reader: &SegmentReader, schema: &OfferSchema) -> tantivy::Result<SegmentTable> {
        let ff = reader.fast_fields();
        let name = |f| schema.schema.get_field_name(f);
        let mut cols = Vec::with_capacity(Facet::COUNT);
        for f in &schema.facets {
            cols.push(ff.u64(name(*f))?);
        }
        let id = ff.u64(name(schema.id))?;
        let commune = ff.u64(name(schema.commune))?;
        let mut commune_ordinals: HashMap<u64, u16> = HashMap::new();
        let mut communes = Vec::with_capacity(reader.max_doc() as usize);
        let published = ff.i64(name(schema.published_at))?;
        let visible = ff.i64(name(schema.visible_until))?;
        let alive = reader.alive_bitset();
        let s = slots();
        let mut rows = Vec::with_capacity(reader.max_doc() as usize);
        let mut ids = Vec::with_capacity(reader.max_doc() as usize);
        let mut order = Vec::with_capacity(reader.num_docs() as usize);
        for doc in 0..reader.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                rows.push(Row {
                    visible_until: 0,
                    published_at: 0,
                    facets: [0; Facet::COUNT],
                });
                ids.push(0);
                communes.push(u16::MAX);
                continue;
            }
            let number = read(commune.clone(), doc, 0);
            communes.push(*commune_ordinals.entry(number).or_insert_with(|| {
                crate::domain::communes::communes()
                    .ordinal_of_number(number)
                    .unwrap_or(u16::MAX)
            }));
            order.push(doc);
            rows.push(Row {
                visible_until: row_secs(read(visible.clone(), doc, 0)),
                published_at: row_secs(read(published.clone(), doc, 0)),
                facets: std::array::from_fn(|i| {
                    let none = (s.width[i] - 1) as u64;
                    read(cols[i].clone(), doc, none).min(none) as u16
                }),
            });
            ids.push(read(id.clone(), doc, 0));
        }
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            (rows[b].published_at.cmp(&rows[a].published_at)).then(ids[b].cmp(&ids[a]))
        });
        let mut postings: [Vec<RoaringBitmap>; Facet::COUNT] =
            std::array::from_fn(|i| vec![RoaringBitmap::new(); s.width[i]]);
        for (pos, &doc) in order.iter().enumerate() {
            for (f, &v) in rows[doc as usize].facets.iter().enumerate() {
                postings[f][v as usize].insert(pos as u32);
            }
        }
        let holders = std::array::from_fn(|f| Holders::of(&rows, f, s.width[f]));
        Ok(SegmentTable {
            deleted: reader.num_deleted_docs(),
            holders,
            visible_until: rows.iter().map(|r| r.visible_until).collect(),
            columns: std::array::from_fn(|f| rows.iter().map(|r| r.facets[f]).collect()),
            slots: s,
            pos_facets: order.iter().map(|&d| rows[d as usize].facets).collect(),
            pos_visible_until: order
                .iter()
                .map(|&d| rows[d as usize].visible_until)
                .collect(),
            rows,
            ids,
            communes,
            order,
            postings,
            counts: Mutex::new(None),
            kept: KeptSets::default(),
        })
    }

    /// Asks for the row of `doc` (see [`super::ahead`]): both its ends, as a row of 28 bytes
    /// spans two cache lines once in three (asking for the second line as well takes a third
    /// off a walk over 10 % of a million rows).
    #[inline]
    pub(super) fn fetch_row(&self, doc: DocId) {
        if let Some(row) = self.rows.get(doc as usize) {
            prefetch(row);
            prefetch(&row.facets[Facet::COUNT - 1]);
        }
    }

    fn visible(&self, pos: usize, now: i64) -> bool {
        i64::from(self.pos_visible_until[pos]) > now
    }

    /// The counts at `now`, computed again once an end of diffusion has passed.
    fn counts(&self, now: i64, s: Slots) -> Arc<Counts> {
        let mut guard = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = guard
            .as_ref()
            .filter(|c| now < c.valid_until && c.slots == s)
        {
            return c.clone();
        }
        let mut all = vec![0u32; s.total];
        let mut pairs = vec![0u32; s.total * s.total];
        let mut valid_until = i64::MAX;
        for row in &self.rows {
            let (until, vals) = (i64::from(row.visible_until), &row.facets);
            if until <= now {
                continue;
            }
            valid_until = valid_until.min(until);
            let flat: [usize; Facet::COUNT] =
                std::array::from_fn(|f| s.start[f] + vals[f] as usize);
            for &a in &flat {
                all[a] += 1;
                let row = &mut pairs[a * s.total..(a + 1) * s.total];
                for &b in &flat {
                    row[b] += 1;
                }
            }
        }
        let c = Arc::new(Counts {
            valid_until,
            slots: s,
            all,
            pairs,
        });
        *guard = Some(c.clone());
        c
    }

    /// The positions whose facet `f` holds one of `values`.
    fn union(&self, f: usize, values: &[u16]) -> RoaringBitmap {
        let mut u = RoaringBitmap::new();
        for &v in values {
            if let Some(b) = self.postings[f].get(v as usize) {
                u |= b;
            }
        }
        u
    }

    /// The holders of the values that `filters` accepts in facet `f` (none without a filter).
    fn accepted<'a>(
        &'a self,
        f: usize,
        filters: &'a [Option<Vec<bool>>; Facet::COUNT],
    ) -> impl Iterator<Item = &'a Holders> + 'a {
        let set = filters[f].as_deref().unwrap_or_default();
        self.holders[f]
            .iter()
            .enumerate()
            .filter(move |(v, _)| set.get(*v).copied().unwrap_or(false))
            .map(|(_, h)| h)
    }

    /// How many live documents pass the filter of facet `f`.
    fn passing(&self, f: usize, filters: &[Option<Vec<bool>>; Facet::COUNT]) -> u64 {
        self.accepted(f, filters).map(Holders::count).sum()
    }

    /// The share of the segment's live documents that pass `filters`, as if the facets were
    /// independent (the product of each filter's share).
    pub(super) fn passing_share(&self, filters: &[Option<Vec<bool>>; Facet::COUNT]) -> f64 {
        let live = self.holders[0]
            .iter()
            .map(Holders::count)
            .sum::<u64>()
            .max(1) as f64;
        (0..Facet::COUNT)
            .filter(|&f| filters[f].is_some())
            .map(|f| self.passing(f, filters) as f64 / live)
            .product()
    }

    /// With two filters or more, the live documents (a bitset by id) that pass the filter of
    /// one of the two facets whose filters fewest documents pass: a document failing at most
    /// one filter — the only kind that counts anywhere — passes one of any two, so it is
    /// among them. `None` with fewer than two filters.
    pub(super) fn failing_at_most_one(
        &self,
        filters: &[Option<Vec<bool>>; Facet::COUNT],
    ) -> Option<Vec<u64>> {
        let mut passing: Vec<(u64, usize)> = (0..Facet::COUNT)
            .filter(|&f| filters[f].is_some())
            .map(|f| (self.passing(f, filters), f))
            .collect();
        passing.sort_unstable();
        let [(_, a), (_, b), ..] = passing[..] else {
            return None;
        };
        let mut bits = vec![0u64; self.rows.len().div_ceil(64)];
        for h in self.accepted(a, filters).chain(self.accepted(b, filters)) {
            h.add_to(&mut bits);
        }
        Some(bits)
    }

    /// Adds the counts of the visible positions of `set` for the facets in `which`, and gives
    /// how many they are.
    fn count_over(
        &self,
        set: &RoaringBitmap,
        now: i64,
        which: &[usize],
        out: &mut [Vec<u32>; Facet::COUNT],
    ) -> u64 {
        // Both ends of the facets (20 bytes span two cache lines once in four), when read.
        let fetch = |pos: u32| {
            if let Some(until) = self.pos_visible_until.get(pos as usize) {
                prefetch(until);
                if !which.is_empty() {
                    let vals = &self.pos_facets[pos as usize];
                    prefetch(vals);
                    prefetch(&vals[Facet::COUNT - 1]);
                }
            }
        };
        let mut visible = 0;
        for_each_ahead(set.iter(), fetch, |pos| {
            let pos = pos as usize;
            if !self.visible(pos, now) {
                return;
            }
            visible += 1;
            let vals = &self.pos_facets[pos];
            for &f in which {
                out[f][vals[f] as usize] += 1;
            }
        });
        visible
    }

    /// Adds pair sums: `out[g][w] += Σ_{v ∈ values} pairs[(f, v), (g, w)]` for every g in `which`.
    fn add_pairs(
        c: &Counts,
        f: usize,
        values: &[u16],
        which: &[usize],
        out: &mut [Vec<u32>; Facet::COUNT],
    ) {
        let s = &c.slots;
        for &v in values {
            let a = s.start[f] + v as usize;
            let row = &c.pairs[a * s.total..(a + 1) * s.total];
            for &g in which {
                for (w, slot) in out[g].iter_mut().enumerate() {
                    *slot += row[s.start[g] + w];
                }
            }
        }
    }

    /// The first `top` visible positions of `set` (or of the whole table) whose document `keep`
    /// accepts, as hits.
    fn hits(
        &self,
        set: Option<&RoaringBitmap>,
        now: i64,
        top: usize,
        keep: impl Fn(u32) -> bool,
        out: &mut Vec<Hit>,
    ) {
        if top == 0 {
            return;
        }
        let positions: Box<dyn Iterator<Item = usize> + '_> = match set {
            Some(set) => Box::new(set.iter().map(|p| p as usize)),
            None => Box::new(0..self.order.len()),
        };
        out.extend(
            positions
                .filter(|&pos| self.visible(pos, now) && keep(self.order[pos]))
                .take(top)
                .map(|pos| {
                    let doc = self.order[pos] as usize;
                    Hit {
                        score: 0.0,
                        published_at: i64::from(self.rows[doc].published_at),
                        id: self.ids[doc],
                    }
                }),
        );
    }

    /// The newest `top` visible documents passing `filters` that `keep` accepts (by document
    /// id), as hits: for a keyword query that matches most of the segment, whose newest
    /// matches come first in result order.
    pub(super) fn newest_where(
        &self,
        filters: &[Vec<u16>; Facet::COUNT],
        now: i64,
        top: usize,
        keep: impl Fn(u32) -> bool,
        out: &mut Vec<Hit>,
    ) {
        let mut set: Option<RoaringBitmap> = None;
        for (f, values) in filters.iter().enumerate() {
            if !values.is_empty() {
                let u = self.union(f, values);
                set = Some(match set {
                    None => u,
                    Some(s) => s & u,
                });
            }
        }
        self.hits(set.as_ref(), now, top, keep, out);
    }

    /// This segment's part of a browse answer: `top` newest hits, the total and (when `count`)
    /// the disjunctive counts of the visible documents passing `filters`.
    pub(super) fn browse(
        &self,
        filters: &[Vec<u16>; Facet::COUNT],
        now: i64,
        top: usize,
        count: bool,
    ) -> FacetResult {
        let filtered: Vec<usize> = (0..Facet::COUNT)
            .filter(|&f| !filters[f].is_empty())
            .collect();
        let unfiltered: Vec<usize> = (0..Facet::COUNT)
            .filter(|&f| filters[f].is_empty())
            .collect();
        let s = slots();
        let mut counts: [Vec<u32>; Facet::COUNT] = std::array::from_fn(|f| vec![0; s.width[f]]);
        let mut hits = Vec::new();
        let total;
        match filtered.as_slice() {
            [] => {
                let c = self.counts(now, s);
                total = (0..s.width[0])
                    .map(|w| u64::from(c.all[s.start[0] + w]))
                    .sum();
                if count {
                    for (f, facet) in counts.iter_mut().enumerate() {
                        for (w, slot) in facet.iter_mut().enumerate() {
                            *slot = c.all[s.start[f] + w];
                        }
                    }
                }
                self.hits(None, now, top, |_| true, &mut hits);
            }
            [f] => {
                let f = *f;
                let c = self.counts(now, s);
                total = filters[f]
                    .iter()
                    .map(|&v| u64::from(c.all[s.start[f] + v as usize]))
                    .sum();
                if count {
                    for (w, slot) in counts[f].iter_mut().enumerate() {
                        *slot = c.all[s.start[f] + w];
                    }
                    Self::add_pairs(&c, f, &filters[f], &unfiltered, &mut counts);
                }
                if top > 0 {
                    let set = self.union(f, &filters[f]);
                    self.hits(Some(&set), now, top, |_| true, &mut hits);
                }
            }
            many => {
                let unions: Vec<RoaringBitmap> =
                    many.iter().map(|&f| self.union(f, &filters[f])).collect();
                let mut all = unions[0].clone();
                for u in &unions[1..] {
                    all &= u;
                }
                // Counting walks the visible positions once; the total comes out of it.
                total = self.count_over(
                    &all,
                    now,
                    if count { &unfiltered } else { &[] },
                    &mut counts,
                );
                if count {
                    if let [f, g] = many {
                        let c = self.counts(now, s);
                        Self::add_pairs(&c, *g, &filters[*g], &[*f], &mut counts);
                        Self::add_pairs(&c, *f, &filters[*f], &[*g], &mut counts);
                    } else {
                        for (i, &f) in many.iter().enumerate() {
                            let mut others: Option<RoaringBitmap> = None;
                            for (j, u) in unions.iter().enumerate() {
                                if j != i {
                                    others = Some(match others {
                                        None => u.clone(),
                                        Some(o) => o & u,
                                    });
                                }
                            }
                            if let Some(o) = others {
                                self.count_over(&o, now, &[f], &mut counts);
                            }
                        }
                    }
                }
                self.hits(Some(&all), now, top, |_| true, &mut hits);
            }
        }
        FacetResult {
            total,
            hits,
            counts,
        }
    }
}

/// The live documents holding one facet value: a bitset by id when more than one document in
/// 32 holds it, else their ids (at most 4 bytes a document, at most a bitset's size).
enum Holders {
    Dense { count: u64, bits: Vec<u64> },
    Sparse(Vec<u32>),
}

impl Holders {
    /// Per ordinal of facet `f` (of `width` slots), its holders among `rows`.
    fn of(rows: &[Row], f: usize, width: usize) -> Vec<Holders> {
        let live = || {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r.visible_until != 0)
                .map(|(d, r)| (d, usize::from(r.facets[f])))
        };
        let mut counts = vec![0usize; width];
        for (_, v) in live() {
            counts[v] += 1;
        }
        let mut out: Vec<Holders> = counts
            .iter()
            .map(|&n| match n * 32 > rows.len() {
                true => Holders::Dense {
                    count: n as u64,
                    bits: vec![0; rows.len().div_ceil(64)],
                },
                false => Holders::Sparse(Vec::with_capacity(n)),
            })
            .collect();
        for (d, v) in live() {
            match &mut out[v] {
                Holders::Dense { bits, .. } => bits[d / 64] |= 1 << (d % 64),
                Holders::Sparse(ids) => ids.push(d as u32),
            }
        }
        out
    }

    fn count(&self) -> u64 {
        match self {
            Holders::Dense { count, .. } => *count,
            Holders::Sparse(ids) => ids.len() as u64,
        }
    }

    /// Sets the holders' bits in `bits`.
    fn add_to(&self, bits: &mut [u64]) {
        match self {
            Holders::Dense { bits: own, .. } => {
                for (b, o) in bits.iter_mut().zip(own) {
                    *b |= o;
                }
            }
            Holders::Sparse(ids) => super::sets::set_bits(bits, ids),
        }
    }
}

/// The browse tables of the segments of the current snapshot, made when first needed.
#[derive(Default)]
pub(crate) struct Browser {
    tables: Mutex<HashMap<SegmentId, Arc<SegmentTable>>>,
}

impl Browser {
    /// The table of a segment, read again when its deleted documents changed.
    pub(super) fn table(
        &self,
        reader: &SegmentReader,
        schema: &OfferSchema,
    ) -> tantivy::Result<Arc<SegmentTable>> {
        let id = reader.segment_id();
        if let Some(t) = self
            .tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .filter(|t| t.deleted == reader.num_deleted_docs() && t.slots == slots())
        {
            return Ok(t.clone());
        }
        let t = Arc::new(SegmentTable::build(reader, schema)?);
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, t.clone());
        Ok(t)
    }

    /// A browse answer (no keywords, newest first) over `searcher`'s segments.
    pub(crate) fn browse(
        &self,
        searcher: &Searcher,
        schema: &OfferSchema,
        filters: &[Vec<u16>; Facet::COUNT],
        now: i64,
        top: usize,
        count: bool,
    ) -> tantivy::Result<FacetResult> {
        let mut out = FacetResult {
            counts: {
                let w = slots().width;
                std::array::from_fn(|f| vec![0; w[f]])
            },
            ..FacetResult::default()
        };
        let mut live = Vec::new();
        for reader in searcher.segment_readers() {
            live.push(reader.segment_id());
            let part = self.table(reader, schema)?.browse(filters, now, top, count);
            out.total += part.total;
            out.hits.extend(part.hits);
            for (acc, c) in out.counts.iter_mut().zip(part.counts) {
                for (a, b) in acc.iter_mut().zip(c) {
                    *a += b;
                }
            }
        }
        self.forget_gone(&live);
        out.hits.sort_unstable_by(|a, b| b.cmp(a));
        out.hits.truncate(top);
        Ok(out)
    }

    /// Segments merged away or dropped take their tables with them.
    pub(super) fn forget_gone(&self, live: &[SegmentId]) {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| live.contains(id));
    }

    /// The store ids of the indexed (published) offers whose diffusion has ended at `now`.
    pub(crate) fn expired(
        &self,
        searcher: &Searcher,
        schema: &OfferSchema,
        now: i64,
    ) -> tantivy::Result<Vec<u64>> {
        let mut ids = Vec::new();
        for reader in searcher.segment_readers() {
            let t = self.table(reader, schema)?;
            ids.extend(
                t.order
                    .iter()
                    .filter(|&&d| !t.rows[d as usize].visible(now))
                    .map(|&d| t.ids[d as usize]),
            );
        }
        Ok(ids)
    }
}
