//! The engine: the store, the index derived from it and the writer that keeps them in step.
//! Everything a server, the command line, a test or a benchmark does goes through here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use time::OffsetDateTime;

use crate::domain::account::SavedSearch;
use crate::domain::local_time::Zone;
use crate::domain::{Offer, SearchParams};
use crate::error::{Error, Result};
use crate::index::synonyms::Synonyms;
use crate::index::{IndexerHandle, SearchHits, SearchIndex};
use crate::percolator::Percolator;
use crate::store::stats::Counts;
use crate::store::{NewOffer, Store};
use std::collections::HashMap;

/// Where the current time comes from (injectable for tests).
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// One page of search results with the offers loaded from the store.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Offers matching every criterion.
    pub total: u64,
    /// The offers of the page, in order.
    pub offers: Vec<Arc<Offer>>,
    /// Facet counts, when asked.
    pub facets: Option<Vec<crate::index::FacetCounts>>,
    /// Words of `q` read as others (typed, used), folded.
    pub corrected: Vec<(String, String)>,
    /// `q` as it was read when a word was corrected.
    pub corrected_q: Option<String>,
    /// For a keyword query that found nothing: a query to try.
    pub did_you_mean: Option<String>,
}

/// The engine.
pub struct Engine {
    store: Arc<Store>,
    index: SearchIndex,
    indexer: IndexerHandle,
    clock: Clock,
    data_dir: PathBuf,
    percolator: RwLock<Percolator>,
    /// Statistics counted since the last flush, per (offer, day).
    stats: std::sync::Mutex<HashMap<(u64, i32), Counts>>,
    /// The last change of alerts the percolator holds.
    alerts_seen: std::sync::atomic::AtomicU64,
    /// The follower of a shared store's change logs, while it runs.
    follower: std::sync::Mutex<
        Option<(
            Arc<std::sync::atomic::AtomicBool>,
            std::thread::JoinHandle<()>,
        )>,
    >,
    /// This process, among the nodes sharing a database.
    node: String,
    /// The works whose lease this node took (given back when it stops).
    leases: std::sync::Mutex<HashMap<String, std::time::Instant>>,
}

/// How long a node's lease on some work lasts unless renewed: the other nodes take the work
/// over that long after the holder died.
pub const LEASE_TTL: Duration = Duration::from_secs(10);

/// How often a node looks at the shared change logs when no notification came.
pub const FOLLOW_POLL: Duration = Duration::from_millis(500);

/// What a statistic counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A view of the offer (page or API).
    View,
    /// A click on "Postuler".
    Click,
    /// An alert mail that carried it.
    Mail,
}

/// Days since 1970-01-01 of a (local) date.
pub fn day_number(d: time::Date) -> i32 {
    d.to_julian_day() - time::macros::date!(1970 - 01 - 01).to_julian_day()
}

/// The date of a day number.
pub fn day_date(n: i32) -> time::Date {
    time::Date::from_julian_day(n + time::macros::date!(1970 - 01 - 01).to_julian_day())
        .unwrap_or(time::Date::MIN)
}

/// How an engine is opened: its store, clock, time zone and synonyms (the defaults: the redb
/// store of the data dir, the system clock, Europe/Paris, the compiled-in synonyms).
pub struct Options {
    /// A PostgreSQL database shared with other nodes, instead of the data dir's redb file.
    pub database_url: Option<String>,
    /// Where the time comes from.
    pub clock: Clock,
    /// The portal's time zone.
    pub zone: Zone,
    /// The synonym list keywords are read with.
    pub synonyms: Synonyms,
    /// The matches of one index segment from which a search shares its walk between two
    /// threads (`usize::MAX`: never; tests set it low to take that way on small corpora).
    pub shared_walk: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            database_url: None,
            clock: system_clock(),
            zone: Zone::default(),
            synonyms: Synonyms::builtin(),
            shared_walk: crate::index::collector::SHARED_WALK,
        }
    }
}

impl Engine {
    /// Opens the data dir: the store, then the index (rebuilt or caught up from the store).
    pub fn open(data_dir: &Path) -> Result<Engine> {
        Self::open_options(data_dir, Options::default())
    }

    /// [`Engine::open`] with a given clock.
    pub fn open_with_clock(data_dir: &Path, clock: Clock) -> Result<Engine> {
        Self::open_with(data_dir, None, clock)
    }

