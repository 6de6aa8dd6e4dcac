//! The percolator against the search it must agree with: an alert matches an offer iff running
//! its saved search right after the offer's first publication returns the offer.

use std::time::Duration;

use offerwatch::domain::{OfferState, SearchParams};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::import::parse_line;
use proptest::prelude::*;
use time::macros::date;

use crate::common::*;

const KEYWORDS: [&str; 22] = [
    // Synonyms and abbreviations (index-schema/synonyms.json).
    "RH",
    "stage DRH",
    "info",
    "Ressource Humaine",
    "secrétariat",
    "SI juridique",
    "stagiaire",
    "Stagiaires",
    "données",
    "DONNEES",
    "\"chargé de mission\"",
    "juridique",
    "ingénieur",
    "communication numérique",
    "ressources humaines",
    "\"de la\"",
    "accueil",
    "paris",
    "archives",
    "\"Délégation territoriale\"",
    "œuvre",
    "gestion administrative",
];

const FACET_VALUES: [(&str, &[&str]); 9] = [
    ("telework", &["true", "false"]),
    ("paid", &["true", "false"]),
    ("versant", &["etat", "territoriale", "hospitaliere"]),
    ("contract", &["stage", "apprentissage"]),
    ("diploma", &["niveau-5", "niveau-6", "niveau-7"]),
    (
        "domain",
        &[
            "numerique",
            "droit-juridique",
            "ressources-humaines",
            "communication-multimedia",
            "accueil",
        ],
    ),
    ("region", &["11", "84", "76", "53"]),
    ("department", &["75", "92", "69", "31"]),
    (
        "administration",
        &["min-interieur", "min-armees", "min-justice", "communes"],
    ),
];

/// Places where the generated offers are (postal codes, INSEE codes and names).
const PLACES: [&str; 8] = [
    "75001",
    "69003",
    "Lyon",
    "31555",
    "Marseille",
    "92100",
    "Rennes",
    "Lille",
];
const KMS: [&str; 5] = ["5", "20", "30", "100", "200"];

fn arb_search() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        proptest::option::weighted(0.6, 0..KEYWORDS.len()),
        proptest::collection::vec((0..FACET_VALUES.len(), 0..5usize), 0..4),
        proptest::option::weighted(
            0.15,
            prop_oneof![
                Just("7".to_string()),
                Just("2026-11-25T00:00:00Z".to_string()),
                Just("2026-11-26T00:00:00Z".to_string())
            ],
        ),
        any::<bool>(),
        proptest::option::weighted(0.3, (0..PLACES.len(), 0..KMS.len())),
    )
        .prop_map(|(kw, facets, since, relevance, near)| {
            let mut pairs = Vec::new();
            if let Some(k) = kw {
                pairs.push(("q".to_string(), KEYWORDS[k].to_string()));
            }
            let mut diploma = false;
            for (f, v) in facets {
                let (name, values) = FACET_VALUES[f];
                if name == "diploma" {
                    if diploma {
                        continue;
                    }
                    diploma = true;
                }
                pairs.push((name.to_string(), values[v % values.len()].to_string()));
            }
            if let Some(s) = since {
                pairs.push(("published_since".to_string(), s));
            }
            if relevance {
                pairs.push(("sort".to_string(), "relevance".to_string()));
            }
            // 30 % of the alerts measure a distance.
            if let Some((place, km)) = near {
                pairs.push(("near".to_string(), PLACES[place].to_string()));
                pairs.push(("km".to_string(), KMS[km].to_string()));
            }
            pairs
        })
}

