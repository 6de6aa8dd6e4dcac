//! The mail queue: account mails waiting to be sent, being retried, sent or given up, and
//! the index of the pending ones that the sender reads. Settled mails keep no token.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use super::kv::{AnyTable, View};
use super::table::Table;
use super::tx::{Tx, from_bytes, records, to_bytes};
use crate::error::Result;

const MAILS: Table<u64, &[u8]> = Table::new("mails", &["id"], &["body"]);
/// The ids of the mails still pending: the sender reads these, not every mail ever sent.
const PENDING_MAILS: Table<u64, ()> = Table::new("mail_pending", &["id"], &[]);
/// Set once the pending mails' table holds every pending mail (stores made before it existed
/// are brought up to date when opened).
const PENDING_MAILS_FILLED: &str = "mail_pending_filled";

pub(super) fn tables() -> [&'static dyn AnyTable; 2] {
    [&MAILS, &PENDING_MAILS]
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
    /// Files attached (an application's documents): their bytes are kept in the store under
    /// their key until the mail is settled, then forgotten.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MailFile>,
}

/// A file attached to a queued mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFile {
    /// Where its bytes are (see [`Store::put_attachment`]).
    pub key: String,
    /// The file name the recipient sees.
    pub name: String,
    /// Its content type, told by content when uploaded.
    pub content_type: String,
}

impl Tx<'_> {
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
}

impl Store {
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

impl Store {
    /// Removes the mails settled (sent or given up) before `before`; the number removed.
    pub fn purge_mails(&self, before: OffsetDateTime) -> Result<usize> {
        self.write(|tx| {
            tx.v.remove_where(&MAILS, |_, b| {
                let m: Mail = from_bytes(b)?;
                Ok(m.state != MailState::Pending && m.next_attempt_at < before)
            })
        })
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
            attachments: Vec::new(),
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
