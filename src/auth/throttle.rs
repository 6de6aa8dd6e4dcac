//! Failed-login counters per login and per client address: past [`MAX_FAILED_LOGINS`] failures
//! within [`THROTTLE_WINDOW`], further attempts are refused until the window has passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::Store;
use crate::store::leases::Counted;

/// Failed logins allowed per account or address within [`THROTTLE_WINDOW`].
pub const MAX_FAILED_LOGINS: u32 = 5;
/// The throttling window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counters of attempts per key within a window: in memory for one node (a restart forgets
/// them, which only helps a legitimate user), in the database when several nodes share it (an
/// attacker gains nothing by spreading attempts over them). The login throttle counts
/// failures; the password-recovery one counts every request.
pub struct Throttle {
    max: u32,
    window: Duration,
    fails: Mutex<HashMap<String, (u32, Instant)>>,
    /// The shared store and this throttle's name there.
    shared: Option<(Arc<Store>, &'static str)>,
}

/// The failed-login throttle: [`MAX_FAILED_LOGINS`] per login or address in [`THROTTLE_WINDOW`].
pub type LoginThrottle = Throttle;

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(MAX_FAILED_LOGINS, THROTTLE_WINDOW)
    }
}

/// A wrong password given to confirm an action, in `field`.
pub fn not_your_password(field: &str) -> crate::FieldError {
    crate::FieldError::new(field, "is not your password").coded(crate::FieldCode::NotYourPassword)
}

/// Whether an error says that a password given was wrong.
fn wrong_password(e: &crate::Error) -> bool {
    use crate::FieldCode::{CurrentPasswordRequired, NotYourPassword};
    matches!(e, crate::Error::Unauthorized(_))
        || e.fields()
            .iter()
            .any(|f| matches!(f.code, CurrentPasswordRequired | NotYourPassword))
}

/// The counter keys of one attempt: the login and the client.
pub(super) fn keys(login: &str, client: &str) -> [String; 2] {
    [
        format!("login:{}", login.trim().to_lowercase()),
        format!("ip:{client}"),
    ]
}

impl Throttle {
    /// At most `max` counted attempts per key within `window`.
    pub fn new(max: u32, window: Duration) -> Throttle {
        Throttle {
            max,
            window,
            fails: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// The same, counted in `store` when several nodes share it (under `name`), in memory
    /// otherwise.
    pub fn on(self, store: &Arc<Store>, name: &'static str) -> Throttle {
        Throttle {
            shared: store.is_shared().then(|| (store.clone(), name)),
            ..self
        }
    }

    fn shared_keys(name: &str, keys: &[String]) -> Vec<String> {
        keys.iter().map(|k| format!("{name}|{k}")).collect()
    }

    fn now_ms() -> i64 {
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// Counts an attempt for each key unless one is over the limit: `Err(seconds to wait)`.
    /// The check and the count are one step (under a lock, or in one transaction of the shared
    /// store): attempts sent at the same time cannot all pass the check before any is counted.
    /// Refused with [`crate::Error::TooMany`]; a store that cannot count (the database away)
    /// refuses too, with its error: better no attempt than unlimited guesses.
    pub fn attempt(&self, keys: &[String]) -> crate::Result<()> {
        if let Some((store, name)) = &self.shared {
            let window = self.window.as_millis() as i64;
            return match store.reserve_throttles(
                &Self::shared_keys(name, keys),
                self.max,
                window,
                Self::now_ms(),
            )? {
                None => Ok(()),
                Some(wait_ms) => Err(crate::Error::TooMany((wait_ms / 1000).max(1) as u64)),
            };
        }
        let mut map = self.fails.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = self.wait_in(&map, keys) {
            return Err(crate::Error::TooMany(wait));
        }
        Self::count(&mut map, keys, self.window);
        Ok(())
    }

    /// Gives back one attempt reserved by [`Throttle::attempt`] under each key (the attempt
    /// turned out not to be one that counts).
    pub fn give_back(&self, keys: &[String]) {
        if let Some((store, name)) = &self.shared {
            let counted = store.update_throttles(&Self::shared_keys(name, keys), |c| {
                c.filter(|c| c.n > 1).map(|c| Counted { n: c.n - 1, ..c })
            });
            if let Err(e) = counted {
                tracing::warn!(error = %e, "throttle counts not given back");
            }
            return;
        }
        let mut map = self.fails.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            if let Some(e) = map.get_mut(k) {
                e.0 = e.0.saturating_sub(1);
                if e.0 == 0 {
                    map.remove(k);
                }
            }
        }
    }

    /// Seconds to wait when one of `keys` is over the limit.
    pub fn blocked(&self, keys: &[String]) -> Option<u64> {
        if let Some((store, name)) = &self.shared {
            let window = self.window.as_millis() as i64;
            let now = Self::now_ms();
            let counts = store
                .throttle_counts(&Self::shared_keys(name, keys))
                .inspect_err(|e| tracing::warn!(error = %e, "throttle counts not read"))
                .ok()?;
            return counts
                .into_iter()
                .flatten()
                .filter(|c| c.n >= self.max && now - c.since_ms < window)
                .map(|c| ((window - (now - c.since_ms)) / 1000).max(1) as u64)
                .max();
        }
        let map = self.fails.lock().unwrap_or_else(|p| p.into_inner());
        self.wait_in(&map, keys)
    }

    /// Seconds to wait when one of `keys` is over the limit in the in-memory counters.
    fn wait_in(&self, map: &HashMap<String, (u32, Instant)>, keys: &[String]) -> Option<u64> {
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, since)| *n >= self.max && since.elapsed() < self.window)
            .map(|(_, since)| (self.window - since.elapsed()).as_secs().max(1))
            .max()
    }

