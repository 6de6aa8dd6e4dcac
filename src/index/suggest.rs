//! Search as you type: completions of a prefix from the visible offers' titles (words and
//! pairs of words), towns, services and administrations, ranked by how many visible offers hold
//! them, plus references. Accents and case do not matter ("ingé" → "ingénieur").
//!
//! The [`Suggester`] is kept by the index writer thread, which applies each change of the store
//! to it right after the index commit that makes the change searchable, so suggestions and
//! search agree. Each offer's entries are remembered (by store id) to take them away when it is
//! archived or changed; an offer whose diffusion ends is taken away at the first request after
//! its end. References are read from the index's term dictionary, not kept in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{DocSet, Searcher, TERMINATED, Term};

use super::schema::{OfferSchema, analyze, folded_key, fr_exact, fr_stem};
use crate::domain::Offer;
use crate::domain::local_time::Zone;

/// What a suggestion completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuggestionKind {
    /// A word or a pair of words of titles.
    Title,
    /// A town (the offer's location).
    Location,
    /// A service's name.
    Service,
    /// An administration's label.
    Administration,
    /// An offer's reference.
    Reference,
}

impl SuggestionKind {
    /// The kind's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            SuggestionKind::Title => "title",
            SuggestionKind::Location => "location",
            SuggestionKind::Service => "service",
            SuggestionKind::Administration => "administration",
            SuggestionKind::Reference => "reference",
        }
    }
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// As the offers write it.
    pub text: String,
    /// What it is.
    pub kind: SuggestionKind,
    /// Visible offers holding it.
    pub count: u64,
}

struct Entry {
    key: Box<str>,
    kind: SuggestionKind,
    /// Visible offers holding it.
    count: u32,
    /// Ways the offers write it, with how often each was seen.
    forms: Vec<(Box<str>, u32)>,
}

/// The completions of the visible offers.
pub struct Suggester {
    /// Filled from the store (a server asks for it; commands do without).
    ready: bool,
    keys: BTreeMap<(Box<str>, SuggestionKind), u32>,
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// Per store id, the offer's end of diffusion and the entries it holds.
    offers: Vec<Option<(i64, Box<[u32]>)>>,
    /// No offer held ends its diffusion before this instant (a lower bound: ends fall at
    /// local midnights, so the sweep that makes it exact again runs about once a day).
    first_end: i64,
}

/// The analyzers a suggester reads texts with.
pub struct Analyzers {
    stem: TextAnalyzer,
    exact: TextAnalyzer,
}

impl Default for Analyzers {
    fn default() -> Self {
        Analyzers {
            stem: fr_stem(),
            exact: fr_exact(),
        }
    }
}

/// A text without its parenthesised parts ("Apprenti(e) … (F/H)" → "Apprenti …").
fn without_parentheses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The title's words and pairs of words: (key, form). The title's first word loses its
/// capital (it is there by position).
fn title_entries(title: &str, a: &mut Analyzers) -> Vec<(String, String)> {
    let text = without_parentheses(title);
    struct Word {
        folded: String,
        from: usize,
        to: usize,
        stop: bool,
    }
    let mut words: Vec<Word> = Vec::new();
    let mut stream = a.exact.token_stream(&text);
    while stream.advance() {
        let t = stream.token();
        let elided = text[t.offset_to..].starts_with(['\'', '’']);
        if t.text.chars().count() < 2 && !elided {
            continue;
        }
        words.push(Word {
            folded: t.text.clone(),
            from: t.offset_from,
            to: t.offset_to,
            stop: false,
        });
    }
    drop(stream);
    for w in &mut words {
        w.stop = analyze(&mut a.stem, &text[w.from..w.to]).is_empty();
    }
    let form = |from: usize, to: usize| -> String {
        let s = &text[from..to];
        if from == words.first().map_or(0, |w| w.from) {
            let mut c = s.chars();
            let first: String = c
                .next()
                .map(|f| f.to_lowercase().collect())
                .unwrap_or_default();
            // Keep capitals of an acronym ("RH …").
            if s.chars().take(2).all(char::is_uppercase) {
                return s.to_string();
            }
            return first + c.as_str();
        }
        s.to_string()
    };
    let mut out = Vec::new();
    let content: Vec<usize> = (0..words.len()).filter(|&i| !words[i].stop).collect();
    for (n, &i) in content.iter().enumerate() {
        out.push((words[i].folded.clone(), form(words[i].from, words[i].to)));
        if let Some(&j) = content.get(n + 1)
            && j - i <= 3
        {
            let key: Vec<&str> = words[i..=j].iter().map(|w| w.folded.as_str()).collect();
            out.push((key.join(" "), form(words[i].from, words[j].to)));
        }
    }
    out
}

