//! The system of record — a redb file for one machine, PostgreSQL for several nodes — holding
//! offers, the reference counters, the change log that every node's index replays, and
//! metadata. Every write is one durable transaction: when a method returns `Ok`, the change
//! survives a crash.

pub mod accounts;
mod administrations;
pub mod alerts;
mod attachments;
pub mod backup;
pub(crate) mod kv;
pub mod leases;
pub mod mails;
pub(crate) mod postgres;
pub(crate) mod redb;
pub mod replica;
pub mod reports;
pub mod sources;
pub mod stats;
pub(crate) mod table;
mod tx;

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ::redb::{Database, ReadableDatabase};
use lru::LruCache;
use time::OffsetDateTime;

use crate::domain::offer::AuditEvent;
use crate::domain::{Offer, OfferFields, OfferState, Reference};
use crate::error::{Error, Result};
use kv::View;
use table::Table;
pub use tx::Tx;

pub(crate) const OFFERS: Table<u64, &[u8]> = Table::new("offers", &["id"], &["body"]);
pub(crate) const REFERENCES: Table<&str, u64> =
    Table::new("references", &["reference"], &["offer_id"]);
/// Change log: sequence number → id of the offer that changed (its current state is in OFFERS,
/// or it is gone).
pub(crate) const CHANGES: Table<u64, u64> = Table::new("changes", &["seq"], &["offer_id"]);
pub(crate) const COUNTERS: Table<&str, u64> = Table::new("counters", &["name"], &["value"]);
pub(crate) const META: Table<&str, &str> = Table::new("meta", &["key"], &["value"]);

const NEXT_OFFER_ID: &str = "offer_id";

/// Every table of the store, for copies (backups, `offerwatch migrate`) and counts.
pub(crate) fn tables() -> Vec<&'static dyn kv::AnyTable> {
    let mut all: Vec<&'static dyn kv::AnyTable> =
        vec![&OFFERS, &REFERENCES, &CHANGES, &COUNTERS, &META];
    all.extend(accounts::tables());
    all.extend(administrations::tables());
    all.extend(mails::tables());
    all.extend(alerts::tables());
    all.extend(stats::tables());
    all.extend(sources::tables());
    all.extend(reports::tables());
    all.extend(leases::tables());
    all.extend(attachments::tables());
    all
}

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

/// Where the records are.
pub(crate) enum Db {
    /// An embedded file: one process.
    Redb(Database),
    /// A PostgreSQL database shared by several nodes.
    Pg(Box<postgres::Pg>),
}

/// The store.
pub struct Store {
    pub(crate) db: Db,
    offers: OfferCache,
    /// The directory of an embedded store (its attachment files).
    files: Option<std::path::PathBuf>,
    /// A shared store's node-local copy of the offers, which public reads use (set by the
    /// engine; see [`replica`]).
    replica: std::sync::OnceLock<Arc<replica::Replica>>,
}

/// Offers decoded recently (the newest ones, which every browse page shows), so that a search
/// page costs no JSON parsing. A write removes what it changed after its commit (and the change
/// log, what other nodes changed); a read that overlapped a write does not fill the cache (the
/// `epoch` tells), so nothing stale stays.
struct OfferCache {
    epoch: AtomicU64,
    /// Offers handed out by [`Store::shared_offers`] since the store was opened.
    loaded: AtomicU64,
    lru: Mutex<LruCache<u64, Arc<Offer>>>,
}

/// Offers kept decoded: about 2–3 KB each.
const CACHED_OFFERS: usize = 4096;

impl OfferCache {
    fn new() -> OfferCache {
        OfferCache {
            epoch: AtomicU64::new(0),
            loaded: AtomicU64::new(0),
            lru: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHED_OFFERS).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn lru(&self) -> std::sync::MutexGuard<'_, LruCache<u64, Arc<Offer>>> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a committed write: these offers changed.
    fn changed(&self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let mut lru = self.lru();
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for id in ids {
            lru.pop(id);
        }
    }
}

fn encode(offer: &Offer) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(offer)?)
}

