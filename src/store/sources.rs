//! Partner feeds (RSS or Atom) an administrator registered: where to poll, for which service,
//! with which default field values, which item became which offer, and what the last poll did.

use std::collections::BTreeMap;

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::accounts::{from_bytes, to_bytes};
use super::{Store, Tx};
use crate::domain::OfferInput;
use crate::error::Result;

const SOURCES: TableDefinition<u64, &[u8]> = TableDefinition::new("sources");

pub(super) fn copy_tables(
    src: &redb::ReadTransaction,
    dst: &redb::WriteTransaction,
    copied: &mut super::backup::Copied,
) -> Result<()> {
    super::backup::copy(src, dst, SOURCES, copied)
}

pub(super) fn create_tables(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(SOURCES)?;
    Ok(())
}

/// An item that could not become an offer, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rejected {
    /// The item's guid (RSS) or id (Atom).
    pub guid: String,
    /// Its title, when it has one.
    pub title: String,
    /// What is wrong, naming the fields.
    pub reason: String,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Poll {
    /// When (RFC 3339).
    pub at: String,
    /// `ok`, `not-modified` (HTTP 304) or `error`.
    pub status: String,
    /// Why it failed (nothing was changed then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Items in the feed.
    pub items: u64,
    /// New offers.
    pub imported: u64,
    /// Offers changed because their item changed.
    pub updated: u64,
    /// Offers archived because their item left the feed.
    pub archived: u64,
    /// Items left as they were.
    pub unchanged: u64,
    /// Items that could not become offers.
    pub rejected: Vec<Rejected>,
}

/// A registered feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// Store id.
    pub id: u64,
    /// The feed's address.
    pub url: String,
    /// The service its offers belong to.
    pub service: u64,
    /// Field values of every offer the feed's items do not give.
    pub defaults: OfferInput,
    /// RFC 3339.
    pub created_at: String,
    /// Validators of the last answer, for conditional requests.
    #[serde(default)]
    pub etag: Option<String>,
    /// `Last-Modified` of the last answer.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Item guid → offer id.
    #[serde(default)]
    pub items: BTreeMap<String, u64>,
    /// Item guid → fingerprint of what it gave (a changed item updates its offer).
    #[serde(default)]
    pub fingerprints: BTreeMap<String, u64>,
    /// The last poll.
    #[serde(default)]
    pub last_poll: Option<Poll>,
}

impl Tx<'_> {
    /// One source, as this transaction sees it.
    pub fn source(&self, id: u64) -> Result<Option<Source>> {
        let t = self.tx.open_table(SOURCES)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }

    /// Writes a source.
    pub fn put_source(&self, s: &Source) -> Result<()> {
        self.tx
            .open_table(SOURCES)?
            .insert(s.id, to_bytes(s)?.as_slice())?;
        Ok(())
    }

    /// Removes a source; true when it existed.
    pub fn remove_source(&self, id: u64) -> Result<bool> {
        Ok(self.tx.open_table(SOURCES)?.remove(id)?.is_some())
    }
}

impl Store {
    /// Every source, by id.
    pub fn sources(&self) -> Result<Vec<Source>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SOURCES)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(from_bytes(row?.1.value())?);
        }
        Ok(out)
    }

    /// One source.
    pub fn source(&self, id: u64) -> Result<Option<Source>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SOURCES)?;
        let v = t.get(id)?;
        v.map(|v| from_bytes(v.value())).transpose()
    }
}
