//! Typo tolerance against a naive oracle: every word of the index's folded vocabulary compared
//! by plain edit distance (swaps of neighbours counting one), the rules of lengths and first
//! letter applied by hand; then what a search does with the corrections: the same offers as
//! the corrected words, exact matches first, phrases and references never corrected.

use std::collections::HashMap;

use offerwatch::Engine;
use offerwatch::domain::OfferState;
use offerwatch::index::typos;
use proptest::prelude::*;
use time::macros::date;

use crate::common::*;

/// Edit distance with transpositions of neighbours (optimal string alignment), on chars.
fn osa(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The folded vocabulary of the index with the number of documents holding each word.
fn vocabulary(engine: &Engine) -> HashMap<String, u64> {
    let idx = engine.index();
    let searcher = idx.reader.searcher();
    let mut out = HashMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(idx.schema.text_exact).unwrap();
        let mut stream = inverted.terms().stream().unwrap();
        while stream.advance() {
            if let Ok(t) = std::str::from_utf8(stream.key()) {
                *out.entry(t.to_string()).or_insert(0) += u64::from(stream.value().doc_freq);
            }
        }
    }
    out
}

/// The rules, by hand: which word a typed one is read as, and whether it still matches.
fn naive(vocabulary: &HashMap<String, u64>, word: &str) -> Option<(String, bool)> {
    let letters = word.chars().count();
    let edits = if letters >= 9 {
        2
    } else if letters >= 5 {
        1
    } else {
        return None;
    };
    if word.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let held = vocabulary.get(word).copied().unwrap_or(0);
    if held > 3 {
        return None;
    }
    let first = word.chars().next();
    let (best, n) = vocabulary
        .iter()
        .filter(|(t, _)| t.as_str() != word && t.chars().next() == first)
        .map(|(t, n)| (osa(word, t), t, *n))
        .filter(|(d, _, _)| *d <= edits)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(a.1.cmp(b.1)))
        .map(|(_, t, n)| (t.clone(), n))?;
    if held > 0 && n < held * 50 {
        return None;
    }
    Some((best, held > 0))
}

/// A word of the vocabulary with up to two random edits (kinds and places drawn by `picks`).
fn mistype(word: &str, picks: &[(u8, usize, char)]) -> String {
    let mut w: Vec<char> = word.chars().collect();
    for &(kind, at, c) in picks {
        if w.is_empty() {
            break;
        }
        let i = at % w.len();
        match kind % 4 {
            0 => w[i] = c,
            1 => w.insert(i, c),
            2 => {
                w.remove(i);
            }
            _ if i + 1 < w.len() => w.swap(i, i + 1),
            _ => {}
        }
    }
    w.into_iter().collect()
}

#[test]
fn corrections_follow_the_rules_on_generated_offers() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let offers = offerwatch::fixtures::Generator::new(7, date!(2026 - 11 - 20))
        .take(300)
        .map(|i| {
            offerwatch::import::parse_line(&offerwatch::fixtures::to_json_line(&i), NOW).unwrap()
        })
        .collect();
    publish(&engine, offers);
    let vocabulary = vocabulary(&engine);
    let mut words: Vec<&String> = vocabulary
        .keys()
        .filter(|w| w.chars().count() >= 4)
        .collect();
    words.sort();
    let idx = engine.index();
    let searcher = idx.reader.searcher();
    let corrected = std::cell::Cell::new(0usize);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 400,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(
                0..words.len(),
                proptest::collection::vec(
                    (0u8..4, 0usize..20, proptest::char::range('a', 'z')),
                    0..3,
                ),
            ),
            |(w, picks)| {
                let typed = mistype(words[w], &picks);
                let got = typos::correct_word(&searcher, idx.schema.text_exact, &typed).unwrap();
                let want = naive(&vocabulary, &typed);
                prop_assert_eq!(
                    got.as_ref().map(|c| (c.used.clone(), c.keep_typed)),
                    want,
                    "typed {:?} from {:?}",
                    typed,
                    words[w]
                );
                corrected.set(corrected.get() + usize::from(got.is_some()));
                Ok(())
            },
        )
        .unwrap();
    // The drawn typos are corrected often enough for the comparison to mean something.
    let corrected = corrected.get();
    assert!(corrected > 50, "{corrected} corrections of 400");
}

