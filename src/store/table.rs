//! The table layer's types: a table (its redb definition and its PostgreSQL columns) and the
//! key and value types it may hold, with how each maps to redb and to PostgreSQL columns. The
//! backends (`redb/`, `postgres/`) work on these; the store's logic reaches them through
//! the table layer's `View` (`kv.rs`).

use std::hash::Hash;

use redb::TableDefinition;

use crate::error::{Error, Result};

/// A parameter of a PostgreSQL statement.
pub(crate) type Param<'a> = Box<dyn postgres::types::ToSql + Sync + 'a>;

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

pub(crate) fn column<'r, T: postgres::types::FromSql<'r>>(
    row: &'r postgres::Row,
    at: usize,
) -> Result<T> {
    row.try_get(at)
        .map_err(|e| Error::failed("a column of an unexpected type", e))
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
    pub(crate) name: &'static str,
    pub(crate) keys: &'static [&'static str],
    pub(crate) values: &'static [&'static str],
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

    /// Its name (the same in both stores).
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}
