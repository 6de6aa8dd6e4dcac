//! Browsing without keywords — the home page and every facet click — answered from memory.
//!
//! Per segment of the index, a table: per document id, a row of its facet ordinals, publication
//! time, end of diffusion and store id (the keyword collector reads its matching documents'
//! rows there, in id order); the live documents in result order (newest publication first,
//! then the higher store id), whose positions the rest speaks of; per facet value, a bitmap of
//! the positions that hold it; and
//! counts over the visible documents, per contract (a slice), both per facet value and per
//! pair of facet values (how many visible documents of the slice have value v of facet f and
//! value w of facet g). The counts stay valid until the next end of diffusion among them; a
//! segment whose deleted documents changed is read again. A facet's counts are those of the
//! documents passing every filter but its own, summed over the slices the contract's filter
//! keeps (every slice for the contract's own counts):
//! - with at most one filter besides the contract's on them, they are sums of counts (no
//!   filter) or of pair counts over the filter's chosen values: the home page, a contract, a
//!   contract and a place need no walk; the contract's own counts, per slice, also with two
//!   other filters (pairs of the two);
//! - else the unfiltered facets count one pass over the positions passing every filter
//!   (the intersection of each filter's union of its values' positions), and each filtered
//!   one a pass over those passing the others;
//! - the hits walk the positions passing every filter.
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

/// The facet whose ordinals slice the counts: every portal search chooses a contract
/// (« Apprentissage · Stage »), and it has the fewest values. With the counts of pairs within
/// each slice, a browse filtered by a contract and one other facet needs no walk.
const SLICE: usize = Facet::Contract as usize;

/// Marks a slot that no document of a slice holds (it has no row of pair counts).
const NO_ROW: u32 = u32::MAX;

/// Counts over the documents visible at some instant, valid until `valid_until`, per slice (the
/// documents of one contract ordinal).
struct Counts {
    valid_until: i64,
    /// The slots they were counted in.
    slots: Slots,
    /// Per slice, per slot, the slice's visible documents holding it.
    all: Vec<Vec<u32>>,
    /// Per slice, per slot a, the index of a's row in `pairs` (`NO_ROW`: none of the slice's
    /// documents holds a; about half the slots, most countries among them).
    row_of: Vec<Vec<u32>>,
    /// Per slice, its rows of `total` pair counts: row `row_of[a]`, column b, the slice's visible
    /// documents holding slots a and b.
    pairs: Vec<Vec<u32>>,
}

impl Counts {
    fn of(rows: &[Row], now: i64, s: Slots) -> Counts {
        let slices = s.width[SLICE];
        let flat = |row: &Row| -> [usize; Facet::COUNT] {
            std::array::from_fn(|f| s.start[f] + row.facets[f] as usize)
        };
        let visible = || rows.iter().filter(|r| r.visible(now));
        let mut all = vec![vec![0u32; s.total]; slices];
        let mut valid_until = i64::MAX;
        for row in visible() {
            valid_until = valid_until.min(i64::from(row.visible_until));
            let slice = &mut all[row.facets[SLICE] as usize];
            for a in flat(row) {
                slice[a] += 1;
            }
        }
        let mut row_of = vec![vec![NO_ROW; s.total]; slices];
        let mut pairs = Vec::with_capacity(slices);
        for (held, index) in all.iter().zip(&mut row_of) {
            let mut n = 0;
            for (slot, i) in held.iter().zip(index.iter_mut()) {
                if *slot > 0 {
                    *i = n;
                    n += 1;
                }
            }
            pairs.push(vec![0u32; n as usize * s.total]);
        }
        for row in visible() {
            let c = row.facets[SLICE] as usize;
            let (index, rows) = (&row_of[c], &mut pairs[c]);
            let slots = flat(row);
            for a in slots {
                let start = index[a] as usize * s.total;
                let counts = &mut rows[start..start + s.total];
                for b in slots {
                    counts[b] += 1;
                }
            }
        }
        Counts {
            valid_until,
            slots: s,
            all,
            row_of,
            pairs,
        }
    }

    /// The counts of facet `g`'s values among slice `c`'s documents holding slot a.
    fn pairs(&self, c: usize, a: usize, g: usize) -> Option<&[u32]> {
        let s = &self.slots;
        let row = *self.row_of[c].get(a)?;
        if row == NO_ROW {
            return None;
        }
        let start = row as usize * s.total + s.start[g];
        Some(&self.pairs[c][start..start + s.width[g]])
    }

    /// Adds to `out` the counts of facet `g`'s values among slice `c`'s documents that pass
    /// `given` (at most one facet's filter: a facet and its accepted ordinals).
    fn add(&self, c: usize, given: Option<(usize, &[u16])>, g: usize, out: &mut [u32]) {
        let s = &self.slots;
        let mut add = |counts: &[u32]| {
            for (o, n) in out.iter_mut().zip(counts) {
                *o += n;
            }
        };
        match given {
            None => add(&self.all[c][s.start[g]..s.start[g] + s.width[g]]),
            Some((f, values)) => {
                for &v in values {
                    if let Some(counts) = self.pairs(c, s.start[f] + v as usize, g) {
                        add(counts);
                    }
                }
            }
        }
    }

