//! The tables of the store and the few operations the store makes on them (get, put, remove,
//! ordered scans), on either system of record: a redb file (one machine) or PostgreSQL (several
//! nodes). Each table is a typed redb table and a PostgreSQL table of the same name with one
//! typed column per key and value part (see `pg/migrations`); the store's logic above is written
//! once against [`View`].

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::Hash;
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

use super::pg::PgConn;
use crate::error::{Error, Result};

/// A parameter of a PostgreSQL statement.
pub(crate) use super::pg::Param;

/// A key or value type: how redb holds it, and how it maps to PostgreSQL columns.
pub(crate) trait Col: redb::Value + 'static {
    /// The owned form the store's code handles.
    type Owned: Clone + Eq + Hash + Send + 'static;
    /// Number of PostgreSQL columns.
    const N: usize;
    /// From redb's form.
    fn own(v: Self::SelfType<'_>) -> Self::Owned;
    /// To redb's form.
    fn view(o: &Self::Owned) -> Self::SelfType<'_>;
    /// As statement parameters (`N` of them).
    fn bind<'a>(o: &'a Self::Owned, out: &mut Vec<Param<'a>>);
    /// From the `N` columns of a row starting at `at`.
    fn read(row: &postgres::Row, at: usize) -> Result<Self::Owned>;
}

/// Ids are below 2^63: a `u64` is a `bigint`, and `u64::MAX` as a range end is `i64::MAX`.
fn to_i64(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

fn column<'r, T: postgres::types::FromSql<'r>>(row: &'r postgres::Row, at: usize) -> Result<T> {
    row.try_get(at)
        .map_err(|e| Error::Store(format!("unexpected column {at}: {e}")))
}

impl Col for u64 {
    type Owned = u64;
    const N: usize = 1;
    fn own(v: u64) -> u64 {
        v
    }
    fn view(o: &u64) -> u64 {
        *o
    }
    fn bind<'a>(o: &'a u64, out: &mut Vec<Param<'a>>) {
        out.push(Box::new(to_i64(*o)));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<u64> {
        Ok(column::<i64>(row, at)? as u64)
    }
}

impl Col for i64 {
    type Owned = i64;
    const N: usize = 1;
    fn own(v: i64) -> i64 {
        v
    }
    fn view(o: &i64) -> i64 {
        *o
    }
    fn bind<'a>(o: &'a i64, out: &mut Vec<Param<'a>>) {
        out.push(Box::new(*o));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<i64> {
        column(row, at)
    }
}

impl Col for &'static str {
    type Owned = String;
    const N: usize = 1;
    fn own(v: &str) -> String {
        v.to_string()
    }
    fn view(o: &String) -> &str {
        o.as_str()
    }
    fn bind<'a>(o: &'a String, out: &mut Vec<Param<'a>>) {
        out.push(Box::new(o.as_str()));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<String> {
        column(row, at)
    }
}

impl Col for &'static [u8] {
    type Owned = Vec<u8>;
    const N: usize = 1;
    fn own(v: &[u8]) -> Vec<u8> {
        v.to_vec()
    }
    fn view(o: &Vec<u8>) -> &[u8] {
        o.as_slice()
    }
    fn bind<'a>(o: &'a Vec<u8>, out: &mut Vec<Param<'a>>) {
        out.push(Box::new(o.as_slice()));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<Vec<u8>> {
        column(row, at)
    }
}

impl Col for () {
    type Owned = ();
    const N: usize = 0;
    fn own(_: ()) {}
    fn view(_: &()) {}
    fn bind<'a>(_: &'a (), _: &mut Vec<Param<'a>>) {}
    fn read(_: &postgres::Row, _: usize) -> Result<()> {
        Ok(())
    }
}

