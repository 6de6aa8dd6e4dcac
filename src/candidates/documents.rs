//! « Mes documents » — a candidate's CVs, cover letters and other documents, told by content,
//! kept durably in the store before the account lists them — and « Postuler en ligne »: one mail
//! to the offer's application contact with the documents chosen attached, a copy to the
//! candidate, throttled, listed in « Mes candidatures » and counted in the offer's statistics.

use time::{Duration, OffsetDateTime};

use super::Candidates;
use crate::auth::sha256_hex;
use crate::domain::Offer;
use crate::domain::account::Account;
use crate::domain::documents::{Application, Document, DocumentKind};
use crate::domain::files::{Refusal, clean_name, sniff_candidate_document};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::Letter;
use crate::store::mails::MailFile;

/// Largest document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// Largest sum of the documents of one application, in bytes (what mail servers accept).
pub const MAX_APPLICATION_BYTES: u64 = 10 * 1024 * 1024;
/// Most documents sent with one application.
pub const MAX_APPLICATION_DOCUMENTS: usize = 5;
/// Applications a candidate may send in 24 hours.
pub const APPLICATIONS_PER_DAY: usize = 20;
/// Longest message of an application, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Applications an account lists (the oldest leave the list beyond).
pub const APPLICATIONS_KEPT: usize = 500;
/// Longest document name, in characters.
const MAX_NAME_CHARS: usize = 120;

fn invalid(field: &str, message: impl Into<String>) -> Error {
    let mut e = ValidationErrors::default();
    e.push(FieldError::new(field, message));
    Error::Invalid(e)
}

fn no_document(id: u64) -> Error {
    Error::NotFound(format!("no document {id}"))
}

/// A document's name as given: trimmed, 1 to 120 characters.
fn document_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            "name",
            format!("a name of 1 to {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_string())
}

/// The bytes' content type and extension, or why they are refused.
fn told_by_content(bytes: &[u8]) -> std::result::Result<(&'static str, &'static str), Refusal> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Refusal::TooLarge(MAX_DOCUMENT_BYTES));
    }
    sniff_candidate_document(bytes).ok_or(Refusal::NotADocument)
}

/// Where a document's bytes are kept: its number and content, so that a replacement never
/// overwrites bytes a reader may still be reading.
fn document_key(id: u64, sha256: &str) -> String {
    format!("document-{id}-{}", &sha256[..16])
}

/// The address an offer's applications go to: its application contact's, else its contact
/// address.
pub fn application_address(o: &Offer) -> Option<&str> {
    o.fields
        .application_contact
        .as_ref()
        .and_then(|c| c.email.as_deref())
        .or(o.fields.contact_email.as_deref())
}

