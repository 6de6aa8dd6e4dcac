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

/// The message of a wrong password given to confirm an action.
pub const NOT_YOUR_PASSWORD: &str = "is not your password";

/// Whether an error says that a password given was wrong.
fn wrong_password(e: &crate::Error) -> bool {
    matches!(e, crate::Error::Unauthorized(_))
        || e.fields()
            .iter()
            .any(|f| f.field == "current_password" || f.message == NOT_YOUR_PASSWORD)
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
    pub fn attempt(&self, keys: &[String]) -> Result<(), u64> {
        if let Some(wait) = self.blocked(keys) {
            return Err(wait);
        }
        self.failed(keys);
        Ok(())
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
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, Instant::now()));
            if e.1.elapsed() >= self.window {
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
        let keys = keys(login, client);
        if let Some(wait) = self.blocked(&keys) {
            return Err(crate::Error::TooMany(wait));
        }
        let r = check();
        match &r {
            Ok(_) => self.succeeded(&keys[0]),
            Err(e) if wrong_password(e) => self.failed(&keys),
            Err(_) => {}
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
    fn wrong_confirmation_passwords_count_like_failed_logins() {
        let t = Throttle::new(2, Duration::from_secs(60));
        let wrong = || -> crate::Result<()> {
            Err(Error::invalid(FieldError::new(
                "password",
                NOT_YOUR_PASSWORD,
            )))
        };
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
