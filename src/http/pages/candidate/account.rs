//! "Mon compte": details, address (confirmed again), password, the export of every personal datum, deletion.

use super::*;

/// One small form of a page of several.
pub(crate) struct MiniForm {
    pub title: String,
    pub intro: String,
    pub action: String,
    pub method: &'static str,
    pub fields: Vec<Field>,
    pub submit: &'static str,
    pub secondary: bool,
}

#[derive(Template)]
#[template(path = "forms.html")]
pub(crate) struct FormsPage {
    pub ctx: Ctx,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub details: Vec<(String, String)>,
    pub forms: Vec<MiniForm>,
    pub links: Vec<(String, String)>,
}

pub(super) fn civility_field(value: &str) -> Field {
    Field::new("civility", "Civilité", "select", value).options(vec![
        ("".into(), "— Choisir —".into()),
        ("Mme".into(), "Madame".into()),
        ("M.".into(), "Monsieur".into()),
    ])
}

pub(super) fn account_forms(a: &Account, form: &Form) -> Vec<MiniForm> {
    let pick = |name: &str, stored: &str| {
        if form.0.iter().any(|(k, _)| k == name) {
            form.get(name).to_string()
        } else {
            stored.to_string()
        }
    };
    vec![
        MiniForm {
            title: "Mes coordonnées".into(),
            intro: String::new(),
            action: links::ACCOUNT_DETAILS.into(),
            method: "post",
            fields: vec![
                civility_field(&pick("civility", a.civility.as_deref().unwrap_or(""))).required(),
                Field::new("first_name", "Prénom", "text", &pick("first_name", &a.first_name)).required().autocomplete("given-name"),
                Field::new("last_name", "Nom", "text", &pick("last_name", &a.last_name)).required().autocomplete("family-name"),
                Field::new("phone", "Téléphone (facultatif)", "tel", &pick("phone", a.phone.as_deref().unwrap_or(""))).autocomplete("tel"),
            ],
            submit: "Enregistrer mes coordonnées",
            secondary: false,
        },
        MiniForm {
            title: "Mon adresse électronique".into(),
            intro: "La nouvelle adresse remplacera l'actuelle lorsque le lien qui y sera envoyé aura été ouvert ; l'adresse actuelle en est informée.".into(),
            action: links::ACCOUNT_EMAIL.into(),
            method: "post",
            fields: vec![
                Field::new("email", "Adresse électronique", "email", &pick("email", &a.email)).required().autocomplete("email"),
                Field::new("email_current_password", "Mot de passe actuel", "password", "").required().autocomplete("current-password"),
            ],
            submit: "Changer d'adresse",
            secondary: false,
        },
        MiniForm {
            title: "Mon mot de passe".into(),
            intro: String::new(),
            action: links::ACCOUNT_PASSWORD.into(),
            method: "post",
            fields: vec![
                Field::new("current_password", "Mot de passe actuel", "password", "").required().autocomplete("current-password"),
                Field::new("password", "Nouveau mot de passe", "password", "").required().autocomplete("new-password")
                    .hint("Au moins 12 caractères, de trois sortes parmi : minuscules, majuscules, chiffres, symboles."),
                Field::new("password_confirm", "Confirmation du nouveau mot de passe", "password", "").required().autocomplete("new-password"),
            ],
            submit: "Changer de mot de passe",
            secondary: false,
        },
    ]
}

