//! Percolation: each offer published for the first time is matched against every alert; each
//! match becomes an outbox row keyed by (alert, offer), written in the transaction that records
//! the offer as percolated, so a crash never loses or doubles a mail.

use crate::domain::account::Frequency;
use crate::domain::{Offer, OfferState};
use crate::engine::Engine;
use crate::error::Result;
use crate::store::Store;
use crate::store::alerts::OutboxRow;
use crate::store::mails::MailState;

/// Change-log entries percolated per round.
const PERCOLATE_STEP: usize = 2_000;
/// Matches written per round at most (a round stops after the offer that reaches it): a
/// backlog of offers against a million alerts becomes many bounded transactions.
const MATCHES_PER_ROUND: usize = 200_000;
/// The change-log sequence up to which offers were percolated.
pub const CURSOR: &str = "percolated_seq";

/// One match: the saved search, with its account and frequency when the percolator knows them.
type Match = (u64, Option<(u64, Frequency)>);

/// Outbox rows written per transaction.
const SLICE: usize = 5_000;

/// The outbox rows of an offer's matches (a match whose saved search is gone is dropped).
fn outbox_rows(
    tx: &crate::store::Tx<'_>,
    offer: u64,
    matches: &[Match],
    now: time::OffsetDateTime,
) -> Result<Vec<OutboxRow>> {
    let mut rows = Vec::with_capacity(matches.len());
    for &(search, owner) in matches {
        let owner = match owner {
            Some(o) => o,
            None => match tx.saved_search(search)? {
                Some(s) => (s.account, s.frequency),
                None => continue,
            },
        };
        rows.push(OutboxRow {
            search,
            offer,
            account: owner.0,
            frequency: owner.1,
            state: MailState::Pending,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            last_error: None,
        });
    }
    Ok(rows)
}

/// What a round of [`percolate_pending`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Change-log entries taken (0: nothing was waiting).
    pub changes: usize,
    /// Offers percolated for the first time.
    pub offers: usize,
    /// Outbox rows written.
    pub matches: usize,
}

/// Percolates the offers first published since the last round: each match becomes an
/// outbox row, an offer's rows written [`SLICE`] per transaction, the last with the record
/// that the offer was percolated; the offers matching no alert are recorded together in one
/// transaction (an import of thousands of offers is a few commits, not one per offer).
/// `on_slice` is called after each commit (to wake the sender).
pub fn percolate_pending(engine: &Engine, on_slice: &dyn Fn()) -> Result<Round> {
    let store = engine.store();
    let cursor: u64 = store
        .meta(CURSOR)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let changes = store.changes_after(cursor, PERCOLATE_STEP)?;
    if changes.is_empty() {
        return Ok(Round::default());
    }
    let mut ids: Vec<u64> = changes.iter().map(|c| c.1).collect();
    ids.sort_unstable();
    ids.dedup();
    let offers: std::collections::HashMap<u64, Offer> =
        store.offers(&ids)?.into_iter().map(|o| (o.id, o)).collect();
    let now = engine.now();
    let (mut quiet, mut found) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    let (mut last, mut matched, mut taken) = (cursor, 0, 0);
    for &(seq, id) in &changes {
        (last, taken) = (seq, taken + 1);
        let Some(offer) = offers.get(&id).filter(|_| seen.insert(id)) else {
            continue;
        };
        if offer.state != OfferState::Published || offer.first_published_at.is_none() {
            continue;
        }
        // In key order: the store's B-trees are then walked once, leaf after leaf. With the
        // account and frequency the percolator knows (else read from the saved search).
        let p = engine.percolator();
        let mut searches: Vec<Match> = p
            .matches(offer, now)
            .iter()
            .map(|s| (s, p.owner(s)))
            .collect();
        drop(p);
        if searches.is_empty() {
            quiet.push(offer.id);
            continue;
        }
        searches.sort_unstable_by_key(|s| s.0);
        matched += searches.len();
        found.push((offer.id, searches));
        if matched >= MATCHES_PER_ROUND {
            break;
        }
    }
    // The offers matching nothing first, with the cursor when no offer matched anything; after
    // a crash the round is taken again and what was recorded is skipped.
    let mut round = Round {
        changes: taken,
        ..Round::default()
    };
    if !quiet.is_empty() || found.is_empty() {
        round.offers += store.write(|tx| {
            let mut recorded = 0;
            for &offer in &quiet {
                if !tx.percolated(offer)? {
                    tx.record_percolation(offer, now, &[])?;
                    recorded += 1;
                }
            }
            if found.is_empty() {
                Store::set_meta_in(tx, CURSOR, &last.to_string())?;
            }
            Ok(recorded)
        })?;
    }
    let offers_found = found.len();
    for (i, (offer, searches)) in found.iter().enumerate() {
        // A slice per transaction, so that the first mails go out while the rest is written.
        // The offer is recorded as percolated with its last slice; after a crash it is
        // percolated again, and the rows already written are not written twice (one row per
        // (alert, offer)).
        let slices: Vec<&[Match]> = searches.chunks(SLICE).collect();
        let n = slices.len();
        for (k, slice) in slices.into_iter().enumerate() {
            let (last_slice, last_of_round) = (k + 1 == n, k + 1 == n && i + 1 == offers_found);
            let (rows, first) = store.write(|tx| {
                let (mut written, mut first) = (0, false);
                if !tx.percolated(*offer)? {
                    let rows = outbox_rows(tx, *offer, slice, now)?;
                    written = rows.len();
                    match last_slice {
                        true => {
                            tx.record_percolation(*offer, now, &rows)?;
                            first = true;
                        }
                        false => tx.add_outbox_rows(&rows)?,
                    }
                }
                if last_of_round {
                    Store::set_meta_in(tx, CURSOR, &last.to_string())?;
                }
                Ok((written, first))
            })?;
            round.matches += rows;
            round.offers += usize::from(first);
            on_slice();
        }
    }
    if round.matches > 0 {
        metrics::counter!("alert_matches_total").increment(round.matches as u64);
    }
    Ok(round)
}
