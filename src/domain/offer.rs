//! The offer: its fields as the recruiter manual defines them, validation of a submitted body,
//! its lifecycle state and its reference.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use super::Facet;
use super::local_time::Zone;
use super::referentials::{
    AdministrationCode, ContractType, CountryCode, DepartmentCode, DiplomaLevel, DomainCode,
    RegionCode,
};
use super::validate;
use crate::error::{FieldCode, FieldError, ValidationErrors};

/// Longest title accepted.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest free text accepted in any other field.
pub const TEXT_MAX_CHARS: usize = 20_000;

/// Lifecycle state of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferState {
    /// Being written; never public.
    Draft,
    /// Public while its diffusion has not ended.
    Published,
    /// Withdrawn from diffusion (by hand or at the end-of-diffusion date).
    Archived,
    /// Position filled; diffusion stopped.
    Filled,
}

impl OfferState {
    /// Parses a state name, naming `field` on error.
    pub fn parse(field: &str, s: &str) -> Result<OfferState, FieldError> {
        match s {
            "draft" => Ok(OfferState::Draft),
            "published" => Ok(OfferState::Published),
            "archived" => Ok(OfferState::Archived),
            "filled" => Ok(OfferState::Filled),
            _ => Err(FieldError::with_allowed(
                field,
                format!("unknown state '{s}'"),
                ["draft", "published", "archived", "filled"]
                    .map(String::from)
                    .to_vec(),
            )),
        }
    }
}

/// A start month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    /// Year.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u8,
}

impl YearMonth {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<YearMonth> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month: u8 = m.parse().ok()?;
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse(&s).ok_or_else(|| serde::de::Error::custom("expected YYYY-MM"))
    }
}

/// `YYYY-MM-DD` dates in JSON.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
    }

    /// Formats as `YYYY-MM-DD`.
    pub fn format(d: Date) -> String {
        format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
    }

    /// Serde serializer.
    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    /// Serde deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom("expected YYYY-MM-DD"))
    }
}

/// Serde of an optional `YYYY-MM-DD` date.
pub mod iso_date_option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    /// Serde serializer.
    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::iso_date::format(*d)),
            None => s.serialize_none(),
        }
    }

    /// Serde deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::iso_date::parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected YYYY-MM-DD")),
        }
    }
}

/// An offer reference, `A-2026-0001` (apprenticeship) or `S-2026-0001` (internship).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `A` or `S`.
    pub prefix: char,
    /// Year of creation.
    pub year: u16,
    /// Number within that prefix and year, from 1.
    pub number: u32,
}

impl Reference {
    /// Parses `A-2026-0001`.
    pub fn parse(s: &str) -> Option<Reference> {
        let mut parts = s.split('-');
        let prefix = parts.next()?;
        let year = parts.next()?;
        let number = parts.next()?;
        if parts.next().is_some() || !(prefix == "A" || prefix == "S") {
            return None;
        }
        if year.len() != 4 || number.len() < 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Reference {
            prefix: prefix.chars().next()?,
            year: year.parse().ok()?,
            number: number.parse().ok()?,
        })
    }

    /// The `YYYY-NNNN` part, which also finds the offer in a search.
    pub fn short(&self) -> String {
        format!("{:04}-{:04}", self.year, self.number)
    }

    /// The counter key of this reference's sequence (`A-2026`).
    pub fn counter_key(prefix: char, year: u16) -> String {
        format!("{prefix}-{year:04}")
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:04}-{:04}", self.prefix, self.year, self.number)
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).ok_or_else(|| serde::de::Error::custom("expected A-YYYY-NNNN"))
    }
}

/// Metadata of an attached document (the bytes live in the data dir).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name shown to candidates.
    pub name: String,
    /// MIME type, checked from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex: the file's name under the data dir.
    pub sha256: String,
}

