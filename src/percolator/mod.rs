//! The percolator: every active alert (saved search) in memory, to find at once the alerts an
//! offer matches on its first publication.
//!
//! Alerts with the same criteria (facets, keywords, date) form one *class*: a million alerts
//! of candidates choosing among the same facets and popular words make tens of thousands of
//! classes, and an offer is matched against those, in a dense scratch bitset over the classes
//! ([`sets`]). Facet part: per facet, the classes naming each value plus those that do not
//! constrain that facet; candidates = AND over facets of (classes naming the offer's value OR
//! unconstrained). Distance part: per grid cell, the classes whose disk may reach it (the
//! exact distance last, for those covering it in part). Keyword part: each keyword class is
//! filed under its rarest required term; the offer's terms pick the few candidates, which are
//! verified with the search's own analyzers and query semantics ([`verify`]), once per distinct
//! query. The answer is the matching classes' member bitmaps (saved-search ids), disjoint, read
//! a 64-bit word at a time. An alert matches iff its search would return the offer.

pub mod explain;
mod sets;
pub mod verify;

use std::collections::HashMap;
use std::sync::Arc;

use roaring::RoaringBitmap;
use sets::{Bits, ClassSet, and_words, for_each_bit, has, set, slot};
use time::OffsetDateTime;

use crate::domain::account::Frequency;
use crate::domain::local_time::Zone;
use crate::domain::{Facet, Offer, SearchParams, Since};
use crate::index::query::{ParsedQuery, parse};
use crate::index::synonyms::{Alternative, Synonyms};
pub use verify::OfferText;

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

/// Values held once each, with the number of holders: alerts repeat criteria and popular
/// queries ("informatique", "juriste"), so each is stored, filed and verified once.
struct Interned<T> {
    /// A value and its number of holders; `None` when the slot is free.
    held: Vec<Option<(T, u32)>>,
    /// Hash of a value → its slot (a value whose hash collides gets a slot of its own).
    by_hash: HashMap<u64, u32, verify::FxBuild>,
    free: Vec<u32>,
}

impl<T> Default for Interned<T> {
    fn default() -> Self {
        Interned {
            held: Vec::new(),
            by_hash: HashMap::default(),
            free: Vec::new(),
        }
    }
}

impl<T: std::hash::Hash + Eq> Interned<T> {
    fn hash(v: &T) -> u64 {
        use std::hash::BuildHasher;
        verify::FxBuild::default().hash_one(v)
    }

    /// The slot of `v` (shared with its other holders) and whether it is new.
    fn intern(&mut self, v: T) -> (u32, bool) {
        let h = Interned::hash(&v);
        if let Some(&slot) = self.by_hash.get(&h)
            && let Some((held, count)) = &mut self.held[slot as usize]
            && *held == v
        {
            *count += 1;
            return (slot, false);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.held[slot as usize] = Some((v, 1));
                slot
            }
            None => {
                self.held.push(Some((v, 1)));
                (self.held.len() - 1) as u32
            }
        };
        self.by_hash.entry(h).or_insert(slot);
        (slot, true)
    }

    fn get(&self, slot: u32) -> Option<&T> {
        self.held.get(slot as usize)?.as_ref().map(|(v, _)| v)
    }

    /// One holder less for the value in `slot`; returns the value when none holds it now.
    fn release(&mut self, slot: u32) -> Option<T> {
        let entry = self.held.get_mut(slot as usize)?;
        let (_, count) = entry.as_mut()?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        let (v, _) = entry.take()?;
        let h = Interned::hash(&v);
        if self.by_hash.get(&h) == Some(&slot) {
            self.by_hash.remove(&h);
        }
        self.free.push(slot);
        Some(v)
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        self.held.iter().flatten().map(|(v, _)| v)
    }
}

