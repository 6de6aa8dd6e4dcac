//! The alert form of a search, for a visitor without an account: the criteria carried from the search, the frequency, the address confirmed by mail.

use super::*;

/// The criteria of the search in the address, checked like the search's own (the answer to
/// give instead when one is malformed); `i` (a position in the results) is left out.
pub(super) fn checked_criteria(
    v: &Visitor,
    raw: &Option<String>,
) -> Result<(String, Vec<(String, String)>), Response> {
    let pairs = address_pairs(raw);
    let searched: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "i").cloned().collect();
    match SearchParams::from_pairs(&searched) {
        Ok(_) => Ok(carried(pairs)),
        Err(errors) => {
            let fields: Vec<&str> = errors.0.iter().map(|f| f.field.as_str()).collect();
            Err(message_page(
                v,
                StatusCode::BAD_REQUEST,
                "Recherche incorrecte",
                &format!(
                    "Ces critères de l'adresse ne sont pas valables : {}. Revenez à la recherche et choisissez-les dans les listes.",
                    fields.join(", ")
                ),
            ))
        }
    }
}

pub(super) fn address_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or_default())
        .unwrap_or_default()
}

/// The criteria carried along in the address (paging and empty values left out).
pub(crate) fn criteria_of(raw: &Option<String>) -> (String, Vec<(String, String)>) {
    carried(address_pairs(raw))
}

pub(super) fn carried(pairs: Vec<(String, String)>) -> (String, Vec<(String, String)>) {
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| {
            !v.is_empty() && !["page", "per_page", "facets", "i"].contains(&k.as_str())
        })
        .collect();
    (serde_urlencoded::to_string(&kept).unwrap_or_default(), kept)
}

pub(crate) fn suffix(qs: &str) -> String {
    if qs.is_empty() {
        String::new()
    } else {
        format!("?{qs}")
    }
}

pub(super) fn frequency_field(value: &str) -> Field {
    Field::new("frequency", "Fréquence des courriels", "select", value).options(vec![
        ("immediate".into(), "À chaque nouvelle offre".into()),
        ("daily".into(), "Un récapitulatif par jour".into()),
    ])
}

pub(super) fn alert_form(
    v: &Visitor,
    qs: &str,
    form: &Form,
    name: &str,
    recent: Option<u64>,
) -> FormPage {
    let sfx = suffix(qs);
    let mut fields = vec![
        Field::new("name", "Nom de la recherche", "text", name).required(),
        Field::new(
            "alert",
            "Alerte par courriel",
            "select",
            if form.get("alert") == "off" {
                "off"
            } else {
                "on"
            },
        )
        .options(vec![
            (
                "on".into(),
                "Oui : m'envoyer les nouvelles offres de cette recherche".into(),
            ),
            (
                "off".into(),
                "Non : seulement enregistrer la recherche".into(),
            ),
        ])
        .hint("Vous pourrez activer ou désactiver l'alerte dans « Mes recherches »."),
        frequency_field(if form.get("frequency").is_empty() {
            "immediate"
        } else {
            form.get("frequency")
        }),
    ];
    let logged_in = v
        .account
        .as_ref()
        .is_some_and(|a| a.role == Role::Candidate);
    if !logged_in {
        fields.push(
            Field::new(
                "login",
                "Identifiant ou adresse électronique",
                "text",
                form.get("login"),
            )
            .required()
            .autocomplete("username"),
        );
        fields.push(
            Field::new("password", "Mot de passe", "password", "")
                .required()
                .autocomplete("current-password"),
        );
    }
    let mut page = FormPage::new(
        v.ctx(&[("Enregistrer cette recherche", None)]),
        "Enregistrer cette recherche",
        &format!("{}{sfx}", links::NEW_ALERT),
        fields,
        "Enregistrer la recherche",
    )
    .intro(if logged_in {
        "Retrouvez cette recherche dans « Mes recherches », avec ou sans alerte."
    } else {
        "Retrouvez cette recherche dans « Mes recherches », avec ou sans alerte. Connectez-vous avec votre compte candidat."
    })
    .links(vec![
        (format!("{}{sfx}", links::SIGNUP), "Pas encore de compte ? Créer un compte candidat".into()),
        (format!("{}{sfx}", links::FEED_RSS), "Ou suivre cette recherche par flux RSS".into()),
        (format!("/{sfx}"), "Revenir à la recherche".into()),
    ]);
    page.notice = match recent {
        Some(0) => {
            Some("Aucune offre de cette recherche n'a été publiée ces 30 derniers jours.".into())
        }
        Some(1) => Some("Cette recherche a trouvé 1 offre publiée ces 30 derniers jours.".into()),
        Some(n) => Some(format!(
            "Cette recherche a trouvé {n} offres publiées ces 30 derniers jours."
        )),
        None => None,
    };
    page
}

