//! The single index writer: a thread that owns the tantivy `IndexWriter`, applies the store's
//! change log in batches, commits with the last applied sequence as payload, and reloads the
//! reader. Callers notify it after a store commit and may wait until a sequence is searchable.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tantivy::{IndexWriter, TantivyDocument, Term};
use time::OffsetDateTime;

use super::document::offer_document;
use super::suggest::Suggester;
use super::{CommitPayload, IndexState, SearchIndex};
use crate::domain::local_time::Zone;
use crate::domain::{Offer, OfferState};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::replica::Replica;

/// Longest a notified change waits before the writer looks at the log (batches bursts).
const BATCH_WINDOW: Duration = Duration::from_millis(25);
/// The writer looks at the log at least this often even without notification.
const POLL: Duration = Duration::from_millis(500);
/// Changes read from the log per step.
const STEP: usize = 20_000;
/// Indexing memory budget.
const WRITER_MEMORY: usize = 200_000_000;

enum Msg {
    Changed,
    /// A suggester filled from a snapshot of the store at this change-log sequence.
    Suggestions(Box<Suggester>, u64),
    Rebuild(mpsc::Sender<Result<u64>>),
    Shutdown,
}

#[derive(Default)]
struct Progress {
    applied: u64,
    last_commit: Option<OffsetDateTime>,
}

struct Shared {
    progress: Mutex<Progress>,
    cond: Condvar,
}

/// Handle on the writer thread.
pub struct IndexerHandle {
    tx: Mutex<mpsc::Sender<Msg>>,
    store: Arc<Store>,
    zone: Zone,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Indexer {
    index: SearchIndex,
    writer: IndexWriter<TantivyDocument>,
    store: Arc<Store>,
    /// A shared store's node-local copy of the offers, kept with the index.
    replica: Option<Arc<Replica>>,
    shared: Arc<Shared>,
    applied: u64,
    analyzers: super::suggest::Analyzers,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain counters behind: keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Indexer {
    fn add(&mut self, offer: &crate::domain::Offer) -> Result<()> {
        if offer.state == OfferState::Published {
            self.writer.add_document(offer_document(
                offer,
                self.index.schema,
                self.index.zone(),
            ))?;
        }
        Ok(())
    }

    /// Keeps the suggester in step with the offers just applied (once it is filled).
    fn suggest(&mut self, offers: &[crate::domain::Offer], changed: &[u64]) {
        let mut s = self
            .index
            .suggester
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if !s.is_ready() {
            return;
        }
        for &id in changed {
            s.remove(id);
        }
        for o in offers {
            if o.state == OfferState::Published {
                s.insert(o, &mut self.analyzers, self.index.zone());
            }
        }
    }

    /// Brings a suggester filled at `seq` up to the store's latest changes and makes it the
    /// one searches read.
    fn install_suggestions(&mut self, mut s: Suggester, mut seq: u64) -> Result<()> {
        loop {
            let changes = self.store.changes_after(seq, STEP)?;
            let Some(&(last, _)) = changes.last() else {
                break;
            };
            let ids: Vec<u64> = changes.iter().map(|&(_, id)| id).collect();
            for &id in &ids {
                s.remove(id);
            }
            for o in self.store.offers(&ids)? {
                if o.state == OfferState::Published {
                    s.insert(&o, &mut self.analyzers, self.index.zone());
                }
            }
            seq = last;
        }
        *self
            .index
            .suggester
            .write()
            .unwrap_or_else(|p| p.into_inner()) = s;
        Ok(())
    }

    fn commit(&mut self, seq: u64) -> Result<()> {
        let payload = CommitPayload {
            schema_version: self.index.schema.version,
            time_zone: self.index.zone().name().to_string(),
            seq,
            codes: super::codes_now(),
        };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload)?);
        prepared.commit()?;
        self.index.reader.reload()?;
        self.applied = seq;
        let mut p = lock(&self.shared.progress);
        p.applied = seq;
        p.last_commit = Some(OffsetDateTime::now_utc());
        self.shared.cond.notify_all();
        Ok(())
    }

