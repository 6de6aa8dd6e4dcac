//! Saved searches, the record of percolated offers, and the alert outbox keyed by
//! (saved search, offer): a match is written in the same transaction that records the offer as
//! percolated, so a crash neither loses nor doubles it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kv::{AnyTable, View};
use super::mails::MailState;
use super::table::Table;
use super::tx::{Tx, record, second_parts};
use super::{Db, Store, unix_ms};
use crate::domain::account::{Frequency, SavedSearch};
use crate::error::{Error, Result};

const SEARCHES: Table<u64, &[u8]> = Table::new("saved_searches", &["id"], &["body"]);
const ACCOUNT_SEARCHES: Table<(u64, u64), ()> =
    Table::new("account_searches", &["account_id", "search_id"], &[]);
/// Offers whose first publication was percolated → when.
const PERCOLATED: Table<u64, i64> = Table::new("percolated", &["offer_id"], &["at"]);
/// (saved search, offer) → outbox row.
const OUTBOX: Table<(u64, u64), &[u8]> =
    Table::new("alert_outbox", &["search_id", "offer_id"], &["body"]);
/// The outbox rows still pending, (saved search, offer) → row: the sender reads only these,
/// not every mail ever sent.
const PENDING: Table<(u64, u64), &[u8]> =
    Table::new("alert_pending", &["search_id", "offer_id"], &["body"]);
/// Change log of alerts: sequence → account whose saved searches changed (other nodes'
/// percolators follow it).
const ALERT_CHANGES: Table<u64, u64> = Table::new("alert_changes", &["seq"], &["account_id"]);
/// Changes of alerts kept: each new one drops the one this many before it. A node that fell
/// further behind (it finds a gap) reads every alert again.
pub const ALERT_CHANGES_KEPT: u64 = 100_000;
/// Set once the pending table holds every pending row of the outbox (stores made before it
/// existed are brought up to date when opened).
const PENDING_FILLED: &str = "alert_pending_filled";

pub(super) fn tables() -> [&'static dyn AnyTable; 6] {
    [
        &SEARCHES,
        &ACCOUNT_SEARCHES,
        &PERCOLATED,
        &OUTBOX,
        &PENDING,
        &ALERT_CHANGES,
    ]
}

/// Fills the pending table of a store made before it existed; in a shared store, the claim
/// columns of the pending rows written without them.
pub(super) fn bring_up_to_date(v: &View<'_>) -> Result<()> {
    super::fill_once(v, PENDING_FILLED, &OUTBOX, &PENDING, |b| {
        let row: OutboxRow = de(b)?;
        Ok((row.state == MailState::Pending).then(|| b.clone()))
    })?;
    if let View::Pg(c) = v {
        let bodies = c
            .borrow_mut()
            .query("SELECT body FROM alert_pending WHERE created_at = 0", &[])?;
        let rows = bodies
            .iter()
            .map(|r| de::<OutboxRow>(r.get(0)))
            .collect::<Result<Vec<_>>>()?;
        set_claim_columns(v, rows.iter())?;
    }
    Ok(())
}

/// Writes pending rows; in a shared store, with the columns that the claims read (when each
/// row is due, whether it is a daily digest's, when it was made) taken from the row, and the
/// claim of a rewritten row given up (an attempt was settled).
fn put_pending<'r>(
    v: &View<'_>,
    rows: &[((u64, u64), Vec<u8>)],
    records: impl Iterator<Item = &'r OutboxRow>,
) -> Result<()> {
    v.put_many(&PENDING, rows)?;
    set_claim_columns(v, records)
}

/// The claim columns of pending rows (a shared store; nothing otherwise), in one statement.
fn set_claim_columns<'r>(v: &View<'_>, rows: impl Iterator<Item = &'r OutboxRow>) -> Result<()> {
    let View::Pg(c) = v else {
        return Ok(());
    };
    let (mut search, mut offer, mut due, mut daily, mut created) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        search.push(r.search as i64);
        offer.push(r.offer as i64);
        due.push(unix_ms(r.next_attempt_at));
        daily.push(r.frequency == Frequency::Daily);
        created.push(unix_ms(r.created_at));
    }
    if search.is_empty() {
        return Ok(());
    }
    c.borrow_mut().execute(
        "UPDATE alert_pending p SET due_at = u.due_at, daily = u.daily,
             created_at = u.created_at, claimed_by = NULL, claimed_until = 0
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::boolean[], $5::bigint[])
             AS u(search_id, offer_id, due_at, daily, created_at)
         WHERE p.search_id = u.search_id AND p.offer_id = u.offer_id",
        &[
            Box::new(search),
            Box::new(offer),
            Box::new(due),
            Box::new(daily),
            Box::new(created),
        ],
    )?;
    Ok(())
}

