//! The recruiter back office: account requests and their review, the organisation's services,
//! the offer lifecycle with its permission rules and audit trail, attachments, and the
//! end-of-diffusion archiver. Every change is one store transaction, including the mail it sends.

mod archiver;
mod attachments;
mod offers;
mod recruiters;
mod services;

pub use attachments::{MAX_ATTACHMENTS, Refusal, attachment_path, clean_name, sniff_document};
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
        Backoffice {
            engine,
            links: Links::new(base_url),
        }
    }

    fn now(&self) -> time::OffsetDateTime {
        self.engine.now()
    }

    fn auth(&self) -> Auth<'_> {
        Auth::new(self.engine, &self.links)
    }
}