/// What the alerts of one class share: their facet values, fixed date and keyword query.
#[derive(PartialEq, Eq, Hash)]
struct Criteria {
    /// (facet, value) pairs, sorted.
    filters: Box<[(u8, u16)]>,
    /// `published_since` as a fixed instant (unix seconds), `i64::MIN` when none.
    since: i64,
    /// The query's slot, [`NO_QUERY`] when none.
    query: u32,
    /// `near` + `km`: the place's latitude and longitude (their bits: the very numbers the
    /// search measures from) and the distance; `None` when the alert has none.
    near: Option<(u64, u64, u32)>,
}

/// Grid cells of classes by distance: half a degree of latitude and of longitude.
const CELL_DEGREES: f64 = 0.5;

/// The cell of a position.
fn cell(lat: f64, lon: f64) -> (i16, i16) {
    (
        (lat / CELL_DEGREES).floor() as i16,
        (lon / CELL_DEGREES).floor() as i16,
    )
}

/// The cells a disk of `km` around a position may touch (a superset: the exact distance is
/// checked at match time).
fn disk_cells(lat: f64, lon: f64, km: f64) -> Vec<(i16, i16)> {
    let dlat = km / 111.19 + 0.01;
    let widest = (lat.abs() + dlat).min(89.0).to_radians().cos();
    let dlon = (km / (111.19 * widest) + 0.01).min(180.0);
    let (lat0, lon0) = cell(lat - dlat, lon - dlon);
    let (lat1, lon1) = cell(lat + dlat, lon + dlon);
    let mut out = Vec::new();
    for a in lat0..=lat1 {
        for b in lon0..=lon1 {
            out.push((a, b));
        }
    }
    out
}

/// The classes by distance whose disk may touch one grid cell.
#[derive(Default)]
struct NearCell {
    /// Classes whose disk covers the whole cell: every commune in it is within their distance.
    covering: Vec<u32>,
    /// Classes whose disk covers part of it: the distance is measured at match time.
    partial: Vec<u32>,
}

