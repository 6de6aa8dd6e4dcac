//! Favourites — the offers a candidate starred on a result or an offer page, kept with the
//! account (an offer archived since stays listed, said as such) — and the standby of every
//! alert at once.

use super::Candidates;
use crate::domain::Offer;
use crate::domain::account::Account;
use crate::error::{Error, FieldError, Result, ValidationErrors};

/// Most offers starred at once.
pub const MAX_FAVORITES: usize = 200;

impl Candidates<'_> {
    /// Stars (`on`) or unstars the offer of `reference` for the caller. Starring needs a
    /// published offer; unstarring works whatever became of it.
    pub fn set_favorite(&self, who: &Account, reference: &str, on: bool) -> Result<Offer> {
        self.candidate(who)?;
        let offer = self
            .engine
            .store()
            .offer_by_reference(reference)?
            .filter(|o| !on || o.is_visible(self.engine.now(), self.engine.zone()))
            .ok_or_else(|| Error::NotFound(format!("no visible offer {reference}")))?;
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.favorites.retain(|&id| id != offer.id);
            if on {
                if a.favorites.len() >= MAX_FAVORITES {
                    let mut e = ValidationErrors::default();
                    e.push(FieldError::new(
                        "reference",
                        format!("at most {MAX_FAVORITES} favourites: remove one first"),
                    ));
                    return Err(Error::Invalid(e));
                }
                a.favorites.insert(0, offer.id);
            }
            tx.put_account(&a)
        })?;
        Ok(offer)
    }

    /// Puts every alert of the caller in standby (`paused`) or back to work. Offers published
    /// meanwhile are not mailed on resuming: the alerts are out of the percolator until then.
    pub fn set_standby(&self, who: &Account, paused: bool) -> Result<Account> {
        self.candidate(who)?;
        let now = self.engine.now();
        let account = self.engine.store().write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.paused_since = match (paused, a.paused_since) {
                (true, Some(since)) => Some(since),
                (true, None) => Some(now),
                (false, _) => None,
            };
            tx.put_account(&a)?;
            Ok(a)
        })?;
        self.engine.refresh_alerts_of(account.id)?;
        Ok(account)
    }

    /// The caller's starred offers, the latest first (archived ones included).
    pub fn favorites(&self, who: &Account) -> Result<Vec<Offer>> {
        self.candidate(who)?;
        let account = self
            .engine
            .store()
            .account(who.id)?
            .ok_or_else(|| Error::NotFound("account".into()))?;
        let offers = self.engine.store().offers(&account.favorites)?;
        Ok(account
            .favorites
            .iter()
            .filter_map(|id| offers.iter().find(|o| o.id == *id).cloned())
            .collect())
    }
}
