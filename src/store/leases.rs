//! What the nodes sharing a database must agree on besides the records: leases on work done by
//! one node at a time (percolating, mailing, archiving, polling feeds) and throttle counters.
//! The embedded store holds them the same way (one node always holds the leases).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::kv::AnyTable;
use super::table::Table;
use super::tx::{from_bytes, to_bytes};
use super::{Store, unix_ms};
use crate::error::Result;

/// Work name → who holds it and until when.
const LEASES: Table<&str, &[u8]> = Table::new("leases", &["name"], &["body"]);
/// Throttle key → attempts counted and since when.
const THROTTLES: Table<&str, &[u8]> = Table::new("throttles", &["key"], &["body"]);

pub(super) fn tables() -> [&'static dyn AnyTable; 2] {
    [&LEASES, &THROTTLES]
}

/// A lease on some work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The node holding it.
    pub node: String,
    /// When it lapses unless renewed (Unix milliseconds).
    pub until_ms: i64,
}

/// Attempts counted under a throttle key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// Attempts in the window.
    pub n: u32,
    /// When the window began (Unix milliseconds).
    pub since_ms: i64,
}

impl Store {
    /// Takes the lease on `work` for `node` until `now + ttl`, or renews it, when it is free,
    /// lapsed or already `node`'s: true when `node` holds it now. A node that stops renewing
    /// (killed) leaves the work to the others once `ttl` has passed.
    pub fn hold_lease(
        &self,
        work: &str,
        node: &str,
        now: OffsetDateTime,
        ttl: std::time::Duration,
    ) -> Result<bool> {
        let key = work.to_string();
        let now_ms = unix_ms(now);
        self.write(|tx| {
            let held: Option<Lease> =
                tx.v.get(&LEASES, &key)?
                    .map(|b| from_bytes(&b))
                    .transpose()?;
            if let Some(l) = &held
                && l.node != node
                && l.until_ms > now_ms
            {
                return Ok(false);
            }
            let lease = Lease {
                node: node.to_string(),
                until_ms: now_ms + ttl.as_millis() as i64,
            };
            tx.v.put(&LEASES, &key, &to_bytes(&lease)?)?;
            Ok(true)
        })
    }

    /// Gives a lease back (a node stopping cleanly), when `node` holds it.
    pub fn release_lease(&self, work: &str, node: &str) -> Result<()> {
        let key = work.to_string();
        self.write(|tx| {
            if let Some(b) = tx.v.get(&LEASES, &key)?
                && from_bytes::<Lease>(&b)?.node == node
            {
                tx.v.remove(&LEASES, &key)?;
            }
            Ok(())
        })
    }

    /// Who holds the lease on `work`.
    pub fn lease(&self, work: &str) -> Result<Option<Lease>> {
        self.read(|v| {
            v.get(&LEASES, &work.to_string())?
                .map(|b| from_bytes(&b))
                .transpose()
        })
    }

    /// The attempts counted under throttle keys.
    pub fn throttle_counts(&self, keys: &[String]) -> Result<Vec<Option<Counted>>> {
        self.read(|v| {
            keys.iter()
                .map(|k| v.get(&THROTTLES, k)?.map(|b| from_bytes(&b)).transpose())
                .collect()
        })
    }