/// One match waiting to be mailed (or mailed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// The saved search (alert).
    pub search: u64,
    /// The matched offer.
    pub offer: u64,
    /// The account it belongs to.
    pub account: u64,
    /// Immediate mails or a daily digest.
    pub frequency: Frequency,
    /// Lifecycle state.
    pub state: MailState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it is due next.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Which pending rows a sender takes now: those whose attempt is due, immediate ones at once
/// and daily ones once the digest hour has passed (the matches made before it).
#[derive(Debug, Clone, Copy)]
pub struct Due {
    /// The time now.
    pub now: OffsetDateTime,
    /// Today's digest time.
    pub digest_time: OffsetDateTime,
}

impl Due {
    /// Whether the row is due.
    pub fn accepts(&self, r: &OutboxRow) -> bool {
        r.next_attempt_at <= self.now
            && match r.frequency {
                Frequency::Immediate => true,
                Frequency::Daily => self.now >= self.digest_time && r.created_at < self.digest_time,
            }
    }
}

/// How long a node's claim on pending rows lasts unless it renews it: when a node dies, the
/// rows it claimed go to the others after this.
pub const CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Claims, for a node, up to a number of due pending rows after a key and up to a saved search
/// that no other node is claiming (`FOR UPDATE SKIP LOCKED`) or whose claim lapsed; the same
/// rule as [`Due::accepts`], on the columns written beside the record ([`set_claim_columns`]).
const CLAIM: &str = "WITH c AS (
        SELECT search_id, offer_id FROM alert_pending
        WHERE claimed_until < $1 AND due_at <= $2
          AND (NOT daily OR ($2 >= $3 AND created_at < $3))
          AND (search_id, offer_id) > ($4, $5) AND search_id <= $6
        ORDER BY search_id, offer_id LIMIT $7
        FOR UPDATE SKIP LOCKED)
    UPDATE alert_pending p SET claimed_by = $8, claimed_until = $9
    FROM c WHERE p.search_id = c.search_id AND p.offer_id = c.offer_id
    RETURNING p.body";

fn de<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::failed("corrupt record", e))
}

