//! Recruiter accounts: the request, its review by an administrator (approve with a one-time
//! link to choose a password, or refuse with a reason), memberships, and administrators.

use serde::Deserialize;

use super::Backoffice;
use crate::auth::{SET_PASSWORD_HOURS, require};
use crate::domain::AdministrationCode;
use crate::domain::account::{
    Account, AccountState, MemberRole, RequestedService, Role, Service, civility, normalize_email,
    required_email, required_text, terms_ticked,
};
use crate::domain::validate::{optional_phone, optional_text};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::Letter;

/// A recruiter's account request: an existing service, or the administration and name of a
/// service that is not listed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecruiterRequest {
    /// `M.` or `Mme`.
    pub civility: Option<String>,
    /// Given name.
    #[schema(required = true)]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(required = true)]
    pub last_name: Option<String>,
    /// Professional e-mail address.
    #[schema(required = true)]
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Id of an existing service…
    pub service: Option<u64>,
    /// …or the administration and name of a service that is not listed.
    pub administration: Option<String>,
    /// The name of the service that is not listed.
    pub service_name: Option<String>,
    /// The entité of the service that is not listed: an existing one, or one not listed yet.
    pub entity_name: Option<String>,
    /// The terms of use (`/cgu`) accepted: must be `true`.
    #[schema(required = true)]
    pub cgu: Option<bool>,
}