impl NearCell {
    fn remove(&mut self, class: u32) {
        for list in [&mut self.covering, &mut self.partial] {
            if let Some(at) = list.iter().position(|&c| c == class) {
                list.swap_remove(at);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.covering.is_empty() && self.partial.is_empty()
    }
}

/// True when the disk of `km` around a position covers the whole grid cell `c`: its four
/// corners are within the distance, with a margin far above rounding errors (along a parallel
/// or a meridian, the distance from a point is greatest at an end: over a cell, at a corner).
fn covers(lat: f64, lon: f64, km: f64, c: (i16, i16)) -> bool {
    let (lat0, lon0) = (f64::from(c.0) * CELL_DEGREES, f64::from(c.1) * CELL_DEGREES);
    let (lat1, lon1) = (lat0 + CELL_DEGREES, lon0 + CELL_DEGREES);
    [(lat0, lon0), (lat0, lon1), (lat1, lon0), (lat1, lon1)]
        .into_iter()
        .all(|(a, b)| crate::domain::communes::distance_km(lat, lon, a, b) <= km - 0.001)
}

/// A position as a point of the unit sphere, in `f32`: the straight-line distance between two
/// such points (the chord) grows with the great-circle distance and is a few operations away.
fn unit_vector(lat: f64, lon: f64) -> [f32; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [
        (lat.cos() * lon.cos()) as f32,
        (lat.cos() * lon.sin()) as f32,
        lat.sin() as f32,
    ]
}

/// How far from the boundary of a disk the chord test decides alone: `f32` positions err by
/// less than 1e-7 of the sphere's radius (under a metre); 2e-6 is 13 m.
const CHORD_MARGIN: f32 = 2e-6;

/// A class's disk, to tell at once whether an offer is inside: its centre on the unit sphere
/// and the chord of its radius.
#[derive(Clone, Copy, Default)]
struct Disk {
    centre: [f32; 3],
    chord: f32,
}

impl Disk {
    fn new(lat: f64, lon: f64, km: f64) -> Disk {
        let half_angle = km / (2.0 * crate::domain::communes::EARTH_KM);
        Disk {
            centre: unit_vector(lat, lon),
            chord: (2.0 * half_angle.min(std::f64::consts::FRAC_PI_2).sin()) as f32,
        }
    }

    /// `Some(inside)` when the point `p` is clearly inside or outside, `None` at the edge.
    #[inline]
    fn holds(&self, p: [f32; 3]) -> Option<bool> {
        let d = self.centre.iter().zip(p).map(|(a, b)| (a - b) * (a - b));
        let chord = d.sum::<f32>().sqrt();
        if chord < self.chord - CHORD_MARGIN {
            Some(true)
        } else if chord > self.chord + CHORD_MARGIN {
            Some(false)
        } else {
            None
        }
    }
}

/// What matching an offer works in, kept from one offer to the next by each thread.
#[derive(Default)]
struct Scratch {
    /// The candidate classes, a bit per class slot.
    classes: Vec<u64>,
    /// Classes of a sparse set found among the candidates.
    kept: Vec<u32>,
    /// The classes by distance whose disk covers the offer's cell in part (all 0 between
    /// offers).
    measured: Vec<u64>,
    /// The matching classes.
    out: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// No keyword query.
const NO_QUERY: u32 = u32::MAX;
/// An alert that is not active.
const NO_CLASS: u32 = u32::MAX;

/// The in-memory alert index.
#[derive(Default)]
pub struct Percolator {
    /// The class of each saved search, by id ([`NO_CLASS`]: not active).
    class_of: Vec<u32>,
    /// Number of active alerts.
    alerts: usize,
    classes: Interned<Criteria>,
    /// Each class's alerts (saved-search ids), by class.
    members: Vec<RoaringBitmap>,
    queries: Interned<ParsedQuery>,
    /// The sets below hold classes (live ones: every class of `all`).
    all: Bits,
    /// Per facet and value, the classes naming that value.
    values: Vec<Vec<ClassSet>>,
    /// Per facet, the classes that do not constrain it.
    unconstrained: Vec<Bits>,
    anchors: HashMap<Box<str>, ClassSet, verify::FxBuild>,
    no_keywords: Bits,
    /// Keyword classes that any of their anchors satisfies (one word, one quoted word, one
    /// reference, or one synonym group of single words): finding an anchor among the offer's
    /// terms is the verification.
    anchor_is_query: Bits,
    /// Classes with a fixed `published_since`.
    with_since: Bits,
    /// Classes with a distance criterion.
    with_near: Bits,
    /// Per grid cell, the classes with a distance criterion whose disk may touch it.
    near_cells: HashMap<(i16, i16), NearCell, verify::FxBuild>,
    /// The disk of each class by distance, by class (a small array read at random where the
    /// criteria would be a cache miss each).
    disks: Vec<Disk>,
    /// The account of each saved search, by id (0: not told), so that a percolation's matches
    /// become outbox rows without reading the saved searches back.
    owners: Vec<u64>,
    /// Saved searches whose alert is a daily digest.
    daily: RoaringBitmap,
    /// The portal's zone (an offer's diffusion ends at its local midnight).
    zone: Zone,
    /// The synonym list alerts' keywords are read with.
    synonyms: Arc<Synonyms>,
}

/// The alerts an offer matches: the member bitmaps of the matching classes (disjoint).
pub struct Matches<'a> {
    classes: Vec<&'a RoaringBitmap>,
}

impl Matches<'_> {
    /// Number of alerts matched.
    pub fn len(&self) -> u64 {
        self.classes.iter().map(|b| b.len()).sum()
    }

    /// True when no alert matched.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The matched saved searches, class after class.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.classes.iter().flat_map(|b| b.iter().map(u64::from))
    }

    /// The matched saved searches as one bitmap.
    pub fn to_bitmap(&self) -> RoaringBitmap {
        use roaring::MultiOps;
        self.classes.iter().copied().union()
    }
}

/// The anchor key of a stemmed term, a folded term or a reference.
fn key(kind: char, t: &str) -> String {
    format!("{kind}:{t}")
}

