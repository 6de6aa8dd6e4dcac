//! The administrations (administrations de rattachement), kept by administrators
//! (`/admin/administrations`): a government reshuffle renames a ministry or makes a new one,
//! without a new build. The compiled referential stays the base; what is stored is laid over
//! it ([`crate::domain::referentials::install_administrations`]) for the facets, the feeds, the
//! request form, the statistics and the API. Codes never change: offers, services, saved
//! searches and the index hold them.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Backoffice;
use crate::auth::require;
use crate::domain::account::{Account, Role};
use crate::domain::referentials::{
    Administration, Referentials, StoredAdministration, fold_label, referentials,
};
use crate::domain::validate::{optional_text, required_text};
use crate::error::{Error, FieldCode, FieldError, Result, ValidationErrors};

/// The sides of the civil service an administration may belong to.
pub const VERSANTS: [&str; 3] = ["etat", "territoriale", "hospitaliere"];

/// The longest label, short label and code.
const MAX_LABEL: usize = 150;
const MAX_SHORT_LABEL: usize = 60;
const MAX_CODE: usize = 60;

/// An administration as the administrators' list shows it.
#[derive(Debug, Clone)]
pub struct AdministrationRow {
    /// Its code and labels as they are now.
    pub administration: Administration,
    /// Added at run time (not in the compiled referential).
    pub added: bool,
    /// A compiled administration whose label was changed.
    pub renamed: bool,
    /// Services attached to it.
    pub services: usize,
}

/// A new administration.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdministration {
    /// Its code: lower-case letters, digits and dashes (made from the label when absent);
    /// it never changes.
    #[schema(pattern = r"^\s*[a-z0-9]+(-[a-z0-9]+)*\s*$")]
    pub code: Option<String>,
    /// Its name, e.g. « Ministère de la Mer ».
    #[schema(required = true)]
    pub label: Option<String>,
    /// A short name for narrow places (the label when absent).
    pub short_label: Option<String>,
    /// `etat`, `territoriale` or `hospitaliere`.
    #[schema(required = true)]
    pub versant: Option<String>,
    /// The kind of employer (`ministere`, `collectivite`, `etablissement-sante`…).
    #[serde(rename = "type")]
    #[schema(required = true)]
    pub kind: Option<String>,
}

/// New labels of an administration.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdministrationPatch {
    /// Its new name (the former one is kept as another name).
    pub label: Option<String>,
    /// Its new short name.
    pub short_label: Option<String>,
}

/// The kinds of employer of the compiled referential, in order.
pub fn kinds() -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for a in &referentials().administrations {
        if !kinds.contains(&a.kind) {
            kinds.push(a.kind.clone());
        }
    }
    kinds
}

/// A code made from a label: folded, words joined by dashes.
fn code_of(label: &str) -> String {
    let folded = fold_label(label);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut code = String::new();
    for w in words {
        if code.len() + w.len() + 1 > MAX_CODE {
            break;
        }
        if !code.is_empty() {
            code.push('-');
        }
        code.push_str(w);
    }
    code
}

