//! The HTTP layer: the only module that knows axum. One router per resource, one error type,
//! shared state; routes are registered through utoipa-axum so that the served OpenAPI document
//! lists exactly the routes the router serves.

mod api;
mod assets;
mod charts;
mod contract;
mod error;
pub(crate) mod extract;
mod pages;
mod ratelimit;

pub use error::{AppError, Problem};

/// The application as a service.
pub type Router = axum::Router;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{Auth, LoginThrottle, Signer, Throttle};
use crate::backoffice::Backoffice;
use crate::candidates::Candidates;
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{FieldError, ValidationErrors};
use crate::links::Links;

/// What every handler can reach: one shared value, so that the clone each layer and each
/// request makes is one count (the fields are a dozen `Arc`s).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The configuration.
    pub config: Arc<Config>,
    metrics: PrometheusHandle,
    limiter: Arc<ratelimit::RateLimiter>,
    /// The per-client budget of anonymous posts.
    anonymous: Arc<ratelimit::RateLimiter>,
    openapi: Arc<contract::Document>,
    throttle: Arc<LoginThrottle>,
    /// Mails of anonymous forms per address and hour (`mails_per_address_hour`).
    mails_per_address: Arc<Throttle>,
    /// Mails of anonymous forms per client address and hour (`mails_per_client_hour`).
    mails_per_client: Arc<Throttle>,
    /// The addresses partner feeds may be fetched from (`sources_allowed_networks`).
    outbound: crate::backoffice::outbound::Outbound,
    /// Reverse proxies trusted for `X-Forwarded-For`.
    trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    mail_wake: Arc<tokio::sync::Notify>,
    signer: Arc<Signer>,
    /// The public links.
    pub links: Arc<Links>,
    /// The portal's name.
    pub site: Arc<str>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "offerwatch",
        description = "Search and alerts for apprenticeship and internship offers in the French civil service."
    ),
    tags(
        (name = "search", description = "Public search, offers and referentials"),
        (name = "feeds", description = "RSS and Atom feeds of any search"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "accounts", description = "Login, logout, passwords, the caller's account"),
        (name = "recruiters", description = "Recruiter accounts, review, services"),
        (name = "recruiter offers", description = "The recruiter back office: offers and attachments"),
        (name = "candidates", description = "Candidate accounts, saved searches, alerts"),
        (name = "portal", description = "Server-rendered pages")
    )
)]
struct ApiDoc;

fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// A limit of the configuration: 0 is unlimited.
fn limit(n: u32) -> u32 {
    if n == 0 { u32::MAX } else { n }
}

impl AppState {
    fn mail_keys(address: &str, client: std::net::IpAddr) -> [String; 2] {
        [
            format!("mail-ip:{client}"),
            format!("mail:{}", address.trim().to_lowercase()),
        ]
    }

    /// Refuses a mail that an anonymous form (sign-up, recruiter request) would send past the
    /// hourly limits per address and per client: `Error::TooMany`. Only mails sent count (see
    /// [`AppState::mail_sent`]), so that a form corrected a few times is never refused.
    pub(crate) fn mail_allowed(
        &self,
        address: &str,
        client: std::net::IpAddr,
    ) -> crate::Result<()> {
        let [ip, addr] = Self::mail_keys(address, client);
        let wait = self
            .mails_per_client
            .blocked(&[ip])
            .or(self.mails_per_address.blocked(&[addr]));
        match wait {
            Some(wait) => Err(crate::Error::TooMany(wait)),
            None => Ok(()),
        }
    }

    /// Counts a mail sent by an anonymous form.
    pub(crate) fn mail_sent(&self, address: &str, client: std::net::IpAddr) {
        let [ip, addr] = Self::mail_keys(address, client);
        self.mails_per_client.failed(&[ip]);
        self.mails_per_address.failed(&[addr]);
    }