/// True when finding any of the query's anchors among an offer's terms is enough.
fn anchor_is_query(q: &ParsedQuery) -> bool {
    let required = q.terms.len() + q.exact_terms.len() + q.references.len();
    let single = |a: &Alternative| a.terms.len() + a.exact_terms.len() == 1;
    q.phrases.is_empty()
        && match (required, q.any_of.as_slice()) {
            (1, []) => true,
            (0, [group]) => group.iter().all(single),
            _ => false,
        }
}

impl Percolator {
    /// An empty percolator, reading keywords with `synonyms`, in the portal's `zone`.
    pub fn new(zone: Zone, synonyms: Arc<Synonyms>) -> Self {
        Percolator {
            zone,
            synonyms,
            values: Facet::ALL
                .iter()
                .map(|f| vec![ClassSet::default(); f.values().len()])
                .collect(),
            unconstrained: vec![Bits::default(); Facet::COUNT],
            ..Percolator::default()
        }
    }

    /// Number of active alerts.
    pub fn len(&self) -> usize {
        self.alerts
    }

    /// True when no alert is active.
    pub fn is_empty(&self) -> bool {
        self.alerts == 0
    }

    /// Number of classes (distinct criteria) of the active alerts.
    pub fn class_count(&self) -> usize {
        self.all.len() as usize
    }

    /// Adds (or replaces) the alert of a saved search. `doc_freq` tells how common an anchor
    /// key is among offers, to file the alert under its rarest required term.
    pub fn insert(&mut self, search: u64, params: &SearchParams, doc_freq: &dyn Fn(&str) -> u64) {
        let query = params.q.as_deref().map(|q| parse(q, &self.synonyms));
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
        let Ok(id) = u32::try_from(search) else {
            // Four billion saved searches: far beyond any portal; said rather than wrapped.
            tracing::error!(
                search,
                "saved-search id beyond the percolator's range: alert off"
            );
            return;
        };
        let query = query.filter(|p| !p.is_empty());
        let mut filters: Vec<(u8, u16)> = (0u8..)
            .zip(&params.filters)
            .flat_map(|(i, f)| f.iter().map(move |&v| (i, v)))
            .collect();
        filters.sort_unstable();
        filters.dedup();
        let since = match params.published_since {
            Some(Since::Time(t)) => t.unix_timestamp(),
            _ => i64::MIN,
        };
        let (query_slot, anchors) = match query {
            Some(q) => {
                let anchors = choose_anchors(&q, doc_freq);
                let whole = anchor_is_query(&q);
                let (slot, _) = self.queries.intern(q);
                (slot, Some((anchors, whole)))
            }
            None => (NO_QUERY, None),
        };
        let (class, new) = self.classes.intern(Criteria {
            filters: filters.into_boxed_slice(),
            since,
            query: query_slot,
            near: params
                .near
                .as_ref()
                .map(|n| (n.place.lat.to_bits(), n.place.lon.to_bits(), n.km)),
        });
        if !new && query_slot != NO_QUERY {
            self.queries.release(query_slot); // the class already holds the query
        }
        if new {
            self.file_class(class, params, anchors);
        }
        let c = class as usize;
        if self.members.len() <= c {
            self.members.resize_with(c + 1, RoaringBitmap::new);
        }
        self.members[c].insert(id);
        if self.class_of.len() <= id as usize {
            self.class_of.resize(id as usize + 1, NO_CLASS);
        }
        self.class_of[id as usize] = class;
        self.alerts += 1;
    }

