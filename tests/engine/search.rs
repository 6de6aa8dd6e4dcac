//! Analyzer behaviour, reference lookup, visibility and ordering, through the real engine.

use std::time::Duration;

use offerwatch::domain::{Lifecycle, Offer, OfferState};
use time::macros::datetime;

use crate::common::*;

fn corpus(engine: &offerwatch::Engine) -> Vec<String> {
    let t = datetime!(2026-10-01 09:00 UTC);
    let offers = vec![
        new_offer(
            input("Ingénieur réseaux (F/H)", "Administrer le réseau"),
            OfferState::Published,
            t,
        ),
        new_offer(
            input(
                "Stagiaires au service des archives",
                "Classer des fonds anciens",
            ),
            OfferState::Published,
            t + Duration::from_secs(60),
        ),
        new_offer(
            input(
                "Chargé de mission œuvres d'art",
                "Inventorier les œuvres du musée",
            ),
            OfferState::Published,
            t + Duration::from_secs(120),
        ),
        new_offer(
            input("Chargé d'accueil", "Accueillir le public en mairie"),
            OfferState::Published,
            t + Duration::from_secs(180),
        ),
        new_offer(
            input("Accueil chargé du courrier", "Trier le courrier"),
            OfferState::Published,
            t + Duration::from_secs(240),
        ),
    ];
    publish(engine, offers)
        .into_iter()
        .map(|o| o.reference.to_string())
        .collect()
}

#[test]
fn accents_case_plurals_and_ligatures_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let r = corpus(&engine);
    assert_eq!(refs(&engine, &[("q", "ingenieur")]), vec![r[0].clone()]);
    assert_eq!(refs(&engine, &[("q", "INGÉNIEURS")]), vec![r[0].clone()]);
    assert_eq!(refs(&engine, &[("q", "stagiaire")]), vec![r[1].clone()]);
    assert_eq!(refs(&engine, &[("q", "oeuvre")]), vec![r[2].clone()]);
    assert_eq!(refs(&engine, &[("q", "œuvres")]), vec![r[2].clone()]);
    // Every word must match.
    assert_eq!(
        refs(&engine, &[("q", "ingénieur archives")]),
        Vec::<String>::new()
    );
}

#[test]
fn quoted_phrases_match_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let r = corpus(&engine);
    // Both offers contain "chargé" and "accueil"; only one has the phrase.
    let mut both = refs(&engine, &[("q", "chargé accueil")]);
    both.sort();
    assert_eq!(both, vec![r[3].clone(), r[4].clone()]);
    assert_eq!(
        refs(&engine, &[("q", "\"chargé d'accueil\"")]),
        vec![r[3].clone()]
    );
    assert_eq!(
        refs(&engine, &[("q", "\"CHARGE D'ACCUEIL\"")]),
        vec![r[3].clone()]
    );
}

#[test]
fn phrases_read_inclusive_writing_as_the_word() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let t = datetime!(2026-10-01 09:00 UTC);
    let titles = [
        "Chargé(e) de mission achats",
        "Technicien·ne de laboratoire",
        "Apprenti(e) juriste en droit public",
        "Aix-en-Provence : chargé de mission",
        "Chargé de la mission patrimoine, responsable de la communication",
    ];
    let created = publish(
        &engine,
        titles
            .iter()
            .enumerate()
            .map(|(i, title)| {
                new_offer(
                    input(title, "Au service des usagers"),
                    OfferState::Published,
                    t - Duration::from_secs(3600 * i as u64),
                )
            })
            .collect(),
    );
    let r: Vec<String> = created.iter().map(|o| o.reference.to_string()).collect();
    assert_eq!(
        refs(&engine, &[("q", "\"chargé de mission\"")]),
        vec![r[0].clone(), r[3].clone()]
    );
    assert_eq!(
        refs(&engine, &[("q", "\"technicien de laboratoire\"")]),
        vec![r[1].clone()]
    );
    assert_eq!(
        refs(&engine, &[("q", "\"apprenti juriste\"")]),
        vec![r[2].clone()]
    );
    // A word joined by hyphens keeps its parts.
    assert_eq!(
        refs(&engine, &[("q", "\"aix en provence\"")]),
        vec![r[3].clone()]
    );
    // Phrases of common words read their pairs: the words in order, side by side, and only so.
    assert_eq!(
        refs(&engine, &[("q", "\"responsable de la communication\"")]),
        vec![r[4].clone()]
    );
    assert!(refs(&engine, &[("q", "\"responsable de communication\"")]).is_empty());
    assert!(refs(&engine, &[("q", "\"la de\"")]).is_empty());
    assert_eq!(refs(&engine, &[("q", "\"de la\"")]), vec![r[4].clone()]);
    assert_eq!(
        refs(&engine, &[("q", "\"au service des usagers\"")]).len(),
        titles.len()
    );
}

