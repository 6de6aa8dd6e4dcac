//! Verifies a keyword query against one offer with the search's own analyzers and semantics:
//! every stemmed term in the stemmed text, every exact term in the folded text, every phrase as
//! consecutive positions within one text value (tantivy leaves a position gap between values),
//! every reference among the offer's reference forms, one member of every synonym group.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use tantivy::tokenizer::TokenStream;

use crate::domain::Offer;
use crate::index::query::ParsedQuery;
use crate::index::schema::{fr_exact, fr_stem};

/// The Fx hash (rustc's): a few cycles per word, where SipHash's flood resistance buys nothing
/// (the keys are the offer's own words, looked up once per alert candidate).
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Hash sets and maps with [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// The analyzed text of an offer.
pub struct OfferText {
    stems: HashSet<String, FxBuild>,
    exact: HashSet<String, FxBuild>,
    /// Per text value, (position, token) of the folded tokens.
    values: Vec<Vec<(usize, String)>>,
    references: [String; 2],
}

impl OfferText {
    /// Analyzes the searchable text of an offer (the same values the index holds).
    pub fn new(offer: &Offer) -> OfferText {
        let f = &offer.fields;
        let (mut stem, mut exact) = (fr_stem(), fr_exact());
        let mut stems = HashSet::default();
        let mut exact_set = HashSet::default();
        let mut values = Vec::new();
        for t in f.searchable_texts() {
            let mut s = stem.token_stream(t);
            while s.advance() {
                stems.insert(s.token().text.clone());
            }
            let mut e = exact.token_stream(t);
            let mut tokens = Vec::new();
            while e.advance() {
                exact_set.insert(e.token().text.clone());
                tokens.push((e.token().position, e.token().text.clone()));
            }
            values.push(tokens);
        }
        OfferText {
            stems,
            exact: exact_set,
            values,
            references: [offer.reference.to_string(), offer.reference.short()],
        }
    }

    /// The anchor keys under which alerts may be filed for this offer.
    pub fn anchor_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.stems
            .iter()
            .map(|t| format!("s:{t}"))
            .chain(self.exact.iter().map(|t| format!("e:{t}")))
            .chain(self.references.iter().map(|r| format!("r:{r}")))
    }

    fn has_phrase(&self, phrase: &[String]) -> bool {
        self.values.iter().any(|tokens| {
            tokens.iter().enumerate().any(|(i, (pos, first))| {
                first == &phrase[0]
                    && phrase[1..].iter().enumerate().all(|(k, want)| {
                        let at = pos + k + 1;
                        tokens[i + 1..]
                            .iter()
                            .take_while(|(p, _)| *p <= at)
                            .any(|(p, t)| *p == at && t == want)
                    })
            })
        })
    }

    /// True when the offer satisfies every part of the query.
    pub fn satisfies(&self, q: &ParsedQuery) -> bool {
        q.terms.iter().all(|t| self.stems.contains(t))
            && q.exact_terms.iter().all(|t| self.exact.contains(t))
            && q.references.iter().all(|r| self.references.contains(r))
            && q.phrases.iter().all(|p| self.has_phrase(p))
            && q.any_of.iter().all(|group| {
                group.iter().any(|a| {
                    a.terms.iter().all(|t| self.stems.contains(t))
                        && a.exact_terms.iter().all(|t| self.exact.contains(t))
                })
            })
    }
}