fn decode(bytes: &[u8]) -> Result<Offer> {
    match serde_json::from_slice(bytes) {
        Ok(offer) => Ok(offer),
        // An administration another node has just added: learn it, then read again.
        Err(_) if refresh_administrations() => serde_json::from_slice(bytes),
        Err(e) => Err(e),
    }
    .map_err(|e| Error::failed("corrupt offer record", e))
}

/// The shared store whose administrations [`decode`] re-reads when an offer names one this
/// node does not know yet.
static SHARED: std::sync::Mutex<Option<std::sync::Weak<Store>>> = std::sync::Mutex::new(None);

impl Store {
    /// Makes `store` (shared by several nodes) the one an offer naming an unknown administration
    /// sends this node to, to learn what another node added.
    pub fn learn_administrations_from(store: &Arc<Store>) {
        *SHARED.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::downgrade(store));
    }
}

/// True when re-reading the shared store's administrations changed this node's list.
fn refresh_administrations() -> bool {
    let store = SHARED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .and_then(std::sync::Weak::upgrade);
    store.is_some_and(|s| s.install_administrations().unwrap_or(false))
}

fn next_counter(v: &View<'_>, key: &str) -> Result<u64> {
    let key = key.to_string();
    let n = v.get(&COUNTERS, &key)?.unwrap_or(0) + 1;
    v.put(&COUNTERS, &key, &n)?;
    Ok(n)
}

/// A time as Unix milliseconds (leases, claims and throttle windows are kept so).
fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Fills the table `into` from the rows of `from` that `pick` keeps, once per store (`flag`,
/// in the metadata): a table added to keep some rows at hand, in a store made before it.
fn fill_once<K: table::Col + ::redb::Key, V: table::Col, W: table::Col>(
    v: &View<'_>,
    flag: &str,
    from: &Table<K, V>,
    into: &Table<K, W>,
    pick: impl Fn(&V::Owned) -> Result<Option<W::Owned>>,
) -> Result<()> {
    let flag = flag.to_string();
    if v.get(&META, &flag)?.is_some() {
        return Ok(());
    }
    let mut rows = Vec::new();
    v.each(from, |k, b| {
        if let Some(w) = pick(&b)? {
            rows.push((k, w));
        }
        Ok(true)
    })?;
    v.put_many(into, &rows)?;
    v.put(&META, &flag, &"1".to_string())
}

fn next_seq(v: &View<'_>, log: &Table<u64, u64>, id: u64) -> Result<u64> {
    let seq = v.last_key(log)?.unwrap_or(0) + 1;
    v.put(log, &seq, &id)?;
    Ok(seq)
}

impl Tx<'_> {
    /// Creates an offer, allocating its id and its reference, and logs the change.
    pub fn create_offer(&self, n: NewOffer) -> Result<(Offer, u64)> {
        let (mut offers, seq) = self.create_offers(vec![n])?;
        let offer = offers
            .pop()
            .ok_or_else(|| Error::Internal("no offer created".into()))?;
        Ok((offer, seq))
    }

    /// Creates offers, allocating their ids and references, links them to their services and
    /// logs the changes; returns them and the sequence of the last change. The counters and
    /// the log are read once and every table written in a few statements, whatever the number
    /// of offers.
    pub fn create_offers(&self, new: Vec<NewOffer>) -> Result<(Vec<Offer>, u64)> {
        let mut counters: std::collections::BTreeMap<String, u64> = Default::default();
        let mut next = |key: String| -> Result<u64> {
            let n = match counters.get(&key) {
                Some(&n) => n,
                None => self.v.get(&COUNTERS, &key)?.unwrap_or(0),
            } + 1;
            counters.insert(key, n);
            Ok(n)
        };
        let mut seq = self.v.last_key(&CHANGES)?.unwrap_or(0);
        let (mut rows, mut refs, mut log, mut links) = (vec![], vec![], vec![], vec![]);
        let mut created = Vec::with_capacity(new.len());
        for n in new {
            let id = next(NEXT_OFFER_ID.to_string())?;
            let prefix = n.fields.contract.reference_prefix();
            let year = n.created_at.year() as u16;
            let number = next(Reference::counter_key(prefix, year))?;
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
            seq += 1;
            rows.push((id, encode(&offer)?));
            refs.push((reference.to_string(), id));
            log.push((seq, id));
            if let Some(service) = offer.service_id {
                links.push(((service, id), ()));
            }
            created.push(offer);
        }
        let counters: Vec<(String, u64)> = counters.into_iter().collect();
        self.v.put_many(&COUNTERS, &counters)?;
        self.v.put_many(&REFERENCES, &refs)?;
        self.v.put_many(&OFFERS, &rows)?;
        self.v.put_many(&CHANGES, &log)?;
        self.v.put_many(&accounts::SERVICE_OFFERS, &links)?;
        self.touched
            .borrow_mut()
            .extend(created.iter().map(|o| o.id));
        if !created.is_empty() {
            self.changed();
        }
        Ok((created, seq))
    }

    /// The offer with this id.
    pub fn offer(&self, id: u64) -> Result<Option<Offer>> {
        self.v.get(&OFFERS, &id)?.map(|v| decode(&v)).transpose()
    }

    /// Writes an offer and logs the change; returns its sequence.
    pub fn put_offer(&self, offer: &Offer) -> Result<u64> {
        self.touched.borrow_mut().push(offer.id);
        self.v.put(&OFFERS, &offer.id, &encode(offer)?)?;
        self.log_change(offer.id)
    }

    /// Removes an offer (its reference stays allocated) and logs the change.
    pub fn remove_offer(&self, offer: &Offer) -> Result<u64> {
        self.touched.borrow_mut().push(offer.id);
        self.v.remove(&OFFERS, &offer.id)?;
        self.v.remove(&REFERENCES, &offer.reference.to_string())?;
        self.log_change(offer.id)
    }

    fn log_change(&self, id: u64) -> Result<u64> {
        self.changed();
        next_seq(&self.v, &CHANGES, id)
    }

    /// Tells the other nodes, at commit, that the change logs grew.
    pub(crate) fn changed(&self) {
        if let Some(n) = self.notify {
            n.changed.set(true);
        }
    }
}

