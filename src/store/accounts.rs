//! Accounts, their logins and one-time tokens, services and the offers of each service.
//! Changes that belong together (approve an account + queue its mail + store its one-time
//! token) are made in one transaction through [`Store::write`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use super::kv::AnyTable;
use super::table::Table;
use super::tx::{Tx, from_bytes, record, records, second_parts, to_bytes};
use crate::domain::account::{Account, Service};
use crate::error::{Error, Result};

const ACCOUNTS: Table<u64, &[u8]> = Table::new("accounts", &["id"], &["body"]);
/// Lower-cased e-mail address or username → account id.
const LOGINS: Table<&str, u64> = Table::new("logins", &["login"], &["account_id"]);
/// SHA-256 (hex) of a token → token record. Tokens themselves are never stored.
const TOKENS: Table<&str, &[u8]> = Table::new("tokens", &["hash"], &["body"]);
const SERVICES: Table<u64, &[u8]> = Table::new("services", &["id"], &["body"]);
/// (service id, offer id) → (): the offers of each service.
pub(super) const SERVICE_OFFERS: Table<(u64, u64), ()> =
    Table::new("service_offers", &["service_id", "offer_id"], &[]);

pub(super) fn tables() -> [&'static dyn AnyTable; 5] {
    [&ACCOUNTS, &LOGINS, &TOKENS, &SERVICES, &SERVICE_OFFERS]
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// A login session (bearer token).
    Session,
    /// A single-use link to choose a password.
    SetPassword,
    /// A single-use link to confirm an e-mail address.
    ConfirmEmail,
    /// A single-use link, mailed to a new address, that makes it the account's address.
    ChangeEmail,
}

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The account it belongs to.
    pub account: u64,
    /// What the token is for.
    pub purpose: TokenPurpose,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The new address a [`TokenPurpose::ChangeEmail`] link confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Token {
    /// A token of `account` for `purpose` until `expires_at`.
    pub fn new(account: u64, purpose: TokenPurpose, expires_at: OffsetDateTime) -> Token {
        Token {
            account,
            purpose,
            expires_at,
            email: None,
        }
    }
}

