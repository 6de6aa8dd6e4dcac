//! Saved searches: criteria as the search's parameters, a name, and an alert (on or off,
//! immediate or daily). Each change is reflected in the percolator.

use serde::Deserialize;

use super::Candidates;
use crate::domain::SearchParams;
use crate::domain::account::{Account, Frequency, SavedSearch, required_text};
use crate::error::{Error, FieldError, Result, ValidationErrors};

fn frequency(v: Option<&str>) -> Result<Frequency> {
    match v {
        None | Some("immediate") => Ok(Frequency::Immediate),
        Some("daily") => Ok(Frequency::Daily),
        Some(f) => Err(Error::invalid(FieldError::with_allowed(
            "frequency",
            format!("unknown frequency '{f}'"),
            vec!["immediate".into(), "daily".into()],
        ))),
    }
}

/// A new saved search.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSearch {
    /// Its name, as the candidate sees it.
    #[schema(required = true)]
    pub name: Option<String>,
    /// The search parameters (lists for repeatable ones).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub criteria: serde_json::Map<String, serde_json::Value>,
    /// Whether it mails new matches (default true).
    pub alert: Option<bool>,
    /// `immediate` (default) or `daily`.
    pub frequency: Option<String>,
}

/// A change of a saved search: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchPatch {
    /// A new name.
    pub name: Option<String>,
    /// The alert on or off.
    pub alert: Option<bool>,
    /// `immediate` or `daily`.
    pub frequency: Option<String>,
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
                // A number of days may come as a JSON number; every other value is text.
                serde_json::Value::Number(n) if k == "published_since" => {
                    pairs.push((k.clone(), n.to_string()))
                }
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

impl Candidates<'_> {
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
        let (Some(name), Some(mut criteria), Some(frequency)) = (name, criteria, freq) else {
            return Err(Error::Invalid(e));
        };
        // Kept as the search read it (typos corrected), unless asked to take words as typed.
        if !criteria
            .iter()
            .any(|(k, v)| k == "exact" && v.trim() == "true")
        {
            for (k, v) in criteria.iter_mut() {
                if k == "q"
                    && let Some(corrected) = self.engine.corrected_query(v)?
                {
                    *v = corrected;
                }
            }
        }
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
        self.engine.refresh_alert(&s, who.alerts_active())?;
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
        self.engine.refresh_alert(&s, who.alerts_active())?;
        Ok(s)
    }

    /// Deletes a saved search and its pending alert mails.
    pub fn delete_search(&self, who: &Account, id: u64) -> Result<()> {
        let s = self.own(who, id)?;
        self.engine.store().write(|tx| tx.delete_saved_search(&s))?;
        self.engine.percolator_mut().remove(s.id);
        Ok(())
    }
}
