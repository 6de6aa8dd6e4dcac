//! Accounts (administrators, recruiters, candidates), the organisation tree's services, and
//! the rules for passwords and e-mail addresses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::documents::{Application, Document};
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
    /// The recruiter's role in each of those services; a service missing here is
    /// [`MemberRole::Redacteur`] (memberships older than roles).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub member_roles: BTreeMap<u64, MemberRole>,
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
    /// A candidate's starred offers (store ids), the latest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub favorites: Vec<u64>,
    /// Since when a candidate's alerts are all paused (« mettre en veille »); none: they run.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub paused_since: Option<OffsetDateTime>,
    /// A candidate's documents (« Mes documents »).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// The applications a candidate sent from the portal, the latest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<Application>,
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

/// A recruiter's role inside one of their services.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Manages the service's members, and writes its offers.
    Gestionnaire,
    /// Writes the service's offers.
    #[default]
    Redacteur,
    /// Reads the service's offers and statistics, changes nothing.
    Lecteur,
}

impl MemberRole {
    /// Every role, the most powerful first.
    pub const ALL: [MemberRole; 3] = [
        MemberRole::Gestionnaire,
        MemberRole::Redacteur,
        MemberRole::Lecteur,
    ];

    /// The code of the API and of the forms.
    pub fn code(self) -> &'static str {
        match self {
            MemberRole::Gestionnaire => "gestionnaire",
            MemberRole::Redacteur => "redacteur",
            MemberRole::Lecteur => "lecteur",
        }
    }

    /// The label of the pages.
    pub fn label(self) -> &'static str {
        match self {
            MemberRole::Gestionnaire => "Gestionnaire",
            MemberRole::Redacteur => "Rédacteur",
            MemberRole::Lecteur => "Lecteur",
        }
    }

    /// Reads a code; the error names `field` and the codes allowed.
    pub fn parse(field: &str, code: &str) -> Result<MemberRole, FieldError> {
        MemberRole::ALL
            .into_iter()
            .find(|r| r.code() == code.trim())
            .ok_or_else(|| {
                FieldError::with_allowed(
                    field,
                    format!("unknown role '{code}'"),
                    MemberRole::ALL
                        .iter()
                        .map(|r| r.code().to_string())
                        .collect(),
                )
            })
    }

    /// Whether the role creates, changes and publishes the service's offers.
    pub fn writes(self) -> bool {
        self != MemberRole::Lecteur
    }

    /// Whether the role manages the service's members.
    pub fn manages(self) -> bool {
        self == MemberRole::Gestionnaire
    }
}

impl Account {
    /// Whether the account's alerts may mail: its address confirmed, not in standby.
    pub fn alerts_active(&self) -> bool {
        self.email_confirmed && self.paused_since.is_none()
    }

    /// The role in `service`, if the account belongs to it.
    pub fn role_in(&self, service: u64) -> Option<MemberRole> {
        self.services
            .contains(&service)
            .then(|| self.member_roles.get(&service).copied().unwrap_or_default())
    }

    /// Whether the account writes the offers of `service`.
    pub fn writes_in(&self, service: u64) -> bool {
        self.role_in(service).is_some_and(MemberRole::writes)
    }

    /// The services whose offers the account writes.
    pub fn writable_services(&self) -> Vec<u64> {
        self.services
            .iter()
            .copied()
            .filter(|s| self.writes_in(*s))
            .collect()
    }

    /// Joins `service` with `role`, or changes the role there.
    pub fn join(&mut self, service: u64, role: MemberRole) {
        if !self.services.contains(&service) {
            self.services.push(service);
        }
        self.member_roles.insert(service, role);
    }

    /// Leaves `service`.
    pub fn leave(&mut self, service: u64) {
        self.services.retain(|s| *s != service);
        self.member_roles.remove(&service);
    }

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
    /// Postal address, phone, e-mail and web site.
    #[serde(default)]
    pub details: ServiceDetails,
}

/// How to reach a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceDetails {
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Web site (`https://…`; empty for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*$|^\s*https?://[^/\s]\S*\s*$")]
    pub website: Option<String>,
}

impl Service {
    /// `etat`, `territoriale` or `hospitaliere`.
    pub fn versant(&self) -> &'static str {
        super::referentials::referentials().versant_of(self.administration.code())
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

    #[test]
    fn memberships_older_than_roles_are_redacteur() {
        let old: Account = serde_json::from_value(serde_json::json!({
            "id": 7, "role": "recruiter", "state": "active", "first_name": "A", "last_name": "B",
            "email": "a@b.fr", "services": [3], "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(old.role_in(3), Some(MemberRole::Redacteur));
        assert_eq!(old.role_in(4), None);
        let mut a = old.clone();
        a.join(4, MemberRole::Lecteur);
        assert!(!a.writes_in(4) && a.writes_in(3));
        assert_eq!(a.writable_services(), vec![3]);
        let back: Account = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.role_in(4), Some(MemberRole::Lecteur));
        a.leave(4);
        assert_eq!(a.role_in(4), None);
        assert!(MemberRole::parse("role", "chef").is_err());
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