    /// Opens the data dir (the index, and the store unless `database_url` names a PostgreSQL
    /// database shared with other nodes).
    pub fn open_with(data_dir: &Path, database_url: Option<&str>, clock: Clock) -> Result<Engine> {
        Self::open_options(
            data_dir,
            Options {
                database_url: database_url.map(str::to_string),
                clock,
                ..Options::default()
            },
        )
    }

    /// Opens the data dir as `options` say.
    pub fn open_options(data_dir: &Path, options: Options) -> Result<Engine> {
        let Options {
            database_url,
            clock,
            zone,
            synonyms,
            shared_walk,
        } = options;
        crate::store::create_private_dir(data_dir)?;
        let store = Arc::new(match database_url.as_deref() {
            Some(url) => Store::connect(url)?,
            None => Store::open(&data_dir.join("store.redb"))?,
        });
        // Before anything reads an offer: an administration added at run time is a known code.
        store.install_administrations()?;
        if store.is_shared() {
            Store::learn_administrations_from(&store);
        }
        let (mut index, mut state) = SearchIndex::open(&data_dir.join("index"), zone, synonyms)?;
        index.share_walks_from(shared_walk);
        let mut replica = None;
        if store.is_shared() {
            // The node's own copy of the offers, kept by the index writer with the index: a
            // new copy is filled by rebuilding the index.
            let (r, fresh) = crate::store::replica::Replica::open(&data_dir.join("offers.redb"))?;
            if fresh {
                state = crate::index::IndexState::NeedsRebuild;
            }
            store.use_replica(r.clone());
            replica = Some(r);
        }
        let percolator = Percolator::new(index.zone().clone(), index.synonyms().get());
        let indexer = IndexerHandle::start(index.clone(), store.clone(), state, replica)?;
        Ok(Engine {
            store,
            index,
            indexer,
            clock,
            data_dir: data_dir.to_path_buf(),
            percolator: RwLock::new(percolator),
            stats: Default::default(),
            alerts_seen: Default::default(),
            follower: Default::default(),
            leases: Default::default(),
            node: format!(
                "{}-{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into()),
                std::process::id(),
                OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_007
            ),
        })
    }

    /// This process's name among the nodes sharing a database (it holds leases under it).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether this node is the one to do `work` now (percolating, mailing, archiving, polling
    /// feeds): with a shared store, it takes the work's lease or renews it once half of it has
    /// passed (see [`Store::hold_lease`]); with the embedded store, the one process always is.
    pub fn holds(&self, work: &str) -> bool {
        if !self.store.is_shared() {
            return true;
        }
        // Renewed less than half its time ago: still this node's, without asking.
        let renewed = self
            .leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(work)
            .copied();
        if renewed.is_some_and(|at| at.elapsed() < LEASE_TTL / 2) {
            return true;
        }
        let asked = std::time::Instant::now();
        match self
            .store
            .hold_lease(work, &self.node, OffsetDateTime::now_utc(), LEASE_TTL)
        {
            Ok(held) => {
                let mut works = self.leases.lock().unwrap_or_else(|e| e.into_inner());
                if held {
                    works.insert(work.to_string(), asked);
                } else {
                    works.remove(work);
                }
                held
            }
            Err(e) => {
                tracing::warn!(error = %e, work, "lease not renewed");
                false
            }
        }
    }

    /// With a shared store: follows the change logs, so that what other nodes write reaches
    /// this node's index (within [`FOLLOW_POLL`], at once when notified) and percolator.
    pub fn start_following(self: &Arc<Self>) {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let engine = Arc::downgrade(self);
        let handle = self.store.follow(FOLLOW_POLL, stop.clone(), move || {
            if let Some(e) = engine.upgrade()
                && let Err(err) = e.follow_changes()
            {
                tracing::warn!(error = %err, "following the shared change log");
            }
        });
        if let Some(h) = handle {
            *self.follower.lock().unwrap_or_else(|e| e.into_inner()) = Some((stop, h));
        }
    }