impl Col for (u64, u64) {
    type Owned = (u64, u64);
    const N: usize = 2;
    fn own(v: (u64, u64)) -> (u64, u64) {
        v
    }
    fn view(o: &(u64, u64)) -> (u64, u64) {
        *o
    }
    fn bind<'a>(o: &'a (u64, u64), out: &mut Vec<Param<'a>>) {
        out.push(Box::new(to_i64(o.0)));
        out.push(Box::new(to_i64(o.1)));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<(u64, u64)> {
        Ok((u64::read(row, at)?, u64::read(row, at + 1)?))
    }
}

impl Col for (u64, i32) {
    type Owned = (u64, i32);
    const N: usize = 2;
    fn own(v: (u64, i32)) -> (u64, i32) {
        v
    }
    fn view(o: &(u64, i32)) -> (u64, i32) {
        *o
    }
    fn bind<'a>(o: &'a (u64, i32), out: &mut Vec<Param<'a>>) {
        out.push(Box::new(to_i64(o.0)));
        out.push(Box::new(o.1));
    }
    fn read(row: &postgres::Row, at: usize) -> Result<(u64, i32)> {
        Ok((u64::read(row, at)?, column(row, at + 1)?))
    }
}

impl Col for [u64; 3] {
    type Owned = [u64; 3];
    const N: usize = 3;
    fn own(v: [u64; 3]) -> [u64; 3] {
        v
    }
    fn view(o: &[u64; 3]) -> [u64; 3] {
        *o
    }
    fn bind<'a>(o: &'a [u64; 3], out: &mut Vec<Param<'a>>) {
        for v in o {
            out.push(Box::new(to_i64(*v)));
        }
    }
    fn read(row: &postgres::Row, at: usize) -> Result<[u64; 3]> {
        Ok([
            u64::read(row, at)?,
            u64::read(row, at + 1)?,
            u64::read(row, at + 2)?,
        ])
    }
}

/// A table: its redb definition and its PostgreSQL columns (keys, then values).
pub(crate) struct Table<K: Col + redb::Key, V: Col> {
    pub(crate) def: TableDefinition<'static, K, V>,
    name: &'static str,
    keys: &'static [&'static str],
    values: &'static [&'static str],
}

impl<K: Col + redb::Key, V: Col> Table<K, V> {
    /// A table named `name` (the same in both stores) with these PostgreSQL columns.
    pub(crate) const fn new(
        name: &'static str,
        keys: &'static [&'static str],
        values: &'static [&'static str],
    ) -> Self {
        Table {
            def: TableDefinition::new(name),
            name,
            keys,
            values,
        }
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn cols(cols: &[&str]) -> String {
        cols.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn placeholders(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn all_cols(&self) -> String {
        let mut all = self.keys.to_vec();
        all.extend_from_slice(self.values);
        Self::cols(&all)
    }

    fn key_match(&self) -> String {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, c)| format!("\"{c}\"=${}", i + 1))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// `(keys) IN ((…),(…))` for `n` keys.
    fn keys_in(&self, n: usize) -> String {
        let list: Vec<String> = (0..n)
            .map(|i| format!("({})", Self::placeholders(i * K::N + 1, K::N)))
            .collect();
        format!("({}) IN ({})", Self::cols(self.keys), list.join(","))
    }

    /// `INSERT … VALUES (…),(…)` for `rows` rows, then `tail`.
    fn insert_sql(&self, rows: usize, tail: &str) -> String {
        let n = K::N + V::N;
        let values: Vec<String> = (0..rows)
            .map(|r| format!("({})", Self::placeholders(r * n + 1, n)))
            .collect();
        format!(
            "INSERT INTO \"{}\" ({}) VALUES {} {tail}",
            self.name(),
            self.all_cols(),
            values.join(",")
        )
    }

    fn upsert_tail(&self) -> String {
        let keys = Self::cols(self.keys);
        if self.values.is_empty() {
            return format!("ON CONFLICT ({keys}) DO NOTHING");
        }
        let set: Vec<String> = self
            .values
            .iter()
            .map(|c| format!("\"{c}\"=EXCLUDED.\"{c}\""))
            .collect();
        format!("ON CONFLICT ({keys}) DO UPDATE SET {}", set.join(","))
    }

    /// The parameters of rows, keys then values of each.
    fn row_params(rows: &[(K::Owned, V::Owned)]) -> Vec<Param<'_>> {
        let mut params = Vec::with_capacity(rows.len() * (K::N + V::N));
        for (k, v) in rows {
            K::bind(k, &mut params);
            V::bind(v, &mut params);
        }
        params
    }

    /// The parameters of keys.
    fn key_params(keys: &[K::Owned]) -> Vec<Param<'_>> {
        let mut params = Vec::with_capacity(keys.len() * K::N);
        for k in keys {
            K::bind(k, &mut params);
        }
        params
    }

    fn row(&self, row: &postgres::Row) -> Result<(K::Owned, V::Owned)> {
        Ok((K::read(row, 0)?, V::read(row, K::N)?))
    }
}

