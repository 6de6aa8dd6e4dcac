//! The end-of-diffusion archiver: a published offer whose `unpublish_on` day has come is
//! archived, with the system as the actor.

use super::Backoffice;
use crate::domain::OfferState;
use crate::error::Result;

impl Backoffice<'_> {
    /// Archives every published offer whose end of diffusion has come; returns how many.
    pub fn archive_expired(&self) -> Result<usize> {
        let now = self.now();
        let mut expired = Vec::new();
        self.engine.store().for_each_offer(|o| {
            if o.state == OfferState::Published && o.visible_until() <= now {
                expired.push(o.id);
            }
            Ok(())
        })?;
        for &id in &expired {
            self.engine.update_offer(id, |o| {
                if o.state == OfferState::Published {
                    o.state = OfferState::Archived;
                    o.record(None, "archived automatically (end of diffusion)", now);
                }
                Ok(())
            })?;
        }
        if !expired.is_empty() {
            tracing::info!(
                count = expired.len(),
                "offers archived at the end of their diffusion"
            );
        }
        Ok(expired.len())
    }
}
