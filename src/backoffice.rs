//! The recruiter back office as a library: recruiter account requests and their review,
//! passwords and sessions, services, and the offer lifecycle with its permission rules and
//! audit trail. Every change is one store transaction, including the mail it sends.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::domain::account::{
    Account, AccountState, RequestedService, Role, Service, check_password, civility,
    normalize_email, required_email, required_text,
};
use crate::domain::offer::AuditEvent;
use crate::domain::{AdministrationCode, DateRule, Offer, OfferFields, OfferInput, OfferState};
use crate::engine::Engine;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::{html_escape, new_mail};
use crate::store::NewOffer;
use crate::store::accounts::{Token, TokenPurpose};

/// Lifetime of a login session.
pub const SESSION_HOURS: i64 = 12;
/// Lifetime of a set-password link.
pub const SET_PASSWORD_HOURS: i64 = 48;

/// A fresh random token (64 hex characters) and the hash it is stored under.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of bytes, hex (attachment file names).
pub fn token_hash_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| Error::Internal(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

/// Checks a password against its argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A recruiter's account request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecruiterRequest {
    pub civility: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// An existing service…
    pub service: Option<u64>,
    /// …or a new one: its administration and name.
    pub administration: Option<String>,
    pub service_name: Option<String>,
}

fn audit(actor: Option<u64>, action: &str, now: OffsetDateTime) -> AuditEvent {
    AuditEvent {
        at: now,
        actor,
        action: action.to_string(),
    }
}

/// The back office, over an engine.
pub struct Backoffice<'a> {
    engine: &'a Engine,
    base_url: &'a str,
}

impl<'a> Backoffice<'a> {
    /// The back office; `base_url` starts the links sent by mail.
    pub fn new(engine: &'a Engine, base_url: &'a str) -> Self {
        Backoffice { engine, base_url }
    }

    fn now(&self) -> OffsetDateTime {
        self.engine.now()
    }

    /// Stores a single-use, expiring set-password token; returns the link carrying it.
    fn set_password_link(&self, tx: &crate::store::Tx<'_>, account: u64) -> Result<String> {
        let (token, hash) = new_token();
        tx.put_token(
            &hash,
            &Token {
                account,
                purpose: TokenPurpose::SetPassword,
                expires_at: self.now() + Duration::hours(SET_PASSWORD_HOURS),
            },
        )?;
        Ok(format!("{}/set-password?token={token}", self.base_url))
    }

    fn set_password_mail(
        &self,
        tx: &crate::store::Tx<'_>,
        a: &Account,
        intro: &str,
    ) -> Result<String> {
        let link = self.set_password_link(tx, a.id)?;
        let text = format!(
            "Bonjour {} {},\n\n{intro}\n\nChoisissez votre mot de passe (lien valable {SET_PASSWORD_HOURS} heures, utilisable une fois) :\n{link}\n",
            a.first_name, a.last_name
        );
        let html = format!(
            "<p>Bonjour {} {},</p><p>{}</p><p><a href=\"{}\">Choisir mon mot de passe</a> (lien valable {SET_PASSWORD_HOURS} heures, utilisable une fois)</p>",
            html_escape(&a.first_name),
            html_escape(&a.last_name),
            html_escape(intro),
            html_escape(&link)
        );
        tx.queue_mail(new_mail(
            &a.email,
            "Votre compte offerwatch",
            text,
            html,
            self.now(),
        ))?;
        Ok(link)
    }

