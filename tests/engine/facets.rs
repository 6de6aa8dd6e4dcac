//! The one-pass disjunctive facet collector (keyword searches) and the browse tables (no
//! keyword) against a naive oracle: the text query alone through tantivy's own collector, then
//! every filter and count evaluated in plain Rust over the offers of the store — after updates
//! that delete documents and add segments.

use std::collections::{HashMap, HashSet};

use offerwatch::Engine;
use offerwatch::domain::communes::{communes, distance_km};
use offerwatch::domain::{Facet, Offer, OfferState, SearchParams, Sort};
use offerwatch::fixtures::Generator;
use offerwatch::import::parse_line;
use offerwatch::index::query;
use proptest::prelude::*;
use tantivy::collector::DocSetCollector;
use tantivy::query::AllQuery;
use time::macros::date;

use crate::common::*;

fn facet_value(o: &Offer, f: Facet) -> Option<String> {
    let x = &o.fields;
    match f {
        Facet::Contract => Some(x.contract.code().into()),
        Facet::Diploma => Some(x.diploma.code().into()),
        Facet::Domain => Some(x.domain.code().into()),
        Facet::Administration => Some(x.administration.code().into()),
        Facet::Region => x.region.map(|r| r.code().into()),
        Facet::Department => x.department.map(|d| d.code().into()),
        Facet::Country => Some(x.country.code().into()),
        Facet::Telework => x.telework.map(|b| b.to_string()),
        Facet::Paid => x.paid.map(|b| b.to_string()),
        Facet::Versant => Some(
            offerwatch::domain::referentials()
                .administrations
                .iter()
                .find(|a| a.code == x.administration.code())
                .map_or("etat".to_string(), |a| a.versant.clone()),
        ),
    }
}

/// Ids of the offers matching the keyword part alone, by tantivy's own DocSetCollector.
fn text_matches(engine: &Engine, q: Option<&str>) -> HashSet<u64> {
    scored_matches(engine, q).into_keys().collect()
}

/// The offers matching the keyword part alone, with their BM25 scores when `q` is given: all
/// the matches through tantivy's top-docs collector with room for every one of them (nothing
/// is ever pruned).
fn scored_matches(engine: &Engine, q: Option<&str>) -> HashMap<u64, f32> {
    let idx = engine.index();
    let searcher = idx.reader.searcher();
    // The words read as the search reads them: typos corrected (tests/engine/typos.rs holds
    // the corrections to their own oracle).
    let query: Box<dyn tantivy::query::Query> = q
        .and_then(|q| {
            let mut exact = offerwatch::index::schema::fr_exact();
            let corrected = offerwatch::index::typos::corrections(
                &searcher,
                idx.schema.text_exact,
                q,
                &mut exact,
            )
            .unwrap();
            let parsed = query::parse_with(
                q,
                &mut offerwatch::index::schema::fr_stem(),
                &mut exact,
                &idx.synonyms().get(),
                &corrected,
            );
            query::to_query(&parsed, idx.schema)
        })
        .unwrap_or_else(|| Box::new(AllQuery));
    let docs = searcher.search(&*query, &DocSetCollector).unwrap();
    let id = |addr: tantivy::DocAddress| {
        let reader = searcher.segment_reader(addr.segment_ord);
        let col = reader.fast_fields().u64("id").unwrap();
        col.first(addr.doc_id).unwrap()
    };
    if q.is_none() || docs.is_empty() {
        return docs.into_iter().map(|addr| (id(addr), 0.0)).collect();
    }
    let all = tantivy::collector::TopDocs::with_limit(docs.len()).order_by_score();
    let scored = searcher.search(&*query, &all).unwrap();
    assert_eq!(scored.len(), docs.len());
    scored
        .into_iter()
        .map(|(score, addr)| (id(addr), score))
        .collect()
}

struct Naive {
    total: u64,
    counts: Vec<HashMap<String, u64>>,
    order: Vec<u64>,
}

