//! Why an alert matched an offer, in words a candidate reads in the mail: each keyword as the
//! offer writes it and where it was found (title, missions, profile…), and the criteria the
//! offer meets ("Stage · Île-de-France · Niveau 6"). Uses the search's own analyzers and query
//! reading (synonyms included), so it names what made the search return the offer.

use tantivy::tokenizer::TokenStream;

use crate::domain::{Facet, Offer, SearchParams};
use crate::index::query::{ParsedQuery, parse};
use crate::index::schema::{analyze, fr_exact, fr_stem};
use crate::index::synonyms::{Alternative, Synonyms};

/// One keyword found: as the offer writes it, and the places (in the offer's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The offer's words.
    pub words: String,
    /// "l'intitulé", "les missions", …
    pub places: Vec<&'static str>,
}

/// What matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Why {
    /// The keywords: words, quoted words, phrases, then the synonym groups (by the member the
    /// offer holds).
    pub keywords: Vec<Found>,
    /// Labels of the offer's values of the facets the search constrains.
    pub criteria: Vec<&'static str>,
}

impl Why {
    /// One line: "« ingénieur » dans l'intitulé et les missions ; Stage · Île-de-France".
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = self
            .keywords
            .iter()
            .map(|f| format!("« {} » dans {}", f.words, and_list(&f.places)))
            .collect();
        if !self.criteria.is_empty() {
            parts.push(self.criteria.join(" · "));
        }
        parts.join(" ; ")
    }
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} et {last}", init.join(", ")),
    }
}

struct Token {
    stem: Option<String>,
    folded: String,
    position: usize,
    from: usize,
    to: usize,
}

struct Place {
    name: &'static str,
    text: String,
    tokens: Vec<Token>,
}

fn places(offer: &Offer) -> Vec<Place> {
    let f = &offer.fields;
    let (mut stem, mut exact) = (fr_stem(), fr_exact());
    [
        ("l'intitulé", Some(&f.title)),
        ("les missions", Some(&f.description)),
        ("le profil", f.profile.as_ref()),
        (
            "la présentation du service",
            f.employer_description.as_ref(),
        ),
        ("le lieu", f.location.as_ref()),
        ("le service", Some(&f.service)),
    ]
    .into_iter()
    .filter_map(|(name, text)| Some((name, text?.clone())))
    .map(|(name, text)| {
        let mut tokens = Vec::new();
        let mut s = exact.token_stream(&text);
        while s.advance() {
            let t = s.token();
            tokens.push(Token {
                stem: None,
                folded: t.text.clone(),
                position: t.position,
                from: t.offset_from,
                to: t.offset_to,
            });
        }
        drop(s);
        for t in &mut tokens {
            t.stem = analyze(&mut stem, &text[t.from..t.to]).pop();
        }
        Place { name, text, tokens }
    })
    .collect()
}

/// Where tokens satisfying `is` are, and the first one as written.
fn find(places: &[Place], is: impl Fn(&Token) -> bool) -> Option<Found> {
    let mut words = None;
    let mut names = Vec::new();
    for p in places {
        if let Some(t) = p.tokens.iter().find(|t| is(t)) {
            words.get_or_insert_with(|| p.text[t.from..t.to].to_lowercase());
            names.push(p.name);
        }
    }
    Some(Found {
        words: words?,
        places: names,
    })
}

fn find_phrase(places: &[Place], phrase: &[String]) -> Option<Found> {
    let mut words = None;
    let mut names = Vec::new();
    for p in places {
        let at = p.tokens.iter().enumerate().find_map(|(i, first)| {
            if first.folded != phrase[0] {
                return None;
            }
            let mut last = first;
            for (k, want) in phrase[1..].iter().enumerate() {
                last = p.tokens[i + 1..]
                    .iter()
                    .find(|t| t.position == first.position + k + 1 && &t.folded == want)?;
            }
            Some((first.from, last.to))
        });
        if let Some((from, to)) = at {
            words.get_or_insert_with(|| p.text[from..to].to_lowercase());
            names.push(p.name);
        }
    }
    Some(Found {
        words: words?,
        places: names,
    })
}

