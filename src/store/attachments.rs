//! Attachments' bytes, under their content hash: files written and synced beside the embedded
//! store, rows of the shared database.

use std::path::PathBuf;

use super::kv::AnyTable;
use super::table::Table;
use super::{Db, Store};
use crate::error::Result;

/// Content hash → bytes (a shared store only).
const ATTACHMENTS: Table<&str, &[u8]> = Table::new("attachments", &["name"], &["bytes"]);

pub(super) fn tables() -> [&'static dyn AnyTable; 1] {
    [&ATTACHMENTS]
}

impl Store {
    /// The directory of the attachment files of an embedded store.
    fn attachment_dir(&self) -> Option<PathBuf> {
        self.files.as_ref().map(|d| d.join("attachments"))
    }

    /// Keeps an attachment's bytes under its content hash, durably (a file written and synced
    /// beside the embedded store, or a row of the shared database).
    pub fn put_attachment(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        match (&self.db, self.attachment_dir()) {
            (Db::Redb(_), Some(dir)) => {
                let path = dir.join(sha256);
                if !path.exists() {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!("{sha256}.tmp"));
                    std::fs::write(&tmp, bytes)?;
                    std::fs::File::open(&tmp)?.sync_all()?;
                    std::fs::rename(&tmp, &path)?;
                    std::fs::File::open(&dir)?.sync_all()?;
                }
                Ok(())
            }
            _ => {
                let key = sha256.to_string();
                let bytes = bytes.to_vec();
                self.write(|tx| tx.v.put_new(&ATTACHMENTS, &[(key, bytes)]).map(|_| ()))
            }
        }
    }

    /// Forgets the bytes kept under `key` (a candidate's document deleted, an application
    /// mail sent); nothing when there are none.
    pub fn remove_attachment(&self, key: &str) -> Result<()> {
        match (&self.db, self.attachment_dir()) {
            (Db::Redb(_), Some(dir)) => match std::fs::remove_file(dir.join(key)) {
                Ok(()) => Ok(std::fs::File::open(&dir)?.sync_all()?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
            _ => {
                let key = key.to_string();
                self.write(|tx| tx.v.remove(&ATTACHMENTS, &key).map(|_| ()))
            }
        }
    }

    /// An attachment's bytes.
    pub fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        match (&self.db, self.attachment_dir()) {
            (Db::Redb(_), Some(dir)) => match std::fs::read(dir.join(sha256)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            _ => self.read(|v| v.get(&ATTACHMENTS, &sha256.to_string())),
        }
    }
}