    /// Creates an administrator (first one from the command line); returns the one-time link.
    pub fn create_admin(
        &self,
        email: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<(Account, String)> {
        let email = normalize_email("email", email)
            .map_err(|e| Error::Invalid(ValidationErrors(vec![e])))?;
        let now = self.now();
        self.engine.store().write(|tx| {
            let id = tx.next_id("account_id")?;
            tx.claim_login(&email, id)?;
            let a = Account {
                id,
                role: Role::Admin,
                state: AccountState::Active,
                civility: None,
                first_name: first_name.into(),
                last_name: last_name.into(),
                email: email.clone(),
                username: None,
                email_confirmed: true,
                phone: None,
                password_hash: None,
                services: Vec::new(),
                requested_service: None,
                refusal_reason: None,
                created_at: now,
            };
            tx.put_account(&a)?;
            let link = self.set_password_link(tx, id)?;
            Ok((a, link))
        })
    }

    /// Records a recruiter's request (`pending`).
    pub fn request_recruiter(&self, r: RecruiterRequest) -> Result<Account> {
        let mut e = ValidationErrors::default();
        let first_name = required_text(&mut e, "first_name", r.first_name.as_deref(), 100);
        let last_name = required_text(&mut e, "last_name", r.last_name.as_deref(), 100);
        let email = required_email(&mut e, "email", r.email.as_deref());
        let civility = civility(&mut e, r.civility.as_deref());
        let requested_service = match (r.service, &r.administration, &r.service_name) {
            (Some(id), None, None) => {
                if self.engine.store().service(id)?.is_none() {
                    e.push(FieldError::new(
                        "service",
                        format!("no service {id}; see GET /api/v1/services"),
                    ));
                }
                None
            }
            (None, Some(adm), Some(name)) => {
                let administration = AdministrationCode::parse("administration", adm)
                    .map_err(|x| e.push(x))
                    .ok();
                let name = required_text(&mut e, "service_name", Some(name), 200);
                administration
                    .zip(name)
                    .map(|(administration, name)| RequestedService {
                        administration,
                        name,
                    })
            }
            _ => {
                e.push(FieldError::new(
                    "service",
                    "give either service (an id) or administration and service_name",
                ));
                None
            }
        };
        let (Some(first_name), Some(last_name), Some(email)) = (first_name, last_name, email)
        else {
            return Err(Error::Invalid(e));
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let now = self.now();
        self.engine.store().write(|tx| {
            let id = tx.next_id("account_id")?;
            tx.claim_login(&email, id)?;
            let a = Account {
                id,
                role: Role::Recruiter,
                state: AccountState::Pending,
                civility,
                first_name,
                last_name,
                email,
                username: None,
                // Confirmed by the single-use link of the approval mail.
                email_confirmed: true,
                phone: r
                    .phone
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
                password_hash: None,
                services: r.service.into_iter().collect(),
                requested_service,
                refusal_reason: None,
                created_at: now,
            };
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// Recruiter requests in a state.
    pub fn recruiters(&self, state: Option<AccountState>) -> Result<Vec<Account>> {
        Ok(self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| a.role == Role::Recruiter && state.is_none_or(|s| a.state == s))
            .collect())
    }

    /// Approves a pending recruiter: creates the requested service if any, and mails a
    /// single-use link to choose a password — one transaction.
    pub fn approve(&self, admin: &Account, id: u64) -> Result<Account> {
        require(admin, Role::Admin)?;
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(id)?
                .filter(|a| a.role == Role::Recruiter)
                .ok_or_else(|| Error::NotFound(format!("recruiter request {id}")))?;
            if a.state != AccountState::Pending {
                return Err(Error::Conflict(format!("request {id} is not pending")));
            }
            if let Some(req) = a.requested_service.take() {
                let service = Service {
                    id: tx.next_id("service_id")?,
                    name: req.name,
                    administration: req.administration,
                    entity: None,
                };
                tx.put_service(&service)?;
                a.services.push(service.id);
            }
            a.state = AccountState::Active;
            tx.put_account(&a)?;
            self.set_password_mail(tx, &a, "Votre demande de compte recruteur a été acceptée.")?;
            Ok(a)
        })
    }

    /// Refuses a pending recruiter, mailing the reason.
    pub fn refuse(&self, admin: &Account, id: u64, reason: &str) -> Result<Account> {
        require(admin, Role::Admin)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::Invalid(ValidationErrors(vec![FieldError::new(
                "reason",
                "is required",
            )])));
        }
        let now = self.now();
        self.engine.store().write(|tx| {
            let mut a = tx.account(id)?.filter(|a| a.role == Role::Recruiter).ok_or_else(|| Error::NotFound(format!("recruiter request {id}")))?;
            if a.state != AccountState::Pending {
                return Err(Error::Conflict(format!("request {id} is not pending")));
            }
            a.state = AccountState::Refused;
            a.refusal_reason = Some(reason.to_string());
            tx.put_account(&a)?;
            let text = format!("Bonjour {} {},\n\nVotre demande de compte recruteur n'a pas été acceptée, pour la raison suivante :\n{reason}\n", a.first_name, a.last_name);
            let html = format!("<p>Bonjour {} {},</p><p>Votre demande de compte recruteur n'a pas été acceptée, pour la raison suivante :</p><blockquote>{}</blockquote>", html_escape(&a.first_name), html_escape(&a.last_name), html_escape(reason));
            tx.queue_mail(new_mail(&a.email, "Votre demande de compte offerwatch", text, html, now))?;
            Ok(a)
        })
    }

