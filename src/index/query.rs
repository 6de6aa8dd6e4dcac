//! Turns the `q` parameter into a tantivy query: every word must match (stemmed French), a
//! "quoted phrase" matches as a phrase (folded, unstemmed), and a reference number
//! (`A-2021-0192` or `2021-0192`) is looked up exactly, never analyzed. Words that name a
//! member of a synonym group ([`super::synonyms`]) match any member of the group.

use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::schema::{OfferSchema, analyze, fr_exact, fr_stem, phrase_terms};
use super::synonyms::{Alternative, Synonyms, WordKey, member_form, word_keys};
use super::typos::Correction;

/// Weight of a title match in relevance ranking.
const TITLE_BOOST: f32 = 2.0;

/// The parts of a keyword query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ParsedQuery {
    /// Stemmed terms that must all match.
    pub terms: Vec<String>,
    /// Folded terms that must all match (when the words were all stop words).
    pub exact_terms: Vec<String>,
    /// Phrases, as folded tokens.
    pub phrases: Vec<Vec<String>>,
    /// Reference forms (`A-2021-0192` or `2021-0192`).
    pub references: Vec<String>,
    /// Synonym groups named by the query: one alternative of each must match.
    pub any_of: Vec<Arc<[Alternative]>>,
}

impl ParsedQuery {
    /// True when the query constrains nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.exact_terms.is_empty()
            && self.phrases.is_empty()
            && self.references.is_empty()
            && self.any_of.is_empty()
    }
}

/// Normalizes a word to a reference form when it is one.
pub fn as_reference(word: &str) -> Option<String> {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let digits = |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = w.split('-').collect();
    match parts.as_slice() {
        [p, y, n]
            if (p.eq_ignore_ascii_case("a") || p.eq_ignore_ascii_case("s"))
                && digits(y, 4)
                && y.len() == 4
                && digits(n, 4) =>
        {
            Some(format!("{}-{y}-{n}", p.to_ascii_uppercase()))
        }
        [y, n] if y.len() == 4 && digits(y, 4) && digits(n, 4) => Some(format!("{y}-{n}")),
        _ => None,
    }
}

/// Splits `q` into words, phrases and references, and analyzes them with `synonyms`.
pub fn parse(q: &str, synonyms: &Synonyms) -> ParsedQuery {
    parse_with(q, &mut fr_stem(), &mut fr_exact(), synonyms, &[])
}

/// [`parse`] with analyzers the caller keeps, reading the words of `corrections` as corrected
/// ([`super::typos`]).
pub fn parse_with(
    q: &str,
    stem: &mut TextAnalyzer,
    exact: &mut TextAnalyzer,
    synonyms: &Synonyms,
    corrections: &[Correction],
) -> ParsedQuery {
    let mut out = ParsedQuery::default();
    let mut plain = String::new();
    for (i, chunk) in q.split('"').enumerate() {
        if i % 2 == 1 {
            // Inside quotes (an unclosed quote runs to the end).
            let tokens = analyze(exact, chunk);
            match tokens.len() {
                0 => {}
                1 => out.exact_terms.extend(tokens),
                _ => out.phrases.push(tokens),
            }
            continue;
        }
        for word in chunk.split_whitespace() {
            match as_reference(word) {
                Some(r) => out.references.push(r),
                None => {
                    plain.push_str(word);
                    plain.push(' ');
                }
            }
        }
    }
    // Each word's form for the synonyms and its key.
    let mut keys: Vec<(String, WordKey)> = Vec::new();
    for (folded, key) in word_keys(&plain, stem, exact) {
        match corrections.iter().find(|c| c.typed == folded) {
            None => keys.push((member_form(&folded), key)),
            Some(c) => {
                let used = match analyze(stem, &c.used).pop() {
                    Some(s) => WordKey::Stem(s),
                    None => WordKey::Stop(c.used.clone()),
                };
                match (c.keep_typed, key, used) {
                    // A rare word and its far more common neighbour: either matches.
                    (true, WordKey::Stem(typed), WordKey::Stem(used)) if typed != used => {
                        let group: Arc<[Alternative]> = Arc::from(vec![
                            Alternative {
                                terms: vec![typed],
                                exact_terms: Vec::new(),
                            },
                            Alternative {
                                terms: vec![used],
                                exact_terms: Vec::new(),
                            },
                        ]);
                        if !out.any_of.contains(&group) {
                            out.any_of.push(group);
                        }
                    }
                    (_, _, used) => keys.push((member_form(&c.used), used)),
                }
            }
        }
    }
    let forms: Vec<String> = keys.iter().map(|(f, _)| f.clone()).collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        if let Some((n, group)) = synonyms.longest_match(&forms[i..]) {
            if !out.any_of.contains(group) {
                out.any_of.push(group.clone());
            }
            i += n;
            continue;
        }
        if let (_, WordKey::Stem(s)) = &keys[i] {
            terms.push(s.clone());
        }
        i += 1;
    }
    if terms.is_empty() && out.any_of.is_empty() {
        // Only stop words ("de la"): match them exactly rather than everything.
        out.exact_terms.extend(analyze(exact, &plain));
    } else {
        out.terms = terms;
    }
    out.terms.dedup();
    out
}

