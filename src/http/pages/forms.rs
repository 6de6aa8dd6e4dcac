//! Forms of the pages: the posted values, the fields (with their errors in French), the sections and the generic form page.

use super::*;

/// A size for people: « 12 ko », « 1,4 Mo ».
pub(crate) fn size_fr(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} ko", bytes.div_ceil(1024))
    }
}

/// The short name of a file's type, told by content when uploaded.
pub(crate) fn kind_of(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF",
        "application/msword" => "DOC",
        "application/vnd.oasis.opendocument.text" => "ODT",
        "image/jpeg" => "JPG",
        "image/png" => "PNG",
        _ => "DOCX",
    }
}

/// A page's multipart form as received: its text fields and its field `file` (file name,
/// bytes); or, when the body could not be read (over the route's limit), the sentence saying
/// so.
pub(crate) async fn read_multipart(
    mut multipart: axum::extract::Multipart,
) -> Result<(Form, Option<(String, Vec<u8>)>), String> {
    let failed =
        || "Le fichier n'a pas pu être reçu : il est peut-être trop volumineux.".to_string();
    let mut form = Form::default();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| failed())? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|_| failed())?;
        if name == "file" {
            file = Some((file_name, bytes.to_vec()));
        } else {
            form.0
                .push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((form, file))
}

/// A submitted form: its pairs, repeated names kept in order.
#[derive(Default)]
pub(crate) struct Form(pub Vec<(String, String)>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Form {
        Form(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name` ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_string()).filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// One option of a select, in an optional group.
pub(crate) struct OptGroup {
    pub label: String,
    pub options: Vec<(String, String)>,
}

/// One input of a form, with its help text and its error.
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `email`, `tel`, `password`, `date`, `month`, `number`, `url`, `textarea`,
    /// `select`, `checkbox` or `hidden`.
    pub kind: &'static str,
    pub value: String,
    pub groups: Vec<OptGroup>,
    pub error: Option<String>,
    pub required: bool,
    pub autocomplete: &'static str,
}

impl Field {
    /// An input.
    pub fn new(name: &str, label: &str, kind: &'static str, value: &str) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            hint: String::new(),
            kind,
            value: value.into(),
            groups: Vec::new(),
            error: None,
            required: false,
            autocomplete: "",
        }
    }

    /// With a help text.
    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = hint.into();
        self
    }

    /// Marked required.
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// With an `autocomplete` token.
    pub fn autocomplete(mut self, token: &'static str) -> Field {
        self.autocomplete = token;
        self
    }

    /// A select's options (one group without a label).
    pub fn options(mut self, options: Vec<(String, String)>) -> Field {
        self.groups = vec![OptGroup {
            label: String::new(),
            options,
        }];
        self
    }

    /// A select's grouped options.
    pub fn groups(mut self, groups: Vec<OptGroup>) -> Field {
        self.groups = groups;
        self
    }
}

/// The required box of the terms of use (`cgu`) of a sign-up or a request.
pub(crate) fn terms_field(form: &Form) -> Field {
    Field::new(
        "cgu",
        &format!(
            "J'ai lu et j'accepte les conditions générales d'utilisation (version {} du {})",
            crate::domain::account::TERMS_VERSION,
            crate::domain::account::TERMS_DATE
        ),
        "checkbox",
        form.get("cgu"),
    )
    .hint("Elles sont à lire sur la page « Conditions générales d'utilisation », liée en bas de chaque page.")
    .required()
}

/// Whether the box of the terms of use was ticked.
pub(crate) fn terms_ticked(form: &Form) -> Option<bool> {
    Some(form.get("cgu") == "on")
}

/// Puts each field error next to its field; the others are returned (shown at the top).
pub(crate) fn attach_errors(fields: &mut [Field], errors: &[FieldError]) -> Vec<String> {
    let mut rest = Vec::new();
    for e in errors {
        let message = french(e);
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) => {
                f.error = Some(match f.error.take() {
                    Some(prev) => format!("{prev} ; {message}"),
                    None => message,
                })
            }
            None => rest.push(format!("{} : {message}", e.field)),
        }
    }
    rest
}

/// A group of fields under a title (none for a plain form).
pub(crate) struct Section {
    pub title: String,
    pub intro: String,
    pub fields: Vec<Field>,
}

impl Section {
    /// A titled group.
    pub fn new(title: &str, fields: Vec<Field>) -> Section {
        Section {
            title: title.into(),
            intro: String::new(),
            fields,
        }
    }
}

/// A form page: sections of fields, the faulty ones marked next to the field and summed up at
/// the top with a link to each.
#[derive(Template)]
#[template(path = "form.html")]
pub(crate) struct FormPage {
    pub ctx: Ctx,
    pub title: String,
    pub width: &'static str,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub has_field_errors: bool,
    pub intro: String,
    pub action: String,
    /// `post` (changes something: CSRF token) or `get` (a step of a choice).
    pub method: &'static str,
    pub multipart: bool,
    pub sections: Vec<Section>,
    /// (name, value, label) of each submit button; the first is the main one.
    pub buttons: Vec<(&'static str, &'static str, &'static str)>,
    pub links: Vec<(String, String)>,
}

impl FormPage {
    /// A one-section form posting to `action`.
    pub fn new(
        ctx: Ctx,
        title: &str,
        action: &str,
        fields: Vec<Field>,
        submit: &'static str,
    ) -> FormPage {
        FormPage {
            ctx,
            title: title.into(),
            width: "fr-col-md-8 fr-col-lg-6",
            notice: None,
            errors: Vec::new(),
            has_field_errors: false,
            intro: String::new(),
            action: action.into(),
            method: "post",
            multipart: false,
            sections: vec![Section::new("", fields)],
            buttons: vec![("action", "submit", submit)],
            links: Vec::new(),
        }
    }

    /// With an introduction.
    pub fn intro(mut self, intro: &str) -> FormPage {
        self.intro = intro.into();
        self
    }

    /// With links under the form.
    pub fn links(mut self, links: Vec<(String, String)>) -> FormPage {
        self.links = links;
        self
    }

    /// Shows an engine error: each faulty field marked, the rest at the top.
    pub fn with_error(mut self, e: &Error) -> FormPage {
        let fields = e.fields();
        if fields.is_empty() {
            self.errors.push(explain(e));
        } else {
            let mut rest = Vec::new();
            for s in &mut self.sections {
                rest = attach_errors(&mut s.fields, fields);
            }
            if self.sections.len() > 1 {
                // A field is in one section only: keep the errors no section took.
                rest = fields
                    .iter()
                    .filter(|f| {
                        !self
                            .sections
                            .iter()
                            .any(|s| s.fields.iter().any(|x| x.name == f.field))
                    })
                    .map(|f| format!("{} : {}", f.field, french(f)))
                    .collect();
            }
            self.errors.extend(rest);
        }
        self.has_field_errors = self
            .sections
            .iter()
            .any(|s| s.fields.iter().any(|f| f.error.is_some()));
        self
    }
}
