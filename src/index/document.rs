//! An offer as a tantivy document.

use tantivy::TantivyDocument;

use super::schema::OfferSchema;
use crate::domain::{Facet, Offer};

/// The document of a published offer.
pub fn offer_document(offer: &Offer, s: &OfferSchema) -> TantivyDocument {
    let f = &offer.fields;
    let mut doc = TantivyDocument::new();
    doc.add_u64(s.id, offer.id);
    doc.add_text(s.reference, offer.reference.to_string());
    doc.add_text(s.reference, offer.reference.short());
    doc.add_text(s.title, &f.title);
    let texts = [
        Some(f.title.as_str()),
        Some(f.description.as_str()),
        f.employer_description.as_deref(),
        f.profile.as_deref(),
        f.location.as_deref(),
        Some(f.service.as_str()),
    ];
    for t in texts.into_iter().flatten() {
        doc.add_text(s.text, t);
        doc.add_text(s.text_exact, t);
    }
    let none = |facet: Facet| facet.values().len() as u64;
    let ords: [Option<u16>; 7] = [
        Some(f.contract.ordinal()),
        Some(f.diploma.ordinal()),
        Some(f.domain.ordinal()),
        Some(f.administration.ordinal()),
        f.region.map(|r| r.ordinal()),
        f.department.map(|d| d.ordinal()),
        Some(f.country.ordinal()),
    ];
    for (facet, ord) in Facet::ALL.into_iter().zip(ords) {
        doc.add_u64(s.facets[facet.index()], ord.map_or(none(facet), u64::from));
    }
    let published = offer.published_at.unwrap_or(offer.created_at);
    doc.add_i64(s.published_at, published.unix_timestamp());
    doc.add_i64(s.visible_until, offer.visible_until().unix_timestamp());
    doc
}
