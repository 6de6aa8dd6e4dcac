//! Typo tolerance, as people know it from Meilisearch: a query word of 5 letters or more that
//! the index does not hold — or holds far more rarely than a close word — is read as the
//! closest indexed word at one edit (two from 9 letters), its first letter kept; a swap of two
//! neighbouring letters is one edit. The candidates come from the term dictionary of the folded,
//! unstemmed text through a Levenshtein automaton (the one tantivy's fuzzy queries use), so the
//! cost is a walk of the dictionary's matching branches, not of every word.
//!
//! A word the index lacks is replaced by its correction; a rare word that has a far more common
//! neighbour matches both, the word as typed ranking first (it is the rarer term, so the
//! heavier). Phrases, references and words with digits are never corrected.

use std::collections::HashMap;
use std::sync::LazyLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};
use tantivy::schema::Field;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{Searcher, Term};
use tantivy_fst::Automaton;

/// Fewest letters of a word corrected at one edit.
pub const ONE_EDIT_FROM: usize = 5;
/// Fewest letters of a word corrected at two edits.
pub const TWO_EDITS_FROM: usize = 9;
/// A held word is still corrected when a close word is in this many times more offers.
const RARER_BY: u64 = 50;
/// A held word in more offers than this is taken as typed without looking further.
const RARE_AT_MOST: u64 = 3;

/// The automata builders for one and two edits, transpositions costing one (built once: the
/// two-edit one takes a few milliseconds).
static BUILDERS: LazyLock<[LevenshteinAutomatonBuilder; 2]> = LazyLock::new(|| {
    [
        LevenshteinAutomatonBuilder::new(1, true),
        LevenshteinAutomatonBuilder::new(2, true),
    ]
});

/// One corrected word of a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Correction {
    /// The word as typed, folded (`informatiqe`).
    pub typed: String,
    /// The indexed word read instead, folded (`informatique`).
    pub used: String,
    /// The word read instead as the offers write it (`ingénieur` for `ingenieur`), the folded
    /// word when no title holds it.
    pub shown: String,
    /// Whether the word as typed matches too (it is in the index, far more rarely).
    pub keep_typed: bool,
}

/// The edits a word of `letters` letters may differ by.
pub fn max_edits(letters: usize) -> u8 {
    if letters >= TWO_EDITS_FROM {
        2
    } else if letters >= ONE_EDIT_FROM {
        1
    } else {
        0
    }
}

struct Dfa<'a>(&'a DFA);

impl Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// The indexed words of `field` within `edits` of `word` (itself left out) that begin with its
/// first letter, with their edit distance and the number of documents holding them.
pub fn neighbours(
    searcher: &Searcher,
    field: Field,
    word: &str,
    edits: u8,
) -> tantivy::Result<Vec<(String, u8, u64)>> {
    let Some(first) = word.chars().next() else {
        return Ok(Vec::new());
    };
    if edits == 0 {
        return Ok(Vec::new());
    }
    let dfa = BUILDERS[usize::from(edits.min(2)) - 1].build_dfa(word);
    let mut low = [0u8; 4];
    let low = first.encode_utf8(&mut low).as_bytes().to_vec();
    let high = char::from_u32(first as u32 + 1).map(|c| c.to_string().into_bytes());
    let mut found: HashMap<String, (u8, u64)> = HashMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().search(Dfa(&dfa)).ge(&low);
        if let Some(h) = &high {
            stream = stream.lt(h);
        }
        let mut stream = stream.into_stream()?;
        while stream.advance() {
            let Ok(term) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            if term == word {
                continue;
            }
            let Distance::Exact(d) = dfa.eval(term) else {
                continue;
            };
            let entry = found.entry(term.to_string()).or_insert((d, 0));
            entry.1 += u64::from(stream.value().doc_freq);
        }
    }
    Ok(found.into_iter().map(|(t, (d, n))| (t, d, n)).collect())
}

/// The best of `neighbours`: fewest edits, then most documents, then alphabetical.
fn best(mut neighbours: Vec<(String, u8, u64)>) -> Option<(String, u64)> {
    neighbours.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    neighbours.into_iter().next().map(|(t, _, n)| (t, n))
}

