//! Failed-login counters per login and per client address: past [`MAX_FAILED_LOGINS`] failures
//! within [`THROTTLE_WINDOW`], further attempts are refused until the window has passed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per account or address within [`THROTTLE_WINDOW`].
pub const MAX_FAILED_LOGINS: u32 = 5;
/// The throttling window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counters of attempts per key within a window (in memory: a restart forgets them, which only
/// helps a legitimate user). The login throttle counts failures; the password-recovery one
/// counts every request.
pub struct Throttle {
    max: u32,
    window: Duration,
    fails: Mutex<HashMap<String, (u32, Instant)>>,
}

/// The failed-login throttle: [`MAX_FAILED_LOGINS`] per login or address in [`THROTTLE_WINDOW`].
pub type LoginThrottle = Throttle;

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(MAX_FAILED_LOGINS, THROTTLE_WINDOW)
    }
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
        }
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
        let map = self.fails.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, since)| *n >= self.max && since.elapsed() < self.window)
            .map(|(_, since)| (self.window - since.elapsed()).as_secs().max(1))
            .max()
    }

    /// Records a failure for each key.
    pub fn failed(&self, keys: &[String]) {
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

    /// Clears the counter of a login after a success.
    pub fn succeeded(&self, login_key: &str) {
        self.fails
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(login_key);
    }
}