/// The offer body as submitted (recruiter API, fixture lines): raw values, not yet validated.
/// (The served document adds the referentials' codes and the types of the fields that take a
/// number or its digits: `http::contract`.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferInput {
    /// Title of the offer.
    pub title: Option<String>,
    /// Contract type.
    pub contract: Option<String>,
    /// Diploma level prepared or required.
    pub diploma: Option<String>,
    /// Professional domain.
    pub domain: Option<String>,
    /// Administration code.
    pub administration: Option<String>,
    /// The service offering it (its id).
    pub service: Option<serde_json::Value>,
    /// Country (ISO alpha-2).
    pub country: Option<String>,
    /// INSEE region (in France).
    pub region: Option<String>,
    /// INSEE department (in France).
    pub department: Option<String>,
    /// Town or address.
    pub location: Option<String>,
    /// The commune (INSEE code, in France), which searches by distance measure from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9][0-9AB][0-9]{3}$")]
    pub commune: Option<String>,
    /// The missions.
    pub description: Option<String>,
    /// The employer, in its own words.
    pub employer_description: Option<String>,
    /// The profile sought.
    pub profile: Option<String>,
    /// Working conditions.
    pub conditions: Option<String>,
    /// Languages needed: a text, or a list of languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<serde_json::Value>,
    /// The service's name as shown on the offer (default: the service's own name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_label: Option<String>,
    /// Anything else a candidate should know.
    pub extra_info: Option<String>,
    /// Comments (public).
    pub comments: Option<String>,
    /// Start month, `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub start: Option<String>,
    /// Duration in months.
    pub duration_months: Option<serde_json::Value>,
    /// Shortest duration in months.
    pub duration_min_months: Option<serde_json::Value>,
    /// Longest duration in months.
    pub duration_max_months: Option<serde_json::Value>,
    /// Where to apply by mail.
    pub contact_email: Option<String>,
    /// Where to apply on the web.
    pub contact_url: Option<String>,
    /// Phone of the contact.
    pub contact_phone: Option<String>,
    /// End of diffusion (the offer is hidden from that day), `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub unpublish_on: Option<String>,
    /// A draft's scheduled publication (`YYYY-MM-DD`, after today and before `unpublish_on`):
    /// the server publishes it at local midnight of that day. Empty or absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub publish_on: Option<String>,
    /// The recruiter's own reference for the offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_reference: Option<String>,
    /// Whether the position is paid (`true`, `false`; absent: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<serde_json::Value>,
    /// The pay, in words (« gratification légale », « 53 % du SMIC »…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay: Option<String>,
    /// `temps-plein` or `temps-partiel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_time: Option<String>,
    /// Whether telework is possible (`true`, `false`; absent: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telework: Option<serde_json::Value>,
    /// Whether a driving licence is needed (`true`, `false`; absent: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driving_licence: Option<serde_json::Value>,
    /// Travel the position involves, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub travel: Option<String>,
    /// Who receives the applications: `{name, email}` (required for a new offer).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::validate::object_only"
    )]
    pub application_contact: Option<ContactInput>,
    /// Who answers questions: `{name, email, phone}`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::validate::object_only"
    )]
    pub information_contact: Option<ContactInput>,
    /// A postal address to apply by letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    /// Lifecycle state.
    pub state: Option<String>,
    /// Time of the latest publication (set by the server).
    pub published_at: Option<String>,
}

/// A named contact as submitted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// First and last name, or a function (« Bureau des stages »).
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A named contact of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name or function.
    pub name: String,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Full time or part time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkingTime {
    /// `temps-plein`.
    #[serde(rename = "temps-plein")]
    FullTime,
    /// `temps-partiel`.
    #[serde(rename = "temps-partiel")]
    PartTime,
}

impl WorkingTime {
    /// The code of the API.
    pub fn code(self) -> &'static str {
        match self {
            WorkingTime::FullTime => "temps-plein",
            WorkingTime::PartTime => "temps-partiel",
        }
    }

    /// The label of the pages.
    pub fn label(self) -> &'static str {
        match self {
            WorkingTime::FullTime => "Temps plein",
            WorkingTime::PartTime => "Temps partiel",
        }
    }
}

