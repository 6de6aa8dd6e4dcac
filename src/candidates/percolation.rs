//! Percolation: each offer published for the first time is matched against every alert; each
//! match becomes an outbox row keyed by (alert, offer), written in the transaction that records
//! the offer as percolated, so a crash never loses or doubles a mail.

use crate::domain::{Offer, OfferState};
use crate::engine::Engine;
use crate::error::Result;
use crate::store::Store;
use crate::store::accounts::MailState;
use crate::store::alerts::OutboxRow;

/// Change-log entries percolated per round.
const PERCOLATE_STEP: usize = 2_000;
/// Matches written per round at most (a round stops after the offer that reaches it): a
/// backlog of offers against a million alerts becomes many bounded transactions.
const MATCHES_PER_ROUND: usize = 200_000;
/// The change-log sequence up to which offers were percolated.
pub const CURSOR: &str = "percolated_seq";

/// Percolates the offers first published since the last round: each match becomes an
/// outbox row, written with the record that the offer was percolated. Returns the matches.
pub fn percolate_pending(engine: &Engine) -> Result<usize> {
    let store = engine.store();
    let cursor: u64 = store
        .meta(CURSOR)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let changes = store.changes_after(cursor, PERCOLATE_STEP)?;
    if changes.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<u64> = changes.iter().map(|c| c.1).collect();
    ids.sort_unstable();
    ids.dedup();
    let offers: std::collections::HashMap<u64, Offer> =
        store.offers(&ids)?.into_iter().map(|o| (o.id, o)).collect();
    let now = engine.now();
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let (mut last, mut matched) = (cursor, 0);
    for &(seq, id) in &changes {
        last = seq;
        let Some(offer) = offers.get(&id).filter(|_| seen.insert(id)) else {
            continue;
        };
        if offer.state != OfferState::Published || offer.first_published_at.is_none() {
            continue;
        }
        let searches: Vec<u64> = engine.percolator().matches(offer, now).iter().collect();
        matched += searches.len();
        found.push((offer.id, searches));
        if matched >= MATCHES_PER_ROUND {
            break;
        }
    }
    let mut count = 0;
    store.write(|tx| {
        for (offer, searches) in &found {
            if tx.percolated(*offer)? {
                continue; // re-published, edited or unarchived: never again
            }
            let mut rows = Vec::new();
            for &search in searches {
                let Some(s) = tx.saved_search(search)? else {
                    continue;
                };
                rows.push(OutboxRow {
                    search,
                    offer: *offer,
                    account: s.account,
                    frequency: s.frequency,
                    state: MailState::Pending,
                    attempts: 0,
                    created_at: now,
                    next_attempt_at: now,
                    last_error: None,
                });
            }
            count += rows.len();
            tx.record_percolation(*offer, now, &rows)?;
        }
        Store::set_meta_in(tx, CURSOR, &last.to_string())
    })?;
    if count > 0 {
        metrics::counter!("alert_matches_total").increment(count as u64);
    }
    Ok(count)
}
