//! The candidate's sign-up: the form and the account it creates (confirmed by mail).

use super::*;
use axum::extract::RawQuery;

use crate::candidates::Signup;
use crate::http::pages::portal::{criteria_of, suffix};
use crate::http::pages::{terms_field, terms_ticked};

pub(super) fn signup_form(v: &Visitor, qs: &str, form: &Form) -> FormPage {
    FormPage::new(
        v.ctx(&[("Créer un compte candidat", None)]),
        "Créer un compte candidat",
        &format!("{}{}", links::SIGNUP, suffix(qs)),
        vec![
            Field::new("civility", "Civilité", "select", form.get("civility"))
                .required()
                .options(vec![
                    ("".into(), "— Choisir —".into()),
                    ("Mme".into(), "Madame".into()),
                    ("M.".into(), "Monsieur".into()),
                ]),
            Field::new("first_name", "Prénom", "text", form.get("first_name"))
                .required()
                .autocomplete("given-name"),
            Field::new("last_name", "Nom", "text", form.get("last_name"))
                .required()
                .autocomplete("family-name"),
            Field::new("email", "Adresse électronique", "email", form.get("email"))
                .required()
                .autocomplete("email")
                .hint("Format attendu : nom@domaine.fr. Un lien de confirmation y sera envoyé."),
            Field::new("username", "Identifiant", "text", form.get("username"))
                .required()
                .autocomplete("username")
                .hint("De 3 à 40 caractères : lettres, chiffres, espace, point, tiret, apostrophe ou @."),
            Field::new("password", "Mot de passe", "password", "")
                .required()
                .autocomplete("new-password")
                .hint("Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles."),
            Field::new("password_confirm", "Confirmation du mot de passe", "password", "")
                .required()
                .autocomplete("new-password"),
            Field::new("phone", "Téléphone (facultatif)", "tel", form.get("phone")).autocomplete("tel"),
            terms_field(form),
        ],
        "Créer mon compte",
    )
    .links(vec![
        (links::TERMS.into(), "Lire les conditions générales d'utilisation".into()),
        (format!("{}{}", links::NEW_ALERT, suffix(qs)), "J'ai déjà un compte".into()),
    ])
}

/// Candidate sign-up form.
#[utoipa::path(get, path = links::SIGNUP, tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn signup_page(v: Visitor, RawQuery(raw): RawQuery) -> Response {
    let (qs, _) = criteria_of(&raw);
    render(&v, StatusCode::OK, signup_form(&v, &qs, &Form::default()))
}

/// Creates a candidate account from the form; the confirmation link is mailed.
#[utoipa::path(post, path = links::SIGNUP, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
pub(super) async fn signup_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let (qs, _) = criteria_of(&raw);
    // The page asks what the API leaves to its clients: a civility, the password twice.
    let mut faults = Vec::new();
    if form.get("civility").is_empty() {
        faults.push(crate::FieldError::required("civility"));
    }
    if form.get("password") != form.get("password_confirm") {
        faults.push(
            crate::FieldError::new("password_confirm", "the two passwords differ")
                .coded(crate::FieldCode::PasswordsDiffer),
        );
    }
    if !faults.is_empty() {
        let e = crate::Error::Invalid(crate::ValidationErrors(faults));
        return Ok(render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        ));
    }
    let signup = Signup {
        civility: form.opt("civility"),
        first_name: form.opt("first_name"),
        last_name: form.opt("last_name"),
        email: form.opt("email"),
        username: form.opt("username"),
        password: Some(form.get("password").to_string()).filter(|p| !p.is_empty()),
        phone: form.opt("phone"),
        cgu: terms_ticked(&form),
    };
    let email = form.get("email").to_string();
    if let Err(e) = state.mail_allowed(&email, client) {
        return Ok(render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        ));
    }
    let created = with_candidates(&state, move |c| c.signup(signup)).await;
    if created.is_ok() {
        state.mail_sent(&email, client);
    }
    Ok(match created {
        Ok(a) => message_with_links(
            &v,
            StatusCode::CREATED,
            "Compte créé",
            &format!(
                "Un lien de confirmation a été envoyé à {}. Vous pouvez dès maintenant créer votre alerte.",
                a.email
            ),
            vec![(
                format!("{}{}", links::NEW_ALERT, suffix(&qs)),
                "Créer l'alerte de cette recherche".into(),
            )],
        ),
        Err(e) => render(
            &v,
            status_of(&e),
            signup_form(&v, &qs, &form).with_error(&e),
        ),
    })
}