/// The validated, editable fields of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferFields {
    /// Title of the offer.
    pub title: String,
    /// Contract type.
    pub contract: ContractType,
    /// Diploma level prepared or required.
    pub diploma: DiplomaLevel,
    /// Professional domain.
    pub domain: DomainCode,
    /// Administration code.
    pub administration: AdministrationCode,
    /// Name of the recruiting service, as shown to candidates.
    pub service: String,
    /// Country (ISO alpha-2).
    pub country: CountryCode,
    /// INSEE region (in France).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    /// INSEE department (in France).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    /// Town or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The commune (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    /// The missions.
    pub description: String,
    /// The employer, in its own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_description: Option<String>,
    /// The profile sought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Working conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    /// Languages needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<String>,
    /// Anything else a candidate should know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<String>,
    /// Comments (public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Start month.
    pub start: YearMonth,
    /// Duration in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_months: Option<u8>,
    /// Shortest duration in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_min_months: Option<u8>,
    /// Longest duration in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_max_months: Option<u8>,
    /// Where to apply by mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Where to apply on the web.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_url: Option<String>,
    /// Phone of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// End of diffusion (the offer is hidden from that day).
    #[serde(with = "iso_date")]
    pub unpublish_on: Date,
    /// The recruiter's own reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_reference: Option<String>,
    /// Paid or not (none: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<bool>,
    /// The pay, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay: Option<String>,
    /// Full or part time (none: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_time: Option<WorkingTime>,
    /// Telework possible or not (none: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telework: Option<bool>,
    /// A driving licence needed or not (none: not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driving_licence: Option<bool>,
    /// Travel, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub travel: Option<String>,
    /// Who receives the applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_contact: Option<Contact>,
    /// Who answers questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub information_contact: Option<Contact>,
    /// A postal address to apply by letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    /// A draft's scheduled publication: published by the server at local midnight that day.
    #[serde(
        default,
        with = "iso_date_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_on: Option<Date>,
    /// Attached documents (at most 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl OfferFields {
    /// The searchable text values, in the order the index holds them (the percolator's
    /// verifier reads the same list, so that both agree on phrase positions).
    pub fn searchable_texts(&self) -> impl Iterator<Item = &str> {
        [
            Some(self.title.as_str()),
            Some(self.description.as_str()),
            self.employer_description.as_deref(),
            self.profile.as_deref(),
            self.location.as_deref(),
            Some(self.service.as_str()),
        ]
        .into_iter()
        .flatten()
    }

    /// The referential ordinal of each facet value, in [`super::Facet::ALL`] order (`None`:
    /// no region or department for an offer abroad).
    pub fn facet_ordinals(&self) -> [Option<u16>; Facet::COUNT] {
        let flag = |facet: Facet, b: Option<bool>| {
            b.and_then(|b| facet.values().ordinal(if b { "true" } else { "false" }))
        };
        [
            Some(self.contract.ordinal()),
            Some(self.diploma.ordinal()),
            Some(self.domain.ordinal()),
            Some(self.administration.ordinal()),
            self.region.map(|r| r.ordinal()),
            self.department.map(|d| d.ordinal()),
            Some(self.country.ordinal()),
            flag(Facet::Telework, self.telework),
            flag(Facet::Paid, self.paid),
            Facet::Versant.values().ordinal(self.versant()),
        ]
    }

    /// `etat`, `territoriale` or `hospitaliere`, from the administration.
    pub fn versant(&self) -> &'static str {
        super::referentials::referentials().versant_of(self.administration.code())
    }
}

/// How strictly dates are checked.
#[derive(Debug, Clone, Copy)]
pub enum DateRule {
    /// A recruiter's submission: `unpublish_on` after `today`, at most one year ahead.
    Submission {
        /// Today's date.
        today: Date,
    },
    /// A bulk import of existing offers: any valid date.
    Import,
}

fn text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    validate::optional_text(errors, field, value.as_deref(), max)
}

fn required(errors: &mut ValidationErrors, field: &str, value: &Option<String>) -> Option<String> {
    let max = if field == "title" {
        TITLE_MAX_CHARS
    } else {
        TEXT_MAX_CHARS
    };
    validate::required_text(errors, field, value.as_deref(), max)
}

fn code<T>(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
    parse: fn(&str, &str) -> Result<T, FieldError>,
    is_required: bool,
) -> Option<T> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            if is_required {
                errors.push(FieldError::required(field));
            }
            None
        }
        Some(v) => parse(field, v).map_err(|e| errors.push(e)).ok(),
    }
}

fn months(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<serde_json::Value>,
) -> Option<u8> {
    let v = value.as_ref().filter(|v| !v.is_null())?;
    let n = v
        .as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match n {
        Some(n @ 1..=36) => Some(n as u8),
        _ => {
            errors.push(FieldError::new(
                field,
                "must be a whole number of months from 1 to 36",
            ));
            None
        }
    }
}

