use std::sync::Arc;
use std::time::Duration;

use offerwatch::Engine;
use offerwatch::domain::{DateRule, OfferInput, OfferState, SearchParams};
use offerwatch::store::NewOffer;
use time::OffsetDateTime;
use time::macros::datetime;

/// The instant the tests run at.
pub const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

/// Set when the suite runs on PostgreSQL (see `main.rs`).
pub const ON_POSTGRES: &str = "OFFERWATCH_TEST_ON_POSTGRES";

/// The database of a data dir when the suite runs on PostgreSQL: a new one on the private
/// cluster the first time, the same one after (its URL is kept in the dir).
pub fn database_for(dir: &std::path::Path) -> Option<String> {
    std::env::var_os(ON_POSTGRES)?;
    let file = dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = offerwatch::testing::database_url();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

pub fn open(dir: &std::path::Path) -> Engine {
    Engine::open_with(dir, database_for(dir).as_deref(), Arc::new(|| NOW)).unwrap()
}

/// [`open`], with every keyword search's walk over a segment's matches shared between two
/// threads (a server shares only long ones: these corpora are small).
pub fn open_sharing_walks(dir: &std::path::Path) -> Engine {
    let options = offerwatch::engine::Options {
        database_url: database_for(dir),
        clock: Arc::new(|| NOW),
        shared_walk: 1,
        ..Default::default()
    };
    Engine::open_options(dir, options).unwrap()
}

pub fn input(title: &str, description: &str) -> OfferInput {
    OfferInput {
        title: Some(title.into()),
        contract: Some("stage".into()),
        diploma: Some("niveau-7".into()),
        domain: Some("numerique".into()),
        administration: Some("min-interieur".into()),
        service: Some(serde_json::json!("Direction du numérique")),
        country: Some("FR".into()),
        region: Some("11".into()),
        department: Some("75".into()),
        description: Some(description.into()),
        start: Some("2027-01".into()),
        contact_email: Some("rh@interieur.gouv.fr".into()),
        unpublish_on: Some("2027-06-01".into()),
        ..OfferInput::default()
    }
}

pub fn new_offer(i: OfferInput, state: OfferState, published_at: OffsetDateTime) -> NewOffer {
    NewOffer {
        fields: i.validate(DateRule::Import).unwrap(),
        state,
        created_at: published_at,
        published_at: (state != OfferState::Draft).then_some(published_at),
        service_id: None,
        audit: Vec::new(),
    }
}

/// Creates offers and waits until they are searchable.
pub fn publish(engine: &Engine, offers: Vec<NewOffer>) -> Vec<offerwatch::domain::Offer> {
    let (created, seq) = engine.create_offers(offers).unwrap();
    engine.wait_indexed(seq, Duration::from_secs(10)).unwrap();
    created
}

pub fn params(pairs: &[(&str, &str)]) -> SearchParams {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SearchParams::from_pairs(&pairs).unwrap()
}

pub fn refs(engine: &Engine, pairs: &[(&str, &str)]) -> Vec<String> {
    engine
        .search(&params(pairs))
        .unwrap()
        .offers
        .iter()
        .map(|o| o.reference.to_string())
        .collect()
}
