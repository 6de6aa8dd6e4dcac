//! Offers that visitors reported ("Signaler cette offre"), for the administrators to withdraw
//! the offer or dismiss the report.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kv::AnyTable;
use super::table::Table;
use super::tx::{record, records, to_bytes};
use super::{Store, Tx};
use crate::error::Result;

const REPORTS: Table<u64, &[u8]> = Table::new("reports", &["id"], &["body"]);

pub(super) fn tables() -> [&'static dyn AnyTable; 1] {
    [&REPORTS]
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Waiting for an administrator.
    Open,
    /// The offer was withdrawn from diffusion.
    Withdrawn,
    /// Looked at, nothing to do.
    Dismissed,
}

/// A report of an offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Store id.
    pub id: u64,
    /// The offer reported.
    pub offer: u64,
    /// Its reference, as the visitor saw it.
    pub reference: String,
    /// Its title then.
    pub title: String,
    /// The kind of problem (`reason` codes of the form).
    pub reason: String,
    /// What the visitor wrote.
    pub message: String,
    /// An address to answer to, if the visitor gave one.
    #[serde(default)]
    pub email: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Where it stands.
    pub state: ReportState,
    /// The administrator who handled it, and when.
    #[serde(default)]
    pub handled_by: Option<u64>,
    /// When it was handled.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
}

impl Tx<'_> {
    /// One report, as this transaction sees it.
    pub fn report(&self, id: u64) -> Result<Option<Report>> {
        record(self.v.get(&REPORTS, &id)?)
    }

    /// Writes a report.
    pub fn put_report(&self, r: &Report) -> Result<()> {
        self.v.put(&REPORTS, &r.id, &to_bytes(r)?)
    }

    /// Removes a report.
    pub fn remove_report(&self, id: u64) -> Result<()> {
        self.v.remove(&REPORTS, &id)?;
        Ok(())
    }
}

impl Store {
    /// Removes the reports handled before `before`; the number removed.
    pub fn purge_reports(&self, before: OffsetDateTime) -> Result<usize> {
        self.write(|tx| {
            tx.v.remove_where(&REPORTS, |_, b| {
                let r: Report = super::tx::from_bytes(b)?;
                Ok(r.handled_at.is_some_and(|t| t < before))
            })
        })
    }

    /// Every report, oldest first.
    pub fn reports(&self) -> Result<Vec<Report>> {
        self.read(|v| records(v, &REPORTS))
    }
}