/// A yes/no field: `true`/`false` (JSON or text), `oui`/`non`, or empty / absent for « not
/// said ».
fn flag(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<serde_json::Value>,
) -> Option<bool> {
    match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(serde_json::Value::String(s)) => match s.trim() {
            "" => None,
            "true" | "oui" => Some(true),
            "false" | "non" => Some(false),
            other => {
                errors.push(FieldError::with_allowed(
                    field,
                    format!("'{other}' is not true or false"),
                    vec!["true".into(), "false".into()],
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::with_allowed(
                field,
                "must be true or false",
                vec!["true".into(), "false".into()],
            ));
            None
        }
    }
}

/// A named contact: a name and an e-mail address (a phone too when `phone`); all empty is
/// none.
fn contact(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<ContactInput>,
    phone: bool,
) -> Option<Contact> {
    let c = value.as_ref()?;
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&c.name) && blank(&c.email) && blank(&c.phone) {
        return None;
    }
    let name = validate::required_text(errors, &format!("{field}.name"), c.name.as_deref(), 200);
    let email = validate::required_email(errors, &format!("{field}.email"), c.email.as_deref());
    let phone = if phone {
        validate::optional_phone(errors, &format!("{field}.phone"), c.phone.as_deref())
    } else {
        if !blank(&c.phone) {
            errors.push(FieldError::new(
                format!("{field}.phone"),
                "the application contact has a name and an e-mail address only",
            ));
        }
        None
    };
    Some(Contact {
        name: name?,
        email: Some(email?),
        phone,
    })
}

/// A recruiter's end of diffusion: a date `YYYY-MM-DD` after `today`, at most one year ahead.
pub fn parse_unpublish_on(s: &str, today: Date) -> Result<Date, FieldError> {
    let Some(d) = iso_date::parse(s.trim()) else {
        return Err(FieldError::new(
            "unpublish_on",
            format!("'{s}' is not a date YYYY-MM-DD"),
        ));
    };
    let limit = today.replace_year(today.year() + 1).unwrap_or_else(|_| {
        // 29 February: one year ahead is 28 February.
        Date::from_calendar_date(today.year() + 1, Month::February, 28).unwrap_or(today)
    });
    if d <= today {
        Err(FieldError::new("unpublish_on", "must be after today").coded(FieldCode::NotAfterToday))
    } else if d > limit {
        Err(FieldError::new(
            "unpublish_on",
            format!(
                "must be at most one year ahead (on or before {})",
                iso_date::format(limit)
            ),
        )
        .coded(FieldCode::TooFarAhead))
    } else {
        Ok(d)
    }
}

impl OfferInput {
    /// Gives an offer in France without a commune the one its town names (`location`, read in
    /// its department), as imports and partner feeds write it. False when it still has none.
    pub fn resolve_commune(&mut self) -> bool {
        if self
            .commune
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
        {
            return true;
        }
        if self
            .country
            .as_deref()
            .is_some_and(|c| !c.trim().eq_ignore_ascii_case("FR"))
        {
            return false;
        }
        let found = self.location.as_deref().and_then(|town| {
            super::communes::communes().find(town, self.department.as_deref().map(str::trim))
        });
        self.commune = found.map(|c| c.code.to_string());
        self.commune.is_some()
    }

