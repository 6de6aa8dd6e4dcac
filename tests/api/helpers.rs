use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use offerwatch::Engine;
use offerwatch::backoffice::Backoffice;
use offerwatch::config::Config;
use offerwatch::domain::{DateRule, OfferInput, OfferState};
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::store::NewOffer;
use reqwest::StatusCode;
use serde_json::{Value, json};
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
    /// The server's own multi-threaded runtime, as in production: a store call made on one of
    /// its async workers fails the debug assertion of `offerwatch::blocking`.
    server: Option<tokio::runtime::Runtime>,
    /// The server's background loops.
    workers: std::sync::Mutex<Option<offerwatch::workers::Running>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(rt) = self.server.take() {
            rt.shutdown_background();
        }
    }
}

impl TestApp {
    /// Stops the server's background loops as a server stopping does (each ends its round);
    /// answers how many there were. Fails when they take more than 10 s.
    pub async fn stop_workers(&self) -> usize {
        let workers = self.workers.lock().unwrap().take().expect("running");
        let loops = workers.len();
        tokio::time::timeout(Duration::from_secs(10), workers.stop())
            .await
            .expect("every loop stops within 10 s");
        loops
    }

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

    /// Creates an offer straight through the engine and waits until it is searchable (up to 10 s on
    /// a loaded machine; the 1 s promise itself is checked in `search.rs`).
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
            .wait_indexed(seq, Duration::from_secs(10))
            .unwrap();
        created.pop().unwrap()
    }
}

/// Archives an offer straight through the engine and waits until the index knows.
pub fn archive(app: &TestApp, id: u64) {
    let (_, seq) = app
        .engine
        .update_offer(id, |o| {
            o.state = OfferState::Archived;
            Ok(())
        })
        .unwrap();
    app.engine
        .wait_indexed(seq, Duration::from_secs(10))
        .unwrap();
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config {
        addr,
        data_dir: dir.path().to_path_buf(),
        public_url: Some("https://portail.example".into()),
        rate_limit_per_second: 0.0,
        // Tests sign up many accounts from 127.0.0.1 (the limit has its own test).
        mails_per_client_hour: 0,
        // …and log in as often (the budget of anonymous posts has its own test).
        anonymous_posts_per_minute: 0.0,
        ..Config::default()
    };
    tweak(&mut config);
    let engine = Arc::new(
        Engine::open_options(
            dir.path(),
            config
                .engine_options(Arc::new(move || {
                    NOW + time::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst))
                }))
                .unwrap(),
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
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let e = engine.clone();
    let workers = server
        .spawn(async move {
            let started = offerwatch::app::start(e, config).await.unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = started.router;
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            });
            started.workers
        })
        .await
        .unwrap();
    TestApp {
        base: format!("http://{addr}"),
        engine,
        clock,
        data_dir: dir.path().to_path_buf(),
        sink: None,
        client: reqwest::Client::new(),
        server: Some(server),
        workers: std::sync::Mutex::new(Some(workers)),
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

// ----- clients per role, mails, errors, offer actions -----

impl TestApp {
    /// A client without credentials.
    pub fn anon(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
        }
    }

    /// A client with a session token.
    pub fn with_token(&self, token: String) -> Client<'_> {
        Client {
            app: self,
            token: Some(token),
        }
    }

    /// A client logged in as a new administrator.
    pub async fn as_admin(&self) -> Client<'_> {
        let token = admin(self).await;
        self.with_token(token)
    }

    /// The decoded text of the first mail to `to` containing `containing`.
    pub async fn mail_to(&self, to: &str, containing: &str) -> String {
        mail_to(self, to, containing).await
    }
}

/// The names of the faulty fields of a problem+json body.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

impl Client<'_> {
    /// `POST /api/v1/recruiter/offers/{reference}/{action}`.
    pub async fn offer_action(&self, reference: &str, action: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/recruiter/offers/{reference}/{action}"),
            json!({}),
        )
        .await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// `PUT`.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// Waits for a mail to `to` in the outbox folder and returns its decoded text.
