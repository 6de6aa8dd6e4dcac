//! The end-of-diffusion archiver: a published offer whose `unpublish_on` day has come is
//! archived, with the system as the actor.

use super::Backoffice;
use crate::domain::OfferState;
use crate::error::{Error, Result};

impl Backoffice<'_> {
    /// Archives every published offer whose end of diffusion has come; returns how many.
    pub fn archive_expired(&self) -> Result<usize> {
        let now = self.now();
        // The index knows the published offers and their end of diffusion: no store scan. Each
        // is checked again in the store, in its transaction.
        let expired = self.engine.index().expired(now)?;
        let mut archived = 0;
        for &id in &expired {
            let r = self.engine.update_offer(id, |o| {
                if o.state != OfferState::Published || o.visible_until(self.engine.zone()) > now {
                    // Changed since the index saw it (renewed, archived by hand): nothing to do.
                    return Err(Error::Conflict("no longer due".into()));
                }
                o.state = OfferState::Archived;
                o.record(None, "archived automatically (end of diffusion)", now);
                Ok(())
            });
            match r {
                Ok(_) => archived += 1,
                Err(Error::Conflict(_) | Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if archived > 0 {
            tracing::info!(
                count = archived,
                "offers archived at the end of their diffusion"
            );
        }
        Ok(archived)
    }
}
