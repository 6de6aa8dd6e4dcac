//! The tantivy schema, built from `index-schema/offers.json`, and the French analyzers it names.

use std::sync::LazyLock;

use serde::Deserialize;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenStream, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

use crate::domain::Facet;

/// The description of the indexed offer, compiled in.
pub const OFFERS_JSON: &str = include_str!("../../index-schema/offers.json");

/// Analyzer for stemmed French text.
pub const FR_STEM: &str = "fr_stem";
/// Analyzer for folded, unstemmed words and phrases.
pub const FR_EXACT: &str = "fr_exact";
/// Analyzer of the exact field: [`FR_EXACT`]'s words and the pairs of [`fr_phrase`].
pub const FR_PHRASE: &str = "fr_phrase";

#[derive(Debug, Deserialize)]
struct FieldSpec {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    analyzer: Option<String>,
    #[serde(default)]
    fast: bool,
    #[serde(default)]
    indexed: bool,
}

#[derive(Debug, Deserialize)]
struct SchemaSpec {
    version: u32,
    fields: Vec<FieldSpec>,
}

/// The schema and handles on its fields.
#[derive(Debug, Clone)]
pub struct OfferSchema {
    /// Version from `offers.json`, kept in every index commit.
    pub version: u32,
    /// The tantivy schema.
    pub schema: Schema,
    /// Store id.
    pub id: Field,
    /// `A-YYYY-NNNN` and `YYYY-NNNN`.
    pub reference: Field,
    /// Title, stemmed.
    pub title: Field,
    /// All searchable text, stemmed.
    pub text: Field,
    /// All searchable text, folded, unstemmed.
    pub text_exact: Field,
    /// The facet columns, in [`Facet::ALL`] order.
    pub facets: [Field; Facet::COUNT],
    /// The commune (a number: `communes::code_number`).
    pub commune: Field,
    /// Publication time (unix seconds).
    pub published_at: Field,
    /// End of diffusion (unix seconds).
    pub visible_until: Field,
}

fn build() -> Result<OfferSchema, String> {
    let spec: SchemaSpec =
        serde_json::from_str(OFFERS_JSON).map_err(|e| format!("offers.json: {e}"))?;
    let mut b = Schema::builder();
    for f in &spec.fields {
        match f.kind.as_str() {
            "u64" | "i64" => {
                let mut o = NumericOptions::default();
                if f.fast {
                    o = o.set_fast();
                }
                if f.indexed {
                    o = o | INDEXED;
                }
                if f.kind == "u64" {
                    b.add_u64_field(&f.name, o);
                } else {
                    b.add_i64_field(&f.name, o);
                }
            }
            "keyword" => {
                b.add_text_field(&f.name, STRING);
            }
            "text" => {
                let analyzer = f
                    .analyzer
                    .as_deref()
                    .ok_or_else(|| format!("text field {} has no analyzer", f.name))?;
                let indexing = TextFieldIndexing::default()
                    .set_tokenizer(analyzer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions);
                b.add_text_field(
                    &f.name,
                    TextOptions::default().set_indexing_options(indexing),
                );
            }
            other => return Err(format!("field {}: unknown type {other}", f.name)),
        }
    }
    let schema = b.build();
    let field = |name: &str| {
        schema
            .get_field(name)
            .map_err(|_| format!("offers.json lacks field {name}"))
    };
    let mut facets = [field("id")?; Facet::COUNT];
    for facet in Facet::ALL {
        facets[facet.index()] = field(facet.name())?;
    }
    Ok(OfferSchema {
        version: spec.version,
        id: field("id")?,
        reference: field("reference")?,
        title: field("title")?,
        text: field("text")?,
        text_exact: field("text_exact")?,
        facets,
        commune: field("commune")?,
        published_at: field("published_at")?,
        visible_until: field("visible_until")?,
        schema,
    })
}

static SCHEMA: LazyLock<OfferSchema> =
    LazyLock::new(|| build().unwrap_or_else(|e| panic!("compiled-in index schema: {e}")));

/// The offer schema.
pub fn offer_schema() -> &'static OfferSchema {
    &SCHEMA
}

/// The words of a text (tantivy's simple tokenizer: runs of letters and digits) without the
/// endings of inclusive writing glued to a word — `Chargé(e)`, `Technicien·ne`, `Apprenti(e)s`,
/// `étudiant.e.s` — which take no position either: a phrase `"chargé de mission"` finds
/// `Chargé(e) de mission`, as the title would be read aloud.
#[derive(Clone, Default)]
pub struct WordTokenizer(SimpleTokenizer);

/// The words of [`WordTokenizer`].
pub struct WordStream<'a> {
    inner: SimpleTokenStream<'a>,
    text: &'a str,
    /// The previous word's end (byte offset).
    previous_end: Option<usize>,
    position: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        WordStream {
            inner: self.0.token_stream(text),
            text,
            previous_end: None,
            position: 0,
        }
    }
}

