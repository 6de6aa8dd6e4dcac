//! Keyword matches read whole into bitsets, for searches that need no score (newest first,
//! nearest first). tantivy intersects posting lists by seeking the others at each document of
//! the shortest, some 25 ns a seek; when the lists are long (`marchés publics` at 1M offers:
//! 70,000 seeks into the 273,000 documents of `public`, and again for `commande publique`)
//! reading each list whole, about 1.5 ns a document, and intersecting 64 documents at a time
//! costs a fraction of it. Short lists keep tantivy's intersection.

use std::sync::{Arc, Mutex};

use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{EnableScoring, PhraseQuery, Query, Scorer, Weight};
use tantivy::schema::{IndexRecordOption, Schema};
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocId, SegmentReader, Term};

use super::query::Plan;

/// How many documents read whole cost as much as one seek (measured: 25 ns against 1.5).
const SEEK_COST: u64 = 16;

/// A term held by at least one document in `DENSE` of a segment is dense: read whole, and its
/// bitset kept with the segment (an eighth of a byte a document: 125 KB at a million) for the
/// next search, as Lucene's query cache keeps the sets of frequent filters. Decoding
/// `stagiaire` (70 % of the offers) took 40 % of a search with three filters.
const DENSE: u64 = 16;

/// A phrase matched by at least one document in `COMMON_PHRASE` of a segment is kept too: its
/// positions are checked at each document holding all its terms (`"chargé de mission"`, 4 % of
/// the offers, spent 60 % of its searches in tantivy's position reads).
const COMMON_PHRASE: u64 = 64;

/// How many sets a segment keeps, the least recently used given up first.
const KEPT: usize = 48;

/// What a kept set is found by: a term (at offset 0), or a phrase's terms at their offsets.
type Key = Vec<(usize, Term)>;

/// A kept set: its key, its bitset and how many documents it holds, and the clock when it was
/// last used.
type Kept = (Key, Arc<Vec<u64>>, u64, u64);

/// The bitsets of a segment's dense terms and common phrases, kept from one search to the
/// next.
#[derive(Default)]
pub(crate) struct KeptSets {
    /// A clock, and each set with when it was last used.
    kept: Mutex<(u64, Vec<Kept>)>,
}

impl KeptSets {
    /// The bitset of `key` and its count, if kept.
    fn get(&self, key: &[(usize, Term)]) -> Option<(Arc<Vec<u64>>, u64)> {
        let mut guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, kept) = &mut *guard;
        *clock += 1;
        let (_, bits, count, used) = kept.iter_mut().find(|(k, ..)| k == key)?;
        *used = *clock;
        Some((bits.clone(), *count))
    }

    /// Keeps `bits` (holding `count` documents) as the set of `key`, giving up the least
    /// recently used past [`KEPT`].
    fn keep(&self, key: Key, bits: Arc<Vec<u64>>, count: u64) {
        let mut guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, kept) = &mut *guard;
        *clock += 1;
        if kept.iter().any(|(k, ..)| *k == key) {
            return; // kept meanwhile by another search
        }
        if kept.len() >= KEPT
            && let Some(oldest) = (0..kept.len()).min_by_key(|&i| kept[i].3)
        {
            kept.swap_remove(oldest);
        }
        kept.push((key, bits, count, *clock));
    }

    /// How many sets are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).1.len()
    }
}

/// A [`Plan`] with its phrases' weights, made once per search.
pub(crate) enum Sets {
    Term(Key),
    Phrase(Key, Box<dyn Weight>),
    All(Vec<Sets>),
    Any(Vec<Sets>),
}

impl Sets {
    pub(crate) fn new(plan: &Plan, schema: &Schema) -> tantivy::Result<Sets> {
        let each = |parts: &[Plan]| -> tantivy::Result<Vec<Sets>> {
            parts.iter().map(|p| Sets::new(p, schema)).collect()
        };
        Ok(match plan {
            Plan::Term(t) => Sets::Term(vec![(0, t.clone())]),
            Plan::Phrase(terms) => Sets::Phrase(
                terms.clone(),
                PhraseQuery::new_with_offset(terms.clone())
                    .weight(EnableScoring::disabled_from_schema(schema))?,
            ),
            Plan::All(parts) => Sets::All(each(parts)?),
            Plan::Any(parts) => Sets::Any(each(parts)?),
        })
    }

