//! Sessions and single-use links: login (throttled), logout, the account behind a session
//! token, and choosing a password with a one-time link.

use time::Duration;

use super::throttle::{LoginThrottle, keys};
use super::{hash_password, new_token, token_hash, verify_password};
use crate::domain::account::{Account, AccountState, TermsAccepted, check_password};
use crate::domain::retention::LONG_SESSION_DAYS;
use crate::engine::Engine;
use crate::error::{Error, FieldError, Result};
use crate::links::Links;
use crate::store::Tx;
use crate::store::accounts::{Token, TokenPurpose};

/// Lifetime of a login session.
pub const SESSION_HOURS: i64 = 12;
/// Lifetime of a set-password link.
pub const SET_PASSWORD_HOURS: i64 = 48;
/// Lifetime of a password-recovery link.
pub const RECOVERY_MINUTES: i64 = 60;

/// How long a session lasts: 12 hours, or 30 days for "Rester connecté".
pub fn session_length(stay: bool) -> Duration {
    if stay {
        Duration::days(LONG_SESSION_DAYS)
    } else {
        Duration::hours(SESSION_HOURS)
    }
}

/// Authentication over an engine.
pub struct Auth<'a> {
    engine: &'a Engine,
    links: &'a Links,
}

fn bad_link() -> Error {
    Error::invalid(
        FieldError::new("token", "unknown, used or expired link").coded(crate::FieldCode::BadLink),
    )
}

impl<'a> Auth<'a> {
    /// Authentication; `links` builds the one-time links.
    pub fn new(engine: &'a Engine, links: &'a Links) -> Self {
        Auth { engine, links }
    }

    /// Stores a single-use, expiring set-password token; returns the link carrying it.
    pub fn set_password_link(&self, tx: &Tx<'_>, account: u64) -> Result<String> {
        self.link_valid_for(tx, account, Duration::hours(SET_PASSWORD_HOURS))
    }

    fn link_valid_for(&self, tx: &Tx<'_>, account: u64, valid: Duration) -> Result<String> {
        let (token, hash) = new_token();
        tx.put_token(
            &hash,
            &Token::new(
                account,
                TokenPurpose::SetPassword,
                self.engine.now() + valid,
            ),
        )?;
        Ok(self.links.set_password(&token))
    }

    /// A forgotten password, for every role: when `email` is an active account's address, a
    /// one-time link valid [`RECOVERY_MINUTES`] is mailed. The answer is the same whether or
    /// not the address exists (no enumeration); `throttle` limits the requests per address and
    /// per client (a refusal says how long to wait, for any address alike).
    pub fn recover(
        &self,
        throttle: &super::Throttle,
        per_client: &super::Throttle,
        email: &str,
        client: &str,
    ) -> Result<()> {
        let email =
            crate::domain::validate::normalize_email("email", email).map_err(Error::invalid)?;
        per_client.attempt(&[format!("recover-ip:{client}")])?;
        throttle.attempt(&[format!("recover:{email}")])?;
        let Some(a) = self
            .engine
            .store()
            .account_by_login(&email)?
            .filter(|a| a.state == AccountState::Active && a.email == email)
        else {
            return Ok(());
        };
        let now = self.engine.now();
        self.engine.store().write(|tx| {
            let link = self.link_valid_for(tx, a.id, Duration::minutes(RECOVERY_MINUTES))?;
            let site = self.links.site_name();
            let letter = crate::mail::Letter::new(
                format!("Mot de passe oublié – {site}"),
                format!("Bonjour {},", a.first_name),
            )
            .para(format!(
                "Vous avez demandé à choisir un nouveau mot de passe. Ce lien est valable {RECOVERY_MINUTES} minutes et utilisable une fois :"
            ))
            .action("Choisir un nouveau mot de passe", link)
            .para("Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste le même.")
            .because(format!(
                "Vous recevez ce message parce qu'un nouveau mot de passe a été demandé pour le compte de cette adresse sur {site}."
            ));
            tx.queue_mail(letter.to(&a.email, self.links, now))?;
            Ok(())
        })
    }

