//! The system of record (redb): offers, the reference counters, the change log that the index
//! replays, and metadata. Every write is one durable transaction: when a method returns `Ok`,
//! the change survives a crash.

pub mod accounts;
pub mod alerts;

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use time::OffsetDateTime;

use crate::domain::offer::AuditEvent;
use crate::domain::{Offer, OfferFields, OfferState, Reference};
use crate::error::{Error, Result};
pub use accounts::Tx;

const OFFERS: TableDefinition<u64, &[u8]> = TableDefinition::new("offers");
const REFERENCES: TableDefinition<&str, u64> = TableDefinition::new("references");
/// Change log: sequence number → id of the offer that changed (its current state is in OFFERS,
/// or it is gone).
const CHANGES: TableDefinition<u64, u64> = TableDefinition::new("changes");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

const NEXT_OFFER_ID: &str = "offer_id";

/// A new offer to create.
#[derive(Debug, Clone)]
pub struct NewOffer {
    /// Validated fields.
    pub fields: OfferFields,
    /// Initial state.
    pub state: OfferState,
    /// Creation time; its year is the year of the reference.
    pub created_at: OffsetDateTime,
    /// Publication time when created published.
    pub published_at: Option<OffsetDateTime>,
    /// The service that owns it (recruiter back office).
    pub service_id: Option<u64>,
    /// Initial audit trail.
    pub audit: Vec<AuditEvent>,
}

/// The store.
pub struct Store {
    pub(crate) db: Database,
}

fn encode(offer: &Offer) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(offer)?)
}

fn decode(bytes: &[u8]) -> Result<Offer> {
    serde_json::from_slice(bytes).map_err(|e| Error::Store(format!("corrupt offer record: {e}")))
}

fn next_counter(counters: &mut redb::Table<&str, u64>, key: &str) -> Result<u64> {
    let n = counters.get(key)?.map(|v| v.value()).unwrap_or(0) + 1;
    counters.insert(key, n)?;
    Ok(n)
}

fn log_change(changes: &mut redb::Table<u64, u64>, id: u64) -> Result<u64> {
    let seq = changes.last()?.map(|(k, _)| k.value()).unwrap_or(0) + 1;
    changes.insert(seq, id)?;
    Ok(seq)
}

impl Tx<'_> {
    /// Creates an offer, allocating its id and its reference, and logs the change.
    pub fn create_offer(&self, n: NewOffer) -> Result<(Offer, u64)> {
        let mut counters = self.tx.open_table(COUNTERS)?;
        let id = next_counter(&mut counters, NEXT_OFFER_ID)?;
        let prefix = n.fields.contract.reference_prefix();
        let year = n.created_at.year() as u16;
        let number = next_counter(&mut counters, &Reference::counter_key(prefix, year))?;
        drop(counters);
        let reference = Reference {
            prefix,
            year,
            number: number as u32,
        };
        let offer = Offer {
            id,
            reference,
            state: n.state,
            fields: n.fields,
            created_at: n.created_at,
            updated_at: n.created_at,
            published_at: n.published_at,
            first_published_at: n.published_at,
            service_id: n.service_id,
            audit: n.audit,
        };
        self.tx
            .open_table(REFERENCES)?
            .insert(reference.to_string().as_str(), id)?;
        let seq = self.put_offer(&offer)?;
        Ok((offer, seq))
    }

    /// The offer with this id.
    pub fn offer(&self, id: u64) -> Result<Option<Offer>> {
        let t = self.tx.open_table(OFFERS)?;
        let v = t.get(id)?;
        v.map(|v| decode(v.value())).transpose()
    }

    /// Writes an offer and logs the change; returns its sequence.
    pub fn put_offer(&self, offer: &Offer) -> Result<u64> {
        self.tx
            .open_table(OFFERS)?
            .insert(offer.id, encode(offer)?.as_slice())?;
        let mut changes = self.tx.open_table(CHANGES)?;
        log_change(&mut changes, offer.id)
    }

    /// Removes an offer (its reference stays allocated) and logs the change.
    pub fn remove_offer(&self, offer: &Offer) -> Result<u64> {
        self.tx.open_table(OFFERS)?.remove(offer.id)?;
        self.tx
            .open_table(REFERENCES)?
            .remove(offer.reference.to_string().as_str())?;
        let mut changes = self.tx.open_table(CHANGES)?;
        log_change(&mut changes, offer.id)
    }
}