/// Makes room for `more` items by a 1/32 step rather than by doubling: once filled, the
/// suggester grows one offer at a time and should not double what it holds for one.
fn grow_gently<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve_exact(more.max(v.len() / 32).max(16));
    }
}

impl Default for Suggester {
    fn default() -> Self {
        Suggester {
            ready: false,
            keys: BTreeMap::new(),
            entries: Vec::new(),
            free: Vec::new(),
            offers: Vec::new(),
            first_end: i64::MAX,
        }
    }
}

impl Suggester {
    /// True once filled from the store.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Marks the suggester filled, and hands back what its vectors grew by doubling (a few
    /// MB at 100k offers): changes come one offer at a time from then on.
    pub fn set_ready(&mut self) {
        self.ready = true;
        self.entries.shrink_to_fit();
        self.offers.shrink_to_fit();
        self.free.shrink_to_fit();
        for e in self.entries.iter_mut().flatten() {
            e.forms.shrink_to_fit();
        }
    }

    /// Forgets everything (before a refill).
    pub fn clear(&mut self) {
        *self = Suggester::default();
    }

    /// Number of distinct completions held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no completion is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn entry_id(&mut self, key: String, kind: SuggestionKind, form: String) -> u32 {
        let k = (key.into_boxed_str(), kind);
        if let Some(&id) = self.keys.get(&k) {
            let e = self.entries[id as usize].as_mut().expect("entry of a key");
            match e.forms.iter_mut().find(|(f, _)| **f == *form) {
                Some((_, n)) => *n += 1,
                None => e.forms.push((form.into_boxed_str(), 1)),
            }
            return id;
        }
        let entry = Entry {
            key: k.0.clone(),
            kind,
            count: 0,
            forms: vec![(form.into_boxed_str(), 1)],
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(entry);
                id
            }
            None => {
                grow_gently(&mut self.entries, 1);
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as u32
            }
        };
        self.keys.insert(k, id);
        id
    }

    /// Takes an offer's entries away (archived, changed, deleted, or its diffusion ended).
    pub fn remove(&mut self, id: u64) {
        let Some((_, held)) = self.offers.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        for &e in held.iter() {
            let Some(entry) = self.entries[e as usize].as_mut() else {
                continue;
            };
            entry.count -= 1;
            if entry.count == 0 {
                let entry = self.entries[e as usize].take().expect("entry");
                self.keys.remove(&(entry.key, entry.kind));
                self.free.push(e);
            }
        }
    }

    /// Adds a published offer's entries (replacing those it had).
    pub fn insert(&mut self, offer: &Offer, a: &mut Analyzers, zone: &Zone) {
        self.remove(offer.id);
        let f = &offer.fields;
        let mut found: Vec<(String, SuggestionKind, String)> = title_entries(&f.title, a)
            .into_iter()
            .map(|(k, form)| (k, SuggestionKind::Title, form))
            .collect();
        let whole = [
            (f.location.as_deref(), SuggestionKind::Location),
            (Some(f.service.as_str()), SuggestionKind::Service),
            (
                Some(f.administration.label()),
                SuggestionKind::Administration,
            ),
        ];
        for (text, kind) in whole {
            if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
                let key = folded_key(&mut a.exact, t);
                if !key.is_empty() {
                    found.push((key, kind, t.to_string()));
                }
            }
        }
        let mut ids: Vec<u32> = Vec::with_capacity(found.len());
        for (key, kind, form) in found {
            let e = self.entry_id(key, kind, form);
            if !ids.contains(&e) {
                ids.push(e);
            }
        }
        for &e in &ids {
            if let Some(entry) = self.entries[e as usize].as_mut() {
                entry.count += 1;
            }
        }
        let slot = offer.id as usize;
        if self.offers.len() <= slot {
            let more = slot + 1 - self.offers.len();
            grow_gently(&mut self.offers, more);
            self.offers.resize(slot + 1, None);
        }
        let end = offer.visible_until(zone).unix_timestamp();
        self.offers[slot] = Some((end, ids.into_boxed_slice()));
        self.first_end = self.first_end.min(end);
    }

    /// True when an offer held has ended its diffusion at `now`.
    pub fn has_ended(&self, now: i64) -> bool {
        self.first_end <= now
    }

    /// Takes away the offers whose diffusion has ended at `now` (one pass over the offers).
    pub fn remove_ended(&mut self, now: i64) {
        let ended: Vec<u64> = self
            .offers
            .iter()
            .enumerate()
            .filter(|(_, o)| o.as_ref().is_some_and(|(end, _)| *end <= now))
            .map(|(id, _)| id as u64)
            .collect();
        for id in ended {
            self.remove(id);
        }
        self.first_end = self
            .offers
            .iter()
            .flatten()
            .map(|(end, _)| *end)
            .min()
            .unwrap_or(i64::MAX);
    }

    /// How the offers' titles most often write the folded `word` (`ingenieur` → `ingénieur`),
    /// when a title holds it.
    pub fn written(&self, word: &str) -> Option<&str> {
        let e = *self
            .keys
            .get(&(Box::<str>::from(word), SuggestionKind::Title))?;
        let x = self.entries[e as usize].as_ref()?;
        x.forms
            .iter()
            .max_by_key(|(f, n)| (*n, std::cmp::Reverse(f.len())))
            .map(|(f, _)| &**f)
    }

    /// The best `limit` completions of `prefix` (already a key: folded words), most offers
    /// first.
    pub fn complete(&self, prefix: &str, limit: usize) -> Vec<Suggestion> {
        if prefix.is_empty() || limit == 0 {
            return Vec::new();
        }
        let start = (Box::<str>::from(prefix), SuggestionKind::Title);
        let mut best: Vec<(u32, u32)> = Vec::new(); // (count, entry)
        for ((key, _), &e) in self.keys.range((Bound::Included(start), Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                break;
            }
            let count = self.entries[e as usize].as_ref().map_or(0, |x| x.count);
            best.push((count, e));
        }
        let rank = |&(count, e): &(u32, u32)| {
            let x = self.entries[e as usize].as_ref().expect("entry");
            (std::cmp::Reverse(count), x.kind, x.key.len(), e)
        };
        if best.len() > limit {
            best.select_nth_unstable_by_key(limit - 1, rank);
            best.truncate(limit);
        }
        best.sort_unstable_by_key(rank);
        best.iter()
            .filter_map(|&(count, e)| {
                let x = self.entries[e as usize].as_ref()?;
                let form = x
                    .forms
                    .iter()
                    .max_by_key(|(f, n)| (*n, std::cmp::Reverse(f.len())))?;
                Some(Suggestion {
                    text: form.0.to_string(),
                    kind: x.kind,
                    count: u64::from(count),
                })
            })
            .collect()
    }
}

