//! What visitors send the administrators: the contact form (`/contact`) and the report of an
//! offer (`/offres/{reference}/signaler`). Both are anonymous forms: CSRF token, honeypot, the
//! budget of anonymous posts per client, and the hourly mail limits.

use super::*;
use crate::backoffice::reports::{ContactMessage, OfferReport, REPORT_REASONS};
use crate::http::error::status_of;
use crate::http::extract::ClientIp;
use crate::http::with_backoffice;
use axum::body::Bytes;
use axum::extract::{Path, State};

pub(super) fn router() -> OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(contact_page, contact_submit))
        .routes(routes!(report_page, report_submit))
}

fn contact_form(v: &Visitor, form: &Form) -> FormPage {
    let email = v
        .account
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default();
    let value = |name: &str, default: &str| form.opt(name).unwrap_or_else(|| default.to_string());
    FormPage::new(
        v.ctx(&[("Contact", None)]),
        "Nous écrire",
        links::CONTACT,
        vec![
            Field::new("email", "Votre adresse e-mail", "email", &value("email", &email))
                .hint("Pour vous répondre. Format attendu : nom@domaine.fr")
                .required()
                .autocomplete("email"),
            Field::new("subject", "Objet", "text", &value("subject", "")).required(),
            Field::new("message", "Votre message", "textarea", &value("message", ""))
                .hint("5 000 caractères au plus. Pour une offre précise, donnez sa référence (A-… ou S-…).")
                .required(),
        ],
        "Envoyer",
    )
    .intro("Une question sur le site, un problème d'accès, une demande d'alternative accessible : votre message est transmis aux administrateurs du site. Pour une question sur une offre, écrivez au contact indiqué dans l'offre.")
    .links(vec![(links::HELP.into(), "Consulter l'aide".into())])
}

/// The contact form.
#[utoipa::path(get, path = links::CONTACT, tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn contact_page(v: Visitor) -> Response {
    render(&v, StatusCode::OK, contact_form(&v, &Form::default()))
}

/// Sends the message to the administrators.
#[utoipa::path(post, path = links::CONTACT, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Sent (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String),
              (status = 429, description = "Too many messages (HTML)", content_type = "text/html", body = String)))]
async fn contact_submit(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let email = form.get("email").to_string();
    if let Err(e) = state.mail_allowed(&email, client) {
        return Err(error_page(&v, &e).into());
    }
    let message = ContactMessage {
        email: form.opt("email"),
        subject: form.opt("subject"),
        message: form.opt("message"),
    };
    let to = state.config.contact_email.clone();
    match with_backoffice(&state, move |b| b.contact(message, to.as_deref())).await {
        Ok(()) => {
            state.mail_sent(&email, client);
            Ok(message_page(
                &v,
                StatusCode::OK,
                "Message envoyé",
                "Votre message a été transmis aux administrateurs du site. La réponse vous sera envoyée par courriel.",
            ))
        }
        Err(e) => Ok(render(
            &v,
            status_of(&e),
            contact_form(&v, &form).with_error(&e),
        )),
    }
}

fn report_form(v: &Visitor, reference: &str, title: &str, form: &Form) -> FormPage {
    let mut reasons = vec![(String::new(), "Choisir le problème".to_string())];
    reasons.extend(
        REPORT_REASONS
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string())),
    );
    let offer = links::offer_path(reference);
    FormPage::new(
        v.ctx(&[(title, Some(offer.as_str())), ("Signaler cette offre", None)]),
        "Signaler cette offre",
        &links::fill(links::OFFER_REPORT, &[&reference]),
        vec![
            Field::new("reason", "Le problème", "select", form.get("reason"))
                .options(reasons)
                .required(),
            Field::new("message", "Précisez", "textarea", form.get("message"))
                .hint("2 000 caractères au plus.")
                .required(),
            Field::new("email", "Votre adresse e-mail (facultatif)", "email", form.get("email"))
                .hint("Seulement si vous souhaitez une réponse. Format attendu : nom@domaine.fr")
                .autocomplete("email"),
        ],
        "Signaler",
    )
    .intro(&format!(
        "Offre {reference} « {title} ». Votre signalement est transmis aux administrateurs du site, qui peuvent retirer l'offre de la diffusion."
    ))
    .links(vec![(offer.clone(), "Revenir à l'offre".into())])
}

/// The title of a visible offer, or the page to give instead.
async fn visible_title(
    state: &AppState,
    v: &Visitor,
    reference: &str,
) -> Result<String, PageError> {
    let r = reference.to_string();
    let zone = state.engine.zone().clone();
    let offer = with_backoffice(state, move |b| b.store().offer_by_reference(&r))
        .await
        .or_page(v)?;
    match offer.filter(|o| o.is_visible(state.engine.now(), &zone)) {
        Some(o) => Ok(o.fields.title.clone()),
        None => Err(error_page(
            v,
            &crate::Error::NotFound(format!("no visible offer {reference}")),
        )
        .into()),
    }
}

/// "Signaler cette offre": the form.
#[utoipa::path(get, path = links::OFFER_REPORT, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "No such visible offer (HTML)", content_type = "text/html", body = String)))]
async fn report_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let title = visible_title(&state, &v, &reference).await?;
    Ok(render(
        &v,
        StatusCode::OK,
        report_form(&v, &reference, &title, &Form::default()),
    ))
}

/// Records the report; the administrators are told.
#[utoipa::path(post, path = links::OFFER_REPORT, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Recorded (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "No such visible offer (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
async fn report_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let title = visible_title(&state, &v, &reference).await?;
    let report = OfferReport {
        reason: form.opt("reason"),
        message: form.opt("message"),
        email: form.opt("email"),
    };
    let r = reference.clone();
    match with_backoffice(&state, move |b| b.report_offer(&r, report)).await {
        Ok(_) => Ok(message_with_links(
            &v,
            StatusCode::CREATED,
            "Signalement envoyé",
            "Merci : votre signalement a été transmis aux administrateurs du site.",
            vec![
                (links::offer_path(&reference), "Revenir à l'offre".into()),
                (links::SEARCH.into(), "Revenir à la recherche".into()),
            ],
        )),
        Err(e) => Ok(render(
            &v,
            status_of(&e),
            report_form(&v, &reference, &title, &form).with_error(&e),
        )),
    }
}
