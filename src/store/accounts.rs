//! Accounts, services, tokens and the mail queue, in the same store. Changes that belong
//! together (approve an account + queue its mail + store its one-time token) are made in one
//! transaction through [`Store::write`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use super::kv::{AnyTable, Table, View};
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
const MAILS: Table<u64, &[u8]> = Table::new("mails", &["id"], &["body"]);
/// The ids of the mails still pending: the sender reads these, not every mail ever sent.
const PENDING_MAILS: Table<u64, ()> = Table::new("mail_pending", &["id"], &[]);
/// Set once the pending mails' table holds every pending mail (stores made before it existed
/// are brought up to date when opened).
const PENDING_MAILS_FILLED: &str = "mail_pending_filled";

pub(super) fn tables() -> [&'static dyn AnyTable; 7] {
    [
        &ACCOUNTS,
        &LOGINS,
        &TOKENS,
        &SERVICES,
        &SERVICE_OFFERS,
        &MAILS,
        &PENDING_MAILS,
    ]
}

/// The pending mails, in id order (oldest first).
fn pending_mails(v: &View<'_>) -> Result<Vec<Mail>> {
    let mut ids = Vec::new();
    v.each(&PENDING_MAILS, |k, ()| {
        ids.push(k);
        Ok(true)
    })?;
    v.get_many(&MAILS, &ids)?
        .into_iter()
        .flatten()
        .map(|b| from_bytes(&b))
        .collect()
}

/// Fills the pending mails' table of a store made before it existed.
pub(super) fn bring_up_to_date(v: &View<'_>) -> Result<()> {
    super::fill_once(v, PENDING_MAILS_FILLED, &MAILS, &PENDING_MAILS, |b| {
        Ok((from_bytes::<Mail>(b)?.state == MailState::Pending).then_some(()))
    })
}

/// What replaces a token in a mail once settled.
pub const REDACTED_TOKEN: &str = "[jeton retiré]";

/// `text` with every token (a run of 64 hexadecimal digits, as the one-time links carry
/// them) replaced by [`REDACTED_TOKEN`].
pub fn without_tokens(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start == 64 {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED_TOKEN);
            copied = i;
        }
    }
    out.push_str(&text[copied..]);
    out
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
    pub(super) v: View<'a>,
    /// Offers written or removed, taken out of the cache after the commit.
    pub(super) touched: std::cell::RefCell<Vec<u64>>,
    /// What to tell the other nodes at commit (a shared store).
    pub(super) notify: Option<&'a super::pg::Notify>,
}

pub(super) fn record<T: DeserializeOwned>(b: Option<Vec<u8>>) -> Result<Option<T>> {
    b.map(|b| from_bytes(&b)).transpose()
}

pub(super) fn records<T: DeserializeOwned>(
    v: &View<'_>,
    t: &Table<u64, &'static [u8]>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    v.each(t, |_, b| {
        out.push(from_bytes(&b)?);
        Ok(true)
    })?;
    Ok(out)
}

pub(super) fn second_parts(
    v: &View<'_>,
    t: &Table<(u64, u64), ()>,
    first: u64,
) -> Result<Vec<u64>> {
    Ok(v.values_between(t, &(first, 0), &(first, u64::MAX))?
        .into_iter()
        .map(|((_, b), ())| b)
        .collect())
}