impl super::SearchIndex {
    /// The best `limit` completions of what a person typed, at `now`: references when it looks
    /// like one, then titles' words, towns, services and administrations, most offers first.
    pub fn suggest(
        &self,
        typed: &str,
        now: i64,
        limit: usize,
    ) -> crate::error::Result<Vec<Suggestion>> {
        let lock = &self.suggester;
        if lock
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .has_ended(now)
        {
            lock.write()
                .unwrap_or_else(|p| p.into_inner())
                .remove_ended(now);
        }
        let prefixes = reference_prefixes(typed);
        let mut out: Vec<Suggestion> = if prefixes.is_empty() {
            Vec::new()
        } else {
            visible_references(&self.reader.searcher(), self.schema, &prefixes, now, limit)?
                .into_iter()
                .map(|text| Suggestion {
                    text,
                    kind: SuggestionKind::Reference,
                    count: 1,
                })
                .collect()
        };
        let mut key = folded_key(&mut fr_exact(), typed);
        if !key.is_empty() && typed.ends_with(char::is_whitespace) {
            key.push(' ');
        }
        let rest = limit - out.len().min(limit);
        out.extend(
            lock.read()
                .unwrap_or_else(|p| p.into_inner())
                .complete(&key, rest),
        );
        Ok(out)
    }
}

/// The reference forms a prefix may start: `A-2026-00…`, `S-2026…`, or `2026-00…` (both kinds).
pub fn reference_prefixes(q: &str) -> Vec<String> {
    let q = q.trim().to_ascii_uppercase();
    let digits_dash = |s: &str| {
        s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && !s.is_empty()
            && s.len() <= 9
            && s.split('-').count() <= 2
    };
    match q.as_bytes() {
        [k @ (b'A' | b'S'), b'-', rest @ ..] if !rest.is_empty() && digits_dash(&q[2..]) => {
            let _ = k;
            vec![q]
        }
        [a, b, c, d, ..] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) && digits_dash(&q) => {
            vec![format!("A-{q}"), format!("S-{q}")]
        }
        _ => Vec::new(),
    }
}