    fn rebuild(&mut self) -> Result<u64> {
        let started = Instant::now();
        self.writer.delete_all_documents()?;
        let mut count = 0u64;
        let store = self.store.clone();
        let replica = self.replica.clone();
        if let Some(r) = &replica {
            r.clear()?;
        }
        let mut copied: Vec<Offer> = Vec::new();
        let seq = store.for_each_offer(|offer| {
            if offer.state == OfferState::Published {
                count += 1;
            }
            self.add(&offer)?;
            if let Some(r) = &replica {
                copied.push(offer);
                if copied.len() >= 1000 {
                    r.apply(&[], &std::mem::take(&mut copied))?;
                }
            }
            Ok(())
        })?;
        if let Some(r) = &replica {
            r.apply(&[], &copied)?;
        }
        self.commit(seq)?;
        let filled = self.index.suggester.read().is_ok_and(|s| s.is_ready());
        if filled {
            let (s, at) = filled_from(&self.store, self.index.zone())?;
            self.install_suggestions(s, at)?;
        }
        tracing::info!(
            documents = count,
            seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index rebuilt from the store"
        );
        Ok(seq)
    }

    /// Applies every logged change after the last applied one; commits once if any.
    fn catch_up(&mut self) -> Result<()> {
        let mut seq = self.applied;
        loop {
            let changes = self.store.changes_after(seq, STEP)?;
            let Some(&(last, _)) = changes.last() else {
                break;
            };
            let ids: Vec<u64> = changes.iter().map(|&(_, id)| id).collect();
            let offers = self.store.offers(&ids)?;
            // The node's copy first (durable before the index commits: never behind it), then
            // no decoded copy of the old versions stays (another node may have changed them).
            if let Some(r) = &self.replica {
                r.apply(&ids, &offers)?;
            }
            self.store.forget_offers(&ids);
            for &id in &ids {
                self.writer
                    .delete_term(Term::from_field_u64(self.index.schema.id, id));
            }
            // An id changed twice in this step is added once, in its latest state.
            let mut seen = std::collections::HashSet::new();
            for offer in offers.iter() {
                if seen.insert(offer.id) {
                    self.add(offer)?;
                }
            }
            self.suggest(&offers, &ids);
            seq = last;
        }
        if seq > self.applied {
            self.commit(seq)?;
        }
        Ok(())
    }