fn offer(title: &str, description: &str) -> offerwatch::store::NewOffer {
    new_offer(input(title, description), OfferState::Published, NOW)
}

#[test]
fn a_search_reads_typos_as_the_closest_word_and_keeps_exact_matches_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let mut offers = Vec::new();
    for i in 0..60 {
        offers.push(offer(
            &format!("Stage en comptabilité publique {i}"),
            "Informatique de gestion et comptabilité.",
        ));
    }
    offers.push(offer(
        "Stage juriste",
        "Un poste en comptabilte (sic) pour un juriste.",
    ));
    let created = publish(&engine, offers);
    let total = |pairs: &[(&str, &str)]| engine.search(&params(pairs)).unwrap().total;

    // A word no offer holds: read as its closest word, the same offers found, said.
    let page = engine.search(&params(&[("q", "informatiqe")])).unwrap();
    assert_eq!(page.total, total(&[("q", "informatique")]));
    assert_eq!(page.total, 60);
    assert_eq!(
        page.corrected,
        [("informatiqe".to_string(), "informatique".to_string())]
    );
    assert_eq!(page.corrected_q.as_deref(), Some("informatique"));
    // A swap of neighbours is one edit; two edits from 9 letters; the first letter is kept.
    assert_eq!(total(&[("q", "infromatique")]), 60);
    assert_eq!(total(&[("q", "infromatiqeu")]), 60);
    assert_eq!(total(&[("q", "jurriste")]), 1);
    assert_eq!(total(&[("q", "nformatique")]), 0);
    assert_eq!(total(&[("q", "jurst")]), 0, "four letters: as typed");
    // Phrases and references are exact; `exact=true` takes every word as typed.
    assert_eq!(total(&[("q", "\"informatiqe\"")]), 0);
    assert_eq!(total(&[("q", "informatiqe"), ("exact", "true")]), 0);
    let none = engine
        .search(&params(&[("q", "informatiqe"), ("exact", "true")]))
        .unwrap();
    assert!(none.corrected.is_empty());
    assert_eq!(none.did_you_mean.as_deref(), Some("informatique"));

    // A rare word beside a far more common one matches both, the word as typed first.
    let page = engine
        .search(&params(&[("q", "comptabilte"), ("sort", "relevance")]))
        .unwrap();
    assert_eq!(page.total, 61);
    assert_eq!(page.offers[0].id, created[60].id);
    assert_eq!(
        total(&[("q", "comptabilte"), ("exact", "true")]),
        1,
        "as typed: the one offer that writes it so"
    );
    // Facet counts count what was matched.
    let page = engine.search(&params(&[("q", "informatiqe")])).unwrap();
    let contract = &page.facets.unwrap()[0];
    assert_eq!(contract.values[0].count, 60);
    // A word with no close word: nothing to suggest.
    let page = engine.search(&params(&[("q", "zzzzzzzz")])).unwrap();
    assert_eq!((page.total, page.did_you_mean), (0, None));
    assert_eq!(
        engine
            .corrected_query("Stage informatiqe")
            .unwrap()
            .as_deref(),
        Some("Stage informatique")
    );
    // Once the suggestions are filled, a correction is shown as the titles write it.
    engine.indexer().fill_suggestions();
    let started = std::time::Instant::now();
    while !engine.index().suggester.read().unwrap().is_ready() {
        assert!(started.elapsed().as_secs() < 10, "suggestions never filled");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let page = engine.search(&params(&[("q", "comptabilitr")])).unwrap();
    assert_eq!(page.total, 60);
    assert_eq!(page.corrected_q.as_deref(), Some("comptabilité"));
    assert_eq!(
        page.corrected,
        [("comptabilitr".to_string(), "comptabilité".to_string())]
    );
    assert_eq!(
        engine.corrected_query("Comptabilitr").unwrap().as_deref(),
        Some("Comptabilité")
    );
}