impl Backoffice<'_> {
    fn set_password_mail(
        &self,
        tx: &crate::store::Tx<'_>,
        a: &Account,
        intro: &str,
    ) -> Result<String> {
        let link = self.auth().set_password_link(tx, a.id)?;
        let site = self.links.site_name();
        let letter = Letter::new(
            format!("Votre compte recruteur – {site}"),
            format!("Bonjour {} {},", a.first_name, a.last_name),
        )
        .para(intro)
        .para(format!(
            "Choisissez votre mot de passe (lien valable {SET_PASSWORD_HOURS} heures, utilisable une fois) :"
        ))
        .action("Choisir mon mot de passe", link.clone())
        .para(format!(
            "Pour vous connecter ensuite à l'espace recruteur, votre identifiant est votre adresse e-mail : {}.",
            a.email
        ))
        .because(format!(
            "Vous recevez ce message parce qu'un compte recruteur a été demandé pour cette adresse sur {site}."
        ));
        tx.queue_mail(letter.to(&a.email, &self.links, self.now()))?;
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
                member_roles: Default::default(),
                requested_service: None,
                refusal_reason: None,
                created_at: now,
                // Accepted at the first login.
                terms: None,
                last_login_at: None,
                inactivity_warned_at: None,
                favorites: Vec::new(),
                paused_since: None,
                documents: Vec::new(),
                applications: Vec::new(),
            };
            tx.put_account(&a)?;
            let link = self.auth().set_password_link(tx, id)?;
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
        let phone = optional_phone(&mut e, "phone", r.phone.as_deref());
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
                let entity = optional_text(&mut e, "entity_name", r.entity_name.as_deref(), 200);
                administration
                    .zip(name)
                    .map(|(administration, name)| RequestedService {
                        administration,
                        name,
                        entity,
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
        let terms = terms_ticked(&mut e, r.cgu, self.now());
        let (Some(first_name), Some(last_name), Some(email)) = (first_name, last_name, email)
        else {
            return Err(Error::Invalid(e));
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let now = self.now();
        let admins: Vec<Account> = self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|x| x.role == Role::Admin && x.state == AccountState::Active)
            .collect();
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
                phone,
                password_hash: None,
                services: r.service.into_iter().collect(),
                member_roles: Default::default(),
                requested_service,
                refusal_reason: None,
                created_at: now,
                terms,
                last_login_at: None,
                inactivity_warned_at: None,
                favorites: Vec::new(),
                paused_since: None,
                documents: Vec::new(),
                applications: Vec::new(),
            };
            tx.put_account(&a)?;
            // Every active administrator hears of the request.
            let what = match &a.requested_service {
                Some(r) => format!(
                    "un service non listé : « {} » ({})",
                    r.name,
                    r.administration.label()
                ),
                None => "un service existant".to_string(),
            };
            let site = self.links.site_name();
            let letter = Letter::new(
                format!("Nouvelle demande de compte recruteur – {site}"),
                "Bonjour,",
            )
            .para(format!(
                "{} {} <{}> demande un compte recruteur pour {what}.",
                a.first_name, a.last_name, a.email
            ))
            .action(
                "Examiner les demandes",
                format!("{}{}", self.links.base(), crate::links::ADMIN_REQUESTS),
            )
            .because(format!(
                "Vous recevez ce message parce que vous êtes administrateur de {site}."
            ));
            for admin in &admins {
                tx.queue_mail(letter.to(&admin.email, &self.links, now))?;
            }
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
        // The first member of a service manages it.
        let asked = self
            .engine
            .store()
            .account(id)?
            .and_then(|a| a.services.first().copied());
        let role = asked.map(|s| self.first_role(s)).transpose()?;
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
                    entity: req.entity,
                    details: Default::default(),
                };
                tx.put_service(&service)?;
                a.join(service.id, MemberRole::Gestionnaire);
            }
            if let (Some(s), Some(r)) = (asked, role) {
                a.join(s, r);
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
            let site = self.links.site_name();
            let letter = Letter::new(
                format!("Votre demande de compte recruteur – {site}"),
                format!("Bonjour {} {},", a.first_name, a.last_name),
            )
            .para("Votre demande de compte recruteur n'a pas été acceptée, pour la raison suivante :")
            .quote(reason)
            .because(format!(
                "Vous recevez ce message parce qu'un compte recruteur a été demandé pour cette adresse sur {site}."
            ));
            tx.queue_mail(letter.to(&a.email, &self.links, now))?;
            Ok(a)
        })
    }

    /// Adds a recruiter to a service (administrators), with `role` (by default gestionnaire
    /// for a service without members, rédacteur otherwise), or changes their role there.
    pub fn add_member(
        &self,
        admin: &Account,
        recruiter: u64,
        service: u64,
        role: Option<&str>,
    ) -> Result<Account> {
        require(admin, Role::Admin)?;
        let role = match role {
            Some(r) => MemberRole::parse("role", r).map_err(Error::invalid)?,
            None => self.first_role(service)?,
        };
        self.engine.store().write(|tx| {
            tx.service(service)?
                .ok_or_else(|| Error::NotFound(format!("service {service}")))?;
            let mut a = tx
                .account(recruiter)?
                .filter(|a| a.role == Role::Recruiter)
                .ok_or_else(|| Error::NotFound(format!("recruiter {recruiter}")))?;
            a.join(service, role);
            tx.put_account(&a)?;
            Ok(a)
        })
    }

    /// Every recruiter and administrator account, optionally of one role (administrators).
    pub fn staff(&self, admin: &Account, role: Option<Role>) -> Result<Vec<Account>> {
        require(admin, Role::Admin)?;
        Ok(self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| a.role != Role::Candidate && role.is_none_or(|r| a.role == r))
            .collect())
    }

    /// Disables an active account (its sessions end) or enables a disabled one again.
    pub fn set_enabled(&self, admin: &Account, id: u64, enabled: bool) -> Result<Account> {
        require(admin, Role::Admin)?;
        if id == admin.id && !enabled {
            return Err(Error::Conflict(
                "an administrator cannot disable their own account".into(),
            ));
        }
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(id)?
                .filter(|a| a.role != Role::Candidate)
                .ok_or_else(|| Error::NotFound(format!("account {id}")))?;
            let (from, to) = if enabled {
                (AccountState::Disabled, AccountState::Active)
            } else {
                (AccountState::Active, AccountState::Disabled)
            };
            if a.state != from {
                return Err(Error::Conflict(
                    format!("account {id} is {:?}, not {from:?}", a.state).to_lowercase(),
                ));
            }
            a.state = to;
            tx.put_account(&a)?;
            if !enabled {
                tx.revoke_tokens(a.id, None)?;
            }
            Ok(a)
        })
    }
}
