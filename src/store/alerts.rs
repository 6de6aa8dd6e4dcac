//! Saved searches, the record of percolated offers, and the alert outbox keyed by
//! (saved search, offer): a match is written in the same transaction that records the offer as
//! percolated, so a crash neither loses nor doubles it.

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Store;
use super::accounts::{MailState, Tx};
use crate::domain::account::{Frequency, SavedSearch};
use crate::error::{Error, Result};

const SEARCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("saved_searches");
const ACCOUNT_SEARCHES: TableDefinition<(u64, u64), ()> = TableDefinition::new("account_searches");
/// Offers whose first publication was percolated → when.
const PERCOLATED: TableDefinition<u64, i64> = TableDefinition::new("percolated");
/// (saved search, offer) → outbox row.
const OUTBOX: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("alert_outbox");
/// The outbox rows still pending, (saved search, offer) → row: the sender reads only these,
/// not every mail ever sent.
const PENDING: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("alert_pending");
/// Set once the pending table holds every pending row of the outbox (stores made before it
/// existed are brought up to date when opened).
const PENDING_FILLED: &str = "alert_pending_filled";

/// Copies this module's tables (see [`super::backup`]).
pub(super) fn copy_tables(
    src: &redb::ReadTransaction,
    dst: &redb::WriteTransaction,
    copied: &mut super::backup::Copied,
) -> Result<()> {
    super::backup::copy(src, dst, SEARCHES, copied)?;
    super::backup::copy(src, dst, ACCOUNT_SEARCHES, copied)?;
    super::backup::copy(src, dst, PERCOLATED, copied)?;
    super::backup::copy(src, dst, OUTBOX, copied)?;
    super::backup::copy(src, dst, PENDING, copied)?;
    Ok(())
}

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(SEARCHES)?;
    tx.open_table(ACCOUNT_SEARCHES)?;
    tx.open_table(PERCOLATED)?;
    let outbox = tx.open_table(OUTBOX)?;
    let mut pending = tx.open_table(PENDING)?;
    let mut meta = tx.open_table(super::META)?;
    if meta.get(PENDING_FILLED)?.is_none() {
        for e in outbox.iter()? {
            let (k, v) = e?;
            let row: OutboxRow = de(v.value())?;
            if row.state == MailState::Pending {
                pending.insert(k.value(), v.value())?;
            }
        }
        meta.insert(PENDING_FILLED, "1")?;
    }
    Ok(())
}

/// One match waiting to be mailed (or mailed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// The saved search (alert).
    pub search: u64,
    /// The matched offer.
    pub offer: u64,
    /// The account it belongs to.
    pub account: u64,
    /// Immediate mails or a daily digest.
    pub frequency: Frequency,
    /// Lifecycle state.
    pub state: MailState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it is due next.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

fn de<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::Store(format!("corrupt record: {e}")))
}

