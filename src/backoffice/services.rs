//! The organisation's services (versant → administration → entité → service).

use super::Backoffice;
use crate::auth::require;
use crate::domain::AdministrationCode;
use crate::domain::account::{Account, Role, Service, required_text};
use crate::error::{Error, Result, ValidationErrors};

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
}
