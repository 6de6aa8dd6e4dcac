//! The store's write transaction, [`Tx`], and the codec of its records (JSON bytes).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::kv::View;
use super::table::Table;
use crate::error::{Error, Result};

pub(super) fn to_bytes<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(v)?)
}

pub(super) fn from_bytes<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::failed("corrupt record", e))
}

/// One write transaction of the store.
pub struct Tx<'a> {
    pub(super) v: View<'a>,
    /// Offers written or removed, taken out of the cache after the commit.
    pub(super) touched: std::cell::RefCell<Vec<u64>>,
    /// What to tell the other nodes at commit (a shared store).
    pub(super) notify: Option<&'a super::postgres::Notify>,
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
}