fn naive(engine: &Engine, offers: &[Offer], p: &SearchParams) -> Naive {
    let matched = text_matches(engine, p.q.as_deref());
    let since = p.published_since.map(|s| s.resolve(NOW));
    let passes = |o: &Offer, f: Facet| {
        let allowed: Vec<&str> = p.filter(f).iter().map(|&x| f.values().code(x)).collect();
        allowed.is_empty() || facet_value(o, f).is_some_and(|v| allowed.contains(&v.as_str()))
    };
    // Distance by haversine over every offer's commune.
    let distance = |o: &Offer| -> Option<f64> {
        let n = p.near.as_ref()?;
        let c = communes().by_code(o.fields.commune.as_deref()?)?;
        Some(distance_km(n.place.lat, n.place.lon, c.lat, c.lon))
    };
    let candidates: Vec<&Offer> = offers
        .iter()
        .filter(|o| {
            o.is_visible(NOW, &offerwatch::domain::local_time::Zone::default())
                && matched.contains(&o.id)
        })
        .filter(|o| since.is_none_or(|s| o.published_at.unwrap() >= s))
        .filter(|o| {
            p.near
                .as_ref()
                .is_none_or(|n| distance(o).is_some_and(|d| d <= f64::from(n.km)))
        })
        .collect();
    let mut counts = vec![HashMap::new(); Facet::COUNT];
    // One "query" per facet: every filter but that facet's own.
    for f in Facet::ALL {
        for o in &candidates {
            if Facet::ALL
                .iter()
                .filter(|&&g| g != f)
                .all(|&g| passes(o, g))
                && let Some(v) = facet_value(o, f)
            {
                *counts[f.index()].entry(v).or_insert(0) += 1;
            }
        }
    }
    let mut all: Vec<&&Offer> = candidates
        .iter()
        .filter(|o| Facet::ALL.iter().all(|&g| passes(o, g)))
        .collect();
    all.sort_by_key(|o| std::cmp::Reverse((o.published_at.unwrap(), o.id)));
    if p.sort == Sort::Distance {
        // Nearest first (as the index keeps distances, in single precision), then newest.
        all.sort_by(|a, b| {
            let (da, db) = (distance(a).unwrap() as f32, distance(b).unwrap() as f32);
            da.total_cmp(&db)
                .then(b.published_at.cmp(&a.published_at))
                .then(b.id.cmp(&a.id))
        });
    }
    Naive {
        total: all.len() as u64,
        counts,
        order: all.iter().map(|o| o.id).collect(),
    }
}

/// Whether the engine's answer to `pairs` (total, first 100 ids, every facet's counts in
/// descending order) is the oracle's.
fn agrees_with_oracle(
    engine: &Engine,
    offers: &[Offer],
    pairs: &[(String, String)],
) -> Result<(), String> {
    let p = SearchParams::from_pairs(pairs).unwrap();
    let got = engine.search_ids(&p).unwrap();
    let want = naive(engine, offers, &p);
    if got.total != want.total {
        return Err(format!(
            "total {} != {} for {pairs:?}",
            got.total, want.total
        ));
    }
    if got.ids != want.order[..want.order.len().min(100)] {
        return Err(format!("ids differ for {pairs:?}"));
    }
    for fc in got.facets.unwrap() {
        let got_counts: HashMap<String, u64> = fc
            .values
            .iter()
            .map(|v| (v.value.to_string(), v.count))
            .collect();
        if got_counts != want.counts[fc.facet.index()] {
            return Err(format!(
                "facet {}: {got_counts:?} != {:?} for {pairs:?}",
                fc.facet.name(),
                want.counts[fc.facet.index()]
            ));
        }
        // Ordered by count, descending.
        if !fc.values.windows(2).all(|w| w[0].count >= w[1].count) {
            return Err(format!("facet {} out of order", fc.facet.name()));
        }
    }
    Ok(())
}

/// [`agrees_with_oracle`] for the keywords `q` (none: browsing) and a filter per pick: the
/// value its offer holds in its facet (a facet picked twice: two values).
fn agrees_with_picks(engine: &Engine, offers: &[Offer], q: Option<&str>, pick: &[(Facet, &Offer)]) {
    let mut pairs: Vec<(String, String)> = q
        .map(|q| ("q".to_string(), q.to_string()))
        .into_iter()
        .collect();
    for (f, o) in pick {
        if let Some(v) = facet_value(o, *f) {
            pairs.push((f.name().to_string(), v));
        }
    }
    pairs.push(("per_page".to_string(), "100".to_string()));
    agrees_with_oracle(engine, offers, &pairs).unwrap();
}

fn corpus(seed: u64, n: usize) -> Vec<offerwatch::store::NewOffer> {
    Generator::new(seed, date!(2026 - 11 - 20))
        .take(n)
        .map(|i| parse_line(&offerwatch::fixtures::to_json_line(&i), NOW).unwrap())
        .collect()
}