pub async fn mail_to(app: &TestApp, to: &str, containing: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(sink) = &app.sink {
            for raw in sink.all() {
                let text = crate::smtp::decoded(&raw);
                if raw.contains(&format!("To: {to}")) && text.contains(containing) {
                    return text;
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(app.data_dir.join("outbox")) {
            for e in entries.flatten() {
                let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
                let text = crate::smtp::decoded(&raw);
                if raw.contains(&format!("To: {to}")) && text.contains(containing) {
                    return text;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} containing {containing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded texts of the mails to `to` containing `containing` in the outbox folder, oldest
/// first.
pub fn outbox_mails(app: &TestApp, to: &str, containing: &str) -> Vec<String> {
    let mut found: Vec<(std::time::SystemTime, String)> =
        std::fs::read_dir(app.data_dir.join("outbox"))
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| {
                        let raw = std::fs::read_to_string(e.path()).ok()?;
                        let text = crate::smtp::decoded(&raw);
                        (raw.contains(&format!("To: {to}")) && text.contains(containing))
                            .then(|| Some((e.metadata().ok()?.modified().ok()?, text)))
                            .flatten()
                    })
                    .collect()
            })
            .unwrap_or_default();
    found.sort_by_key(|(t, _)| *t);
    found.into_iter().map(|(_, text)| text).collect()
}

/// Waits for the outbox to hold more than `seen` mails to `to` containing `containing`; the
/// newest.
pub async fn next_mail_to(app: &TestApp, to: &str, containing: &str, seen: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut mails = outbox_mails(app, to, containing);
        if mails.len() > seen {
            return mails.pop().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no new mail to {to} containing {containing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn token_in(text: &str) -> String {
    let i = text.find("token=").expect("a link with a token") + 6;
    text[i..i + 64].to_string()
}

pub struct Client<'a> {
    pub app: &'a TestApp,
    pub token: Option<String>,
}

impl Client<'_> {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.app.client.request(method, self.app.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let (s, b) = Client { app, token: None }
        .post(
            "/api/v1/auth/login",
            json!({"login": email, "password": password}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["token"].as_str().unwrap().to_string()
}

pub const PASSWORD: &str = "Tres-Bon-Mot-2026";

pub async fn admin(app: &TestApp) -> String {
    let (_, link) = Backoffice::new(&app.engine, "https://portail.example")
        .create_admin("admin@gouv.fr", "Ada", "Admin")
        .unwrap();
    let (s, _) = Client { app, token: None }
        .post(
            "/api/v1/auth/password",
            json!({"token": token_in(&link), "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 204);
    login(app, "admin@gouv.fr", PASSWORD).await
}

/// Requests, approves and activates a recruiter; returns their session token.
pub async fn recruiter(app: &TestApp, admin: &Client<'_>, email: &str, service: Value) -> String {
    let anon = Client { app, token: None };
    let mut body = json!({"cgu": true, "civility": "Mme", "first_name": "Rose", "last_name": "Valland", "email": email, "phone": "01 40 00 00 00"});
    for (k, v) in service.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, b) = anon.post("/api/v1/recruiters", body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["state"], "pending");
    let id = b["id"].as_u64().unwrap();
    let (_, pending) = admin.get("/api/v1/admin/recruiters?state=pending").await;
    assert!(pending.as_array().unwrap().iter().any(|a| a["id"] == id));
    let (s, b) = admin
        .post(&format!("/api/v1/admin/recruiters/{id}/approve"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    let text = mail_to(app, email, "token=").await;
    let token = token_in(&text);
    // Weak password refused, naming the field.
    let (s, b) = anon
        .post(
            "/api/v1/auth/password",
            json!({"token": token, "password": "faible"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(b["errors"][0]["field"], "password");
    let (s, _) = anon
        .post(
            "/api/v1/auth/password",
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 204);
    // Single use.
    let (s, _) = anon
        .post(
            "/api/v1/auth/password",
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 422);
    login(app, email, PASSWORD).await
}

/// An administrator, a service of `administration` and an active recruiter of it: the
/// recruiter's session token and the service id.
pub async fn recruiter_of_new_service(
    app: &TestApp,
    service: &str,
    administration: &str,
    email: &str,
) -> (String, u64) {
    let admin = Client {
        app,
        token: Some(admin(app).await),
    };
    let (_, s) = admin
        .post(
            "/api/v1/admin/services",
            json!({"name": service, "administration": administration}),
        )
        .await;
    let sid = s["id"].as_u64().unwrap();
    (
        recruiter(app, &admin, email, json!({"service": sid})).await,
        sid,
    )
}

/// A candidate signed up, confirmed through the mailed link and logged in (a mail sink or the
/// `.eml` outbox must be there to read the link).
pub async fn confirmed_candidate<'a>(app: &'a TestApp, username: &str, email: &str) -> Client<'a> {
    let (s, b) = app.anon().post("/api/v1/candidates", json!({"cgu": true, "civility": "Mme", "first_name": "Camille", "last_name": "Candidate", "email": email, "username": username, "password": PASSWORD})).await;
    assert_eq!(s, 201, "{b}");
    let text = app.mail_to(email, "token=").await;
    let (s, b) = app
        .anon()
        .post("/api/v1/me/confirm", json!({"token": token_in(&text)}))
        .await;
    assert_eq!(s, 200, "{b}");
    app.with_token(login(app, username, PASSWORD).await)
}

pub fn offer_body(service: u64) -> Value {
    json!({
        "title": "Stagiaire restauration d'œuvres (F/H)", "contract": "stage", "diploma": "niveau-7",
        "domain": "culture-metiers-art", "service": service, "country": "FR", "region": "11",
        "department": "75", "location": "Paris 1er", "description": "Restaurer des peintures",
        "profile": "Master conservation", "start": "2027-02", "duration_months": 6,
        "contact_email": "stages@culture.gouv.fr", "unpublish_on": "2027-03-31",
        "application_contact": {"name": "Bureau des stages", "email": "stages@culture.gouv.fr"}
    })
}

pub async fn public_total(app: &TestApp, q: &str) -> u64 {
    app.json(&format!("/api/v1/offers?q={q}&per_page=0")).await["total"]
        .as_u64()
        .unwrap()
}

/// Polls the public search until it shows `want`. The product promises 1 s, which
/// `search.rs` and the two-node test check on their own; here, with the whole suite and its
/// browsers sharing 2 cores, up to 10 s (it returns as soon as it is there).
pub async fn visible_soon(app: &TestApp, q: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while public_total(app, q).await != want {
        assert!(
            Instant::now() < deadline,
            "search for {q} did not reach {want} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ----- a person's browser without JavaScript: cookies, CSRF tokens, forms -----

/// A client that keeps cookies and does not follow redirects, as a person's browser session.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
}

/// An answer: status, `Location` and body.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl TestApp {
    /// A fresh browser session.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

/// The CSRF token of the first form of a page.
pub fn csrf_of(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[i..].split('"').next().unwrap().to_string()
}

impl Browser<'_> {
    async fn answer(r: reqwest::Response) -> Answer {
        Answer {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            body: r.text().await.unwrap(),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        Self::answer(self.client.get(self.app.url(path)).send().await.unwrap()).await
    }

    /// Posts `fields` to `action` as the form of the page `form_page` (its CSRF token added).
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let page = self.get(form_page).await;
        assert_eq!(page.status, 200, "GET {form_page}: {}", page.body);
        let token = csrf_of(&page.body);
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &token));
        let r = self
            .client
            .post(self.app.url(action))
            .form(&all)
            .send()
            .await
            .unwrap();
        Self::answer(r).await
    }
}

/// The base URL a `serve` child prints once ready (`listening on http://…`), read from its
/// stdout (blocking).
/// Starts `serve` on `dir` (127.0.0.1, any port, the portal's public URL, no rate limits) with
/// `env` besides; the child and its base URL.
/// A server process that is killed when dropped, so a failing test does not leave it running
/// (and the test binary waiting on its pipe).
pub struct NodeProcess(std::process::Child);

impl std::ops::Deref for NodeProcess {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for NodeProcess {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve_node(dir: &std::path::Path, env: &[(&str, &str)]) -> (NodeProcess, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_offerwatch"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("OFFERWATCH_PUBLIC_URL", "https://portail.example")
        .env("OFFERWATCH_RATE_LIMIT_PER_SECOND", "0")
        .env("OFFERWATCH_ANONYMOUS_POSTS_PER_MINUTE", "0")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let base = listening_base(&mut child);
    (NodeProcess(child), base)
}

/// The total of a keyword search `q` on the server at `base`.
pub async fn search_total(client: &reqwest::Client, base: &str, q: &str) -> u64 {
    let r: serde_json::Value = client
        .get(format!(
            "{base}/api/v1/offers?q={q}&per_page=1&facets=false"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["total"].as_u64().unwrap()
}

/// Waits until every acknowledged reference is found by a search (after a restart, an outage…).
pub async fn all_searchable(client: &reqwest::Client, base: &str, acknowledged: &[String]) {
    for reference in acknowledged {
        let mut found = false;
        for _ in 0..50 {
            if search_total(client, base, reference).await == 1 {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(found, "{reference} was acknowledged but is not searchable");
    }
}

/// Logs the recruiter of [`prepare_alert_storm`] in through `base`: the answer.
pub async fn recruiter_login(client: &reqwest::Client, base: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": "rec@culture.gouv.fr", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

pub fn listening_base(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .expect(&line)
        .to_string()
}

/// Prepares a store for an alert storm through the library: an administrator, a recruiter
/// `rec@culture.gouv.fr` (password [`PASSWORD`]) of a service of the ministry of culture, and
/// `candidates` confirmed candidates `cand{i}@exemple.fr`, each with an immediate alert on
/// internships; returns the alerts' ids.
pub fn prepare_alert_storm(engine: &Engine, candidates: usize) -> Vec<u64> {
    use offerwatch::auth::Auth;
    use offerwatch::backoffice::RecruiterRequest;
    use offerwatch::candidates::{Candidates, NewSearch, Signup};
    use offerwatch::links::Links;

    const PUBLIC: &str = "https://portail.example";
    let bo = Backoffice::new(engine, PUBLIC);
    let (admin, _) = bo.create_admin("admin@gouv.fr", "A", "A").unwrap();
    let service = bo
        .create_service(&admin, "Service", "min-culture", None)
        .unwrap();
    let r = bo
        .request_recruiter(RecruiterRequest {
            first_name: Some("R".into()),
            last_name: Some("R".into()),
            email: Some("rec@culture.gouv.fr".into()),
            service: Some(service.id),
            cgu: Some(true),
            ..RecruiterRequest::default()
        })
        .unwrap();
    bo.approve(&admin, r.id).unwrap();
    let alerts = Candidates::new(engine, PUBLIC, 20);
    for i in 0..candidates {
        alerts
            .signup(Signup {
                first_name: Some("C".into()),
                last_name: Some(format!("N{i}")),
                email: Some(format!("cand{i}@exemple.fr")),
                username: Some(format!("cand{i}")),
                password: Some(PASSWORD.into()),
                cgu: Some(true),
                ..Signup::default()
            })
            .unwrap();
    }
    // The administrator's notice of the request carries no link: only the accounts' mails.
    let links = Links::new(PUBLIC);
    for m in engine
        .store()
        .mails()
        .unwrap()
        .into_iter()
        .filter(|m| m.to != "admin@gouv.fr")
    {
        let token = token_in(&m.text);
        if m.to == "rec@culture.gouv.fr" {
            Auth::new(engine, &links)
                .set_password(&token, PASSWORD)
                .unwrap();
        } else {
            alerts.confirm(&token).unwrap();
        }
    }
    let mut searches = Vec::new();
    for a in engine.store().accounts().unwrap() {
        if !a.email.starts_with("cand") {
            continue;
        }
        let mut criteria = serde_json::Map::new();
        criteria.insert("contract".into(), json!(["stage"]));
        let s = alerts
            .create_search(
                &a,
                NewSearch {
                    name: Some("Stages".into()),
                    criteria,
                    alert: Some(true),
                    frequency: Some("immediate".into()),
                },
            )
            .unwrap();
        searches.push(s.id);
    }
    searches
}