    /// The commune: a known INSEE code, in France, in the offer's department.
    fn commune(
        &self,
        e: &mut ValidationErrors,
        in_france: bool,
        department: Option<DepartmentCode>,
    ) -> Option<String> {
        let code = self
            .commune
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())?;
        let Some(c) = super::communes::communes().by_code(&code.to_ascii_uppercase()) else {
            e.push(FieldError::new(
                "commune",
                format!("'{code}' is not the INSEE code of a commune (69123, 2A004…)"),
            ));
            return None;
        };
        if !in_france {
            e.push(FieldError::new(
                "commune",
                "a commune is only for offers in France (country FR)",
            ));
            return None;
        }
        if let Some(d) = department.filter(|d| d.code() != c.department) {
            e.push(FieldError::new(
                "commune",
                format!(
                    "{} ({}) is in department {}, not {}",
                    c.name,
                    c.code,
                    c.department,
                    d.code()
                ),
            ));
            return None;
        }
        Some(c.code.to_string())
    }

    /// Validates every field, collecting all errors. `service_name` is the service already
    /// resolved by the caller (the recruiter API resolves an id); when `None`, `service` must be
    /// given as a name.
    pub fn validate(&self, rule: DateRule) -> Result<OfferFields, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = required(&mut e, "title", &self.title);
        let contract = code(
            &mut e,
            "contract",
            &self.contract,
            ContractType::parse,
            true,
        );
        let diploma = code(&mut e, "diploma", &self.diploma, DiplomaLevel::parse, true);
        let domain = code(&mut e, "domain", &self.domain, DomainCode::parse, true);
        let administration = code(
            &mut e,
            "administration",
            &self.administration,
            AdministrationCode::parse,
            true,
        );
        let service = match &self.service {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                text(&mut e, "service", &Some(s.clone()), TITLE_MAX_CHARS)
            }
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => {
                e.push(FieldError::required("service"));
                None
            }
        };
        let country = code(&mut e, "country", &self.country, CountryCode::parse, true);
        let in_france = country.is_some_and(CountryCode::is_france);
        let region = code(&mut e, "region", &self.region, RegionCode::parse, in_france);
        let department = code(
            &mut e,
            "department",
            &self.department,
            DepartmentCode::parse,
            in_france,
        );
        if let (Some(r), Some(d)) = (region, department)
            && d.region() != Some(r)
        {
            let allowed = super::referentials::referentials()
                .regions
                .iter()
                .find(|x| x.code == r.code())
                .map(|x| x.departments.clone())
                .unwrap_or_default();
            e.push(FieldError::with_allowed(
                "department",
                format!(
                    "department '{}' is not in region '{}' ({})",
                    d.code(),
                    r.code(),
                    r.label()
                ),
                allowed,
            ));
        }
        if let Some(c) = country.filter(|c| !c.is_france()) {
            if contract.is_some_and(|k| !k.is_internship()) {
                e.push(FieldError::with_allowed(
                    "contract",
                    format!("an offer abroad ({}) must be an internship", c.label()),
                    vec!["stage".into()],
                ));
            }
            if region.is_some() || department.is_some() {
                e.push(FieldError::new(
                    "region",
                    "region and department are only for offers in France (country FR)",
                ));
            }
        }
        let description = required(&mut e, "description", &self.description);
        let start = match self
            .start
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {
                e.push(FieldError::new("start", "is required (YYYY-MM)"));
                None
            }
            Some(s) => YearMonth::parse(s).or_else(|| {
                e.push(FieldError::new(
                    "start",
                    format!("'{s}' is not a month YYYY-MM"),
                ));
                None
            }),
        };
        let duration_months = months(&mut e, "duration_months", &self.duration_months);
        let duration_min_months = months(&mut e, "duration_min_months", &self.duration_min_months);
        let duration_max_months = months(&mut e, "duration_max_months", &self.duration_max_months);
        if duration_months.is_some()
            && (duration_min_months.is_some() || duration_max_months.is_some())
        {
            e.push(FieldError::new(
                "duration_months",
                "give either duration_months or duration_min_months and duration_max_months, not both",
            ));
        }
        match (duration_min_months, duration_max_months) {
            (Some(min), Some(max)) if min > max => e.push(FieldError::new(
                "duration_max_months",
                "must not be less than duration_min_months",
            )),
            (Some(_), None) => e.push(FieldError::new(
                "duration_max_months",
                "is required with duration_min_months",
            )),
            (None, Some(_)) => e.push(FieldError::new(
                "duration_min_months",
                "is required with duration_max_months",
            )),
            _ => {}
        }
        let contact_email =
            validate::optional_email(&mut e, "contact_email", self.contact_email.as_deref());
        let contact_url =
            validate::optional_url(&mut e, "contact_url", self.contact_url.as_deref());
        if contact_email.is_none()
            && contact_url.is_none()
            && !e.0.iter().any(|f| f.field.starts_with("contact_"))
        {
            e.push(
                FieldError::new(
                    "contact_email",
                    "one of contact_email or contact_url is required",
                )
                .coded(FieldCode::ContactRequired),
            );
        }
        let contact_phone =
            validate::optional_phone(&mut e, "contact_phone", self.contact_phone.as_deref());
        let unpublish_on = match self
            .unpublish_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {
                e.push(FieldError::new("unpublish_on", "is required (YYYY-MM-DD)"));
                None
            }
            Some(s) => match rule {
                DateRule::Submission { today } => {
                    parse_unpublish_on(s, today).map_err(|x| e.push(x)).ok()
                }
                DateRule::Import => match iso_date::parse(s) {
                    Some(d) => Some(d),
                    None => {
                        e.push(FieldError::new(
                            "unpublish_on",
                            format!("'{s}' is not a date YYYY-MM-DD"),
                        ));
                        None
                    }
                },
            },
        };
        let publish_on = match self
            .publish_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => match iso_date::parse(s) {
                None => {
                    e.push(FieldError::new(
                        "publish_on",
                        format!("'{s}' is not a date YYYY-MM-DD"),
                    ));
                    None
                }
                Some(d) => match rule {
                    DateRule::Submission { today } if d <= today => {
                        e.push(
                            FieldError::new("publish_on", "must be after today")
                                .coded(FieldCode::NotAfterToday),
                        );
                        None
                    }
                    _ if unpublish_on.is_some_and(|u| d >= u) => {
                        e.push(FieldError::new(
                            "publish_on",
                            "must be before the end of diffusion (unpublish_on)",
                        ));
                        None
                    }
                    _ => Some(d),
                },
            },
        };
        let own_reference = text(&mut e, "own_reference", &self.own_reference, 50);
        let paid = flag(&mut e, "paid", &self.paid);
        let pay = text(&mut e, "pay", &self.pay, TITLE_MAX_CHARS);
        let working_time = match self.working_time.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("temps-plein") => Some(WorkingTime::FullTime),
            Some("temps-partiel") => Some(WorkingTime::PartTime),
            Some(other) => {
                e.push(FieldError::with_allowed(
                    "working_time",
                    format!("unknown working time '{other}'"),
                    vec!["temps-plein".into(), "temps-partiel".into()],
                ));
                None
            }
        };
        let telework = flag(&mut e, "telework", &self.telework);
        let driving_licence = flag(&mut e, "driving_licence", &self.driving_licence);
        let travel = text(&mut e, "travel", &self.travel, TITLE_MAX_CHARS);
        let application_contact = contact(
            &mut e,
            "application_contact",
            &self.application_contact,
            false,
        );
        let information_contact = contact(
            &mut e,
            "information_contact",
            &self.information_contact,
            true,
        );
        let postal_address = text(&mut e, "postal_address", &self.postal_address, 500);
        let location = text(&mut e, "location", &self.location, TITLE_MAX_CHARS);
        let commune = self.commune(&mut e, in_france, department);
        let employer_description = text(
            &mut e,
            "employer_description",
            &self.employer_description,
            TEXT_MAX_CHARS,
        );
        let profile = text(&mut e, "profile", &self.profile, TEXT_MAX_CHARS);
        let conditions = text(&mut e, "conditions", &self.conditions, TEXT_MAX_CHARS);
        let languages = match &self.languages {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => {
                text(&mut e, "languages", &Some(s.clone()), TEXT_MAX_CHARS)
            }
            Some(serde_json::Value::Array(list)) => {
                let names: Option<Vec<&str>> =
                    list.iter().map(|v| v.as_str().map(str::trim)).collect();
                match names {
                    Some(names) => {
                        let joined = names
                            .into_iter()
                            .filter(|n| !n.is_empty())
                            .collect::<Vec<_>>()
                            .join(", ");
                        text(&mut e, "languages", &Some(joined), TEXT_MAX_CHARS)
                    }
                    None => {
                        e.push(FieldError::new(
                            "languages",
                            "must be a text or a list of texts",
                        ));
                        None
                    }
                }
            }
            Some(_) => {
                e.push(FieldError::new(
                    "languages",
                    "must be a text or a list of texts",
                ));
                None
            }
        };
        let extra_info = text(&mut e, "extra_info", &self.extra_info, TEXT_MAX_CHARS);
        let comments = text(&mut e, "comments", &self.comments, TEXT_MAX_CHARS);

        let (
            Some(title),
            Some(contract),
            Some(diploma),
            Some(domain),
            Some(administration),
            Some(service),
            Some(country),
            Some(description),
            Some(start),
            Some(unpublish_on),
        ) = (
            title,
            contract,
            diploma,
            domain,
            administration,
            service,
            country,
            description,
            start,
            unpublish_on,
        )
        else {
            return Err(e);
        };
        e.into_result(OfferFields {
            title,
            contract,
            diploma,
            domain,
            administration,
            service,
            country,
            region,
            department,
            location,
            commune,
            description,
            employer_description,
            profile,
            conditions,
            languages,
            extra_info,
            comments,
            start,
            duration_months,
            duration_min_months,
            duration_max_months,
            contact_email,
            contact_url,
            contact_phone,
            unpublish_on,
            own_reference,
            paid,
            pay,
            working_time,
            telework,
            driving_licence,
            travel,
            application_contact,
            information_contact,
            postal_address,
            publish_on,
            attachments: Vec::new(),
        })
    }
}

