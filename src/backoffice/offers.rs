//! The offers of a recruiter's services: reading, creating (draft or published), replacing,
//! the lifecycle steps, cloning and deleting a draft. An offer outside the caller's services is
//! answered as not found, so nothing leaks.

use super::Backoffice;
use crate::auth::require;
use crate::domain::account::{Account, Role};
use crate::domain::offer::AuditEvent;
use crate::domain::{DateRule, Lifecycle, Offer, OfferFields, OfferInput, OfferState};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::Letter;
use crate::store::NewOffer;

fn created(actor: u64, action: &str, now: time::OffsetDateTime) -> AuditEvent {
    AuditEvent {
        at: now,
        actor: Some(actor),
        action: action.to_string(),
    }
}

/// A publication is scheduled for a draft only.
fn unscheduled() -> Error {
    Error::invalid(FieldError::new(
        "publish_on",
        "only a draft is scheduled: leave publish_on out of a published offer",
    ))
}

impl Backoffice<'_> {
    fn create_one(&self, new: NewOffer) -> Result<(Offer, u64)> {
        let (offers, seq) = self.engine.create_offers(vec![new])?;
        let offer = offers
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("no offer created".into()))?;
        Ok((offer, seq))
    }

    /// The offer with `reference` if the recruiter may manage it; 404 otherwise (no leak).
    pub fn offer(&self, who: &Account, reference: &str) -> Result<Offer> {
        require(who, Role::Recruiter)?;
        self.engine
            .store()
            .offer_by_reference(reference)?
            .filter(|o| o.service_id.is_some_and(|s| who.services.contains(&s)))
            .ok_or_else(|| Error::NotFound(format!("no offer {reference} in your services")))
    }

    /// The offer with `reference` if the recruiter writes in its service: 404 outside their
    /// services (no leak), 403 for a lecteur.
    pub fn offer_to_write(&self, who: &Account, reference: &str) -> Result<Offer> {
        let offer = self.offer(who, reference)?;
        if offer.service_id.is_some_and(|s| who.writes_in(s)) {
            Ok(offer)
        } else {
            Err(Error::Forbidden(format!(
                "a lecteur of the service of {reference} reads its offers and changes nothing"
            )))
        }
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
            Some(id) if who.writes_in(id) => self.engine.store().service(id)?,
            Some(_) | None => None,
        };
        match &service {
            Some(s) => {
                let label = input
                    .service_label
                    .as_deref()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .unwrap_or(&s.name);
                input.service = Some(serde_json::Value::String(label.to_string()));
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
                    "must be the id of one of the services whose offers you write",
                    who.writable_services().iter().map(u64::to_string).collect(),
                ));
            }
        }
        let fields = input.validate(DateRule::Submission {
            today: self.engine.zone().today(self.now()),
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
        if !who.services.is_empty() && who.writable_services().is_empty() {
            return Err(Error::Forbidden(
                "a lecteur reads the offers of their services and writes none".into(),
            ));
        }
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
        if state == OfferState::Published && fields.publish_on.is_some() {
            return Err(unscheduled());
        }
        if fields.application_contact.is_none() {
            return Err(Error::invalid(
                FieldError::new(
                    "application_contact",
                    "a new offer names who receives the applications: {\"name\", \"email\"}",
                )
                .coded(crate::error::FieldCode::Required),
            ));
        }
        let now = self.now();
        let mut audit_trail = vec![created(who.id, "created", now)];
        if state == OfferState::Published {
            audit_trail.push(created(who.id, "published", now));
        }
        self.create_one(NewOffer {
            fields,
            state,
            created_at: now,
            published_at: (state == OfferState::Published).then_some(now),
            service_id: Some(service),
            audit: audit_trail,
        })
    }

    /// Replaces the editable fields; the state does not change.
    pub fn replace_offer(
        &self,
        who: &Account,
        reference: &str,
        input: &OfferInput,
    ) -> Result<(Offer, u64)> {
        let current = self.offer_to_write(who, reference)?;
        if input.state.is_some() || input.published_at.is_some() {
            return Err(Error::Invalid(ValidationErrors(vec![FieldError::new(
                "state",
                "use the publish, archive, unarchive and filled actions to change the state",
            )])));
        }
        let (mut fields, service) = self.validate(who, input)?;
        if current.state != OfferState::Draft && fields.publish_on.is_some() {
            return Err(unscheduled());
        }
        fields.attachments = current.fields.attachments.clone();
        let now = self.now();
        // A move to another of the caller's services is relinked in the same transaction.
        self.engine.update_offer(current.id, |o| {
            o.service_id = Some(service);
            o.fields = fields;
            o.record(Some(who.id), "updated", now);
            Ok(())
        })
    }

    /// One lifecycle step (`publish`, `archive`, `unarchive`, `filled`).
    pub fn transition(&self, who: &Account, reference: &str, action: &str) -> Result<(Offer, u64)> {
        let step = Lifecycle::parse(action)
            .ok_or_else(|| Error::NotFound(format!("no action {action}")))?;
        let current = self.offer_to_write(who, reference)?;
        let now = self.now();
        self.engine.update_offer(current.id, |o| {
            o.apply(step, Some(who.id), now, self.engine.zone())
        })
    }

    /// Moves an offer to another service: a recruiter between services whose offers they
    /// write, an administrator to any service. Recorded in the offer's history.
    pub fn transfer(&self, who: &Account, reference: &str, service: u64) -> Result<(Offer, u64)> {
        let current = if who.role == Role::Admin {
            self.any_offer(who, reference)?
        } else {
            self.offer_to_write(who, reference)?
        };
        let target = self
            .engine
            .store()
            .service(service)?
            .filter(|_| who.role == Role::Admin || who.writes_in(service));
        let Some(target) = target else {
            let allowed = match who.role {
                Role::Admin => Vec::new(),
                _ => who.writable_services().iter().map(u64::to_string).collect(),
            };
            return Err(Error::invalid(FieldError::with_allowed(
                "service",
                "must be the id of a service you write offers for",
                allowed,
            )));
        };
        if current.service_id == Some(target.id) {
            return Err(Error::Conflict(format!(
                "{reference} already belongs to service {service}"
            )));
        }
        let from = current
            .service_id
            .and_then(|s| self.engine.store().service(s).ok().flatten())
            .map_or_else(|| "aucun service".to_string(), |s| s.name);
        let now = self.now();
        self.engine.update_offer(current.id, |o| {
            o.service_id = Some(target.id);
            // The label candidates see follows, unless the recruiter had written their own.
            if o.fields.service == from {
                o.fields.service.clone_from(&target.name);
            }
            if o.fields.administration != target.administration {
                o.fields.administration = target.administration;
            }
            o.record(
                Some(who.id),
                &format!("transferred from {from} to {}", target.name),
                now,
            );
            Ok(())
        })
    }

    /// A new draft with the same fields and a new reference.
    pub fn clone_offer(&self, who: &Account, reference: &str) -> Result<(Offer, u64)> {
        let source = self.offer_to_write(who, reference)?;
        let now = self.now();
        self.create_one(NewOffer {
            fields: source.fields.clone(),
            state: OfferState::Draft,
            created_at: now,
            published_at: None,
            service_id: source.service_id,
            audit: vec![created(
                who.id,
                &format!("created as a copy of {}", source.reference),
                now,
            )],
        })
    }

    /// Deletes a draft; 409 for any other state.
    pub fn delete_offer(&self, who: &Account, reference: &str) -> Result<u64> {
        let current = self.offer_to_write(who, reference)?;
        self.engine.delete_offer(current.id, Offer::check_deletable)
    }

    /// Renews the diffusion in one step: a new end date, and an archived offer public again.
    pub fn renew(
        &self,
        who: &Account,
        reference: &str,
        unpublish_on: &str,
    ) -> Result<(Offer, u64)> {
        let current = self.offer_to_write(who, reference)?;
        let now = self.now();
        let date =
            crate::domain::offer::parse_unpublish_on(unpublish_on, self.engine.zone().today(now))
                .map_err(Error::invalid)?;
        self.engine.update_offer(current.id, |o| {
            if o.state == OfferState::Draft {
                return Err(Error::Conflict(
                    "a draft has no diffusion to renew: publish it".into(),
                ));
            }
            o.fields.unpublish_on = date;
            o.record(
                Some(who.id),
                &format!("diffusion renewed until {date}"),
                now,
            );
            if o.state == OfferState::Archived {
                o.apply(Lifecycle::Unarchive, Some(who.id), now, self.engine.zone())?;
            }
            Ok(())
        })
    }

    /// Any offer by its reference (administrators).
    pub fn any_offer(&self, admin: &Account, reference: &str) -> Result<Offer> {
        require(admin, Role::Admin)?;
        self.engine
            .store()
            .offer_by_reference(reference)?
            .ok_or_else(|| Error::NotFound(format!("no offer {reference}")))
    }

    /// Every offer, optionally in one state, newest change first (administrators).
    pub fn all_offers(&self, admin: &Account, state: Option<OfferState>) -> Result<Vec<Offer>> {
        require(admin, Role::Admin)?;
        let mut offers = Vec::new();
        self.engine.store().for_each_offer(|o| {
            if state.is_none_or(|s| o.state == s) {
                offers.push(o);
            }
            Ok(())
        })?;
        offers.sort_by_key(|o| std::cmp::Reverse((o.updated_at, o.id)));
        Ok(offers)
    }

    /// Archives an offer that breaks the rules (administrators); the reason is mailed to the
    /// recruiters of its service, in the same transaction.
    pub fn moderate(&self, admin: &Account, reference: &str, reason: &str) -> Result<Offer> {
        require(admin, Role::Admin)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid(FieldError::required("reason")));
        }
        let offer = self
            .engine
            .store()
            .offer_by_reference(reference)?
            .ok_or_else(|| Error::NotFound(format!("no offer {reference}")))?;
        let recipients: Vec<Account> = self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| {
                a.role == Role::Recruiter
                    && a.state == crate::domain::account::AccountState::Active
                    && offer.service_id.is_some_and(|s| a.services.contains(&s))
            })
            .collect();
        let now = self.now();
        let store = self.engine.store();
        let (offer, _) = store.write(|tx| {
            let mut o = tx
                .offer(offer.id)?
                .ok_or_else(|| Error::NotFound(format!("no offer {reference}")))?;
            o.apply(Lifecycle::Archive, Some(admin.id), now, self.engine.zone())?;
            o.record(Some(admin.id), &format!("archived by moderation: {reason}"), now);
            let seq = tx.put_offer(&o)?;
            let site = self.links.site_name();
            for r in &recipients {
                let letter = Letter::new(
                    format!("Une de vos offres a été retirée – {site}"),
                    format!("Bonjour {} {},", r.first_name, r.last_name),
                )
                .para(format!(
                    "L'offre {} « {} » a été retirée de la diffusion par un administrateur, pour la raison suivante :",
                    o.reference, o.fields.title
                ))
                .quote(reason)
                .action("Voir l'offre dans l'espace recruteur", format!("{}{}", self.links.base(), crate::links::recruiter_offer_path(o.reference)))
                .because(format!(
                    "Vous recevez ce message parce que vous êtes recruteur du service de cette offre sur {site}."
                ));
                tx.queue_mail(letter.to(&r.email, &self.links, now))?;
            }
            Ok((o, seq))
        })?;
        self.engine.indexer().notify();
        Ok(offer)
    }
}
