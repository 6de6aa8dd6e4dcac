//! The table layer: the few operations the store makes on its tables (get, put, remove,
//! ordered scans), on either system of record — a redb file (one machine, `redb/`) or
//! PostgreSQL (several nodes, `postgres/`). The store's logic above is written once against
//! [`View`], which hands each operation to the backend of its transaction.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ops::Bound;

use super::postgres::{PgConn, tables as sql};
use super::redb as file;
use super::table::{Col, Table};
use crate::error::{Error, Result};

/// A transaction open on one of the stores: writes go through a write transaction; a read
/// transaction is one consistent snapshot.
#[derive(Clone, Copy)]
pub(crate) enum View<'a> {
    RedbWrite(&'a ::redb::WriteTransaction),
    RedbRead(&'a ::redb::ReadTransaction),
    Pg(&'a RefCell<PgConn>),
}

fn read_only() -> Error {
    Error::Internal("a write in a read transaction".into())
}

impl View<'_> {
    /// The value under `k`.
    pub(crate) fn get<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<Option<V::Owned>> {
        match self {
            View::RedbWrite(tx) => file::get(&tx.open_table(t.def)?, k),
            View::RedbRead(tx) => file::get(&tx.open_table(t.def)?, k),
            View::Pg(c) => sql::get(c, t, k),
        }
    }

    /// The values under `keys`, in the same order (None: absent), in few statements.
    pub(crate) fn get_many<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        keys: &[K::Owned],
    ) -> Result<Vec<Option<V::Owned>>> {
        match self {
            View::Pg(c) => sql::get_many(c, t, keys),
            _ => keys.iter().map(|k| self.get(t, k)).collect(),
        }
    }

    /// Removes the rows under `keys`, in few statements.
    pub(crate) fn remove_many<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        keys: &[K::Owned],
    ) -> Result<()> {
        match self {
            View::Pg(c) => sql::remove_many(c, t, keys),
            _ => keys.iter().try_for_each(|k| self.remove(t, k).map(|_| ())),
        }
    }

    /// Removes every row for which `old` says so; the number removed (the purges of the
    /// retention rules).
    pub(crate) fn remove_where<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        mut old: impl FnMut(&K::Owned, &V::Owned) -> Result<bool>,
    ) -> Result<usize> {
        let mut keys = Vec::new();
        self.each(t, |k, v| {
            if old(&k, &v)? {
                keys.push(k);
            }
            Ok(true)
        })?;
        self.remove_many(t, &keys)?;
        Ok(keys.len())
    }

    /// True when `k` is present.
    pub(crate) fn contains<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<bool> {
        Ok(self.get(t, k)?.is_some())
    }

    /// Writes `v` under `k` (replacing what was there).
    pub(crate) fn put<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
        v: &V::Owned,
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => file::put(tx, t, k, v),
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => sql::put_many(c, t, &[(k.clone(), v.clone())]),
        }
    }

    /// Writes many rows (replacing what was there), in few statements.
    pub(crate) fn put_many<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        rows: &[(K::Owned, V::Owned)],
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => file::put_many(tx, t, rows),
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => sql::put_many(c, t, rows),
        }
    }

    /// Writes the rows whose key is absent (a row already there stays as it is); returns the
    /// keys written.
    pub(crate) fn put_new<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        rows: &[(K::Owned, V::Owned)],
    ) -> Result<HashSet<K::Owned>> {
        match self {
            View::RedbWrite(tx) => file::put_new(tx, t, rows),
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => sql::put_new(c, t, rows),
        }
    }

    /// Removes `k`; returns what it held.
    pub(crate) fn remove<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<Option<V::Owned>> {
        match self {
            View::RedbWrite(tx) => file::remove(tx, t, k),
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => sql::remove(c, t, k),
        }
    }

    /// Calls `f` with the rows between `lo` and `hi`, in key order, until it returns false.
    pub(crate) fn scan<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        lo: Bound<&K::Owned>,
        hi: Bound<&K::Owned>,
        mut f: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => file::scan(&tx.open_table(t.def)?, lo, hi, &mut f),
            View::RedbRead(tx) => file::scan(&tx.open_table(t.def)?, lo, hi, &mut f),
            View::Pg(c) => sql::scan(c, t, lo, hi, &mut f),
        }
    }

    /// Every row, in key order, until `f` returns false.
    pub(crate) fn each<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        f: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        self.scan(t, Bound::Unbounded, Bound::Unbounded, f)
    }

    /// The values between `lo` and `hi` inclusive, in key order.
    pub(crate) fn values_between<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        lo: &K::Owned,
        hi: &K::Owned,
    ) -> Result<Vec<(K::Owned, V::Owned)>> {
        let mut out = Vec::new();
        self.scan(t, Bound::Included(lo), Bound::Included(hi), |k, v| {
            out.push((k, v));
            Ok(true)
        })?;
        Ok(out)
    }

    /// The greatest key.
    pub(crate) fn last_key<K: Col + ::redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
    ) -> Result<Option<K::Owned>> {
        match self {
            View::RedbWrite(tx) => file::last_key(&tx.open_table(t.def)?),
            View::RedbRead(tx) => file::last_key(&tx.open_table(t.def)?),
            View::Pg(c) => sql::last_key(c, t),
        }
    }

    /// Number of rows.
    pub(crate) fn len<K: Col + ::redb::Key, V: Col>(&self, t: &Table<K, V>) -> Result<u64> {
        match self {
            View::RedbWrite(tx) => file::len(&tx.open_table(t.def)?),
            View::RedbRead(tx) => file::len(&tx.open_table(t.def)?),
            View::Pg(c) => sql::len(c, t),
        }
    }
}

/// A table of any type, for copies between stores (backups, `offerwatch migrate`).
pub(crate) trait AnyTable: Sync {
    /// Its name.
    fn table_name(&self) -> &'static str;
    /// Copies every row of `from` into `to`; `progress` hears the rows copied so far.
    fn copy(&self, from: &View<'_>, to: &View<'_>, progress: &mut dyn FnMut(u64)) -> Result<u64>;
    /// Rows held.
    fn count(&self, v: &View<'_>) -> Result<u64>;
}

impl<K: Col + ::redb::Key, V: Col> AnyTable for Table<K, V>
where
    Table<K, V>: Sync,
{
    fn table_name(&self) -> &'static str {
        self.name()
    }

    fn copy(&self, from: &View<'_>, to: &View<'_>, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let mut batch = Vec::with_capacity(sql::ROWS_PER_STATEMENT);
        let mut n = 0u64;
        let mut failed = None;
        from.each(self, |k, v| {
            batch.push((k, v));
            if batch.len() == sql::ROWS_PER_STATEMENT {
                if let Err(e) = to.put_many(self, &batch) {
                    failed = Some(e);
                    return Ok(false);
                }
                n += batch.len() as u64;
                batch.clear();
                progress(n);
            }
            Ok(true)
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        to.put_many(self, &batch)?;
        n += batch.len() as u64;
        progress(n);
        Ok(n)
    }

    fn count(&self, v: &View<'_>) -> Result<u64> {
        v.len(self)
    }
}