impl Store {
    /// Opens (or creates) the store file.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // redb's page cache defaults to 1 GiB and fills up with whatever is read (a whole
        // import, an export); the OS page cache keeps the file's hot pages anyway.
        let db = Database::builder()
            .set_cache_size(32 * 1024 * 1024)
            .create(path)?;
        let tx = db.begin_write()?;
        tx.open_table(OFFERS)?;
        tx.open_table(REFERENCES)?;
        tx.open_table(CHANGES)?;
        tx.open_table(COUNTERS)?;
        tx.open_table(META)?;
        accounts::create_tables(&tx)?;
        alerts::create_tables(&tx)?;
        tx.commit()?;
        Ok(Store { db })
    }

    /// Creates offers in one transaction, allocating their ids and references. Returns the
    /// offers and the change-log sequence of the last one.
    pub fn create_offers(&self, new: Vec<NewOffer>) -> Result<(Vec<Offer>, u64)> {
        self.write(|tx| {
            let mut created = Vec::with_capacity(new.len());
            let mut seq = 0;
            for n in new {
                let service = n.service_id;
                let (offer, s) = tx.create_offer(n)?;
                if let Some(service) = service {
                    tx.link_offer(service, offer.id)?;
                }
                seq = s;
                created.push(offer);
            }
            Ok((created, seq))
        })
    }

    /// Creates one offer.
    pub fn create_offer(&self, new: NewOffer) -> Result<(Offer, u64)> {
        let (mut offers, seq) = self.create_offers(vec![new])?;
        let offer = offers
            .pop()
            .ok_or_else(|| Error::Internal("no offer created".into()))?;
        Ok((offer, seq))
    }

    /// Applies `change` to the offer with `id` in one transaction and logs it. The closure may
    /// refuse the change by returning an error; nothing is written then.
    pub fn update_offer(
        &self,
        id: u64,
        change: impl FnOnce(&mut Offer) -> Result<()>,
    ) -> Result<(Offer, u64)> {
        self.write(|tx| {
            let mut offer = tx
                .offer(id)?
                .ok_or_else(|| Error::NotFound(format!("offer {id}")))?;
            let service = offer.service_id;
            change(&mut offer)?;
            // A move to another service relinks it in the same transaction.
            if offer.service_id != service {
                if let Some(old) = service {
                    tx.unlink_offer(old, offer.id)?;
                }
                if let Some(new) = offer.service_id {
                    tx.link_offer(new, offer.id)?;
                }
            }
            let seq = tx.put_offer(&offer)?;
            Ok((offer, seq))
        })
    }

    /// Deletes an offer when `allow` accepts it. Its reference stays allocated (never reused).
    pub fn delete_offer(&self, id: u64, allow: impl FnOnce(&Offer) -> Result<()>) -> Result<u64> {
        self.write(|tx| {
            let offer = tx
                .offer(id)?
                .ok_or_else(|| Error::NotFound(format!("offer {id}")))?;
            allow(&offer)?;
            if let Some(service) = offer.service_id {
                tx.unlink_offer(service, offer.id)?;
            }
            tx.remove_offer(&offer)
        })
    }

    /// The offer with this id.
    pub fn offer(&self, id: u64) -> Result<Option<Offer>> {
        let tx = self.db.begin_read()?;
        let offers = tx.open_table(OFFERS)?;
        offers.get(id)?.map(|v| decode(v.value())).transpose()
    }

    /// The offers with these ids, in the same order (missing ones skipped), from one snapshot.
    pub fn offers(&self, ids: &[u64]) -> Result<Vec<Offer>> {
        let tx = self.db.begin_read()?;
        let offers = tx.open_table(OFFERS)?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(v) = offers.get(id)? {
                out.push(decode(v.value())?);
            }
        }
        Ok(out)
    }

    /// The offer with this reference.
    pub fn offer_by_reference(&self, reference: &str) -> Result<Option<Offer>> {
        let tx = self.db.begin_read()?;
        let refs = tx.open_table(REFERENCES)?;
        let Some(id) = refs.get(reference)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let offers = tx.open_table(OFFERS)?;
        offers.get(id)?.map(|v| decode(v.value())).transpose()
    }

    /// Number of offers held.
    pub fn offer_count(&self) -> Result<u64> {
        let tx = self.db.begin_read()?;
        Ok(tx.open_table(OFFERS)?.len()?)
    }

    /// The sequence number of the latest change (0 when none).
    pub fn last_seq(&self) -> Result<u64> {
        let tx = self.db.begin_read()?;
        let changes = tx.open_table(CHANGES)?;
        Ok(changes.last()?.map(|(k, _)| k.value()).unwrap_or(0))
    }

    /// Up to `limit` changes after `seq`, oldest first: (sequence, offer id).
    pub fn changes_after(&self, seq: u64, limit: usize) -> Result<Vec<(u64, u64)>> {
        let tx = self.db.begin_read()?;
        let changes = tx.open_table(CHANGES)?;
        let mut out = Vec::new();
        for entry in changes.range(seq + 1..)?.take(limit) {
            let (k, v) = entry?;
            out.push((k.value(), v.value()));
        }
        Ok(out)
    }

    /// Calls `f` with every offer, in id order, from one snapshot; returns the change-log
    /// sequence that snapshot contains.
    pub fn for_each_offer(&self, mut f: impl FnMut(Offer) -> Result<()>) -> Result<u64> {
        let tx = self.db.begin_read()?;
        let changes = tx.open_table(CHANGES)?;
        let seq = changes.last()?.map(|(k, _)| k.value()).unwrap_or(0);
        let offers = tx.open_table(OFFERS)?;
        for entry in offers.iter()? {
            let (_, v) = entry?;
            f(decode(v.value())?)?;
        }
        Ok(seq)
    }

    /// A metadata value, written in a transaction.
    pub fn meta_in(tx: &Tx<'_>, key: &str) -> Result<Option<String>> {
        let t = tx.tx.open_table(META)?;
        let v = t.get(key)?.map(|v| v.value().to_string());
        Ok(v)
    }

    /// Sets a metadata value in a transaction.
    pub fn set_meta_in(tx: &Tx<'_>, key: &str, value: &str) -> Result<()> {
        tx.tx.open_table(META)?.insert(key, value)?;
        Ok(())
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        Ok(meta.get(key)?.map(|v| v.value().to_string()))
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let tx = self.db.begin_write()?;
        tx.open_table(META)?.insert(key, value)?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DateRule, OfferInput};
    use time::macros::datetime;

    pub(crate) fn sample_fields(contract: &str) -> OfferFields {
        OfferInput {
            title: Some("Stagiaire juriste".into()),
            contract: Some(contract.into()),
            diploma: Some("niveau-7".into()),
            domain: Some("droit-juridique".into()),
            administration: Some("min-justice".into()),
            service: Some("Tribunal judiciaire de Lyon".into()),
            country: Some("FR".into()),
            region: Some("84".into()),
            department: Some("69".into()),
            description: Some("Rédiger des notes".into()),
            start: Some("2027-01".into()),
            contact_url: Some("https://justice.example/candidater".into()),
            unpublish_on: Some("2027-06-01".into()),
            ..OfferInput::default()
        }
        .validate(DateRule::Import)
        .unwrap()
    }

    #[test]
    fn references_are_sequential_per_type_and_year_and_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = Store::open(&path).unwrap();
        let new = |contract: &str, t| NewOffer {
            fields: sample_fields(contract),
            state: OfferState::Draft,
            created_at: t,
            published_at: None,
            service_id: None,
            audit: Vec::new(),
        };
        let t26 = datetime!(2026-03-01 10:00 UTC);
        let (a1, _) = store.create_offer(new("apprentissage", t26)).unwrap();
        let (s1, _) = store.create_offer(new("stage", t26)).unwrap();
        let (s2, _) = store.create_offer(new("stage", t26)).unwrap();
        assert_eq!(a1.reference.to_string(), "A-2026-0001");
        assert_eq!(s1.reference.to_string(), "S-2026-0001");
        assert_eq!(s2.reference.to_string(), "S-2026-0002");
        store.delete_offer(s2.id, |_| Ok(())).unwrap();
        drop(store);
        // Reopen: the counter survives, the deleted number is not reused.
        let store = Store::open(&path).unwrap();
        let (s3, seq) = store.create_offer(new("stage", t26)).unwrap();
        assert_eq!(s3.reference.to_string(), "S-2026-0003");
        let (s27, _) = store
            .create_offer(new("stage", datetime!(2027-01-02 10:00 UTC)))
            .unwrap();
        assert_eq!(s27.reference.to_string(), "S-2027-0001");
        assert_eq!(seq, 5);
        assert!(store.offer_by_reference("S-2026-0002").unwrap().is_none());
        assert_eq!(
            store.offer_by_reference("S-2026-0003").unwrap().unwrap().id,
            s3.id
        );
        let log = store.changes_after(3, 10).unwrap();
        assert_eq!(log, vec![(4, s2.id), (5, s3.id), (6, s27.id)]);
    }

    #[test]
    fn a_refused_update_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let (o, seq) = store
            .create_offer(NewOffer {
                fields: sample_fields("stage"),
                state: OfferState::Published,
                created_at: datetime!(2026-03-01 10:00 UTC),
                published_at: Some(datetime!(2026-03-01 10:00 UTC)),
                service_id: None,
                audit: Vec::new(),
            })
            .unwrap();
        let err = store
            .delete_offer(o.id, |_| Err(Error::Conflict("published".into())))
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)));
        let r = store.update_offer(o.id, |o| {
            o.state = OfferState::Archived;
            Err(Error::Conflict("no".into()))
        });
        assert!(r.is_err());
        assert_eq!(
            store.offer(o.id).unwrap().unwrap().state,
            OfferState::Published
        );
        assert_eq!(store.last_seq().unwrap(), seq);
    }
}