const WORDS: [&str; 17] = [
    // Typos, read as the closest words of the offers.
    "stagiare",
    "comunication",
    "juridqiue",
    "stagiaire",
    "apprentis",
    "chargé",
    "données",
    "communication",
    "juridique",
    "\"chargé de mission\"",
    "paris",
    "ressources humaines",
    "gestion",
    "numérique",
    "assistant",
    "marchés publics",
    "stagiaire \"chargé de\"",
];

fn arb_params(offers: Vec<Offer>) -> impl Strategy<Value = (Vec<(String, String)>, Vec<Offer>)> {
    let n = offers.len();
    (
        proptest::option::of(0..WORDS.len()),
        proptest::collection::vec((0..Facet::COUNT, 0..n), 0..5),
        proptest::option::of(prop_oneof![Just("30"), Just("200"), Just("400")]),
        proptest::option::weighted(0.4, (0..n, 0..5usize, any::<bool>())),
    )
        .prop_map(move |(word, picks, since, near)| {
            let mut pairs = Vec::new();
            if let Some(w) = word {
                pairs.push(("q".to_string(), WORDS[w].to_string()));
            }
            let mut diploma_set = false;
            for (f, o) in picks {
                let facet = Facet::ALL[f];
                if facet == Facet::Diploma {
                    if diploma_set {
                        continue;
                    }
                    diploma_set = true;
                }
                // Filter values are taken from the corpus so that filters bite.
                if let Some(v) = facet_value(&offers[o], facet) {
                    pairs.push((facet.name().to_string(), v));
                }
            }
            if let Some(s) = since {
                pairs.push(("published_since".to_string(), s.to_string()));
            }
            // A place where an offer of the corpus is (its commune, or that commune's first
            // postal code), so that distances bite.
            if let Some((o, km, by_postcode)) = near
                && let Some(c) = offers[o]
                    .fields
                    .commune
                    .as_deref()
                    .and_then(|c| communes().by_code(c))
            {
                let place = match c.postcodes().next() {
                    Some(p) if by_postcode => p.to_string(),
                    _ => c.code.to_string(),
                };
                pairs.push(("near".to_string(), place));
                pairs.push((
                    "km".to_string(),
                    ["5", "10", "30", "100", "200"][km].to_string(),
                ));
                if by_postcode {
                    pairs.push(("sort".to_string(), "distance".to_string()));
                }
            }
            pairs.push(("per_page".to_string(), "100".to_string()));
            (pairs, offers.clone())
        })
}

#[test]
fn one_pass_counts_equal_naive_counts_on_random_corpora() {
    let cases = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 6,
        ..ProptestConfig::default()
    });
    runner
        .run(&(0u64..10_000, 60usize..250), |(seed, n)| {
            let dir = tempfile::tempdir().unwrap();
            // Every other corpus with every walk over a segment's matches in two halves.
            let engine = match cases.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2 {
                0 => open(dir.path()),
                _ => open_sharing_walks(dir.path()),
            };
            let created = publish(&engine, corpus(seed, n));
            // Then changes that delete documents from the first segment and add others: every
            // 7th offer archived, every 11th past its end of diffusion, every 5th retitled, in
            // small batches (several commits).
            let mut seq = 0;
            for chunk in created.chunks(40) {
                for o in chunk {
                    if o.id % 7 == 0 {
                        seq = engine
                            .update_offer(o.id, |x| {
                                x.state = OfferState::Archived;
                                Ok(())
                            })
                            .unwrap()
                            .1;
                    } else if o.id % 11 == 0 {
                        // Still published, but its diffusion has ended: indexed, not visible.
                        seq = engine
                            .update_offer(o.id, |x| {
                                x.fields.unpublish_on = date!(2026 - 11 - 24);
                                Ok(())
                            })
                            .unwrap()
                            .1;
                    } else if o.id % 5 == 0 {
                        seq = engine
                            .update_offer(o.id, |x| {
                                x.fields.title.push_str(" (mise à jour)");
                                Ok(())
                            })
                            .unwrap()
                            .1;
                    }
                }
                engine
                    .wait_indexed(seq, std::time::Duration::from_secs(10))
                    .unwrap();
            }
            let ids: Vec<u64> = created.iter().map(|o| o.id).collect();
            let offers: Vec<Offer> = engine.store().offers(&ids).unwrap();
            let mut inner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 40,
                ..ProptestConfig::default()
            });
            inner
                .run(&arb_params(offers), |(pairs, offers)| {
                    if let Err(e) = agrees_with_oracle(&engine, &offers, &pairs) {
                        return Err(TestCaseError::fail(e));
                    }
                    Ok(())
                })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn choosing_a_value_keeps_the_other_values_of_its_facet() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    publish(&engine, corpus(3, 150));
    let all = engine.search(&params(&[])).unwrap();
    let stage = engine.search(&params(&[("contract", "stage")])).unwrap();
    // The contract facet is unchanged by its own filter...
    assert_eq!(
        all.facets.as_ref().unwrap()[0],
        stage.facets.as_ref().unwrap()[0]
    );
    // ...and its "stage" count is the total of the filtered search.
    let stage_count = stage.facets.as_ref().unwrap()[0]
        .values
        .iter()
        .find(|v| v.value == "stage")
        .unwrap()
        .count;
    assert_eq!(stage_count, stage.total);
    assert_eq!(stage.facets.as_ref().unwrap()[0].values[0].label, "Stage");
    assert!(
        stage
            .offers
            .iter()
            .all(|o| o.fields.contract.is_internship())
    );
    let _ = OfferState::Published;
}

