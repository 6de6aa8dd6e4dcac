//! PostgreSQL as the system of record, for several nodes: a small pool of connections (each
//! keeping its prepared statements), the versioned schema migrations of `migrations/`, write
//! transactions serialized by one advisory lock (the embedded store's single writer, across
//! nodes: counters, references and the change log stay gapless and in commit order), read
//! transactions on one snapshot, and the `LISTEN/NOTIFY` wake-ups of the change log.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub(crate) mod tables;
mod tls;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Statement};

use crate::error::{Error, Result};
use crate::store::table::Param;

/// The channel a commit that logged a change notifies.
pub(crate) const CHANNEL: &str = "offerwatch_changes";
/// The advisory lock every write transaction holds until it ends.
const WRITERS_LOCK: i64 = 0x6f66_6665_7277;
/// The advisory lock held while migrating the schema.
const MIGRATION_LOCK: i64 = 0x6f66_6d69_6772;
/// Connections a node opens at most.
const MAX_CONNECTIONS: usize = 16;

/// The schema migrations, in order: (version, SQL).
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_tables.sql")),
    (2, include_str!("migrations/0002_alert_claims.sql")),
    (3, include_str!("migrations/0003_mail_pending.sql")),
    (
        4,
        include_str!("migrations/0004_claim_columns_from_rust.sql"),
    ),
    (5, include_str!("migrations/0005_reports.sql")),
    (6, include_str!("migrations/0006_administrations.sql")),
    (7, include_str!("migrations/0007_offer_applications.sql")),
];

/// Seconds a client is told to wait while the database cannot be reached.
const RETRY_AFTER_OUTAGE: u64 = 5;

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        if unreachable(&e) {
            tracing::debug!(error = %e, "the database cannot be reached");
            return Error::Unavailable("the database cannot be reached".into(), RETRY_AFTER_OUTAGE);
        }
        Error::failed("store (postgresql)", e)
    }
}

/// Whether an error says that the database is away (not reachable, shutting down, a
/// connection lost) rather than that a statement failed: writes, logins and private pages
/// then answer 503 while what the node holds keeps answering.
fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // 08: connection exception; 57P01-03: shutting down, crashed, not accepting yet.
        return code.starts_with("08") || code.starts_with("57P");
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            // A refused certificate is a setting to fix, not an outage.
            return io.kind() != std::io::ErrorKind::InvalidData;
        }
        cause = c.source();
    }
    let text = e.to_string();
    text.starts_with("error connecting to server") || text.contains("timed out")
}

/// One connection and the statements it prepared.
pub(crate) struct PgConn {
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl PgConn {
    fn connect(config: &postgres::Config, tls: &tls::Tls) -> Result<PgConn> {
        Ok(PgConn {
            client: tls.connect(config)?,
            prepared: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs a statement that returns rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<postgres::Row>> {
        let s = self.statement(sql)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref() as _).collect();
        Ok(self.client.query(&s, &refs)?)
    }

    /// Runs a statement; returns the rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let s = self.statement(sql)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref() as _).collect();
        Ok(self.client.execute(&s, &refs)?)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }
}

/// A database shared by the nodes.
pub(crate) struct Pg {
    config: postgres::Config,
    /// TLS of the connections (`sslmode`, `sslrootcert` of the URL).
    tls: tls::Tls,
    idle: Mutex<(Vec<PgConn>, usize)>,
    freed: Condvar,
    /// One writer of this node at a time waits for the writers' lock: writers queued on it
    /// would otherwise hold every connection while the one holding the lock waits for a
    /// connection to read with.
    writer: Mutex<()>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Closing a connection waits on the client's own event loop too.
        // Closing a connection waits on the client's own event loop, which may not run on a
        // thread that drives async tasks: there, they are closed on a thread of their own.
        let idle = std::mem::take(&mut self.idle.lock().unwrap_or_else(|e| e.into_inner()).0);
        if crate::blocking::may_block() {
            drop(idle);
        } else {
            std::thread::spawn(move || drop(idle));
        }
    }
}

/// What a write transaction asks to do before it commits.
#[derive(Default)]
pub(crate) struct Notify {
    /// The change log grew.
    pub(crate) changed: std::cell::Cell<bool>,
}

impl Pg {
    /// Connects to `url` and brings the schema up to date.
    pub(crate) fn connect(url: &str) -> Result<Pg> {
        let (url, tls) = tls::from_url(url)?;
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| Error::Store(format!("database_url: not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            // A database that does not answer is an outage, told in seconds, not minutes.
            config.connect_timeout(Duration::from_secs(5));
        }
        let pg = Pg {
            config,
            tls,
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            writer: Mutex::new(()),
        };
        crate::blocking::check("connecting to the database")?;
        pg.migrate()?;
        Ok(pg)
    }

    fn migrate(&self) -> Result<()> {
        let mut c = self.take()?;
        let r = (|| {
            c.batch(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            ))?;
            let applied: Vec<i32> = c
                .client
                .query("SELECT version FROM schema_migrations", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for (version, sql) in MIGRATIONS {
                if !applied.contains(version) {
                    c.batch(sql)?;
                    c.client.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[version],
                    )?;
                }
            }
            if let Some(newer) = applied
                .iter()
                .find(|v| !MIGRATIONS.iter().any(|m| m.0 == **v))
            {
                return Err(Error::Store(format!(
                    "the database has schema version {newer}, unknown to this version of offerwatch"
                )));
            }
            c.batch("COMMIT")
        })();
        if r.is_err() {
            let _ = c.batch("ROLLBACK");
        }
        self.give_back(c);
        r
    }

