//! Uploaded files told by their content, never by their name or the type a browser claims:
//! the documents of offers (PDF, DOC, DOCX, ODT) and of candidates (the same, and JPG, PNG).

/// Why an uploaded file is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Larger than the configured limit.
    TooLarge(usize),
    /// Not a file of the kinds accepted (told by content).
    NotADocument,
}

/// The document type, told by content: PDF, DOC, DOCX or ODT — `(content type, extension)`.
pub fn sniff_document(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") {
        return Some(("application/pdf", "pdf"));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(("application/msword", "doc"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // ODT: the first entry is an uncompressed "mimetype" file.
        if bytes.len() > 38 + 39
            && &bytes[30..38] == b"mimetype"
            && bytes[38..].starts_with(b"application/vnd.oasis.opendocument.text")
        {
            return Some(("application/vnd.oasis.opendocument.text", "odt"));
        }
        // DOCX: an OOXML package with a word/ part.
        let head = &bytes[..bytes.len().min(64 * 1024)];
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        if has(b"[Content_Types].xml") && has(b"word/") {
            return Some((
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            ));
        }
    }
    None
}

/// A candidate's document told by content: a document of [`sniff_document`], or a JPEG or PNG
/// image (a scanned diploma, an identity photo).
pub fn sniff_candidate_document(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(("image/jpeg", "jpg"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(("image/png", "png"));
    }
    sniff_document(bytes)
}

/// A safe file name: no path, no control characters, at most 120 characters; `document.ext`
/// when nothing is left.
pub fn clean_name(name: &str, ext: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        format!("piece-jointe.{ext}")
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_content_and_names_are_made_safe() {
        assert_eq!(sniff_document(b"%PDF-1.7 ...").unwrap().1, "pdf");
        assert_eq!(
            sniff_candidate_document(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10])
                .unwrap()
                .0,
            "image/jpeg"
        );
        assert_eq!(
            sniff_candidate_document(b"\x89PNG\r\n\x1a\n....")
                .unwrap()
                .1,
            "png"
        );
        assert_eq!(sniff_candidate_document(b"%PDF-1.4").unwrap().1, "pdf");
        // An image is no offer document; text is neither.
        assert_eq!(sniff_document(b"\x89PNG\r\n\x1a\n...."), None);
        assert_eq!(sniff_candidate_document(b"Bonjour, voici mon CV"), None);
        assert_eq!(
            clean_name("C:\\Users\\moi\\cv \"final\".pdf", "pdf"),
            "cv final.pdf"
        );
        assert_eq!(clean_name("../..", "pdf"), "piece-jointe.pdf");
    }
}
