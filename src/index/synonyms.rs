//! Synonyms and abbreviations of the public sector (`index-schema/synonyms.json`), applied when a
//! keyword query is read — by the search, the feeds and the percolator alike — never when an
//! offer is indexed, so a changed list takes effect without rebuilding the index.
//!
//! A query's words are matched against the members of the groups, longest first, on their
//! folded form less the plural and a final e ([`member_form`]), so "Ressource humaine" finds the
//! group of "ressources humaines" — not on their stems, which join words a reader keeps apart
//! ("communication" and "commune" share the stem `commun`: a search for communication read
//! as one for the town halls). A matched member becomes a disjunction of every member of its group,
//! each member a conjunction of its stemmed words (of its folded words when it has only stop
//! words, like "SI").

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use super::schema::{analyze, fr_exact, fr_stem};

/// The list compiled into the binary.
pub const SYNONYMS_JSON: &str = include_str!("../../index-schema/synonyms.json");

/// One member of a group, as the index is queried for it: every stemmed term and every exact
/// term must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Alternative {
    /// Stemmed terms (in the stemmed text).
    pub terms: Vec<String>,
    /// Folded terms (in the folded text), for a member made of stop words only.
    pub exact_terms: Vec<String>,
}

/// The key of one analyzed word: its stem, or the folded word itself for a stop word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WordKey {
    /// A word's stem.
    Stem(String),
    /// A stop word, folded.
    Stop(String),
}

/// The form a folded word is matched against the groups' members with: Lucene's minimal French
/// stemmer (words of 6 letters or more lose a plural `s` or `x` — `aux` becoming `al` —, then
/// a final `r`, `e` and a doubled letter), which joins a word's inflections only.
pub fn member_form(folded: &str) -> String {
    let mut w: Vec<char> = folded.chars().collect();
    if w.len() >= 6 {
        match w[w.len() - 1] {
            'x' => {
                if w[w.len() - 3..w.len() - 1] == ['a', 'u'] {
                    let n = w.len();
                    w[n - 2] = 'l';
                }
                w.pop();
            }
            _ => {
                for end in ['s', 'r', 'e'] {
                    if w.last() == Some(&end) {
                        w.pop();
                    }
                }
                if w.len() >= 2 && w[w.len() - 1] == w[w.len() - 2] {
                    w.pop();
                }
            }
        }
    }
    w.into_iter().collect()
}

/// A text's words, analyzed one by one: (folded word, key).
pub fn word_keys(
    text: &str,
    stem: &mut TextAnalyzer,
    exact: &mut TextAnalyzer,
) -> Vec<(String, WordKey)> {
    let mut out = Vec::new();
    let mut stream = exact.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        let original = &text[token.offset_from..token.offset_to];
        let key = match analyze(stem, original).pop() {
            Some(s) => WordKey::Stem(s),
            None => WordKey::Stop(token.text.clone()),
        };
        out.push((token.text.clone(), key));
    }
    out
}