    fn take(&self) -> Result<PgConn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = idle.0.pop() {
                return Ok(c);
            }
            if idle.1 < MAX_CONNECTIONS {
                idle.1 += 1;
                drop(idle);
                return PgConn::connect(&self.config, &self.tls).inspect_err(|_| {
                    self.idle.lock().unwrap_or_else(|e| e.into_inner()).1 -= 1;
                });
            }
            idle = self.freed.wait(idle).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, c: PgConn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if c.client.is_closed() {
            idle.1 -= 1;
        } else {
            idle.0.push(c);
        }
        self.freed.notify_one();
    }

    /// Runs `f` in one transaction holding the writers' lock; commits when it returns `Ok`
    /// (notifying the other nodes when it logged a change), rolls back otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&RefCell<PgConn>, &Notify) -> Result<T>,
    ) -> Result<T> {
        crate::blocking::check("a database transaction")?;
        self.write_here(f)
    }

    fn write_here<T>(&self, f: impl FnOnce(&RefCell<PgConn>, &Notify) -> Result<T>) -> Result<T> {
        let _one_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = self.take()?;
        let r = c.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITERS_LOCK})"
        ));
        let cell = RefCell::new(c);
        let notify = Notify::default();
        let out = r.and_then(|()| f(&cell, &notify));
        let mut c = cell.into_inner();
        let out = match out {
            Ok(v) => {
                let end = if notify.changed.get() {
                    format!("SELECT pg_notify('{CHANNEL}', ''); COMMIT")
                } else {
                    "COMMIT".to_string()
                };
                c.batch(&end).map(|()| v)
            }
            Err(e) => {
                let _ = c.batch("ROLLBACK");
                Err(e)
            }
        };
        self.give_back(c);
        out
    }

    /// Runs `f` in one transaction that does not take the writers' lock: for statements that
    /// lock the rows they touch (claims of work rows), which nodes run at once.
    pub(crate) fn claim<T>(&self, f: impl FnOnce(&mut PgConn) -> Result<T>) -> Result<T> {
        crate::blocking::check("a database transaction")?;
        let mut c = self.take()?;
        let out = c.batch("BEGIN").and_then(|()| f(&mut c));
        let end = c.batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        self.give_back(c);
        let out = out?;
        end?;
        Ok(out)
    }

    /// Runs `f` on one consistent snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&RefCell<PgConn>) -> Result<T>) -> Result<T> {
        crate::blocking::check("a database transaction")?;
        self.read_here(f)
    }

    fn read_here<T>(&self, f: impl FnOnce(&RefCell<PgConn>) -> Result<T>) -> Result<T> {
        let mut c = self.take()?;
        let r = c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        let cell = RefCell::new(c);
        let out = r.and_then(|()| f(&cell));
        let mut c = cell.into_inner();
        let end = c.batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        self.give_back(c);
        let out = out?;
        end?;
        Ok(out)
    }

    /// Calls `wake` whenever a node commits a change (`NOTIFY`), and every `poll` anyway (a
    /// lost connection, a missed notification), until `stop` is set. Runs on its own thread
    /// with its own connection; a lost connection is opened again.
    pub(crate) fn follow(
        &self,
        poll: Duration,
        stop: Arc<AtomicBool>,
        wake: impl Fn() + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let (config, tls) = (self.config.clone(), self.tls.clone());
        std::thread::Builder::new()
            .name("pg-follow".into())
            .spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let mut client = match tls.connect(&config) {
                        Ok(mut c) => match c.batch_execute(&format!("LISTEN {CHANNEL}")) {
                            Ok(()) => c,
                            Err(e) => {
                                tracing::warn!("listening to the change log: {e}");
                                std::thread::sleep(poll);
                                continue;
                            }
                        },
                        Err(e) => {
                            tracing::warn!("connecting to follow the change log: {e}");
                            wake();
                            std::thread::sleep(poll);
                            continue;
                        }
                    };
                    while !stop.load(Ordering::SeqCst) {
                        let mut n = client.notifications();
                        let got = n.timeout_iter(poll).next();
                        match got {
                            Ok(_) => {
                                // Drain what else arrived: one catch-up for them all.
                                while let Ok(Some(_)) = n.iter().next() {}
                            }
                            Err(e) => {
                                tracing::warn!("change notifications: {e}");
                                break;
                            }
                        }
                        wake();
                    }
                }
            })
            .expect("spawn the change-log follower")
    }
}
