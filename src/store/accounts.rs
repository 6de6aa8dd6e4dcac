//! Accounts, services, tokens and the mail queue, in the same store. Changes that belong
//! together (approve an account + queue its mail + store its one-time token) are made in one
//! transaction through [`Store::write`].

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use crate::domain::account::{Account, Service};
use crate::error::{Error, Result};

const ACCOUNTS: TableDefinition<u64, &[u8]> = TableDefinition::new("accounts");
/// Lower-cased e-mail address or username → account id.
const LOGINS: TableDefinition<&str, u64> = TableDefinition::new("logins");
/// SHA-256 (hex) of a token → token record. Tokens themselves are never stored.
const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");
const SERVICES: TableDefinition<u64, &[u8]> = TableDefinition::new("services");
/// (service id, offer id) → (): the offers of each service.
const SERVICE_OFFERS: TableDefinition<(u64, u64), ()> = TableDefinition::new("service_offers");
const MAILS: TableDefinition<u64, &[u8]> = TableDefinition::new("mails");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Copies this module's tables (see [`super::backup`]).
pub(super) fn copy_tables(
    src: &redb::ReadTransaction,
    dst: &redb::WriteTransaction,
    copied: &mut super::backup::Copied,
) -> Result<()> {
    super::backup::copy(src, dst, ACCOUNTS, copied)?;
    super::backup::copy(src, dst, LOGINS, copied)?;
    super::backup::copy(src, dst, TOKENS, copied)?;
    super::backup::copy(src, dst, SERVICES, copied)?;
    super::backup::copy(src, dst, SERVICE_OFFERS, copied)?;
    super::backup::copy(src, dst, MAILS, copied)?;
    super::backup::copy(src, dst, COUNTERS, copied)?;
    Ok(())
}

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(ACCOUNTS)?;
    tx.open_table(LOGINS)?;
    tx.open_table(TOKENS)?;
    tx.open_table(SERVICES)?;
    tx.open_table(SERVICE_OFFERS)?;
    tx.open_table(MAILS)?;
    Ok(())
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
}

/// Delivery state of a queued mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailState {
    /// Waiting to be sent (again).
    Pending,
    /// Delivered to the SMTP server or written as a file.
    Sent,
    /// Given up after a permanent failure.
    Failed,
}

/// A queued mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Store id.
    pub id: u64,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Extra headers (List-Unsubscribe…).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Lifecycle state.
    pub state: MailState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When it is due next.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

pub(super) fn to_bytes<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(v)?)
}

pub(super) fn from_bytes<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::Store(format!("corrupt record: {e}")))
}

/// One write transaction of the store.
pub struct Tx<'a> {
    pub(super) tx: &'a WriteTransaction,
    /// Offers written or removed, taken out of the cache after the commit.
    pub(super) touched: std::cell::RefCell<Vec<u64>>,
}

