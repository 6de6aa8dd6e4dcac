//! Passwords are stored only as argon2id hashes with a random salt. Hashing is deliberately
//! slow (tens of milliseconds of one core), so it runs on a bounded pool of its own: at most
//! [`hashing_slots`] at once, a short queue with a deadline behind them, and a 503 past it —
//! whatever a client sends, the threads serving searches and pages keep their cores.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

use crate::error::{Error, Result};

/// How long a hash waits for a slot before the answer is 503.
pub const HASH_QUEUE_DEADLINE: Duration = Duration::from_secs(2);

/// Hashes that may wait for a slot, per slot.
const QUEUED_PER_SLOT: usize = 8;

/// Hashes run at once: one core in two (at least one), so that on a small machine half of it
/// always serves the rest.
pub fn hashing_slots() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / 2).max(1)
}

/// A counting semaphore with a bounded queue and a deadline.
struct Pool {
    slots: usize,
    /// (running, waiting)
    state: Mutex<(usize, usize)>,
    freed: Condvar,
}

/// A slot of the pool, given back when dropped.
struct Slot<'a>(&'a Pool);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 -= 1;
        drop(s);
        self.0.freed.notify_one();
    }
}

fn busy() -> Error {
    Error::Unavailable("too many password checks at once".into(), 2)
}

impl Pool {
    const fn new(slots: usize) -> Pool {
        Pool {
            slots,
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
        }
    }

    fn slot(&self, deadline: Duration) -> Result<Slot<'_>> {
        let until = Instant::now() + deadline;
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.0 < self.slots {
            s.0 += 1;
            return Ok(Slot(self));
        }
        if s.1 >= self.slots * QUEUED_PER_SLOT {
            metrics::counter!("password_hash_refused_total").increment(1);
            return Err(busy());
        }
        s.1 += 1;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                s.1 -= 1;
                metrics::counter!("password_hash_refused_total").increment(1);
                return Err(busy());
            }
            s = self
                .freed
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            if s.0 < self.slots {
                s.1 -= 1;
                s.0 += 1;
                return Ok(Slot(self));
            }
        }
    }
}

thread_local! {
    /// Argon2 evaluations made by this thread (hashes and checks alike).
    static EVALUATED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many argon2 evaluations (hashes and checks) this thread has made: what a request cost
/// in password work, for the tests that bound it.
pub fn evaluations_on_this_thread() -> u64 {
    EVALUATED.with(std::cell::Cell::get)
}

fn pool() -> &'static Pool {
    static POOL: std::sync::OnceLock<Pool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| Pool::new(hashing_slots()))
}

/// Hashes a password with argon2id, on the hashing pool.
pub fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| Error::Internal(format!("password salt: {e}")))?;
    crate::blocking::check("password hashing")?;
    let _slot = pool().slot(HASH_QUEUE_DEADLINE)?;
    EVALUATED.with(|n| n.set(n.get() + 1));
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

/// Checks a password against its argon2 hash, on the hashing pool: `Ok(false)` when it does
/// not match, an error when the pool is full.
pub fn verify_password(password: &str, hash: &str) -> Result<bool> {
    let Ok(h) = PasswordHash::new(hash) else {
        return Ok(false);
    };
    crate::blocking::check("password hashing")?;
    let _slot = pool().slot(HASH_QUEUE_DEADLINE)?;
    EVALUATED.with(|n| n.set(n.get() + 1));
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &h)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_pool_runs_at_most_its_slots_and_refuses_past_its_queue() {
        let pool = Arc::new(Pool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..30)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                std::thread::spawn(move || {
                    let slot = pool.slot(Duration::from_millis(300))?;
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                    drop(slot);
                    Ok::<_, Error>(())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(most.load(Ordering::SeqCst), 2, "never more than the slots");
        let served = results.iter().filter(|r| r.is_ok()).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(Error::Unavailable(..))))
            .count();
        // 2 at once and 16 queued at most: 12 refused at once, more past the deadline.
        assert_eq!(served + refused, 30);
        assert!(refused >= 10, "{refused} refused");
        assert!(served >= 2, "{served} served");
    }

    #[test]
    fn hashes_verify() {
        let h = hash_password("Un-Mot-De-Passe-2026").unwrap();
        assert!(verify_password("Un-Mot-De-Passe-2026", &h).unwrap());
        assert!(!verify_password("autre", &h).unwrap());
        assert!(!verify_password("x", "not a hash").unwrap());
    }
}