/// Sorted by relevance, a page holds the best-scored visible offers passing the filters, in
/// score order — also for a word most offers hold (`stagiaire`), whose counts are browsing's
/// less those of the offers it leaves out and whose page comes from the pruning top-k.
#[test]
fn relevance_pages_hold_the_best_scores_also_for_words_most_offers_hold() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let created = publish(&engine, corpus(11, 400));
    let ids: Vec<u64> = created.iter().map(|o| o.id).collect();
    let offers: Vec<Offer> = engine.store().offers(&ids).unwrap();
    let contract = facet_value(&offers[0], Facet::Contract).unwrap();
    let region = facet_value(&offers[1], Facet::Region).unwrap();
    let mut most = 0;
    for q in ["stagiaire", "apprentis", "gestion", "stagiaire données"] {
        let (total, visible) = (text_matches(&engine, Some(q)).len(), offers.len());
        most += usize::from(total * 2 >= visible);
        for filters in [
            vec![],
            vec![("contract", contract.as_str())],
            vec![("region", region.as_str())],
        ] {
            let mut pairs = vec![("q", q), ("sort", "relevance"), ("per_page", "20")];
            pairs.extend(filters.iter().copied());
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let p = SearchParams::from_pairs(&pairs).unwrap();
            let got = engine.search_ids(&p).unwrap();
            let want = naive(&engine, &offers, &p);
            assert_eq!(got.total, want.total, "total for {pairs:?}");
            let scores = scored_matches(&engine, Some(q));
            let page: Vec<f32> = got.ids.iter().map(|id| scores[id]).collect();
            assert_eq!(page.len(), want.order.len().min(20), "{pairs:?}");
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * a.abs().max(1.0);
            assert!(
                page.windows(2).all(|w| w[0] >= w[1] || close(w[0], w[1])),
                "scores out of order for {pairs:?}: {page:?}"
            );
            // No offer left off the page scores better than the page's last.
            if let Some(&last) = page.last() {
                let best_left = want
                    .order
                    .iter()
                    .filter(|id| !got.ids.contains(id))
                    .map(|id| scores[id])
                    .fold(f32::MIN, f32::max);
                assert!(
                    best_left <= last || close(best_left, last),
                    "{pairs:?}: {best_left} left off, the page ends at {last}"
                );
            }
        }
    }
    assert!(most > 0, "a word most offers hold is among the queries");
}