/// The correction of one folded word, if it needs one.
pub fn correct_word(
    searcher: &Searcher,
    field: Field,
    word: &str,
) -> tantivy::Result<Option<Correction>> {
    let letters = word.chars().count();
    let edits = max_edits(letters);
    if edits == 0 || word.chars().any(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let held = searcher.doc_freq(&Term::from_field_text(field, word))?;
    if held > RARE_AT_MOST {
        return Ok(None);
    }
    let Some((used, n)) = best(neighbours(searcher, field, word, edits)?) else {
        return Ok(None);
    };
    if held > 0 && n < held.saturating_mul(RARER_BY) {
        return Ok(None);
    }
    Ok(Some(Correction {
        typed: word.to_string(),
        shown: used.clone(),
        used,
        keep_typed: held > 0,
    }))
}

/// The folded words of `q` that may be corrected: outside quotes, not references.
pub fn correctable_words(q: &str, exact: &mut TextAnalyzer) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, chunk) in q.split('"').enumerate() {
        if i % 2 == 1 {
            continue;
        }
        for word in chunk.split_whitespace() {
            if super::query::as_reference(word).is_some() {
                continue;
            }
            let mut stream = exact.token_stream(word);
            while stream.advance() {
                let t = &stream.token().text;
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
    }
    out
}

/// The corrections of the words of `q`.
pub fn corrections(
    searcher: &Searcher,
    field: Field,
    q: &str,
    exact: &mut TextAnalyzer,
) -> tantivy::Result<Vec<Correction>> {
    let mut out = Vec::new();
    for word in correctable_words(q, exact) {
        if let Some(c) = correct_word(searcher, field, &word)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// `q` with each corrected word replaced by the word used (what a saved search stores, and the
/// « Résultats pour » of the page). Quoted parts and references are kept as they are.
pub fn rewrite(q: &str, corrections: &[Correction], exact: &mut TextAnalyzer) -> String {
    if corrections.is_empty() {
        return q.to_string();
    }
    let mut out = String::with_capacity(q.len());
    for (i, chunk) in q.split('"').enumerate() {
        if i > 0 {
            out.push('"');
        }
        if i % 2 == 1 {
            out.push_str(chunk);
            continue;
        }
        let mut at = 0;
        let mut stream = exact.token_stream(chunk);
        while stream.advance() {
            let t = stream.token();
            let whole = &chunk[t.offset_from..];
            let word_end = whole
                .find(char::is_whitespace)
                .map_or(chunk.len(), |e| t.offset_from + e);
            if super::query::as_reference(&chunk[t.offset_from..word_end]).is_some() {
                continue;
            }
            if let Some(c) = corrections.iter().find(|c| c.typed == t.text) {
                let typed = &chunk[t.offset_from..t.offset_to];
                out.push_str(&chunk[at..t.offset_from]);
                // With a capital when typed with one, in lower case otherwise.
                let mut shown = c.shown.chars();
                if typed.starts_with(char::is_uppercase) {
                    out.extend(shown.next().into_iter().flat_map(char::to_uppercase));
                    out.push_str(shown.as_str());
                } else {
                    out.push_str(&c.shown.to_lowercase());
                }
                at = t.offset_to;
            }
        }
        out.push_str(&chunk[at..]);
    }
    out
}

/// Sets each correction's [`Correction::shown`] form with `written` (how titles write a folded
/// word).
pub fn show<'a>(corrections: &mut [Correction], written: impl Fn(&str) -> Option<&'a str>) {
    for c in corrections {
        if let Some(w) = written(&c.used) {
            c.shown = w.to_string();
        }
    }
}

/// For a query that found nothing: the closest indexed word within two edits (the first
/// letter kept, from 4 letters) of each word the index lacks, when one exists (to rewrite `q`
/// with).
pub fn did_you_mean(
    searcher: &Searcher,
    field: Field,
    q: &str,
    exact: &mut TextAnalyzer,
) -> tantivy::Result<Vec<Correction>> {
    let mut replaced = Vec::new();
    for word in correctable_words(q, exact) {
        let letters = word.chars().count();
        if letters < 4 || word.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        if searcher.doc_freq(&Term::from_field_text(field, &word))? > 0 {
            continue;
        }
        let edits = if letters < 7 { 1 } else { 2 };
        if let Some((used, _)) = best(neighbours(searcher, field, &word, edits)?) {
            replaced.push(Correction {
                typed: word,
                shown: used.clone(),
                used,
                keep_typed: false,
            });
        }
    }
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::schema::fr_exact;

    fn c(typed: &str, used: &str) -> Correction {
        Correction {
            typed: typed.into(),
            used: used.into(),
            shown: used.into(),
            keep_typed: false,
        }
    }

    #[test]
    fn lengths_decide_the_edits() {
        assert_eq!(max_edits(4), 0);
        assert_eq!(max_edits(5), 1);
        assert_eq!(max_edits(8), 1);
        assert_eq!(max_edits(9), 2);
    }

    #[test]
    fn rewriting_keeps_phrases_references_and_the_rest() {
        let mut exact = fr_exact();
        let q = "Stage informatiqe \"informatiqe\" A-2026-0001 l'ingénieurr";
        let out = rewrite(
            q,
            &[
                c("informatiqe", "informatique"),
                c("ingenieurr", "ingenieur"),
            ],
            &mut exact,
        );
        assert_eq!(
            out,
            "Stage informatique \"informatiqe\" A-2026-0001 l'ingenieur"
        );
        assert_eq!(rewrite(q, &[], &mut exact), q);
        // The form titles write, in lower case unless typed with a capital.
        let mut shown = c("ingenieurr", "ingenieur");
        shown.shown = "Ingénieur".into();
        assert_eq!(
            rewrite("ingénieurr Ingenieurr", &[shown], &mut exact),
            "ingénieur Ingénieur"
        );
    }

    #[test]
    fn only_words_outside_quotes_and_references_are_correctable() {
        let mut exact = fr_exact();
        assert_eq!(
            correctable_words("Jurriste \"droit public\" 2026-0001 jurriste", &mut exact),
            ["jurriste"]
        );
    }
}
