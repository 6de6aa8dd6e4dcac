//! Offer statistics: per offer and per day, views (offer page and API), clicks on "Postuler"
//! and alert mails sent. Counted in memory by the engine and added here in batches (one
//! transaction per flush, never one per view).

use serde::Serialize;

use super::Store;
use super::kv::AnyTable;
use super::table::Table;
use crate::error::Result;

/// (offer id, day as days since 1970-01-01) → [views, clicks, mails].
const OFFER_STATS: Table<(u64, i32), [u64; 3]> = Table::new(
    "offer_stats",
    &["offer_id", "day"],
    &["views", "clicks", "mails"],
);

/// (offer id, day) → applications sent from the portal (« Postuler en ligne »), counted in the
/// transaction that queues each one's mail.
const OFFER_APPLICATIONS: Table<(u64, i32), u64> = Table::new(
    "offer_applications",
    &["offer_id", "day"],
    &["applications"],
);

pub(super) fn tables() -> [&'static dyn AnyTable; 2] {
    [&OFFER_STATS, &OFFER_APPLICATIONS]
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
    /// Applications sent from the portal.
    pub applications: u64,
}

impl Counts {
    /// Adds another count.
    pub fn add(&mut self, o: Counts) {
        self.views += o.views;
        self.clicks += o.clicks;
        self.mails += o.mails;
        self.applications += o.applications;
    }

    /// True when nothing was counted.
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

impl Store {
    /// Adds counts to the rows of (offer, day), in one transaction.
    pub fn add_stats(&self, batch: &[((u64, i32), Counts)]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for &(key, add) in batch {
                let [v, c, m] = tx.v.get(&OFFER_STATS, &key)?.unwrap_or_default();
                let mut sum = Counts {
                    views: v,
                    clicks: c,
                    mails: m,
                    applications: 0,
                };
                sum.add(add);
                tx.v.put(&OFFER_STATS, &key, &[sum.views, sum.clicks, sum.mails])?;
            }
            Ok(())
        })
    }

    /// The counts of an offer, per day.
    pub fn offer_stats(&self, offer: u64) -> Result<Vec<(i32, Counts)>> {
        let (from, to) = ((offer, i32::MIN), (offer, i32::MAX));
        let (rows, applied) = self.read(|v| {
            Ok((
                v.values_between(&OFFER_STATS, &from, &to)?,
                v.values_between(&OFFER_APPLICATIONS, &from, &to)?,
            ))
        })?;
        let mut days: std::collections::BTreeMap<i32, Counts> = rows
            .into_iter()
            .map(|((_, day), [views, clicks, mails])| {
                (
                    day,
                    Counts {
                        views,
                        clicks,
                        mails,
                        applications: 0,
                    },
                )
            })
            .collect();
        for ((_, day), n) in applied {
            days.entry(day).or_default().applications += n;
        }
        Ok(days.into_iter().collect())
    }
}

impl Store {
    /// Removes the statistics of days before `before_day` (days since 1970-01-01); the number
    /// of rows removed.
    pub fn purge_stats(&self, before_day: i32) -> Result<usize> {
        self.write(|tx| {
            Ok(tx
                .v
                .remove_where(&OFFER_STATS, |k, _| Ok(k.1 < before_day))?
                + tx.v
                    .remove_where(&OFFER_APPLICATIONS, |k, _| Ok(k.1 < before_day))?)
        })
    }
}

impl super::Tx<'_> {
    /// Counts one application to `offer` on `day` (days since 1970-01-01).
    pub fn count_application(&self, offer: u64, day: i32) -> Result<()> {
        let key = (offer, day);
        let n = self.v.get(&OFFER_APPLICATIONS, &key)?.unwrap_or(0);
        self.v.put(&OFFER_APPLICATIONS, &key, &(n + 1))
    }
}
