//! Accounts (administrators, recruiters, candidates), the organisation tree's services, and
//! the rules for passwords and e-mail addresses.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::referentials::AdministrationCode;
pub use super::validate::{civility, normalize_email, required_email, required_text};
use crate::error::{FieldCode, FieldError, ValidationErrors};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reviews recruiter requests, manages services.
    Admin,
    /// Manages the offers of their services.
    Recruiter,
    /// Searches and keeps saved searches.
    Candidate,
}

/// Review state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    /// Requested, awaiting review.
    Pending,
    /// Usable.
    Active,
    /// Refused by an administrator.
    Refused,
    /// Disabled by an administrator: cannot log in until enabled again.
    Disabled,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Store id.
    pub id: u64,
    /// Candidate, recruiter or administrator.
    pub role: Role,
    /// Lifecycle state.
    pub state: AccountState,
    /// `M.` or `Mme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civility: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Lower-cased.
    pub email: String,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Candidates log in with it as well as with their e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether the e-mail address was confirmed by its link (alerts need it).
    #[serde(default)]
    pub email_confirmed: bool,
    /// argon2id PHC string; never serialized out of the store layer's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Services the recruiter belongs to.
    #[serde(default)]
    pub services: Vec<u64>,
    /// A service asked for in the request ("my service is not listed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_service: Option<RequestedService>,
    /// Why a recruiter request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The terms of use accepted: their version and when (none before the first acceptance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<TermsAccepted>,
    /// The last login, for the inactivity rule of the privacy page.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_login_at: Option<OffsetDateTime>,
    /// When the account was told it would be deleted for inactivity (a login clears it).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inactivity_warned_at: Option<OffsetDateTime>,
}

/// A version of the terms of use, accepted at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsAccepted {
    /// The version ([`TERMS_VERSION`] when current).
    pub version: u32,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl TermsAccepted {
    /// The current version, accepted at `now`.
    pub fn now(now: OffsetDateTime) -> TermsAccepted {
        TermsAccepted {
            version: TERMS_VERSION,
            at: now,
        }
    }
}

impl Account {
    /// Whether the account must accept the current terms of use before going on.
    pub fn terms_outdated(&self) -> bool {
        self.terms.is_none_or(|t| t.version < TERMS_VERSION)
    }
}

/// The `cgu` box of a sign-up or a request: it must be ticked (`true`).
pub fn terms_ticked(
    errors: &mut crate::error::ValidationErrors,
    cgu: Option<bool>,
    now: OffsetDateTime,
) -> Option<TermsAccepted> {
    if cgu == Some(true) {
        Some(TermsAccepted::now(now))
    } else {
        errors.push(
            FieldError::new("cgu", "the terms of use must be accepted")
                .coded(crate::error::FieldCode::Required),
        );
        None
    }
}

/// A service a recruiter asked to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedService {
    /// Administration code.
    pub administration: AdministrationCode,
    /// Name.
    pub name: String,
    /// The entité it belongs to (an existing one, or one that is not listed yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// A service of the organisation tree: versant → administration → entité → service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Store id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Administration code.
    pub administration: AdministrationCode,
    /// The entité (direction, établissement) between the administration and the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

impl Service {
    /// `etat`, `territoriale` or `hospitaliere`.
    pub fn versant(&self) -> &'static str {
        super::referentials::referentials()
            .administration(self.administration.code())
            .map_or("etat", |a| match a.versant.as_str() {
                "territoriale" => "territoriale",
                "hospitaliere" => "hospitaliere",
                _ => "etat",
            })
    }
}

/// The version of the terms of use (`/cgu`) in force: an account that accepted an older one
/// is shown this one at its next login.
pub const TERMS_VERSION: u32 = 1;
/// The date of that version, as the page says it.
pub const TERMS_DATE: &str = "3 décembre 2026";

/// Shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 12;

/// Checks the strength rules; the message says what is missing.
pub fn check_password(password: &str, email: &str) -> Result<(), FieldError> {
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if password.chars().count() < PASSWORD_MIN_CHARS {
        Err(FieldError::new(
            "password",
            format!("at least {PASSWORD_MIN_CHARS} characters are required"),
        )
        .coded(FieldCode::PasswordTooShort))
    } else if password.chars().count() > 200 {
        Err(FieldError::new("password", "at most 200 characters"))
    } else if classes < 3 {
        Err(FieldError::new(
            "password",
            "use at least three of: lower-case letters, capitals, digits, symbols",
        )
        .coded(FieldCode::PasswordTooSimple))
    } else if local.len() >= 4 && password.to_lowercase().contains(&local) {
        Err(
            FieldError::new("password", "must not contain the e-mail address")
                .coded(FieldCode::PasswordHasEmail),
        )
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        let email = "marie.curie@culture.gouv.fr";
        assert!(check_password("short1A!", email).is_err());
        assert!(check_password("alllowercaseletters", email).is_err());
        assert!(check_password("Marie.Curie-2026!", email).is_err());
        assert!(check_password("Correct-Horse-42", email).is_ok());
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            normalize_email("email", " A.B@Gouv.FR ").unwrap(),
            "a.b@gouv.fr"
        );
        assert!(normalize_email("email", "nope").is_err());
        assert!(normalize_email("email", "a@b").is_err());
    }
}

/// How often a saved search's alert mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// One mail per matching offer, as soon as it is published.
    Immediate,
    /// One digest a day of the day's matches.
    Daily,
}

/// A candidate's saved search. The criteria are search parameters, kept as query pairs and
/// validated by [`crate::domain::SearchParams::from_pairs`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSearch {
    /// Store id.
    pub id: u64,
    /// The account it belongs to.
    pub account: u64,
    /// Name.
    pub name: String,
    /// The search parameters, as query pairs.
    pub criteria: Vec<(String, String)>,
    /// Whether new matches are mailed.
    pub alert: bool,
    /// Immediate mails or a daily digest.
    pub frequency: Frequency,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl SavedSearch {
    /// The criteria as search parameters.
    pub fn params(&self) -> Result<super::SearchParams, ValidationErrors> {
        super::SearchParams::from_pairs(&self.criteria)
    }
}