    /// Applies `f` to the counts of these keys (None: absent) in one transaction; a result of
    /// None removes the key.
    pub fn update_throttles(
        &self,
        keys: &[String],
        f: impl Fn(Option<Counted>) -> Option<Counted>,
    ) -> Result<()> {
        self.write(|tx| {
            for k in keys {
                let old =
                    tx.v.get(&THROTTLES, k)?
                        .map(|b| from_bytes(&b))
                        .transpose()?;
                match f(old) {
                    Some(c) => tx.v.put(&THROTTLES, k, &to_bytes(&c)?)?,
                    None => {
                        tx.v.remove(&THROTTLES, k)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Reserves one attempt under each of `keys` in one transaction — every node sees the
    /// reservation before it verifies anything — unless one key already counts `max` attempts
    /// in a window of `window_ms` still running at `now_ms`: then nothing is counted and the
    /// answer is the milliseconds until that window ends.
    pub fn reserve_throttles(
        &self,
        keys: &[String],
        max: u32,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        self.write(|tx| {
            let mut counts = Vec::with_capacity(keys.len());
            for k in keys {
                let old: Option<Counted> =
                    tx.v.get(&THROTTLES, k)?
                        .map(|b| from_bytes(&b))
                        .transpose()?;
                counts.push(old.filter(|c| now_ms - c.since_ms < window_ms));
            }
            let wait = counts
                .iter()
                .flatten()
                .filter(|c| c.n >= max)
                .map(|c| window_ms - (now_ms - c.since_ms))
                .max();
            if wait.is_some() {
                return Ok(wait);
            }
            for (k, c) in keys.iter().zip(counts) {
                let c = match c {
                    Some(c) => Counted { n: c.n + 1, ..c },
                    None => Counted {
                        n: 1,
                        since_ms: now_ms,
                    },
                };
                tx.v.put(&THROTTLES, k, &to_bytes(&c)?)?;
            }
            Ok(None)
        })
    }

    /// Removes the throttle counts whose window began before `before` (their window is over:
    /// keys of clients that never came back); the number removed.
    pub fn prune_throttles(&self, before: OffsetDateTime) -> Result<usize> {
        let cutoff = unix_ms(before);
        self.write(|tx| {
            tx.v.remove_where(&THROTTLES, |_, b| {
                Ok(from_bytes::<Counted>(b)?.since_ms < cutoff)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn throttle_reservations_stop_at_the_limit_for_every_key() {
        super::super::tests::on_both_stores(reserve);
    }

    fn reserve(open: &dyn Fn() -> Store) {
        let store = open();
        let keys = ["login|a".to_string(), "ip|1".to_string()];
        let now = 1_000_000;
        for _ in 0..3 {
            assert_eq!(
                store.reserve_throttles(&keys, 3, 60_000, now).unwrap(),
                None
            );
        }
        assert_eq!(
            store
                .reserve_throttles(&keys, 3, 60_000, now + 1_000)
                .unwrap(),
            Some(59_000)
        );
        // Nothing was counted by the refusal; another client of the same login is refused too.
        let other = ["login|a".to_string(), "ip|2".to_string()];
        assert!(
            store
                .reserve_throttles(&other, 3, 60_000, now)
                .unwrap()
                .is_some()
        );
        assert_eq!(store.throttle_counts(&other).unwrap()[1], None);
        // Once the window is over, a new one begins.
        assert_eq!(
            store
                .reserve_throttles(&keys, 3, 60_000, now + 60_000)
                .unwrap(),
            None
        );
        assert_eq!(store.throttle_counts(&keys).unwrap()[0].unwrap().n, 1);
    }

    #[test]
    fn throttle_counts_whose_window_is_long_over_are_removed() {
        super::super::tests::on_both_stores(prune);
    }

    fn prune(open: &dyn Fn() -> Store) {
        let store = open();
        let t = datetime!(2026-11-20 10:00 UTC);
        let keys = ["login|old".to_string(), "login|new".to_string()];
        for (key, since) in keys.iter().zip([t - time::Duration::days(2), t]) {
            store
                .update_throttles(std::slice::from_ref(key), |_| {
                    Some(Counted {
                        n: 3,
                        since_ms: unix_ms(since),
                    })
                })
                .unwrap();
        }
        assert_eq!(
            store.prune_throttles(t - time::Duration::days(1)).unwrap(),
            1
        );
        let counts = store.throttle_counts(&keys).unwrap();
        assert_eq!(counts[0], None);
        assert_eq!(counts[1].map(|c| c.n), Some(3));
    }
}