/// How many offers the search found among those published in the last 30 days.
pub(super) async fn recent_count(state: &AppState, pairs: &[(String, String)]) -> Option<u64> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "published_since")
        .cloned()
        .collect();
    pairs.push(("published_since".into(), "30".into()));
    pairs.push(("per_page".into(), "0".into()));
    pairs.push(("facets".into(), "false".into()));
    let params = SearchParams::from_pairs(&pairs).ok()?;
    run_search(state, params)
        .await
        .ok()
        .map(|(_, page)| page.total)
}

/// "Créer une alerte": saves the current search for a candidate (login in the form).
#[utoipa::path(get, path = links::NEW_ALERT, tag = "portal", params(crate::http::api::offers::SearchQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn alert_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (qs, pairs) = checked_criteria(&v, &raw)?;
    let name = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map_or("Ma recherche".to_string(), |(_, v)| v.clone());
    let recent = recent_count(&state, &pairs).await;
    Ok(render(
        &v,
        StatusCode::OK,
        alert_form(&v, &qs, &Form::default(), &name, recent),
    ))
}

/// Creates the alert: the candidate's session or the credentials of the form (under the login
/// throttle), then the search saved with the criteria of the URL.
#[utoipa::path(post, path = links::NEW_ALERT, tag = "portal", params(crate::http::api::offers::SearchQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Created (HTML)", content_type = "text/html", body = String),
              (status = 401, description = "Wrong credentials (HTML form again)", content_type = "text/html", body = String)))]
pub(super) async fn create_alert(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::extract::ClientIp(peer): crate::http::extract::ClientIp,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let (qs, pairs) = checked_criteria(&v, &raw)?;
    let engine = state.engine.clone();
    let links = state.links.clone();
    let throttle = state.throttle.clone();
    let max = state.config.max_saved_searches;
    let session = v.account.clone().filter(|a| a.role == Role::Candidate);
    let (login, password) = (
        form.get("login").to_string(),
        form.get("password").to_string(),
    );
    let (name, frequency) = (
        form.get("name").to_string(),
        form.get("frequency").to_string(),
    );
    let alert = form.get("alert") != "off";
    let result = crate::http::blocking(move || {
        let auth = Auth::new(&engine, &links);
        let run = || -> crate::Result<(crate::domain::account::SavedSearch, bool)> {
            let who = match session {
                Some(a) => a,
                None => {
                    let token = auth.login_throttled(
                        &throttle,
                        &login,
                        &password,
                        &peer.to_string(),
                        false,
                    )?;
                    let who = auth.authenticate(&token)?;
                    let _ = auth.logout(&token);
                    who
                }
            };
            let mut criteria = serde_json::Map::new();
            for (k, v) in pairs {
                match criteria.get_mut(&k) {
                    Some(serde_json::Value::Array(a)) => a.push(v.into()),
                    Some(other) => *other = serde_json::Value::Array(vec![other.clone(), v.into()]),
                    None => {
                        criteria.insert(k, v.into());
                    }
                }
            }
            let s = Candidates::with_links(&engine, (*links).clone(), max).create_search(
                &who,
                NewSearch {
                    name: Some(name),
                    criteria,
                    alert: Some(alert),
                    frequency: Some(frequency),
                },
            )?;
            Ok((s, who.email_confirmed))
        };
        Ok(run())
    })
    .await;
    Ok(match result {
        Ok(Ok((s, confirmed))) => {
            state.mail_wake.notify_one();
            let extra = if !s.alert {
                " Elle n'a pas d'alerte : activez-la quand vous voulez dans « Mes recherches »."
            } else if confirmed {
                " Son alerte est active."
            } else {
                " Confirmez d'abord votre adresse électronique avec le lien reçu : les alertes ne partent que vers une adresse confirmée."
            };
            message_with_links(
                &v,
                StatusCode::CREATED,
                if s.alert {
                    "Alerte créée"
                } else {
                    "Recherche enregistrée"
                },
                &format!("La recherche « {} » est enregistrée.{extra}", s.name),
                vec![
                    (links::SAVED_SEARCHES.into(), "Mes recherches".into()),
                    ("/".into(), "Revenir à la recherche".into()),
                ],
            )
        }
        Ok(Err(e)) => render(
            &v,
            status_of(&e),
            alert_form(&v, &qs, &form, form.get("name"), None).with_error(&e),
        ),
        Err(e) => e.into_response(),
    })
}