pub(super) fn account_view(
    v: &Visitor,
    a: &Account,
    form: &Form,
    notice: Option<String>,
    error: Option<&Error>,
    which: usize,
) -> FormsPage {
    let mut forms = account_forms(a, form);
    let mut top = None;
    if let Some(e) = error {
        // The address form names its password field apart (one id per page).
        let fields: Vec<FieldError> = e
            .fields()
            .iter()
            .cloned()
            .map(|mut f| {
                if which == 1 && f.field == "current_password" {
                    f.field = "email_current_password".into();
                }
                f
            })
            .collect();
        let rest = crate::http::pages::attach_errors(&mut forms[which].fields, &fields);
        top = Some(if e.fields().is_empty() {
            explain(e)
        } else {
            format!(
                "Le formulaire « {} » contient des erreurs. {}",
                forms[which].title,
                rest.join(" ; ")
            )
        });
    }
    let civility = match a.civility.as_deref() {
        Some("Mme") => "Madame",
        Some("M.") => "Monsieur",
        _ => "",
    };
    FormsPage {
        ctx: v.ctx(&[("Mon compte", None)]),
        title: "Mon compte".into(),
        notice,
        error: top,
        details: vec![
            (
                "Nom".into(),
                format!("{civility} {} {}", a.first_name, a.last_name)
                    .trim()
                    .to_string(),
            ),
            ("Identifiant".into(), a.username.clone().unwrap_or_default()),
            (
                "Adresse électronique".into(),
                format!(
                    "{}{}",
                    a.email,
                    if a.email_confirmed {
                        " (confirmée)"
                    } else {
                        " (à confirmer)"
                    }
                ),
            ),
            (
                "Téléphone".into(),
                a.phone.clone().unwrap_or_else(|| "—".into()),
            ),
        ],
        forms,
        links: vec![
            (
                links::SAVED_SEARCHES.into(),
                "Mes recherches et mes alertes".into(),
            ),
            (
                links::ACCOUNT_EXPORT.into(),
                "Télécharger mes données (JSON)".into(),
            ),
            (links::ACCOUNT_DELETE.into(), "Supprimer mon compte".into()),
        ],
    }
}

/// "Mon compte".
#[utoipa::path(get, path = links::ACCOUNT, tag = "portal", params(DoneQuery),
    responses((status = 200, description = "The account (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn account_page(v: Visitor, Query(q): Query<DoneQuery>) -> PageResult {
    let a = candidate(&v, links::ACCOUNT)?;
    Ok(render(
        &v,
        StatusCode::OK,
        account_view(&v, &a, &Form::default(), Notice::of_query(&q.fait), None, 0),
    ))
}

pub(super) async fn patch(
    state: &AppState,
    (v, client): (&Visitor, std::net::IpAddr),
    who: Account,
    form: Form,
    p: AccountPatch,
    which: usize,
    done: Notice,
) -> Response {
    match crate::http::change_account(state, who.clone(), client, v.session.clone(), p).await {
        Ok(_) => see_other(&done.after(links::ACCOUNT)),
        Err(e) => render(
            v,
            status_of(&e),
            account_view(v, &who, &form, None, Some(&e), which),
        ),
    }
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
    let (who, form) = changing(&v, &body, links::ACCOUNT)?;
    if form.get("civility").is_empty() {
        let e = Error::invalid(FieldError::required("civility"));
        return Ok(render(
            &v,
            status_of(&e),
            account_view(&v, &who, &form, None, Some(&e), 0),
        ));
    }
    let p = AccountPatch {
        civility: Some(form.get("civility").to_string()),
        first_name: Some(form.get("first_name").to_string()),
        last_name: Some(form.get("last_name").to_string()),
        phone: Some(form.get("phone").to_string()),
        ..AccountPatch::default()
    };
    Ok(patch(&state, (&v, client), who, form, p, 0, Notice::DetailsSaved).await)
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
    let (who, form) = changing(&v, &body, links::ACCOUNT)?;
    let p = AccountPatch {
        email: Some(form.get("email").to_string()),
        current_password: Some(form.get("email_current_password").to_string()),
        ..AccountPatch::default()
    };
    Ok(patch(
        &state,
        (&v, client),
        who,
        form,
        p,
        1,
        Notice::AddressPending,
    )
    .await)
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
    let (who, form) = changing(&v, &body, links::ACCOUNT)?;
    if form.get("password") != form.get("password_confirm") {
        let e = Error::invalid(
            FieldError::new("password_confirm", "the two passwords differ")
                .coded(FieldCode::PasswordsDiffer),
        );
        return Ok(render(
            &v,
            status_of(&e),
            account_view(&v, &who, &Form::default(), None, Some(&e), 2),
        ));
    }
    let p = AccountPatch {
        password: Some(form.get("password").to_string()),
        current_password: Some(form.get("current_password").to_string()),
        ..AccountPatch::default()
    };
    Ok(patch(
        &state,
        (&v, client),
        who,
        Form::default(),
        p,
        2,
        Notice::PasswordChanged,
    )
    .await)
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
