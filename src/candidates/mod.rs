//! Candidates and their alerts: sign-up with e-mail confirmation, the personal data rights
//! (read, change, export, delete), saved searches, the signed one-click unsubscribe, the
//! percolation of newly published offers into the alert outbox, and the alert mails' content.

mod accounts;
mod documents;
mod favorites;
mod mails;
mod percolation;
mod retention;
mod searches;
mod unsubscribe;

pub use accounts::{AccountPatch, CONFIRM_DAYS, Signup};
pub use documents::{
    APPLICATIONS_KEPT, APPLICATIONS_PER_DAY, MAX_APPLICATION_BYTES, MAX_APPLICATION_DOCUMENTS,
    MAX_DOCUMENT_BYTES, MAX_MESSAGE_CHARS, application_address,
};
pub use favorites::MAX_FAVORITES;
pub use mails::{AlertMailSettings, MARK_EVERY, SENDING_AT_ONCE, send_alerts};
pub use percolation::{CURSOR as PERCOLATED_CURSOR, Round, percolate_pending};
pub use retention::Purged;
pub use searches::{NewSearch, SearchPatch, criteria_pairs};
pub use unsubscribe::{signed_unsubscribe_token, unsubscribe_token};

use crate::auth::require;
use crate::domain::account::{Account, Role};
use crate::engine::Engine;
use crate::error::Result;
use crate::links::Links;

/// The candidate side, over an engine.
pub struct Candidates<'a> {
    engine: &'a Engine,
    links: Links,
    max_searches: usize,
}

impl<'a> Candidates<'a> {
    /// `base_url` starts the links sent by mail; `max_searches` saved searches per candidate.
    pub fn new(engine: &'a Engine, base_url: &str, max_searches: usize) -> Self {
        Candidates::with_links(engine, Links::new(base_url), max_searches)
    }

    /// The candidate side, its mails in the portal's name that `links` carries.
    pub fn with_links(engine: &'a Engine, links: Links, max_searches: usize) -> Self {
        Candidates {
            engine,
            links,
            max_searches,
        }
    }

    fn candidate(&self, who: &Account) -> Result<()> {
        require(who, Role::Candidate)
    }
}
