//! A candidate's documents (« Mes documents »: CVs, cover letters, others) and the applications
//! sent with them (« Mes candidatures »). Kept with the account: exported with it, deleted with
//! it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::FieldError;

/// What a document is; each kind has its own limit and its own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A curriculum vitae.
    Cv,
    /// A cover letter.
    Lettre,
    /// Anything else (a diploma, a school's agreement, a reference).
    Autre,
}

impl DocumentKind {
    /// Every kind, in the order of the pages.
    pub const ALL: [DocumentKind; 3] =
        [DocumentKind::Cv, DocumentKind::Lettre, DocumentKind::Autre];

    /// The code of the API and of the forms.
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Cv => "cv",
            DocumentKind::Lettre => "lettre",
            DocumentKind::Autre => "autre",
        }
    }

    /// The label of the pages (singular).
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Cv => "CV",
            DocumentKind::Lettre => "Lettre de motivation",
            DocumentKind::Autre => "Autre document",
        }
    }

    /// The heading of the pages (plural).
    pub fn heading(self) -> &'static str {
        match self {
            DocumentKind::Cv => "CV",
            DocumentKind::Lettre => "Lettres de motivation",
            DocumentKind::Autre => "Autres documents",
        }
    }

    /// Most documents of this kind per candidate.
    pub fn max(self) -> usize {
        match self {
            DocumentKind::Cv | DocumentKind::Lettre => 5,
            DocumentKind::Autre => 3,
        }
    }

    /// Reads a code; the error names `field` and the codes allowed.
    pub fn parse(field: &str, code: &str) -> Result<DocumentKind, FieldError> {
        DocumentKind::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                FieldError::with_allowed(
                    field,
                    format!("unknown kind of document '{code}'"),
                    DocumentKind::ALL
                        .iter()
                        .map(|k| k.code().to_string())
                        .collect(),
                )
            })
    }
}

/// A document of a candidate; its bytes are in the store under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Number within the account (never reused).
    pub id: u64,
    /// CV, letter or other.
    pub kind: DocumentKind,
    /// The name the candidate gave it (the file's name at first).
    pub name: String,
    /// Told by content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, hexadecimal.
    pub sha256: String,
    /// Where the bytes are kept (files beside the embedded store, rows of a shared one).
    pub key: String,
    /// The one of its kind chosen first when applying.
    #[serde(default)]
    pub default: bool,
    /// Upload (or last replacement) time.
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

impl Document {
    /// The extension of its content type, for the file name of a download or an attachment.
    pub fn extension(&self) -> &'static str {
        match self.content_type.as_str() {
            "application/pdf" => "pdf",
            "application/msword" => "doc",
            "application/vnd.oasis.opendocument.text" => "odt",
            "image/jpeg" => "jpg",
            "image/png" => "png",
            _ => "docx",
        }
    }

    /// The file name it travels under: its name, with the extension of its content.
    pub fn file_name(&self) -> String {
        let ext = self.extension();
        let lower = self.name.to_lowercase();
        if lower.ends_with(&format!(".{ext}")) || (ext == "jpg" && lower.ends_with(".jpeg")) {
            self.name.clone()
        } else {
            format!("{}.{ext}", self.name)
        }
    }
}

/// An application sent from the portal (« Postuler en ligne »).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Number within the account.
    pub id: u64,
    /// The offer (store id): its state is read when listed.
    pub offer_id: u64,
    /// Its reference and title when applied to (the offer may change or go).
    pub reference: String,
    /// Title when applied to.
    pub title: String,
    /// The address the application went to.
    pub to: String,
    /// The names of the documents sent.
    pub documents: Vec<String>,
    /// The candidate's message.
    pub message: String,
    /// When it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_their_codes_and_files_keep_one_extension() {
        assert_eq!(
            DocumentKind::parse("kind", " cv ").unwrap(),
            DocumentKind::Cv
        );
        let e = DocumentKind::parse("kind", "photo").unwrap_err();
        assert_eq!(e.field, "kind");
        assert_eq!(
            serde_json::to_string(&DocumentKind::Lettre).unwrap(),
            "\"lettre\""
        );
        let mut d = Document {
            id: 1,
            kind: DocumentKind::Cv,
            name: "CV Lou Martin".into(),
            content_type: "application/pdf".into(),
            size: 10,
            sha256: String::new(),
            key: String::new(),
            default: true,
            uploaded_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(d.file_name(), "CV Lou Martin.pdf");
        d.name = "cv.PDF".into();
        assert_eq!(d.file_name(), "cv.PDF");
    }
}
