//! A node's own copy of the offers, for a node whose system of record is a shared PostgreSQL
//! database: an embedded redb file beside the node's index, written by the index writer with
//! the same changes (before it commits them, so the copy is never behind the index), read by
//! searches, feeds and offer pages. When the database is away, what the public sees is served
//! from the index and this copy alone; when it returns, the writer catches up with both.

use std::path::Path;
use std::sync::Arc;

use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};

use super::{decode, encode};
use crate::domain::Offer;
use crate::error::{Error, Result};

/// Offer id → the offer's record (as the store encodes it).
const OFFERS: TableDefinition<u64, &[u8]> = TableDefinition::new("offers");
/// Reference (`A-2026-0001`) → offer id.
const REFERENCES: TableDefinition<&str, u64> = TableDefinition::new("references");

/// The node's copy of the offers.
pub struct Replica {
    db: redb::Database,
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::failed("offer copy", e)
}

impl Replica {
    /// Opens (or creates) the copy at `path`; true when it was just created (empty: the index
    /// must be rebuilt with it).
    pub fn open(path: &Path) -> Result<(Arc<Replica>, bool)> {
        let fresh = !path.exists();
        let db = redb::Database::create(path).map_err(failed)?;
        let w = db.begin_write().map_err(failed)?;
        w.open_table(OFFERS).map_err(failed)?;
        w.open_table(REFERENCES).map_err(failed)?;
        w.commit().map_err(failed)?;
        Ok((Arc::new(Replica { db }), fresh))
    }

    /// Applies changes in one durable transaction: each id of `changed` is removed, then each
    /// offer of `offers` (their latest state) is written.
    pub fn apply(&self, changed: &[u64], offers: &[Offer]) -> Result<()> {
        let w = self.db.begin_write().map_err(failed)?;
        {
            let mut t = w.open_table(OFFERS).map_err(failed)?;
            let mut refs = w.open_table(REFERENCES).map_err(failed)?;
            for id in changed {
                if let Some(old) = t.remove(id).map_err(failed)? {
                    let old = decode(old.value())?;
                    refs.remove(old.reference.to_string().as_str())
                        .map_err(failed)?;
                }
            }
            for o in offers {
                t.insert(o.id, encode(o)?.as_slice()).map_err(failed)?;
                refs.insert(o.reference.to_string().as_str(), o.id)
                    .map_err(failed)?;
            }
        }
        w.commit().map_err(failed)
    }

    /// Empties the copy (before the index is rebuilt with it).
    pub fn clear(&self) -> Result<()> {
        let w = self.db.begin_write().map_err(failed)?;
        w.delete_table(OFFERS).map_err(failed)?;
        w.delete_table(REFERENCES).map_err(failed)?;
        w.open_table(OFFERS).map_err(failed)?;
        w.open_table(REFERENCES).map_err(failed)?;
        w.commit().map_err(failed)
    }

    /// The offers with these ids, in the same order (missing ones skipped).
    pub fn offers(&self, ids: &[u64]) -> Result<Vec<Arc<Offer>>> {
        let r = self.db.begin_read().map_err(failed)?;
        let t = r.open_table(OFFERS).map_err(failed)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(b) = t.get(id).map_err(failed)? {
                out.push(Arc::new(decode(b.value())?));
            }
        }
        Ok(out)
    }

    /// The offer with this reference.
    pub fn by_reference(&self, reference: &str) -> Result<Option<Offer>> {
        let r = self.db.begin_read().map_err(failed)?;
        let refs = r.open_table(REFERENCES).map_err(failed)?;
        let Some(id) = refs.get(reference).map_err(failed)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let t = r.open_table(OFFERS).map_err(failed)?;
        t.get(id)
            .map_err(failed)?
            .map(|b| decode(b.value()))
            .transpose()
    }

    /// How many offers the copy holds.
    pub fn len(&self) -> Result<u64> {
        let r = self.db.begin_read().map_err(failed)?;
        let t = r.open_table(OFFERS).map_err(failed)?;
        t.len().map_err(failed)
    }

    /// Whether the copy holds no offer.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_follows_changes_and_finds_offers_by_reference() {
        let dir = tempfile::tempdir().unwrap();
        let (replica, fresh) = Replica::open(&dir.path().join("offers.redb")).unwrap();
        assert!(fresh);
        let store = super::super::Store::open(&dir.path().join("store.redb")).unwrap();
        let (mut offers, _) = store
            .create_offers(
                ["stage", "apprentissage", "stage"]
                    .map(|c| super::super::NewOffer {
                        fields: super::super::tests::sample_fields(c),
                        state: crate::domain::OfferState::Published,
                        created_at: time::macros::datetime!(2026-11-20 10:00 UTC),
                        published_at: None,
                        service_id: None,
                        audit: Vec::new(),
                    })
                    .to_vec(),
            )
            .unwrap();
        replica.apply(&[1, 2, 3], &offers).unwrap();
        assert_eq!(replica.len().unwrap(), 3);
        let reference = offers[1].reference.to_string();
        assert_eq!(replica.by_reference(&reference).unwrap().unwrap().id, 2);
        // Offer 2 deleted, offer 3 changed.
        offers[2].fields.title = "Changé".into();
        replica.apply(&[2, 3], &offers[2..]).unwrap();
        assert!(replica.by_reference(&reference).unwrap().is_none());
        let got = replica.offers(&[3, 2, 1]).unwrap();
        assert_eq!(got.iter().map(|o| o.id).collect::<Vec<_>>(), [3, 1]);
        assert_eq!(got[0].fields.title, "Changé");
        drop(replica);
        let (replica, fresh) = Replica::open(&dir.path().join("offers.redb")).unwrap();
        assert!(!fresh, "kept across restarts");
        assert_eq!(replica.len().unwrap(), 2);
        replica.clear().unwrap();
        assert!(replica.is_empty().unwrap());
    }
}
