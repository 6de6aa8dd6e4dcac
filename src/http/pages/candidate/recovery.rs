//! Password recovery for every role, at `/mot-de-passe-oublie`.

use super::*;

pub(super) fn recovery_form(v: &Visitor, email: &str) -> FormPage {
    FormPage::new(
        v.ctx(&[("Connexion", Some(links::LOGIN)), ("Mot de passe oublié", None)]),
        "Mot de passe oublié",
        links::PASSWORD_FORGOTTEN,
        vec![Field::new("email", "Adresse électronique de votre compte", "email", email).required().autocomplete("email")
            .hint("Format attendu : nom@domaine.fr")],
        "Recevoir un lien",
    )
    .intro("Candidats, recruteurs et administrateurs : indiquez l'adresse de votre compte ; un lien pour choisir un nouveau mot de passe y sera envoyé, valable une heure et utilisable une fois.")
}

/// The recovery form.
#[utoipa::path(get, path = links::PASSWORD_FORGOTTEN, tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn recovery_page(v: Visitor) -> Response {
    render(&v, StatusCode::OK, recovery_form(&v, ""))
}

/// Mails a one-time link when the address is an account's; the same answer either way.
#[utoipa::path(post, path = links::PASSWORD_FORGOTTEN, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "The same answer whether or not the address exists (HTML)", content_type = "text/html", body = String),
              (status = 429, description = "Too many requests (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn recovery_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::extract::ClientIp(peer): crate::http::extract::ClientIp,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let email = form.get("email").to_string();
    let (per_address, per_client) = (
        state.mails_per_address.clone(),
        state.mails_per_client.clone(),
    );
    let client = peer.to_string();
    let e2 = email.clone();
    Ok(
        match with_auth(&state, move |a| {
            a.recover(&per_address, &per_client, &e2, &client)
        })
        .await
        {
            Ok(()) => message_with_links(
                &v,
                StatusCode::OK,
                "Demande enregistrée",
                "Si un compte utilise cette adresse, un courriel vient d'y être envoyé avec un lien pour choisir un nouveau mot de passe, valable une heure.",
                vec![(links::LOGIN.into(), "Revenir à la connexion".into())],
            ),
            Err(e @ Error::TooMany(_)) => {
                let mut page = recovery_form(&v, &email);
                page.errors.push(explain(&e));
                render(&v, StatusCode::TOO_MANY_REQUESTS, page)
            }
            Err(e) => render(&v, status_of(&e), recovery_form(&v, &email).with_error(&e)),
        },
    )
}
