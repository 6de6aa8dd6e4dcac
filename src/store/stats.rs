//! Offer statistics: per offer and per day, views (offer page and API), clicks on "Postuler"
//! and alert mails sent. Counted in memory by the engine and added here in batches (one
//! transaction per flush, never one per view).

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;

use super::Store;
use crate::error::Result;

/// (offer id, day as days since 1970-01-01) → [views, clicks, mails].
const OFFER_STATS: TableDefinition<(u64, i32), [u64; 3]> = TableDefinition::new("offer_stats");

pub(super) fn copy_tables(
    src: &redb::ReadTransaction,
    dst: &redb::WriteTransaction,
    copied: &mut super::backup::Copied,
) -> Result<()> {
    super::backup::copy(src, dst, OFFER_STATS, copied)
}

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(OFFER_STATS)?;
    Ok(())
}

/// What is counted of an offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Views of the offer (page and API), robots left out.
    pub views: u64,
    /// Clicks on "Postuler".
    pub clicks: u64,
    /// Alert mails that carried it.
    pub mails: u64,
}

impl Counts {
    /// Adds another count.
    pub fn add(&mut self, o: Counts) {
        self.views += o.views;
        self.clicks += o.clicks;
        self.mails += o.mails;
    }

    /// True when nothing was counted.
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

impl Store {
    /// Adds counts per (offer, day) in one durable transaction.
    pub fn add_stats(&self, batch: &[((u64, i32), Counts)]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write()?;
        {
            let mut t = tx.open_table(OFFER_STATS)?;
            for &(key, add) in batch {
                let [v, c, m] = t.get(key)?.map(|g| g.value()).unwrap_or_default();
                let mut sum = Counts {
                    views: v,
                    clicks: c,
                    mails: m,
                };
                sum.add(add);
                t.insert(key, [sum.views, sum.clicks, sum.mails])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// An offer's counts per day (days since 1970-01-01), in day order.
    pub fn offer_stats(&self, offer: u64) -> Result<Vec<(i32, Counts)>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(OFFER_STATS)?;
        let mut out = Vec::new();
        for row in t.range((offer, i32::MIN)..=(offer, i32::MAX))? {
            let (k, v) = row?;
            let [views, clicks, mails] = v.value();
            out.push((
                k.value().1,
                Counts {
                    views,
                    clicks,
                    mails,
                },
            ));
        }
        Ok(out)
    }
}
