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
    Ok(())
}

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(SEARCHES)?;
    tx.open_table(ACCOUNT_SEARCHES)?;
    tx.open_table(PERCOLATED)?;
    tx.open_table(OUTBOX)?;
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
        let mut doomed = Vec::new();
        for e in out.range((s.id, 0)..=(s.id, u64::MAX))? {
            doomed.push(e?.0.value());
        }
        for k in doomed {
            out.remove(k)?;
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
        let mut out = self.tx.open_table(OUTBOX)?;
        for m in matches {
            if out.get((m.search, m.offer))?.is_none() {
                out.insert((m.search, m.offer), serde_json::to_vec(m)?.as_slice())?;
            }
        }
        Ok(())
    }

    /// Writes an outbox row.
    pub fn put_outbox(&self, row: &OutboxRow) -> Result<()> {
        self.tx
            .open_table(OUTBOX)?
            .insert((row.search, row.offer), serde_json::to_vec(row)?.as_slice())?;
        Ok(())
    }
}

impl Store {
    /// Every saved search, in id order (decoded in parallel: a million are read at start).
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>> {
        use rayon::prelude::*;
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SEARCHES)?;
        let mut raw = Vec::new();
        for e in t.iter()? {
            raw.push(e?.1.value().to_vec());
        }
        raw.par_iter().map(|b| de(b)).collect()
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

    /// Outbox rows still pending.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxRow>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(OUTBOX)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            let row: OutboxRow = de(e?.1.value())?;
            if row.state == MailState::Pending {
                out.push(row);
            }
        }
        Ok(out)
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
