//! Sessions for every role: one login form at `/connexion` (the API's throttle), logout, the
//! one-time link to choose a password, and the candidate's address confirmation.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    Field, Form, FormPage, OrPage, Visitor, message_page, message_with_links, render, see_other,
    see_other_with_cookie, space_of,
};
use crate::auth::Auth;
use crate::http::error::status_of;
use crate::http::pages::PageResult;
use crate::http::{AppState, blocking, with_auth, with_candidates};
use crate::links;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_page, login_submit))
        .routes(routes!(logout))
        .routes(routes!(terms_page, terms_submit))
        .routes(routes!(confirm_email))
        .routes(routes!(password_page, password_submit))
}

/// Where to go after logging in: a path of this site only, never another site. The address is
/// read as a browser reads it (the URL standard drops tabs and newlines anywhere, spaces and
/// control characters at the ends, and reads `\\` as `/`), then kept only when it resolves to
/// this very origin; the cleaned form is answered, so the browser follows what was checked.
pub(crate) fn local_path(suite: &str) -> Option<String> {
    let cleaned: String = suite
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if !cleaned.starts_with('/') || cleaned.contains('\\') || cleaned.chars().any(char::is_control)
    {
        return None;
    }
    let base = url::Url::parse("http://offerwatch.invalid/").ok()?;
    let resolved = base.join(&cleaned).ok()?;
    (resolved.origin() == base.origin()).then_some(cleaned)
}

/// The query of the login page.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct LoginQuery {
    /// The page to go back to after logging in (a local path).
    #[serde(default)]
    suite: String,
    /// `candidat` or `recruteur`: only changes the wording.
    #[serde(default)]
    espace: String,
}

fn login_form(v: &Visitor, suite: &str, espace: &str, login: &str) -> FormPage {
    let title = match espace {
        "recruteur" => "Connexion – espace recruteur",
        "candidat" => "Connexion – espace candidat",
        _ => "Connexion",
    };
    let mut links = vec![(
        links::PASSWORD_FORGOTTEN.to_string(),
        "Mot de passe oublié ?".to_string(),
    )];
    if espace != "recruteur" {
        links.push((
            links::SIGNUP.into(),
            "Pas encore de compte ? Créer un compte candidat".into(),
        ));
    }
    if espace != "candidat" {
        links.push((
            links::RECRUITER_REQUEST.into(),
            "Vous recrutez ? Demander un compte recruteur".into(),
        ));
    }
    FormPage::new(
        v.ctx(&[("Connexion", None)]),
        title,
        links::LOGIN,
        vec![
            Field::new(
                "login",
                "Identifiant ou adresse électronique",
                "text",
                login,
            )
            .required()
            .autocomplete("username"),
            Field::new("password", "Mot de passe", "password", "")
                .required()
                .autocomplete("current-password"),
            Field::new("rester_connecte", "Rester connecté", "checkbox", "").hint(
                "Pendant 30 jours sur cet appareil, au lieu de 12 heures. À éviter sur un ordinateur partagé.",
            ),
            Field::new("suite", "", "hidden", suite),
        ],
        "Se connecter",
    )
    .intro("Un seul formulaire pour les candidats, les recruteurs et les administrateurs.")
    .links(links)
}

/// The login form.
#[utoipa::path(get, path = links::LOGIN, tag = "portal", params(LoginQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn login_page(v: Visitor, Query(q): Query<LoginQuery>) -> Response {
    render(&v, StatusCode::OK, login_form(&v, &q.suite, &q.espace, ""))
}

/// Logs in: a session cookie, then the person's space (or the page they came from).
#[utoipa::path(post, path = links::LOGIN, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Logged in: to the person's space"),
              (status = 401, description = "The form again (HTML)", content_type = "text/html", body = String),
              (status = 429, description = "Too many failures (HTML)", content_type = "text/html", body = String)))]
