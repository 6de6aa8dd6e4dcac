//! The candidate's "Mon compte" (the forms every role has, `pages/account.rs`), the export of
//! every personal datum, and the deletion.

use super::*;
use crate::http::pages::account;

/// "Mon compte".
#[utoipa::path(get, path = links::ACCOUNT, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The account (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn account_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    account::show(&state, &v, &account::CANDIDATE, &q).await
}

/// Changes the details.
#[utoipa::path(post, path = links::ACCOUNT_DETAILS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
pub(super) async fn update_details(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    account::details(&state, (&v, client), &account::CANDIDATE, &body).await
}

/// Changes the address (confirmed again).
#[utoipa::path(post, path = links::ACCOUNT_EMAIL, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
pub(super) async fn update_email(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    account::email(&state, (&v, client), &account::CANDIDATE, &body).await
}

/// Changes the password: the current one, the new one twice.
#[utoipa::path(post, path = links::ACCOUNT_PASSWORD, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Changed"), (status = 422, description = "The page again, faults marked", content_type = "text/html", body = String)))]
pub(super) async fn update_password(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    account::password(&state, (&v, client), &account::CANDIDATE, &body).await
}

/// Closes the other sessions of the account.
#[utoipa::path(post, path = links::ACCOUNT_SESSIONS, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Closed")))]
pub(super) async fn close_sessions(
    State(state): State<AppState>,
    v: Visitor,
    body: Bytes,
) -> PageResult {
    account::sessions(&state, &v, &account::CANDIDATE, &body).await
}

/// Every personal datum held, as a JSON download.
#[utoipa::path(get, path = links::ACCOUNT_EXPORT, tag = "portal",
    responses((status = 200, description = "The data (JSON download)", content_type = "application/json", body = Object)))]
pub(super) async fn export(State(state): State<AppState>, v: Visitor) -> PageResult {
    let who = candidate(&v, links::ACCOUNT)?;
    Ok(
        match with_candidates(&state, move |c| c.export(&who)).await {
            Ok(data) => {
                let mut r = serde_json::to_string_pretty(&data)
                    .unwrap_or_default()
                    .into_response();
                let h = r.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                h.insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"mes-donnees.json\""),
                );
                r
            }
            Err(e) => error_page(&v, &e),
        },
    )
}

pub(super) fn delete_form(v: &Visitor) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[("Mon compte", Some(links::ACCOUNT)), ("Supprimer mon compte", None)]),
        "Supprimer mon compte",
        links::ACCOUNT_DELETE,
        vec![Field::new("password", "Votre mot de passe, pour confirmer", "password", "").required().autocomplete("current-password")],
        "Supprimer définitivement mon compte",
    )
    .intro("Votre compte, vos recherches, vos alertes et les courriels en attente seront supprimés. Cette action est définitive ; téléchargez vos données avant si vous le souhaitez.")
    .links(vec![(links::ACCOUNT_EXPORT.into(), "Télécharger mes données (JSON)".into()), (links::ACCOUNT.into(), "Annuler".into())]);
    page.width = "fr-col-md-8";
    page
}

/// Asks to confirm the deletion of the account.
#[utoipa::path(get, path = links::ACCOUNT_DELETE, tag = "portal",
    responses((status = 200, description = "The confirmation (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn delete_page(v: Visitor) -> PageResult {
    candidate(&v, links::ACCOUNT_DELETE)?;
    Ok(render(&v, StatusCode::OK, delete_form(&v)))
}

/// Deletes the account and everything attached to it, confirmed by the password.
#[utoipa::path(post, path = links::ACCOUNT_DELETE, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Deleted (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "Wrong password (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn delete_submit(
    State(state): State<AppState>,
    v: Visitor,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> PageResult {
    let (who, form) = changing(&v, &body, links::ACCOUNT_DELETE)?;
    // The password confirms the deletion: a password check, under the login throttle, off
    // the async workers (argon2 takes tens of milliseconds).
    let (given, throttle, peer) = (
        form.get("password").to_string(),
        state.throttle.clone(),
        client.to_string(),
    );
    let (login, hash) = (who.email.clone(), who.password_hash.clone());
    let checked = crate::blocking::run(move || {
        throttle.password_check(&login, &peer, || {
            let matches = match hash {
                Some(h) => verify_password(&given, &h)?,
                None => false,
            };
            if matches {
                Ok(())
            } else {
                Err(Error::invalid(not_your_password("password")))
            }
        })
    })
    .await
    .and_then(|checked| checked);
    if let Err(e) = checked {
        return Ok(render(&v, status_of(&e), delete_form(&v).with_error(&e)));
    }
    Ok(
        match with_candidates(&state, move |c| c.delete_me(&who)).await {
            Ok(()) => {
                let mut r = message_with_links(
                    &v,
                    StatusCode::OK,
                    "Compte supprimé",
                    "Votre compte et toutes vos données ont été supprimés.",
                    vec![("/".into(), "Revenir à la recherche".into())],
                );
                if let Ok(c) = HeaderValue::from_str(&v.clear_session_cookie()) {
                    r.headers_mut().append(header::SET_COOKIE, c);
                }
                r
            }
            Err(e) => error_page(&v, &e),
        },
    )
}
