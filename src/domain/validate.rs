//! The one set of field validators shared by offers and accounts: e-mail addresses, phone
//! numbers, web addresses and texts. Each records what is wrong under the field's API name.

use crate::error::{FieldCode, FieldError, ValidationErrors};

/// Longest e-mail address accepted (RFC 5321's path limit).
pub const EMAIL_MAX_CHARS: usize = 254;

/// True for a plausible e-mail address: one `@`, a dotted domain, no blank and none of the
/// characters that would break a mail header (`<>,;"`).
pub fn is_email(s: &str) -> bool {
    s.len() <= EMAIL_MAX_CHARS
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !s.chars().any(|c| c.is_whitespace() || "<>,;\"".contains(c))
}

/// Reads an optional nested object of a JSON body as an object only: serde's derived structs
/// also read an array of their fields in order (`[null, null]`), which the API's schema does not
/// allow. Use with `#[serde(default, deserialize_with = "…")]`.
pub fn object_only<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::{Deserialize, de::Error};
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        None => Ok(None),
        Some(map) => serde_json::from_value(serde_json::Value::Object(map))
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// True for an absolute `http://` or `https://` address without blanks.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// True for a phone number: 6 to 15 digits, with spaces, `+`, `(`, `)`, `.` or `-`.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (6..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +().-".contains(c))
}

/// Checks and normalizes (trims, lower-cases) an e-mail address.
pub fn normalize_email(field: &str, email: &str) -> Result<String, FieldError> {
    let e = email.trim().to_lowercase();
    if is_email(&e) {
        Ok(e)
    } else {
        Err(
            FieldError::new(field, format!("'{email}' is not an e-mail address"))
                .coded(FieldCode::NotAnEmail),
        )
    }
}

/// A required e-mail address, normalized; the error is recorded.
pub fn required_email(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    match value {
        None => {
            errors.push(FieldError::required(field));
            None
        }
        Some(m) => normalize_email(field, m).map_err(|e| errors.push(e)).ok(),
    }
}

/// An optional text: trimmed, empty as absent, at most `max` characters (else recorded).
pub fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("at most {max} characters are allowed"),
        ));
        return None;
    }
    Some(v.to_string())
}

/// A required text: trimmed, non-empty, at most `max` characters.
pub fn required_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = optional_text(errors, field, value, max);
    if v.is_none() && value.is_none_or(|s| s.trim().is_empty()) {
        errors.push(FieldError::required(field));
    }
    v
}

/// An optional phone number (empty as absent).
pub fn optional_phone(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let p = optional_text(errors, field, value, 30)?;
    if is_phone(&p) {
        Some(p)
    } else {
        errors.push(
            FieldError::new(field, format!("'{p}' is not a phone number"))
                .coded(FieldCode::NotAPhone),
        );
        None
    }
}

/// An optional e-mail address (empty as absent), kept as written.
pub fn optional_email(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let m = optional_text(errors, field, value, EMAIL_MAX_CHARS)?;
    if is_email(&m) {
        Some(m)
    } else {
        errors.push(
            FieldError::new(field, format!("'{m}' is not an e-mail address"))
                .coded(FieldCode::NotAnEmail),
        );
        None
    }
}

/// An optional web address (empty as absent).
pub fn optional_url(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let u = optional_text(errors, field, value, 2000)?;
    if is_http_url(&u) {
        Some(u)
    } else {
        errors.push(
            FieldError::new(field, "must be an http:// or https:// URL").coded(FieldCode::NotAUrl),
        );
        None
    }
}

/// An optional civility, `M.` or `Mme`; an unknown one is recorded as an error.
pub fn civility(errors: &mut ValidationErrors, value: Option<&str>) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(c @ ("M." | "Mme")) => Some(c.to_string()),
        Some(c) => {
            errors.push(FieldError::with_allowed(
                "civility",
                format!("unknown civility '{c}'"),
                vec!["M.".into(), "Mme".into()],
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_are_http_without_blanks_or_controls() {
        assert!(is_http_url("https://www.culture.gouv.fr/stages?x=1"));
        assert!(is_http_url("http://mairie.example"));
        for bad in [
            "ftp://x",
            "https://",
            "https:///x",
            "https://a b",
            "https://a\u{1c}b",
            "https://a\u{85}",
            "www.x.fr",
        ] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn nested_objects_are_not_read_from_arrays() {
        #[derive(serde::Deserialize, Debug)]
        struct Inner {
            #[allow(dead_code)]
            a: Option<String>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Outer {
            #[serde(default, deserialize_with = "object_only")]
            inner: Option<Inner>,
        }
        let read = |s: &str| serde_json::from_str::<Outer>(s);
        assert!(read(r#"{"inner": {"a": "x"}}"#).unwrap().inner.is_some());
        assert!(read(r#"{"inner": null}"#).unwrap().inner.is_none());
        assert!(read(r#"{}"#).unwrap().inner.is_none());
        assert!(read(r#"{"inner": [null]}"#).is_err());
        assert!(read(r#"{"inner": ["x"]}"#).is_err());
    }

    #[test]
    fn emails_that_would_break_a_header_are_refused() {
        assert!(is_email("a.b@culture.gouv.fr"));
        for bad in [
            "a;b@x.fr",
            "\"a\"@x.fr",
            "a@x",
            "a b@x.fr",
            "<a@x.fr>",
            "a@.fr",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(!is_email(&format!("{}@x.fr", "a".repeat(250))));
    }

    #[test]
    fn texts_phones_and_urls() {
        let mut e = ValidationErrors::default();
        assert_eq!(
            required_text(&mut e, "t", Some("  x "), 5),
            Some("x".into())
        );
        assert_eq!(required_text(&mut e, "t", Some("   "), 5), None);
        assert_eq!(optional_text(&mut e, "o", Some("toolong"), 3), None);
        assert_eq!(
            optional_phone(&mut e, "p", Some("01 23 45 67 89")),
            Some("01 23 45 67 89".into())
        );
        assert_eq!(optional_phone(&mut e, "p", Some("call me")), None);
        assert_eq!(optional_url(&mut e, "u", Some("ftp://x")), None);
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["t", "o", "p", "u"]);
    }
}
