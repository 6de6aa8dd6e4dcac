//! Keyword matches read whole into bitsets, for searches that need no score (newest first,
//! nearest first). tantivy intersects posting lists by seeking the others at each document of
//! the shortest, some 25 ns a seek; when the lists are long (`marchés publics` at 1M offers:
//! 70,000 seeks into the 273,000 documents of `public`, and again for `commande publique`)
//! reading each list whole, about 1.5 ns a document, and intersecting 64 documents at a time
//! costs a fraction of it. Short lists keep tantivy's intersection.

use std::sync::{Arc, Mutex};

use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{EnableScoring, Scorer, Weight};
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

/// How many dense terms' bitsets a segment keeps, the least recently used given up first.
const KEPT: usize = 48;

/// A kept term: its bitset, and the clock when it was last used.
type Kept = (Term, Arc<Vec<u64>>, u64);

/// The bitsets of a segment's dense terms, kept from one search to the next.
#[derive(Default)]
pub(crate) struct KeptTerms {
    /// A clock, and each term's bitset with when it was last used.
    kept: Mutex<(u64, Vec<Kept>)>,
}

impl KeptTerms {
    /// The bitset of `term`, if kept.
    fn get(&self, term: &Term) -> Option<Arc<Vec<u64>>> {
        let mut guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, kept) = &mut *guard;
        *clock += 1;
        let (_, bits, used) = kept.iter_mut().find(|(t, ..)| t == term)?;
        *used = *clock;
        Some(bits.clone())
    }

    /// Keeps `bits` as the bitset of `term`, giving up the least recently used past [`KEPT`].
    fn keep(&self, term: Term, bits: Arc<Vec<u64>>) {
        let mut guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, kept) = &mut *guard;
        *clock += 1;
        if kept.iter().any(|(t, ..)| *t == term) {
            return; // kept meanwhile by another search
        }
        if kept.len() >= KEPT
            && let Some(oldest) = (0..kept.len()).min_by_key(|&i| kept[i].2)
        {
            kept.swap_remove(oldest);
        }
        kept.push((term, bits, *clock));
    }

    /// How many bitsets are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).1.len()
    }
}

/// A [`Plan`] with its queries' weights, made once per search.
pub(crate) enum Sets {
    Term(Term),
    Leaf(Box<dyn Weight>),
    All(Vec<Sets>),
    Any(Vec<Sets>),
}

impl Sets {
    pub(crate) fn new(plan: &Plan, schema: &Schema) -> tantivy::Result<Sets> {
        let each = |parts: &[Plan]| -> tantivy::Result<Vec<Sets>> {
            parts.iter().map(|p| Sets::new(p, schema)).collect()
        };
        Ok(match plan {
            Plan::Term(t) => Sets::Term(t.clone()),
            Plan::Leaf(q) => Sets::Leaf(q.weight(EnableScoring::disabled_from_schema(schema))?),
            Plan::All(parts) => Sets::All(each(parts)?),
            Plan::Any(parts) => Sets::Any(each(parts)?),
        })
    }

    /// The sets of one segment, their posting lists opened.
    pub(crate) fn open(&self, reader: &SegmentReader) -> tantivy::Result<Open> {
        let each = |parts: &[Sets]| -> tantivy::Result<Vec<Open>> {
            parts.iter().map(|p| p.open(reader)).collect()
        };
        Ok(match self {
            Sets::Term(t) => {
                let postings = reader
                    .inverted_index(t.field())?
                    .read_block_postings(t, IndexRecordOption::Basic)?
                    .map(Box::new);
                let df = postings.as_ref().map_or(0, |p| u64::from(p.doc_freq()));
                Open::Term {
                    term: t.clone(),
                    dense: df * DENSE >= u64::from(reader.max_doc()) && df > 0,
                    postings,
                }
            }
            Sets::Leaf(w) => Open::Leaf(w.scorer(reader, 1.0)?),
            Sets::All(parts) => Open::All(each(parts)?),
            Sets::Any(parts) => Open::Any(each(parts)?),
        })
    }
}