impl Tx<'_> {
    /// A saved search.
    pub fn saved_search(&self, id: u64) -> Result<Option<SavedSearch>> {
        record(self.v.get(&SEARCHES, &id)?)
    }

    /// Writes a saved search.
    pub fn put_saved_search(&self, s: &SavedSearch) -> Result<()> {
        self.v.put(&SEARCHES, &s.id, &serde_json::to_vec(s)?)?;
        self.v.put(&ACCOUNT_SEARCHES, &(s.account, s.id), &())?;
        self.alerts_changed(s.account)
    }

    /// Deletes a saved search and its pending matches.
    pub fn delete_saved_search(&self, s: &SavedSearch) -> Result<()> {
        self.v.remove(&SEARCHES, &s.id)?;
        self.v.remove(&ACCOUNT_SEARCHES, &(s.account, s.id))?;
        for (k, _) in self
            .v
            .values_between(&OUTBOX, &(s.id, 0), &(s.id, u64::MAX))?
        {
            self.v.remove(&OUTBOX, &k)?;
            self.v.remove(&PENDING, &k)?;
        }
        self.alerts_changed(s.account)
    }

    /// Logs that an account's alerts changed (its saved searches, its address confirmed, the
    /// account gone): every node's percolator takes them again.
    pub fn alerts_changed(&self, account: u64) -> Result<()> {
        self.changed();
        let seq = super::next_seq(&self.v, &ALERT_CHANGES, account)?;
        if let Some(old) = seq.checked_sub(ALERT_CHANGES_KEPT) {
            self.v.remove(&ALERT_CHANGES, &old)?;
        }
        Ok(())
    }

    /// Drops the changes of alerts before the last one (as a long-running log would have).
    #[cfg(test)]
    pub(crate) fn drop_alert_changes_but_the_last(&self) -> Result<()> {
        let last = self.v.last_key(&ALERT_CHANGES)?.unwrap_or(0);
        let old: Vec<u64> = (1..last).collect();
        self.v.remove_many(&ALERT_CHANGES, &old)
    }

    /// Ids of an account's saved searches.
    pub fn saved_search_ids(&self, account: u64) -> Result<Vec<u64>> {
        second_parts(&self.v, &ACCOUNT_SEARCHES, account)
    }

    /// True when the offer's first publication was already percolated.
    pub fn percolated(&self, offer: u64) -> Result<bool> {
        self.v.contains(&PERCOLATED, &offer)
    }

    /// Records the percolation of an offer with its matches (once per (search, offer)).
    pub fn record_percolation(
        &self,
        offer: u64,
        at: OffsetDateTime,
        matches: &[OutboxRow],
    ) -> Result<()> {
        self.v.put(&PERCOLATED, &offer, &at.unix_timestamp())?;
        self.add_outbox_rows(matches)
    }

    /// Adds outbox rows, each (search, offer) once: a row already there (written before a
    /// crash, perhaps sent since) stays as it is.
    pub fn add_outbox_rows(&self, matches: &[OutboxRow]) -> Result<()> {
        let rows = matches
            .iter()
            .map(|m| Ok(((m.search, m.offer), serde_json::to_vec(m)?)))
            .collect::<Result<Vec<_>>>()?;
        let written = self.v.put_new(&OUTBOX, &rows)?;
        let (pending, records): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .zip(matches)
            .filter(|((k, _), m)| m.state == MailState::Pending && written.contains(k))
            .unzip();
        put_pending(&self.v, &pending, records.into_iter())
    }

    /// Writes outbox rows (and keeps the pending table in step with their states), in few
    /// statements.
    pub fn put_outboxes(&self, rows: &[OutboxRow]) -> Result<()> {
        let mut all = Vec::with_capacity(rows.len());
        let (mut pending, mut records, mut done) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let k = (r.search, r.offer);
            let bytes = serde_json::to_vec(r)?;
            if r.state == MailState::Pending {
                pending.push((k, bytes.clone()));
                records.push(r);
            } else {
                done.push(k);
            }
            all.push((k, bytes));
        }
        self.v.put_many(&OUTBOX, &all)?;
        put_pending(&self.v, &pending, records.into_iter())?;
        self.v.remove_many(&PENDING, &done)
    }

    /// Writes an outbox row (and keeps the pending table in step with its state).
    pub fn put_outbox(&self, row: &OutboxRow) -> Result<()> {
        let k = (row.search, row.offer);
        let bytes = serde_json::to_vec(row)?;
        self.v.put(&OUTBOX, &k, &bytes)?;
        if row.state == MailState::Pending {
            put_pending(&self.v, &[(k, bytes)], std::iter::once(row))
        } else {
            self.v.remove(&PENDING, &k).map(|_| ())
        }
    }
}

impl Store {
    /// Every saved search, in id order.
    pub fn saved_searches(&self) -> Result<Vec<SavedSearch>> {
        let mut all = Vec::new();
        self.saved_searches_by_chunk(10_000, |chunk| {
            all.extend(chunk);
            Ok(())
        })?;
        Ok(all)
    }

