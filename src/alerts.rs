//! Candidates, their saved searches and alerts: sign-up with e-mail confirmation, the personal
//! data rights (read, change, export, delete), saved searches, the signed one-click unsubscribe
//! token, and percolation of newly published offers into the alert outbox.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::Duration;

use crate::backoffice::{hash_password, new_token, token_hash};
use crate::domain::account::{
    Account, AccountState, Frequency, Role, SavedSearch, check_password, civility, normalize_email,
    required_email, required_text,
};
use crate::domain::{OfferState, SearchParams};
use crate::engine::Engine;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::{html_escape, new_mail};
use crate::store::Store;
use crate::store::accounts::{MailState, Token, TokenPurpose};
use crate::store::alerts::OutboxRow;

/// Lifetime of an e-mail confirmation link.
pub const CONFIRM_DAYS: i64 = 7;
/// Change-log entries percolated per round.
const PERCOLATE_STEP: usize = 2_000;
const CURSOR: &str = "percolated_seq";

fn invalid(e: FieldError) -> Error {
    Error::Invalid(ValidationErrors(vec![e]))
}

/// A candidate's sign-up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    pub civility: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub phone: Option<String>,
}

/// A change of the caller's account (`PATCH /api/v1/me`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub civility: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// A new saved search.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSearch {
    pub name: Option<String>,
    #[serde(default)]
    pub criteria: serde_json::Map<String, serde_json::Value>,
    pub alert: Option<bool>,
    pub frequency: Option<String>,
}

/// A change of a saved search.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchPatch {
    pub name: Option<String>,
    pub alert: Option<bool>,
    pub frequency: Option<String>,
}

fn frequency(v: Option<&str>) -> Result<Frequency> {
    match v {
        None | Some("immediate") => Ok(Frequency::Immediate),
        Some("daily") => Ok(Frequency::Daily),
        Some(f) => Err(invalid(FieldError::with_allowed(
            "frequency",
            format!("unknown frequency '{f}'"),
            vec!["immediate".into(), "daily".into()],
        ))),
    }
}

/// Criteria object → validated query pairs (lists for repeatable parameters).
pub fn criteria_pairs(
    criteria: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut errors = ValidationErrors::default();
    for (k, v) in criteria {
        if ["page", "per_page", "facets"].contains(&k.as_str()) {
            errors.push(FieldError::new(
                format!("criteria.{k}"),
                "is not a search criterion",
            ));
            continue;
        }
        let values = match v {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Null => Vec::new(),
            other => vec![other.clone()],
        };
        for v in values {
            match v {
                serde_json::Value::String(s) => pairs.push((k.clone(), s)),
                serde_json::Value::Number(n) => pairs.push((k.clone(), n.to_string())),
                _ => errors.push(FieldError::new(
                    format!("criteria.{k}"),
                    "must be a string or a list of strings",
                )),
            }
        }
    }
    if let Err(e) = SearchParams::from_pairs(&pairs) {
        errors.0.extend(e.0.into_iter().map(|mut f| {
            f.field = format!("criteria.{}", f.field);
            f
        }));
    }
    errors.into_result(pairs).map_err(Error::Invalid)
}