fn find_alternative(places: &[Place], a: &Alternative) -> Option<Vec<Found>> {
    let mut out = Vec::new();
    for t in &a.terms {
        out.push(find(places, |x| x.stem.as_ref() == Some(t))?);
    }
    for t in &a.exact_terms {
        out.push(find(places, |x| &x.folded == t)?);
    }
    Some(out)
}

/// Why the search of `params` returns `offer` (keywords read with `synonyms`; those it does
/// not find are left out).
pub fn explain(params: &SearchParams, offer: &Offer, synonyms: &Synonyms) -> Why {
    let places = places(offer);
    let mut keywords = Vec::new();
    if let Some(q) = params.q.as_deref() {
        let parsed: ParsedQuery = parse(q, synonyms);
        for t in &parsed.terms {
            keywords.extend(find(&places, |x| x.stem.as_ref() == Some(t)));
        }
        for t in &parsed.exact_terms {
            keywords.extend(find(&places, |x| &x.folded == t));
        }
        for p in &parsed.phrases {
            keywords.extend(find_phrase(&places, p));
        }
        for group in &parsed.any_of {
            if let Some(found) = group.iter().find_map(|a| find_alternative(&places, a)) {
                keywords.extend(found);
            }
        }
        if !parsed.references.is_empty() {
            keywords.push(Found {
                words: offer.reference.to_string(),
                places: vec!["la référence"],
            });
        }
    }
    let ords = offer.fields.facet_ordinals();
    let criteria = Facet::ALL
        .iter()
        .filter(|f| !params.filters[f.index()].is_empty())
        .filter_map(|f| ords[f.index()].map(|o| f.values().label(o)))
        .collect();
    Why { keywords, criteria }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DateRule, OfferInput, Reference};

    fn offer() -> Offer {
        let fields = OfferInput {
            title: Some("Chargé(e) de ressources humaines".into()),
            contract: Some("stage".into()),
            diploma: Some("niveau-6".into()),
            domain: Some("ressources-humaines".into()),
            administration: Some("min-culture".into()),
            service: Some(serde_json::json!("Direction générale")),
            country: Some("FR".into()),
            region: Some("11".into()),
            department: Some("75".into()),
            description: Some("Gérer la paie et le recrutement des agents.".into()),
            profile: Some("Master en gestion des ressources humaines".into()),
            location: Some("Paris".into()),
            start: Some("2027-01".into()),
            contact_email: Some("contact@culture.gouv.fr".into()),
            unpublish_on: Some("2027-06-01".into()),
            ..OfferInput::default()
        }
        .validate(DateRule::Import)
        .unwrap();
        let t = time::macros::datetime!(2026-11-25 12:00 UTC);
        Offer::published(1, Reference::parse("S-2026-0001").unwrap(), fields, t)
    }

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        SearchParams::from_str_pairs(pairs).unwrap()
    }

    #[test]
    fn keywords_are_named_where_found_and_criteria_by_label() {
        let why = explain(
            &params(&[
                ("q", "RH paie \"la paie\""),
                ("contract", "stage"),
                ("region", "11"),
                ("diploma", "niveau-6"),
            ]),
            &offer(),
            &Synonyms::builtin(),
        );
        assert_eq!(
            why.line(),
            "« la paie » dans les missions ; « ressources » dans l'intitulé et le profil ; « humaines » dans l'intitulé et le profil ; « paie » dans les missions ; Stage · Niveau 6 – (Bac+3 ou 4) · Île-de-France"
        );
        let none = explain(&params(&[]), &offer(), &Synonyms::builtin());
        assert_eq!(none, Why::default());
        assert_eq!(none.line(), "");
    }
}