    /// Sets a password from a single-use link token.
    pub fn set_password(&self, token: &str, password: &str) -> Result<()> {
        let now = self.now();
        let hash = token_hash(token);
        let stored = self.engine.store().token(&hash)?;
        let Some(t) =
            stored.filter(|t| t.purpose == TokenPurpose::SetPassword && t.expires_at > now)
        else {
            return Err(Error::Invalid(ValidationErrors(vec![FieldError::new(
                "token",
                "unknown, used or expired link",
            )])));
        };
        let account = self
            .engine
            .store()
            .account(t.account)?
            .ok_or_else(|| Error::NotFound("account".into()))?;
        check_password(password, &account.email)
            .map_err(|e| Error::Invalid(ValidationErrors(vec![e])))?;
        let pw_hash = hash_password(password)?;
        self.engine.store().write(|tx| {
            // Single use: the token must still be there inside the transaction.
            tx.take_token(&hash)?.ok_or_else(|| {
                Error::Invalid(ValidationErrors(vec![FieldError::new(
                    "token",
                    "unknown, used or expired link",
                )]))
            })?;
            let mut a = tx
                .account(t.account)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            a.password_hash = Some(pw_hash);
            tx.put_account(&a)?;
            // A new password ends every open session.
            tx.revoke_tokens(a.id, Some(TokenPurpose::Session))
        })
    }

