//! The members of a service and their roles: a gestionnaire (or an administrator) invites a
//! colleague by mail, changes a role, removes a member; administrators also invite other
//! administrators. Every rule is checked here, for the API and the pages alike.

use serde::Deserialize;

use super::Backoffice;
use crate::auth::{SET_PASSWORD_HOURS, require};
use crate::domain::account::{
    Account, AccountState, MemberRole, Role, Service, civility, required_email, required_text,
};
use crate::domain::validate::optional_phone;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::Letter;

/// An invitation: a colleague's identity, the service and the role (`gestionnaire`,
/// `redacteur`, `lecteur`; `admin` without a service invites an administrator).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// Professional e-mail address.
    #[schema(required = true)]
    pub email: Option<String>,
    /// `M.` or `Mme`.
    pub civility: Option<String>,
    /// Given name.
    #[schema(required = true)]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(required = true)]
    pub last_name: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The service (a recruiter's invitation).
    pub service: Option<u64>,
    /// `gestionnaire`, `redacteur`, `lecteur`, or `admin` (administrators only, no service).
    #[schema(
        required = true,
        pattern = r"^\s*(gestionnaire|redacteur|lecteur|admin)\s*$"
    )]
    pub role: Option<String>,
}

/// What an invitation did.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The account invited (new, or an existing recruiter added to the service).
    pub account: Account,
    /// Whether the account was created by the invitation.
    pub created: bool,
}

/// A member of a service.
#[derive(Debug, Clone)]
pub struct Member {
    /// The account.
    pub account: Account,
    /// Its role in the service.
    pub role: MemberRole,
}

