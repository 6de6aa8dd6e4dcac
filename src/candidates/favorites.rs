//! Favourites: the offers a candidate starred on a result or an offer page, kept with the
//! account (an offer archived since stays listed, said as such).

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