#[test]
fn percolator_agrees_with_search_on_random_offers_and_alerts() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 4,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(0u64..1000, proptest::collection::vec(arb_search(), 40..70)),
            |(seed, searches)| {
                let dir = tempfile::tempdir().unwrap();
                let engine = open(dir.path());
                // Some offers already there, so that anchors have document frequencies.
                let base: Vec<_> = Generator::new(seed, date!(2026 - 11 - 20))
                    .take(60)
                    .map(|o| parse_line(&to_json_line(&o), NOW).unwrap())
                    .collect();
                publish(&engine, base);
                let params: Vec<SearchParams> = searches
                    .iter()
                    .map(|p| SearchParams::from_pairs(p).unwrap())
                    .collect();
                {
                    let df = engine.anchor_doc_freq();
                    let mut p = engine.percolator_mut();
                    for (i, sp) in params.iter().enumerate() {
                        p.insert(i as u64, sp, &df);
                    }
                }
                let mut total_matches = 0;
                for o in Generator::new(seed + 7, date!(2026 - 11 - 25)).take(25) {
                    let mut n = parse_line(&to_json_line(&o), NOW).unwrap();
                    n.state = OfferState::Published;
                    n.published_at = Some(NOW);
                    n.created_at = NOW;
                    let (created, seq) = engine.create_offers(vec![n]).unwrap();
                    engine.wait_indexed(seq, Duration::from_secs(10)).unwrap();
                    let offer = &created[0];
                    let got: Vec<u64> = engine
                        .percolator()
                        .matches(offer, NOW)
                        .to_bitmap()
                        .iter()
                        .map(u64::from)
                        .collect();
                    let mut want = Vec::new();
                    for (i, sp) in params.iter().enumerate() {
                        let mut sp = sp.clone();
                        sp.per_page = 100;
                        sp.facets = false;
                        // An alert keeps its words as they were read when it was saved (typos
                        // corrected then): it matches them as they are, as `exact` does.
                        sp.exact = true;
                        if engine.search_ids(&sp).unwrap().ids.contains(&offer.id) {
                            want.push(i as u64);
                        }
                    }
                    total_matches += want.len();
                    prop_assert_eq!(
                        &got,
                        &want,
                        "offer {} ({:?})",
                        offer.reference,
                        offer.fields.title
                    );
                }
                // The random mixes must make the comparison bite.
                prop_assert!(total_matches > 0);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn a_backlog_of_offers_is_percolated_by_rounds_each_offer_once() {
    use offerwatch::candidates::{PERCOLATED_CURSOR, percolate_pending};
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    {
        let df = engine.anchor_doc_freq();
        let mut p = engine.percolator_mut();
        p.insert(1, &params(&[("q", "juriste")]), &df);
        p.set_owner(1, 42, offerwatch::domain::account::Frequency::Daily);
    }
    // An import: 2,100 offers, a few of which the alert matches.
    let offers: Vec<_> = (0..2_100)
        .map(|i| {
            let title = match i % 700 {
                0 => format!("Juriste en droit public {i}"),
                _ => format!("Stagiaire chargé d'études {i}"),
            };
            new_offer(
                input(&title, "Au sein du bureau."),
                OfferState::Published,
                NOW,
            )
        })
        .collect();
    publish(&engine, offers);
    let round = || percolate_pending(&engine, &|| {}).unwrap();
    // The change log is taken 2,000 entries at a time, and the next round goes on from there.
    let first = round();
    // Offers 0, 700 and 1,400 are the alert's, each an outbox row.
    assert_eq!(
        (first.changes, first.offers, first.matches),
        (2_000, 2_000, 3)
    );
    let second = round();
    assert_eq!(
        (second.changes, second.offers, second.matches),
        (100, 100, 0)
    );
    assert_eq!(round().changes, 0, "nothing left");
    assert_eq!(engine.store().percolated_count().unwrap(), 2_100);
    // After a crash before the cursor was written, the round is taken again: nothing is
    // percolated twice.
    engine.store().set_meta(PERCOLATED_CURSOR, "0").unwrap();
    let again = round();
    assert_eq!((again.changes, again.offers, again.matches), (2_000, 0, 0));
    assert_eq!(engine.store().percolated_count().unwrap(), 2_100);
}
