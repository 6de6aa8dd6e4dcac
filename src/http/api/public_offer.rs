//! The public offer: every field the API shows to anyone, listed here and nowhere else — a
//! field added to the stored offer is private until it is added to [`PublicOffer`]. The
//! OpenAPI document describes it from this type.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::Offer;
use crate::domain::offer::{Attachment, Contact, iso_date};
use crate::http::api::offers::offer_url;

/// An offer as the public sees it.
#[derive(Serialize, ToSchema)]
pub struct PublicOffer<'a> {
    /// `A-YYYY-NNNN` (apprenticeship) or `S-YYYY-NNNN` (internship).
    #[schema(value_type = String)]
    pub reference: String,
    /// `published` (the public sees no other state).
    #[schema(value_type = String)]
    pub state: crate::domain::OfferState,
    /// Title of the offer.
    pub title: &'a str,
    /// Contract type (code).
    #[schema(value_type = String)]
    pub contract: &'a str,
    /// Diploma level prepared or required (code).
    #[schema(value_type = String)]
    pub diploma: &'a str,
    /// Professional domain (code).
    #[schema(value_type = String)]
    pub domain: &'a str,
    /// Administration (code).
    #[schema(value_type = String)]
    pub administration: &'a str,
    /// Name of the recruiting service.
    pub service: &'a str,
    /// Country (ISO alpha-2).
    #[schema(value_type = String)]
    pub country: &'a str,
    /// Region (INSEE code), in France.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub region: Option<&'a str>,
    /// Department (INSEE code), in France.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub department: Option<&'a str>,
    /// Town or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    /// The commune (INSEE code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commune: Option<&'a str>,

    /// The missions.
    pub description: &'a str,
    /// The employer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer_description: Option<&'a str>,
    /// The profile sought.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'a str>,
    /// Working conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<&'a str>,
    /// Languages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<&'a str>,
    /// Further information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<&'a str>,
    /// The recruiter's comments for candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<&'a str>,
    /// Start month, `YYYY-MM`.
    #[schema(value_type = String)]
    pub start: String,
    /// Duration in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_months: Option<u8>,
    /// Shortest duration in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_min_months: Option<u8>,
    /// Longest duration in months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_max_months: Option<u8>,
    /// Where to apply by mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<&'a str>,
    /// Where to apply on the web.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_url: Option<&'a str>,
    /// A phone number to ask about the offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<&'a str>,
    /// The recruiter's own reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_reference: Option<&'a str>,
    /// Paid or not (absent: not said).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid: Option<bool>,
    /// The pay, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay: Option<&'a str>,
    /// `temps-plein` or `temps-partiel` (absent: not said).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_time: Option<&'static str>,
    /// Telework possible or not (absent: not said).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telework: Option<bool>,
    /// A driving licence needed or not (absent: not said).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driving_licence: Option<bool>,
    /// Travel, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub travel: Option<&'a str>,
    /// Who receives the applications: `{name, email}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub application_contact: Option<&'a Contact>,
    /// Who answers questions: `{name, email, phone}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub information_contact: Option<&'a Contact>,
    /// A postal address to apply by letter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<&'a str>,
    /// `etat`, `territoriale` or `hospitaliere` (from the administration).
    pub versant: &'static str,
    /// End of diffusion, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    #[schema(value_type = String)]
    pub unpublish_on: time::Date,
    /// Attached documents (name, type, size, content hash).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<Object>, required = false)]
    pub attachments: &'a [Attachment],
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    /// Last change (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
    /// Latest publication (RFC 3339).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub published_at: Option<OffsetDateTime>,
    /// First publication (RFC 3339).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub first_published_at: Option<OffsetDateTime>,
    /// The offer's page on the portal.
    pub url: String,
    /// The French labels of the coded fields.
    pub labels: Labels,
}

/// The French labels of an offer's coded fields.
#[derive(Serialize, ToSchema)]
pub struct Labels {
    /// Contract type.
    pub contract: &'static str,
    /// Diploma level.
    pub diploma: &'static str,
    /// Domain.
    pub domain: &'static str,
    /// Administration.
    pub administration: &'static str,
    /// Region, in France.
    pub region: Option<&'static str>,
    /// Department, in France.
    pub department: Option<&'static str>,
    /// Country.
    pub country: &'static str,
    /// The commune's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commune: Option<&'static str>,
}