    /// The sets of one segment: those `kept` has, the others' posting lists opened.
    pub(crate) fn open(&self, reader: &SegmentReader, kept: &KeptSets) -> tantivy::Result<Open> {
        let each = |parts: &[Sets]| -> tantivy::Result<Vec<Open>> {
            parts.iter().map(|p| p.open(reader, kept)).collect()
        };
        let max_doc = u64::from(reader.max_doc());
        Ok(match self {
            Sets::Term(key) => {
                let term = &key[0].1;
                let postings = reader
                    .inverted_index(term.field())?
                    .read_block_postings(term, IndexRecordOption::Basic)?
                    .map(Box::new);
                let df = postings.as_ref().map_or(0, |p| u64::from(p.doc_freq()));
                let dense = df * DENSE >= max_doc && df > 0;
                match dense.then(|| kept.get(key)).flatten() {
                    Some((bits, count)) => Open::Kept(bits, count),
                    None => Open::Term {
                        key: key.clone(),
                        postings,
                        dense,
                    },
                }
            }
            Sets::Phrase(key, weight) => match kept.get(key) {
                Some((bits, count)) => Open::Kept(bits, count),
                None => Open::Phrase(key.clone(), weight.scorer(reader, 1.0)?),
            },
            Sets::All(parts) => Open::All(each(parts)?),
            Sets::Any(parts) => Open::Any(each(parts)?),
        })
    }
}

/// [`Sets`] over one segment.
pub(crate) enum Open {
    /// A set kept from an earlier search, and its count.
    Kept(Arc<Vec<u64>>, u64),
    /// A term's postings, decoded a block of 128 documents at a time (`None`: absent), and
    /// whether the term is dense (see [`DENSE`]).
    Term {
        key: Key,
        postings: Option<Box<BlockSegmentPostings>>,
        dense: bool,
    },
    /// A phrase not kept (yet).
    Phrase(Key, Box<dyn Scorer>),
    All(Vec<Open>),
    Any(Vec<Open>),
}

impl Open {
    /// At most how many documents match (a list's length; an intersection's shortest part;
    /// tantivy's estimate for a phrase).
    fn size(&self) -> u64 {
        match self {
            Open::Kept(_, count) => *count,
            Open::Term { postings, .. } => postings.as_ref().map_or(0, |p| u64::from(p.doc_freq())),
            Open::Phrase(_, s) => u64::from(s.size_hint()),
            Open::All(parts) => parts.iter().map(Open::size).min().unwrap_or(0),
            Open::Any(parts) => parts.iter().map(Open::size).sum(),
        }
    }

    /// The documents read when every list is read whole (none for a kept set or a dense
    /// term, kept once read).
    fn read_cost(&self) -> u64 {
        match self {
            Open::Kept(..) | Open::Term { dense: true, .. } => 0,
            Open::Term { .. } | Open::Phrase(..) => self.size(),
            Open::All(parts) | Open::Any(parts) => parts.iter().map(Open::read_cost).sum(),
        }
    }

    /// The seeks of tantivy's intersections: the others at each document of the shortest.
    fn seeks(&self) -> u64 {
        match self {
            Open::Kept(..) | Open::Term { .. } | Open::Phrase(..) => 0,
            Open::All(parts) => {
                let own = (parts.len() as u64).saturating_sub(1) * self.size();
                own + parts.iter().map(Open::seeks).sum::<u64>()
            }
            Open::Any(parts) => parts.iter().map(Open::seeks).sum(),
        }
    }

    /// Whether the query is one phrase, which tantivy would walk whole anyway.
    fn is_one_phrase(&self) -> bool {
        match self {
            Open::Phrase(..) => true,
            Open::All(parts) | Open::Any(parts) => parts.len() == 1 && parts[0].is_one_phrase(),
            _ => false,
        }
    }

    /// Whether reading the lists whole is cheaper than tantivy's seeking intersections, or
    /// costs nothing more: kept sets and dense terms; a phrase alone; a query without
    /// intersections (a word and its synonyms), whose lists tantivy would read whole too and
    /// merge one document at a time, once it matches at least one document in 64 of the
    /// segment's `max_doc` (`comptabilité` or `compta`, 21 % of the offers: a third of its
    /// searches went to tantivy's union).
    pub(crate) fn worth_reading_whole(&self, max_doc: u32) -> bool {
        let read = self.read_cost();
        let seeks = self.seeks();
        read == 0
            || seeks * SEEK_COST > read
            || self.is_one_phrase()
            || (seeks == 0 && self.size() * 64 >= u64::from(max_doc))
    }