    /// Records a failure for each key.
    pub fn failed(&self, keys: &[String]) {
        if let Some((store, name)) = &self.shared {
            let window = self.window.as_millis() as i64;
            let now = Self::now_ms();
            let counted = store.update_throttles(&Self::shared_keys(name, keys), |c| match c {
                Some(c) if now - c.since_ms < window => Some(Counted { n: c.n + 1, ..c }),
                _ => Some(Counted {
                    n: 1,
                    since_ms: now,
                }),
            });
            if let Err(e) = counted {
                tracing::warn!(error = %e, "throttle counts not written");
            }
            return;
        }
        let mut map = self.fails.lock().unwrap_or_else(|p| p.into_inner());
        Self::count(&mut map, keys, self.window);
    }

    /// Counts one attempt under each key of the in-memory counters.
    fn count(map: &mut HashMap<String, (u32, Instant)>, keys: &[String], window: Duration) {
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= window {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    /// Runs `check` — work that verifies `login`'s password, such as a change of password or
    /// a deletion — under the same counters as a login of `login` from `client`: refused with
    /// [`Error::TooMany`] while either is blocked; an answer saying that the password was wrong
    /// counts as a failed login, a success clears the login's counter.
    pub fn password_check<T>(
        &self,
        login: &str,
        client: &str,
        check: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<T> {
        self.guarded(&keys(login, client), check, wrong_password)
    }

    /// Runs `check` with one attempt reserved beforehand under `keys` (`[login, client]`), so
    /// that attempts made at once are counted before any is verified: refused with
    /// [`Error::TooMany`] while a key is at its limit. An answer that `counts` keeps the
    /// reservation (a failure); a success clears the login's counter and gives the client's
    /// attempt back; any other answer gives both back.
    pub(super) fn guarded<T>(
        &self,
        keys: &[String; 2],
        check: impl FnOnce() -> crate::Result<T>,
        counts: impl Fn(&crate::Error) -> bool,
    ) -> crate::Result<T> {
        self.attempt(keys)?;
        let r = check();
        match &r {
            Ok(_) => {
                self.succeeded(&keys[0]);
                self.give_back(&keys[1..]);
            }
            Err(e) if counts(e) => {}
            Err(_) => self.give_back(keys),
        }
        r
    }

    /// Clears the counter of a login after a success.
    pub fn succeeded(&self, login_key: &str) {
        if let Some((store, name)) = &self.shared {
            let keys = Self::shared_keys(name, &[login_key.to_string()]);
            if let Err(e) = store.update_throttles(&keys, |_| None) {
                tracing::warn!(error = %e, "throttle counts not cleared");
            }
            return;
        }
        self.fails
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(login_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, FieldError};

    #[test]
    fn attempts_sent_at_once_are_counted_before_any_is_verified() {
        let t = std::sync::Arc::new(Throttle::new(5, Duration::from_secs(60)));
        let verified = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let threads: Vec<_> = (0..40)
            .map(|i| {
                let (t, verified) = (t.clone(), verified.clone());
                std::thread::spawn(move || {
                    let k = keys("victim@x.fr", &format!("10.0.0.{}", i % 8));
                    t.guarded(
                        &k,
                        || -> crate::Result<()> {
                            verified.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            // A slow password check: the others arrive meanwhile.
                            std::thread::sleep(Duration::from_millis(30));
                            Err(Error::Unauthorized("wrong".into()))
                        },
                        |e| matches!(e, Error::Unauthorized(_)),
                    )
                })
            })
            .collect();
        let refused = threads
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|r| matches!(r, Err(Error::TooMany(_))))
            .count();
        assert_eq!(verified.load(std::sync::atomic::Ordering::SeqCst), 5);
        assert_eq!(refused, 35);
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let t = Throttle::new(2, Duration::from_secs(60));
        for n in 0..5 {
            let k = keys(&format!("user{n}@x.fr"), "10.0.0.9");
            assert!(t.guarded(&k, || Ok(()), |_| true).is_ok(), "login {n}");
        }
        // Other errors (a store failure) count nothing either.
        let k = keys("a@x.fr", "10.0.0.9");
        for _ in 0..4 {
            let r: crate::Result<()> =
                t.guarded(&k, || Err(Error::Internal("x".into())), |_| false);
            assert!(matches!(r, Err(Error::Internal(_))));
        }
    }

    #[test]
    fn wrong_confirmation_passwords_count_like_failed_logins() {
        let t = Throttle::new(2, Duration::from_secs(60));
        let wrong = || -> crate::Result<()> { Err(Error::invalid(not_your_password("password"))) };
        let other = || -> crate::Result<()> {
            Err(Error::invalid(FieldError::new(
                "email",
                "is not an e-mail address",
            )))
        };
        assert!(t.password_check("a@x.fr", "10.0.0.1", other).is_err());
        assert!(t.password_check("a@x.fr", "10.0.0.1", wrong).is_err());
        assert!(t.password_check("a@x.fr", "10.0.0.1", wrong).is_err());
        // Blocked now, for this login from anywhere, and the work is not even tried.
        let r = t.password_check("A@x.fr", "10.0.0.2", || -> crate::Result<()> {
            unreachable!()
        });
        assert!(matches!(r, Err(Error::TooMany(_))));
        assert!(t.blocked(&keys("a@x.fr", "10.0.0.1")).is_some());
    }
}