    /// Files a new class in the bitmaps.
    fn file_class(
        &mut self,
        class: u32,
        params: &SearchParams,
        anchors: Option<(Vec<String>, bool)>,
    ) {
        let slots = self.classes.held.len();
        if matches!(params.published_since, Some(Since::Time(_))) {
            self.with_since.insert(class);
        }
        if let Some(n) = &params.near {
            self.with_near.insert(class);
            let (lat, lon, km) = (n.place.lat, n.place.lon, f64::from(n.km));
            if self.disks.len() <= class as usize {
                self.disks.resize(class as usize + 1, Disk::default());
            }
            self.disks[class as usize] = Disk::new(lat, lon, km);
            for c in disk_cells(lat, lon, km) {
                let cell = self.near_cells.entry(c).or_default();
                match covers(lat, lon, km, c) {
                    true => cell.covering.push(class),
                    false => cell.partial.push(class),
                }
            }
        }
        for (i, f) in params.filters.iter().enumerate() {
            if f.is_empty() {
                self.unconstrained[i].insert(class);
            } else {
                for &v in f.iter() {
                    let values = &mut self.values[i];
                    if values.len() <= v as usize {
                        // An administration added since the percolator was made.
                        values.resize(v as usize + 1, ClassSet::default());
                    }
                    values[v as usize].insert(class, slots);
                }
            }
        }
        match anchors {
            Some((anchors, whole)) if !anchors.is_empty() => {
                if whole {
                    self.anchor_is_query.insert(class);
                }
                for a in anchors {
                    self.anchors
                        .entry(a.into_boxed_str())
                        .or_default()
                        .insert(class, slots);
                }
            }
            _ => {
                self.no_keywords.insert(class);
            }
        }
        self.all.insert(class);
    }

    /// Records whose alert a saved search is and how often it mails (after an insert).
    pub fn set_owner(&mut self, search: u64, account: u64, frequency: Frequency) {
        let Ok(id) = u32::try_from(search) else {
            return;
        };
        if self.owners.len() <= id as usize {
            self.owners.resize(id as usize + 1, 0);
        }
        self.owners[id as usize] = account;
        match frequency {
            Frequency::Daily => self.daily.insert(id),
            Frequency::Immediate => self.daily.remove(id),
        };
    }

    /// The account and frequency of an active alert, when they were recorded.
    pub fn owner(&self, search: u64) -> Option<(u64, Frequency)> {
        let id = u32::try_from(search).ok()?;
        let account = *self.owners.get(id as usize)?;
        let active = self
            .class_of
            .get(id as usize)
            .is_some_and(|&c| c != NO_CLASS);
        let frequency = match self.daily.contains(id) {
            true => Frequency::Daily,
            false => Frequency::Immediate,
        };
        (active && account != 0).then_some((account, frequency))
    }

    /// The saved searches of an account that have an active alert here.
    pub fn alerts_of(&self, account: u64) -> Vec<u64> {
        self.owners
            .iter()
            .enumerate()
            .filter(|&(_, &a)| a == account)
            .map(|(id, _)| id as u64)
            .filter(|&id| self.owner(id).is_some())
            .collect()
    }

    /// Removes the alert of a saved search, if present.
    pub fn remove(&mut self, search: u64) {
        let Some(slot) = usize::try_from(search)
            .ok()
            .and_then(|s| self.class_of.get_mut(s))
        else {
            return;
        };
        let class = std::mem::replace(slot, NO_CLASS);
        if class == NO_CLASS {
            return;
        }
        self.alerts -= 1;
        if let Some(owner) = self.owners.get_mut(search as usize) {
            *owner = 0;
        }
        self.members[class as usize].remove(search as u32);
        let Some(criteria) = self.classes.release(class) else {
            return;
        };
        // The class's last alert: out of every bitmap.
        self.all.remove(class);
        self.with_since.remove(class);
        if let Some((lat, lon, km)) = criteria.near {
            self.with_near.remove(class);
            let (lat, lon) = (f64::from_bits(lat), f64::from_bits(lon));
            for c in disk_cells(lat, lon, f64::from(km)) {
                if let Some(cell) = self.near_cells.get_mut(&c) {
                    cell.remove(class);
                    if cell.is_empty() {
                        self.near_cells.remove(&c);
                    }
                }
            }
        }
        self.anchor_is_query.remove(class);
        self.no_keywords.remove(class);
        self.members[class as usize] = RoaringBitmap::new();
        for (unconstrained, values) in self.unconstrained.iter_mut().zip(&mut self.values) {
            unconstrained.remove(class);
            for b in values.iter_mut() {
                b.remove(class);
            }
        }
        if let Some(q) = self.queries.get(criteria.query) {
            for k in anchor_keys(q) {
                if let Some(b) = self.anchors.get_mut(k.as_str()) {
                    b.remove(class);
                    if b.is_empty() {
                        self.anchors.remove(k.as_str());
                    }
                }
            }
            self.queries.release(criteria.query);
        }
    }