/// HMAC-SHA256 (RFC 2104), hex.
fn hmac(secret: &[u8], message: &[u8]) -> String {
    let mut key = [0u8; 64];
    if secret.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let pad = |b: u8| key.iter().map(|k| k ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The candidate side, over an engine.
pub struct Alerts<'a> {
    engine: &'a Engine,
    base_url: &'a str,
    max_searches: usize,
}

impl<'a> Alerts<'a> {
    /// `max_searches` saved searches per candidate.
    pub fn new(engine: &'a Engine, base_url: &'a str, max_searches: usize) -> Self {
        Alerts {
            engine,
            base_url,
            max_searches,
        }
    }

    fn confirm_mail(&self, tx: &crate::store::Tx<'_>, a: &Account) -> Result<()> {
        let (token, hash) = new_token();
        tx.put_token(
            &hash,
            &Token {
                account: a.id,
                purpose: TokenPurpose::ConfirmEmail,
                expires_at: self.engine.now() + Duration::days(CONFIRM_DAYS),
            },
        )?;
        let link = format!("{}/confirmer-email?token={token}", self.base_url);
        let text = format!(
            "Bonjour {},\n\nConfirmez votre adresse pour recevoir vos alertes (lien valable {CONFIRM_DAYS} jours) :\n{link}\n\nLe jeton à envoyer à POST /api/v1/me/confirm : {token}\n",
            a.first_name
        );
        let html = format!(
            "<p>Bonjour {},</p><p><a href=\"{}\">Confirmer mon adresse</a> pour recevoir mes alertes (lien valable {CONFIRM_DAYS} jours).</p>",
            html_escape(&a.first_name),
            html_escape(&link)
        );
        tx.queue_mail(new_mail(
            &a.email,
            "Confirmez votre adresse e-mail",
            text,
            html,
            self.engine.now(),
        ))?;
        Ok(())
    }

    /// Creates a candidate account and mails the confirmation link.
    pub fn signup(&self, s: Signup) -> Result<Account> {
        let mut e = ValidationErrors::default();
        let first_name = required_text(&mut e, "first_name", s.first_name.as_deref(), 100);
        let last_name = required_text(&mut e, "last_name", s.last_name.as_deref(), 100);
        let email = required_email(&mut e, "email", s.email.as_deref());
        let username = required_text(&mut e, "username", s.username.as_deref(), 40).and_then(|u| {
            let u = u.to_lowercase();
            if u.contains('@')
                || !u.chars().all(|c| c.is_alphanumeric() || "._-".contains(c))
                || u.chars().count() < 3
            {
                e.push(FieldError::new(
                    "username",
                    "3 to 40 letters, digits, '.', '_' or '-'",
                ));
                None
            } else {
                Some(u)
            }
        });
        let password = match (s.password.as_deref(), &email) {
            (None, _) => {
                e.push(FieldError::new("password", "is required"));
                None
            }
            (Some(p), m) => check_password(p, m.as_deref().unwrap_or(""))
                .map_err(|x| e.push(x))
                .ok()
                .map(|_| p.to_string()),
        };
        let civility = civility(&mut e, s.civility.as_deref());
        let (Some(first_name), Some(last_name), Some(email), Some(username), Some(password)) =
            (first_name, last_name, email, username, password)
        else {
            return Err(Error::Invalid(e));
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let hash = hash_password(&password)?;
        let now = self.engine.now();
        self.engine.store().write(|tx| {
            let id = tx.next_id("account_id")?;
            tx.claim_login(&email, id)?;
            tx.claim_login(&username, id)?;
            let a = Account {
                id,
                role: Role::Candidate,
                state: AccountState::Active,
                civility,
                first_name,
                last_name,
                email,
                username: Some(username),
                email_confirmed: false,
                phone: s
                    .phone
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
                password_hash: Some(hash),
                services: Vec::new(),
                requested_service: None,
                refusal_reason: None,
                created_at: now,
            };
            tx.put_account(&a)?;
            self.confirm_mail(tx, &a)?;
            Ok(a)
        })
    }

    /// Confirms an address with the token of its link; the candidate's alerts become active.
    pub fn confirm(&self, token: &str) -> Result<Account> {
        let hash = token_hash(token);
        let now = self.engine.now();
        let account = self.engine.store().write(|tx| {
            let t = tx
                .take_token(&hash)?
                .filter(|t| t.purpose == TokenPurpose::ConfirmEmail && t.expires_at > now)
                .ok_or_else(|| {
                    invalid(FieldError::new("token", "unknown, used or expired link"))
                })?;
            let mut a = tx
                .account(t.account)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.email_confirmed = true;
            tx.put_account(&a)?;
            Ok(a)
        })?;
        self.engine.refresh_alerts_of(account.id)?;
        Ok(account)
    }

    fn candidate(&self, who: &Account) -> Result<()> {
        crate::backoffice::require(who, Role::Candidate)
    }

    /// Changes the caller's account; a new e-mail address must be confirmed again, a new
    /// password needs the current one.
    pub fn update_me(&self, who: &Account, p: AccountPatch) -> Result<Account> {
        let mut e = ValidationErrors::default();
        let new_email = match p.email.as_deref() {
            Some(m) => normalize_email("email", m)
                .map_err(|x| e.push(x))
                .ok()
                .filter(|m| *m != who.email),
            None => None,
        };
        let new_hash = match &p.password {
            Some(pw) => {
                let current_ok = p
                    .current_password
                    .as_deref()
                    .zip(who.password_hash.as_deref())
                    .is_some_and(|(c, h)| crate::backoffice::verify_password(c, h));
                if !current_ok {
                    e.push(FieldError::new(
                        "current_password",
                        "is required and must be the current password to change the password",
                    ));
                }
                if let Err(x) = check_password(pw, new_email.as_deref().unwrap_or(&who.email)) {
                    e.push(x);
                }
                (e.0.is_empty()).then(|| hash_password(pw)).transpose()?
            }
            None => None,
        };
        let first_name = p
            .first_name
            .as_deref()
            .map(|v| required_text(&mut e, "first_name", Some(v), 100));
        let last_name = p
            .last_name
            .as_deref()
            .map(|v| required_text(&mut e, "last_name", Some(v), 100));
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let account = self.engine.store().write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            if let Some(Some(v)) = first_name {
                a.first_name = v;
            }
            if let Some(Some(v)) = last_name {
                a.last_name = v;
            }
            if let Some(c) = p.civility {
                a.civility = Some(c).filter(|c| !c.trim().is_empty());
            }
            if let Some(ph) = p.phone {
                a.phone = Some(ph.trim().to_string()).filter(|p| !p.is_empty());
            }
            if let Some(h) = new_hash {
                a.password_hash = Some(h);
            }
            if let Some(m) = &new_email {
                tx.claim_login(m, a.id)?;
                tx.release_login(&a.email)?;
                a.email = m.clone();
                if a.role == Role::Candidate {
                    a.email_confirmed = false;
                }
            }
            tx.put_account(&a)?;
            if new_email.is_some() && a.role == Role::Candidate {
                self.confirm_mail(tx, &a)?;
            }
            Ok(a)
        })?;
        self.engine.refresh_alerts_of(account.id)?;
        Ok(account)
    }

    /// Deletes the caller's account and everything attached: saved searches, their alerts and
    /// pending mails, tokens, logins.
    pub fn delete_me(&self, who: &Account) -> Result<()> {
        self.candidate(who)?;
        let searches = self.engine.store().saved_searches_of(who.id)?;
        self.engine.store().write(|tx| {
            for s in &searches {
                tx.delete_saved_search(s)?;
            }
            tx.drop_pending_mails_to(&who.email)?;
            tx.revoke_tokens(who.id, None)?;
            let mut logins = vec![who.email.clone()];
            logins.extend(who.username.clone());
            tx.delete_account(who, &logins)
        })?;
        let mut p = self.engine.percolator_mut();
        for s in &searches {
            p.remove(s.id);
        }
        Ok(())
    }

    /// Every personal datum held about the caller, as JSON.
    pub fn export(&self, who: &Account) -> Result<serde_json::Value> {
        let searches = self.engine.store().saved_searches_of(who.id)?;
        let ids: Vec<u64> = searches.iter().map(|s| s.id).collect();
        let alerts = self.engine.store().outbox_of(&ids)?;
        let mails: Vec<serde_json::Value> = self
            .engine
            .store()
            .mails()?
            .into_iter()
            .filter(|m| m.to == who.email)
            .map(|m| serde_json::json!({"subject": m.subject, "state": m.state, "queued_for": m.next_attempt_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()}))
            .collect();
        let mut account = serde_json::to_value(who)?;
        if let Some(map) = account.as_object_mut() {
            map.remove("password_hash");
        }
        Ok(serde_json::json!({
            "account": account,
            "saved_searches": searches,
            "alert_matches": alerts.iter().map(|r| serde_json::json!({"search": r.search, "offer": self.engine.store().offer(r.offer).ok().flatten().map(|o| o.reference.to_string()), "state": r.state, "created_at": r.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()})).collect::<Vec<_>>(),
            "mails": mails,
        }))
    }

    /// Saves a search (at most `max_searches` per candidate: 409 past it).
    pub fn create_search(&self, who: &Account, n: NewSearch) -> Result<SavedSearch> {
        self.candidate(who)?;
        let mut e = ValidationErrors::default();
        let name = required_text(&mut e, "name", n.name.as_deref(), 100);
        let criteria = criteria_pairs(&n.criteria)
            .map_err(|x| {
                if let Error::Invalid(v) = x {
                    e.0.extend(v.0)
                }
            })
            .ok();
        let freq = frequency(n.frequency.as_deref())
            .map_err(|x| {
                if let Error::Invalid(v) = x {
                    e.0.extend(v.0)
                }
            })
            .ok();
        let (Some(name), Some(criteria), Some(frequency)) = (name, criteria, freq) else {
            return Err(Error::Invalid(e));
        };
        let now = self.engine.now();
        let s = self.engine.store().write(|tx| {
            if tx.saved_search_ids(who.id)?.len() >= self.max_searches {
                return Err(Error::Conflict(format!(
                    "at most {} saved searches per account",
                    self.max_searches
                )));
            }
            let s = SavedSearch {
                id: tx.next_id("saved_search_id")?,
                account: who.id,
                name,
                criteria,
                alert: n.alert.unwrap_or(true),
                frequency,
                created_at: now,
            };
            tx.put_saved_search(&s)?;
            Ok(s)
        })?;
        self.engine.refresh_alert(&s, who.email_confirmed)?;
        Ok(s)
    }

    /// The caller's saved searches.
    pub fn searches(&self, who: &Account) -> Result<Vec<SavedSearch>> {
        self.candidate(who)?;
        self.engine.store().saved_searches_of(who.id)
    }

    fn own(&self, who: &Account, id: u64) -> Result<SavedSearch> {
        self.candidate(who)?;
        self.engine
            .store()
            .saved_search(id)?
            .filter(|s| s.account == who.id)
            .ok_or_else(|| Error::NotFound(format!("no saved search {id}")))
    }

    /// Renames, switches the alert on or off, changes the frequency.
    pub fn patch_search(&self, who: &Account, id: u64, p: SearchPatch) -> Result<SavedSearch> {
        let mut s = self.own(who, id)?;
        let mut e = ValidationErrors::default();
        if let Some(n) = p.name.as_deref()
            && let Some(n) = required_text(&mut e, "name", Some(n), 100)
        {
            s.name = n;
        }
        if let Some(f) = p.frequency.as_deref() {
            match frequency(Some(f)) {
                Ok(f) => s.frequency = f,
                Err(Error::Invalid(v)) => e.0.extend(v.0),
                Err(x) => return Err(x),
            }
        }
        if let Some(a) = p.alert {
            s.alert = a;
        }
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        self.engine.store().write(|tx| tx.put_saved_search(&s))?;
        self.engine.refresh_alert(&s, who.email_confirmed)?;
        Ok(s)
    }

    /// Deletes a saved search and its pending alert mails.
    pub fn delete_search(&self, who: &Account, id: u64) -> Result<()> {
        let s = self.own(who, id)?;
        self.engine.store().write(|tx| tx.delete_saved_search(&s))?;
        self.engine.percolator_mut().remove(s.id);
        Ok(())
    }

    /// The signed token of the one-click unsubscribe link of one alert.
    pub fn unsubscribe_token(&self, search: u64) -> Result<String> {
        let secret = self.engine.secret()?;
        Ok(format!(
            "{search}.{}",
            hmac(
                secret.as_bytes(),
                format!("unsubscribe:{search}").as_bytes()
            )
        ))
    }

    /// The alert a token names, if the signature holds.
    pub fn alert_of_token(&self, token: &str) -> Result<SavedSearch> {
        let bad = || invalid(FieldError::new("token", "invalid unsubscribe link"));
        let (id, _) = token.split_once('.').ok_or_else(bad)?;
        let id: u64 = id.parse().map_err(|_| bad())?;
        let expected = self.unsubscribe_token(id)?;
        // Compare in constant time.
        let same = expected.len() == token.len()
            && expected
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(bad());
        }
        self.engine
            .store()
            .saved_search(id)?
            .ok_or_else(|| Error::NotFound("this alert no longer exists".into()))
    }

    /// Switches off the alert a token names (no login: RFC 8058 one-click).
    pub fn unsubscribe(&self, token: &str) -> Result<SavedSearch> {
        let mut s = self.alert_of_token(token)?;
        s.alert = false;
        self.engine.store().write(|tx| tx.put_saved_search(&s))?;
        self.engine.percolator_mut().remove(s.id);
        Ok(s)
    }
}

impl Engine {
    /// Percolates the offers first published since the last round: each match becomes an
    /// outbox row, written with the record that the offer was percolated. Returns the matches.
    pub fn percolate_pending(&self) -> Result<usize> {
        let store = self.store();
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
        let now = self.now();
        let mut found = Vec::new();
        for offer in store.offers(&ids)? {
            if offer.state != OfferState::Published || offer.first_published_at.is_none() {
                continue;
            }
            let searches = self.percolator().matches(&offer, now);
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
}
