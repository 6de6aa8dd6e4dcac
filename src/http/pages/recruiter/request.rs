//! The recruiter's account request: the organisation tree in steps that need no JavaScript.

use super::*;

pub(crate) fn versant_label(v: &str) -> &'static str {
    match v {
        "territoriale" => "Fonction publique territoriale",
        "hospitaliere" => "Fonction publique hospitalière",
        _ => "Fonction publique de l'État",
    }
}

/// Administrations grouped by versant.
pub(crate) fn administration_groups(empty: &str) -> Vec<OptGroup> {
    let mut groups = vec![OptGroup {
        label: String::new(),
        options: vec![(String::new(), empty.to_string())],
    }];
    for versant in ["etat", "territoriale", "hospitaliere"] {
        groups.push(OptGroup {
            label: versant_label(versant).into(),
            options: referentials()
                .administrations
                .iter()
                .filter(|a| a.versant == versant)
                .map(|a| (a.code.clone(), a.label.clone()))
                .collect(),
        });
    }
    groups
}

/// Services grouped by entité (services without one first).
pub(super) fn service_groups(services: &[Service], empty: &str) -> Vec<OptGroup> {
    let mut groups = vec![OptGroup {
        label: String::new(),
        options: vec![(String::new(), empty.to_string())],
    }];
    let mut entities: Vec<Option<&str>> = services.iter().map(|s| s.entity.as_deref()).collect();
    entities.sort();
    entities.dedup();
    for entity in entities {
        let options: Vec<(String, String)> = services
            .iter()
            .filter(|s| s.entity.as_deref() == entity)
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect();
        match entity {
            None => groups[0].options.extend(options),
            Some(e) => groups.push(OptGroup {
                label: e.to_string(),
                options,
            }),
        }
    }
    groups
}

/// The step of the request form: which administration.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct RequestQuery {
    /// The administration chosen at the first step.
    #[serde(default)]
    pub(super) administration: String,
}

pub(super) fn request_step2(
    v: &Visitor,
    administration: &str,
    services: &[Service],
    form: &Form,
) -> FormPage {
    let adm = referentials()
        .administration(administration)
        .map_or(administration.to_string(), |a| a.label.clone());
    let mut entities: Vec<(String, String)> = services
        .iter()
        .filter_map(|s| s.entity.clone())
        .map(|e| (e.clone(), e))
        .collect();
    entities.sort();
    entities.dedup();
    entities.insert(0, (String::new(), "— Choisir une entité —".into()));
    let mut page = FormPage::new(
        v.ctx(&[
            (
                "Demande de compte recruteur",
                Some(links::RECRUITER_REQUEST),
            ),
            (&adm, None),
        ]),
        "Demande de compte recruteur",
        &format!(
            "{}?{}",
            links::RECRUITER_REQUEST,
            serde_urlencoded::to_string([("administration", administration)]).unwrap_or_default()
        ),
        Vec::new(),
        "Envoyer ma demande",
    );
    page.width = "fr-col-md-10 fr-col-lg-8";
    page.intro = format!(
        "Administration : {adm}. Un administrateur examine votre demande ; vous recevrez un courriel pour choisir votre mot de passe."
    );
    page.sections = vec![
        Section::new(
            "Vous",
            vec![
                Field::new("civility", "Civilité", "select", form.get("civility")).options(vec![
                    ("".into(), "— Choisir —".into()),
                    ("Mme".into(), "Madame".into()),
                    ("M.".into(), "Monsieur".into()),
                ]),
                Field::new("first_name", "Prénom", "text", form.get("first_name")).required().autocomplete("given-name"),
                Field::new("last_name", "Nom", "text", form.get("last_name")).required().autocomplete("family-name"),
                Field::new("email", "Adresse électronique professionnelle", "email", form.get("email"))
                    .required()
                    .autocomplete("email")
                    .hint("Format attendu : prenom.nom@administration.gouv.fr"),
                Field::new("phone", "Téléphone", "tel", form.get("phone")).autocomplete("tel"),
            ],
        ),
        Section {
            title: "Votre service".into(),
            intro: "Choisissez votre service dans la liste. S'il n'y figure pas, laissez la liste sur « non listé » et donnez son nom ; de même pour son entité.".into(),
            fields: vec![
                Field::new("service", "Service", "select", form.get("service"))
                    .groups(service_groups(services, "— Mon service n'est pas listé —")),
                Field::new("service_name", "Nom du service non listé", "text", form.get("service_name"))
                    .hint("Par exemple : Bureau des ressources humaines"),
                Field::new("entity_name", "Entité du service non listé", "select", form.get("entity_name"))
                    .options(entities),
                Field::new("entity_new", "Ou nom de l'entité non listée", "text", form.get("entity_new"))
                    .hint("Direction, établissement ou pôle, s'il n'est pas dans la liste"),
            ],
        },
        Section::new("", vec![crate::http::pages::terms_field(form)]),
    ];
    page.links = vec![(
        links::TERMS.into(),
        "Lire les conditions générales d'utilisation".into(),
    )];
    page
}

