//! The administrations an administrator added or renamed (`/admin/administrations`), laid over
//! the compiled referential when the store opens and after each change.

use super::kv::AnyTable;
use super::kv::View;
use super::table::Table;
use super::tx::{from_bytes, record, to_bytes};
use super::{Store, Tx};
use crate::domain::referentials::StoredAdministration;
use crate::error::Result;

const ADMINISTRATIONS: Table<&str, &[u8]> = Table::new("administrations", &["code"], &["body"]);

pub(super) fn tables() -> [&'static dyn AnyTable; 1] {
    [&ADMINISTRATIONS]
}

fn all(v: &View<'_>) -> Result<Vec<StoredAdministration>> {
    let mut out = Vec::new();
    v.each(&ADMINISTRATIONS, |_, b| {
        out.push(from_bytes(&b)?);
        Ok(true)
    })?;
    Ok(out)
}

impl Tx<'_> {
    /// Every stored administration (in code order; their `position` gives their ordinals').
    pub fn stored_administrations(&self) -> Result<Vec<StoredAdministration>> {
        all(&self.v)
    }

    /// The stored entry of one code.
    pub fn stored_administration(&self, code: &str) -> Result<Option<StoredAdministration>> {
        record(self.v.get(&ADMINISTRATIONS, &code.to_string())?)
    }

    /// Writes an administration's entry.
    pub fn put_administration(&self, a: &StoredAdministration) -> Result<()> {
        self.v
            .put(&ADMINISTRATIONS, &a.administration.code, &to_bytes(a)?)
    }
}

impl Store {
    /// Every stored administration.
    pub fn stored_administrations(&self) -> Result<Vec<StoredAdministration>> {
        self.read(all)
    }

    /// Lays the stored administrations over the compiled referential for this process; true
    /// when that changed the list (another node added or renamed one).
    pub fn install_administrations(&self) -> Result<bool> {
        let stored = self.stored_administrations()?;
        Ok(crate::domain::referentials::install_administrations(
            &stored,
        ))
    }
}