impl Backoffice<'_> {
    /// Whether `who` manages the members of `service`: an administrator, or its gestionnaire.
    fn manages(&self, who: &Account, service: u64) -> Result<Service> {
        let s = self
            .engine
            .store()
            .service(service)?
            .ok_or_else(|| Error::NotFound(format!("service {service}")))?;
        if who.state == AccountState::Active && who.role == Role::Admin {
            return Ok(s);
        }
        match who.role_in(service) {
            Some(r) if r.manages() && who.state == AccountState::Active => Ok(s),
            Some(_) => Err(Error::Forbidden(format!(
                "only a gestionnaire of service {service} manages its members"
            ))),
            None => Err(Error::NotFound(format!("service {service}"))),
        }
    }

    /// The members of a service, by name (its gestionnaires and administrators).
    pub fn members(&self, who: &Account, service: u64) -> Result<(Service, Vec<Member>)> {
        let s = self.manages(who, service)?;
        Ok((s, self.members_of(service)?))
    }

    /// The recruiters of a service, by name.
    pub(super) fn members_of(&self, service: u64) -> Result<Vec<Member>> {
        let mut members: Vec<Member> = self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| {
                a.role == Role::Recruiter
                    && matches!(a.state, AccountState::Active | AccountState::Disabled)
            })
            .filter_map(|a| {
                a.role_in(service).map(|role| Member {
                    role,
                    account: a.clone(),
                })
            })
            .collect();
        members.sort_by(|a, b| {
            (&a.account.last_name, &a.account.first_name, a.account.id).cmp(&(
                &b.account.last_name,
                &b.account.first_name,
                b.account.id,
            ))
        });
        Ok(members)
    }

    /// The role a new member of `service` gets when none is said: gestionnaire for the first.
    pub(super) fn first_role(&self, service: u64) -> Result<MemberRole> {
        Ok(if self.members_of(service)?.is_empty() {
            MemberRole::Gestionnaire
        } else {
            MemberRole::Redacteur
        })
    }

    /// Invites a colleague: a new account gets a single-use link to choose a password; an
    /// existing recruiter is added to the service and told. One transaction, mail included.
    pub fn invite(&self, who: &Account, inv: Invitation) -> Result<Invited> {
        let mut e = ValidationErrors::default();
        let email = required_email(&mut e, "email", inv.email.as_deref());
        let first_name = required_text(&mut e, "first_name", inv.first_name.as_deref(), 100);
        let last_name = required_text(&mut e, "last_name", inv.last_name.as_deref(), 100);
        let civility = civility(&mut e, inv.civility.as_deref());
        let phone = optional_phone(&mut e, "phone", inv.phone.as_deref());
        // `None` is an administrator.
        let role: Option<Option<MemberRole>> = match inv.role.as_deref().map(str::trim) {
            None | Some("") => {
                e.push(FieldError::with_allowed(
                    "role",
                    "is required",
                    ["gestionnaire", "redacteur", "lecteur", "admin"]
                        .map(String::from)
                        .to_vec(),
                ));
                None
            }
            Some("admin") => Some(None),
            Some(r) => MemberRole::parse("role", r)
                .map_err(|x| {
                    let mut x = x;
                    x.allowed.push("admin".into());
                    e.push(x)
                })
                .ok()
                .map(Some),
        };
        let (Some(email), Some(first_name), Some(last_name), Some(role)) =
            (email, first_name, last_name, role)
        else {
            return Err(Error::Invalid(e));
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let service = match (role, inv.service) {
            (None, None) => {
                require(who, Role::Admin)?;
                None
            }
            (None, Some(_)) => {
                return Err(Error::invalid(FieldError::new(
                    "service",
                    "an administrator belongs to no service: leave it out with \"role\": \"admin\"",
                )));
            }
            (Some(_), None) => {
                return Err(Error::invalid(FieldError::required("service")));
            }
            (Some(r), Some(id)) => Some((self.manages(who, id)?, r)),
        };
        let now = self.now();
        let site = self.links.site_name().to_string();
        self.engine.store().write(|tx| {
            let existing = tx.account_by_login(&email)?;
            let (mut account, created) = match existing {
                Some(a) => match (&service, a.role) {
                    (Some((s, _)), Role::Recruiter) if a.state == AccountState::Active => {
                        if a.role_in(s.id).is_some() {
                            return Err(Error::Conflict(format!(
                                "{email} is already a member of this service"
                            )));
                        }
                        (a, false)
                    }
                    _ => {
                        return Err(Error::AlreadyUsed(format!(
                            "'{email}' is already used by another account"
                        )));
                    }
                },
                None => {
                    let id = tx.next_id("account_id")?;
                    tx.claim_login(&email, id)?;
                    let a = Account {
                        id,
                        role: if service.is_some() {
                            Role::Recruiter
                        } else {
                            Role::Admin
                        },
                        state: AccountState::Active,
                        civility,
                        first_name,
                        last_name,
                        email: email.clone(),
                        phone,
                        username: None,
                        // Confirmed by the single-use link.
                        email_confirmed: true,
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
                    (a, true)
                }
            };
            let whom = match &service {
                Some((s, r)) => {
                    account.join(s.id, *r);
                    format!(
                        "au service « {} » ({}), avec le rôle {}",
                        s.name,
                        s.administration.label(),
                        r.label().to_lowercase()
                    )
                }
                None => "comme administrateur".to_string(),
            };
            tx.put_account(&account)?;
            let mut letter = Letter::new(
                format!("Invitation – {site}"),
                format!("Bonjour {} {},", account.first_name, account.last_name),
            )
            .para(format!(
                "{} {} vous a ajouté {whom} sur {site}.",
                who.first_name, who.last_name
            ));
            letter = if created {
                let link = self.auth().set_password_link(tx, account.id)?;
                letter
                    .para(format!(
                        "Choisissez votre mot de passe (lien valable {SET_PASSWORD_HOURS} heures, utilisable une fois) :"
                    ))
                    .action("Choisir mon mot de passe", link)
                    .para(format!(
                        "Votre identifiant est votre adresse e-mail : {}.",
                        account.email
                    ))
            } else {
                letter.action(
                    "Ouvrir l'espace recruteur",
                    format!("{}{}", self.links.base(), crate::links::RECRUITER),
                )
            };
            let letter = letter.because(format!(
                "Vous recevez ce message parce qu'un membre de {site} vous a invité."
            ));
            tx.queue_mail(letter.to(&account.email, &self.links, now))?;
            Ok(Invited { account, created })
        })
    }

    /// Changes a member's role in a service.
    pub fn set_member_role(
        &self,
        who: &Account,
        service: u64,
        member: u64,
        role: &str,
    ) -> Result<Account> {
        let role = MemberRole::parse("role", role).map_err(Error::invalid)?;
        self.change_member(who, service, member, |a| a.join(service, role))
    }

    /// Removes a member from a service.
    pub fn remove_member(&self, who: &Account, member: u64, service: u64) -> Result<Account> {
        self.change_member(who, service, member, |a| a.leave(service))
    }

    fn change_member(
        &self,
        who: &Account,
        service: u64,
        member: u64,
        change: impl Fn(&mut Account),
    ) -> Result<Account> {
        self.manages(who, service)?;
        if who.id == member && who.role != Role::Admin {
            return Err(Error::Conflict(
                "a gestionnaire does not change their own membership: ask another gestionnaire or an administrator".into(),
            ));
        }
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(member)?
                .filter(|a| a.role == Role::Recruiter && a.role_in(service).is_some())
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "account {member} is not a member of service {service}"
                    ))
                })?;
            change(&mut a);
            tx.put_account(&a)?;
            Ok(a)
        })
    }
}