    /// The state of one server; `mail_wake` wakes the mailer when a request queued a mail.
    pub fn new(engine: Arc<Engine>, config: Config, mail_wake: Arc<tokio::sync::Notify>) -> Self {
        let signer = Arc::new(Signer::of_store(engine.store()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "no signing secret in the store: forms signed with a key of this process");
            Signer::random()
        }));
        let store = engine.store().clone();
        AppState(Arc::new(Shared {
            engine,
            limiter: Arc::new(ratelimit::RateLimiter::new(
                config.rate_limit_per_second,
                config.rate_limit_burst,
            )),
            anonymous: Arc::new(ratelimit::RateLimiter::new(
                config.anonymous_posts_per_minute / 60.0,
                config.anonymous_posts_burst,
            )),
            links: Arc::new(config.links()),
            site: Arc::from(config.site_name.as_str()),
            mails_per_address: Arc::new(
                Throttle::new(
                    limit(config.mails_per_address_hour),
                    std::time::Duration::from_secs(3600),
                )
                .on(&store, "mails-per-address"),
            ),
            mails_per_client: Arc::new(
                Throttle::new(
                    limit(config.mails_per_client_hour),
                    std::time::Duration::from_secs(3600),
                )
                .on(&store, "mails-per-client"),
            ),
            outbound: crate::backoffice::outbound::Outbound::of_config(&config),
            trusted_proxies: Arc::new(crate::config::networks(&config.trusted_proxies)),
            config: Arc::new(config),
            metrics: prometheus(),
            openapi: Arc::default(),
            throttle: Arc::new(LoginThrottle::default().on(&store, "logins")),
            signer,
            mail_wake,
        }))
    }
}

/// Serves the operator's own address of the metrics (`metrics_addr`) until the process ends.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    until: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let served = axum::serve(listener, metrics_router(engine)).with_graceful_shutdown(until);
    if let Err(e) = served.await {
        tracing::error!(error = %e, "the metrics server stopped");
    }
}

/// The operator's own server of the metrics: `GET /metrics` and nothing else.
fn metrics_router(engine: Arc<Engine>) -> Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let engine = engine.clone();
            async move {
                api::ops::render_metrics(engine, &prometheus())
                    .await
                    .into_response()
            }
        }),
    )
}

/// Builds the application: routes and middleware over the state (the OpenAPI document goes
/// to the state's [`contract::Document`]).
pub fn router(state: AppState) -> axum::Router {
    let public = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::offers::router())
        .merge(api::feeds::router())
        .merge(pages::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ));
    // The routes under the rate limit or the budget of anonymous posts, for the document to
    // say so.
    let limited: std::collections::HashSet<String> = public
        .get_openapi()
        .paths
        .paths
        .keys()
        .cloned()
        .chain(ratelimit::ANONYMOUS_POSTS.map(String::from))
        .collect();
    let (router, api) = public
        .merge(assets::router())
        .merge(api::ops::router())
        .merge(api::auth::router())
        .merge(api::recruiters::router())
        .merge(api::members::router())
        .merge(api::administrations::router())
        .merge(api::stats::router())
        .merge(api::sources::router())
        .merge(api::candidates::router())
        .merge(api::documents::router())
        .merge(api::recruiter_offers::router(
            state.config.max_attachment_bytes,
        ))
        .split_for_parts();
    state
        .openapi
        .set(serde_json::to_string(&api).unwrap_or_default(), limited);
    drop(api);
    let cors = if state.config.cors_origins.iter().any(|o| o == "*") {
        CorsLayer::new().allow_origin(tower_http::cors::Any)
    } else {
        CorsLayer::new().allow_origin(AllowOrigin::list(
            state
                .config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
    };
    router
        .fallback(pages::fallback)
        .method_not_allowed_fallback(|| async {
            AppError::status(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "this resource does not accept that method",
            )
        })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::anonymous_posts,
        ))
        .layer(middleware::from_fn_with_state(
            (
                state.config.base_url().starts_with("https://"),
                state.site.clone(),
            ),
            plain_rejections,
        ))
        .layer(middleware::from_fn(observe))
        .layer(middleware::from_fn_with_state(
            state.config.base_url().starts_with("https://"),
            security_headers,
        ))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::internal("a handler panicked").into_response()
            },
        ))
        .with_state(state)
}

