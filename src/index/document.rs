//! An offer as a tantivy document.

use tantivy::TantivyDocument;

use super::schema::OfferSchema;
use crate::domain::local_time::Zone;
use crate::domain::{Facet, Offer};

/// The document of a published offer.
pub fn offer_document(offer: &Offer, s: &OfferSchema, zone: &Zone) -> TantivyDocument {
    let f = &offer.fields;
    let mut doc = TantivyDocument::new();
    doc.add_u64(s.id, offer.id);
    doc.add_text(s.reference, offer.reference.to_string());
    doc.add_text(s.reference, offer.reference.short());
    doc.add_text(s.title, &f.title);
    for t in f.searchable_texts() {
        doc.add_text(s.text, t);
        doc.add_text(s.text_exact, t);
    }
    let none = |facet: Facet| facet.values().len() as u64;
    for (facet, ord) in Facet::ALL.into_iter().zip(f.facet_ordinals()) {
        doc.add_u64(s.facets[facet.index()], ord.map_or(none(facet), u64::from));
    }
    let commune = f
        .commune
        .as_deref()
        .map_or(0, crate::domain::communes::code_number);
    doc.add_u64(s.commune, commune);
    let published = offer.published_at.unwrap_or(offer.created_at);
    doc.add_i64(s.published_at, published.unix_timestamp());
    doc.add_i64(s.visible_until, offer.visible_until(zone).unix_timestamp());
    doc
}
