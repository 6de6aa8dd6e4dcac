//! Authentication for every kind of account — candidates, recruiters, administrators:
//! password hashing, random and signed tokens, sessions and single-use links, the failed-login
//! throttle, and role checks.

mod passwords;
mod sessions;
mod throttle;
mod tokens;

pub use passwords::{evaluations_on_this_thread, hash_password, verify_password};
pub use sessions::{Auth, RECOVERY_MINUTES, SESSION_HOURS, SET_PASSWORD_HOURS, session_length};
pub use throttle::{
    LoginThrottle, MAX_FAILED_LOGINS, THROTTLE_WINDOW, Throttle, not_your_password,
};
pub use tokens::{Signer, new_token, sha256_hex, token_hash};

use crate::domain::account::{Account, AccountState, Role};
use crate::error::{Error, Result};

/// Requires an active account of `role`.
pub fn require(who: &Account, role: Role) -> Result<()> {
    if who.role == role && who.state == AccountState::Active {
        Ok(())
    } else {
        Err(Error::Forbidden(
            format!("this needs a {role:?} account").to_lowercase(),
        ))
    }
}