/// [`Sets`] over one segment.
pub(crate) enum Open {
    /// A term's postings, decoded a block of 128 documents at a time (`None`: absent), and
    /// whether the term is dense (see [`DENSE`]).
    Term {
        term: Term,
        postings: Option<Box<BlockSegmentPostings>>,
        dense: bool,
    },
    Leaf(Box<dyn Scorer>),
    All(Vec<Open>),
    Any(Vec<Open>),
}

impl Open {
    /// At most how many documents match (a list's length; an intersection's shortest part).
    fn size(&self) -> u64 {
        match self {
            Open::Term { postings, .. } => postings.as_ref().map_or(0, |p| u64::from(p.doc_freq())),
            Open::Leaf(s) => u64::from(s.size_hint()),
            Open::All(parts) => parts.iter().map(Open::size).min().unwrap_or(0),
            Open::Any(parts) => parts.iter().map(Open::size).sum(),
        }
    }

    /// The documents read when every list is read whole (none for a dense term, kept once
    /// read).
    fn read_cost(&self) -> u64 {
        match self {
            Open::Term { dense: true, .. } => 0,
            Open::Term { .. } | Open::Leaf(_) => self.size(),
            Open::All(parts) | Open::Any(parts) => parts.iter().map(Open::read_cost).sum(),
        }
    }

    /// The seeks of tantivy's intersections: the others at each document of the shortest.
    fn seeks(&self) -> u64 {
        match self {
            Open::Term { .. } | Open::Leaf(_) => 0,
            Open::All(parts) => {
                let own = (parts.len() as u64).saturating_sub(1) * self.size();
                own + parts.iter().map(Open::seeks).sum::<u64>()
            }
            Open::Any(parts) => parts.iter().map(Open::seeks).sum(),
        }
    }

    /// Whether reading the lists whole is cheaper than tantivy's seeking intersections, or
    /// costs nothing (dense terms only).
    pub(crate) fn worth_reading_whole(&self) -> bool {
        let read = self.read_cost();
        read == 0 || self.seeks() * SEEK_COST > read
    }

    /// The matching documents as a bitset over `max_doc` ids (deleted ones included: their
    /// rows are never visible); dense terms' bitsets come from and go to `kept`.
    pub(crate) fn bits(self, max_doc: usize, kept: &KeptTerms) -> Vec<u64> {
        let words = max_doc.div_ceil(64);
        match self {
            Open::Term {
                term,
                postings,
                dense,
            } => {
                if dense && let Some(bits) = kept.get(&term) {
                    return bits.to_vec();
                }
                let mut bits = vec![0u64; words];
                if let Some(mut p) = postings {
                    while !p.docs().is_empty() {
                        set_bits(&mut bits, p.docs());
                        p.advance();
                    }
                }
                if dense {
                    kept.keep(term, Arc::new(bits.clone()));
                }
                bits
            }
            Open::Leaf(mut scorer) => {
                let mut bits = vec![0u64; words];
                let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
                loop {
                    let n = scorer.fill_buffer(&mut buffer);
                    set_bits(&mut bits, &buffer[..n]);
                    if n < buffer.len() {
                        break bits;
                    }
                }
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
    fn the_least_recently_used_term_is_given_up_first() {
        let kept = KeptTerms::default();
        let term = |i: u64| Term::from_field_u64(tantivy::schema::Field::from_field_id(0), i);
        for i in 0..KEPT as u64 {
            kept.keep(term(i), Arc::new(vec![i]));
        }
        assert_eq!(kept.get(&term(0)).as_deref(), Some(&vec![0]));
        kept.keep(term(1), Arc::new(vec![99])); // kept already: unchanged
        kept.keep(term(1000), Arc::new(vec![1000]));
        assert_eq!(kept.len(), KEPT);
        assert!(
            kept.get(&term(1)).is_none(),
            "the least recently used stays"
        );
        assert_eq!(kept.get(&term(0)).as_deref(), Some(&vec![0]));
        assert_eq!(kept.get(&term(2)).as_deref(), Some(&vec![2]));
        assert_eq!(kept.get(&term(1000)).as_deref(), Some(&vec![1000]));
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
