//! Every path of ours that pages, mails, feeds and API answers print, in one place. A route's
//! path is declared here once: the HTTP layer serves these paths (its handlers' routes are
//! these constants, and a test checks that each is a served route), pages and templates link
//! to them, and the library builds absolute links from them. A `{…}` part is filled by
//! [`fill`].

// The portal.
/// The portal's search page.
pub const SEARCH: &str = "/";
/// An offer's page, `{reference}` being its reference.
pub const OFFER: &str = "/offres/{reference}";
/// "Postuler": counts the click, then to the offer's way of applying.
pub const OFFER_APPLY: &str = "/offres/{reference}/postuler";
/// A new alert on a search.
pub const NEW_ALERT: &str = "/alertes/nouvelle";
/// "Se désabonner", the link of an alert mail (no login: its token is signed).
pub const UNSUBSCRIBE_PAGE: &str = "/alertes/desabonnement";
/// The RSS feed of a search.
pub const FEED_RSS: &str = "/feeds/offers.rss";
/// The Atom feed of a search.
pub const FEED_ATOM: &str = "/feeds/offers.atom";
/// The front-end files (DSFR, our stylesheet and script).
pub const STATIC: &str = "/static";
/// Where the feeds are.
pub const FEEDS: &str = "/feeds";

// The information pages of the footer.
/// "Mentions légales".
pub const LEGAL_NOTICE: &str = "/mentions-legales";
/// "Données personnelles".
pub const PRIVACY: &str = "/donnees-personnelles";
/// The accessibility statement.
pub const ACCESSIBILITY: &str = "/accessibilite";
/// The terms of use.
pub const TERMS: &str = "/cgu";
/// Accepting the terms of use in force (shown at login while they are not).
pub const TERMS_ACCEPT: &str = "/cgu/accepter";
/// "Plan du site".
pub const SITE_MAP: &str = "/plan-du-site";
/// "Aide".
pub const HELP: &str = "/aide";
/// The contact form.
pub const CONTACT: &str = "/contact";
/// "Signaler cette offre".
pub const OFFER_REPORT: &str = "/offres/{reference}/signaler";

// Sessions and mailed links.
/// The login page.
pub const LOGIN: &str = "/connexion";
/// Logging out.
pub const LOGOUT: &str = "/deconnexion";
/// "Mot de passe oublié".
pub const PASSWORD_FORGOTTEN: &str = "/mot-de-passe-oublie";
/// The page where a link's token chooses a password.
pub const SET_PASSWORD: &str = "/set-password";
/// The page where a candidate's link confirms an address.
pub const CONFIRM_EMAIL: &str = "/confirmer-email";

// The candidate's space.
/// Creating a candidate account.
pub const SIGNUP: &str = "/compte/nouveau";
/// The candidate's account.
pub const ACCOUNT: &str = "/compte";
/// The candidate's details.
pub const ACCOUNT_DETAILS: &str = "/compte/coordonnees";
/// The candidate's address.
pub const ACCOUNT_EMAIL: &str = "/compte/email";
/// The candidate's password.
pub const ACCOUNT_PASSWORD: &str = "/compte/mot-de-passe";
/// Closing the candidate's other sessions.
pub const ACCOUNT_SESSIONS: &str = "/compte/sessions";
/// The candidate's data, as JSON.
pub const ACCOUNT_EXPORT: &str = "/compte/export";
/// Deleting the candidate's account.
pub const ACCOUNT_DELETE: &str = "/compte/supprimer";
/// A candidate's saved searches and alerts.
pub const SAVED_SEARCHES: &str = "/compte/recherches";
/// "Favoris": the offers a candidate starred (GET), star or unstar one (POST).
pub const FAVORITES: &str = "/compte/favoris";
/// "Mettre en veille": pause every alert at once (GET the page, POST `do` = pause | resume).
pub const STANDBY: &str = "/compte/veille";
/// "Mes documents": a candidate's CVs, letters and other documents (GET), upload one (POST,
/// multipart).
pub const DOCUMENTS: &str = "/compte/documents";
/// One document: rename, make default, delete (POST `do`).
pub const DOCUMENT: &str = "/compte/documents/{id}";
/// One document's file: download (GET), replace (POST, multipart).
pub const DOCUMENT_FILE: &str = "/compte/documents/{id}/fichier";
/// "Mes candidatures": the applications sent from the portal.
pub const APPLICATIONS: &str = "/compte/candidatures";
/// "Postuler en ligne": choose documents and write a message to the offer's contact.
pub const OFFER_APPLY_ONLINE: &str = "/offres/{reference}/candidater";
/// One saved search.
pub const SAVED_SEARCH: &str = "/compte/recherches/{id}";
/// Deleting a saved search.
pub const SAVED_SEARCH_DELETE: &str = "/compte/recherches/{id}/supprimer";