/// The references starting with one of `prefixes` of visible offers at `now`, in order, at
/// most `limit`.
pub fn visible_references(
    searcher: &Searcher,
    schema: &OfferSchema,
    prefixes: &[String],
    now: i64,
    limit: usize,
) -> tantivy::Result<Vec<String>> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let until_name = schema.schema.get_field_name(schema.visible_until);
    for reader in searcher.segment_readers() {
        let inverted = reader.inverted_index(schema.reference)?;
        let until = reader.fast_fields().i64(until_name)?;
        let alive = reader.alive_bitset();
        for prefix in prefixes {
            let mut upper = prefix.clone().into_bytes();
            upper.push(0xff);
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()?;
            let mut seen = 0;
            while stream.advance() && seen < limit {
                let Ok(text) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                let term = Term::from_field_text(schema.reference, text);
                let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let live = alive.is_none_or(|a| a.is_alive(doc));
                    if live && until.first(doc).is_some_and(|u| u > now) {
                        found.insert(text.to_string());
                        seen += 1;
                        break;
                    }
                    doc = postings.advance();
                }
            }
        }
    }
    Ok(found.into_iter().take(limit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_give_words_and_pairs_without_noise() {
        let mut a = Analyzers::default();
        let e = title_entries(
            "Apprenti(e) chargé(e) d'accueil en maison France services (F/H)",
            &mut a,
        );
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert!(keys.contains(&"apprenti"));
        assert!(keys.contains(&"charge d accueil"), "{keys:?}");
        assert!(keys.contains(&"france services"));
        assert!(!keys.iter().any(|k| *k == "e" || *k == "h" || *k == "en"));
        let forms: Vec<&str> = e.iter().map(|(_, f)| f.as_str()).collect();
        assert!(forms.contains(&"chargé d'accueil"));
        assert!(forms.contains(&"apprenti"));
        assert!(forms.contains(&"France"));
    }

    fn offer(id: u64, title: &str, unpublish_on: &str) -> Offer {
        use crate::domain::{DateRule, OfferInput, Reference};
        let fields = OfferInput {
            title: Some(title.into()),
            contract: Some("stage".into()),
            diploma: Some("niveau-6".into()),
            domain: Some("numerique".into()),
            administration: Some("min-culture".into()),
            service: Some(serde_json::json!("Direction générale")),
            country: Some("FR".into()),
            region: Some("11".into()),
            department: Some("75".into()),
            description: Some("Missions".into()),
            start: Some("2027-01".into()),
            contact_email: Some("contact@culture.gouv.fr".into()),
            unpublish_on: Some(unpublish_on.into()),
            ..OfferInput::default()
        }
        .validate(DateRule::Import)
        .unwrap();
        let t = time::macros::datetime!(2026-11-25 12:00 UTC);
        Offer::published(
            id,
            Reference::parse(&format!("S-2026-{id:04}")).unwrap(),
            fields,
            t,
        )
    }

    #[test]
    fn offers_leave_the_suggestions_when_their_diffusion_ends() {
        let mut s = Suggester::default();
        let mut a = Analyzers::default();
        let early = offer(1, "Cartographe", "2026-12-01");
        let late = offer(2, "Cartographe adjoint", "2027-03-01");
        s.insert(&early, &mut a, &Zone::default());
        s.insert(&late, &mut a, &Zone::default());
        let count = |s: &Suggester| s.complete("cartographe", 1)[0].count;
        assert_eq!(count(&s), 2);
        let between = early.visible_until(&Zone::default()).unix_timestamp();
        assert!(!s.has_ended(between - 1));
        assert!(s.has_ended(between));
        s.remove_ended(between);
        assert_eq!(count(&s), 1);
        assert!(!s.has_ended(between + 86_400));
        assert!(s.has_ended(late.visible_until(&Zone::default()).unix_timestamp()));
        s.remove_ended(late.visible_until(&Zone::default()).unix_timestamp());
        assert!(s.complete("cartographe", 1).is_empty());
        assert!(s.is_empty());
    }

    #[test]
    fn references_prefixes_are_recognised() {
        assert_eq!(reference_prefixes("a-2026-00"), vec!["A-2026-00"]);
        assert_eq!(reference_prefixes("2026-0"), vec!["A-2026-0", "S-2026-0"]);
        assert!(reference_prefixes("a").is_empty());
        assert!(reference_prefixes("ingé").is_empty());
        assert!(reference_prefixes("202").is_empty());
    }
}
