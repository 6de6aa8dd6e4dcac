//! Every background loop of a server: the percolator (newly published offers into the outbox,
//! a slice at a time), the mailer (the account mails that are due, then the alert mails), and
//! the end-of-diffusion archiver. Started once by the composition root (`app`). When several
//! nodes share a database, each work is done by the node holding its lease, and taken over by
//! another when that node stops renewing it; alert mails are claimed a batch at a time, so that
//! every node sends them at once. Each loop ends its round and stops when the server stops
//! ([`Running::stop`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::backoffice::Backoffice;
use crate::candidates::{AlertMailSettings, Round, percolate_pending, send_alerts};
use crate::engine::Engine;
use crate::mail::{Transport, send_due};

/// What the workers need to know.
#[derive(Clone)]
pub struct Workers {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Where mails go.
    pub transport: Option<Transport>,
    /// The `From:` of every mail.
    pub from: String,
    /// The alert mails' links and digest hour.
    pub alerts: AlertMailSettings,
    /// Wakes the mailer when a request queued something.
    pub mail_wake: Arc<Notify>,
    /// Time between two archiver rounds.
    pub archive_every: Duration,
    /// Time between two polls of the partner feeds.
    pub sources_every: Duration,
    /// The addresses partner feeds may be fetched from.
    pub outbound: crate::backoffice::outbound::Outbound,
    /// The synonym list to reload when it changes.
    pub synonyms_file: Option<std::path::PathBuf>,
}

/// The running loops, until [`Running::stop`].
pub struct Running {
    stop: watch::Sender<bool>,
    loops: JoinSet<()>,
}

impl Running {
    /// Asks every loop to stop, and waits until each has finished its round.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while let Some(ended) = self.loops.join_next().await {
            if let Err(e) = ended {
                tracing::error!(error = %e, "a background loop failed");
            }
        }
    }

    /// Loops still running.
    pub fn len(&self) -> usize {
        self.loops.len()
    }

    /// Whether no loop runs.
    pub fn is_empty(&self) -> bool {
        self.loops.is_empty()
    }

    /// Tells, to a task of the caller's, when the loops are asked to stop.
    pub fn stopping(&self) -> Stop {
        Stop(self.stop.subscribe())
    }
}

/// Tells a loop that the server stops.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Waits until the server stops.
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether the server stops.
    fn asked(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits `d`, or until the server stops: `true` when it stops.
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = self.wait() => true,
            _ = tokio::time::sleep(d) => false,
        }
    }

    /// Waits for `wake` or `d`, or until the server stops: `true` when it stops.
    async fn pause_or(&mut self, wake: &Notify, d: Duration) -> bool {
        tokio::select! {
            _ = self.wait() => true,
            _ = wake.notified() => false,
            _ = tokio::time::sleep(d) => false,
        }
    }
}

impl Workers {
    /// Starts every loop on the current runtime.
    pub fn spawn(self) -> Running {
        let (stop, stopping) = watch::channel(false);
        let stopping = Stop(stopping);
        let mut loops = JoinSet::new();
        let sender_wake = Arc::new(Notify::new());
        loops.spawn(percolator(
            self.clone(),
            sender_wake.clone(),
            stopping.clone(),
        ));
        match self.transport.clone() {
            Some(transport) => {
                loops.spawn(mailer(
                    self.clone(),
                    transport,
                    sender_wake,
                    stopping.clone(),
                ));
            }
            None => tracing::error!("mail transport unusable: mails stay queued"),
        }
        if let Some(file) = self.synonyms_file.clone() {
            loops.spawn(synonyms_watcher(
                self.engine.clone(),
                file,
                stopping.clone(),
            ));
        }
        loops.spawn(stats_writer(self.engine.clone(), stopping.clone()));
        loops.spawn(sources_poller(
            self.engine.clone(),
            self.sources_every,
            self.outbound.clone(),
            stopping.clone(),
        ));
        loops.spawn(archiver(self, stopping));
        Running { stop, loops }
    }
}

/// Works done by one node at a time when several share a database (leases).
const PERCOLATING: &str = "percolating";
const MAILING: &str = "mailing";
const ARCHIVING: &str = "archiving";
const POLLING_FEEDS: &str = "polling-feeds";