    /// Takes what the change logs hold since last time: offers into the index, changed alerts
    /// into the percolator.
    pub fn follow_changes(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        self.indexer.notify();
        let mut seen = self.alerts_seen.load(Ordering::SeqCst);
        loop {
            let changes = self.store.alert_changes_after(seen, 1000)?;
            let Some(&(last, _)) = changes.last() else {
                return Ok(());
            };
            if changes[0].0 > seen + 1 {
                // Further behind than the log keeps: every alert is read again.
                tracing::warn!(
                    seen,
                    first = changes[0].0,
                    "alert changes dropped meanwhile"
                );
                self.rebuild_percolator()?;
                seen = self.alerts_seen.load(Ordering::SeqCst);
                continue;
            }
            let accounts: std::collections::BTreeSet<u64> =
                changes.iter().map(|&(_, a)| a).collect();
            for a in accounts {
                self.sync_alerts_of(a)?;
            }
            seen = last;
            self.alerts_seen.store(seen, Ordering::SeqCst);
        }
    }

    /// Makes the percolator hold exactly the stored alerts of an account.
    fn sync_alerts_of(&self, account: u64) -> Result<()> {
        let stored = self.store.saved_searches_of(account)?;
        let held = self.percolator().alerts_of(account);
        for id in held {
            if !stored.iter().any(|s| s.id == id) {
                self.percolator_mut().remove(id);
            }
        }
        self.refresh_alerts_of(account)
    }

