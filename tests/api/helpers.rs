use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use offerwatch::Engine;
use offerwatch::config::Config;
use offerwatch::domain::{DateRule, OfferInput, OfferState};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::store::NewOffer;
use time::OffsetDateTime;
use time::macros::{date, datetime};

pub const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

pub struct TestApp {
    pub base: String,
    pub engine: Arc<Engine>,
    /// Seconds added to NOW by the engine's clock.
    pub clock: Arc<std::sync::atomic::AtomicI64>,
    pub data_dir: std::path::PathBuf,
    /// The SMTP server mails go to, when the app was started with one.
    pub sink: Option<crate::smtp::Sink>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// Creates an offer straight through the engine and waits until it is searchable.
    pub fn add(&self, input: OfferInput, state: OfferState) -> offerwatch::domain::Offer {
        let fields = input.validate(DateRule::Import).unwrap();
        let (mut created, seq) = self
            .engine
            .create_offers(vec![NewOffer {
                fields,
                state,
                created_at: NOW,
                published_at: (state != OfferState::Draft).then_some(NOW),
                service_id: None,
                audit: Vec::new(),
            }])
            .unwrap();
        self.engine
            .wait_indexed(seq, Duration::from_secs(1))
            .unwrap();
        created.pop().unwrap()
    }
}

pub fn offer_input(title: &str) -> OfferInput {
    OfferInput {
        title: Some(title.into()),
        contract: Some("stage".into()),
        diploma: Some("niveau-7".into()),
        domain: Some("numerique".into()),
        administration: Some("min-culture".into()),
        service: Some(serde_json::json!("Musée <national> & archives")),
        country: Some("FR".into()),
        region: Some("53".into()),
        department: Some("35".into()),
        description: Some("Missions : \"données\" & <analyses>".into()),
        start: Some("2027-01".into()),
        contact_email: Some("rh@culture.gouv.fr".into()),
        unpublish_on: Some("2027-06-01".into()),
        ..OfferInput::default()
    }
}

/// The server with `offers` generated offers, at a fixed clock, with a configuration tweak.
pub async fn spawn_app_with(offers: usize, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let offset = clock.clone();
    let engine = Arc::new(
        Engine::open_with_clock(
            dir.path(),
            Arc::new(move || {
                NOW + time::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst))
            }),
        )
        .unwrap(),
    );
    if offers > 0 {
        let lines: String = Generator::new(11, date!(2026 - 11 - 20))
            .take(offers)
            .map(|o| to_json_line(&o) + "\n")
            .collect();
        offerwatch::import::import_jsonl(&engine, lines.as_bytes(), |_| {}).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config {
        addr,
        data_dir: dir.path().to_path_buf(),
        public_url: Some("https://portail.example".into()),
        rate_limit_per_second: 0.0,
        ..Config::default()
    };
    tweak(&mut config);
    let (app, _) = offerwatch::app::start(engine.clone(), config);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        engine,
        clock,
        data_dir: dir.path().to_path_buf(),
        sink: None,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

pub async fn spawn_app(offers: usize) -> TestApp {
    spawn_app_with(offers, |_| {}).await
}

/// Asserts a problem+json answer and returns its body.
pub async fn problem(r: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["type"].is_string());
    body
}

/// The server sending its mails to a real SMTP server on loopback.
pub async fn spawn_app_with_smtp(offers: usize) -> TestApp {
    let (sink, url) = crate::smtp::Sink::start().await;
    let mut app = spawn_app_with(offers, |c| c.smtp_url = Some(url)).await;
    app.sink = Some(sink);
    app
}