#[test]
fn references_are_found_in_full_and_short_form() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let r = corpus(&engine);
    assert_eq!(refs(&engine, &[("q", &r[2])]), vec![r[2].clone()]);
    let short = r[2].trim_start_matches("S-");
    assert_eq!(refs(&engine, &[("q", short)]), vec![r[2].clone()]);
    assert_eq!(
        refs(&engine, &[("q", &r[2].to_lowercase())]),
        vec![r[2].clone()]
    );
    assert!(refs(&engine, &[("q", "S-1999-0001")]).is_empty());
    assert_eq!(
        engine
            .public_offer(&r[2])
            .unwrap()
            .unwrap()
            .reference
            .to_string(),
        r[2]
    );
}

#[test]
fn only_published_offers_in_diffusion_are_visible() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let t = datetime!(2026-10-01 09:00 UTC);
    let mut expired = input("Expiré", "Fin de diffusion passée");
    expired.unpublish_on = Some("2026-11-25".into());
    let created = publish(
        &engine,
        vec![
            new_offer(input("Visible", "Publiée"), OfferState::Published, t),
            new_offer(input("Brouillon", "Pas encore"), OfferState::Draft, t),
            new_offer(input("Archivée", "Retirée"), OfferState::Archived, t),
            new_offer(input("Pourvue", "Pourvue"), OfferState::Filled, t),
            new_offer(expired, OfferState::Published, t),
        ],
    );
    assert_eq!(refs(&engine, &[]), vec![created[0].reference.to_string()]);
    for o in &created[1..] {
        assert!(
            engine
                .public_offer(&o.reference.to_string())
                .unwrap()
                .is_none()
        );
    }
    // Publishing the draft makes it visible; archiving the first removes it.
    let now = engine.now();
    let (_, seq) = engine
        .update_offer(created[1].id, |o| {
            o.apply(
                Lifecycle::Publish,
                None,
                now,
                &offerwatch::domain::local_time::Zone::default(),
            )
        })
        .unwrap();
    engine.wait_indexed(seq, Duration::from_secs(5)).unwrap();
    let (_, seq) = engine
        .update_offer(created[0].id, |o| {
            o.apply(
                Lifecycle::Archive,
                None,
                now,
                &offerwatch::domain::local_time::Zone::default(),
            )
        })
        .unwrap();
    engine.wait_indexed(seq, Duration::from_secs(5)).unwrap();
    assert_eq!(refs(&engine, &[]), vec![created[1].reference.to_string()]);
    // A published offer cannot be deleted; a draft can.
    assert!(
        engine
            .delete_offer(created[1].id, Offer::check_deletable)
            .is_err()
    );
}

#[test]
fn newest_first_with_paging_and_published_since() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let base = datetime!(2026-11-01 09:00 UTC);
    let offers = (0..25)
        .map(|i| {
            new_offer(
                input(&format!("Offre {i}"), "Description"),
                OfferState::Published,
                base + Duration::from_secs(86_400 * i),
            )
        })
        .collect();
    let created = publish(&engine, offers);
    let all: Vec<String> = created
        .iter()
        .rev()
        .map(|o| o.reference.to_string())
        .collect();
    assert_eq!(refs(&engine, &[("per_page", "10")]), all[..10]);
    assert_eq!(
        refs(&engine, &[("per_page", "10"), ("page", "3")]),
        all[20..]
    );
    // NOW is 2026-11-25 12:00: the last 7 days hold the offers of 19..=25 Nov, 09:00.
    let page = engine.search(&params(&[("published_since", "7")])).unwrap();
    assert_eq!(page.total, 7);
    let page = engine
        .search(&params(&[("published_since", "2026-11-20T00:00:00Z")]))
        .unwrap();
    assert_eq!(page.total, 6);
}

