//! The end-of-diffusion archiver: a published offer whose `unpublish_on` day has come is
//! archived, with the system as the actor.

use super::Backoffice;
use crate::domain::OfferState;
use crate::error::{Error, Result};

impl Backoffice<'_> {
    /// Publishes every draft whose scheduled day (`publish_on`, local) has come, with the
    /// system as the actor; the publication is percolated and mailed like any other. Returns
    /// how many. It reads every offer: the archiver calls it once a local day, and at start.
    pub fn publish_scheduled(&self) -> Result<usize> {
        let now = self.now();
        let zone = self.engine.zone();
        let today = zone.today(now);
        let mut due = Vec::new();
        self.engine.store().for_each_offer(|o| {
            if o.is_scheduled() && o.fields.publish_on.is_some_and(|d| d <= today) {
                due.push(o.id);
            }
            Ok(())
        })?;
        let mut published = 0;
        for id in due {
            let r = self.engine.update_offer(id, |o| {
                let Some(day) = o.fields.publish_on.filter(|_| o.is_scheduled()) else {
                    return Err(Error::Conflict("no longer scheduled".into()));
                };
                if day > today {
                    return Err(Error::Conflict("not yet".into()));
                }
                o.apply(crate::domain::Lifecycle::Publish, None, now, zone)
            });
            match r {
                Ok(_) => published += 1,
                Err(Error::Conflict(reason)) => {
                    tracing::debug!(offer = id, %reason, "scheduled publication skipped")
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if published > 0 {
            self.engine.indexer().notify();
            tracing::info!(count = published, "scheduled offers published");
        }
        Ok(published)
    }

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
