//! redb as the system of record, for one machine: the store's file (opened once, with a small
//! page cache) and the table operations on its read and write transactions.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;

use redb::{Database, ReadableTable, ReadableTableMetadata};

use crate::error::{Error, Result};
use crate::store::table::{Col, Table};

/// Opens (or creates) the store's file; another process holding it is an error that says so.
pub(crate) fn open(path: &Path) -> Result<Database> {
    // redb's page cache defaults to 1 GiB and fills up with whatever is read (a whole import,
    // an export, the suggestions' fill at start); the OS page cache keeps the file's hot pages
    // anyway, and the decoded offers have a cache of their own. 16 MB: what a server holds of
    // it counts in its resident memory.
    match Database::builder()
        .set_cache_size(4 * 1024 * 1024)
        .create(path)
    {
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(Error::Store(format!(
            "{} is in use by another offerwatch process",
            path.display()
        ))),
        other => Ok(other?),
    }
}

/// The value under `k`.
pub(crate) fn get<K: Col + redb::Key, V: Col>(
    t: &impl ReadableTable<K, V>,
    k: &K::Owned,
) -> Result<Option<V::Owned>> {
    Ok(t.get(K::view(k))?.map(|v| V::own(v.value())))
}

/// Calls `f` with the rows between `lo` and `hi`, in key order, until it returns false.
pub(crate) fn scan<K: Col + redb::Key, V: Col>(
    t: &impl ReadableTable<K, V>,
    lo: Bound<&K::Owned>,
    hi: Bound<&K::Owned>,
    f: &mut dyn FnMut(K::Owned, V::Owned) -> Result<bool>,
) -> Result<()> {
    let range = (lo.map(K::view), hi.map(K::view));
    for e in t.range::<K::SelfType<'_>>(range)? {
        let (k, v) = e?;
        if !f(K::own(k.value()), V::own(v.value()))? {
            break;
        }
    }
    Ok(())
}

/// The greatest key.
pub(crate) fn last_key<K: Col + redb::Key, V: Col>(
    t: &impl ReadableTable<K, V>,
) -> Result<Option<K::Owned>> {
    Ok(t.last()?.map(|(k, _)| K::own(k.value())))
}

/// Number of rows.
pub(crate) fn len(t: &impl ReadableTableMetadata) -> Result<u64> {
    Ok(t.len()?)
}

/// Writes `v` under `k` (replacing what was there).
pub(crate) fn put<K: Col + redb::Key, V: Col>(
    tx: &redb::WriteTransaction,
    t: &Table<K, V>,
    k: &K::Owned,
    v: &V::Owned,
) -> Result<()> {
    tx.open_table(t.def)?.insert(K::view(k), V::view(v))?;
    Ok(())
}

/// Writes many rows (replacing what was there).
pub(crate) fn put_many<K: Col + redb::Key, V: Col>(
    tx: &redb::WriteTransaction,
    t: &Table<K, V>,
    rows: &[(K::Owned, V::Owned)],
) -> Result<()> {
    let mut table = tx.open_table(t.def)?;
    for (k, v) in rows {
        table.insert(K::view(k), V::view(v))?;
    }
    Ok(())
}

/// Writes the rows whose key is absent; returns the keys written.
pub(crate) fn put_new<K: Col + redb::Key, V: Col>(
    tx: &redb::WriteTransaction,
    t: &Table<K, V>,
    rows: &[(K::Owned, V::Owned)],
) -> Result<HashSet<K::Owned>> {
    let mut table = tx.open_table(t.def)?;
    let mut written = HashSet::new();
    for (k, v) in rows {
        if table.get(K::view(k))?.is_none() {
            table.insert(K::view(k), V::view(v))?;
            written.insert(k.clone());
        }
    }
    Ok(written)
}

/// Removes `k`; returns what it held.
pub(crate) fn remove<K: Col + redb::Key, V: Col>(
    tx: &redb::WriteTransaction,
    t: &Table<K, V>,
    k: &K::Owned,
) -> Result<Option<V::Owned>> {
    let mut table = tx.open_table(t.def)?;
    let v = table.remove(K::view(k))?;
    Ok(v.map(|v| V::own(v.value())))
}