/// One entry of an offer's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who: an account id, or none for the system (import, automatic archiving).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<u64>,
    /// What: created, updated, published, archived, unarchived, filled, cloned-from …
    pub action: String,
}

/// An offer as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Store id (internal, dense).
    pub id: u64,
    /// Public reference.
    pub reference: Reference,
    /// Lifecycle state.
    pub state: OfferState,
    /// The editable fields.
    #[serde(flatten)]
    pub fields: OfferFields,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Time of the latest publication (sort key of the search).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub published_at: Option<OffsetDateTime>,
    /// Time of the first publication (alerts fire once, then).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_published_at: Option<OffsetDateTime>,
    /// The service that owns the offer (none for imported offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<u64>,
    /// Who created, changed, published, archived it, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<AuditEvent>,
}

impl Offer {
    /// An offer published at `at` that no service owns, as an import or a test makes it
    /// before the store gives it its place.
    pub fn published(
        id: u64,
        reference: Reference,
        fields: OfferFields,
        at: OffsetDateTime,
    ) -> Offer {
        Offer {
            id,
            reference,
            state: OfferState::Published,
            fields,
            created_at: at,
            updated_at: at,
            published_at: Some(at),
            first_published_at: Some(at),
            service_id: None,
            audit: Vec::new(),
        }
    }