#[test]
fn relevance_prefers_title_matches() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let t = datetime!(2026-10-01 09:00 UTC);
    let created = publish(
        &engine,
        vec![
            new_offer(
                input(
                    "Assistant juridique",
                    "Rédiger des actes; le droit des contrats publics",
                ),
                OfferState::Published,
                t,
            ),
            new_offer(
                input("Juriste contrats publics", "Conseil"),
                OfferState::Published,
                t - Duration::from_secs(3600),
            ),
        ],
    );
    let by_date = refs(&engine, &[("q", "contrats")]);
    assert_eq!(by_date[0], created[0].reference.to_string());
    let by_score = refs(&engine, &[("q", "contrats"), ("sort", "relevance")]);
    assert_eq!(by_score[0], created[1].reference.to_string());
}

#[test]
fn schema_version_mismatch_rebuilds_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let r = {
        let engine = open(dir.path());
        let r = corpus(&engine);
        engine.shutdown();
        r
    };
    // Rewrite the index's commit payload as if an older schema had built it.
    let (index, _) = offerwatch::index::SearchIndex::open(
        &dir.path().join("index"),
        Default::default(),
        offerwatch::index::synonyms::Synonyms::builtin(),
    )
    .unwrap();
    assert_eq!(
        index.committed().schema_version,
        offerwatch::index::schema::offer_schema().version
    );
    let mut writer: tantivy::IndexWriter = index.index.writer(15_000_000).unwrap();
    writer.delete_all_documents().unwrap();
    let mut prepared = writer.prepare_commit().unwrap();
    prepared.set_payload(r#"{"schema_version":0,"seq":999}"#);
    prepared.commit().unwrap();
    drop(writer);
    drop(index);
    let (_, state) = offerwatch::index::SearchIndex::open(
        &dir.path().join("index"),
        Default::default(),
        offerwatch::index::synonyms::Synonyms::builtin(),
    )
    .unwrap();
    assert_eq!(state, offerwatch::index::IndexState::NeedsRebuild);
    // The engine rebuilds: everything is searchable again.
    let engine = open(dir.path());
    assert_eq!(engine.search(&params(&[])).unwrap().total, r.len() as u64);
    assert!(engine.caught_up().unwrap());
}

#[test]
fn a_missing_index_is_rebuilt_and_rebuild_index_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = open(dir.path());
        corpus(&engine);
        engine.shutdown();
    }
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let engine = open(dir.path());
    assert_eq!(engine.search(&params(&[])).unwrap().total, 5);
    engine.rebuild_index().unwrap();
    assert_eq!(engine.search(&params(&[])).unwrap().total, 5);
}

#[test]
fn the_checked_in_sample_imports_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let file = std::fs::File::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sample.jsonl"
    ))
    .unwrap();
    let report =
        offerwatch::import::import_jsonl(&engine, std::io::BufReader::new(file), |_| {}).unwrap();
    assert_eq!((report.imported, report.rejected), (200, 0));
    let page = engine.search(&params(&[])).unwrap();
    assert!(page.total > 100, "{} visible", page.total);
    let facets = page.facets.unwrap();
    let contract: u64 = facets[0].values.iter().map(|v| v.count).sum();
    assert_eq!(contract, page.total);
    // A bad line is reported with its number and the faulty field, the others still import.
    let bad = "{\"title\":\"x\"}\nnot json\n";
    let report = offerwatch::import::import_jsonl(&engine, bad.as_bytes(), |_| {}).unwrap();
    assert_eq!(report.rejected, 2);
    assert_eq!(report.errors[0].0, 1);
    assert!(
        report.errors[0].1.contains("contract: is required"),
        "{}",
        report.errors[0].1
    );
}

