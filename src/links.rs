//! Every public URL that mails, feeds, API answers and pages print, in one place. A route's path
//! is declared here once; the HTTP layer serves these paths (a test checks that each is a served
//! route) and the library builds absolute links from them.

/// The portal's search page.
pub const SEARCH: &str = "/";
/// An offer's page, `{reference}` being its reference.
pub const OFFER: &str = "/offres/{reference}";
/// The page where a link's token chooses a password.
pub const SET_PASSWORD: &str = "/set-password";
/// The page where a candidate's link confirms an address.
pub const CONFIRM_EMAIL: &str = "/confirmer-email";
/// The one-click unsubscribe of an alert (RFC 8058).
pub const UNSUBSCRIBE: &str = "/api/v1/alerts/unsubscribe";
/// A candidate's saved searches and alerts.
pub const SAVED_SEARCHES: &str = "/compte/recherches";
/// The search API.
pub const SEARCH_API: &str = "/api/v1/offers";
/// The RSS feed of a search.
pub const FEED_RSS: &str = "/feeds/offers.rss";
/// The Atom feed of a search.
pub const FEED_ATOM: &str = "/feeds/offers.atom";

/// Absolute links under the public base URL.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

fn token_query(token: &str) -> String {
    serde_urlencoded::to_string([("token", token)]).unwrap_or_default()
}

impl Links {
    /// Links under `base` (e.g. `https://portail.example`, no trailing slash needed).
    pub fn new(base: &str) -> Links {
        Links {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The host of the public URL: the domain of the mails' Message-IDs.
    pub fn host(&self) -> String {
        url::Url::parse(&self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "offerwatch.localhost".into())
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// An offer's page.
    pub fn offer(&self, reference: &str) -> String {
        format!("{}{}", self.base, offer_path(reference))
    }

    /// The portal's search page for a query string (`contract=stage&…`, may be empty).
    pub fn search(&self, query: &str) -> String {
        format!("{}{}", self.base, with_query(SEARCH, query))
    }

    /// A candidate's saved searches and alerts.
    pub fn saved_searches(&self) -> String {
        format!("{}{SAVED_SEARCHES}", self.base)
    }

    /// A one-time link to choose a password.
    pub fn set_password(&self, token: &str) -> String {
        format!("{}{SET_PASSWORD}?{}", self.base, token_query(token))
    }

    /// A link that confirms a candidate's address.
    pub fn confirm_email(&self, token: &str) -> String {
        format!("{}{CONFIRM_EMAIL}?{}", self.base, token_query(token))
    }

    /// The one-click unsubscribe link of an alert.
    pub fn unsubscribe(&self, token: &str) -> String {
        format!("{}{UNSUBSCRIBE}?{}", self.base, token_query(token))
    }
}

/// An offer page's path.
pub fn offer_path(reference: &str) -> String {
    OFFER.replace("{reference}", reference)
}

/// `path?query`, or `path` alone when the query is empty.
pub fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_and_escaped() {
        let l = Links::new("https://portail.example/");
        assert_eq!(
            l.offer("S-2026-0001"),
            "https://portail.example/offres/S-2026-0001"
        );
        assert_eq!(l.search(""), "https://portail.example/");
        assert_eq!(
            l.search("contract=stage"),
            "https://portail.example/?contract=stage"
        );
        assert_eq!(
            l.unsubscribe("1.ab"),
            "https://portail.example/api/v1/alerts/unsubscribe?token=1.ab"
        );
        assert_eq!(
            l.set_password("a b"),
            "https://portail.example/set-password?token=a+b"
        );
    }
}