#[cfg(test)]
mod tests {
    //! Every action of the back office × every kind of caller, on the services layer.

    use super::*;
    use crate::domain::OfferInput;
    use crate::engine::Engine;

    fn input(service: u64) -> OfferInput {
        OfferInput {
            title: Some("Stagiaire juriste (F/H)".into()),
            contract: Some("stage".into()),
            diploma: Some("niveau-7".into()),
            domain: Some("droit-juridique".into()),
            service: Some(serde_json::json!(service)),
            country: Some("FR".into()),
            region: Some("84".into()),
            department: Some("69".into()),
            description: Some("Rédiger des notes".into()),
            start: Some("2099-01".into()),
            contact_email: Some("rh@justice.gouv.fr".into()),
            application_contact: Some(crate::domain::offer::ContactInput {
                name: Some("Bureau des stages".into()),
                email: Some("stages@justice.gouv.fr".into()),
                phone: None,
            }),
            unpublish_on: Some(crate::domain::offer::iso_date::format(
                time::OffsetDateTime::now_utc().date() + time::Duration::days(60),
            )),
            ..OfferInput::default()
        }
    }

    fn invitation(email: &str, service: Option<u64>, role: &str) -> Invitation {
        Invitation {
            email: Some(email.into()),
            first_name: Some("Claude".into()),
            last_name: Some(email.split('@').next().unwrap_or("x").into()),
            service,
            role: Some(role.into()),
            ..Invitation::default()
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Outcome {
        Done,
        Forbidden,
        NotFound,
    }

    fn outcome<T>(r: Result<T>) -> Outcome {
        match r {
            Ok(_) => Outcome::Done,
            Err(Error::Forbidden(_)) => Outcome::Forbidden,
            Err(Error::NotFound(_)) => Outcome::NotFound,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn every_action_for_every_role() {
        use Outcome::*;
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let b = Backoffice::new(&engine, "https://portail.example");
        let (admin, _) = b.create_admin("admin@exemple.fr", "Ada", "Admin").unwrap();
        let justice = b
            .create_service(&admin, "Tribunal de Lyon", "min-justice", None)
            .unwrap();
        let other = b
            .create_service(&admin, "Préfecture du Rhône", "min-interieur", None)
            .unwrap();
        let account = |email: &str| engine.store().account_by_login(email).unwrap().unwrap();
        // The administrator invites the service's first member, a gestionnaire.
        b.invite(
            &admin,
            invitation("gestion@justice.gouv.fr", Some(justice.id), "gestionnaire"),
        )
        .unwrap();
        let gestionnaire = account("gestion@justice.gouv.fr");
        assert_eq!(
            gestionnaire.role_in(justice.id),
            Some(MemberRole::Gestionnaire)
        );
        // The gestionnaire invites a rédacteur and a lecteur; a rédacteur may not invite.
        let done = b
            .invite(
                &gestionnaire,
                invitation("redac@justice.gouv.fr", Some(justice.id), "redacteur"),
            )
            .unwrap();
        assert!(done.created);
        b.invite(
            &gestionnaire,
            invitation("lecteur@justice.gouv.fr", Some(justice.id), "lecteur"),
        )
        .unwrap();
        b.invite(
            &admin,
            invitation("prefecture@interieur.gouv.fr", Some(other.id), "redacteur"),
        )
        .unwrap();
        let redacteur = account("redac@justice.gouv.fr");
        let lecteur = account("lecteur@justice.gouv.fr");
        let stranger = account("prefecture@interieur.gouv.fr");
        // Another gestionnaire's way in: an administrator only may invite an administrator.
        assert_eq!(
            outcome(b.invite(&gestionnaire, invitation("x@a.fr", None, "admin"))),
            Forbidden
        );
        // A draft written by the rédacteur.
        let (draft, _) = b.create_offer(&redacteur, &input(justice.id)).unwrap();
        let reference = draft.reference.to_string();
        let r = reference.as_str();

        type Action<'a> = Box<dyn Fn(&Account) -> Outcome + 'a>;
        let actions: Vec<(&str, Action)> = vec![
            ("read", Box::new(|w| outcome(b.offer(w, r)))),
            (
                "list",
                Box::new(|w| {
                    outcome(
                        b.offers(w, None)
                            .map(|l| l.iter().any(|o| o.reference.to_string() == r))
                            .and_then(|seen| {
                                if seen {
                                    Ok(())
                                } else {
                                    Err(Error::NotFound("not listed".into()))
                                }
                            }),
                    )
                }),
            ),
            ("statistics", Box::new(|w| outcome(b.offer_stats(w, r)))),
            (
                "create",
                Box::new(|w| outcome(b.create_offer(w, &input(justice.id)))),
            ),
            (
                "replace",
                Box::new(|w| outcome(b.replace_offer(w, r, &input(justice.id)))),
            ),
            ("clone", Box::new(|w| outcome(b.clone_offer(w, r)))),
            (
                "publish",
                Box::new(|w| {
                    let (copy, _) = b.clone_offer(&redacteur, r).unwrap();
                    outcome(b.transition(w, &copy.reference.to_string(), "publish"))
                }),
            ),
            (
                "delete",
                Box::new(|w| {
                    let (copy, _) = b.clone_offer(&redacteur, r).unwrap();
                    outcome(b.delete_offer(w, &copy.reference.to_string()))
                }),
            ),
            ("members", Box::new(|w| outcome(b.members(w, justice.id)))),
            (
                "invite",
                Box::new(|w| {
                    let email = format!(
                        "{}-{}@justice.gouv.fr",
                        w.id,
                        b.now().unix_timestamp_nanos()
                    );
                    outcome(b.invite(w, invitation(&email, Some(justice.id), "lecteur")))
                }),
            ),
            (
                "change a role",
                Box::new(|w| outcome(b.set_member_role(w, justice.id, lecteur.id, "lecteur"))),
            ),
        ];
        let callers = [
            ("lecteur", &lecteur),
            ("rédacteur", &redacteur),
            ("gestionnaire", &gestionnaire),
            ("another service's member", &stranger),
            ("administrator", &admin),
        ];
        // What each caller may do, in the order of `actions`.
        let expected: [[Outcome; 11]; 5] = [
            [
                Done, Done, Done, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
                Forbidden, Forbidden,
            ],
            [
                Done, Done, Done, Done, Done, Done, Done, Done, Forbidden, Forbidden, Forbidden,
            ],
            [
                Done, Done, Done, Done, Done, Done, Done, Done, Done, Done, Done,
            ],
            [
                NotFound, NotFound, NotFound, Done, NotFound, NotFound, NotFound, NotFound,
                NotFound, NotFound, NotFound,
            ],
            // Administrators moderate and manage members; the offers are the services' own.
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
                Forbidden, Done, Done, Done,
            ],
        ];
        for ((who, caller), row) in callers.iter().zip(expected) {
            for ((what, act), want) in actions.iter().zip(row) {
                // "create" for another service's member creates in their own service.
                let got = if *what == "create" && *who == "another service's member" {
                    outcome(b.create_offer(caller, &input(other.id)))
                } else {
                    act(caller)
                };
                assert_eq!(got, want, "{who} / {what}");
            }
        }
        // Transfers: a rédacteur of both services moves the offer; a lecteur cannot.
        b.add_member(&admin, redacteur.id, other.id, Some("redacteur"))
            .unwrap();
        let redacteur = account("redac@justice.gouv.fr");
        assert_eq!(outcome(b.transfer(&lecteur, r, other.id)), Forbidden);
        let (moved, _) = b.transfer(&redacteur, r, other.id).unwrap();
        assert_eq!(moved.service_id, Some(other.id));
        assert!(
            moved
                .audit
                .last()
                .unwrap()
                .action
                .starts_with("transferred from")
        );
        assert_eq!(moved.fields.administration.code(), "min-interieur");
        // Now outside the lecteur's service: not found for them.
        assert_eq!(outcome(b.offer(&lecteur, r)), NotFound);
        let (back, _) = b.transfer(&admin, r, justice.id).unwrap();
        assert_eq!(back.service_id, Some(justice.id));
        // A gestionnaire does not remove themselves; an administrator removes anyone.
        assert!(matches!(
            b.remove_member(&gestionnaire, gestionnaire.id, justice.id),
            Err(Error::Conflict(_))
        ));
        b.remove_member(&gestionnaire, lecteur.id, justice.id)
            .unwrap();
        assert_eq!(account("lecteur@justice.gouv.fr").role_in(justice.id), None);
        // A service's first member is its gestionnaire, the next a rédacteur.
        let empty = b
            .create_service(&admin, "Cour d'appel", "min-justice", None)
            .unwrap();
        let a = b.add_member(&admin, redacteur.id, empty.id, None).unwrap();
        assert_eq!(a.role_in(empty.id), Some(MemberRole::Gestionnaire));
        let a = b
            .add_member(&admin, gestionnaire.id, empty.id, None)
            .unwrap();
        assert_eq!(a.role_in(empty.id), Some(MemberRole::Redacteur));
    }
}
