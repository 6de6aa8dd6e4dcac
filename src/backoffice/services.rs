//! The organisation's services (versant → administration → entité → service).

use super::Backoffice;
use crate::auth::require;
use crate::domain::AdministrationCode;
use crate::domain::account::{Account, Role, Service, ServiceDetails, required_text};
use crate::domain::validate::{optional_email, optional_phone, optional_text, optional_url};
use crate::error::{Error, Result, ValidationErrors};

/// What a merge of one service into another moves (shown before, and answered after).
#[derive(Debug, Clone)]
pub struct MergeSummary {
    /// The service merged (deleted after).
    pub from: Service,
    /// The service that receives everything.
    pub into: Service,
    /// Its offers, each with its history and statistics.
    pub offers: usize,
    /// Its members (a member of both keeps the stronger role).
    pub members: usize,
}

impl Backoffice<'_> {
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
                details: Default::default(),
            };
            tx.put_service(&s)?;
            Ok(s)
        })
    }

    /// Services, optionally of one administration.
    pub fn services(&self, administration: Option<&str>) -> Result<Vec<Service>> {
        let filter = administration
            .map(|a| {
                AdministrationCode::parse("administration", a)
                    .map_err(|e| Error::BadRequest(ValidationErrors(vec![e])))
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

    /// Renames a service or moves it to another entité (administrators).
    pub fn rename_service(
        &self,
        admin: &Account,
        id: u64,
        name: Option<&str>,
        entity: Option<&str>,
    ) -> Result<Service> {
        require(admin, Role::Admin)?;
        let mut e = ValidationErrors::default();
        let name = name.map(|n| required_text(&mut e, "name", Some(n), 200));
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        self.engine.store().write(|tx| {
            let mut s = tx
                .service(id)?
                .ok_or_else(|| Error::NotFound(format!("service {id}")))?;
            if let Some(Some(n)) = name {
                s.name = n;
            }
            if let Some(en) = entity {
                s.entity = Some(en.trim().to_string()).filter(|x| !x.is_empty());
            }
            tx.put_service(&s)?;
            Ok(s)
        })
    }

    /// Sets how to reach a service (administrators): each field optional, checked.
    pub fn set_service_details(
        &self,
        admin: &Account,
        id: u64,
        details: ServiceDetails,
    ) -> Result<Service> {
        require(admin, Role::Admin)?;
        let mut e = ValidationErrors::default();
        let details = ServiceDetails {
            address: optional_text(&mut e, "address", details.address.as_deref(), 500),
            phone: optional_phone(&mut e, "phone", details.phone.as_deref()),
            email: optional_email(&mut e, "email", details.email.as_deref()),
            website: optional_url(&mut e, "website", details.website.as_deref()),
        };
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        self.engine.store().write(|tx| {
            let mut s = tx
                .service(id)?
                .ok_or_else(|| Error::NotFound(format!("service {id}")))?;
            s.details = details;
            tx.put_service(&s)?;
            Ok(s)
        })
    }

    /// A service, its offers' count and its members' (administrators).
    pub fn service_overview(
        &self,
        admin: &Account,
        id: u64,
    ) -> Result<(Service, usize, Vec<super::Member>)> {
        require(admin, Role::Admin)?;
        let s = self
            .engine
            .store()
            .service(id)?
            .ok_or_else(|| Error::NotFound(format!("service {id}")))?;
        let offers = self.engine.store().service_offer_ids(id)?.len();
        Ok((s, offers, self.members_of(id)?))
    }

    /// Deletes a service without offers nor members (administrators); 409 otherwise.
    pub fn delete_service(&self, admin: &Account, id: u64) -> Result<Service> {
        let (s, offers, members) = self.service_overview(admin, id)?;
        if offers > 0 || !members.is_empty() {
            return Err(Error::Conflict(format!(
                "service {id} still has {offers} offer(s) and {} member(s): merge it into another instead",
                members.len()
            )));
        }
        self.engine.store().write(|tx| {
            // Pending requests that named it are left without a service.
            tx.delete_service(id)
        })?;
        Ok(s)
    }

    /// What merging `from` into `into` would move (administrators).
    pub fn merge_summary(&self, admin: &Account, from: u64, into: u64) -> Result<MergeSummary> {
        require(admin, Role::Admin)?;
        if from == into {
            return Err(Error::invalid(crate::FieldError::new(
                "into",
                "a service is merged into another one",
            )));
        }
        let (from, offers, members) = self.service_overview(admin, from)?;
        let into = self.engine.store().service(into)?.ok_or_else(|| {
            Error::invalid(crate::FieldError::new("into", format!("no service {into}")))
        })?;
        Ok(MergeSummary {
            from,
            into,
            offers,
            members: members.len(),
        })
    }

    /// Merges `from` into `into` (administrators): its offers move (with their history, a line
    /// added, and their statistics), its members join `into` (the stronger role kept for a
    /// member of both), then `from` is deleted. Answers what moved.
    pub fn merge_services(&self, admin: &Account, from: u64, into: u64) -> Result<MergeSummary> {
        let summary = self.merge_summary(admin, from, into)?;
        let now = self.now();
        let (source, target) = (summary.from.clone(), summary.into.clone());
        for id in self.engine.store().service_offer_ids(from)? {
            self.engine.update_offer(id, |o| {
                o.service_id = Some(target.id);
                if o.fields.service == source.name {
                    o.fields.service.clone_from(&target.name);
                }
                o.fields.administration = target.administration;
                o.record(
                    Some(admin.id),
                    &format!(
                        "transferred from {} to {} (services merged)",
                        source.name, target.name
                    ),
                    now,
                );
                Ok(())
            })?;
        }
        let members = self.members_of(from)?;
        self.engine.store().write(|tx| {
            for m in &members {
                let mut a = tx
                    .account(m.account.id)?
                    .ok_or_else(|| Error::NotFound(format!("account {}", m.account.id)))?;
                let role = a.role_in(into).map_or(m.role, |r| r.min(m.role));
                a.leave(from);
                a.join(into, role);
                tx.put_account(&a)?;
            }
            tx.delete_service(from)
        })?;
        self.engine.indexer().notify();
        Ok(summary)
    }
}
