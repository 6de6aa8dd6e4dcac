//! Partner feeds (RSS or Atom) an administrator registered: where to poll, for which service,
//! with which default field values, which item became which offer, and what the last poll did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kv::AnyTable;
use super::table::Table;
use super::tx::{record, records, to_bytes};
use super::{Store, Tx};
use crate::domain::OfferInput;
use crate::error::Result;

const SOURCES: Table<u64, &[u8]> = Table::new("sources", &["id"], &["body"]);

pub(super) fn tables() -> [&'static dyn AnyTable; 1] {
    [&SOURCES]
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
    /// Offers in France whose town no commune's name matched (kept without a commune).
    #[serde(default)]
    pub without_commune: u64,
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
        record(self.v.get(&SOURCES, &id)?)
    }

    /// Writes a source.
    pub fn put_source(&self, s: &Source) -> Result<()> {
        self.v.put(&SOURCES, &s.id, &to_bytes(s)?)
    }

    /// Removes a source; true when it existed.
    pub fn remove_source(&self, id: u64) -> Result<bool> {
        Ok(self.v.remove(&SOURCES, &id)?.is_some())
    }
}

impl Store {
    /// Every source, by id.
    pub fn sources(&self) -> Result<Vec<Source>> {
        self.read(|v| records(v, &SOURCES))
    }

    /// One source.
    pub fn source(&self, id: u64) -> Result<Option<Source>> {
        self.read(|v| record(v.get(&SOURCES, &id)?))
    }
}