    fn suggestions_logged(&mut self, s: Suggester, seq: u64) {
        if let Err(e) = self.install_suggestions(s, seq) {
            tracing::error!(error = %e, "suggestions not installed");
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            let msg = rx.recv_timeout(POLL);
            let mut shutdown = false;
            match msg {
                Ok(Msg::Changed) => {
                    std::thread::sleep(BATCH_WINDOW);
                    for m in rx.try_iter() {
                        match m {
                            Msg::Changed => {}
                            Msg::Suggestions(s, seq) => self.suggestions_logged(*s, seq),
                            Msg::Rebuild(reply) => {
                                let _ = reply.send(self.rebuild());
                            }
                            Msg::Shutdown => shutdown = true,
                        }
                    }
                }
                Ok(Msg::Rebuild(reply)) => {
                    let _ = reply.send(self.rebuild());
                    continue;
                }
                Ok(Msg::Suggestions(s, seq)) => self.suggestions_logged(*s, seq),
                Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => shutdown = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Err(e) = self.catch_up() {
                tracing::error!(error = %e, applied = self.applied, "index catch-up failed; will retry");
            }
            if shutdown {
                break;
            }
        }
        if let Err(e) = self.writer.wait_merging_threads() {
            tracing::warn!(error = %e, "index merges did not finish cleanly");
        }
    }
}

/// A suggester of every published offer of a snapshot of the store, and the snapshot's
/// change-log sequence.
fn filled_from(store: &Store, zone: &Zone) -> Result<(Suggester, u64)> {
    let started = Instant::now();
    let mut s = Suggester::default();
    let mut analyzers = super::suggest::Analyzers::default();
    let seq = store.for_each_offer(|offer| {
        if offer.state == OfferState::Published {
            s.insert(&offer, &mut analyzers, zone);
        }
        Ok(())
    })?;
    s.set_ready();
    tracing::info!(
        completions = s.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "suggestions filled from the store"
    );
    Ok((s, seq))
}

impl IndexerHandle {
    /// Starts the writer: rebuilds the index from the store when `state` says so, otherwise
    /// replays the change log after the index's last sequence, then runs in its own thread.
    pub fn start(
        index: SearchIndex,
        store: Arc<Store>,
        state: IndexState,
        replica: Option<Arc<Replica>>,
    ) -> Result<IndexerHandle> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get().min(4))
            .unwrap_or(1);
        let writer = index
            .index
            .writer_with_num_threads(threads, WRITER_MEMORY.max(threads * 20_000_000))?;
        let shared = Arc::new(Shared {
            progress: Mutex::new(Progress::default()),
            cond: Condvar::new(),
        });
        let zone = index.zone().clone();
        let mut indexer = Indexer {
            index,
            writer,
            store: store.clone(),
            replica,
            shared: shared.clone(),
            applied: 0,
            analyzers: Default::default(),
        };
        match state {
            IndexState::NeedsRebuild => {
                indexer.rebuild()?;
            }
            IndexState::Current { seq } => {
                indexer.applied = seq;
                lock(&shared.progress).applied = seq;
                indexer.catch_up()?;
            }
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || indexer.run(rx))?;
        Ok(IndexerHandle {
            tx: Mutex::new(tx),
            store,
            zone,
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Fills the suggester from the store in a thread of its own (the writer goes on indexing
    /// meanwhile), then hands it to the writer, which brings it up to date and keeps it so (a
    /// server does; commands do without).
    pub fn fill_suggestions(&self) {
        let (store, zone, tx) = (
            self.store.clone(),
            self.zone.clone(),
            lock(&self.tx).clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("suggestions".into())
            .spawn(move || {
                match filled_from(&store, &zone) {
                    Ok((s, seq)) => {
                        let _ = tx.send(Msg::Suggestions(Box::new(s), seq));
                    }
                    Err(e) => tracing::error!(error = %e, "suggestions not filled"),
                }
                // Reading every offer left freed memory in the allocator: give it back.
                give_back_free_memory();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "suggestions not filled");
        }
    }

    fn send(&self, m: Msg) -> bool {
        lock(&self.tx).send(m).is_ok()
    }

    /// Tells the writer the change log has grown.
    pub fn notify(&self) {
        self.send(Msg::Changed);
    }

    /// Last change-log sequence that is searchable.
    pub fn applied(&self) -> u64 {
        lock(&self.shared.progress).applied
    }

    /// Time of the last commit.
    pub fn last_commit(&self) -> Option<OffsetDateTime> {
        lock(&self.shared.progress).last_commit
    }

    /// Waits until `seq` is searchable; false on timeout.
    pub fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut p = lock(&self.shared.progress);
        while p.applied < seq {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            p = match self.shared.cond.wait_timeout(p, deadline - now) {
                Ok((g, _)) => g,
                Err(poison) => poison.into_inner().0,
            };
        }
        true
    }

    /// Drops every document and reindexes the store; returns the sequence it contains.
    pub fn rebuild(&self) -> Result<u64> {
        let (reply, answer) = mpsc::channel();
        if !self.send(Msg::Rebuild(reply)) {
            return Err(Error::Internal("index writer stopped".into()));
        }
        answer
            .recv()
            .map_err(|_| Error::Internal("index writer stopped".into()))?
    }

    /// Applies what is pending, commits and stops the writer thread.
    pub fn shutdown(&self) {
        self.send(Msg::Shutdown);
        if let Some(t) = lock(&self.thread).take()
            && t.join().is_err()
        {
            tracing::error!("index writer thread panicked");
        }
    }
}

impl Drop for IndexerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Gives the memory the allocator holds free back to the system, after work that read a whole
/// table (glibc keeps it otherwise).
pub fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}