    /// Sets a password from a single-use link token; every open session of the account ends.
    pub fn set_password(&self, token: &str, password: &str) -> Result<()> {
        let now = self.engine.now();
        let hash = token_hash(token);
        let t = self
            .engine
            .store()
            .token(&hash)?
            .filter(|t| t.purpose == TokenPurpose::SetPassword && t.expires_at > now)
            .ok_or_else(bad_link)?;
        let account = self
            .engine
            .store()
            .account(t.account)?
            .ok_or_else(|| Error::NotFound("account".into()))?;
        check_password(password, &account.email).map_err(Error::invalid)?;
        let pw_hash = hash_password(password)?;
        self.engine.store().write(|tx| {
            // Single use: the token must still be there inside the transaction.
            tx.take_token(&hash)?.ok_or_else(bad_link)?;
            let mut a = tx
                .account(t.account)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.password_hash = Some(pw_hash);
            tx.put_account(&a)?;
            // Every session and every other pending link ends (a recovery after a theft
            // leaves the thief nothing).
            tx.revoke_access(a.id, None)
        })
    }

    /// Checks credentials; answers a session token, valid [`SESSION_HOURS`] hours or, when
    /// `stay` ("Rester connecté"), [`LONG_SESSION_DAYS`] days. Wrong login and wrong password
    /// fail alike. The login is recorded (the inactivity rule counts from it).
    pub fn login(&self, login: &str, password: &str, stay: bool) -> Result<String> {
        let login = login.trim().to_lowercase();
        let account = self.engine.store().account_by_login(&login)?;
        // Verify against a fixed hash when the account is unknown, so timing tells nothing.
        static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            hash_password("offerwatch-dummy-password").unwrap_or_default()
        });
        let ok = match &account {
            Some(a) if a.state == AccountState::Active => match a.password_hash.as_deref() {
                Some(h) => verify_password(password, h)?,
                None => false,
            },
            _ => {
                verify_password(password, &DUMMY)?;
                false
            }
        };
        let Some(account) = account.filter(|_| ok) else {
            return Err(Error::Unauthorized("invalid login or password".into()));
        };
        let (token, hash) = new_token();
        let now = self.engine.now();
        let expires_at = now + session_length(stay);
        self.engine.store().write(|tx| {
            if let Some(mut a) = tx.account(account.id)? {
                a.last_login_at = Some(now);
                a.inactivity_warned_at = None;
                tx.put_account(&a)?;
            }
            tx.put_token(
                &hash,
                &Token::new(account.id, TokenPurpose::Session, expires_at),
            )
        })?;
        Ok(token)
    }

    /// [`Auth::login`] under the failed-login throttle of `client` and of the login.
    pub fn login_throttled(
        &self,
        throttle: &LoginThrottle,
        login: &str,
        password: &str,
        client: &str,
        stay: bool,
    ) -> Result<String> {
        throttle.guarded(
            &keys(login, client),
            || self.login(login, password, stay),
            |e| matches!(e, Error::Unauthorized(_)),
        )
    }

    /// Records that `account` accepted the terms of use in force.
    pub fn accept_terms(&self, account: u64) -> Result<Account> {
        let now = self.engine.now();
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(account)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.terms = Some(TermsAccepted::now(now));
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// Ends every session of `account` but `keep` (the session token asking, if any); the
    /// pending links stay.
    pub fn close_other_sessions(&self, account: u64, keep: Option<&str>) -> Result<()> {
        let keep = keep.map(token_hash);
        self.engine
            .store()
            .write(|tx| tx.revoke_sessions(account, keep.as_deref()))
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        self.engine
            .store()
            .write(|tx| tx.take_token(&hash).map(|_| ()))
    }

    /// The active account behind a session token.
    pub fn authenticate(&self, token: &str) -> Result<Account> {
        let t = self
            .engine
            .store()
            .token(&token_hash(token))?
            .filter(|t| t.purpose == TokenPurpose::Session && t.expires_at > self.engine.now())
            .ok_or_else(|| Error::Unauthorized("missing, invalid or expired token".into()))?;
        self.engine
            .store()
            .account(t.account)?
            .filter(|a| a.state == AccountState::Active)
            .ok_or_else(|| Error::Unauthorized("account not active".into()))
    }
}