// The recruiters' back office.
/// Where the recruiters' pages are.
pub const RECRUITER: &str = "/recruteur";
/// Requesting a recruiter account.
pub const RECRUITER_REQUEST: &str = "/recruteur/demande";
/// "Mes offres".
pub const RECRUITER_OFFERS: &str = "/recruteur/offres";
/// "Mes offres", as CSV.
pub const RECRUITER_OFFERS_CSV: &str = "/recruteur/offres.csv";
/// A recruiter's "Mon compte".
pub const RECRUITER_ACCOUNT: &str = "/recruteur/compte";
/// A recruiter's details.
pub const RECRUITER_ACCOUNT_DETAILS: &str = "/recruteur/compte/coordonnees";
/// A recruiter's address.
pub const RECRUITER_ACCOUNT_EMAIL: &str = "/recruteur/compte/email";
/// A recruiter's password.
pub const RECRUITER_ACCOUNT_PASSWORD: &str = "/recruteur/compte/mot-de-passe";
/// Closing a recruiter's other sessions.
pub const RECRUITER_ACCOUNT_SESSIONS: &str = "/recruteur/compte/sessions";
/// A new offer.
pub const RECRUITER_NEW_OFFER: &str = "/recruteur/offres/nouvelle";
/// An offer of the recruiter's services.
pub const RECRUITER_OFFER: &str = "/recruteur/offres/{reference}";
/// A draft seen as candidates will see it.
pub const RECRUITER_OFFER_PREVIEW: &str = "/recruteur/offres/{reference}/apercu";
/// A lifecycle step of an offer.
pub const RECRUITER_OFFER_ACTION: &str = "/recruteur/offres/{reference}/action";
/// Renewing an offer's diffusion.
pub const RECRUITER_OFFER_RENEW: &str = "/recruteur/offres/{reference}/renouveler";
/// Deleting a draft.
pub const RECRUITER_OFFER_DELETE: &str = "/recruteur/offres/{reference}/supprimer";
/// Adding a document to an offer.
pub const RECRUITER_ATTACHMENTS: &str = "/recruteur/offres/{reference}/pieces-jointes";
/// The n-th document of an offer.
pub const RECRUITER_ATTACHMENT: &str = "/recruteur/offres/{reference}/pieces-jointes/{n}";
/// Removing the n-th document.
pub const RECRUITER_ATTACHMENT_REMOVE: &str =
    "/recruteur/offres/{reference}/pieces-jointes/{n}/retirer";
/// An offer's statistics.
pub const RECRUITER_OFFER_STATS: &str = "/recruteur/offres/{reference}/statistiques";
/// An offer's statistics, as CSV.
pub const RECRUITER_OFFER_STATS_CSV: &str = "/recruteur/offres/{reference}/statistiques.csv";

/// The members of a service (its gestionnaires).
pub const RECRUITER_MEMBERS: &str = "/recruteur/services/{id}/membres";
/// A member's new role.
pub const RECRUITER_MEMBER_ROLE: &str = "/recruteur/services/{id}/membres/{account}/role";
/// Removing a member.
pub const RECRUITER_MEMBER_REMOVE: &str = "/recruteur/services/{id}/membres/{account}/retirer";
/// Moving an offer to another service.
pub const RECRUITER_OFFER_TRANSFER: &str = "/recruteur/offres/{reference}/transferer";

// The administrators' back office.
/// Where the administrators' pages are.
pub const ADMIN: &str = "/admin";
/// An administrator's "Mon compte".
pub const ADMIN_ACCOUNT: &str = "/admin/compte";
/// An administrator's details.
pub const ADMIN_ACCOUNT_DETAILS: &str = "/admin/compte/coordonnees";
/// An administrator's address.
pub const ADMIN_ACCOUNT_EMAIL: &str = "/admin/compte/email";
/// An administrator's password.
pub const ADMIN_ACCOUNT_PASSWORD: &str = "/admin/compte/mot-de-passe";
/// Closing an administrator's other sessions.
pub const ADMIN_ACCOUNT_SESSIONS: &str = "/admin/compte/sessions";
/// Recruiter requests.
pub const ADMIN_REQUESTS: &str = "/admin/demandes";
/// Approving a request.
pub const ADMIN_REQUEST_APPROVE: &str = "/admin/demandes/{id}/accepter";
/// Refusing a request.
pub const ADMIN_REQUEST_REFUSE: &str = "/admin/demandes/{id}/refuser";
/// The administrations de rattachement.
pub const ADMIN_ADMINISTRATIONS: &str = "/admin/administrations";
/// Renames one.
pub const ADMIN_ADMINISTRATION_RENAME: &str = "/admin/administrations/renommer";
/// Services.
pub const ADMIN_SERVICES: &str = "/admin/services";
/// One service.
pub const ADMIN_SERVICE: &str = "/admin/services/{id}";
/// How to reach a service.
pub const ADMIN_SERVICE_DETAILS: &str = "/admin/services/{id}/coordonnees";
/// Deleting an empty service.
pub const ADMIN_SERVICE_DELETE: &str = "/admin/services/{id}/supprimer";
/// Merging a service into another: the summary, then the merge.
pub const ADMIN_SERVICE_MERGE: &str = "/admin/services/{id}/fusion";
/// Accounts.
pub const ADMIN_ACCOUNTS: &str = "/admin/comptes";
/// The accounts, as CSV.
pub const ADMIN_ACCOUNTS_CSV: &str = "/admin/comptes.csv";
/// Inviting a recruiter or an administrator.
pub const ADMIN_NEW_ACCOUNT: &str = "/admin/comptes/nouveau";
/// Adding an account to a service.
pub const ADMIN_ACCOUNT_SERVICES: &str = "/admin/comptes/{id}/services";
/// Taking an account out of a service.
pub const ADMIN_ACCOUNT_SERVICE_REMOVE: &str = "/admin/comptes/{id}/services/{service}/retirer";
/// Disabling an account.
pub const ADMIN_ACCOUNT_DISABLE: &str = "/admin/comptes/{id}/desactiver";
/// Enabling an account again.
pub const ADMIN_ACCOUNT_ENABLE: &str = "/admin/comptes/{id}/reactiver";
/// Every offer.
pub const ADMIN_OFFERS: &str = "/admin/offres";
/// Every offer, as CSV.
pub const ADMIN_OFFERS_CSV: &str = "/admin/offres.csv";
/// One offer, for moderation.
pub const ADMIN_OFFER: &str = "/admin/offres/{reference}";
/// Offers reported by visitors.
pub const ADMIN_REPORTS: &str = "/admin/signalements";
/// Acting on a report (withdraw the offer, dismiss).
pub const ADMIN_REPORT: &str = "/admin/signalements/{id}";
/// The census.
pub const ADMIN_STATS: &str = "/admin/statistiques";
/// The census, as CSV.
pub const ADMIN_STATS_CSV: &str = "/admin/statistiques.csv";