/// A word most offers hold (`stagiaire`) with two and three filters: the counts are browsing's
/// less those of the documents the word leaves out, of which only those passing one of the two
/// most selective filters are read — every combination agrees with the oracle.
#[test]
fn words_most_offers_hold_count_exactly_under_several_filters() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let created = publish(&engine, corpus(11, 400));
    let archived = created.iter().filter(|o| o.id % 7 == 0).map(|o| {
        engine.update_offer(o.id, |x| {
            x.state = OfferState::Archived;
            Ok(())
        })
    });
    let seq = archived.map(|r| r.unwrap().1).max().unwrap();
    engine
        .wait_indexed(seq, std::time::Duration::from_secs(10))
        .unwrap();
    let ids: Vec<u64> = created.iter().map(|o| o.id).collect();
    let offers: Vec<Offer> = engine.store().offers(&ids).unwrap();
    let matched = text_matches(&engine, Some("stagiaire")).len();
    let indexed = offers
        .iter()
        .filter(|o| o.state != OfferState::Archived)
        .count();
    assert!(
        matched * 2 > indexed,
        "stagiaire matches most offers: {matched} of {indexed}"
    );
    let mut checked = 0;
    for (i, a) in offers.iter().enumerate().step_by(23) {
        let b = &offers[(i * 7 + 5) % offers.len()];
        let c = &offers[(i * 3 + 1) % offers.len()];
        let picks: [&[(Facet, &Offer)]; 3] = [
            &[(Facet::Region, a), (Facet::Contract, b)],
            &[
                (Facet::Diploma, a),
                (Facet::Domain, b),
                (Facet::Contract, c),
            ],
            &[(Facet::Region, a), (Facet::Region, b), (Facet::Diploma, c)],
        ];
        for pick in picks {
            agrees_with_picks(&engine, &offers, Some("stagiaire"), pick);
            checked += 1;
        }
    }
    assert!(checked >= 30);
}

/// Browsing (no keyword) with a contract and one, two or three other filters, one or two values
/// each, and without a contract: the counts come from the per-contract pair counts, from walks
/// over positions, or both — every combination agrees with the oracle, with documents deleted
/// and others past their end of diffusion.
#[test]
fn browsing_counts_exactly_with_a_contract_and_other_filters() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let created = publish(&engine, corpus(13, 400));
    let changed = created
        .iter()
        .filter(|o| o.id % 7 == 0 || o.id % 11 == 0)
        .map(|o| {
            engine.update_offer(o.id, |x| {
                match o.id % 7 {
                    0 => x.state = OfferState::Archived,
                    _ => x.fields.unpublish_on = date!(2026 - 11 - 24),
                }
                Ok(())
            })
        });
    let seq = changed.map(|r| r.unwrap().1).max().unwrap();
    engine
        .wait_indexed(seq, std::time::Duration::from_secs(10))
        .unwrap();
    let ids: Vec<u64> = created.iter().map(|o| o.id).collect();
    let offers: Vec<Offer> = engine.store().offers(&ids).unwrap();
    let mut checked = 0;
    for (i, a) in offers.iter().enumerate().step_by(29) {
        let b = &offers[(i * 7 + 5) % offers.len()];
        let c = &offers[(i * 3 + 1) % offers.len()];
        let picks: [&[(Facet, &Offer)]; 8] = [
            &[(Facet::Contract, a)],
            &[(Facet::Contract, a), (Facet::Region, b)],
            &[
                (Facet::Contract, a),
                (Facet::Contract, b),
                (Facet::Department, c),
            ],
            &[(Facet::Contract, a), (Facet::Region, b), (Facet::Region, c)],
            &[
                (Facet::Contract, a),
                (Facet::Domain, b),
                (Facet::Diploma, c),
            ],
            &[
                (Facet::Contract, a),
                (Facet::Region, b),
                (Facet::Domain, c),
                (Facet::Administration, a),
            ],
            &[(Facet::Region, a), (Facet::Domain, b)],
            &[(Facet::Region, a), (Facet::Domain, b), (Facet::Versant, c)],
        ];
        for pick in picks {
            agrees_with_picks(&engine, &offers, None, pick);
            checked += 1;
        }
    }
    assert!(checked >= 100);
}

/// Keyword searches whose matches are walked in two halves, one per thread (every walk here; a
/// server shares only long ones), agree with the oracle: words and a phrase, without a filter,
/// with a contract, with a contract and a region.
#[test]
fn walks_shared_between_two_threads_count_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_sharing_walks(dir.path());
    let created = publish(&engine, corpus(17, 400));
    let ids: Vec<u64> = created.iter().map(|o| o.id).collect();
    let offers: Vec<Offer> = engine.store().offers(&ids).unwrap();
    let mut checked = 0;
    for (i, a) in offers.iter().enumerate().step_by(41) {
        let b = &offers[(i * 7 + 5) % offers.len()];
        let picks: [&[(Facet, &Offer)]; 3] = [
            &[],
            &[(Facet::Contract, a)],
            &[(Facet::Contract, a), (Facet::Region, b)],
        ];
        for q in [
            "gestion",
            "assistant",
            "communication",
            "\"chargé de mission\"",
        ] {
            for pick in picks {
                agrees_with_picks(&engine, &offers, Some(q), pick);
                checked += 1;
            }
        }
    }
    assert!(checked >= 100);
}