/// Rows written by one multi-row statement (PostgreSQL allows 65,535 parameters).
const ROWS_PER_STATEMENT: usize = 1000;
/// Rows read per query of a PostgreSQL scan.
const SCAN_PAGE: i64 = 2000;

/// A transaction open on one of the stores: writes go through a write transaction; a read
/// transaction is one consistent snapshot.
#[derive(Clone, Copy)]
pub(crate) enum View<'a> {
    RedbWrite(&'a redb::WriteTransaction),
    RedbRead(&'a redb::ReadTransaction),
    Pg(&'a RefCell<PgConn>),
}

fn read_only() -> Error {
    Error::Internal("a write in a read transaction".into())
}

fn scan_redb<K: Col + redb::Key, V: Col>(
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

impl View<'_> {
    /// The value under `k`.
    pub(crate) fn get<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<Option<V::Owned>> {
        match self {
            View::RedbWrite(tx) => {
                let table = tx.open_table(t.def)?;
                let v = table.get(K::view(k))?;
                Ok(v.map(|v| V::own(v.value())))
            }
            View::RedbRead(tx) => {
                let table = tx.open_table(t.def)?;
                let v = table.get(K::view(k))?;
                Ok(v.map(|v| V::own(v.value())))
            }
            View::Pg(c) => {
                let sql = format!(
                    "SELECT {} FROM \"{}\" WHERE {}",
                    if t.values.is_empty() {
                        "1".to_string()
                    } else {
                        Table::<K, V>::cols(t.values)
                    },
                    t.name(),
                    t.key_match()
                );
                let mut params = Vec::new();
                K::bind(k, &mut params);
                let rows = c.borrow_mut().query(&sql, &params)?;
                rows.first().map(|r| V::read(r, 0)).transpose()
            }
        }
    }

    /// The values under `keys`, in the same order (None: absent), in few statements.
    pub(crate) fn get_many<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        keys: &[K::Owned],
    ) -> Result<Vec<Option<V::Owned>>> {
        let View::Pg(c) = self else {
            return keys.iter().map(|k| self.get(t, k)).collect();
        };
        let mut found = std::collections::HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {} FROM \"{}\" WHERE {}",
                t.all_cols(),
                t.name(),
                t.keys_in(chunk.len())
            );
            let params = Table::<K, V>::key_params(chunk);
            for row in c.borrow_mut().query(&sql, &params)? {
                let (k, v) = t.row(&row)?;
                found.insert(k, v);
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    /// Removes the rows under `keys`, in few statements.
    pub(crate) fn remove_many<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        keys: &[K::Owned],
    ) -> Result<()> {
        let View::Pg(c) = self else {
            return keys.iter().try_for_each(|k| self.remove(t, k).map(|_| ()));
        };
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM \"{}\" WHERE {}",
                t.name(),
                t.keys_in(chunk.len())
            );
            c.borrow_mut()
                .execute(&sql, &Table::<K, V>::key_params(chunk))?;
        }
        Ok(())
    }

    /// True when `k` is present.
    pub(crate) fn contains<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<bool> {
        Ok(self.get(t, k)?.is_some())
    }

    /// Writes `v` under `k` (replacing what was there).
    pub(crate) fn put<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
        v: &V::Owned,
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => {
                tx.open_table(t.def)?.insert(K::view(k), V::view(v))?;
                Ok(())
            }
            View::RedbRead(_) => Err(read_only()),
            View::Pg(_) => self.put_many(t, &[(k.clone(), v.clone())]),
        }
    }

    /// Writes many rows (replacing what was there), in few statements.
    pub(crate) fn put_many<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        rows: &[(K::Owned, V::Owned)],
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => {
                let mut table = tx.open_table(t.def)?;
                for (k, v) in rows {
                    table.insert(K::view(k), V::view(v))?;
                }
                Ok(())
            }
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => {
                let tail = t.upsert_tail();
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let sql = t.insert_sql(chunk.len(), &tail);
                    c.borrow_mut()
                        .execute(&sql, &Table::<K, V>::row_params(chunk))?;
                }
                Ok(())
            }
        }
    }

    /// Writes the rows whose key is absent (a row already there stays as it is); returns the
    /// keys written.
    pub(crate) fn put_new<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        rows: &[(K::Owned, V::Owned)],
    ) -> Result<HashSet<K::Owned>> {
        let mut written = HashSet::new();
        match self {
            View::RedbWrite(tx) => {
                let mut table = tx.open_table(t.def)?;
                for (k, v) in rows {
                    if table.get(K::view(k))?.is_none() {
                        table.insert(K::view(k), V::view(v))?;
                        written.insert(k.clone());
                    }
                }
            }
            View::RedbRead(_) => return Err(read_only()),
            View::Pg(c) => {
                let tail = format!(
                    "ON CONFLICT ({}) DO NOTHING RETURNING {}",
                    Table::<K, V>::cols(t.keys),
                    Table::<K, V>::cols(t.keys)
                );
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let sql = t.insert_sql(chunk.len(), &tail);
                    let params = Table::<K, V>::row_params(chunk);
                    for row in c.borrow_mut().query(&sql, &params)? {
                        written.insert(K::read(&row, 0)?);
                    }
                }
            }
        }
        Ok(written)
    }

    /// Removes `k`; returns what it held.
    pub(crate) fn remove<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        k: &K::Owned,
    ) -> Result<Option<V::Owned>> {
        match self {
            View::RedbWrite(tx) => {
                let mut table = tx.open_table(t.def)?;
                let v = table.remove(K::view(k))?;
                Ok(v.map(|v| V::own(v.value())))
            }
            View::RedbRead(_) => Err(read_only()),
            View::Pg(c) => {
                let sql = format!(
                    "DELETE FROM \"{}\" WHERE {} RETURNING {}",
                    t.name(),
                    t.key_match(),
                    t.all_cols()
                );
                let mut params = Vec::new();
                K::bind(k, &mut params);
                let rows = c.borrow_mut().query(&sql, &params)?;
                rows.first().map(|r| V::read(r, K::N)).transpose()
            }
        }
    }

    /// Calls `f` with the rows between `lo` and `hi`, in key order, until it returns false.
    pub(crate) fn scan<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        lo: Bound<&K::Owned>,
        hi: Bound<&K::Owned>,
        mut f: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        match self {
            View::RedbWrite(tx) => scan_redb(&tx.open_table(t.def)?, lo, hi, &mut f),
            View::RedbRead(tx) => scan_redb(&tx.open_table(t.def)?, lo, hi, &mut f),
            View::Pg(c) => {
                // Pages in key order: each next page starts after the last key read.
                let keys = Table::<K, V>::cols(t.keys);
                let mut from: Bound<K::Owned> = lo.cloned();
                loop {
                    let mut params: Vec<Param<'_>> = Vec::new();
                    let mut conds = Vec::new();
                    for (b, op) in [(from.as_ref(), [">=", ">"]), (hi, ["<=", "<"])] {
                        let (k, op) = match b {
                            Bound::Included(k) => (k, op[0]),
                            Bound::Excluded(k) => (k, op[1]),
                            Bound::Unbounded => continue,
                        };
                        let at = params.len() + 1;
                        K::bind(k, &mut params);
                        conds.push(format!(
                            "({keys}) {op} ({})",
                            Table::<K, V>::placeholders(at, K::N)
                        ));
                    }
                    let sql = format!(
                        "SELECT {} FROM \"{}\" {} ORDER BY {keys} LIMIT {SCAN_PAGE}",
                        t.all_cols(),
                        t.name(),
                        if conds.is_empty() {
                            String::new()
                        } else {
                            format!("WHERE {}", conds.join(" AND "))
                        }
                    );
                    let rows = c.borrow_mut().query(&sql, &params)?;
                    drop(params);
                    let full = rows.len() as i64 == SCAN_PAGE;
                    let mut last = None;
                    for row in &rows {
                        let (k, v) = t.row(row)?;
                        last = Some(k.clone());
                        if !f(k, v)? {
                            return Ok(());
                        }
                    }
                    match last {
                        Some(k) if full => from = Bound::Excluded(k),
                        _ => return Ok(()),
                    }
                }
            }
        }
    }

    /// Every row, in key order, until `f` returns false.
    pub(crate) fn each<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
        f: impl FnMut(K::Owned, V::Owned) -> Result<bool>,
    ) -> Result<()> {
        self.scan(t, Bound::Unbounded, Bound::Unbounded, f)
    }

    /// The values between `lo` and `hi` inclusive, in key order.
    pub(crate) fn values_between<K: Col + redb::Key, V: Col>(
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
    pub(crate) fn last_key<K: Col + redb::Key, V: Col>(
        &self,
        t: &Table<K, V>,
    ) -> Result<Option<K::Owned>> {
        match self {
            View::RedbWrite(tx) => {
                let table = tx.open_table(t.def)?;
                Ok(table.last()?.map(|(k, _)| K::own(k.value())))
            }
            View::RedbRead(tx) => {
                let table = tx.open_table(t.def)?;
                Ok(table.last()?.map(|(k, _)| K::own(k.value())))
            }
            View::Pg(c) => {
                let keys = t
                    .keys
                    .iter()
                    .map(|c| format!("\"{c}\" DESC"))
                    .collect::<Vec<_>>();
                let sql = format!(
                    "SELECT {} FROM \"{}\" ORDER BY {} LIMIT 1",
                    Table::<K, V>::cols(t.keys),
                    t.name(),
                    keys.join(",")
                );
                let rows = c.borrow_mut().query(&sql, &[])?;
                rows.first().map(|r| K::read(r, 0)).transpose()
            }
        }
    }

    /// Number of rows.
    pub(crate) fn len<K: Col + redb::Key, V: Col>(&self, t: &Table<K, V>) -> Result<u64> {
        match self {
            View::RedbWrite(tx) => Ok(tx.open_table(t.def)?.len()?),
            View::RedbRead(tx) => Ok(tx.open_table(t.def)?.len()?),
            View::Pg(c) => {
                let sql = format!("SELECT count(*) FROM \"{}\"", t.name());
                let rows = c.borrow_mut().query(&sql, &[])?;
                Ok(rows
                    .first()
                    .map(|r| column::<i64>(r, 0))
                    .transpose()?
                    .unwrap_or(0) as u64)
            }
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

impl<K: Col + redb::Key, V: Col> AnyTable for Table<K, V>
where
    Table<K, V>: Sync,
{
    fn table_name(&self) -> &'static str {
        self.name()
    }

    fn copy(&self, from: &View<'_>, to: &View<'_>, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let mut batch = Vec::with_capacity(ROWS_PER_STATEMENT);
        let mut n = 0u64;
        let mut failed = None;
        from.each(self, |k, v| {
            batch.push((k, v));
            if batch.len() == ROWS_PER_STATEMENT {
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