impl Tx<'_> {
    /// Next value of a named counter.
    pub fn next_id(&self, key: &str) -> Result<u64> {
        let mut t = self.tx.open_table(COUNTERS)?;
        let n = t.get(key)?.map(|v| v.value()).unwrap_or(0) + 1;
        t.insert(key, n)?;
        Ok(n)
    }

    /// An account.
    pub fn account(&self, id: u64) -> Result<Option<Account>> {
        let t = self.tx.open_table(ACCOUNTS)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Writes an account.
    pub fn put_account(&self, a: &Account) -> Result<()> {
        self.tx
            .open_table(ACCOUNTS)?
            .insert(a.id, to_bytes(a)?.as_slice())?;
        Ok(())
    }

    /// Removes an account and its logins.
    pub fn delete_account(&self, a: &Account, logins: &[String]) -> Result<()> {
        self.tx.open_table(ACCOUNTS)?.remove(a.id)?;
        let mut l = self.tx.open_table(LOGINS)?;
        for login in logins {
            l.remove(login.as_str())?;
        }
        Ok(())
    }

    /// Claims a login for an account; a conflict when taken by another.
    pub fn claim_login(&self, login: &str, account: u64) -> Result<()> {
        let mut t = self.tx.open_table(LOGINS)?;
        if let Some(owner) = t.get(login)?.map(|v| v.value())
            && owner != account
        {
            return Err(Error::Conflict(format!(
                "'{login}' is already used by another account"
            )));
        }
        t.insert(login, account)?;
        Ok(())
    }

    /// Releases a login.
    pub fn release_login(&self, login: &str) -> Result<()> {
        self.tx.open_table(LOGINS)?.remove(login)?;
        Ok(())
    }

    /// Stores a token under its hash.
    pub fn put_token(&self, hash: &str, t: &Token) -> Result<()> {
        self.tx
            .open_table(TOKENS)?
            .insert(hash, to_bytes(t)?.as_slice())?;
        Ok(())
    }

    /// Removes and returns a token (single use).
    pub fn take_token(&self, hash: &str) -> Result<Option<Token>> {
        let mut t = self.tx.open_table(TOKENS)?;
        let v = t.remove(hash)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Removes every token of an account (and purpose, when given).
    pub fn revoke_tokens(&self, account: u64, purpose: Option<TokenPurpose>) -> Result<()> {
        let mut t = self.tx.open_table(TOKENS)?;
        let mut doomed = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            let tok: Token = from_bytes(v.value())?;
            if tok.account == account && purpose.is_none_or(|p| p == tok.purpose) {
                doomed.push(k.value().to_string());
            }
        }
        for k in doomed {
            t.remove(k.as_str())?;
        }
        Ok(())
    }

    /// A service.
    pub fn service(&self, id: u64) -> Result<Option<Service>> {
        let t = self.tx.open_table(SERVICES)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Writes a service.
    pub fn put_service(&self, s: &Service) -> Result<()> {
        self.tx
            .open_table(SERVICES)?
            .insert(s.id, to_bytes(s)?.as_slice())?;
        Ok(())
    }

    /// Queues a mail; returns its id.
    pub fn queue_mail(&self, mut m: Mail) -> Result<u64> {
        m.id = self.next_id("mail_id")?;
        self.put_mail(&m)?;
        Ok(m.id)
    }

    /// Writes a mail record.
    pub fn put_mail(&self, m: &Mail) -> Result<()> {
        self.tx
            .open_table(MAILS)?
            .insert(m.id, to_bytes(m)?.as_slice())?;
        Ok(())
    }

    /// Removes the pending mails addressed to `to`.
    pub fn drop_pending_mails_to(&self, to: &str) -> Result<()> {
        let mut t = self.tx.open_table(MAILS)?;
        let mut doomed = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            let m: Mail = from_bytes(v.value())?;
            if m.to == to && m.state == MailState::Pending {
                doomed.push(k.value());
            }
        }
        for k in doomed {
            t.remove(k)?;
        }
        Ok(())
    }

    /// Records that an offer belongs to a service.
    pub fn link_offer(&self, service: u64, offer: u64) -> Result<()> {
        self.tx
            .open_table(SERVICE_OFFERS)?
            .insert((service, offer), ())?;
        Ok(())
    }

    /// Forgets that link.
    pub fn unlink_offer(&self, service: u64, offer: u64) -> Result<()> {
        self.tx
            .open_table(SERVICE_OFFERS)?
            .remove((service, offer))?;
        Ok(())
    }
}

impl Store {
    /// Runs `f` in one durable write transaction: all of it is committed, or nothing.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self.db.begin_write()?;
        let scope = Tx {
            tx: &tx,
            touched: Default::default(),
        };
        let out = f(&scope);
        let touched = scope.touched.take();
        let out = out?;
        let committed = tx.commit();
        self.offers.changed(&touched);
        committed?;
        Ok(out)
    }

    /// An account.
    pub fn account(&self, id: u64) -> Result<Option<Account>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(ACCOUNTS)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// The account with this (lower-cased) e-mail address or username.
    pub fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let tx = self.db.begin_read()?;
        let Some(id) = tx.open_table(LOGINS)?.get(login)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let t = tx.open_table(ACCOUNTS)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Every account, in id order.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(ACCOUNTS)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            out.push(from_bytes(e?.1.value())?);
        }
        Ok(out)
    }

    /// A token by its hash (not consumed).
    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(TOKENS)?;
        let v = t.get(hash)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// A service.
    pub fn service(&self, id: u64) -> Result<Option<Service>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SERVICES)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Every service, in id order.
    pub fn services(&self) -> Result<Vec<Service>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SERVICES)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            out.push(from_bytes(e?.1.value())?);
        }
        Ok(out)
    }

    /// Ids of the offers of a service.
    pub fn service_offer_ids(&self, service: u64) -> Result<Vec<u64>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SERVICE_OFFERS)?;
        let mut out = Vec::new();
        for e in t.range((service, 0)..=(service, u64::MAX))? {
            out.push(e?.0.value().1);
        }
        Ok(out)
    }

    /// Mails due for (another) attempt at `now`, oldest first.
    pub fn due_mails(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Mail>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(MAILS)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            let m: Mail = from_bytes(e?.1.value())?;
            if m.state == MailState::Pending && m.next_attempt_at <= now {
                out.push(m);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every mail record (tests, operators).
    pub fn mails(&self) -> Result<Vec<Mail>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(MAILS)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            out.push(from_bytes(e?.1.value())?);
        }
        Ok(out)
    }
}
