//! Per-client rate limiting of the public endpoints: a token bucket per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppError, AppState};

/// Buckets kept before idle ones are dropped.
const MAX_CLIENTS: usize = 100_000;

/// Token buckets per client address.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_second` ≤ 0 disables limiting.
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            per_second,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when `client` may go on, else the seconds to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Middleware: 429 problem+json with `Retry-After` past the limit.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = super::extract::of_request(req.extensions(), req.headers(), &state);
    if let Err(wait) = state.limiter.check(ip) {
        metrics::counter!("http_rate_limited_total").increment(1);
        return AppError::too_many(wait).into_response();
    }
    next.run(req).await
}

/// The anonymous posts: forms and API calls anyone may send, each of which may hash a password,
/// send a mail or check a token. They share one per-client budget
/// (`anonymous_posts_per_minute`), which counts every post, refused or not.
pub(crate) const ANONYMOUS_POSTS: [&str; 14] = [
    "/api/v1/candidates",
    "/api/v1/recruiters",
    "/api/v1/auth/login",
    "/api/v1/auth/password",
    "/api/v1/me/confirm",
    "/api/v1/alerts/unsubscribe",
    "/connexion",
    "/set-password",
    "/compte/nouveau",
    "/mot-de-passe-oublie",
    "/recruteur/demande",
    "/alertes/nouvelle",
    "/alertes/desabonnement",
    "/contact",
];

/// Middleware: an anonymous post past its client's budget is refused before anything is read
/// or checked — 429 with `Retry-After`, problem+json for the API, a French page for a form.
pub async fn anonymous_posts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let reporting = path.starts_with("/offres/") && path.ends_with("/signaler");
    if req.method() != axum::http::Method::POST || !(ANONYMOUS_POSTS.contains(&path) || reporting) {
        return next.run(req).await;
    }
    let ip = super::extract::of_request(req.extensions(), req.headers(), &state);
    let Err(wait) = state.anonymous.check(ip) else {
        return next.run(req).await;
    };
    metrics::counter!("http_anonymous_posts_refused_total").increment(1);
    if req.uri().path().starts_with("/api/") {
        return AppError::too_many(wait).into_response();
    }
    let https = state.config.base_url().starts_with("https://");
    super::pages::error_page(
        &super::pages::Visitor::anonymous(https, state.site.clone()),
        &crate::Error::TooMany(wait),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_then_recovery() {
        let l = RateLimiter::new(1000.0, 3.0);
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_err());
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(l.check(ip).is_ok());
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(l.check(other).is_ok());
    }
}