    /// Calls `f` with every saved search, in id order, `chunk` at a time (each chunk decoded in
    /// parallel), from one snapshot: a million are read at start without holding them all. From
    /// a shared store, a thread of its own reads the next chunk while this one decodes and `f`
    /// takes the last (the reader mostly waits on the server); the embedded store's pages are
    /// read in-process, between the chunks.
    pub fn saved_searches_by_chunk(
        &self,
        chunk: usize,
        mut f: impl FnMut(Vec<SavedSearch>) -> Result<()>,
    ) -> Result<()> {
        use rayon::prelude::*;
        let chunk = chunk.max(1);
        // Reads the raw records, handing over each full chunk until `take` says stop.
        let read = |take: &mut dyn FnMut(Vec<Vec<u8>>) -> bool| {
            self.read(|v| {
                let mut raw = Vec::with_capacity(chunk);
                v.each(&SEARCHES, |_, b| {
                    raw.push(b);
                    if raw.len() == chunk {
                        return Ok(take(std::mem::replace(&mut raw, Vec::with_capacity(chunk))));
                    }
                    Ok(true)
                })?;
                if !raw.is_empty() {
                    take(raw);
                }
                Ok(())
            })
        };
        let mut decode = |raw: Vec<Vec<u8>>| -> Result<()> {
            let decoded = raw.par_iter().map(|b| de(b)).collect::<Result<_>>()?;
            f(decoded)
        };
        if !self.is_shared() {
            let mut failed = None;
            read(&mut |raw| match decode(raw) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })?;
            return failed.map_or(Ok(()), Err);
        }
        std::thread::scope(|scope| {
            let (send, chunks) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
            // The taker stopped (it failed): so does the reading.
            let reader = scope.spawn(move || read(&mut |raw| send.send(raw).is_ok()));
            let taken = chunks.iter().try_for_each(&mut decode);
            drop(chunks);
            let read = reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            taken.and(read)
        })
    }

    /// An account's saved searches.
    pub fn saved_searches_of(&self, account: u64) -> Result<Vec<SavedSearch>> {
        self.read(|v| {
            let mut out = Vec::new();
            for id in second_parts(v, &ACCOUNT_SEARCHES, account)? {
                if let Some(s) = record(v.get(&SEARCHES, &id)?)? {
                    out.push(s);
                }
            }
            Ok(out)
        })
    }

    /// A saved search.
    pub fn saved_search(&self, id: u64) -> Result<Option<SavedSearch>> {
        self.read(|v| record(v.get(&SEARCHES, &id)?))
    }

    /// The saved searches with these ids (missing ones skipped), from one snapshot.
    pub fn saved_searches_by_id(&self, ids: &[u64]) -> Result<Vec<SavedSearch>> {
        let found = self.read(|v| v.get_many(&SEARCHES, ids))?;
        found.into_iter().flatten().map(|b| de(&b)).collect()
    }

    /// Up to `limit` pending rows that `keep` accepts, in (saved search, offer) order; the
    /// rows of the last saved search are all taken (a daily digest is one mail).
    pub fn pending_outbox_where(
        &self,
        limit: usize,
        keep: impl Fn(&OutboxRow) -> bool,
    ) -> Result<Vec<OutboxRow>> {
        self.read(|v| {
            let mut out: Vec<OutboxRow> = Vec::new();
            v.each(&PENDING, |k, b| {
                if out.len() >= limit && out.last().is_some_and(|r| r.search != k.0) {
                    return Ok(false);
                }
                let row: OutboxRow = de(&b)?;
                if keep(&row) {
                    out.push(row);
                }
                Ok(true)
            })?;
            Ok(out)
        })
    }

    /// Claims for `node` up to `limit` due pending rows, in (saved search, offer) order, that no
    /// other node holds, and the rest of the last saved search when it is a daily digest (one
    /// mail). With a shared store, several nodes claim at once without taking the same row, and
    /// a claim lapses after [`CLAIM_TTL`] unless renewed ([`Store::renew_claims`]); it is given
    /// up when the row is settled. With the embedded store, the one process reads them.
    pub fn claim_pending(&self, node: &str, limit: usize, due: Due) -> Result<Vec<OutboxRow>> {
        let Db::Pg(pg) = &self.db else {
            return self.pending_outbox_where(limit, |r| due.accepts(r));
        };
        let now = OffsetDateTime::now_utc();
        let until = unix_ms(now + CLAIM_TTL);
        let claim =
            |c: &mut super::postgres::PgConn, after: (i64, i64), last: u64, limit: usize| {
                let params: Vec<super::table::Param<'_>> = vec![
                    Box::new(unix_ms(now)),
                    Box::new(unix_ms(due.now)),
                    Box::new(unix_ms(due.digest_time)),
                    Box::new(after.0),
                    Box::new(after.1),
                    Box::new(last.min(i64::MAX as u64) as i64),
                    Box::new(limit.min(i64::MAX as usize) as i64),
                    Box::new(node.to_string()),
                    Box::new(until),
                ];
                let mut rows = c
                    .query(CLAIM, &params)?
                    .iter()
                    .map(|r| de::<OutboxRow>(r.get(0)))
                    .collect::<Result<Vec<_>>>()?;
                rows.sort_by_key(|r| (r.search, r.offer));
                Ok::<_, Error>(rows)
            };
        pg.claim(|c| {
            let mut rows = claim(c, (-1, -1), u64::MAX, limit)?;
            if let Some(last) = rows.last().filter(|r| r.frequency == Frequency::Daily) {
                let after = (last.search as i64, last.offer as i64);
                let rest = claim(c, after, last.search, usize::MAX)?;
                rows.extend(rest);
            }
            Ok(rows)
        })
    }

    /// Extends the claims `node` holds by [`CLAIM_TTL`] (a node sending a long round); the
    /// number of rows renewed.
    pub fn renew_claims(&self, node: &str) -> Result<u64> {
        let Db::Pg(pg) = &self.db else {
            return Ok(0);
        };
        let until = unix_ms(OffsetDateTime::now_utc() + CLAIM_TTL);
        pg.claim(|c| {
            c.execute(
                "UPDATE alert_pending SET claimed_until = $2 WHERE claimed_by = $1",
                &[Box::new(node.to_string()), Box::new(until)],
            )
        })
    }

    /// Gives up the claims `node` still holds (the end of its round, its shutdown): the other
    /// nodes take those rows at once.
    pub fn release_claims(&self, node: &str) -> Result<u64> {
        let Db::Pg(pg) = &self.db else {
            return Ok(0);
        };
        pg.claim(|c| {
            c.execute(
                "UPDATE alert_pending SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = $1",
                &[Box::new(node.to_string())],
            )
        })
    }

    /// Outbox rows still pending.
    pub fn pending_outbox(&self) -> Result<Vec<OutboxRow>> {
        self.pending_outbox_where(usize::MAX, |_| true)
    }

    /// Every outbox row of these saved searches.
    pub fn outbox_of(&self, searches: &[u64]) -> Result<Vec<OutboxRow>> {
        self.read(|v| {
            let mut out = Vec::new();
            for &s in searches {
                for (_, b) in v.values_between(&OUTBOX, &(s, 0), &(s, u64::MAX))? {
                    out.push(de(&b)?);
                }
            }
            Ok(out)
        })
    }

    /// Number of offers percolated.
    pub fn percolated_count(&self) -> Result<u64> {
        self.read(|v| v.len(&PERCOLATED))
    }

    /// The sequence of the latest change of alerts (0 when none).
    pub fn last_alert_seq(&self) -> Result<u64> {
        self.read(|v| Ok(v.last_key(&ALERT_CHANGES)?.unwrap_or(0)))
    }

    /// Up to `limit` changes of alerts after `seq`: (sequence, account). The sequences follow
    /// each other; when the first is not `seq + 1`, the changes in between were dropped (see
    /// [`ALERT_CHANGES_KEPT`]).
    pub fn alert_changes_after(&self, seq: u64, limit: usize) -> Result<Vec<(u64, u64)>> {
        self.read(|v| super::changes_after(v, &ALERT_CHANGES, seq, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn row(search: u64, offer: u64, state: MailState) -> OutboxRow {
        let t = datetime!(2026-11-20 10:00 UTC);
        OutboxRow {
            search,
            offer,
            account: 1,
            frequency: Frequency::Immediate,
            state,
            attempts: 0,
            created_at: t,
            next_attempt_at: t,
            last_error: None,
        }
    }

    impl OutboxRow {
        fn sent(mut self) -> OutboxRow {
            self.state = MailState::Sent;
            self
        }
    }

    #[test]
    fn the_sender_reads_only_pending_rows_and_older_stores_are_brought_up_to_date() {
        super::super::tests::on_both_stores(pending_rows);
    }

    fn pending_rows(open: &dyn Fn() -> Store) {
        let store = open();
        let t = datetime!(2026-11-20 10:00 UTC);
        let rows = [
            row(1, 10, MailState::Pending),
            row(2, 10, MailState::Pending),
        ];
        store
            .write(|tx| tx.record_percolation(10, t, &rows))
            .unwrap();
        assert_eq!(store.pending_outbox().unwrap(), rows);
        // A bounded read takes the whole last saved search, and only the rows kept.
        let third = row(2, 11, MailState::Pending);
        store
            .write(|tx| tx.record_percolation(11, t, std::slice::from_ref(&third)))
            .unwrap();
        let keys = |rows: Vec<OutboxRow>| -> Vec<(u64, u64)> {
            rows.iter().map(|r| (r.search, r.offer)).collect()
        };
        let all = |_: &OutboxRow| true;
        assert_eq!(keys(store.pending_outbox_where(1, all).unwrap()), [(1, 10)]);
        assert_eq!(
            keys(store.pending_outbox_where(2, all).unwrap()),
            [(1, 10), (2, 10), (2, 11)]
        );
        let later = |r: &OutboxRow| r.offer == 11;
        assert_eq!(
            keys(store.pending_outbox_where(1, later).unwrap()),
            [(2, 11)]
        );
        store
            .write(|tx| tx.put_outbox(&third.clone().sent()))
            .unwrap();
        let sent = rows[0].clone().sent();
        store.write(|tx| tx.put_outbox(&sent)).unwrap();
        // Written again after a crash (the offer percolated anew): the sent row stays sent.
        store.write(|tx| tx.add_outbox_rows(&rows)).unwrap();
        assert_eq!(store.pending_outbox().unwrap(), [rows[1].clone()]);
        assert_eq!(
            store.outbox_of(&[1, 2]).unwrap(),
            [sent.clone(), rows[1].clone(), third.sent()]
        );
        // A store written before the pending table existed: rows only in the outbox.
        let old = row(3, 11, MailState::Pending);
        store
            .write(|tx| {
                tx.v.put(&OUTBOX, &(3, 11), &serde_json::to_vec(&old)?)?;
                tx.v.remove(&super::super::META, &PENDING_FILLED.to_string())?;
                Ok(())
            })
            .unwrap();
        drop(store);
        let store = open();
        assert_eq!(store.pending_outbox().unwrap(), [rows[1].clone(), old]);
    }

    #[test]
    fn nodes_claim_due_rows_without_taking_the_same_one_twice() {
        super::super::tests::on_both_stores(claims);
    }

    fn claims(open: &dyn Fn() -> Store) {
        let store = open();
        let t = datetime!(2026-11-20 10:00 UTC);
        let due = Due {
            now: t,
            digest_time: t - time::Duration::hours(1),
        };
        let daily = |search, offer| OutboxRow {
            frequency: Frequency::Daily,
            created_at: t - time::Duration::hours(2),
            ..row(search, offer, MailState::Pending)
        };
        let later = OutboxRow {
            next_attempt_at: t + time::Duration::minutes(5),
            ..row(2, 10, MailState::Pending)
        };
        let made_after_the_digest = OutboxRow {
            created_at: t - time::Duration::minutes(30),
            ..daily(5, 10)
        };
        let rows = [
            row(1, 10, MailState::Pending),
            later,
            daily(3, 10),
            daily(3, 11),
            row(4, 10, MailState::Pending),
            made_after_the_digest,
        ];
        store
            .write(|tx| tx.record_percolation(10, t, &rows))
            .unwrap();
        let keys = |rows: Vec<OutboxRow>| -> Vec<(u64, u64)> {
            rows.iter().map(|r| (r.search, r.offer)).collect()
        };
        let claim = |node: &str, limit| keys(store.claim_pending(node, limit, due).unwrap());
        if !store.is_shared() {
            // One process: the due rows, whoever asks.
            let all = [(1, 10), (3, 10), (3, 11), (4, 10)];
            assert_eq!(claim("a", 10), all);
            assert_eq!(claim("b", 10), all);
            return;
        }
        // A daily digest is claimed whole; a claimed row is nobody else's.
        assert_eq!(claim("a", 1), [(1, 10)]);
        assert_eq!(claim("b", 1), [(3, 10), (3, 11)]);
        assert_eq!(claim("a", 10), [(4, 10)]);
        assert_eq!(claim("b", 10), []);
        assert_eq!(store.renew_claims("b").unwrap(), 2);
        // A settled attempt gives its claim up; retried later, it is not due now.
        let failed = OutboxRow {
            attempts: 1,
            next_attempt_at: t + time::Duration::minutes(1),
            ..rows[0].clone()
        };
        store.write(|tx| tx.put_outbox(&failed)).unwrap();
        let retry = Due {
            now: t + time::Duration::minutes(1),
            ..due
        };
        assert_eq!(
            keys(store.claim_pending("b", 10, retry).unwrap()),
            [(1, 10)]
        );
        // Given back, the rows go to the others at once.
        assert_eq!(store.release_claims("b").unwrap(), 3);
        assert_eq!(claim("a", 10), [(3, 10), (3, 11)]);
        // The claims of a node that died lapse.
        let Db::Pg(pg) = &store.db else {
            unreachable!()
        };
        pg.claim(|c| {
            c.execute(
                "UPDATE alert_pending SET claimed_until = 1 WHERE claimed_by = 'a'",
                &[],
            )
        })
        .unwrap();
        assert_eq!(claim("b", 10), [(3, 10), (3, 11), (4, 10)]);
        store.release_claims("b").unwrap();
        // Nodes claiming at once share the rows out, each once.
        let many: Vec<OutboxRow> = (100..400).map(|s| row(s, 20, MailState::Pending)).collect();
        store
            .write(|tx| tx.record_percolation(20, t, &many))
            .unwrap();
        let taken: Vec<Vec<(u64, u64)>> = std::thread::scope(|scope| {
            let nodes: Vec<_> = ["a", "b", "c"]
                .into_iter()
                .map(|node| {
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let got = claim(node, 7);
                            if got.is_empty() {
                                return mine;
                            }
                            mine.extend(got);
                        }
                    })
                })
                .collect();
            nodes.into_iter().map(|n| n.join().unwrap()).collect()
        });
        let mut all: Vec<_> = taken.concat();
        all.sort_unstable();
        let mut expected = vec![(3, 10), (3, 11), (4, 10)]; // (1, 10) is retried later
        expected.extend((100..400).map(|s| (s, 20)));
        assert_eq!(all, expected, "every due row claimed exactly once");
    }

    #[test]
    fn the_alert_change_log_keeps_its_newest_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        store
            .write(|tx| {
                for account in 0..ALERT_CHANGES_KEPT + 5 {
                    tx.alerts_changed(account)?;
                }
                Ok(())
            })
            .unwrap();
        store.write(|tx| tx.alerts_changed(1)).unwrap();
        assert_eq!(
            store.read(|v| v.len(&ALERT_CHANGES)).unwrap(),
            ALERT_CHANGES_KEPT
        );
        let first = store.alert_changes_after(0, 1).unwrap();
        assert_eq!(first, [(7, 6)], "the oldest kept change");
        assert_eq!(store.last_alert_seq().unwrap(), ALERT_CHANGES_KEPT + 6);
    }

    #[test]
    fn saved_searches_are_read_a_chunk_at_a_time_in_id_order() {
        super::super::tests::on_both_stores(chunks);
    }

    fn chunks(open: &dyn Fn() -> Store) {
        let store = open();
        let t = datetime!(2026-11-20 10:00 UTC);
        store
            .write(|tx| {
                for id in 1..=5 {
                    tx.put_saved_search(&SavedSearch {
                        id,
                        account: 1,
                        name: format!("Recherche {id}"),
                        criteria: vec![("contract".into(), "stage".into())],
                        alert: true,
                        frequency: Frequency::Immediate,
                        created_at: t,
                    })?;
                }
                Ok(())
            })
            .unwrap();
        let mut seen = Vec::new();
        store
            .saved_searches_by_chunk(2, |c| {
                seen.push(c.iter().map(|s| s.id).collect::<Vec<_>>());
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [vec![1, 2], vec![3, 4], vec![5]]);
        // A taker that fails stops the reading, with its error.
        let mut calls = 0;
        let failed = store.saved_searches_by_chunk(1, |_| {
            calls += 1;
            Err(Error::Internal("full".into()))
        });
        assert!(matches!(failed, Err(Error::Internal(m)) if m == "full"));
        assert_eq!(calls, 1);
    }
}