    /// How common an anchor key (`s:term`, `e:term`, `r:reference`) is among indexed offers:
    /// the percolator indexes each keyword alert under its rarest key.
    pub fn anchor_doc_freq(&self) -> impl Fn(&str) -> u64 + '_ {
        let searcher = self.index.reader.searcher();
        let s = self.index.schema;
        move |key: &str| {
            let (field, text) = match key.split_once(':') {
                Some(("s", t)) => (s.text, t),
                Some(("e", t)) => (s.text_exact, t),
                Some((_, t)) => (s.reference, t),
                None => return 0,
            };
            searcher
                .doc_freq(&tantivy::Term::from_field_text(field, text))
                .unwrap_or(0)
        }
    }

    /// Rebuilds the percolator from the stored saved searches (a server does it when it
    /// starts; [`Engine::open`] leaves it empty, so that commands start fast): the alerts that are on, of
    /// confirmed addresses. Alerts changed meanwhile wait for it (it holds the percolator from
    /// before it reads the store), so none is lost.
    pub fn rebuild_percolator(&self) -> Result<usize> {
        /// Saved searches decoded at once.
        const REBUILD_CHUNK: usize = 50_000;
        use rayon::prelude::*;
        let mut held = self.percolator_mut();
        // Changes of alerts from here on are taken again by the follower (idempotent).
        self.alerts_seen.store(
            self.store.last_alert_seq()?,
            std::sync::atomic::Ordering::SeqCst,
        );
        let confirmed: std::collections::HashSet<u64> = self
            .store
            .accounts()?
            .into_iter()
            .filter(|a| a.alerts_active())
            .map(|a| a.id)
            .collect();
        let df = self.anchor_doc_freq();
        let memo = std::cell::RefCell::new(std::collections::HashMap::<String, u64>::new());
        let cached = |k: &str| -> u64 {
            if let Some(&n) = memo.borrow().get(k) {
                return n;
            }
            let n = df(k);
            memo.borrow_mut().insert(k.to_string(), n);
            n
        };
        let synonyms = self.index.synonyms().get();
        let mut p = Percolator::new(self.index.zone().clone(), synonyms.clone());
        // A chunk at a time, so that a million alerts never sit decoded all at once.
        self.store
            .saved_searches_by_chunk(REBUILD_CHUNK, |searches| {
                // Parse the criteria in parallel; insert in id order.
                type Owner = (u64, u64, crate::domain::account::Frequency);
                let parsed: Vec<(
                    Owner,
                    SearchParams,
                    Option<crate::index::query::ParsedQuery>,
                )> = searches
                    .into_par_iter()
                    .filter(|s| s.alert && confirmed.contains(&s.account))
                    .filter_map(|s| s.params().ok().map(|p| ((s.id, s.account, s.frequency), p)))
                    .map_init(
                        || {
                            (
                                crate::index::schema::fr_stem(),
                                crate::index::schema::fr_exact(),
                            )
                        },
                        |(stem, exact), (id, p)| {
                            let q = p.q.as_deref().map(|q| {
                                crate::index::query::parse_with(q, stem, exact, &synonyms, &[])
                            });
                            (id, p, q)
                        },
                    )
                    .collect();
                for (id, params, query) in parsed {
                    p.insert_parsed(id.0, &params, query, &cached);
                    p.set_owner(id.0, id.1, id.2);
                }
                Ok(())
            })?;
        drop(confirmed);
        crate::index::give_back_free_memory();
        let n = p.len();
        *held = p;
        Ok(n)
    }

    /// Puts a saved search's alert in the percolator, or takes it out.
    pub fn refresh_alert(&self, s: &SavedSearch, confirmed: bool) -> Result<()> {
        let df = self.anchor_doc_freq();
        let mut p = self.percolator_mut();
        match s.params() {
            Ok(params) if s.alert && confirmed => {
                p.insert(s.id, &params, &df);
                p.set_owner(s.id, s.account, s.frequency);
            }
            _ => p.remove(s.id),
        }
        Ok(())
    }

    /// Refreshes every alert of an account (after a confirmation or an address change).
    pub fn refresh_alerts_of(&self, account: u64) -> Result<()> {
        let confirmed = self
            .store
            .account(account)?
            .is_some_and(|a| a.alerts_active());
        for s in self.store.saved_searches_of(account)? {
            self.refresh_alert(&s, confirmed)?;
        }
        Ok(())
    }

    /// The percolator, for reading.
    pub fn percolator(&self) -> std::sync::RwLockReadGuard<'_, Percolator> {
        self.percolator.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The percolator, for changing.
    pub fn percolator_mut(&self) -> std::sync::RwLockWriteGuard<'_, Percolator> {
        self.percolator.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// The portal's time zone.
    pub fn zone(&self) -> &Zone {
        self.index.zone()
    }

    /// Makes `list` the synonym list searches read keywords with, then rebuilds the percolator
    /// so that alerts read theirs with it too; returns the alerts held.
    pub fn set_synonyms(&self, list: Synonyms) -> Result<usize> {
        self.index.synonyms().set(list);
        self.rebuild_percolator()
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The index.
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// The index writer.
    pub fn indexer(&self) -> &IndexerHandle {
        &self.indexer
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// True when the index contains every logged change.
    pub fn caught_up(&self) -> Result<bool> {
        Ok(self.indexer.applied() >= self.store.last_seq()?)
    }

    /// Waits until the change `seq` is searchable.
    pub fn wait_indexed(&self, seq: u64, timeout: Duration) -> Result<()> {
        if self.indexer.wait_for(seq, timeout) {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "index did not reach change {seq} within {timeout:?}"
            )))
        }
    }

    /// Searches the visible offers.
    pub fn search_ids(&self, params: &SearchParams) -> Result<SearchHits> {
        self.index.search(params, self.now())
    }

    /// Searches the visible offers and loads the page's offers.
    pub fn search(&self, params: &SearchParams) -> Result<SearchPage> {
        let hits = self.search_ids(params)?;
        let offers = self.store.shared_offers(&hits.ids)?;
        Ok(SearchPage {
            total: hits.total,
            offers,
            facets: hits.facets,
            corrected: hits
                .corrected
                .into_iter()
                .map(|c| (c.typed, c.shown.to_lowercase()))
                .collect(),
            corrected_q: hits.corrected_q,
            did_you_mean: hits.did_you_mean,
        })
    }

    /// `q` with its typos corrected as a search reads it (`None` when nothing changes): what
    /// a saved search keeps, so that its alert does what the person saw.
    pub fn corrected_query(&self, q: &str) -> Result<Option<String>> {
        self.index.corrected_query(q)
    }

    /// Completions of what a person typed in the keyword box (empty until a server has filled
    /// the suggester).
    pub fn suggest(
        &self,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<crate::index::suggest::Suggestion>> {
        self.index
            .suggest(typed, self.now().unix_timestamp(), limit)
    }

    /// The visible offers most like `offer`, best first (never itself).
    pub fn similar(&self, offer: &Offer, limit: usize) -> Result<Vec<Arc<Offer>>> {
        let ids = self
            .index
            .similar(offer, self.now().unix_timestamp(), limit)?;
        self.store.shared_offers(&ids)
    }

    /// A visible offer by its reference (`None` when unknown, not published or expired).
    pub fn public_offer(&self, reference: &str) -> Result<Option<Offer>> {
        let now = self.now();
        Ok(self
            .store
            .public_offer_by_reference(reference)?
            .filter(|o| o.is_visible(now, self.zone())))
    }

    /// Creates offers in one durable transaction and hands them to the index.
    pub fn create_offers(&self, new: Vec<NewOffer>) -> Result<(Vec<Offer>, u64)> {
        self.create_offers_and(new, |_, _| Ok(()))
    }

    /// [`Engine::create_offers`] with `also` written in the same transaction.
    pub fn create_offers_and(
        &self,
        new: Vec<NewOffer>,
        also: impl FnOnce(&crate::store::Tx<'_>, &[Offer]) -> Result<()>,
    ) -> Result<(Vec<Offer>, u64)> {
        let (offers, seq) = self.store.create_offers_and(new, also)?;
        self.indexer.notify();
        Ok((offers, seq))
    }

    /// Changes one offer in one durable transaction and hands it to the index.
    pub fn update_offer(
        &self,
        id: u64,
        change: impl FnOnce(&mut Offer) -> Result<()>,
    ) -> Result<(Offer, u64)> {
        let r = self.store.update_offer(id, change)?;
        self.indexer.notify();
        Ok(r)
    }

    /// Deletes an offer when `allow` accepts it, and takes it out of the index.
    pub fn delete_offer(&self, id: u64, allow: impl FnOnce(&Offer) -> Result<()>) -> Result<u64> {
        let seq = self.store.delete_offer(id, allow)?;
        self.indexer.notify();
        Ok(seq)
    }

    /// Drops the index and rebuilds it from the store.
    pub fn rebuild_index(&self) -> Result<u64> {
        self.indexer.rebuild()
    }

    /// Commits what is pending and stops the writer; the store closes when dropped.
    pub fn shutdown(&self) {
        let follower = self
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((stop, handle)) = follower {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = handle.join();
        }
        // The other nodes take the work over at once.
        let works = std::mem::take(&mut *self.leases.lock().unwrap_or_else(|e| e.into_inner()));
        for work in works.into_keys() {
            if let Err(e) = self.store.release_lease(&work, &self.node) {
                tracing::warn!(error = %e, work, "lease not given back");
            }
        }
        if let Err(e) = self.store.release_claims(&self.node) {
            tracing::warn!(error = %e, "claims on alert mails not given back");
        }
        if let Err(e) = self.flush_stats() {
            tracing::error!(error = %e, "statistics not written");
        }
        self.indexer.shutdown();
    }

    /// Counts one event of an offer, today (local), in memory.
    pub fn count(&self, offer: u64, event: Event) {
        let day = day_number(self.zone().today(self.now()));
        let mut m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let c = m.entry((offer, day)).or_default();
        match event {
            Event::View => c.views += 1,
            Event::Click => c.clicks += 1,
            Event::Mail => c.mails += 1,
        }
    }

    /// Writes the counted statistics in one transaction (kept in memory if it fails).
    pub fn flush_stats(&self) -> Result<usize> {
        let batch: Vec<((u64, i32), Counts)> = {
            let mut m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            m.drain().collect()
        };
        if let Err(e) = self.store.add_stats(&batch) {
            let mut m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            for (k, c) in batch {
                m.entry(k).or_default().add(c);
            }
            return Err(e);
        }
        Ok(batch.len())
    }

    /// An offer's statistics per day (written and not yet written), in day order.
    pub fn offer_stats(&self, offer: u64) -> Result<Vec<(time::Date, Counts)>> {
        let mut days: std::collections::BTreeMap<i32, Counts> =
            self.store.offer_stats(offer)?.into_iter().collect();
        let m = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        for (&(o, day), c) in m.iter() {
            if o == offer {
                days.entry(day).or_default().add(*c);
            }
        }
        Ok(days.into_iter().map(|(d, c)| (day_date(d), c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::{Frequency, SavedSearch};
    use crate::testing::candidate;

    #[test]
    fn a_percolator_further_behind_than_the_alert_log_keeps_reads_every_alert_again() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let now = engine.now();
        engine.rebuild_percolator().unwrap();
        // Another node's alert, then changes dropped from the log before this node read them:
        // only a later change of some other account is left.
        engine
            .store()
            .write(|tx| {
                tx.put_account(&candidate(7, now))?;
                tx.put_saved_search(&SavedSearch {
                    id: 70,
                    account: 7,
                    name: "Stages".into(),
                    criteria: vec![("contract".into(), "stage".into())],
                    alert: true,
                    frequency: Frequency::Immediate,
                    created_at: now,
                })?;
                tx.alerts_changed(8)?;
                tx.drop_alert_changes_but_the_last()
            })
            .unwrap();
        assert!(engine.percolator().alerts_of(7).is_empty());
        engine.follow_changes().unwrap();
        assert_eq!(engine.percolator().alerts_of(7), [70]);
    }
}