fn is_code(code: &str) -> bool {
    (2..=MAX_CODE).contains(&code.len())
        && code.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Records an error when another administration than `except` is named `label`.
fn unique_label(e: &mut ValidationErrors, label: &str, except: Option<&str>) {
    let folded = fold_label(label);
    if let Some(other) = referentials()
        .administrations
        .iter()
        .find(|a| Some(a.code.as_str()) != except && fold_label(&a.label) == folded)
    {
        e.push(FieldError::new(
            "label",
            format!("« {} » is already the name of {}", other.label, other.code),
        ));
    }
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

impl Backoffice<'_> {
    /// Every administration, compiled and added, with how many services each has
    /// (administrators).
    pub fn administrations(&self, admin: &Account) -> Result<Vec<AdministrationRow>> {
        require(admin, Role::Admin)?;
        let services = self.engine.store().services()?;
        let stored = self.engine.store().stored_administrations()?;
        Ok(referentials()
            .administrations
            .iter()
            .map(|a| AdministrationRow {
                administration: a.clone(),
                added: !Referentials::is_compiled_administration(&a.code),
                renamed: Referentials::is_compiled_administration(&a.code)
                    && stored.iter().any(|s| s.administration.code == a.code),
                services: services
                    .iter()
                    .filter(|s| s.administration.code() == a.code)
                    .count(),
            })
            .collect())
    }

    /// Adds an administration (administrators): usable at once by services, offers and searches.
    pub fn add_administration(
        &self,
        admin: &Account,
        input: NewAdministration,
    ) -> Result<Administration> {
        require(admin, Role::Admin)?;
        let mut e = ValidationErrors::default();
        let label = required_text(&mut e, "label", input.label.as_deref(), MAX_LABEL);
        let short_label = optional_text(
            &mut e,
            "short_label",
            input.short_label.as_deref(),
            MAX_SHORT_LABEL,
        );
        let code = match input
            .code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Some(c.to_string()),
            None => label.as_deref().map(code_of),
        };
        if let Some(c) = &code {
            if !is_code(c) {
                e.push(FieldError::new(
                    "code",
                    format!(
                        "'{c}': 2 to {MAX_CODE} lower-case letters, digits and single dashes between them"
                    ),
                ));
            } else if referentials().administration(c).is_some() {
                e.push(FieldError::new(
                    "code",
                    format!("'{c}' is already an administration's code"),
                ));
            }
        }
        let versant = input.versant.as_deref().map(str::trim).unwrap_or_default();
        if !VERSANTS.contains(&versant) {
            let fault = FieldError::with_allowed(
                "versant",
                if versant.is_empty() {
                    "is required".to_string()
                } else {
                    format!("unknown versant '{versant}'")
                },
                VERSANTS.map(String::from).to_vec(),
            );
            e.push(if versant.is_empty() {
                fault.coded(FieldCode::Required)
            } else {
                fault
            });
        }
        let kind = input.kind.as_deref().map(str::trim).unwrap_or_default();
        let kinds = kinds();
        if !kinds.iter().any(|k| k == kind) {
            let fault = FieldError::with_allowed(
                "type",
                if kind.is_empty() {
                    "is required".to_string()
                } else {
                    format!("unknown type '{kind}'")
                },
                kinds.clone(),
            );
            e.push(if kind.is_empty() {
                fault.coded(FieldCode::Required)
            } else {
                fault
            });
        }
        if let Some(l) = &label {
            unique_label(&mut e, l, None);
        }
        let (Some(label), Some(code), true) = (label, code, e.0.is_empty()) else {
            return Err(Error::Invalid(e));
        };
        let a = Administration {
            short_label: short_label.unwrap_or_else(|| label.clone()),
            code,
            label,
            versant: versant.to_string(),
            kind: kind.to_string(),
            aliases: Vec::new(),
        };
        self.engine.store().write(|tx| {
            let stored = tx.stored_administrations()?;
            if stored.iter().any(|s| s.administration.code == a.code) {
                return Err(Error::Conflict(format!(
                    "'{}' is already an administration's code",
                    a.code
                )));
            }
            let position = stored.iter().map(|s| s.position + 1).max().unwrap_or(0);
            tx.put_administration(&StoredAdministration {
                administration: a.clone(),
                position,
                updated_at: now(),
            })
        })?;
        self.engine.store().install_administrations()?;
        tracing::info!(code = %a.code, label = %a.label, "administration added");
        Ok(a)
    }

    /// Renames an administration (administrators): its label, its short label; the former
    /// label stays one of its other names. Its code and versant do not change.
    pub fn rename_administration(
        &self,
        admin: &Account,
        code: &str,
        patch: AdministrationPatch,
    ) -> Result<Administration> {
        require(admin, Role::Admin)?;
        let current = referentials()
            .administration(code)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("administration {code}")))?;
        let mut e = ValidationErrors::default();
        let label = optional_text(&mut e, "label", patch.label.as_deref(), MAX_LABEL);
        let short_label = optional_text(
            &mut e,
            "short_label",
            patch.short_label.as_deref(),
            MAX_SHORT_LABEL,
        );
        if let Some(l) = &label {
            unique_label(&mut e, l, Some(code));
        }
        if label.is_none() && short_label.is_none() && e.0.is_empty() {
            e.push(FieldError::new(
                "label",
                "give a new label or a new short_label",
            ));
        }
        if !e.0.is_empty() {
            return Err(Error::Invalid(e));
        }
        let mut a = current.clone();
        if let Some(l) = label.filter(|l| *l != current.label) {
            if !a.aliases.contains(&current.label) {
                a.aliases.push(current.label.clone());
            }
            a.aliases.retain(|x| *x != l);
            a.label = l;
        }
        if let Some(s) = short_label {
            a.short_label = s;
        }
        self.engine.store().write(|tx| {
            let position = match tx.stored_administration(code)? {
                Some(s) => s.position,
                None => tx
                    .stored_administrations()?
                    .iter()
                    .map(|s| s.position + 1)
                    .max()
                    .unwrap_or(0),
            };
            tx.put_administration(&StoredAdministration {
                administration: a.clone(),
                position,
                updated_at: now(),
            })
        })?;
        self.engine.store().install_administrations()?;
        tracing::info!(code, label = %a.label, "administration renamed");
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_made_from_labels() {
        assert_eq!(code_of("Ministère de la Mer"), "ministere-de-la-mer");
        assert_eq!(
            code_of("  Agence (ANCT) — Cohésion  "),
            "agence-anct-cohesion"
        );
        assert!(code_of(&"très long mot ".repeat(20)).len() <= MAX_CODE);
        assert!(is_code("min-mer-2"));
        for bad in [
            "",
            "a",
            "Min-mer",
            "min--mer",
            "-min",
            "min-",
            "min mer",
            "ministère",
        ] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
