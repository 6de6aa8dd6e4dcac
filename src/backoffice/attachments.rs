//! Attachments: up to three documents per offer (PDF, DOC, DOCX, ODT, told by content), stored
//! by content hash in the store (durably) before the offer refers to them.

use super::Backoffice;
use crate::auth::sha256_hex;
use crate::domain::Offer;
use crate::domain::account::Account;
use crate::domain::files::{Refusal, clean_name, sniff_document};
use crate::domain::offer::Attachment;
use crate::error::{Error, Result};

/// Attachments per offer.
pub const MAX_ATTACHMENTS: usize = 3;

/// The bytes of an attachment, from the store.
pub fn attachment_bytes(store: &crate::store::Store, a: &Attachment) -> Result<Vec<u8>> {
    store
        .attachment(&a.sha256)?
        .ok_or_else(|| Error::Store(format!("attachment {} is missing", a.sha256)))
}

impl Backoffice<'_> {
    /// Stores a document for the offer `reference` of the recruiter's services and lists it.
    /// The file is written (content-addressed, fsync'd) before the store refers to it.
    pub fn attach(
        &self,
        who: &Account,
        reference: &str,
        name: &str,
        bytes: &[u8],
        max_bytes: usize,
    ) -> Result<std::result::Result<Offer, Refusal>> {
        if bytes.len() > max_bytes {
            return Ok(Err(Refusal::TooLarge(max_bytes)));
        }
        let Some((content_type, ext)) = sniff_document(bytes) else {
            return Ok(Err(Refusal::NotADocument));
        };
        let current = self.offer_to_write(who, reference)?;
        if current.fields.attachments.len() >= MAX_ATTACHMENTS {
            return Err(too_many());
        }
        let meta = Attachment {
            name: clean_name(name, ext),
            content_type: content_type.into(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        };
        self.engine.store().put_attachment(&meta.sha256, bytes)?;
        let now = self.now();
        let (offer, _) = self.engine.update_offer(current.id, |o| {
            if o.fields.attachments.len() >= MAX_ATTACHMENTS {
                return Err(too_many());
            }
            o.record(Some(who.id), &format!("attached {}", meta.name), now);
            o.fields.attachments.push(meta);
            Ok(())
        })?;
        Ok(Ok(offer))
    }

    /// Removes the n-th (1-based) attachment of the offer `reference`.
    pub fn remove_attachment(&self, who: &Account, reference: &str, n: usize) -> Result<Offer> {
        let current = self.offer_to_write(who, reference)?;
        let now = self.now();
        let (offer, _) = self.engine.update_offer(current.id, |o| {
            if n == 0 || n > o.fields.attachments.len() {
                return Err(Error::NotFound(format!("no attachment {n}")));
            }
            let removed = o.fields.attachments.remove(n - 1);
            o.record(
                Some(who.id),
                &format!("removed attachment {}", removed.name),
                now,
            );
            Ok(())
        })?;
        Ok(offer)
    }
}

fn too_many() -> Error {
    Error::Conflict(format!(
        "an offer has at most {MAX_ATTACHMENTS} attachments"
    ))
}
