//! The one-click unsubscribe of an alert (RFC 8058): a token signed with the store's secret
//! names the saved search, so the link needs no login and no stored row.

use super::Candidates;
use crate::auth::Signer;
use crate::domain::account::SavedSearch;
use crate::engine::Engine;
use crate::error::{Error, FieldError, Result};

fn message(search: u64) -> String {
    format!("unsubscribe:{search}")
}

/// The signed token of the one-click unsubscribe link of one alert.
pub fn unsubscribe_token(engine: &Engine, search: u64) -> Result<String> {
    signed_unsubscribe_token(&Signer::of_store(engine.store())?, search)
}

/// [`unsubscribe_token`] with the store's signer already read (a round of mails signs
/// thousands).
pub fn signed_unsubscribe_token(signer: &Signer, search: u64) -> Result<String> {
    Ok(format!(
        "{search}.{}",
        signer.sign(message(search).as_bytes())?
    ))
}

impl Candidates<'_> {
    /// The alert a token names, if the signature holds.
    pub fn alert_of_token(&self, token: &str) -> Result<SavedSearch> {
        let bad = || Error::invalid(FieldError::new("token", "invalid unsubscribe link"));
        let (id, signature) = token.split_once('.').ok_or_else(bad)?;
        let id: u64 = id.parse().map_err(|_| bad())?;
        let signer = Signer::of_store(self.engine.store())?;
        if !signer.verify(message(id).as_bytes(), signature) {
            return Err(bad());
        }
        self.engine
            .store()
            .saved_search(id)?
            .ok_or_else(|| Error::NotFound("this alert no longer exists".into()))
    }

    /// Switches off the alert a token names (no login: RFC 8058 one-click).
    pub fn unsubscribe(&self, token: &str) -> Result<SavedSearch> {
        let mut s = self.alert_of_token(token)?;
        s.alert = false;
        self.engine.store().write(|tx| tx.put_saved_search(&s))?;
        self.engine.percolator_mut().remove(s.id);
        Ok(s)
    }
}