    /// The instant diffusion ends: midnight starting the `unpublish_on` day, in the portal's
    /// time zone.
    pub fn visible_until(&self, zone: &Zone) -> OffsetDateTime {
        zone.midnight(self.fields.unpublish_on)
    }

    /// A draft waiting for its scheduled publication.
    pub fn is_scheduled(&self) -> bool {
        self.state == OfferState::Draft && self.fields.publish_on.is_some()
    }

    /// The state as the API and the pages name it: a scheduled draft is `scheduled`.
    pub fn state_name(&self) -> &'static str {
        if self.is_scheduled() {
            return "scheduled";
        }
        match self.state {
            OfferState::Draft => "draft",
            OfferState::Published => "published",
            OfferState::Archived => "archived",
            OfferState::Filled => "filled",
        }
    }

    /// True when the public may see the offer at `now`.
    pub fn is_visible(&self, now: OffsetDateTime, zone: &Zone) -> bool {
        self.state == OfferState::Published && now < self.visible_until(zone)
    }

    /// Records a change by `actor` (none for the system) in the audit trail.
    pub fn record(&mut self, actor: Option<u64>, action: &str, now: OffsetDateTime) {
        self.updated_at = now;
        self.audit.push(AuditEvent {
            at: now,
            actor,
            action: action.to_string(),
        });
    }

    /// Moves the offer one step of its lifecycle, or says why it cannot (a conflict).
    pub fn apply(
        &mut self,
        step: Lifecycle,
        actor: Option<u64>,
        now: OffsetDateTime,
        zone: &Zone,
    ) -> Result<(), crate::Error> {
        let (from, to, done) = step.rule();
        if !from.contains(&self.state) {
            return Err(crate::Error::Conflict(
                format!("cannot {} an offer that is {:?}", step.name(), self.state).to_lowercase(),
            ));
        }
        if to == OfferState::Published {
            if self.fields.unpublish_on <= zone.today(now) {
                return Err(crate::Error::Conflict(
                    "the end-of-diffusion date has passed: replace the offer with a new unpublish_on first".into(),
                ));
            }
            self.published_at = Some(now);
            self.first_published_at.get_or_insert(now);
            // Published: nothing is scheduled any more.
            self.fields.publish_on = None;
        }
        self.state = to;
        self.record(actor, done, now);
        Ok(())
    }

    /// Only a draft may be deleted; any other state is a conflict.
    pub fn check_deletable(&self) -> Result<(), crate::Error> {
        if self.state == OfferState::Draft {
            Ok(())
        } else {
            Err(crate::Error::Conflict(format!(
                "offer {} is {:?}: only a draft can be deleted",
                self.reference, self.state
            )))
        }
    }
}

/// The steps of an offer's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// A draft goes public.
    Publish,
    /// A published or filled offer is withdrawn.
    Archive,
    /// An archived offer goes public again.
    Unarchive,
    /// A published offer's position is filled.
    Fill,
    /// A filled offer is open again.
    Unfill,
}