async fn login_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::extract::ClientIp(peer): crate::http::extract::ClientIp,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let (login, password) = (
        form.get("login").to_string(),
        form.get("password").to_string(),
    );
    let suite = form.get("suite").to_string();
    let throttle = state.throttle.clone();
    let client = peer.to_string();
    let l = login.clone();
    let stay = form.get("rester_connecte") == "on";
    let result = with_auth(&state, move |a| {
        let token = a.login_throttled(&throttle, &l, &password, &client, stay)?;
        let who = a.authenticate(&token)?;
        Ok((token, who))
    })
    .await;
    Ok(match result {
        Ok((token, who)) => {
            let to = local_path(&suite).unwrap_or_else(|| space_of(who.role).to_string());
            see_other_with_cookie(&to, &v.session_cookie(&token, stay))
        }
        Err(e) => {
            let status = status_of(&e);
            let mut page = login_form(&v, &suite, "", &login);
            page.errors.push(match &e {
                crate::Error::TooMany(_) => {
                    "Trop de tentatives échouées : réessayez dans 15 minutes.".into()
                }
                other => super::explain(other),
            });
            render(&v, status, page)
        }
    })
}

/// Logs out: ends the session and clears its cookie.
#[utoipa::path(post, path = links::LOGOUT, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Logged out: to the home page")))]
async fn logout(State(state): State<AppState>, v: Visitor, body: Bytes) -> PageResult {
    v.form(&body)?;
    if let Some(token) = v.session.clone() {
        let _ = with_auth(&state, move |a| a.logout(&token)).await;
    }
    Ok(see_other_with_cookie("/", &v.clear_session_cookie()))
}

/// The token of a mailed link.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct TokenQuery {
    /// The link's token.
    #[serde(default)]
    token: String,
}

/// The confirmation link of an address: a candidate's own, or a new address of any account.
#[utoipa::path(get, path = links::CONFIRM_EMAIL, tag = "portal", params(TokenQuery),
    responses((status = 200, description = "Confirmed (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "Invalid link (HTML)", content_type = "text/html", body = String)))]
async fn confirm_email(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    match with_candidates(&state, move |c| c.confirm(&q.token)).await {
        Ok(a) => message_with_links(
            &v,
            StatusCode::OK,
            "Adresse confirmée",
            &if a.role == crate::domain::account::Role::Candidate {
                format!(
                    "L'adresse {} est confirmée : vos alertes sont actives.",
                    a.email
                )
            } else {
                format!(
                    "L'adresse {} est désormais celle de votre compte et votre identifiant.",
                    a.email
                )
            },
            vec![(links::LOGIN.into(), "Se connecter".into())],
        ),
        Err(e) => message_page(
            &v,
            status_of(&e),
            "Lien invalide",
            "Ce lien est inconnu, déjà utilisé ou expiré.",
        ),
    }
}

fn password_form(v: &Visitor, token: &str) -> FormPage {
    FormPage::new(
        v.ctx(&[("Choisir mon mot de passe", None)]),
        "Choisir mon mot de passe",
        &format!("{}?{}", links::SET_PASSWORD, serde_urlencoded::to_string([("token", token)]).unwrap_or_default()),
        vec![
            Field::new("password", "Nouveau mot de passe", "password", "")
                .required()
                .autocomplete("new-password")
                .hint("Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles."),
        ],
        "Enregistrer",
    )
}

/// The one-time link to choose a password (every role).
#[utoipa::path(get, path = links::SET_PASSWORD, tag = "portal", params(TokenQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn password_page(v: Visitor, Query(q): Query<TokenQuery>) -> Response {
    render(&v, StatusCode::OK, password_form(&v, &q.token))
}

/// Sets the password of a one-time link; the other sessions of the account end.
#[utoipa::path(post, path = links::SET_PASSWORD, tag = "portal", params(TokenQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Done (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the error", content_type = "text/html", body = String)))]
async fn password_submit(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<TokenQuery>,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let (engine, links, token) = (state.engine.clone(), state.links.clone(), q.token.clone());
    let password = form.get("password").to_string();
    Ok(
        match blocking(move || Ok(Auth::new(&engine, &links).set_password(&token, &password))).await
        {
            Ok(Ok(())) => message_with_links(
                &v,
                StatusCode::OK,
                "Mot de passe enregistré",
                "Votre mot de passe est enregistré : vous pouvez vous connecter.",
                vec![(links::LOGIN.into(), "Se connecter".into())],
            ),
            Ok(Err(e)) => render(
                &v,
                status_of(&e),
                password_form(&v, &q.token).with_error(&e),
            ),
            Err(e) => axum::response::IntoResponse::into_response(e),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(local_path("/compte").as_deref(), Some("/compte"));
        assert_eq!(
            local_path("/?q=stage&page=2").as_deref(),
            Some("/?q=stage&page=2")
        );
        assert_eq!(local_path(" /compte\t").as_deref(), Some("/compte"));
        for evil in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            " //evil.example",
            "/\u{0}/evil.example",
        ] {
            let kept = local_path(evil);
            // `/%09/…` stays a path of this site: the browser does not decode it.
            if let Some(k) = &kept {
                assert!(
                    k.starts_with('/') && !k.starts_with("//"),
                    "{evil:?} → {k:?}"
                );
                let joined = url::Url::parse("http://site.invalid/")
                    .unwrap()
                    .join(k)
                    .unwrap();
                assert_eq!(joined.host_str(), Some("site.invalid"), "{evil:?}");
            }
        }
        assert_eq!(local_path("/\t/evil.example"), None);
        assert_eq!(local_path("//evil.example"), None);
    }
}

/// Where to go once the terms are accepted.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(super) struct TermsQuery {
    /// A local path.
    #[serde(default)]
    suite: String,
}