#[test]
fn synonyms_and_abbreviations_find_each_other_in_search_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let t = datetime!(2026-10-01 09:00 UTC);
    let offer = |title: &str, description: &str, minutes: u64| {
        let mut i = input(title, description);
        i.contact_email = Some("contact@interieur.gouv.fr".into());
        i.service = Some(serde_json::json!("Bureau central"));
        new_offer(
            i,
            OfferState::Published,
            t + Duration::from_secs(60 * minutes),
        )
    };
    let r: Vec<String> = publish(
        &engine,
        vec![
            offer("Chargé de ressources humaines", "Gérer les dossiers", 0),
            offer("Assistant DRH", "Suivre les carrières", 1),
            offer("Stagiaire assistanat de direction", "Tenir les agendas", 2),
            offer("Développeur informatique", "Écrire du code", 3),
            offer("Agent RH", "Paie et absences", 4),
        ],
    )
    .into_iter()
    .map(|o| o.reference.to_string())
    .collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Both ways, whatever the case, accents and number.
    assert_eq!(
        sorted(refs(&engine, &[("q", "rh")])),
        sorted(vec![r[0].clone(), r[4].clone()])
    );
    assert_eq!(
        sorted(refs(&engine, &[("q", "Ressource Humaine")])),
        sorted(vec![r[0].clone(), r[4].clone()])
    );
    assert_eq!(refs(&engine, &[("q", "secretariat")]), vec![r[2].clone()]);
    assert_eq!(refs(&engine, &[("q", "info")]), vec![r[3].clone()]);
    assert_eq!(refs(&engine, &[("q", "compta")]), Vec::<String>::new());
    // With other words, the group is one more condition.
    assert_eq!(refs(&engine, &[("q", "agent RH")]), vec![r[4].clone()]);
    // A quoted word is taken as written.
    assert_eq!(refs(&engine, &[("q", "\"RH\"")]), vec![r[4].clone()]);
    // An alert on the abbreviation fires for an offer that spells it out.
    let spelled = offer(
        "Apprenti gestion des ressources humaines",
        "Recrutements",
        5,
    );
    {
        let df = engine.anchor_doc_freq();
        let mut p = engine.percolator_mut();
        p.insert(1, &params(&[("q", "GRH")]), &df);
        p.insert(2, &params(&[("q", "RH")]), &df);
        p.insert(3, &params(&[("q", "\"RH\"")]), &df);
    }
    let (created, seq) = engine.create_offers(vec![spelled]).unwrap();
    engine.wait_indexed(seq, Duration::from_secs(10)).unwrap();
    let got: Vec<u64> = engine
        .percolator()
        .matches(&created[0], NOW)
        .to_bitmap()
        .iter()
        .map(u64::from)
        .collect();
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn suggestions_fill_in_the_background_and_miss_nothing_published_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let t = datetime!(2026-10-01 09:00 UTC);
    publish(
        &engine,
        (0..3000)
            .map(|i| {
                new_offer(
                    input(&format!("Stagiaire juriste {i}"), "Droit"),
                    OfferState::Published,
                    t,
                )
            })
            .collect(),
    );
    engine.indexer().fill_suggestions();
    // Publishing is not held up by the fill, and what it publishes is suggested once ready.
    let (_, seq) = engine
        .create_offers(vec![new_offer(
            input("Zygomancien territorial", "Rare"),
            OfferState::Published,
            t,
        )])
        .unwrap();
    engine.wait_indexed(seq, Duration::from_secs(10)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while engine.suggest("stagiaire", 1).unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never filled");
        std::thread::sleep(Duration::from_millis(10));
    }
    let got: Vec<(String, u64)> = engine
        .suggest("zygo", 5)
        .unwrap()
        .into_iter()
        .map(|s| (s.text, s.count))
        .collect();
    assert_eq!(
        got,
        [
            ("zygomancien".into(), 1),
            ("zygomancien territorial".into(), 1)
        ]
    );
    assert_eq!(engine.suggest("stagiaire", 1).unwrap()[0].count, 3000);
}