impl Candidates<'_> {
    fn fresh(&self, who: &Account) -> Result<Account> {
        self.candidate(who)?;
        self.engine
            .store()
            .account(who.id)?
            .ok_or_else(|| Error::NotFound("account".into()))
    }

    /// The caller's documents, kind by kind, the latest first within each.
    pub fn documents(&self, who: &Account) -> Result<Vec<Document>> {
        let mut docs = self.fresh(who)?.documents;
        docs.sort_by_key(|d| {
            (
                DocumentKind::ALL.iter().position(|k| *k == d.kind),
                std::cmp::Reverse(d.id),
            )
        });
        Ok(docs)
    }

    /// One of the caller's documents and its bytes.
    pub fn document_file(&self, who: &Account, id: u64) -> Result<(Document, Vec<u8>)> {
        let d = self
            .fresh(who)?
            .documents
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| no_document(id))?;
        let bytes = self
            .engine
            .store()
            .attachment(&d.key)?
            .ok_or_else(|| Error::Store(format!("document {id}: its bytes are missing")))?;
        Ok((d, bytes))
    }

    /// Adds a document of `kind` named `name` (the file's name when empty). Its bytes are
    /// written durably before the account lists it; the first of its kind is the default.
    pub fn add_document(
        &self,
        who: &Account,
        kind: DocumentKind,
        name: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<std::result::Result<Document, Refusal>> {
        let (content_type, ext) = match told_by_content(bytes) {
            Ok(t) => t,
            Err(r) => return Ok(Err(r)),
        };
        let name = if name.trim().is_empty() {
            clean_name(file_name, ext)
        } else {
            document_name(name)?
        };
        let too_many = || {
            invalid(
                "kind",
                format!(
                    "at most {} documents of kind '{}': delete or replace one",
                    kind.max(),
                    kind.code()
                ),
            )
        };
        let of_kind = |a: &Account| a.documents.iter().filter(|d| d.kind == kind).count();
        if of_kind(&self.fresh(who)?) >= kind.max() {
            return Err(too_many());
        }
        let store = self.engine.store();
        let id = store.write(|tx| tx.next_id("document_id"))?;
        let sha256 = sha256_hex(bytes);
        let doc = Document {
            id,
            kind,
            name,
            content_type: content_type.into(),
            size: bytes.len() as u64,
            key: document_key(id, &sha256),
            sha256,
            default: false,
            uploaded_at: self.engine.now(),
        };
        store.put_attachment(&doc.key, bytes)?;
        let added = store.write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            if of_kind(&a) >= kind.max() {
                return Err(too_many());
            }
            let mut doc = doc.clone();
            doc.default = of_kind(&a) == 0;
            a.documents.push(doc.clone());
            tx.put_account(&a)?;
            Ok(doc)
        });
        if added.is_err() {
            store.remove_attachment(&doc.key)?;
        }
        added.map(Ok)
    }

    /// Replaces the bytes of a document (its name, kind and default kept).
    pub fn replace_document(
        &self,
        who: &Account,
        id: u64,
        bytes: &[u8],
    ) -> Result<std::result::Result<Document, Refusal>> {
        let content_type = match told_by_content(bytes) {
            Ok((t, _)) => t,
            Err(r) => return Ok(Err(r)),
        };
        if !self.fresh(who)?.documents.iter().any(|d| d.id == id) {
            return Err(no_document(id));
        }
        let store = self.engine.store();
        let sha256 = sha256_hex(bytes);
        let key = document_key(id, &sha256);
        store.put_attachment(&key, bytes)?;
        let now = self.engine.now();
        let done = store.write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            let d = a
                .documents
                .iter_mut()
                .find(|d| d.id == id)
                .ok_or_else(|| no_document(id))?;
            let old = std::mem::replace(&mut d.key, key.clone());
            d.content_type = content_type.into();
            d.size = bytes.len() as u64;
            d.sha256 = sha256.clone();
            d.uploaded_at = now;
            let d = d.clone();
            tx.put_account(&a)?;
            Ok((d, old))
        });
        match done {
            Ok((d, old)) => {
                if old != key {
                    store.remove_attachment(&old)?;
                }
                Ok(Ok(d))
            }
            Err(e) => {
                store.remove_attachment(&key)?;
                Err(e)
            }
        }
    }

    /// Renames a document and/or makes it the default of its kind.
    pub fn change_document(
        &self,
        who: &Account,
        id: u64,
        name: Option<&str>,
        default: bool,
    ) -> Result<Document> {
        self.candidate(who)?;
        let name = name.map(document_name).transpose()?;
        self.engine.store().write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            let kind = a
                .documents
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.kind)
                .ok_or_else(|| no_document(id))?;
            for d in a.documents.iter_mut() {
                if d.id == id {
                    if let Some(n) = &name {
                        d.name = n.clone();
                    }
                    d.default |= default;
                } else if default && d.kind == kind {
                    d.default = false;
                }
            }
            let d = a.documents.iter().find(|d| d.id == id).cloned();
            tx.put_account(&a)?;
            d.ok_or_else(|| no_document(id))
        })
    }

    /// Deletes a document and its bytes; the latest other of its kind becomes the default.
    pub fn delete_document(&self, who: &Account, id: u64) -> Result<()> {
        self.candidate(who)?;
        let store = self.engine.store();
        let gone = store.write(|tx| {
            let mut a = tx
                .account(who.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            let at = a
                .documents
                .iter()
                .position(|d| d.id == id)
                .ok_or_else(|| no_document(id))?;
            let gone = a.documents.remove(at);
            if gone.default
                && let Some(next) = a
                    .documents
                    .iter_mut()
                    .filter(|d| d.kind == gone.kind)
                    .max_by_key(|d| d.id)
            {
                next.default = true;
            }
            tx.put_account(&a)?;
            Ok(gone)
        })?;
        store.remove_attachment(&gone.key)
    }

    /// Forgets the bytes of every document of an account being deleted.
    pub(super) fn forget_documents(&self, a: &Account) -> Result<()> {
        for d in &a.documents {
            self.engine.store().remove_attachment(&d.key)?;
        }
        Ok(())
    }

    /// The caller's applications, the latest first, each with its offer as it is now (none
    /// when deleted since).
    pub fn applications(&self, who: &Account) -> Result<Vec<(Application, Option<Offer>)>> {
        let a = self.fresh(who)?;
        let ids: Vec<u64> = a.applications.iter().map(|x| x.offer_id).collect();
        let offers = self.engine.store().offers(&ids)?;
        Ok(a.applications
            .into_iter()
            .map(|x| {
                let o = offers.iter().find(|o| o.id == x.offer_id).cloned();
                (x, o)
            })
            .collect())
    }

    /// The offer of `reference` while it is diffused.
    pub fn visible_offer(&self, reference: &str) -> Result<Offer> {
        self.engine
            .store()
            .offer_by_reference(reference)?
            .filter(|o| o.is_visible(self.engine.now(), self.engine.zone()))
            .ok_or_else(|| Error::NotFound(format!("no visible offer {reference}")))
    }

    /// Seconds until the caller may apply again, when the last 24 hours hold
    /// [`APPLICATIONS_PER_DAY`] applications.
    fn application_wait(&self, a: &Account, now: OffsetDateTime) -> Option<u64> {
        let window = Duration::days(1);
        let recent: Vec<OffsetDateTime> = a
            .applications
            .iter()
            .map(|x| x.sent_at)
            .filter(|t| *t > now - window)
            .collect();
        (recent.len() >= APPLICATIONS_PER_DAY).then(|| {
            let oldest = recent.iter().min().copied().unwrap_or(now);
            (oldest + window - now).whole_seconds().max(1) as u64
        })
    }

    /// Applies to the visible offer `reference` with the caller's documents `ids` and a
    /// message: one mail to the offer's application address with the documents attached
    /// (answering it answers the candidate), a copy to the candidate, both queued in the
    /// transaction that lists the application and counts it in the offer's statistics.
    pub fn apply(
        &self,
        who: &Account,
        reference: &str,
        ids: &[u64],
        message: &str,
    ) -> Result<(Application, Offer)> {
        let a = self.fresh(who)?;
        let now = self.engine.now();
        let offer = self.visible_offer(reference)?;
        let to = application_address(&offer)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "offer {reference} is not applied to by e-mail: its page says how to apply"
                ))
            })?
            .to_string();
        if !a.email_confirmed {
            return Err(Error::Conflict(
                "confirm your e-mail address first (its link was mailed at sign-up): the recruiter answers there".into(),
            ));
        }
        let docs = chosen_documents(&a, ids)?;
        let message = message.trim().replace("\r\n", "\n");
        let chars = message.chars().count();
        if chars == 0 || chars > MAX_MESSAGE_CHARS {
            return Err(invalid(
                "message",
                format!("a message of 1 to {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        if let Some(wait) = self.application_wait(&a, now) {
            return Err(Error::TooMany(wait));
        }
        let store = self.engine.store();
        let id = store.write(|tx| tx.next_id("application_id"))?;
        // A copy of each document for the mail: the candidate may delete or replace it before
        // the mail leaves; the copy is forgotten once the mail is sent or given up.
        let mut files = Vec::with_capacity(docs.len());
        for (n, d) in docs.iter().enumerate() {
            let bytes = store
                .attachment(&d.key)?
                .ok_or_else(|| Error::Store(format!("document {}: its bytes are missing", d.id)))?;
            let key = format!("application-{id}-{n}");
            store.put_attachment(&key, &bytes)?;
            files.push(MailFile {
                key,
                name: d.file_name(),
                content_type: d.content_type.clone(),
            });
        }
        let application = Application {
            id,
            offer_id: offer.id,
            reference: offer.reference.to_string(),
            title: offer.fields.title.clone(),
            to: to.clone(),
            documents: files.iter().map(|f| f.name.clone()).collect(),
            message,
            sent_at: now,
        };
        let (to_recruiter, to_candidate) =
            self.application_mails(&a, &offer, &application, files.clone());
        let day = crate::engine::day_number(self.engine.zone().today(now));
        let done = store.write(|tx| {
            let mut fresh = tx
                .account(a.id)?
                .ok_or_else(|| Error::NotFound("account".into()))?;
            if let Some(wait) = self.application_wait(&fresh, now) {
                return Err(Error::TooMany(wait));
            }
            fresh.applications.insert(0, application.clone());
            fresh.applications.truncate(APPLICATIONS_KEPT);
            tx.put_account(&fresh)?;
            tx.queue_mail(to_recruiter.clone())?;
            tx.queue_mail(to_candidate.clone())?;
            tx.count_application(offer.id, day)
        });
        if let Err(e) = done {
            for f in &files {
                store.remove_attachment(&f.key)?;
            }
            return Err(e);
        }
        metrics::counter!("applications_sent_total").increment(1);
        Ok((application, offer))
    }

    /// The mail to the recruiter (documents attached, answers to the candidate) and the
    /// candidate's copy.
    fn application_mails(
        &self,
        a: &Account,
        o: &Offer,
        x: &Application,
        files: Vec<MailFile>,
    ) -> (crate::store::mails::Mail, crate::store::mails::Mail) {
        let site = self.links.site_name();
        let person = format!("{} {}", a.first_name, a.last_name);
        let offer_url = format!(
            "{}{}",
            self.links.base(),
            crate::links::fill(crate::links::OFFER, &[&o.reference])
        );
        let listed = x.documents.join(", ");
        let greeting = match o.fields.application_contact.as_ref() {
            Some(c) if c.email.as_deref() == Some(x.to.as_str()) => {
                format!("Bonjour {},", c.name)
            }
            _ => "Bonjour,".to_string(),
        };
        let letter = Letter::new(
            format!("Candidature : {} (réf. {})", o.fields.title, o.reference),
            greeting,
        )
        .para(format!(
            "{person} postule à votre offre « {} » (réf. {}), publiée sur {site}. Son message :",
            o.fields.title, o.reference
        ))
        .quote(x.message.clone())
        .para(format!("Documents joints : {listed}."))
        .para(format!(
            "Pour lui répondre, répondez à ce message : il ira à {}.",
            a.email
        ))
        .action("Voir l'offre", offer_url.clone())
        .because(format!(
            "Vous recevez ce message parce que cette adresse reçoit les candidatures de l'offre {} sur {site}.",
            o.reference
        ));
        let mut to_recruiter = letter.to(&x.to, &self.links, x.sent_at);
        to_recruiter
            .headers
            .push(("Reply-To".into(), a.email.clone()));
        to_recruiter.attachments = files;
        let copy = Letter::new(
            format!("Votre candidature : {} (réf. {})", o.fields.title, o.reference),
            format!("Bonjour {},", a.first_name),
        )
        .para(format!(
            "Votre candidature à l'offre « {} » (réf. {}) est partie pour {}, avec : {listed}. Votre message :",
            o.fields.title, o.reference, x.to
        ))
        .quote(x.message.clone())
        .para("Le recruteur vous répondra à cette adresse. Vos candidatures sont listées dans votre espace.")
        .action(
            "Mes candidatures",
            format!("{}{}", self.links.base(), crate::links::APPLICATIONS),
        )
        .because(format!(
            "Vous recevez ce message parce que vous avez postulé en ligne sur {site}."
        ));
        (to_recruiter, copy.to(&a.email, &self.links, x.sent_at))
    }
}

/// The documents `ids` of the account, checked: at least one, each once, at most
/// [`MAX_APPLICATION_DOCUMENTS`], [`MAX_APPLICATION_BYTES`] in all.
fn chosen_documents(a: &Account, ids: &[u64]) -> Result<Vec<Document>> {
    if ids.is_empty() {
        return Err(invalid("documents", "choose at least one document (a CV)"));
    }
    if ids.len() > MAX_APPLICATION_DOCUMENTS {
        return Err(invalid(
            "documents",
            format!("at most {MAX_APPLICATION_DOCUMENTS} documents"),
        ));
    }
    let mut docs: Vec<Document> = Vec::with_capacity(ids.len());
    for &id in ids {
        if docs.iter().any(|d| d.id == id) {
            return Err(invalid(
                "documents",
                format!("document {id} is chosen twice"),
            ));
        }
        let d =
            a.documents.iter().find(|d| d.id == id).ok_or_else(|| {
                invalid("documents", format!("no document {id} in your documents"))
            })?;
        docs.push(d.clone());
    }
    let total: u64 = docs.iter().map(|d| d.size).sum();
    if total > MAX_APPLICATION_BYTES {
        return Err(invalid(
            "documents",
            format!("the documents weigh {total} bytes in all; at most {MAX_APPLICATION_BYTES}"),
        ));
    }
    Ok(docs)
}