    /// How many of slice `c`'s documents pass `given` (at most two facets' filters), `None`
    /// with more.
    fn passing(&self, c: usize, given: &[(usize, &[u16])]) -> Option<u64> {
        let s = &self.slots;
        let sum = |counts: &[u32], values: &[u16]| -> u64 {
            values
                .iter()
                .filter_map(|&v| counts.get(v as usize))
                .map(|&n| u64::from(n))
                .sum()
        };
        match *given {
            [] => Some(u64::from(self.all[c][s.start[SLICE] + c])),
            [(f, values)] => Some(sum(
                &self.all[c][s.start[f]..s.start[f] + s.width[f]],
                values,
            )),
            [(f, values), (h, others)] => Some(
                values
                    .iter()
                    .filter_map(|&v| self.pairs(c, s.start[f] + v as usize, h))
                    .map(|counts| sum(counts, others))
                    .sum(),
            ),
            _ => None,
        }
    }
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
        let c = Arc::new(Counts::of(&self.rows, now, s));
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
    /// the disjunctive counts of the visible documents passing `filters`. A facet's counts come
    /// from the sliced counts when at most one filter besides the contract's applies to it
    /// (the contract's own: at most two); the others walk positions (see the module's doc).
    pub(super) fn browse(
        &self,
        filters: &[Vec<u16>; Facet::COUNT],
        now: i64,
        top: usize,
        count: bool,
    ) -> FacetResult {
        let s = slots();
        let c = self.counts(now, s);
        let filtered: Vec<usize> = (0..Facet::COUNT)
            .filter(|&f| !filters[f].is_empty())
            .collect();
        // The filters besides the contract's, and the slices the contract's keeps.
        let given: Vec<(usize, &[u16])> = filtered
            .iter()
            .filter(|&&f| f != SLICE)
            .map(|&f| (f, &filters[f][..]))
            .collect();
        let slices: Vec<usize> = match filters[SLICE].is_empty() {
            true => (0..s.width[SLICE]).collect(),
            false => filters[SLICE]
                .iter()
                .map(|&v| v as usize)
                .filter(|&v| v < s.width[SLICE])
                .collect(),
        };
        let mut counts: [Vec<u32>; Facet::COUNT] = std::array::from_fn(|f| vec![0; s.width[f]]);
        let mut total: Option<u64> = slices.iter().map(|&x| c.passing(x, &given)).sum();
        // The facets left to a walk: the unfiltered ones over the positions passing every
        // filter, each filtered one over those passing the others.
        let (mut walk_all, mut walk_others) = (Vec::new(), Vec::new());
        if count {
            for (g, out) in counts.iter_mut().enumerate() {
                let rest: Vec<(usize, &[u16])> =
                    given.iter().filter(|(f, _)| *f != g).copied().collect();
                if g == SLICE && rest.len() <= 2 {
                    for (x, slot) in out.iter_mut().enumerate() {
                        *slot = c.passing(x, &rest).unwrap_or(0) as u32;
                    }
                } else if g != SLICE && rest.len() <= 1 {
                    for &x in &slices {
                        c.add(x, rest.first().copied(), g, out);
                    }
                } else if filters[g].is_empty() {
                    walk_all.push(g);
                } else {
                    walk_others.push(g);
                }
            }
        }
        let walks = total.is_none() || !walk_all.is_empty() || !walk_others.is_empty();
        let unions: Vec<(usize, RoaringBitmap)> = match top > 0 || walks {
            true => filtered
                .iter()
                .map(|&f| (f, self.union(f, &filters[f])))
                .collect(),
            false => Vec::new(),
        };
        // The positions passing the filters of every facet but `skip` (`None`: no filter).
        let meet = |skip: Option<usize>| -> Option<RoaringBitmap> {
            let mut parts = unions.iter().filter(|(f, _)| Some(*f) != skip);
            let first = parts.next()?.1.clone();
            Some(parts.fold(first, |acc, (_, u)| acc & u))
        };
        let all = meet(None);
        if let Some(set) = all.as_ref().filter(|_| walks) {
            // The walk over every filter's positions gives the total as well.
            let visible = self.count_over(set, now, &walk_all, &mut counts);
            total = total.or(Some(visible));
        }
        for &g in &walk_others {
            if let Some(set) = meet(Some(g)) {
                self.count_over(&set, now, &[g], &mut counts);
            }
        }
        let mut hits = Vec::new();
        self.hits(all.as_ref(), now, top, |_| true, &mut hits);
        FacetResult {
            total: total.unwrap_or(0),
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