/// The refusals of axum's own extractors and limits (a path segment that is not a number, a
/// malformed query, a body over the limit) come as text/plain: they are answered like every
/// other error, problem+json under `/api/` and `/feeds/`, a page elsewhere.
async fn plain_rejections(
    State((https, site)): State<(bool, Arc<str>)>,
    req: Request,
    next: Next,
) -> Response {
    let api = {
        let path = req.uri().path();
        path.starts_with("/api/") || path.starts_with("/feeds/")
    };
    let response = next.run(req).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_string();
    if api {
        let title = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "Payload too large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported media type",
            _ => "Invalid request parameters",
        };
        AppError::status(status, title, detail).into_response()
    } else {
        let (title, message) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => (
                "Envoi trop volumineux",
                "Le formulaire envoyé dépasse la taille permise.",
            ),
            _ => (
                "Adresse incorrecte",
                "Un élément de l'adresse de cette page n'est pas valable.",
            ),
        };
        pages::message_page(
            &pages::Visitor::anonymous(https, site),
            status,
            title,
            message,
        )
    }
}

/// The policy of every answer: scripts, styles, fonts and images from this server only (no
/// inline script or style anywhere), no framing, no MIME sniffing, the origin only as referrer.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Paths whose answers are always someone's own: never kept by a browser or a proxy.
const PRIVATE_PREFIXES: [&str; 8] = [
    crate::links::ACCOUNT,
    crate::links::RECRUITER,
    crate::links::ADMIN,
    crate::links::LOGIN,
    "/api/v1/me",
    "/api/v1/recruiter",
    "/api/v1/admin",
    "/api/v1/auth",
];

/// Whether the answer to `req` may hold a person's data: a private path, or a request carrying
/// credentials (a session cookie or a bearer token) anywhere but the static files — a public
/// page then shows the person's name in its header.
fn private_answer(req: &Request) -> bool {
    let path = req.uri().path();
    if PRIVATE_PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '.', '?']))
    }) {
        return true;
    }
    let h = req.headers();
    let credentials = h.contains_key(axum::http::header::AUTHORIZATION)
        || h.get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.contains(pages::SESSION_COOKIE));
    credentials && !path.starts_with("/static/")
}

/// Security headers on every answer; HSTS when the public URL is https (`https` is the state);
/// `Cache-Control: no-store` on private answers.
async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let private = private_answer(&req);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if private || h.contains_key(axum::http::header::SET_COOKIE) {
        h.insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
    let mut set = |name: &'static str, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set("content-security-policy", CONTENT_SECURITY_POLICY);
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "strict-origin-when-cross-origin");
    set("x-frame-options", "DENY");
    set("cross-origin-opener-policy", "same-origin");
    if https {
        set(
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

/// The method as a metrics label: one of the known methods, or `other`, so that made-up
/// methods cannot add series without end.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Requests answered since the process started.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// How many requests this process has answered (an idle server's count stays still).
pub fn answered() -> u64 {
    ANSWERED.load(Ordering::Relaxed)
}

/// Request id, metrics and one log line per request.
async fn observe(req: Request, next: Next) -> Response {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .map_or_else(
            || format!("{:x}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
            str::to_string,
        );
    let mut response = next.run(req).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status.to_string()).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    tracing::info!(request_id, %method, route, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request");
    ANSWERED.fetch_add(1, Ordering::Relaxed);
    response
}

/// Parses a raw query string into pairs, refusing oversized or malformed ones.
/// Words of the User-Agent of obvious robots (crawlers, scripts, previews, monitors).
const ROBOTS: [&str; 16] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "httpclient",
    "go-http",
    "java/",
    "libwww",
    "headless",
    "facebookexternalhit",
    "preview",
    "monitor",
    "scrap",
];

/// False for a request of an obvious robot (or without a User-Agent): statistics leave them out.
pub(crate) fn is_person(headers: &axum::http::HeaderMap) -> bool {
    let ua = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    ua.starts_with("mozilla/") && !ROBOTS.iter().any(|r| ua.contains(r))
}

pub(crate) fn query_pairs(
    raw: Option<&str>,
    max: usize,
) -> Result<Vec<(String, String)>, AppError> {
    let raw = raw.unwrap_or("");
    if raw.len() > max {
        return Err(AppError::bad_request(ValidationErrors(vec![
            FieldError::new(
                "query",
                format!(
                    "the query string is {} bytes; at most {max} are accepted",
                    raw.len()
                ),
            ),
        ])));
    }
    let malformed = |why: String| {
        AppError::bad_request(ValidationErrors(vec![FieldError::new(
            "query",
            format!("malformed query string: {why}"),
        )]))
    };
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
        .map_err(|e| malformed(e.to_string()))?;
    // The decoder replaces invalid UTF-8 with U+FFFD; refuse rather than search for garbage.
    let replaced = pairs
        .iter()
        .any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}'));
    if replaced && !raw.to_ascii_uppercase().contains("%EF%BF%BD") {
        return Err(malformed("it is not valid UTF-8".into()));
    }
    Ok(pairs)
}

/// Runs engine work off the async workers with the state's engine, links and configuration,
/// then wakes the mailer (the work may have queued a mail).
async fn engine_call<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Engine, &Links, &Config) -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    let (engine, links, config) = (
        state.engine.clone(),
        state.links.clone(),
        state.config.clone(),
    );
    let wake = state.mail_wake.clone();
    let r = crate::blocking::run(move || f(&engine, &links, &config)).await?;
    wake.notify_one();
    r
}

