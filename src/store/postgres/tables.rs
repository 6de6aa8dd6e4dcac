//! The store's tables as PostgreSQL tables: one typed column per key and value part (see
//! `migrations/`), and the table operations as statements (multi-row where rows are many, scans
//! by pages in key order).

use std::cell::RefCell;
use std::collections::HashSet;
use std::ops::Bound;

use super::PgConn;
use crate::error::Result;
use crate::store::table::{Col, Param, Table, column};

/// Rows written by one multi-row statement (PostgreSQL allows 65,535 parameters).
pub(crate) const ROWS_PER_STATEMENT: usize = 1000;
/// Rows read per query of a PostgreSQL scan.
const SCAN_PAGE: i64 = 2000;

impl<K: Col + ::redb::Key, V: Col> Table<K, V> {
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

/// The value under `k`.
pub(crate) fn get<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    k: &K::Owned,
) -> Result<Option<V::Owned>> {
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

/// The values under `keys`, in the same order (None: absent), in few statements.
pub(crate) fn get_many<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    keys: &[K::Owned],
) -> Result<Vec<Option<V::Owned>>> {
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
pub(crate) fn remove_many<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    keys: &[K::Owned],
) -> Result<()> {
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

/// Writes many rows (replacing what was there), in few statements.
pub(crate) fn put_many<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    rows: &[(K::Owned, V::Owned)],
) -> Result<()> {
    let tail = t.upsert_tail();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = t.insert_sql(chunk.len(), &tail);
        c.borrow_mut()
            .execute(&sql, &Table::<K, V>::row_params(chunk))?;
    }
    Ok(())
}

/// Writes the rows whose key is absent; returns the keys written.
pub(crate) fn put_new<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    rows: &[(K::Owned, V::Owned)],
) -> Result<HashSet<K::Owned>> {
    let mut written = HashSet::new();
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
    Ok(written)
}

/// Removes `k`; returns what it held.
pub(crate) fn remove<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    k: &K::Owned,
) -> Result<Option<V::Owned>> {
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

/// Calls `f` with the rows between `lo` and `hi`, in key order, until it returns false: pages
/// in key order, each next page starting after the last key read.
pub(crate) fn scan<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
    lo: Bound<&K::Owned>,
    hi: Bound<&K::Owned>,
    f: &mut dyn FnMut(K::Owned, V::Owned) -> Result<bool>,
) -> Result<()> {
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

/// The greatest key.
pub(crate) fn last_key<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
) -> Result<Option<K::Owned>> {
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

/// Number of rows.
pub(crate) fn len<K: Col + ::redb::Key, V: Col>(
    c: &RefCell<PgConn>,
    t: &Table<K, V>,
) -> Result<u64> {
    let sql = format!("SELECT count(*) FROM \"{}\"", t.name());
    let rows = c.borrow_mut().query(&sql, &[])?;
    Ok(rows
        .first()
        .map(|r| column::<i64>(r, 0))
        .transpose()?
        .unwrap_or(0) as u64)
}