impl Tx<'_> {
    /// A saved search.
    pub fn saved_search(&self, id: u64) -> Result<Option<SavedSearch>> {
        let t = self.tx.open_table(SEARCHES)?;
        let v = t.get(id)?;
        v.map(|v| de(v.value())).transpose()
    }

    /// Writes a saved search.
    pub fn put_saved_search(&self, s: &SavedSearch) -> Result<()> {
        self.tx
            .open_table(SEARCHES)?
            .insert(s.id, serde_json::to_vec(s)?.as_slice())?;
        self.tx
            .open_table(ACCOUNT_SEARCHES)?
            .insert((s.account, s.id), ())?;
        Ok(())
    }

    /// Deletes a saved search and its pending matches.
    pub fn delete_saved_search(&self, s: &SavedSearch) -> Result<()> {
        self.tx.open_table(SEARCHES)?.remove(s.id)?;
        self.tx
            .open_table(ACCOUNT_SEARCHES)?
            .remove((s.account, s.id))?;
        let mut out = self.tx.open_table(OUTBOX)?;
        let mut pending = self.tx.open_table(PENDING)?;
        let mut doomed = Vec::new();
        for e in out.range((s.id, 0)..=(s.id, u64::MAX))? {
            doomed.push(e?.0.value());
        }
        for k in doomed {
            out.remove(k)?;
            pending.remove(k)?;
        }
        Ok(())
    }

    /// Ids of an account's saved searches.
    pub fn saved_search_ids(&self, account: u64) -> Result<Vec<u64>> {
        let t = self.tx.open_table(ACCOUNT_SEARCHES)?;
        let mut out = Vec::new();
        for e in t.range((account, 0)..=(account, u64::MAX))? {
            out.push(e?.0.value().1);
        }
        Ok(out)
    }

    /// True when the offer's first publication was already percolated.
    pub fn percolated(&self, offer: u64) -> Result<bool> {
        Ok(self.tx.open_table(PERCOLATED)?.get(offer)?.is_some())
    }

    /// Records the percolation of an offer with its matches (once per (search, offer)).
    pub fn record_percolation(
        &self,
        offer: u64,
        at: OffsetDateTime,
        matches: &[OutboxRow],
    ) -> Result<()> {
        self.tx
            .open_table(PERCOLATED)?
            .insert(offer, at.unix_timestamp())?;
        self.add_outbox_rows(matches)
    }

    /// Adds outbox rows, each (search, offer) once: a row already there (written before a
    /// crash, perhaps sent since) stays as it is.
    pub fn add_outbox_rows(&self, matches: &[OutboxRow]) -> Result<()> {
        let mut out = self.tx.open_table(OUTBOX)?;
        let mut pending = self.tx.open_table(PENDING)?;
        let mut bytes = Vec::with_capacity(256);
        for m in matches {
            let k = (m.search, m.offer);
            if out.get(k)?.is_none() {
                bytes.clear();
                serde_json::to_writer(&mut bytes, m)?;
                out.insert(k, bytes.as_slice())?;
                if m.state == MailState::Pending {
                    pending.insert(k, bytes.as_slice())?;
                }
            }
        }
        Ok(())
    }

    /// Writes an outbox row (and keeps the pending table in step with its state).
    pub fn put_outbox(&self, row: &OutboxRow) -> Result<()> {
        let k = (row.search, row.offer);
        let bytes = serde_json::to_vec(row)?;
        self.tx.open_table(OUTBOX)?.insert(k, bytes.as_slice())?;
        let mut pending = self.tx.open_table(PENDING)?;
        if row.state == MailState::Pending {
            pending.insert(k, bytes.as_slice())?;
        } else {
            pending.remove(k)?;
        }
        Ok(())
    }
}

impl Store {
    /// Every saved search, in id order.
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>> {
        let mut all = Vec::new();
        self.saved_searches_by_chunk(10_000, |chunk| {
            all.extend(chunk);
            Ok(())
        })?;
        Ok(all)
    }