/// The alternative a sequence of analyzed words stands for.
pub fn alternative_of(words: &[(String, WordKey)]) -> Alternative {
    let terms: Vec<String> = words
        .iter()
        .filter_map(|(_, k)| match k {
            WordKey::Stem(s) => Some(s.clone()),
            WordKey::Stop(_) => None,
        })
        .collect();
    if terms.is_empty() {
        Alternative {
            terms,
            exact_terms: words.iter().map(|(w, _)| w.clone()).collect(),
        }
    } else {
        Alternative {
            terms,
            exact_terms: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsFile {
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    about: Option<String>,
    groups: Vec<Vec<String>>,
}

/// A list of synonym groups, ready to expand queries.
#[derive(Debug, Default)]
pub struct Synonyms {
    /// Version of the file.
    pub version: u32,
    /// Members' words' [`member_form`]s → their group.
    members: HashMap<Vec<String>, usize>,
    /// Each group's alternatives (distinct).
    groups: Vec<Arc<[Alternative]>>,
    /// Most words in a member.
    longest: usize,
}

impl Synonyms {
    /// Reads a list; an empty member, a member in two groups or a group of one member is an
    /// error that names it.
    pub fn parse(json: &str) -> Result<Synonyms, String> {
        let file: SynonymsFile =
            serde_json::from_str(json).map_err(|e| format!("synonyms: {e}"))?;
        let (mut stem, mut exact) = (fr_stem(), fr_exact());
        let mut out = Synonyms {
            version: file.version,
            ..Synonyms::default()
        };
        for (g, group) in file.groups.iter().enumerate() {
            if group.len() < 2 {
                return Err(format!(
                    "synonyms: group {} ({group:?}) needs at least two members",
                    g + 1
                ));
            }
            let mut alternatives: Vec<Alternative> = Vec::new();
            for member in group {
                let words = word_keys(member, &mut stem, &mut exact);
                if words.is_empty() {
                    return Err(format!(
                        "synonyms: group {} has a member without words ({member:?})",
                        g + 1
                    ));
                }
                let keys: Vec<String> = words.iter().map(|(w, _)| member_form(w)).collect();
                out.longest = out.longest.max(keys.len());
                if let Some(&other) = out.members.get(&keys)
                    && other != g
                {
                    return Err(format!(
                        "synonyms: \"{member}\" is in group {} and in group {} (a member may be in one group only)",
                        other + 1,
                        g + 1
                    ));
                }
                out.members.insert(keys, g);
                let alt = alternative_of(&words);
                if !alternatives.contains(&alt) {
                    alternatives.push(alt);
                }
            }
            out.groups.push(alternatives.into());
        }
        Ok(out)
    }

    /// The compiled-in list.
    pub fn builtin() -> Synonyms {
        Synonyms::parse(SYNONYMS_JSON).unwrap_or_else(|e| panic!("compiled-in {e}"))
    }

    /// Reads a list from a file.
    pub fn load(path: &Path) -> Result<Synonyms, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("synonyms file {}: {e}", path.display()))?;
        Synonyms::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when the list has no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The longest member that starts `words` (their [`member_form`]s): its length in words
    /// and its group's alternatives.
    pub fn longest_match(&self, words: &[String]) -> Option<(usize, &Arc<[Alternative]>)> {
        (1..=self.longest.min(words.len()))
            .rev()
            .find_map(|n| self.members.get(&words[..n]).map(|&g| (n, &self.groups[g])))
    }
}

/// The list queries are read with: the configured one (the compiled-in list by default), replaced
/// at each reload of its file. Clones share the list.
#[derive(Clone)]
pub struct Current(Arc<RwLock<Arc<Synonyms>>>);

impl Current {
    /// Holds `list`.
    pub fn new(list: Synonyms) -> Current {
        Current(Arc::new(RwLock::new(Arc::new(list))))
    }

    /// The list in use.
    pub fn get(&self) -> Arc<Synonyms> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes `list` the one queries are read with, from now on.
    pub fn set(&self, list: Synonyms) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_list_is_curated_and_valid() {
        let s = Synonyms::builtin();
        assert!(s.len() >= 60, "{} groups", s.len());
        let (mut stem, mut exact) = (fr_stem(), fr_exact());
        let mut keys = |t: &str| -> Vec<String> {
            word_keys(t, &mut stem, &mut exact)
                .into_iter()
                .map(|(w, _)| member_form(&w))
                .collect()
        };
        for abbreviation in [
            "RH", "drh", "SI", "SIG", "BTP", "RGPD", "GRH", "compta", "info",
        ] {
            let k = keys(abbreviation);
            let (n, alts) = s.longest_match(&k).expect(abbreviation);
            assert_eq!(n, 1);
            assert!(alts.len() >= 2, "{abbreviation}: {alts:?}");
        }
        // Plural, accents and case do not matter; the longest member wins.
        let (n, alts) = s.longest_match(&keys("Ressource Humaine")).unwrap();
        assert_eq!(n, 2);
        assert!(alts.iter().any(|a| a.terms == ["rh"]));
        let (n, _) = s
            .longest_match(&keys("direction des ressources humaines"))
            .unwrap();
        assert_eq!(n, 4);
        let (_, alts) = s.longest_match(&keys("secretariat")).unwrap();
        assert!(
            alts.iter()
                .any(|a| a.terms == analyze(&mut fr_stem(), "assistanat"))
        );
        // Stop words are kept in members' keys: "de" does not stand for "des".
        assert!(
            s.longest_match(&keys("direction de ressources humaines"))
                .is_none_or(|(n, _)| n < 4)
        );
    }

    #[test]
    fn members_are_matched_on_inflections_not_on_stems() {
        for (a, b) in [
            ("communes", "commune"),
            ("ressources", "ressource"),
            ("hopitaux", "hopital"),
            ("juristes", "juriste"),
            ("agents", "agent"),
        ] {
            assert_eq!(member_form(a), member_form(b), "{a} / {b}");
        }
        // One stem (`commun`), two meanings: communication is not a town.
        assert_eq!(analyze(&mut fr_stem(), "communication"), ["commun"]);
        assert_ne!(member_form("communication"), member_form("commune"));
        let s = Synonyms::builtin();
        let form = |t: &str| vec![member_form(t)];
        assert!(s.longest_match(&form("communes")).is_some());
        assert!(s.longest_match(&form("communication")).is_none());
        assert_eq!(member_form("bus"), "bus", "short words are kept whole");
    }

    #[test]
    fn a_member_of_stop_words_only_is_matched_as_folded_words() {
        let s = Synonyms::parse(r#"{"version":1,"groups":[["de la", "dela"]]}"#).unwrap();
        let words = word_keys("De La", &mut fr_stem(), &mut fr_exact());
        let keys: Vec<String> = words.iter().map(|(w, _)| member_form(w)).collect();
        let (n, alts) = s.longest_match(&keys).unwrap();
        assert_eq!(n, 2);
        assert_eq!(alts[0].exact_terms, ["de", "la"]);
        assert!(alts[0].terms.is_empty());
    }

    #[test]
    fn a_bad_list_is_refused_with_the_member_named() {
        let e = Synonyms::parse(
            r#"{"version":1,"groups":[["RH","ressources humaines"],["rh","personnel"]]}"#,
        )
        .unwrap_err();
        assert!(e.contains("\"rh\" is in group 1 and in group 2"), "{e}");
        let e = Synonyms::parse(r#"{"version":1,"groups":[["seul"]]}"#).unwrap_err();
        assert!(e.contains("at least two members"), "{e}");
        let e = Synonyms::parse(r#"{"version":1,"groups":[["a", "--"]]}"#).unwrap_err();
        assert!(e.contains("without words"), "{e}");
        assert!(Synonyms::parse(r#"{"groups":[]}"#).is_err());
    }
}
