//! Verifies a keyword query against one offer with the search's own analyzers and semantics:
//! every stemmed term in the stemmed text, every exact term in the folded text, every phrase as
//! consecutive positions within one text value (tantivy leaves a position gap between values),
//! every reference among the offer's reference forms, one member of every synonym group.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use std::cell::RefCell;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::domain::Offer;
use crate::index::query::ParsedQuery;
use crate::index::schema::{fr_exact, fr_stem_tail};

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

/// Distinct words whose stems a thread remembers (a few MB at most).
const REMEMBERED_STEMS: usize = 100_000;

/// A thread's analyzers and the stems it has computed (`None`: a stop word).
struct Analyzers {
    exact: TextAnalyzer,
    tail: TextAnalyzer,
    stems: HashMap<String, Option<String>, FxBuild>,
}

/// The analyzed text of an offer.
pub struct OfferText {
    stems: HashSet<String, FxBuild>,
    /// Each folded token's places: (text value, position), in order.
    positions: HashMap<String, Vec<(u32, u32)>, FxBuild>,
    references: [String; 2],
}

impl OfferText {
    /// Analyzes the searchable text of an offer (the same values the index holds): the folded
    /// tokens with their places, then the stem of each distinct one, remembered by the thread
    /// (an offer's words are mostly words seen before; stemming costs more than a lookup).
    pub fn new(offer: &Offer) -> OfferText {
        thread_local! {
            static ANALYZERS: RefCell<Analyzers> = RefCell::new(Analyzers {
                exact: fr_exact(),
                tail: fr_stem_tail(),
                stems: HashMap::default(),
            });
        }
        ANALYZERS.with_borrow_mut(|a| OfferText::with(offer, a))
    }

    fn with(offer: &Offer, a: &mut Analyzers) -> OfferText {
        let mut positions: HashMap<String, Vec<(u32, u32)>, FxBuild> = HashMap::default();
        for (value, t) in (0u32..).zip(offer.fields.searchable_texts()) {
            let mut e = a.exact.token_stream(t);
            while e.advance() {
                let token = e.token();
                let place = (value, token.position as u32);
                match positions.get_mut(&token.text) {
                    Some(at) => at.push(place),
                    None => {
                        positions.insert(token.text.clone(), vec![place]);
                    }
                }
            }
        }
        if a.stems.len() > REMEMBERED_STEMS {
            a.stems.clear();
        }
        let mut stems = HashSet::with_capacity_and_hasher(positions.len(), FxBuild::default());
        for word in positions.keys() {
            let stem = match a.stems.get(word) {
                Some(stem) => stem.clone(),
                None => {
                    let mut s = a.tail.token_stream(word);
                    let stem = s.advance().then(|| s.token().text.clone());
                    a.stems.insert(word.clone(), stem.clone());
                    stem
                }
            };
            if let Some(stem) = stem {
                stems.insert(stem);
            }
        }
        OfferText {
            stems,
            positions,
            references: [offer.reference.to_string(), offer.reference.short()],
        }
    }

    /// Calls `f` with each anchor key under which alerts may be filed for this offer
    /// (`s:stem`, `e:word`, `r:reference`), built in one buffer.
    pub fn for_each_anchor_key(&self, mut f: impl FnMut(&str)) {
        let mut buf = String::with_capacity(48);
        let stems = self.stems.iter().map(|t| ("s:", t));
        let exact = self.positions.keys().map(|t| ("e:", t));
        for (kind, t) in stems.chain(exact) {
            buf.clear();
            buf.push_str(kind);
            buf.push_str(t);
            f(&buf);
        }
        for r in &self.references {
            buf.clear();
            buf.push_str("r:");
            buf.push_str(r);
            f(&buf);
        }
    }

    fn has_phrase(&self, phrase: &[String]) -> bool {
        let Some((first, rest)) = phrase.split_first() else {
            return true;
        };
        let Some(starts) = self.positions.get(first) else {
            return false;
        };
        let mut wanted = Vec::with_capacity(rest.len());
        for word in rest {
            match self.positions.get(word) {
                Some(at) => wanted.push(at),
                None => return false,
            }
        }
        starts.iter().any(|&(value, pos)| {
            wanted
                .iter()
                .zip(1..)
                .all(|(at, k)| at.binary_search(&(value, pos + k)).is_ok())
        })
    }

    /// True when the offer satisfies every part of the query.
    pub fn satisfies(&self, q: &ParsedQuery) -> bool {
        q.terms.iter().all(|t| self.stems.contains(t))
            && q.exact_terms.iter().all(|t| self.positions.contains_key(t))
            && q.references.iter().all(|r| self.references.contains(r))
            && q.phrases.iter().all(|p| self.has_phrase(p))
            && q.any_of.iter().all(|group| {
                group.iter().any(|a| {
                    a.terms.iter().all(|t| self.stems.contains(t))
                        && a.exact_terms.iter().all(|t| self.positions.contains_key(t))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{Generator, to_json_line};
    use crate::index::schema::{analyze, fr_stem};
    use time::macros::{date, datetime};

    /// Stemming each distinct folded word gives exactly the stems of the stemmed analyzer.
    #[test]
    fn stems_of_words_are_the_stems_of_the_text() {
        let now = datetime!(2026-11-20 10:00 UTC);
        let mut stem = fr_stem();
        let mut checked = 0;
        for (i, o) in Generator::new(9, date!(2026 - 11 - 20))
            .take(200)
            .enumerate()
        {
            let mut fields = serde_json::from_str::<crate::domain::OfferInput>(&to_json_line(&o))
                .unwrap()
                .validate(crate::domain::DateRule::Import)
                .unwrap();
            if i == 0 {
                fields.description = "Cœur de métier : ½ journée, Straße, ÉTÉ, l'été, d'où, \
                    à côté ; naïveté, œuvres, ﬁnances, x² — et les « archives »."
                    .into();
            }
            let reference = crate::domain::Reference {
                prefix: 'S',
                year: 2026,
                number: i as u32 + 1,
            };
            let offer = crate::domain::Offer::published(i as u64 + 1, reference, fields, now);
            let want: HashSet<String> = offer
                .fields
                .searchable_texts()
                .flat_map(|t| analyze(&mut stem, t))
                .collect();
            let got = OfferText::new(&offer);
            let got: HashSet<String> = got.stems.iter().cloned().collect();
            assert_eq!(got, want, "offer {i}");
            checked += want.len();
        }
        assert!(checked > 1000);
    }
}