    /// Calls `f` with every saved search, in id order, `chunk` at a time (each chunk decoded in
    /// parallel), from one snapshot: a million are read at start without holding them all.
    pub fn saved_searches_by_chunk(
        &self,
        chunk: usize,
        mut f: impl FnMut(Vec<SavedSearch>) -> Result<()>,
    ) -> Result<()> {
        use rayon::prelude::*;
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SEARCHES)?;
        let mut raw = Vec::with_capacity(chunk);
        let mut entries = t.iter()?;
        loop {
            raw.clear();
            for e in entries.by_ref().take(chunk.max(1)) {
                raw.push(e?.1.value().to_vec());
            }
            if raw.is_empty() {
                return Ok(());
            }
            f(raw.par_iter().map(|b| de(b)).collect::<Result<_>>()?)?;
        }
    }

    /// An account's saved searches.
    pub fn saved_searches_of(&self, account: u64) -> Result<Vec<SavedSearch>> {
        let tx = self.db.begin_read()?;
        let idx = tx.open_table(ACCOUNT_SEARCHES)?;
        let t = tx.open_table(SEARCHES)?;
        let mut out = Vec::new();
        for e in idx.range((account, 0)..=(account, u64::MAX))? {
            let id = e?.0.value().1;
            if let Some(v) = t.get(id)? {
                out.push(de(v.value())?);
            }
        }
        Ok(out)
    }

    /// A saved search.
    pub fn saved_search(&self, id: u64) -> Result<Option<SavedSearch>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SEARCHES)?;
        let v = t.get(id)?;
        v.map(|v| de(v.value())).transpose()
    }

    /// Up to `limit` pending rows that `keep` accepts, in (saved search, offer) order; the
    /// rows of the last saved search are all taken (a daily digest is one mail).
    pub fn pending_outbox_where(
        &self,
        limit: usize,
        keep: impl Fn(&OutboxRow) -> bool,
    ) -> Result<Vec<OutboxRow>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(PENDING)?;
        let mut out: Vec<OutboxRow> = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            if out.len() >= limit && out.last().is_some_and(|r| r.search != k.value().0) {
                break;
            }
            let row: OutboxRow = de(v.value())?;
            if keep(&row) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Outbox rows still pending.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxRow>> {
        self.pending_outbox_where(usize::MAX, |_| true)
    }

    /// Every outbox row of these saved searches.
    pub fn outbox_of(&self, searches: &[u64]) -> Result<Vec<OutboxRow>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(OUTBOX)?;
        let mut out = Vec::new();
        for &s in searches {
            for e in t.range((s, 0)..=(s, u64::MAX))? {
                out.push(de(e?.1.value())?);
            }
        }
        Ok(out)
    }

    /// Number of offers percolated.
    pub fn percolated_count(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(PERCOLATED)?.len()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn row(search: u64, offer: u64, state: MailState) -> OutboxRow {
        let t = datetime!(2026-11-20 10:00 UTC);
        OutboxRow {
            search,
            offer,
            account: 1,
            frequency: Frequency::Immediate,
            state,
            attempts: 0,
            created_at: t,
            next_attempt_at: t,
            last_error: None,
        }
    }

    impl OutboxRow {
        fn sent(mut self) -> OutboxRow {
            self.state = MailState::Sent;
            self
        }
    }

    #[test]
    fn the_sender_reads_only_pending_rows_and_older_stores_are_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        let t = datetime!(2026-11-20 10:00 UTC);
        let rows = [
            row(1, 10, MailState::Pending),
            row(2, 10, MailState::Pending),
        ];
        store
            .write(|tx| tx.record_percolation(10, t, &rows))
            .unwrap();
        assert_eq!(store.pending_outbox().unwrap(), rows);
        // A bounded read takes the whole last saved search, and only the rows kept.
        let third = row(2, 11, MailState::Pending);
        store
            .write(|tx| tx.record_percolation(11, t, std::slice::from_ref(&third)))
            .unwrap();
        let keys = |rows: Vec<OutboxRow>| -> Vec<(u64, u64)> {
            rows.iter().map(|r| (r.search, r.offer)).collect()
        };
        let all = |_: &OutboxRow| true;
        assert_eq!(keys(store.pending_outbox_where(1, all).unwrap()), [(1, 10)]);
        assert_eq!(
            keys(store.pending_outbox_where(2, all).unwrap()),
            [(1, 10), (2, 10), (2, 11)]
        );
        let later = |r: &OutboxRow| r.offer == 11;
        assert_eq!(
            keys(store.pending_outbox_where(1, later).unwrap()),
            [(2, 11)]
        );
        store
            .write(|tx| tx.put_outbox(&third.clone().sent()))
            .unwrap();
        let sent = rows[0].clone().sent();
        store.write(|tx| tx.put_outbox(&sent)).unwrap();
        // Written again after a crash (the offer percolated anew): the sent row stays sent.
        store.write(|tx| tx.add_outbox_rows(&rows)).unwrap();
        assert_eq!(store.pending_outbox().unwrap(), [rows[1].clone()]);
        assert_eq!(
            store.outbox_of(&[1, 2]).unwrap(),
            [sent.clone(), rows[1].clone(), third.sent()]
        );
        // A store written before the pending table existed: rows only in the outbox.
        let old = row(3, 11, MailState::Pending);
        store
            .write(|tx| {
                tx.tx
                    .open_table(OUTBOX)?
                    .insert((3, 11), serde_json::to_vec(&old)?.as_slice())?;
                tx.tx
                    .open_table(super::super::META)?
                    .remove(PENDING_FILLED)?;
                Ok(())
            })
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.pending_outbox().unwrap(), [rows[1].clone(), old]);
    }
}
