//! Consistent copies of a live store: one read transaction — a snapshot, writers go on — copied
//! table by table into a new file, which is committed (durable), counted, and only then renamed
//! into place.

use std::path::Path;

use redb::{
    Database, Key, ReadTransaction, ReadableDatabase, ReadableTableMetadata, TableDefinition,
    TableHandle, Value, WriteTransaction,
};

use super::Store;
use crate::error::{Error, Result};

/// What a copy holds: each table with its number of rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copied {
    /// `(table, rows)`, in copy order.
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    /// Rows of one table (0 when absent).
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// Copies one table of the snapshot into the destination.
pub(super) fn copy<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
    copied: &mut Copied,
) -> Result<()> {
    if copied.tables.iter().any(|(t, _)| t == def.name()) {
        return Ok(());
    }
    let from = src.open_table(def)?;
    let mut to = dst.open_table(def)?;
    for row in redb::ReadableTable::iter(&from)? {
        let (k, v) = row?;
        to.insert(k.value(), v.value())?;
    }
    copied.tables.push((def.name().to_string(), from.len()?));
    Ok(())
}

fn copy_all(src: &ReadTransaction, dst: &WriteTransaction) -> Result<Copied> {
    let mut copied = Copied::default();
    super::copy_tables(src, dst, &mut copied)?;
    super::accounts::copy_tables(src, dst, &mut copied)?;
    super::alerts::copy_tables(src, dst, &mut copied)?;
    super::stats::copy_tables(src, dst, &mut copied)?;
    super::sources::copy_tables(src, dst, &mut copied)?;
    // A table this version does not know would be lost silently: refuse instead.
    for t in src.list_tables()? {
        if !copied.tables.iter().any(|(name, _)| name == t.name()) {
            return Err(Error::Store(format!(
                "table '{}' is unknown to this version of offerwatch: back up with the version that wrote it",
                t.name()
            )));
        }
    }
    Ok(copied)
}

/// Counts the rows of every table of a store file.
fn count(db: &Database) -> Result<Copied> {
    let tx = db.begin_read()?;
    let mut copied = Copied::default();
    for t in tx.list_tables()? {
        let name = t.name().to_string();
        let table = tx.open_untyped_table(t)?;
        copied.tables.push((name, table.len()?));
    }
    Ok(copied)
}

fn same_counts(a: &Copied, b: &Copied) -> bool {
    let mut a = a.tables.clone();
    let mut b = b.tables.clone();
    a.sort();
    b.sort();
    a == b
}

impl Store {
    /// Writes a consistent copy of the store to `dest` (a file that must not exist) while
    /// writers go on; returns what it holds.
    pub fn backup_to(&self, dest: &Path) -> Result<Copied> {
        if dest.exists() {
            return Err(Error::Store(format!("{} already exists", dest.display())));
        }
        let tmp = dest.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let copied = {
            let src = self.db.begin_read()?;
            let out = Database::builder()
                .set_cache_size(8 * 1024 * 1024)
                .create(&tmp)?;
            let dst = out.begin_write()?;
            let copied = copy_all(&src, &dst)?;
            dst.commit()?;
            let check = count(&out)?;
            if !same_counts(&check, &copied) {
                return Err(Error::Store(format!(
                    "the copy does not hold what was read: {check:?} vs {copied:?}"
                )));
            }
            copied
        };
        std::fs::rename(&tmp, dest)?;
        if let Some(dir) = dest.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(copied)
    }

    /// Checks a store file (a backup): it opens, and what each table holds.
    pub fn inspect(path: &Path) -> Result<Copied> {
        let db = Database::builder()
            .set_cache_size(8 * 1024 * 1024)
            .open(path)
            .map_err(|e| Error::Store(format!("{}: not a usable store: {e}", path.display())))?;
        count(&db)
    }
}