    /// Checks credentials; answers a session token. Wrong login and wrong password fail alike.
    pub fn login(&self, login: &str, password: &str) -> Result<String> {
        let login = login.trim().to_lowercase();
        let account = self.engine.store().account_by_login(&login)?;
        // Verify against a fixed hash when the account is unknown, so timing tells nothing.
        static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            hash_password("offerwatch-dummy-password").unwrap_or_default()
        });
        let ok = match &account {
            Some(a) if a.state == AccountState::Active => a
                .password_hash
                .as_deref()
                .is_some_and(|h| verify_password(password, h)),
            _ => {
                verify_password(password, &DUMMY);
                false
            }
        };
        let Some(account) = account.filter(|_| ok) else {
            return Err(Error::Unauthorized("invalid login or password".into()));
        };
        let (token, hash) = new_token();
        let expires_at = self.now() + Duration::hours(SESSION_HOURS);
        self.engine.store().write(|tx| {
            tx.put_token(
                &hash,
                &Token {
                    account: account.id,
                    purpose: TokenPurpose::Session,
                    expires_at,
                },
            )
        })?;
        Ok(token)
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        self.engine
            .store()
            .write(|tx| tx.take_token(&hash).map(|_| ()))
    }

    /// The account behind a bearer token.
    pub fn authenticate(&self, token: &str) -> Result<Account> {
        let t = self
            .engine
            .store()
            .token(&token_hash(token))?
            .filter(|t| t.purpose == TokenPurpose::Session && t.expires_at > self.now())
            .ok_or_else(|| Error::Unauthorized("missing, invalid or expired token".into()))?;
        self.engine
            .store()
            .account(t.account)?
            .filter(|a| a.state == AccountState::Active)
            .ok_or_else(|| Error::Unauthorized("account not active".into()))
    }

    /// Creates a service (administrators).
    pub fn create_service(
        &self,
        admin: &Account,
        name: &str,
        administration: &str,
        entity: Option<String>,
    ) -> Result<Service> {
        require(admin, Role::Admin)?;
        let mut e = ValidationErrors::default();
        let name = required_text(&mut e, "name", Some(name), 200);
        let administration = AdministrationCode::parse("administration", administration)
            .map_err(|x| e.push(x))
            .ok();
        let (Some(name), Some(administration)) = (name, administration) else {
            return Err(Error::Invalid(e));
        };
        self.engine.store().write(|tx| {
            let s = Service {
                id: tx.next_id("service_id")?,
                name,
                administration,
                entity,
            };
            tx.put_service(&s)?;
            Ok(s)
        })
    }

    /// Adds a recruiter to a service (administrators).
    pub fn add_member(&self, admin: &Account, recruiter: u64, service: u64) -> Result<Account> {
        require(admin, Role::Admin)?;
        self.engine.store().write(|tx| {
            tx.service(service)?
                .ok_or_else(|| Error::NotFound(format!("service {service}")))?;
            let mut a = tx
                .account(recruiter)?
                .filter(|a| a.role == Role::Recruiter)
                .ok_or_else(|| Error::NotFound(format!("recruiter {recruiter}")))?;
            if !a.services.contains(&service) {
                a.services.push(service);
            }
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// Services, optionally of one administration.
    pub fn services(&self, administration: Option<&str>) -> Result<Vec<Service>> {
        let filter = administration
            .map(|a| {
                AdministrationCode::parse("administration", a)
                    .map_err(|e| Error::Invalid(ValidationErrors(vec![e])))
            })
            .transpose()?;
        Ok(self
            .engine
            .store()
            .services()?
            .into_iter()
            .filter(|s| filter.is_none_or(|a| s.administration == a))
            .collect())
    }

    // ----- offers -----

    /// The offer with `reference` if the recruiter may manage it; 404 otherwise (no leak).
    pub fn offer(&self, who: &Account, reference: &str) -> Result<Offer> {
        require(who, Role::Recruiter)?;
        self.engine
            .store()
            .offer_by_reference(reference)?
            .filter(|o| o.service_id.is_some_and(|s| who.services.contains(&s)))
            .ok_or_else(|| Error::NotFound(format!("no offer {reference} in your services")))
    }

    /// The offers of the recruiter's services, optionally in one state, newest first.
    pub fn offers(&self, who: &Account, state: Option<OfferState>) -> Result<Vec<Offer>> {
        require(who, Role::Recruiter)?;
        let mut ids = Vec::new();
        for s in &who.services {
            ids.extend(self.engine.store().service_offer_ids(*s)?);
        }
        let mut offers: Vec<Offer> = self
            .engine
            .store()
            .offers(&ids)?
            .into_iter()
            .filter(|o| state.is_none_or(|s| o.state == s))
            .collect();
        offers.sort_by_key(|o| std::cmp::Reverse((o.updated_at, o.id)));
        Ok(offers)
    }

    fn validate(&self, who: &Account, input: &OfferInput) -> Result<(OfferFields, u64)> {
        let mut input = input.clone();
        let service = match &input.service {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let mut errors = ValidationErrors::default();
        let service = match service {
            Some(id) if who.services.contains(&id) => self.engine.store().service(id)?,
            Some(_) | None => None,
        };
        match &service {
            Some(s) => {
                input.service = Some(serde_json::Value::String(s.name.clone()));
                match input.administration.as_deref() {
                    None | Some("") => input.administration = Some(s.administration.code().into()),
                    Some(a) if a != s.administration.code() => {
                        errors.push(FieldError::with_allowed(
                            "administration",
                            format!("the service belongs to '{}'", s.administration.code()),
                            vec![s.administration.code().into()],
                        ))
                    }
                    Some(_) => {}
                }
            }
            None => {
                input.service = None;
                errors.push(FieldError::with_allowed(
                    "service",
                    "must be the id of one of your services",
                    who.services.iter().map(u64::to_string).collect(),
                ));
            }
        }
        let fields = input.validate(DateRule::Submission {
            today: self.now().date(),
        });
        match fields {
            Ok(f) if errors.0.is_empty() => Ok((f, service.map(|s| s.id).unwrap_or(0))),
            Ok(_) => Err(Error::Invalid(errors)),
            Err(mut e) => {
                e.0.retain(|x| x.field != "service" || errors.0.is_empty());
                errors.0.extend(e.0);
                Err(Error::Invalid(errors))
            }
        }
    }

    /// Creates an offer, draft by default or published at once.
    pub fn create_offer(&self, who: &Account, input: &OfferInput) -> Result<(Offer, u64)> {
        require(who, Role::Recruiter)?;
        let state = match input.state.as_deref() {
            None | Some("draft") => OfferState::Draft,
            Some("published") => OfferState::Published,
            Some(s) => {
                return Err(Error::Invalid(ValidationErrors(vec![
                    FieldError::with_allowed(
                        "state",
                        format!("cannot create an offer in state '{s}'"),
                        vec!["draft".into(), "published".into()],
                    ),
                ])));
            }
        };
        if input.published_at.is_some() {
            return Err(Error::Invalid(ValidationErrors(vec![FieldError::new(
                "published_at",
                "is set by the server",
            )])));
        }
        let (fields, service) = self.validate(who, input)?;
        let now = self.now();
        let mut audit_trail = vec![audit(Some(who.id), "created", now)];
        if state == OfferState::Published {
            audit_trail.push(audit(Some(who.id), "published", now));
        }
        let (offers, seq) = self.engine.create_offers(vec![NewOffer {
            fields,
            state,
            created_at: now,
            published_at: (state == OfferState::Published).then_some(now),
            service_id: Some(service),
            audit: audit_trail,
        }])?;
        let offer = offers
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("no offer created".into()))?;
        Ok((offer, seq))
    }

    /// Replaces the editable fields; the state does not change.
    pub fn replace_offer(
        &self,
        who: &Account,
        reference: &str,
        input: &OfferInput,
    ) -> Result<(Offer, u64)> {
        let current = self.offer(who, reference)?;
        if input.state.is_some() || input.published_at.is_some() {
            return Err(Error::Invalid(ValidationErrors(vec![FieldError::new(
                "state",
                "use the publish, archive, unarchive and filled actions to change the state",
            )])));
        }
        let (mut fields, service) = self.validate(who, input)?;
        fields.attachments = current.fields.attachments.clone();
        let now = self.now();
        let r = self.engine.store().update_offer(current.id, |o| {
            if o.service_id != Some(service) {
                // Moving an offer to another of the caller's services.
                o.service_id = Some(service);
            }
            o.fields = fields;
            o.updated_at = now;
            o.audit.push(audit(Some(who.id), "updated", now));
            Ok(())
        });
        let (offer, seq) = r?;
        if current.service_id != offer.service_id {
            self.engine.store().write(|tx| {
                if let Some(old) = current.service_id {
                    tx.unlink_offer(old, offer.id)?;
                }
                tx.link_offer(service, offer.id)
            })?;
        }
        self.engine.indexer().notify();
        Ok((offer, seq))
    }

    /// publish | archive | unarchive | filled.
    pub fn transition(&self, who: &Account, reference: &str, action: &str) -> Result<(Offer, u64)> {
        let current = self.offer(who, reference)?;
        let now = self.now();
        let today = now.date();
        let (from, to, done): (&[OfferState], OfferState, &str) = match action {
            "publish" => (&[OfferState::Draft], OfferState::Published, "published"),
            "archive" => (
                &[OfferState::Published, OfferState::Filled],
                OfferState::Archived,
                "archived",
            ),
            "unarchive" => (&[OfferState::Archived], OfferState::Published, "unarchived"),
            "filled" => (
                &[OfferState::Published],
                OfferState::Filled,
                "marked filled",
            ),
            _ => return Err(Error::NotFound(format!("no action {action}"))),
        };
        let r = self.engine.store().update_offer(current.id, |o| {
            if !from.contains(&o.state) {
                return Err(Error::Conflict(format!("cannot {action} an offer that is {:?}", o.state).to_lowercase()));
            }
            if to == OfferState::Published && o.fields.unpublish_on <= today {
                return Err(Error::Conflict("the end-of-diffusion date has passed: replace the offer with a new unpublish_on first".into()));
            }
            if to == OfferState::Published {
                o.published_at = Some(now);
                o.first_published_at.get_or_insert(now);
            }
            o.state = to;
            o.updated_at = now;
            o.audit.push(audit(Some(who.id), done, now));
            Ok(())
        })?;
        self.engine.indexer().notify();
        Ok(r)
    }

    /// A new draft with the same fields and a new reference.
    pub fn clone_offer(&self, who: &Account, reference: &str) -> Result<(Offer, u64)> {
        let source = self.offer(who, reference)?;
        let now = self.now();
        let (offers, seq) = self.engine.create_offers(vec![NewOffer {
            fields: source.fields.clone(),
            state: OfferState::Draft,
            created_at: now,
            published_at: None,
            service_id: source.service_id,
            audit: vec![audit(
                Some(who.id),
                &format!("created as a copy of {}", source.reference),
                now,
            )],
        }])?;
        let offer = offers
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("no offer created".into()))?;
        Ok((offer, seq))
    }

    /// Deletes a draft; 409 for any other state.
    pub fn delete_offer(&self, who: &Account, reference: &str) -> Result<u64> {
        let current = self.offer(who, reference)?;
        self.engine.delete_draft(current.id)
    }

    /// Adds attachment metadata to an offer (the file is already stored).
    pub fn add_attachment(
        &self,
        who: &Account,
        id: u64,
        meta: crate::domain::offer::Attachment,
    ) -> Result<Offer> {
        let now = self.now();
        let (offer, _) = self.engine.store().update_offer(id, |o| {
            if o.fields.attachments.len() >= 3 {
                return Err(Error::Conflict("an offer has at most 3 attachments".into()));
            }
            o.audit
                .push(audit(Some(who.id), &format!("attached {}", meta.name), now));
            o.fields.attachments.push(meta);
            o.updated_at = now;
            Ok(())
        })?;
        self.engine.indexer().notify();
        Ok(offer)
    }

    /// Removes the n-th (1-based) attachment of an offer.
    pub fn remove_attachment(&self, who: &Account, id: u64, n: usize) -> Result<Offer> {
        let now = self.now();
        let (offer, _) = self.engine.store().update_offer(id, |o| {
            if n == 0 || n > o.fields.attachments.len() {
                return Err(Error::NotFound(format!("no attachment {n}")));
            }
            let removed = o.fields.attachments.remove(n - 1);
            o.audit.push(audit(
                Some(who.id),
                &format!("removed attachment {}", removed.name),
                now,
            ));
            o.updated_at = now;
            Ok(())
        })?;
        self.engine.indexer().notify();
        Ok(offer)
    }

    /// Archives every published offer whose end of diffusion has come; returns how many.
    pub fn archive_expired(&self) -> Result<usize> {
        let now = self.now();
        let mut expired = Vec::new();
        self.engine.store().for_each_offer(|o| {
            if o.state == OfferState::Published && o.visible_until() <= now {
                expired.push(o.id);
            }
            Ok(())
        })?;
        for &id in &expired {
            self.engine.store().update_offer(id, |o| {
                if o.state == OfferState::Published {
                    o.state = OfferState::Archived;
                    o.updated_at = now;
                    o.audit.push(audit(
                        None,
                        "archived automatically (end of diffusion)",
                        now,
                    ));
                }
                Ok(())
            })?;
        }
        if !expired.is_empty() {
            self.engine.indexer().notify();
            tracing::info!(
                count = expired.len(),
                "offers archived at the end of their diffusion"
            );
        }
        Ok(expired.len())
    }
}

/// Requires a role.
pub fn require(who: &Account, role: Role) -> Result<()> {
    if who.role == role && who.state == AccountState::Active {
        Ok(())
    } else {
        Err(Error::Forbidden(
            format!("this needs a {role:?} account").to_lowercase(),
        ))
    }
}
