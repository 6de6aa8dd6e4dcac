//! Consistent copies of a live store: one read transaction — a snapshot, writers go on — copied
//! table by table into a new file, which is committed (durable), counted, and only then renamed
//! into place.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableHandle};

use super::kv::View;
use super::{Db, Store};
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

/// Copies every table of `src` into `dst`; `progress` hears (table, rows copied so far).
fn copy_all(src: &View<'_>, dst: &View<'_>, progress: &mut dyn FnMut(&str, u64)) -> Result<Copied> {
    let mut copied = Copied::default();
    for t in super::tables() {
        let name = t.table_name();
        let n = t.copy(src, dst, &mut |n| progress(name, n))?;
        copied.tables.push((name.to_string(), n));
    }
    Ok(copied)
}

/// A table of a redb file this version does not know would be lost silently: refuse instead.
fn refuse_unknown_tables(src: &redb::ReadTransaction) -> Result<()> {
    let known: Vec<&str> = super::tables().iter().map(|t| t.table_name()).collect();
    for t in src.list_tables()? {
        if !known.contains(&t.name()) {
            return Err(Error::Store(format!(
                "table '{}' is unknown to this version of offerwatch: copy with the version that wrote it",
                t.name()
            )));
        }
    }
    Ok(())
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

/// The tables of a store that hold rows, with their counts.
fn held(c: &Copied) -> Copied {
    Copied {
        tables: c.tables.iter().filter(|(_, n)| *n > 0).cloned().collect(),
    }
}

impl Store {
    /// Writes a consistent copy of the store to `dest` (a file that must not exist) while
    /// writers go on; returns what it holds.
    pub fn backup_to(&self, dest: &Path) -> Result<Copied> {
        let Db::Redb(db) = &self.db else {
            return Err(Error::Store(
                "the records are in PostgreSQL: back them up with pg_dump (or `offerwatch migrate --to` a store file)".into(),
            ));
        };
        if dest.exists() {
            return Err(Error::Store(format!("{} already exists", dest.display())));
        }
        let tmp = dest.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let copied = {
            let src = db.begin_read()?;
            refuse_unknown_tables(&src)?;
            let out = Database::builder()
                .set_cache_size(8 * 1024 * 1024)
                .create(&tmp)?;
            // A copy of every account: its owner's alone, whatever the umask.
            super::set_private(&tmp)?;
            let dst = out.begin_write()?;
            let copied = copy_all(
                &View::RedbRead(&src),
                &View::RedbWrite(&dst),
                &mut |_, _| {},
            )?;
            dst.commit()?;
            let check = count(&out)?;
            if !same_counts(&held(&check), &held(&copied)) {
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

    /// Copies every record of this store (one snapshot) into `dest`, which must hold no
    /// records, in one transaction, and its attachments (offers', candidates' documents,
    /// pending mails' copies); then counts what `dest` holds and
    /// refuses a difference. `progress` hears (table, rows copied so far).
    pub fn copy_into(&self, dest: &Store, progress: &mut dyn FnMut(&str, u64)) -> Result<Copied> {
        let held_before = dest.counts()?;
        // A new store holds only metadata it wrote itself (copied over).
        if let Some((t, n)) = held_before
            .tables
            .iter()
            .find(|(t, n)| *n > 0 && t != "meta")
        {
            return Err(Error::Conflict(format!(
                "the destination already holds records ({n} in '{t}'): offerwatch copies into an empty store only"
            )));
        }
        let copied = self.read(|src| dest.write(|tx| copy_all(src, &tx.v, progress)))?;
        // Attachments: files of an embedded store, rows of a shared one — the offers'
        // documents, the candidates' documents, and the copies that pending mails carry.
        let mut keys: Vec<(String, String)> = Vec::new();
        self.read(|v| {
            v.each(&super::OFFERS, |_, b| {
                let offer = super::decode(&b)?;
                for a in offer.fields.attachments {
                    keys.push((a.sha256, format!("offer {}", offer.reference)));
                }
                Ok(true)
            })
        })?;
        for a in self.accounts()? {
            for d in a.documents {
                keys.push((d.key, format!("account {}", a.id)));
            }
        }
        for m in self.mails()? {
            if m.state == super::mails::MailState::Pending {
                for f in m.attachments {
                    keys.push((f.key, format!("mail {}", m.id)));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (key, of) in keys {
            if seen.insert(key.clone()) {
                let bytes = self.attachment(&key)?.ok_or_else(|| {
                    Error::Store(format!("{of}: attachment {key} is missing from the source"))
                })?;
                dest.put_attachment(&key, &bytes)?;
            }
        }
        // Attachments are files beside an embedded store, rows of a shared one: each is read
        // back instead of counted.
        for sha in &seen {
            if dest.attachment(sha)?.is_none() {
                return Err(Error::Store(format!(
                    "attachment {sha} is missing from the destination"
                )));
            }
        }
        let tables = |c: &Copied| Copied {
            tables: held(c)
                .tables
                .into_iter()
                .filter(|(t, _)| t != "attachments")
                .collect(),
        };
        let check = dest.counts()?;
        if !same_counts(&tables(&check), &tables(&copied)) {
            return Err(Error::Store(format!(
                "the destination does not hold what was read: {check:?} vs {copied:?}"
            )));
        }
        let mut copied = tables(&copied);
        copied
            .tables
            .push(("attachments".into(), seen.len() as u64));
        Ok(copied)
    }

    /// Rows of every table.
    pub fn counts(&self) -> Result<Copied> {
        self.read(|v| {
            let mut c = Copied::default();
            for t in super::tables() {
                c.tables.push((t.table_name().to_string(), t.count(v)?));
            }
            Ok(c)
        })
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