/// Whether this node is the one to do `work` now (off the async threads: it asks the store).
async fn holds(engine: &Arc<Engine>, work: &'static str) -> bool {
    let e = engine.clone();
    crate::blocking::run(move || e.holds(work))
        .await
        .unwrap_or(false)
}

/// Polls every partner feed, then waits.
async fn sources_poller(
    engine: Arc<Engine>,
    every: Duration,
    outbound: crate::backoffice::outbound::Outbound,
    mut stop: Stop,
) {
    let client = crate::backoffice::sources::feed_client(&outbound);
    loop {
        if stop.pause(every).await {
            return;
        }
        if !holds(&engine, POLLING_FEEDS).await {
            continue;
        }
        if let Err(e) = crate::backoffice::sources::poll_all(&engine, (&client, &outbound)).await {
            tracing::error!(error = %e, "partner feeds not polled");
        }
    }
}

/// How often counted statistics are written.
const STATS_EVERY: Duration = Duration::from_secs(5);

/// Writes the statistics counted in memory, in one transaction every few seconds.
/// The last counts are written when the server stops.
async fn stats_writer(engine: Arc<Engine>, mut stop: Stop) {
    loop {
        let stopping = stop.pause(STATS_EVERY).await;
        let e = engine.clone();
        // Nodes sharing a database learn the administrations another one added or renamed.
        match crate::blocking::run(move || {
            if e.store().is_shared() {
                e.store().install_administrations()?;
            }
            e.flush_stats()
        })
        .await
        {
            Ok(Err(e)) | Err(e) => {
                tracing::error!(error = %e, "statistics not written; kept for the next round")
            }
            Ok(Ok(_)) => {}
        }
        if stopping {
            return;
        }
    }
}

/// How often the synonym list's file is looked at.
const SYNONYMS_CHECK: Duration = Duration::from_secs(2);

/// Reloads the synonym list when its file changes (modification time or size), then
/// re-reads every alert with it; a list that does not parse is logged and the previous one
/// kept.
async fn synonyms_watcher(engine: Arc<Engine>, file: std::path::PathBuf, mut stop: Stop) {
    let stamp = |f: &std::path::Path| {
        std::fs::metadata(f)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let mut seen = stamp(&file);
    loop {
        if stop.pause(SYNONYMS_CHECK).await {
            return;
        }
        let now = stamp(&file);
        if now == seen {
            continue;
        }
        seen = now;
        let (f, e) = (file.clone(), engine.clone());
        let outcome = crate::blocking::run(move || {
            let list = crate::index::synonyms::Synonyms::load(&f)?;
            let groups = list.len();
            e.set_synonyms(list)
                .map(|alerts| (groups, alerts))
                .map_err(|e| e.to_string())
        })
        .await;
        match outcome {
            Ok(Ok((groups, alerts))) => {
                tracing::info!(groups, alerts, file = %file.display(), "synonyms reloaded")
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "synonyms not reloaded: the previous list stays")
            }
            Err(e) => tracing::error!(error = %e, "synonyms reload failed"),
        }
    }
}

/// Percolates newly published offers when a request wakes it and at least every 250 ms,
/// waking the sender after each slice of matches written; goes round at once while there is
/// work.
async fn percolator(w: Workers, sender_wake: Arc<Notify>, mut stop: Stop) {
    loop {
        let (e, wake) = (w.engine.clone(), sender_wake.clone());
        let started = std::time::Instant::now();
        let round = crate::blocking::run(move || {
            if !e.holds(PERCOLATING) {
                return Ok(Round::default());
            }
            // Alerts created on another node a moment before the offer was published are
            // taken first (their change committed before the offer's).
            if e.store().is_shared() {
                e.follow_changes()?;
            }
            // Each slice written renews the lease (a long round is not taken over).
            percolate_pending(&e, &|| {
                e.holds(PERCOLATING);
                wake.notify_one()
            })
        })
        .await;
        // A request may also have queued an account mail.
        sender_wake.notify_one();
        match round {
            // More may be waiting: the next round at once.
            Ok(Ok(r)) if r.changes > 0 => {
                if r.offers > 0 {
                    tracing::info!(
                        offers = r.offers,
                        matches = r.matches,
                        ms = started.elapsed().as_millis() as u64,
                        "offers percolated"
                    );
                }
                if !stop.asked() {
                    continue;
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "percolation failed");
                wait_while_away(&e, &mut stop).await;
            }
            Err(e) => tracing::error!(error = %e, "percolation failed"),
            _ => {}
        }
        if stop
            .pause_or(&w.mail_wake, Duration::from_millis(250))
            .await
        {
            return;
        }
    }
}

