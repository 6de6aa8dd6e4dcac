//! The recruiter back office: account requests and their review, the organisation's services,
//! the offer lifecycle with its permission rules and audit trail, attachments, and the
//! end-of-diffusion archiver. Every change is one store transaction, including the mail it sends.

pub mod administrations;
mod archiver;
mod attachments;
mod members;
mod offers;
pub mod outbound;
mod recruiters;
pub mod reports;
mod services;
pub use services::MergeSummary;
pub mod sources;
pub mod stats;

pub use crate::domain::files::{Refusal, clean_name, sniff_document};
pub use attachments::{MAX_ATTACHMENTS, attachment_bytes};
pub use members::{Invitation, Invited, Member};
pub use recruiters::RecruiterRequest;

use crate::auth::Auth;
use crate::engine::Engine;
use crate::links::Links;

/// The back office, over an engine.
pub struct Backoffice<'a> {
    engine: &'a Engine,
    links: Links,
}

impl<'a> Backoffice<'a> {
    /// The back office; `base_url` starts the links sent by mail.
    pub fn new(engine: &'a Engine, base_url: &str) -> Self {
        Backoffice::with_links(engine, Links::new(base_url))
    }

    /// The back office, its mails in the portal's name that `links` carries.
    pub fn with_links(engine: &'a Engine, links: Links) -> Self {
        Backoffice { engine, links }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.engine.now()
    }

    /// The store (attachments live in it).
    pub fn store(&self) -> &crate::store::Store {
        self.engine.store()
    }

    /// The names of the recruiter and administrator accounts, by id (audit trails, lists).
    pub fn account_names(&self) -> crate::Result<std::collections::HashMap<u64, String>> {
        Ok(self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| a.role != crate::domain::account::Role::Candidate)
            .map(|a| (a.id, format!("{} {}", a.first_name, a.last_name)))
            .collect())
    }

    /// A service by id.
    pub fn service(&self, id: u64) -> crate::Result<Option<crate::domain::account::Service>> {
        self.engine.store().service(id)
    }

    fn auth(&self) -> Auth<'_> {
        Auth::new(self.engine, &self.links)
    }
}
