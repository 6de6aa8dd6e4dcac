//! Percolation: each offer published for the first time is matched against every alert; each
//! match becomes an outbox row keyed by (alert, offer), written in the transaction that records
//! the offer as percolated, so a crash never loses or doubles a mail.

use crate::domain::OfferState;
use crate::engine::Engine;
use crate::error::Result;
use crate::store::Store;
use crate::store::accounts::MailState;
use crate::store::alerts::OutboxRow;

/// Change-log entries percolated per round.
const PERCOLATE_STEP: usize = 2_000;
const CURSOR: &str = "percolated_seq";

/// Percolates the offers first published since the last round: each match becomes an
/// outbox row, written with the record that the offer was percolated. Returns the matches.
pub fn percolate_pending(engine: &Engine) -> Result<usize> {
    let store = engine.store();
    let cursor: u64 = store
        .meta(CURSOR)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let changes = store.changes_after(cursor, PERCOLATE_STEP)?;
    let Some(&(last, _)) = changes.last() else {
        return Ok(0);
    };
    let mut ids: Vec<u64> = changes.iter().map(|c| c.1).collect();
    ids.sort_unstable();
    ids.dedup();
    let now = engine.now();
    let mut found = Vec::new();
    for offer in store.offers(&ids)? {
        if offer.state != OfferState::Published || offer.first_published_at.is_none() {
            continue;
        }
        let searches: Vec<u64> = engine.percolator().matches(&offer, now).iter().collect();
        found.push((offer.id, searches));
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