/// The token of an alert mail's unsubscribe link.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UnsubscribeLink {
    /// The signed token the mail carries.
    token: Option<String>,
}

fn invalid_unsubscribe(v: &Visitor) -> Response {
    message_page(
        v,
        StatusCode::BAD_REQUEST,
        "Lien invalide",
        "Ce lien de désabonnement n'est pas valide. Vous pouvez gérer vos alertes depuis votre compte.",
    )
}

/// "Se désabonner", the link of every alert mail: what it stops, with a button (no login).
#[utoipa::path(get, path = links::UNSUBSCRIBE_PAGE, tag = "portal", params(UnsubscribeLink),
    responses((status = 200, description = "Confirmation (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "Invalid link (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    v: Visitor,
    q: Result<axum::extract::Query<UnsubscribeLink>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(token) = q.ok().and_then(|q| q.0.token) else {
        return invalid_unsubscribe(&v);
    };
    let t = token.clone();
    match crate::http::with_candidates(&state, move |x| x.alert_of_token(&t)).await {
        Ok(s) => {
            let action = format!(
                "{}?{}",
                links::UNSUBSCRIBE_PAGE,
                serde_urlencoded::to_string([("token", &token)]).unwrap_or_default()
            );
            let page = FormPage::new(
                v.ctx(&[("Se désabonner", None)]),
                "Se désabonner de cette alerte",
                &action,
                Vec::new(),
                "Confirmer le désabonnement",
            )
            .intro(&format!(
                "Vous ne recevrez plus de courriel pour la recherche « {} ». La recherche reste enregistrée dans votre compte.",
                s.name
            ));
            render(&v, StatusCode::OK, page)
        }
        Err(_) => invalid_unsubscribe(&v),
    }
}

/// Switches the alert off: the page's button, or a mail client's one-click (RFC 8058, whose
/// body is `List-Unsubscribe=One-Click`); the signed token is the authority, not a session.
#[utoipa::path(post, path = links::UNSUBSCRIBE_PAGE, tag = "portal", params(UnsubscribeLink),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 200, description = "Unsubscribed (HTML)", content_type = "text/html", body = String),
              (status = 400, description = "Invalid link (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    v: Visitor,
    q: Result<axum::extract::Query<UnsubscribeLink>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(token) = q.ok().and_then(|q| q.0.token) else {
        return invalid_unsubscribe(&v);
    };
    match crate::http::with_candidates(&state, move |x| x.unsubscribe(&token)).await {
        Ok(s) => message_with_links(
            &v,
            StatusCode::OK,
            "Désabonnement confirmé",
            &format!("L'alerte « {} » est désactivée.", s.name),
            vec![
                (links::SAVED_SEARCHES.into(), "Gérer mes alertes".into()),
                (links::SEARCH.into(), "Revenir à la recherche".into()),
            ],
        ),
        Err(_) => invalid_unsubscribe(&v),
    }
}
