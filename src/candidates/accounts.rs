//! A candidate's account: sign-up, address confirmation, changes, export and deletion.

use serde::Deserialize;
use time::Duration;

use super::Candidates;
use crate::auth::{hash_password, new_token, token_hash, verify_password};
use crate::domain::account::{
    Account, AccountState, Role, check_password, civility, normalize_email, required_email,
    required_text, terms_ticked,
};
use crate::domain::validate::optional_phone;
use crate::error::{Error, FieldCode, FieldError, Result, ValidationErrors};
use crate::mail::Letter;
use crate::store::accounts::{Token, TokenPurpose};

/// Lifetime of an e-mail confirmation link.
pub const CONFIRM_DAYS: i64 = 7;
/// Lifetime of the link that makes a new address the account's.
pub const CHANGE_EMAIL_HOURS: i64 = 48;

/// A candidate's sign-up. Missing required fields are each named in the 422 answer.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    /// `M.` or `Mme`.
    pub civility: Option<String>,
    /// Family name.
    #[schema(required = true)]
    pub last_name: Option<String>,
    /// Given name.
    #[schema(required = true)]
    pub first_name: Option<String>,
    /// E-mail address (confirmed by a mailed link).
    #[schema(required = true)]
    pub email: Option<String>,
    /// Username for logging in: letters, digits, `.`, `_`, `-`.
    #[schema(required = true)]
    pub username: Option<String>,
    /// At least 12 characters of three kinds.
    #[schema(required = true)]
    pub password: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The terms of use (`/cgu`) accepted: must be `true`.
    #[schema(required = true)]
    pub cgu: Option<bool>,
}

/// A change of the caller's account (`PATCH /api/v1/me`): only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// `M.` or `Mme` (empty to remove).
    pub civility: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Phone number (empty to remove).
    pub phone: Option<String>,
    /// A new address: needs `current_password`; it becomes the account's address once the
    /// link mailed to it is opened (the current address is told).
    pub email: Option<String>,
    /// A new password: needs `current_password`; every other session and pending link ends.
    pub password: Option<String>,
    /// The current password, to change the address or the password.
    pub current_password: Option<String>,
}