impl Lifecycle {
    /// Every step, by its API name.
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::Publish,
        Lifecycle::Archive,
        Lifecycle::Unarchive,
        Lifecycle::Fill,
        Lifecycle::Unfill,
    ];

    /// The API name (`POST …/{reference}/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Publish => "publish",
            Lifecycle::Archive => "archive",
            Lifecycle::Unarchive => "unarchive",
            Lifecycle::Fill => "filled",
            Lifecycle::Unfill => "unfill",
        }
    }

    /// The step of an API name.
    pub fn parse(name: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The states it starts from, the state it leads to, and its audit wording.
    fn rule(self) -> (&'static [OfferState], OfferState, &'static str) {
        match self {
            Lifecycle::Publish => (&[OfferState::Draft], OfferState::Published, "published"),
            Lifecycle::Archive => (
                &[OfferState::Published, OfferState::Filled],
                OfferState::Archived,
                "archived",
            ),
            Lifecycle::Unarchive => (&[OfferState::Archived], OfferState::Published, "unarchived"),
            Lifecycle::Fill => (
                &[OfferState::Published],
                OfferState::Filled,
                "marked filled",
            ),
            Lifecycle::Unfill => (&[OfferState::Filled], OfferState::Published, "open again"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn valid() -> OfferInput {
        OfferInput {
            title: Some("Apprenti(e) développeur (F/H)".into()),
            contract: Some("apprentissage".into()),
            diploma: Some("niveau-6".into()),
            domain: Some("numerique".into()),
            administration: Some("min-interieur".into()),
            service: Some("Ministère de l'Intérieur - ANTAI".into()),
            country: Some("FR".into()),
            region: Some("11".into()),
            department: Some("75".into()),
            description: Some("Développer des services en ligne".into()),
            start: Some("2027-01".into()),
            contact_email: Some("rh@interieur.gouv.fr".into()),
            unpublish_on: Some("2027-03-01".into()),
            ..OfferInput::default()
        }
    }

    const TODAY: DateRule = DateRule::Submission {
        today: date!(2026 - 11 - 25),
    };

    fn fields_of(r: Result<OfferFields, ValidationErrors>) -> Vec<String> {
        r.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_offer_is_valid() {
        let f = valid().validate(TODAY).unwrap();
        assert_eq!(f.contract.reference_prefix(), 'A');
        assert_eq!(f.department.unwrap().code(), "75");
    }

    #[test]
    fn every_missing_field_is_named() {
        let errs = fields_of(OfferInput::default().validate(TODAY));
        for f in [
            "title",
            "contract",
            "diploma",
            "domain",
            "administration",
            "service",
            "country",
            "description",
            "start",
            "contact_email",
            "unpublish_on",
        ] {
            assert!(
                errs.contains(&f.to_string()),
                "{f} not reported in {errs:?}"
            );
        }
    }

    #[test]
    fn department_must_belong_to_region() {
        let mut i = valid();
        i.department = Some("69".into());
        let e = i.validate(TODAY).unwrap_err();
        assert_eq!(e.0[0].field, "department");
        assert!(e.0[0].allowed.contains(&"75".to_string()));
    }

    #[test]
    fn abroad_is_an_internship_without_region() {
        let mut i = valid();
        i.country = Some("DE".into());
        i.region = None;
        i.department = None;
        assert_eq!(fields_of(i.clone().validate(TODAY)), vec!["contract"]);
        i.contract = Some("stage".into());
        assert!(i.validate(TODAY).is_ok());
    }

    #[test]
    fn in_france_region_and_department_are_required() {
        let mut i = valid();
        i.region = None;
        i.department = None;
        assert_eq!(fields_of(i.validate(TODAY)), vec!["region", "department"]);
    }

    #[test]
    fn unpublish_date_must_be_ahead_but_within_a_year() {
        let mut i = valid();
        i.unpublish_on = Some("2026-11-25".into());
        assert_eq!(fields_of(i.clone().validate(TODAY)), vec!["unpublish_on"]);
        i.unpublish_on = Some("2027-11-26".into());
        assert_eq!(fields_of(i.clone().validate(TODAY)), vec!["unpublish_on"]);
        i.unpublish_on = Some("2027-11-25".into());
        assert!(i.clone().validate(TODAY).is_ok());
        i.unpublish_on = Some("2020-01-01".into());
        assert!(i.validate(DateRule::Import).is_ok());
    }

    #[test]
    fn bad_formats_are_named() {
        let mut i = valid();
        i.start = Some("janvier".into());
        i.contact_email = Some("not-an-email".into());
        i.duration_months = Some(serde_json::json!(48));
        i.diploma = Some("bac+5".into());
        let errs = fields_of(i.validate(TODAY));
        assert_eq!(
            errs,
            vec!["diploma", "start", "duration_months", "contact_email"]
        );
    }

    #[test]
    fn references_round_trip() {
        let r = Reference::parse("A-2021-0192").unwrap();
        assert_eq!(r.to_string(), "A-2021-0192");
        assert_eq!(r.short(), "2021-0192");
        assert!(Reference::parse("B-2021-0192").is_none());
        assert!(Reference::parse("A-2021-19").is_none());
        assert_eq!(
            Reference {
                prefix: 'S',
                year: 2026,
                number: 12345
            }
            .to_string(),
            "S-2026-12345"
        );
    }
}