impl<'a> PublicOffer<'a> {
    /// The public view of `o`, its page under `base`.
    pub fn of(base: &str, o: &'a Offer) -> PublicOffer<'a> {
        let f = &o.fields;
        PublicOffer {
            reference: o.reference.to_string(),
            state: o.state,
            title: &f.title,
            contract: f.contract.code(),
            diploma: f.diploma.code(),
            domain: f.domain.code(),
            administration: f.administration.code(),
            service: &f.service,
            country: f.country.code(),
            region: f.region.map(|r| r.code()),
            department: f.department.map(|d| d.code()),
            location: f.location.as_deref(),
            commune: f.commune.as_deref(),

            description: &f.description,
            employer_description: f.employer_description.as_deref(),
            profile: f.profile.as_deref(),
            conditions: f.conditions.as_deref(),
            languages: f.languages.as_deref(),
            extra_info: f.extra_info.as_deref(),
            comments: f.comments.as_deref(),
            start: f.start.to_string(),
            duration_months: f.duration_months,
            duration_min_months: f.duration_min_months,
            duration_max_months: f.duration_max_months,
            contact_email: f.contact_email.as_deref(),
            contact_url: f.contact_url.as_deref(),
            contact_phone: f.contact_phone.as_deref(),
            own_reference: f.own_reference.as_deref(),
            paid: f.paid,
            pay: f.pay.as_deref(),
            working_time: f.working_time.map(|w| w.code()),
            telework: f.telework,
            driving_licence: f.driving_licence,
            travel: f.travel.as_deref(),
            application_contact: f.application_contact.as_ref(),
            information_contact: f.information_contact.as_ref(),
            postal_address: f.postal_address.as_deref(),
            versant: f.versant(),
            unpublish_on: f.unpublish_on,
            attachments: &f.attachments,
            created_at: o.created_at,
            updated_at: o.updated_at,
            published_at: o.published_at,
            first_published_at: o.first_published_at,
            url: offer_url(base, o),
            labels: Labels {
                contract: f.contract.label(),
                diploma: f.diploma.label(),
                domain: f.domain.label(),
                administration: f.administration.label(),
                region: f.region.map(|r| r.label()),
                department: f.department.map(|d| d.label()),
                country: f.country.label(),
                commune: f
                    .commune
                    .as_deref()
                    .and_then(|c| crate::domain::communes::communes().by_code(c))
                    .map(|c| c.name),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored offer's JSON, minus what is not public, as the API answered before this type.
    fn stored_minus_private(base: &str, o: &Offer) -> serde_json::Value {
        let mut v = serde_json::to_value(o).unwrap();
        let map = v.as_object_mut().unwrap();
        for private in ["id", "audit", "service_id"] {
            map.remove(private);
        }
        map.insert("url".into(), offer_url(base, o).into());
        // Derived from the administration, for the candidates' filter.
        map.insert("versant".into(), o.fields.versant().into());
        v
    }

    #[test]
    fn the_public_offer_is_the_stored_one_without_its_private_fields() {
        let anchor = time::macros::date!(2026 - 11 - 20);
        for (i, generated) in crate::fixtures::Generator::new(7, anchor)
            .take(300)
            .enumerate()
        {
            let fields = generated.validate(crate::domain::DateRule::Import).unwrap();
            let reference = if i % 2 == 0 {
                "A-2026-0001"
            } else {
                "S-2026-0002"
            };
            let reference = crate::domain::Reference::parse(reference).unwrap();
            let at = time::macros::datetime!(2026-11-20 9:00 UTC);
            let mut o = Offer::published(i as u64, reference, fields, at);
            o.service_id = Some(3);
            o.fields.comments = (i % 3 == 0).then(|| "Poste ouvert aux débutants".into());
            let mut public =
                serde_json::to_value(PublicOffer::of("https://p.example", &o)).unwrap();
            let labels = public.as_object_mut().unwrap().remove("labels").unwrap();
            assert_eq!(labels["contract"], o.fields.contract.label());
            assert_eq!(
                public,
                stored_minus_private("https://p.example", &o),
                "offer {i}"
            );
            assert!(public.get("service_id").is_none() && public.get("audit").is_none());
        }
    }
}