/// The tantivy query of a parsed keyword query; `None` when it constrains nothing.
pub fn to_query(parsed: &ParsedQuery, s: &OfferSchema) -> Option<Box<dyn Query>> {
    if parsed.is_empty() {
        return None;
    }
    let mut clauses = words_clauses(&parsed.terms, &parsed.exact_terms, s);
    for group in &parsed.any_of {
        let alternatives = group
            .iter()
            .map(|a| -> (Occur, Box<dyn Query>) {
                let c = words_clauses(&a.terms, &a.exact_terms, s);
                (Occur::Should, Box::new(BooleanQuery::new(c)))
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
    }
    for p in &parsed.phrases {
        clauses.push((Occur::Must, phrase_query(p, s)));
    }
    for r in &parsed.references {
        clauses.push((Occur::Must, reference_query(r, s)));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// The documents a parsed keyword query matches, as sets to intersect and unite, without
/// the title clauses that only rank (searches by date or distance need no score).
pub fn to_plan(parsed: &ParsedQuery, s: &OfferSchema) -> Option<Plan> {
    if parsed.is_empty() {
        return None;
    }
    let words = |terms: &[String], exact_terms: &[String]| -> Vec<Plan> {
        let stemmed = terms.iter().map(|t| Term::from_field_text(s.text, t));
        let exact = exact_terms
            .iter()
            .map(|t| Term::from_field_text(s.text_exact, t));
        stemmed.chain(exact).map(Plan::Term).collect()
    };
    let mut all = words(&parsed.terms, &parsed.exact_terms);
    for group in &parsed.any_of {
        let alternatives = group
            .iter()
            .map(|a| Plan::All(words(&a.terms, &a.exact_terms)))
            .collect();
        all.push(Plan::Any(alternatives));
    }
    all.extend(parsed.phrases.iter().map(|p| {
        let mut terms = phrase_term_list(p, s);
        match terms.len() {
            1 => Plan::Term(terms.remove(0).1),
            _ => Plan::Phrase(terms),
        }
    }));
    all.extend(
        parsed
            .references
            .iter()
            .map(|r| Plan::Term(Term::from_field_text(s.reference, r))),
    );
    Some(Plan::All(all))
}

/// A keyword query as sets of documents: see [`to_plan`] and [`super::sets`].
pub enum Plan {
    /// The documents holding one term.
    Term(Term),
    /// The documents holding a phrase: its terms (words or pairs of the exact field) at their
    /// offsets.
    Phrase(Vec<(usize, Term)>),
    /// The documents every part matches.
    All(Vec<Plan>),
    /// The documents some part matches.
    Any(Vec<Plan>),
}

/// A phrase of folded tokens, read with the pairs of its common words.
fn phrase_query(p: &[String], s: &OfferSchema) -> Box<dyn Query> {
    let mut terms = phrase_term_list(p, s);
    match terms.len() {
        1 => Box::new(TermQuery::new(
            terms.remove(0).1,
            IndexRecordOption::WithFreqs,
        )),
        _ => Box::new(PhraseQuery::new_with_offset(terms)),
    }
}

/// The terms a phrase is read with, at their offsets (see [`phrase_terms`]).
fn phrase_term_list(p: &[String], s: &OfferSchema) -> Vec<(usize, Term)> {
    phrase_terms(p)
        .into_iter()
        .map(|(at, t)| (at, Term::from_field_text(s.text_exact, &t)))
        .collect()
}

fn reference_query(r: &str, s: &OfferSchema) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(s.reference, r),
        IndexRecordOption::Basic,
    ))
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Every stemmed term in the text (a title match counting more) and every exact term in the
/// folded text.
fn words_clauses(
    terms: &[String],
    exact_terms: &[String],
    s: &OfferSchema,
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for t in terms {
        clauses.push((Occur::Must, term_query(s.text, t)));
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(term_query(s.title, t), TITLE_BOOST)),
        ));
    }
    for t in exact_terms {
        clauses.push((Occur::Must, term_query(s.text_exact, t)));
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_references_are_told_apart() {
        let p = parse(
            "Ingénieurs \"chargé d'accueil\" a-2021-0192 2021-0193 de",
            &Synonyms::builtin(),
        );
        assert_eq!(p.terms, vec!["ingenieur"]);
        assert_eq!(p.phrases, vec![vec!["charge", "d", "accueil"]]);
        assert_eq!(p.references, vec!["A-2021-0192", "2021-0193"]);
    }

    #[test]
    fn stop_words_alone_are_matched_exactly() {
        let p = parse("de la", &Synonyms::builtin());
        assert!(p.terms.is_empty());
        assert_eq!(p.exact_terms, vec!["de", "la"]);
        assert!(parse("   ", &Synonyms::builtin()).is_empty());
    }

    #[test]
    fn synonyms_expand_unquoted_words_only() {
        let p = parse("stage RH Paris", &Synonyms::builtin());
        assert_eq!(p.terms, vec!["stag", "paris"]);
        assert_eq!(p.any_of.len(), 1);
        assert!(
            p.any_of[0]
                .iter()
                .any(|a| a.terms == ["ressourc", "humain"])
        );
        let quoted = parse("\"RH\"", &Synonyms::builtin());
        assert!(quoted.any_of.is_empty());
        assert_eq!(quoted.exact_terms, vec!["rh"]);
        // Without synonyms, the same words are plain terms.
        let none = parse_with(
            "RH",
            &mut fr_stem(),
            &mut fr_exact(),
            &Synonyms::default(),
            &[],
        );
        assert_eq!(none.terms, vec!["rh"]);
        assert!(none.any_of.is_empty());
    }
}