    /// The saved searches whose search returns `offer` at `now` (its first publication).
    pub fn matches(&self, offer: &Offer, now: OffsetDateTime) -> Matches<'_> {
        let mut matched = Matches {
            classes: Vec::new(),
        };
        if !offer.is_visible(now, &self.zone) || self.all.is_empty() {
            return matched;
        }
        SCRATCH.with_borrow_mut(|scratch| {
            self.matching_classes(offer, now, scratch);
            matched.classes = scratch
                .out
                .iter()
                .filter_map(|&c| self.members.get(c as usize))
                .collect();
        });
        matched
    }

    /// Leaves in `scratch.out` the classes whose search returns `offer`, in class order.
    fn matching_classes(&self, offer: &Offer, now: OffsetDateTime, scratch: &mut Scratch) {
        let Scratch {
            classes,
            kept,
            measured,
            out,
        } = scratch;
        out.clear();
        // Every class but those by distance, then those whose disk may reach the offer's cell.
        classes.clear();
        classes.extend_from_slice(self.all.words());
        for (c, &n) in classes.iter_mut().zip(self.with_near.words()) {
            *c &= !n;
        }
        let place = offer
            .fields
            .commune
            .as_deref()
            .and_then(|c| crate::domain::communes::communes().by_code(c));
        let touching = place.and_then(|c| Some((c, self.near_cells.get(&cell(c.lat, c.lon))?)));
        if let Some((_, t)) = touching {
            for &c in &t.covering {
                set(classes, c);
            }
            // The disks covering the cell in part are marked to be measured at the end.
            measured.resize(classes.len(), 0);
            for &c in &t.partial {
                set(classes, c);
                set(measured, c);
            }
        }
        // Facets: per facet some class constrains, the classes that leave it free or name the
        // offer's value.
        let ords = offer.fields.facet_ordinals();
        let total = self.all.len();
        for (i, ord) in ords.iter().enumerate() {
            let free = &self.unconstrained[i];
            if free.len() == total {
                continue;
            }
            match ord.and_then(|o| self.values[i].get(o as usize)) {
                Some(named) if !named.is_empty() => named.restrict(classes, free, kept),
                _ => and_words(classes, free),
            }
        }
        let published = offer.published_at.unwrap_or(now).unix_timestamp();
        let since_ok = |class: u32| {
            !self.with_since.contains(class)
                || self
                    .classes
                    .get(class)
                    .is_some_and(|c| published >= c.since)
        };
        // Without keywords: the facets (and the date) were the whole search.
        for (w, (&c, &plain)) in classes.iter().zip(self.no_keywords.words()).enumerate() {
            for_each_bit(w, c & plain, |class| {
                if since_ok(class) {
                    out.push(class);
                }
            });
        }
        if !self.anchors.is_empty() {
            let text = OfferText::new(offer);
            // Each distinct query is verified once.
            let mut verdicts: HashMap<u32, bool, verify::FxBuild> = HashMap::default();
            text.for_each_anchor_key(|k| {
                let Some(set) = self.anchors.get(k) else {
                    return;
                };
                set.take_from(classes, |class| {
                    if self.anchor_is_query.contains(class) && !self.with_since.contains(class) {
                        out.push(class);
                        return;
                    }
                    let Some(c) = self.classes.get(class) else {
                        return;
                    };
                    let yes = published >= c.since
                        && *verdicts.entry(c.query).or_insert_with(|| {
                            self.queries.get(c.query).is_none_or(|q| text.satisfies(q))
                        });
                    if yes {
                        out.push(class);
                    }
                });
            });
        }
        // Last, the exact distance, measured as the search measures, for the classes whose
        // disk covers the offer's cell in part.
        if let Some((place, t)) = touching
            && !t.partial.is_empty()
        {
            let point = unit_vector(place.lat, place.lon);
            out.retain(|&class| !has(measured, class) || self.reaches(class, place, point));
            for &c in &t.partial {
                measured[slot(c).0] = 0;
            }
        }
        out.sort_unstable();
    }

    /// True when the offer's commune `place` (`point` on the unit sphere) is within the
    /// distance of the class `class`: the chord tells, or at the edge the search's measure.
    fn reaches(
        &self,
        class: u32,
        place: &crate::domain::communes::Commune,
        point: [f32; 3],
    ) -> bool {
        if let Some(inside) = self.disks.get(class as usize).and_then(|d| d.holds(point)) {
            return inside;
        }
        let Some((lat, lon, km)) = self.classes.get(class).and_then(|k| k.near) else {
            return true;
        };
        let (lat, lon) = (f64::from_bits(lat), f64::from_bits(lon));
        crate::domain::communes::distance_km(lat, lon, place.lat, place.lon) <= f64::from(km)
    }

    /// Approximate heap bytes held (bitmaps, criteria, queries, maps).
    pub fn memory_bytes(&self) -> usize {
        let bits: usize = (self.unconstrained.iter())
            .chain([
                &self.all,
                &self.no_keywords,
                &self.anchor_is_query,
                &self.with_since,
                &self.with_near,
            ])
            .map(Bits::heap_bytes)
            .sum();
        let sets: usize = (self.values.iter().flatten())
            .chain(self.anchors.values())
            .map(ClassSet::heap_bytes)
            .sum();
        let cells: usize = (self.near_cells.values())
            .map(|c| {
                std::mem::size_of::<NearCell>() + 4 * (c.covering.capacity() + c.partial.capacity())
            })
            .sum();
        let bitmaps: usize = (self.members.iter())
            .chain([&self.daily])
            .map(|b| b.serialized_size() + std::mem::size_of::<RoaringBitmap>())
            .sum();
        let queries: usize = self
            .queries
            .values()
            .map(|q| {
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
            .sum();
        let classes: usize = self
            .classes
            .values()
            .map(|c| std::mem::size_of::<Criteria>() + 8 + c.filters.len() * 4)
            .sum();
        let maps = self.anchors.capacity() * 40
            + (self.queries.by_hash.capacity() + self.classes.by_hash.capacity()) * 16;
        bits + sets
            + cells
            + bitmaps
            + queries
            + classes
            + maps
            + self.class_of.capacity() * 4
            + self.owners.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Reference;
    use crate::fixtures::{Generator, to_json_line};
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-11-20 10:00 UTC);

    fn offer() -> Offer {
        let o = Generator::new(4, date!(2026 - 11 - 20)).next().unwrap();
        let fields = serde_json::from_str::<crate::domain::OfferInput>(&to_json_line(&o))
            .unwrap()
            .validate(crate::domain::DateRule::Import)
            .unwrap();
        Offer::published(
            1,
            Reference {
                prefix: 'S',
                year: 2026,
                number: 1,
            },
            fields,
            NOW,
        )
    }

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        SearchParams::from_str_pairs(pairs).unwrap()
    }

    fn matched(p: &Percolator, o: &Offer) -> Vec<u64> {
        let m = p.matches(o, NOW);
        let mut ids: Vec<u64> = m.iter().collect();
        ids.sort_unstable();
        assert_eq!(m.len(), ids.len() as u64);
        assert_eq!(m.to_bitmap().iter().map(u64::from).collect::<Vec<_>>(), ids);
        ids
    }

    #[test]
    fn the_chord_test_agrees_with_the_search_measure_or_leaves_it_the_call() {
        let communes = crate::domain::communes::communes();
        let n = communes.len() as u64;
        // Pairs at random distances; pairs measured at their very distance.
        let (mut decided, mut edge, mut on_edge) = (0, 0, 0);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..200_000 {
            let a = communes.get((next() % n) as u16).unwrap();
            let b = communes.get((next() % n) as u16).unwrap();
            let km = [5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0][(next() % 7) as usize];
            // Points on the edge too: half the pairs (when in range) measure at their very distance.
            let d = crate::domain::communes::distance_km(a.lat, a.lon, b.lat, b.lon);
            let at_edge = next() % 2 == 0 && (5.0..200.0).contains(&d);
            let km = if at_edge { d } else { km };
            let disk = Disk::new(a.lat, a.lon, km);
            match disk.holds(unit_vector(b.lat, b.lon)) {
                Some(inside) => {
                    assert_eq!(
                        inside,
                        d <= km,
                        "{} → {} ({d} km) within {km}",
                        a.code,
                        b.code
                    );
                    decided += 1;
                }
                None if at_edge => on_edge += 1,
                None => edge += 1,
            }
        }
        assert!(
            on_edge > 1000 && decided > 1000 * edge.max(1),
            "{decided} decided, {edge} at the edge"
        );
    }

    #[test]
    fn alerts_with_the_same_criteria_share_a_class_and_leave_it_one_by_one() {
        let o = offer();
        let contract = o.fields.contract.code();
        let other = if contract == "stage" {
            "apprentissage"
        } else {
            "stage"
        };
        let word = o
            .fields
            .title
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let df = |_: &str| 1;
        let mut p = Percolator::new(Zone::default(), Arc::new(Synonyms::builtin()));
        let same = params(&[("contract", contract)]);
        let elsewhere = params(&[("contract", other)]);
        p.insert(1, &same, &df);
        p.insert(2, &same, &df);
        p.insert(3, &elsewhere, &df);
        p.set_owner(2, 40, Frequency::Daily);
        p.set_owner(3, 41, Frequency::Immediate);
        assert_eq!(p.owner(2), Some((40, Frequency::Daily)));
        assert_eq!(
            (p.owner(1), p.owner(3)),
            (None, Some((41, Frequency::Immediate)))
        );
        assert_eq!((p.len(), p.class_count()), (3, 2));
        assert_eq!(matched(&p, &o), [1, 2]);
        p.remove(1);
        assert_eq!(matched(&p, &o), [2]);
        p.remove(3);
        assert_eq!(p.owner(3), None);
        p.insert(3, &elsewhere, &df);
        // Replacing an alert's criteria moves it to another class.
        p.insert(1, &elsewhere, &df);
        p.insert(2, &elsewhere, &df);
        assert_eq!(matched(&p, &o), Vec::<u64>::new());
        assert_eq!((p.len(), p.class_count()), (3, 1));
        // A freed class is taken again by other criteria; a keyword class verifies once.
        let keyword = params(&[("contract", contract), ("q", &word)]);
        p.insert(4, &keyword, &df);
        p.insert(5, &keyword, &df);
        let missing = params(&[("contract", contract), ("q", "zzzyxw")]);
        p.insert(6, &missing, &df);
        assert_eq!(matched(&p, &o), [4, 5]);
        assert_eq!((p.len(), p.class_count()), (6, 3));
        p.remove(4);
        p.remove(5);
        p.remove(6);
        p.remove(6);
        assert_eq!(matched(&p, &o), Vec::<u64>::new());
        assert_eq!((p.len(), p.class_count()), (3, 1));
        p.insert(7, &same, &df);
        assert_eq!(matched(&p, &o), [7]);
        // A fixed date after the publication keeps the alert quiet.
        let later = params(&[
            ("contract", contract),
            ("published_since", "2026-12-01T00:00:00Z"),
        ]);
        p.insert(8, &later, &df);
        assert_eq!(matched(&p, &o), [7]);
    }
}