/// Endings that inclusive writing glues to a word (feminine and plural marks).
const INCLUSIVE_ENDINGS: [&str; 14] = [
    "e", "es", "s", "ne", "nes", "le", "les", "se", "ses", "ve", "ves", "rice", "rices", "trice",
];

/// Whether the word `text[from..to]` is an inclusive-writing ending glued to the word that
/// ends at `previous_end`: a mark (`(`, `)`, `·`, `•`, `.`) and nothing else between them.
fn inclusive_ending(text: &str, previous_end: Option<usize>, from: usize, to: usize) -> bool {
    let Some(end) = previous_end else {
        return false;
    };
    let word = &text[from..to];
    let between = &text[end..from];
    INCLUSIVE_ENDINGS
        .iter()
        .any(|e| e.eq_ignore_ascii_case(word))
        && !between.is_empty()
        && between.chars().count() <= 2
        && between
            .chars()
            .all(|c| matches!(c, '(' | ')' | '·' | '•' | '.'))
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        while self.inner.advance() {
            let (from, to) = (self.inner.token().offset_from, self.inner.token().offset_to);
            let glued = inclusive_ending(self.text, self.previous_end, from, to);
            self.previous_end = Some(to);
            if glued {
                continue;
            }
            self.inner.token_mut().position = self.position;
            self.position += 1;
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

/// The stemmed French analyzer: lower-case → ASCII folding → stop words → stemmer, that is
/// [`fr_exact`] followed by [`fr_stem_tail`].
pub fn fr_stem() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::French) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::French))
            .build(),
        None => builder.filter(Stemmer::new(Language::French)).build(),
    }
}

/// What [`fr_stem`] does to one token of [`fr_exact`]: stop words → stemmer, on the whole
/// text as one token. Every filter works token by token, so the stems of a text are the tails
/// of its exact tokens (the percolator stems each distinct word once).
pub fn fr_stem_tail() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default());
    match StopWordFilter::new(Language::French) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::French))
            .build(),
        None => builder.filter(Stemmer::new(Language::French)).build(),
    }
}

/// The exact analyzer: lower-case → ASCII folding.
pub fn fr_exact() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Words so common in offers (most descriptions hold them many times) that a phrase reading
/// their positions would be slow: the exact field also holds each of them paired with its
/// neighbours, as Elasticsearch's `common_grams` does. Sorted.
const COMMON_WORDS: [&str; 22] = [
    "a", "au", "aux", "avec", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les",
    "ou", "par", "pour", "sur", "un", "une", "vous",
];

/// Whether `word` (folded) is one of [`COMMON_WORDS`].
fn is_common(word: &str) -> bool {
    COMMON_WORDS.binary_search(&word).is_ok()
}

/// The term of two neighbouring words, one of them common. It begins with a control character,
/// so that no word is one and every search by first letter (the typo corrections) passes it by.
fn pair(first: &str, second: &str) -> String {
    format!("\u{1}{first} {second}")
}

/// The words of [`fr_exact`] and, at the place of the first of two neighbouring words of which
/// one is common, their [`pair`].
pub fn fr_phrase() -> TextAnalyzer {
    TextAnalyzer::from(PairTokenizer {
        words: fr_exact(),
        tokens: Vec::new(),
    })
}

/// The tokenizer of [`fr_phrase`].
#[derive(Clone)]
struct PairTokenizer {
    words: TextAnalyzer,
    /// The last text's tokens.
    tokens: Vec<Token>,
}

/// The tokens of a [`PairTokenizer`].
struct PairStream<'a> {
    tokens: &'a mut [Token],
    /// One past the current token.
    next: usize,
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream<'a> {
        self.tokens.clear();
        let mut words = self.words.token_stream(text);
        let mut previous: Option<Token> = None;
        while words.advance() {
            let word = words.token().clone();
            if let Some(p) = previous.take() {
                let paired = p.position + 1 == word.position
                    && (is_common(&p.text) || is_common(&word.text));
                let pair = paired.then(|| Token {
                    offset_from: p.offset_from,
                    offset_to: word.offset_to,
                    position: p.position,
                    text: pair(&p.text, &word.text),
                    position_length: 1,
                });
                self.tokens.push(p);
                self.tokens.extend(pair);
            }
            previous = Some(word);
        }
        self.tokens.extend(previous);
        PairStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        let more = self.next < self.tokens.len();
        self.next += usize::from(more);
        more
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The terms of the exact field that find the phrase `words` (folded), with their places in it:
/// each pair of neighbours of which one is common stands for both (its positions are few where
/// a common word's are many), the other words for themselves; a pair between two others that
/// already place both its words is left out.
pub fn phrase_terms(words: &[String]) -> Vec<(usize, String)> {
    let n = words.len();
    let paired: Vec<bool> = (0..n.saturating_sub(1))
        .map(|i| is_common(&words[i]) || is_common(&words[i + 1]))
        .collect();
    let mut kept = paired.clone();
    for i in 1..kept.len().saturating_sub(1) {
        if kept[i - 1] && paired[i + 1] {
            kept[i] = false;
        }
    }
    let placed = |i: usize| (i > 0 && kept[i - 1]) || kept.get(i).copied().unwrap_or(false);
    let mut terms = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if kept.get(i).copied().unwrap_or(false) {
            terms.push((i, pair(word, &words[i + 1])));
        } else if !placed(i) {
            terms.push((i, word.clone()));
        }
    }
    terms
}