fn terms_form(v: &Visitor, suite: &str, form: &Form) -> FormPage {
    FormPage::new(
        v.ctx(&[("Conditions générales d'utilisation", None)]),
        "Conditions générales d'utilisation",
        links::TERMS_ACCEPT,
        vec![
            crate::http::pages::terms_field(form),
            Field::new("suite", "", "hidden", suite),
        ],
        "Accepter et continuer",
    )
    .intro(&format!(
        "Les conditions générales d'utilisation du site sont en version {} du {}. Pour continuer à utiliser votre compte, lisez-les et acceptez-les.",
        crate::domain::account::TERMS_VERSION,
        crate::domain::account::TERMS_DATE
    ))
    .links(vec![
        (links::TERMS.into(), "Lire les conditions générales d'utilisation".into()),
        (links::PRIVACY.into(), "Données personnelles".into()),
    ])
}

/// The terms of use in force, for an account that has not accepted them yet (shown at login).
#[utoipa::path(get, path = links::TERMS_ACCEPT, tag = "portal", params(TermsQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
async fn terms_page(v: Visitor, Query(q): Query<TermsQuery>) -> PageResult {
    v.logged_in(links::TERMS_ACCEPT)?;
    Ok(render(
        &v,
        StatusCode::OK,
        terms_form(&v, &q.suite, &Form::default()),
    ))
}

/// Records the acceptance, then goes on to the page asked for.
#[utoipa::path(post, path = links::TERMS_ACCEPT, tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Accepted: to the page asked for"),
              (status = 422, description = "The box was not ticked (HTML)", content_type = "text/html", body = String)))]
async fn terms_submit(State(state): State<AppState>, v: Visitor, body: Bytes) -> PageResult {
    let form = v.form(&body)?;
    let account = v.logged_in(links::TERMS_ACCEPT)?.clone();
    let suite = form.get("suite").to_string();
    if form.get("cgu") != "on" {
        let mut e = crate::ValidationErrors::default();
        let _ =
            crate::domain::account::terms_ticked(&mut e, None, time::OffsetDateTime::UNIX_EPOCH);
        let e = crate::Error::Invalid(e);
        return Ok(render(
            &v,
            status_of(&e),
            terms_form(&v, &suite, &form).with_error(&e),
        ));
    }
    with_auth(&state, move |a| a.accept_terms(account.id))
        .await
        .or_page(&v)?;
    let to = local_path(&suite).unwrap_or_else(|| space_of(account.role).to_string());
    Ok(see_other(&to))
}