/// Runs authentication work (sessions, passwords) off the async workers.
pub(crate) async fn with_auth<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Auth<'_>) -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    engine_call(state, move |e, l, _| f(&Auth::new(e, l))).await
}

/// Runs back-office work off the async workers.
pub(crate) async fn with_backoffice<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Backoffice<'_>) -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    engine_call(state, move |e, l, _| {
        f(&Backoffice::with_links(e, l.clone()))
    })
    .await
}

/// Runs candidate work off the async workers.
pub(crate) async fn with_candidates<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Candidates<'_>) -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    engine_call(state, move |e, l, c| {
        f(&Candidates::with_links(e, l.clone(), c.max_saved_searches))
    })
    .await
}

/// Changes the caller's account (every role). A change of address or password verifies the
/// current password under the login throttle (it is a password check like a login); a new
/// address — mailed a confirmation link — is under the hourly mail limits of the anonymous
/// forms. `session` is the caller's own session token, which a new password leaves open.
/// Answers the account and the address waiting for confirmation, if any.
pub(crate) async fn change_account(
    state: &AppState,
    who: crate::domain::account::Account,
    client: std::net::IpAddr,
    session: Option<String>,
    patch: crate::candidates::AccountPatch,
) -> crate::Result<(crate::domain::account::Account, Option<String>)> {
    let new_email = patch
        .email
        .as_deref()
        .and_then(|e| crate::domain::validate::normalize_email("email", e).ok())
        .filter(|e| *e != who.email);
    if let Some(e) = &new_email {
        state.mail_allowed(e, client)?;
    }
    let throttle = state.throttle.clone();
    let (login, peer) = (who.email.clone(), client.to_string());
    let checks_password = patch.password.is_some() || new_email.is_some();
    let keep = session.map(|t| crate::auth::token_hash(&t));
    let changed = with_candidates(state, move |c| {
        let change = || c.update_me(&who, patch, keep.as_deref());
        if checks_password {
            throttle.password_check(&login, &peer, change)
        } else {
            change()
        }
    })
    .await?;
    if changed.1.is_some()
        && let Some(e) = &new_email
    {
        state.mail_sent(e, client);
    }
    Ok(changed)
}

/// Runs blocking engine work off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    crate::blocking::try_run(f).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Serves `router` on `listener` until SIGINT/SIGTERM, then lets in-flight requests finish.
pub async fn run(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}