/// Registers the analyzers on an index.
pub fn register_analyzers(index: &tantivy::Index) {
    index.tokenizers().register(FR_STEM, fr_stem());
    index.tokenizers().register(FR_EXACT, fr_exact());
    index.tokenizers().register(FR_PHRASE, fr_phrase());
}

/// The tokens an analyzer makes of a text.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A text's folded words joined by single spaces: the key under which texts are compared
/// whatever their accents, case and punctuation ("Chargé(e) d'accueil" → "charge e d accueil").
pub fn folded_key(exact: &mut TextAnalyzer, text: &str) -> String {
    analyze(exact, text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inclusive_endings_glued_to_a_word_are_not_words() {
        let words = |text: &str| {
            let mut a = fr_exact();
            let mut stream = a.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                let t = stream.token();
                out.push(format!("{}@{}", t.text, t.position));
            }
            out.join(" ")
        };
        assert_eq!(words("Chargé(e) de mission"), "charge@0 de@1 mission@2");
        assert_eq!(words("Apprenti(e)s juristes"), "apprenti@0 juristes@1");
        assert_eq!(
            words("Technicien·ne, étudiant.e.s"),
            "technicien@0 etudiant@1"
        );
        assert_eq!(words("Directeur(rice) (F/H)"), "directeur@0 f@1 h@2");
        // Not glued, or not an ending: kept.
        assert_eq!(words("Aix-en-Provence"), "aix@0 en@1 provence@2");
        assert_eq!(words("e-administration (e)"), "e@0 administration@1 e@2");
        assert_eq!(words("Niveau 6 (Bac+3)"), "niveau@0 6@1 bac@2 3@3");
    }

    #[test]
    fn common_words_are_also_indexed_with_their_neighbours() {
        let mut a = fr_phrase();
        let mut stream = a.token_stream("Chargé(e) de la mission, à Paris et Lyon");
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push(format!("{}@{}", t.text.replace('\u{1}', "+"), t.position));
        }
        assert_eq!(
            out.join(" "),
            "charge@0 +charge de@0 de@1 +de la@1 la@2 +la mission@2 mission@3 +mission a@3 \
             a@4 +a paris@4 paris@5 +paris et@5 et@6 +et lyon@6 lyon@7"
        );
        assert!(COMMON_WORDS.is_sorted());
    }

    #[test]
    fn phrases_read_pairs_for_common_words() {
        let terms = |phrase: &str| {
            let words = analyze(&mut fr_exact(), phrase);
            phrase_terms(&words)
                .into_iter()
                .map(|(at, t)| format!("{}@{at}", t.replace('\u{1}', "+")))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(terms("chargé de mission"), "+charge de@0 +de mission@1");
        assert_eq!(terms("ressources humaines"), "ressources@0 humaines@1");
        assert_eq!(terms("de la"), "+de la@0");
        // The middle pair is placed by its neighbours.
        assert_eq!(
            terms("responsable de la communication"),
            "+responsable de@0 +la communication@2"
        );
        assert_eq!(
            terms("gestion des ressources humaines"),
            "+gestion des@0 +des ressources@1 humaines@3"
        );
    }

    #[test]
    fn schema_has_every_field_of_offers_json() {
        let s = offer_schema();
        assert_eq!(s.schema.fields().count(), 18);
        for facet in Facet::ALL {
            assert_eq!(
                s.schema.get_field_name(s.facets[facet.index()]),
                facet.name()
            );
        }
    }

    #[test]
    fn french_analysis_folds_then_stems() {
        let mut a = fr_stem();
        assert_eq!(analyze(&mut a, "Ingénieur"), analyze(&mut a, "ingenieur"));
        assert_eq!(analyze(&mut a, "stagiaires"), analyze(&mut a, "stagiaire"));
        assert_eq!(analyze(&mut a, "le stage de la"), analyze(&mut a, "stage"));
        let mut e = fr_exact();
        assert_eq!(analyze(&mut e, "Œuvre d'Art"), vec!["oeuvre", "d", "art"]);
    }
}