impl Tx<'_> {
    /// An account.
    pub fn account(&self, id: u64) -> Result<Option<Account>> {
        record(self.v.get(&ACCOUNTS, &id)?)
    }

    /// Writes an account.
    pub fn put_account(&self, a: &Account) -> Result<()> {
        self.v.put(&ACCOUNTS, &a.id, &to_bytes(a)?)?;
        self.alerts_changed(a.id)
    }

    /// Removes an account and its logins.
    pub fn delete_account(&self, a: &Account, logins: &[String]) -> Result<()> {
        self.v.remove(&ACCOUNTS, &a.id)?;
        for login in logins {
            self.v.remove(&LOGINS, login)?;
        }
        self.alerts_changed(a.id)
    }

    /// Claims a login for an account; a conflict when taken by another.
    pub fn claim_login(&self, login: &str, account: u64) -> Result<()> {
        let login = login.to_string();
        if let Some(owner) = self.v.get(&LOGINS, &login)?
            && owner != account
        {
            return Err(Error::AlreadyUsed(format!(
                "'{login}' is already used by another account"
            )));
        }
        self.v.put(&LOGINS, &login, &account)
    }

    /// The account holding a login, if any.
    pub fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        match self.v.get(&LOGINS, &login.to_string())? {
            Some(id) => self.account(id),
            None => Ok(None),
        }
    }

    /// Releases a login.
    pub fn release_login(&self, login: &str) -> Result<()> {
        self.v.remove(&LOGINS, &login.to_string())?;
        Ok(())
    }

    /// Stores a token under its hash.
    pub fn put_token(&self, hash: &str, t: &Token) -> Result<()> {
        self.v.put(&TOKENS, &hash.to_string(), &to_bytes(t)?)
    }

    /// Removes and returns a token (single use).
    pub fn take_token(&self, hash: &str) -> Result<Option<Token>> {
        record(self.v.remove(&TOKENS, &hash.to_string())?)
    }

    /// Removes every token of an account (and purpose, when given).
    pub fn revoke_tokens(&self, account: u64, purpose: Option<TokenPurpose>) -> Result<()> {
        self.revoke_tokens_where(account, |_, t| purpose.is_none_or(|p| p == t.purpose))
    }

    /// Ends what a changed password must end: every session but `keep` (the hash of the
    /// session that made the change, if any) and every pending link of the account but the
    /// confirmation of its own address.
    pub fn revoke_access(&self, account: u64, keep: Option<&str>) -> Result<()> {
        self.revoke_tokens_where(account, |hash, t| {
            t.purpose != TokenPurpose::ConfirmEmail && Some(hash) != keep
        })
    }

    /// Ends every session of an account but `keep` (a session's hash).
    pub fn revoke_sessions(&self, account: u64, keep: Option<&str>) -> Result<()> {
        self.revoke_tokens_where(account, |hash, t| {
            t.purpose == TokenPurpose::Session && Some(hash) != keep
        })
    }

    /// Removes the tokens of an account for which `doomed(hash, token)` holds.
    fn revoke_tokens_where(
        &self,
        account: u64,
        doomed_if: impl Fn(&str, &Token) -> bool,
    ) -> Result<()> {
        let mut doomed = Vec::new();
        self.v.each(&TOKENS, |k, b| {
            let tok: Token = from_bytes(&b)?;
            if tok.account == account && doomed_if(&k, &tok) {
                doomed.push(k);
            }
            Ok(true)
        })?;
        for k in doomed {
            self.v.remove(&TOKENS, &k)?;
        }
        Ok(())
    }

    /// A service.
    pub fn service(&self, id: u64) -> Result<Option<Service>> {
        record(self.v.get(&SERVICES, &id)?)
    }

    /// Writes a service.
    pub fn put_service(&self, s: &Service) -> Result<()> {
        self.v.put(&SERVICES, &s.id, &to_bytes(s)?)
    }

    /// Removes a service (its offers and members moved or gone first).
    pub fn delete_service(&self, id: u64) -> Result<()> {
        self.v.remove(&SERVICES, &id)?;
        Ok(())
    }

    /// Records that an offer belongs to a service.
    pub fn link_offer(&self, service: u64, offer: u64) -> Result<()> {
        self.v.put(&SERVICE_OFFERS, &(service, offer), &())
    }

    /// Forgets that link.
    pub fn unlink_offer(&self, service: u64, offer: u64) -> Result<()> {
        self.v.remove(&SERVICE_OFFERS, &(service, offer))?;
        Ok(())
    }
}

impl Store {
    /// An account.
    pub fn account(&self, id: u64) -> Result<Option<Account>> {
        self.read(|v| record(v.get(&ACCOUNTS, &id)?))
    }

    /// The accounts with these ids (missing ones skipped), from one snapshot.
    pub fn accounts_by_id(&self, ids: &[u64]) -> Result<Vec<Account>> {
        let found = self.read(|v| v.get_many(&ACCOUNTS, ids))?;
        found
            .into_iter()
            .flatten()
            .map(|b| from_bytes(&b))
            .collect()
    }

    /// The account with this (lower-cased) e-mail address or username.
    pub fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        self.read(|v| {
            let Some(id) = v.get(&LOGINS, &login.to_string())? else {
                return Ok(None);
            };
            record(v.get(&ACCOUNTS, &id)?)
        })
    }

    /// Every account, in id order.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|v| records(v, &ACCOUNTS))
    }

    /// A token by its hash (not consumed).
    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        self.read(|v| record(v.get(&TOKENS, &hash.to_string())?))
    }

    /// A service.
    pub fn service(&self, id: u64) -> Result<Option<Service>> {
        self.read(|v| record(v.get(&SERVICES, &id)?))
    }

    /// Every service, in id order.
    pub fn services(&self) -> Result<Vec<Service>> {
        self.read(|v| records(v, &SERVICES))
    }

    /// Ids of the offers of a service.
    pub fn service_offer_ids(&self, service: u64) -> Result<Vec<u64>> {
        self.read(|v| second_parts(v, &SERVICE_OFFERS, service))
    }
}

impl Store {
    /// Removes the tokens (sessions, links) expired before `before`; the number removed.
    pub fn purge_tokens(&self, before: OffsetDateTime) -> Result<usize> {
        self.write(|tx| {
            tx.v.remove_where(&TOKENS, |_, b| {
                Ok(from_bytes::<Token>(b)?.expires_at < before)
            })
        })
    }
}