impl Tx<'_> {
    /// Next value of a named counter.
    pub fn next_id(&self, key: &str) -> Result<u64> {
        super::next_counter(&self.v, key)
    }

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
            return Err(Error::Conflict(format!(
                "'{login}' is already used by another account"
            )));
        }
        self.v.put(&LOGINS, &login, &account)
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

    /// Queues a mail; returns its id.
    pub fn queue_mail(&self, mut m: Mail) -> Result<u64> {
        m.id = self.next_id("mail_id")?;
        self.put_mail(&m)?;
        Ok(m.id)
    }

    /// Writes a mail record.
    pub fn put_mail(&self, m: &Mail) -> Result<()> {
        if m.state != MailState::Pending {
            // Sent or given up: the one-time links it carried are of no use to keep, and a
            // copy of the store (a backup) must not open anyone's account.
            let settled = Mail {
                text: without_tokens(&m.text),
                html: without_tokens(&m.html),
                ..m.clone()
            };
            self.v.put(&MAILS, &m.id, &to_bytes(&settled)?)?;
            return self.v.remove(&PENDING_MAILS, &m.id).map(|_| ());
        }
        self.v.put(&MAILS, &m.id, &to_bytes(m)?)?;
        if m.state == MailState::Pending {
            self.v.put(&PENDING_MAILS, &m.id, &())
        } else {
            self.v.remove(&PENDING_MAILS, &m.id).map(|_| ())
        }
    }

    /// Removes the pending mails addressed to `to`.
    pub fn drop_pending_mails_to(&self, to: &str) -> Result<()> {
        let doomed: Vec<u64> = pending_mails(&self.v)?
            .into_iter()
            .filter(|m| m.to == to)
            .map(|m| m.id)
            .collect();
        self.v.remove_many(&MAILS, &doomed)?;
        self.v.remove_many(&PENDING_MAILS, &doomed)
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

    /// Mails due for (another) attempt at `now`, oldest first.
    pub fn due_mails(&self, now: OffsetDateTime, limit: usize) -> Result<Vec<Mail>> {
        self.read(|v| {
            Ok(pending_mails(v)?
                .into_iter()
                .filter(|m| m.state == MailState::Pending && m.next_attempt_at <= now)
                .take(limit)
                .collect())
        })
    }

    /// Every mail record (tests, operators).
    pub fn mails(&self) -> Result<Vec<Mail>> {
        self.read(|v| records(v, &MAILS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tokens_are_cut_from_settled_mails_and_nothing_else() {
        let t = "a".repeat(64);
        assert_eq!(
            without_tokens(&format!("lien ?token={t}&x=1 ; jeton : {t}")),
            format!("lien ?token={REDACTED_TOKEN}&x=1 ; jeton : {REDACTED_TOKEN}")
        );
        let short = "abc123 2026 ".to_string() + &"f".repeat(65);
        assert_eq!(without_tokens(&short), short, "only runs of exactly 64");
        assert_eq!(without_tokens("Réf. é ü"), "Réf. é ü");
    }

    #[test]
    fn the_mail_sender_reads_only_pending_mails_and_older_stores_are_brought_up_to_date() {
        super::super::tests::on_both_stores(pending_mails);
    }

    fn pending_mails(open: &dyn Fn() -> Store) {
        const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let store = open();
        let t = datetime!(2026-11-20 10:00 UTC);
        let mail = |to: &str, next_attempt_at| Mail {
            id: 0,
            to: to.into(),
            subject: "Objet".into(),
            text: format!("Texte https://portail.example/set-password?token={TOKEN}"),
            html: format!("<p><a href=\"/set-password?token={TOKEN}\">lien</a></p>"),
            headers: Vec::new(),
            state: MailState::Pending,
            attempts: 0,
            next_attempt_at,
            last_error: None,
        };
        let ids: Vec<u64> = ["a@exemple.fr", "b@exemple.fr", "c@exemple.fr"]
            .iter()
            .map(|to| store.write(|tx| tx.queue_mail(mail(to, t))).unwrap())
            .collect();
        let later = store
            .write(|tx| tx.queue_mail(mail("a@exemple.fr", t + time::Duration::hours(1))))
            .unwrap();
        let due = |store: &Store| -> Vec<u64> {
            store
                .due_mails(t, 10)
                .unwrap()
                .iter()
                .map(|m| m.id)
                .collect()
        };
        assert_eq!(due(&store), ids);
        assert_eq!(store.due_mails(t, 2).unwrap().len(), 2, "the limit");
        // Sent: no longer read, and its one-time link is gone from the store; the pending
        // mails to an address dropped: gone.
        let mut sent = store.due_mails(t, 1).unwrap().remove(0);
        assert!(sent.text.contains(TOKEN), "a pending mail keeps its link");
        sent.state = MailState::Sent;
        store.write(|tx| tx.put_mail(&sent)).unwrap();
        assert_eq!(due(&store), ids[1..]);
        let kept = store.mails().unwrap().remove(0);
        assert!(!kept.text.contains(TOKEN) && !kept.html.contains(TOKEN));
        assert!(kept.text.ends_with(&format!("?token={REDACTED_TOKEN}")));
        store
            .write(|tx| tx.drop_pending_mails_to("c@exemple.fr"))
            .unwrap();
        assert_eq!(due(&store), [ids[1]]);
        assert_eq!(store.mails().unwrap().len(), 3);
        // A store written before the pending table existed.
        store
            .write(|tx| {
                tx.v.remove(&PENDING_MAILS, &ids[1])?;
                tx.v.remove(&PENDING_MAILS, &later)?;
                tx.v.remove(&super::super::META, &PENDING_MAILS_FILLED.to_string())?;
                Ok(())
            })
            .unwrap();
        assert_eq!(due(&store), Vec::<u64>::new());
        drop(store);
        let store = open();
        assert_eq!(due(&store), [ids[1]]);
        let in_an_hour: Vec<u64> = store
            .due_mails(t + time::Duration::hours(1), 10)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(in_an_hour, [ids[1], later]);
    }
}