// The API.
/// Where the API is.
pub const API: &str = "/api";
/// The one-click unsubscribe of an alert (RFC 8058).
pub const UNSUBSCRIBE: &str = "/api/v1/alerts/unsubscribe";
/// The search API.
pub const SEARCH_API: &str = "/api/v1/offers";
/// The n-th document of a visible offer.
pub const OFFER_ATTACHMENT: &str = "/api/v1/offers/{reference}/attachments/{n}";
/// The browsable API reference.
pub const API_DOCS: &str = "/api/docs";

/// `path` with its `{…}` parts replaced by `values`, in order (each percent-encoded but for
/// the characters a path segment keeps as they are).
pub fn fill(path: &str, values: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    let mut values = values.iter();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if let Some(v) = values.next() {
            for b in v.to_string().bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The portal's name when none is configured.
pub const DEFAULT_SITE_NAME: &str = "Apprentissage et stages dans la fonction publique";

/// Absolute links under the public base URL.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    site: String,
}

fn token_query(token: &str) -> String {
    serde_urlencoded::to_string([("token", token)]).unwrap_or_default()
}

impl Links {
    /// Links under `base` (e.g. `https://portail.example`, no trailing slash needed).
    pub fn new(base: &str) -> Links {
        Links::named(base, DEFAULT_SITE_NAME)
    }

    /// Links under `base`, in the name of the portal `site` (the mails' signature).
    pub fn named(base: &str, site: &str) -> Links {
        Links {
            base: base.trim_end_matches('/').to_string(),
            site: site.to_string(),
        }
    }

    /// The portal's name.
    pub fn site_name(&self) -> &str {
        &self.site
    }

    /// The host of the public URL: the domain of the mails' Message-IDs.
    pub fn host(&self) -> String {
        url::Url::parse(&self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
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
        format!("{}{UNSUBSCRIBE_PAGE}?{}", self.base, token_query(token))
    }
}

/// [`fill`] with one value (templates call it).
pub fn fill1(path: &str, a: impl std::fmt::Display) -> String {
    fill(path, &[&a])
}

/// [`fill`] with two values (templates call it).
pub fn fill2(path: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> String {
    fill(path, &[&a, &b])
}

/// The back-office page of an offer of the recruiter's services.
pub fn recruiter_offer_path(reference: impl std::fmt::Display) -> String {
    fill(RECRUITER_OFFER, &[&reference])
}

/// An offer page's path.
pub fn offer_path(reference: &str) -> String {
    fill(OFFER, &[&reference])
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
    fn paths_are_filled_in_order_and_escaped() {
        assert_eq!(
            fill(RECRUITER_OFFER, &[&"A-2026-0001"]),
            "/recruteur/offres/A-2026-0001"
        );
        assert_eq!(
            fill(ADMIN_ACCOUNT_SERVICE_REMOVE, &[&12, &3]),
            "/admin/comptes/12/services/3/retirer"
        );
        assert_eq!(fill(OFFER, &[&"a/b c"]), "/offres/a%2Fb%20c");
        assert_eq!(fill(ACCOUNT, &[]), "/compte");
    }

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
            "https://portail.example/alertes/desabonnement?token=1.ab"
        );
        assert_eq!(
            l.set_password("a b"),
            "https://portail.example/set-password?token=a+b"
        );
    }
}