    /// The matching documents as a bitset over `max_doc` ids (deleted ones included: their
    /// rows are never visible); dense terms and common phrases go to `kept`.
    pub(crate) fn bits(self, max_doc: usize, kept: &KeptSets) -> Vec<u64> {
        let words = max_doc.div_ceil(64);
        match self {
            Open::Kept(bits, _) => bits.to_vec(),
            Open::Term {
                key,
                postings,
                dense,
            } => {
                let mut bits = vec![0u64; words];
                let mut count = 0;
                if let Some(mut p) = postings {
                    count = u64::from(p.doc_freq());
                    while !p.docs().is_empty() {
                        set_bits(&mut bits, p.docs());
                        p.advance();
                    }
                }
                if dense {
                    kept.keep(key, Arc::new(bits.clone()), count);
                }
                bits
            }
            Open::Phrase(key, mut scorer) => {
                let mut bits = vec![0u64; words];
                let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
                let mut count = 0;
                loop {
                    let n = scorer.fill_buffer(&mut buffer);
                    set_bits(&mut bits, &buffer[..n]);
                    count += n as u64;
                    if n < buffer.len() {
                        break;
                    }
                }
                if count * COMMON_PHRASE >= max_doc as u64 {
                    kept.keep(key, Arc::new(bits.clone()), count);
                }
                bits
            }
            Open::All(mut parts) => {
                parts.sort_by_key(Open::size);
                let mut parts = parts.into_iter();
                let mut bits = match parts.next() {
                    Some(first) => first.bits(max_doc, kept),
                    None => vec![0; words],
                };
                for part in parts {
                    if bits.iter().all(|&w| w == 0) {
                        break;
                    }
                    for (b, p) in bits.iter_mut().zip(part.bits(max_doc, kept)) {
                        *b &= p;
                    }
                }
                bits
            }
            Open::Any(parts) => {
                let mut bits = vec![0u64; words];
                for part in parts {
                    for (b, p) in bits.iter_mut().zip(part.bits(max_doc, kept)) {
                        *b |= p;
                    }
                }
                bits
            }
        }
    }
}

/// Sets the bits of `docs` (ascending) in `bits`, a word at a time.
pub(crate) fn set_bits(bits: &mut [u64], docs: &[DocId]) {
    let Some(&first) = docs.first() else {
        return;
    };
    let (mut at, mut word) = (first as usize / 64, 0u64);
    for &d in docs {
        let w = d as usize / 64;
        if w != at {
            bits[at] |= word;
            (at, word) = (w, 0);
        }
        word |= 1 << (d % 64);
    }
    bits[at] |= word;
}

/// Calls `f` with `base` plus the position of each set bit of `word`, lowest first.
#[inline]
pub(crate) fn for_each_bit(word: u64, base: usize, mut f: impl FnMut(usize)) {
    let mut left = word;
    while left != 0 {
        f(base + left.trailing_zeros() as usize);
        left &= left - 1;
    }
}

/// The set bits of `bits` (a bitset by document id), in order.
pub(crate) fn ones(bits: &[u64]) -> Ones<'_> {
    Ones {
        words: bits,
        at: 0,
        word: 0,
    }
}

/// See [`ones`].
pub(crate) struct Ones<'a> {
    words: &'a [u64],
    /// Index of the word after `word`.
    at: usize,
    /// What is left of the current word.
    word: u64,
}

impl Iterator for Ones<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.word == 0 {
            self.word = *self.words.get(self.at)?;
            self.at += 1;
        }
        let bit = self.word.trailing_zeros();
        self.word &= self.word - 1;
        Some((self.at as u32 - 1) * 64 + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_set_is_given_up_first() {
        let kept = KeptSets::default();
        let key = |i: u64| {
            vec![(
                0,
                Term::from_field_u64(tantivy::schema::Field::from_field_id(0), i),
            )]
        };
        let bits = |k: &[(usize, Term)]| kept.get(k).map(|(b, n)| (b.to_vec(), n));
        for i in 0..KEPT as u64 {
            kept.keep(key(i), Arc::new(vec![i]), i);
        }
        assert_eq!(bits(&key(0)), Some((vec![0], 0)));
        kept.keep(key(1), Arc::new(vec![99]), 99); // kept already: unchanged
        kept.keep(key(1000), Arc::new(vec![1000]), 1);
        assert_eq!(kept.len(), KEPT);
        assert!(bits(&key(1)).is_none(), "the least recently used stays");
        assert_eq!(bits(&key(0)), Some((vec![0], 0)));
        assert_eq!(bits(&key(2)), Some((vec![2], 2)));
        assert_eq!(bits(&key(1000)), Some((vec![1000], 1)));
        // A phrase's terms at other offsets are another set.
        let mut shifted = key(2);
        shifted[0].0 = 1;
        assert!(bits(&shifted).is_none());
    }

    #[test]
    fn the_ones_of_a_bitset_are_its_documents_in_order() {
        for docs in [
            vec![],
            vec![0],
            vec![63, 64],
            vec![1, 5, 127, 128, 300, 1023],
        ] {
            let mut bits = vec![0u64; 16];
            set_bits(&mut bits, &docs);
            assert_eq!(ones(&bits).collect::<Vec<_>>(), docs);
            let mut each = Vec::new();
            for (w, &word) in bits.iter().enumerate() {
                for_each_bit(word, w * 64, |d| each.push(d as u32));
            }
            assert_eq!(each, docs);
        }
    }
}