pub(super) fn request_step1(v: &Visitor, error: Option<String>) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[("Demande de compte recruteur", None)]),
        "Demande de compte recruteur",
        links::RECRUITER_REQUEST,
        vec![Field::new("administration", "Votre administration", "select", "")
            .required()
            .hint("Versant, puis administration de rattachement")
            .groups(administration_groups("— Choisir une administration —"))],
        "Continuer",
    )
    .intro("Étape 1 sur 2 : votre administration. L'étape suivante propose ses entités et ses services.");
    page.method = "get";
    page.errors.extend(error);
    page
}

/// The account request: step 1 (the administration), then step 2 (identity and service).
#[utoipa::path(get, path = links::RECRUITER_REQUEST, tag = "portal", params(RequestQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn request_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<RequestQuery>,
) -> Response {
    if q.administration.is_empty() {
        return render(&v, StatusCode::OK, request_step1(&v, None));
    }
    let adm = q.administration.clone();
    match with_backoffice(&state, move |b| b.services(Some(&adm))).await {
        Ok(services) => render(
            &v,
            StatusCode::OK,
            request_step2(&v, &q.administration, &services, &Form::default()),
        ),
        Err(e) => render(
            &v,
            status_of(&e),
            request_step1(&v, Some(crate::http::pages::explain(&e))),
        ),
    }
}

/// Sends the request; administrators are mailed.
#[utoipa::path(post, path = links::RECRUITER_REQUEST, tag = "portal", params(RequestQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Sent (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
pub(super) async fn request_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::extract::ClientIp(client): crate::http::extract::ClientIp,
    Query(q): Query<RequestQuery>,
    body: Bytes,
) -> PageResult {
    let form = v.form(&body)?;
    let service = form.opt("service").and_then(|s| s.parse::<u64>().ok());
    let request = RecruiterRequest {
        cgu: crate::http::pages::terms_ticked(&form),
        civility: form.opt("civility"),
        first_name: form.opt("first_name"),
        last_name: form.opt("last_name"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        service,
        administration: service.is_none().then(|| q.administration.clone()),
        service_name: if service.is_none() {
            Some(form.get("service_name").to_string())
        } else {
            None
        },
        entity_name: if service.is_none() {
            form.opt("entity_new").or_else(|| form.opt("entity_name"))
        } else {
            None
        },
    };
    let adm = q.administration.clone();
    let email = form.get("email").to_string();
    let allowed = state.mail_allowed(&email, client);
    let result = with_backoffice(&state, move |b| {
        let services = b.services(Some(&adm))?;
        match allowed {
            Ok(()) => Ok((b.request_recruiter(request), services)),
            Err(e) => Ok((Err(e), services)),
        }
    })
    .await;
    if let Ok((Ok(_), _)) = &result {
        state.mail_sent(&email, client);
    }
    Ok(match result {
        Ok((Ok(a), _)) => message_page(
            &v,
            StatusCode::CREATED,
            "Demande envoyée",
            &format!(
                "Votre demande est enregistrée. Un administrateur va l'examiner ; la réponse sera envoyée à {}.",
                a.email
            ),
        ),
        Ok((Err(e), services)) => render(
            &v,
            status_of(&e),
            request_step2(&v, &q.administration, &services, &form).with_error(&e),
        ),
        Err(e) => render(
            &v,
            status_of(&e),
            request_step1(&v, Some(crate::http::pages::explain(&e))),
        ),
    })
}