impl Candidates<'_> {
    fn confirm_mail(&self, tx: &crate::store::Tx<'_>, a: &Account) -> Result<()> {
        let (token, hash) = new_token();
        tx.put_token(
            &hash,
            &Token::new(
                a.id,
                TokenPurpose::ConfirmEmail,
                self.engine.now() + Duration::days(CONFIRM_DAYS),
            ),
        )?;
        let link = self.links.confirm_email(&token);
        let site = self.links.site_name();
        let login = a.username.as_deref().unwrap_or(&a.email);
        let letter = Letter::new(
            format!("Confirmez votre adresse e-mail – {site}"),
            format!("Bonjour {},", a.first_name),
        )
        .para(format!(
            "Votre compte candidat est créé. Confirmez votre adresse pour recevoir vos alertes (lien valable {CONFIRM_DAYS} jours) :"
        ))
        .action("Confirmer mon adresse", link)
        .para(format!(
            "Pour vous connecter, utilisez votre identifiant « {login} » ou votre adresse e-mail, avec le mot de passe que vous avez choisi."
        ))
        .para(format!(
            "Sans confirmation dans les {CONFIRM_DAYS} jours, le compte est supprimé."
        ))
        .because(format!(
            "Vous recevez ce message parce qu'un compte candidat a été créé avec cette adresse sur {site}. Si vous n'en êtes pas à l'origine, ignorez-le : le compte sera supprimé."
        ));
        tx.queue_mail(letter.to(&a.email, &self.links, self.engine.now()))?;
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
            // The candidate manual's rule: letters, digits, space, dot, hyphen, apostrophe, @.
            if !u
                .chars()
                .all(|c| c.is_alphanumeric() || " .-'@_".contains(c))
                || u.chars().count() < 3
            {
                e.push(FieldError::new(
                    "username",
                    "3 to 40 letters, digits, spaces, '.', '-', '_', apostrophes or '@'",
                ));
                None
            } else {
                Some(u)
            }
        });
        let password = match (s.password.as_deref(), &email) {
            (None, _) => {
                e.push(FieldError::required("password"));
                None
            }
            (Some(p), m) => check_password(p, m.as_deref().unwrap_or(""))
                .map_err(|x| e.push(x))
                .ok()
                .map(|_| p.to_string()),
        };
        let civility = civility(&mut e, s.civility.as_deref());
        let phone = optional_phone(&mut e, "phone", s.phone.as_deref());
        let terms = terms_ticked(&mut e, s.cgu, self.engine.now());
        let (Some(first_name), Some(last_name), Some(email), Some(username), Some(password)) =
            (first_name, last_name, email, username, password)
        else {
            return Err(Error::Invalid(e));
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        // A taken address or username is found before the (slow) hash: a refusal costs a read.
        for login in [&email, &username] {
            if self.engine.store().account_by_login(login)?.is_some() {
                return Err(Error::AlreadyUsed(format!(
                    "'{login}' is already used by another account"
                )));
            }
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
                phone,
                password_hash: Some(hash),
                services: Vec::new(),
                member_roles: Default::default(),
                requested_service: None,
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
            self.confirm_mail(tx, &a)?;
            Ok(a)
        })
    }

    /// Confirms an address with the token of its link: the account's own address (a
    /// candidate's alerts become active), or a new address asked for by
    /// [`Candidates::update_me`], which then becomes the account's address and login.
    pub fn confirm(&self, token: &str) -> Result<Account> {
        let hash = token_hash(token);
        let now = self.engine.now();
        let bad_link = || {
            Error::invalid(
                FieldError::new("token", "unknown, used or expired link").coded(FieldCode::BadLink),
            )
        };
        let account = self.engine.store().write(|tx| {
            let t = tx
                .take_token(&hash)?
                .filter(|t| {
                    matches!(
                        t.purpose,
                        TokenPurpose::ConfirmEmail | TokenPurpose::ChangeEmail
                    ) && t.expires_at > now
                })
                .ok_or_else(bad_link)?;
            let mut a = tx
                .account(t.account)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            if t.purpose == TokenPurpose::ChangeEmail {
                let new = t.email.clone().ok_or_else(bad_link)?;
                tx.claim_login(&new, a.id)?;
                if a.username.as_deref() != Some(a.email.as_str()) {
                    tx.release_login(&a.email)?;
                }
                a.email = new;
                // One change at a time: other pending changes of address end.
                tx.revoke_tokens(a.id, Some(TokenPurpose::ChangeEmail))?;
            }
            a.email_confirmed = true;
            tx.put_account(&a)?;
            Ok(a)
        })?;
        self.engine.refresh_alerts_of(account.id)?;
        Ok(account)
    }

    /// Mails the link that makes `new` the address of `a` (to `new`), and tells the current
    /// address that a change was asked for.
    fn change_email_mails(&self, tx: &crate::store::Tx<'_>, a: &Account, new: &str) -> Result<()> {
        let (token, hash) = new_token();
        let mut t = Token::new(
            a.id,
            TokenPurpose::ChangeEmail,
            self.engine.now() + Duration::hours(CHANGE_EMAIL_HOURS),
        );
        t.email = Some(new.to_string());
        tx.put_token(&hash, &t)?;
        let link = self.links.confirm_email(&token);
        let now = self.engine.now();
        let site = self.links.site_name();
        let confirm = Letter::new(
            format!("Confirmez votre nouvelle adresse – {site}"),
            format!("Bonjour {},", a.first_name),
        )
        .para(format!(
            "Pour que cette adresse devienne celle de votre compte, ouvrez ce lien (valable {CHANGE_EMAIL_HOURS} heures, utilisable une fois) :"
        ))
        .action("Confirmer ma nouvelle adresse", link)
        .para("Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne change.")
        .because(format!(
            "Vous recevez ce message parce que cette adresse a été donnée comme nouvelle adresse d'un compte sur {site}."
        ));
        tx.queue_mail(confirm.to(new, &self.links, now))?;
        let told = Letter::new(
            format!("Changement d'adresse demandé – {site}"),
            format!("Bonjour {},", a.first_name),
        )
        .para(format!(
            "Un changement d'adresse de votre compte vers {new} a été demandé. Il ne prendra effet que lorsque le lien envoyé à cette adresse aura été ouvert."
        ))
        .para("Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe (« Mot de passe oublié ») : vos sessions et ce lien prendront fin.")
        .because(format!(
            "Vous recevez ce message parce que cette adresse est celle de votre compte sur {site}."
        ));
        tx.queue_mail(told.to(&a.email, &self.links, now))?;
        Ok(())
    }

    /// Changes the caller's account. A change of address or of password needs the current
    /// password; a new address takes effect only through the link mailed to it (the current
    /// address is told); a new password ends every other session (all but `session`, the hash
    /// of the session making the change) and every pending link. Answers the account and the
    /// address waiting for confirmation, if one was asked for.
    pub fn update_me(
        &self,
        who: &Account,
        p: AccountPatch,
        session: Option<&str>,
    ) -> Result<(Account, Option<String>)> {
        let mut e = ValidationErrors::default();
        let new_email = match p.email.as_deref() {
            Some(m) => normalize_email("email", m)
                .map_err(|x| e.push(x))
                .ok()
                .filter(|m| *m != who.email),
            None => None,
        };
        if let Some(m) = &new_email
            && self.engine.store().account_by_login(m)?.is_some()
        {
            e.push(
                FieldError::new("email", "is already used by another account")
                    .coded(FieldCode::AlreadyUsed),
            );
        }
        if new_email.is_some() || p.password.is_some() {
            let current_ok = match p
                .current_password
                .as_deref()
                .zip(who.password_hash.as_deref())
            {
                Some((c, h)) => verify_password(c, h)?,
                None => false,
            };
            if !current_ok {
                e.push(FieldError::new(
                    "current_password",
                    "is required and must be the current password to change the address or the password",
                ).coded(FieldCode::CurrentPasswordRequired));
            }
        }
        let new_hash = match &p.password {
            Some(pw) => {
                if let Err(x) = check_password(pw, &who.email) {
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
        let phone = p
            .phone
            .as_deref()
            .map(|v| optional_phone(&mut e, "phone", Some(v)));
        let civility = p.civility.as_deref().map(|v| civility(&mut e, Some(v)));
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
            if let Some(c) = civility {
                a.civility = c;
            }
            if let Some(ph) = phone {
                a.phone = ph;
            }
            if let Some(h) = new_hash {
                a.password_hash = Some(h);
                tx.revoke_access(a.id, session)?;
            }
            tx.put_account(&a)?;
            if let Some(m) = &new_email {
                self.change_email_mails(tx, &a, m)?;
            }
            Ok(a)
        })?;
        Ok((account, new_email))
    }

    /// Deletes the caller's account and everything attached: saved searches, their alerts and
    /// pending mails, tokens, logins, documents (their bytes too).
    pub fn delete_me(&self, who: &Account) -> Result<()> {
        self.candidate(who)?;
        let who = &self
            .engine
            .store()
            .account(who.id)?
            .unwrap_or_else(|| who.clone());
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
        {
            let mut p = self.engine.percolator_mut();
            for s in &searches {
                p.remove(s.id);
            }
        }
        self.forget_documents(who)
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
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Signup;
    use crate::auth::evaluations_on_this_thread;
    use crate::candidates::Candidates;
    use crate::engine::Engine;
    use crate::error::Error;

    fn signup(email: &str, username: &str) -> Signup {
        Signup {
            first_name: Some("Jean".into()),
            last_name: Some("Zay".into()),
            email: Some(email.into()),
            username: Some(username.into()),
            password: Some("Un-Mot-De-Passe-2026".into()),
            cgu: Some(true),
            ..Signup::default()
        }
    }

    #[test]
    fn a_taken_address_or_username_is_refused_before_any_hash() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Engine::open(dir.path()).unwrap());
        let c = Candidates::new(&engine, "https://portail.example", 20);
        let before = evaluations_on_this_thread();
        c.signup(signup("jean@exemple.fr", "jzay")).unwrap();
        assert_eq!(evaluations_on_this_thread() - before, 1);
        let before = evaluations_on_this_thread();
        for s in [
            signup("jean@exemple.fr", "autre"),
            signup("autre@exemple.fr", "jzay"),
            signup("autre@exemple.fr", "jean@exemple.fr"),
        ] {
            assert!(matches!(c.signup(s), Err(Error::AlreadyUsed(_))));
        }
        assert_eq!(
            evaluations_on_this_thread(),
            before,
            "no hash for a refusal"
        );
    }
}