/// After an error saying that the database is away, waits the time it gives before the next
/// round (rather than retrying, and logging, several times a second), or until the server
/// stops.
async fn wait_while_away(e: &crate::Error, stop: &mut Stop) {
    if let crate::Error::Unavailable(_, seconds) = e {
        stop.pause(Duration::from_secs(*seconds)).await;
    }
}

/// Sends due account mails and alert mails when the percolator wakes it and at least every
/// 250 ms; goes round at once while there is work. With a shared store, the account mails are
/// sent by the node holding their lease, and every node sends the alert mails it claimed.
async fn mailer(w: Workers, transport: Transport, wake: Arc<Notify>, mut stop: Stop) {
    loop {
        let mut busy = false;
        if holds(&w.engine, MAILING).await {
            match send_due(
                w.engine.store(),
                w.engine.now(),
                &transport,
                &w.from,
                &w.alerts.links.host(),
            )
            .await
            {
                Ok(n) => busy |= n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "mail sender round failed");
                    wait_while_away(&e, &mut stop).await;
                }
            }
        }
        match send_alerts(&w.engine, &transport, &w.from, &w.alerts).await {
            Ok(n) => busy |= n > 0,
            Err(e) => {
                tracing::error!(error = %e, "alert sender round failed");
                wait_while_away(&e, &mut stop).await;
            }
        }
        if busy && !stop.asked() {
            continue;
        }
        if stop.pause_or(&wake, Duration::from_millis(250)).await {
            return;
        }
    }
}

/// How often the retention rules are applied.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Archives the offers whose diffusion has ended, every `archive_every`; applies the
/// retention rules of personal data at the first round, then about once an hour.
async fn archiver(w: Workers, mut stop: Stop) {
    let mut retained: Option<std::time::Instant> = None;
    // The local day whose scheduled publications are done.
    let mut scheduled_day: Option<time::Date> = None;
    loop {
        let e = w.engine.clone();
        let links = w.alerts.links.clone();
        let retention_due = retained.is_none_or(|t| t.elapsed() >= RETENTION_EVERY);
        let today = w.engine.zone().today(w.engine.now());
        let publish_due = scheduled_day != Some(today);
        let r = crate::blocking::run(move || {
            if !e.holds(ARCHIVING) {
                return Ok::<_, crate::Error>((0, false, false));
            }
            // At local midnight: the drafts scheduled for the new day go public.
            let published = publish_due
                && match Backoffice::with_links(&e, links.clone()).publish_scheduled() {
                    Ok(_) => true,
                    Err(err) => {
                        tracing::warn!(error = %err, "scheduled publications not done");
                        false
                    }
                };
            if retention_due {
                match crate::candidates::Candidates::with_links(&e, links.clone(), 0)
                    .apply_retention()
                {
                    Ok(p) if p != crate::candidates::Purged::default() => {
                        tracing::info!(purged = ?p, "retention rules applied")
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "retention rules not applied"),
                }
            }
            Ok((
                Backoffice::with_links(&e, links).archive_expired()?,
                retention_due,
                published,
            ))
        })
        .await;
        match r {
            Ok(Err(e)) => tracing::error!(error = %e, "archiving expired offers failed"),
            Ok(Ok((_, retained_now, published))) => {
                if retained_now {
                    retained = Some(std::time::Instant::now());
                }
                if published {
                    scheduled_day = Some(today);
                }
            }
            _ => {}
        }
        if stop.pause(w.archive_every).await {
            return;
        }
    }
}