impl Store {
    /// Opens (or creates) the store file.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let db = redb::open(path)?;
        let tx = db.begin_write()?;
        {
            let v = View::RedbWrite(&tx);
            for t in tables() {
                t.count(&v)?;
            }
            alerts::bring_up_to_date(&v)?;
            mails::bring_up_to_date(&v)?;
        }
        tx.commit()?;
        Ok(Store {
            db: Db::Redb(db),
            offers: OfferCache::new(),
            files: path.parent().map(Path::to_path_buf),
            replica: Default::default(),
        })
    }

    /// Connects to a PostgreSQL database (`postgres://…`) shared with other nodes, creating or
    /// migrating its tables.
    pub fn connect(url: &str) -> Result<Store> {
        let pg = postgres::Pg::connect(url)?;
        pg.write(|c, _| {
            let v = View::Pg(c);
            alerts::bring_up_to_date(&v)?;
            mails::bring_up_to_date(&v)
        })?;
        Ok(Store {
            db: Db::Pg(Box::new(pg)),
            offers: OfferCache::new(),
            files: None,
            replica: Default::default(),
        })
    }

    /// Calls `wake` whenever another node may have changed something (a shared store only:
    /// None for the embedded one), until `stop` is set.
    pub fn follow(
        &self,
        poll: std::time::Duration,
        stop: Arc<std::sync::atomic::AtomicBool>,
        wake: impl Fn() + Send + 'static,
    ) -> Option<std::thread::JoinHandle<()>> {
        match &self.db {
            Db::Redb(_) => None,
            Db::Pg(pg) => Some(pg.follow(poll, stop, wake)),
        }
    }

    /// True when the records are in a database several nodes share.
    pub fn is_shared(&self) -> bool {
        matches!(self.db, Db::Pg(_))
    }

    /// Runs `f` on one consistent snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&View<'_>) -> Result<T>) -> Result<T> {
        crate::blocking::check("a store transaction")?;
        match &self.db {
            Db::Redb(db) => {
                let tx = db.begin_read()?;
                f(&View::RedbRead(&tx))
            }
            Db::Pg(pg) => pg.read(|c| f(&View::Pg(c))),
        }
    }

    /// Runs `f` in one durable write transaction: all of it is committed, or nothing.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        crate::blocking::check("a store transaction")?;
        let mut touched = Vec::new();
        let out = match &self.db {
            Db::Redb(db) => {
                let tx = db.begin_write()?;
                let scope = Tx {
                    v: View::RedbWrite(&tx),
                    touched: Default::default(),
                    notify: None,
                };
                let out = f(&scope);
                touched = scope.touched.take();
                drop(scope);
                match out {
                    Ok(v) => tx.commit().map(|()| v).map_err(Error::from),
                    Err(e) => Err(e),
                }
            }
            Db::Pg(pg) => pg.write(|c, notify| {
                let scope = Tx {
                    v: View::Pg(c),
                    touched: Default::default(),
                    notify: Some(notify),
                };
                let out = f(&scope);
                touched = scope.touched.take();
                out
            }),
        };
        self.offers.changed(&touched);
        out
    }

    /// After the change log told that other nodes changed these offers.
    pub fn forget_offers(&self, ids: &[u64]) {
        self.offers.changed(ids);
    }

    /// Creates offers in one transaction, allocating their ids and references. Returns the
    /// offers and the change-log sequence of the last one.
    pub fn create_offers(&self, new: Vec<NewOffer>) -> Result<(Vec<Offer>, u64)> {
        self.create_offers_and(new, |_, _| Ok(()))
    }
    /// [`Store::create_offers`], with `also` written in the same transaction (which it may
    /// refuse by returning an error: then nothing is written).
    pub fn create_offers_and(
        &self,
        new: Vec<NewOffer>,
        also: impl FnOnce(&Tx<'_>, &[Offer]) -> Result<()>,
    ) -> Result<(Vec<Offer>, u64)> {
        self.write(|tx| {
            let (created, seq) = tx.create_offers(new)?;
            also(tx, &created)?;
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
        self.read(|v| v.get(&OFFERS, &id)?.map(|b| decode(&b)).transpose())
    }

    /// How many offers [`Store::shared_offers`] has handed out since the store was opened: what
    /// the answers of a server cost in offers read.
    pub fn offers_loaded(&self) -> u64 {
        self.offers.loaded.load(Ordering::Relaxed)
    }

    /// The offers with these ids, in the same order (missing ones skipped), the recent ones
    /// from the cache of decoded offers, the others from one snapshot.
    pub fn shared_offers(&self, ids: &[u64]) -> Result<Vec<Arc<Offer>>> {
        self.offers
            .loaded
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        let epoch = self.offers.epoch.load(Ordering::SeqCst);
        let mut found: Vec<Option<Arc<Offer>>> = {
            let mut lru = self.offers.lru();
            ids.iter().map(|id| lru.get(id).cloned()).collect()
        };
        if found.iter().any(Option::is_none) {
            let missing: Vec<u64> = found
                .iter()
                .zip(ids)
                .filter(|(slot, _)| slot.is_none())
                .map(|(_, &id)| id)
                .collect();
            let mut read = Vec::new();
            if let Some(replica) = self.replica.get() {
                // This node's copy, whether or not the database answers.
                let mut got = replica.offers(&missing)?.into_iter().peekable();
                for (slot, id) in found.iter_mut().zip(ids).filter(|(s, _)| s.is_none()) {
                    if let Some(offer) = got.next_if(|o| o.id == *id) {
                        read.push(offer.clone());
                        *slot = Some(offer);
                    }
                }
            } else {
                let got = self.read(|v| v.get_many(&OFFERS, &missing))?;
                let mut got = got.into_iter();
                for slot in found.iter_mut().filter(|s| s.is_none()) {
                    if let Some(b) = got.next().flatten() {
                        let offer = Arc::new(decode(&b)?);
                        read.push(offer.clone());
                        *slot = Some(offer);
                    }
                }
            }
            let mut lru = self.offers.lru();
            if self.offers.epoch.load(Ordering::SeqCst) == epoch {
                for offer in read {
                    lru.put(offer.id, offer);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// The offers with these ids, in the same order (missing ones skipped), from one snapshot.
    pub fn offers(&self, ids: &[u64]) -> Result<Vec<Offer>> {
        let found = self.read(|v| v.get_many(&OFFERS, ids))?;
        found.into_iter().flatten().map(|b| decode(&b)).collect()
    }

    /// Makes `replica` the copy of the offers that public reads use (a shared store's node).
    pub fn use_replica(&self, replica: Arc<replica::Replica>) {
        let _ = self.replica.set(replica);
    }

    /// The offer with this reference as the public sees it: from this node's copy when it has
    /// one (it answers while the database is away), else from the store.
    pub fn public_offer_by_reference(&self, reference: &str) -> Result<Option<Offer>> {
        match self.replica.get() {
            Some(r) => r.by_reference(reference),
            None => self.offer_by_reference(reference),
        }
    }

    /// The offer with this reference.
    pub fn offer_by_reference(&self, reference: &str) -> Result<Option<Offer>> {
        self.read(|v| {
            let Some(id) = v.get(&REFERENCES, &reference.to_string())? else {
                return Ok(None);
            };
            v.get(&OFFERS, &id)?.map(|b| decode(&b)).transpose()
        })
    }

    /// Number of offers held.
    pub fn offer_count(&self) -> Result<u64> {
        self.read(|v| v.len(&OFFERS))
    }

    /// The sequence number of the latest change (0 when none).
    pub fn last_seq(&self) -> Result<u64> {
        self.read(|v| Ok(v.last_key(&CHANGES)?.unwrap_or(0)))
    }

    /// Up to `limit` changes after `seq`, oldest first: (sequence, offer id).
    pub fn changes_after(&self, seq: u64, limit: usize) -> Result<Vec<(u64, u64)>> {
        self.read(|v| changes_after(v, &CHANGES, seq, limit))
    }

    /// Calls `f` with every offer, in id order, from one snapshot; returns the change-log
    /// sequence that snapshot contains.
    pub fn for_each_offer(&self, mut f: impl FnMut(Offer) -> Result<()>) -> Result<u64> {
        self.read(|v| {
            let seq = v.last_key(&CHANGES)?.unwrap_or(0);
            v.each(&OFFERS, |_, b| {
                f(decode(&b)?)?;
                Ok(true)
            })?;
            Ok(seq)
        })
    }

    /// A metadata value, written in a transaction.
    pub fn meta_in(tx: &Tx<'_>, key: &str) -> Result<Option<String>> {
        tx.v.get(&META, &key.to_string())
    }

    /// Sets a metadata value in a transaction.
    pub fn set_meta_in(tx: &Tx<'_>, key: &str, value: &str) -> Result<()> {
        tx.v.put(&META, &key.to_string(), &value.to_string())
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|v| v.get(&META, &key.to_string()))
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(|tx| Store::set_meta_in(tx, key, value))
    }
}

/// Up to `limit` entries of a change log after `seq`, oldest first.
fn changes_after(
    v: &View<'_>,
    log: &Table<u64, u64>,
    seq: u64,
    limit: usize,
) -> Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    v.scan(
        log,
        std::ops::Bound::Excluded(&seq),
        std::ops::Bound::Unbounded,
        |k, id| {
            out.push((k, id));
            Ok(out.len() < limit)
        },
    )?;
    Ok(out)
}

/// Creates `dir` (and its parents) readable by this user alone (`0700`): the data dir, the
/// outbox and backups hold personal data and, until sent, one-time links.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Makes a file readable and writable by this user alone (`0600`).
pub fn set_private(file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
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

    /// Runs a test on the embedded store, then on PostgreSQL; `open` opens the same store
    /// again (after a drop).
    pub(crate) fn on_both_stores(test: impl Fn(&dyn Fn() -> Store)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        test(&|| Store::open(&path).unwrap());
        let url = crate::testing::database_url();
        test(&|| Store::connect(&url).unwrap());
    }

    #[test]
    fn references_are_sequential_per_type_and_year_and_never_reused() {
        on_both_stores(references_are_sequential);
    }

    fn references_are_sequential(open: &dyn Fn() -> Store) {
        let store = open();
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
        let store = open();
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
    fn offers_and_what_is_written_with_them_commit_together() {
        on_both_stores(commit_together);
    }

    fn commit_together(open: &dyn Fn() -> Store) {
        let store = open();
        let new = || NewOffer {
            fields: sample_fields("stage"),
            state: OfferState::Draft,
            created_at: datetime!(2026-03-01 10:00 UTC),
            published_at: None,
            service_id: None,
            audit: Vec::new(),
        };
        let refused = store.create_offers_and(vec![new(), new()], |tx, created| {
            assert_eq!(created.len(), 2);
            tx.next_id("witness")?;
            Err(Error::Internal("refused".into()))
        });
        assert!(refused.is_err());
        assert!(store.offer_by_reference("S-2026-0001").unwrap().is_none());
        let (created, _) = store
            .create_offers_and(vec![new()], |tx, created| {
                assert_eq!(created[0].reference.to_string(), "S-2026-0001");
                tx.next_id("witness").map(|_| ())
            })
            .unwrap();
        assert_eq!(created.len(), 1);
        // The refused transaction left no trace: the witness counter starts again at 2.
        assert_eq!(store.write(|tx| tx.next_id("witness")).unwrap(), 2);
    }

    #[test]
    fn cached_offers_follow_every_write() {
        on_both_stores(cached_offers_follow);
    }

    fn cached_offers_follow(open: &dyn Fn() -> Store) {
        let store = open();
        let new = || NewOffer {
            fields: sample_fields("stage"),
            state: OfferState::Draft,
            created_at: datetime!(2026-03-01 10:00 UTC),
            published_at: None,
            service_id: None,
            audit: Vec::new(),
        };
        let (a, _) = store.create_offer(new()).unwrap();
        let (b, _) = store.create_offer(new()).unwrap();
        let titles = |ids: &[u64]| -> Vec<String> {
            let offers = store.shared_offers(ids).unwrap();
            offers.iter().map(|o| o.fields.title.clone()).collect()
        };
        assert_eq!(titles(&[b.id, a.id]), ["Stagiaire juriste"; 2]);
        // Now cached: an update, a refused update and a deletion are all seen.
        store
            .update_offer(a.id, |o| {
                o.fields.title = "Apprenti géomaticien".into();
                Ok(())
            })
            .unwrap();
        let _ = store.update_offer(b.id, |o| {
            o.fields.title = "jamais écrit".into();
            Err(Error::NotFound("refused".into()))
        });
        assert_eq!(
            titles(&[a.id, b.id]),
            ["Apprenti géomaticien", "Stagiaire juriste"]
        );
        store.delete_offer(b.id, |_| Ok(())).unwrap();
        assert_eq!(titles(&[a.id, b.id, 999]), ["Apprenti géomaticien"]);
        drop(store);
        let store = open();
        assert_eq!(
            store.shared_offers(&[a.id]).unwrap()[0].fields.title,
            "Apprenti géomaticien"
        );
    }

    #[test]
    fn a_refused_update_writes_nothing() {
        on_both_stores(refused_update);
    }

    fn refused_update(open: &dyn Fn() -> Store) {
        let store = open();
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
