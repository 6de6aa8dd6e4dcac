//! The recruiter's back office in pages: the account request (the organisation tree in steps
//! that need no JavaScript), "Mes offres", the offer form, its lifecycle actions, the renewal
//! of its diffusion, its attachments and its history.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{
    Ctx, Field, Form, FormPage, OptGroup, Section, Visitor, date_fr, error_page, message_page,
    render, see_other,
};
use crate::backoffice::{Backoffice, MAX_ATTACHMENTS, RecruiterRequest, Refusal};
use crate::domain::account::{Account, Role, Service};
use crate::domain::offer::iso_date;
use crate::domain::{Facet, Offer, OfferInput, OfferState, referentials};
use crate::error::Error;
use crate::http::error::status_of;
use crate::http::{AppState, with_backoffice};
use crate::links::offer_path;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_page, request_submit))
        .routes(routes!(offers_page))
        .routes(routes!(new_offer_page, new_offer_submit))
        .routes(routes!(offer_page, offer_submit))
        .routes(routes!(offer_action))
        .routes(routes!(renew))
        .routes(routes!(delete_page, delete_submit))
        .routes(routes!(upload).layer(DefaultBodyLimit::max(16 * 1024 * 1024)))
        .routes(routes!(download))
        .routes(routes!(remove_attachment))
}

// ----- the account request -----

/// Options of a facet's referential (code, label).
pub(crate) fn facet_options(facet: Facet) -> Vec<(String, String)> {
    let v = facet.values();
    (0..v.len() as u16)
        .map(|i| (v.code(i).to_string(), v.label(i).to_string()))
        .collect()
}

fn versant_label(v: &str) -> &'static str {
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
fn service_groups(services: &[Service], empty: &str) -> Vec<OptGroup> {
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
    administration: String,
}

fn request_step2(v: &Visitor, administration: &str, services: &[Service], form: &Form) -> FormPage {
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
            ("Demande de compte recruteur", Some("/recruteur/demande")),
            (&adm, None),
        ]),
        "Demande de compte recruteur",
        &format!(
            "/recruteur/demande?{}",
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
    ];
    page
}

fn request_step1(v: &Visitor, error: Option<String>) -> FormPage {
    let mut page = FormPage::new(
        v.ctx(&[("Demande de compte recruteur", None)]),
        "Demande de compte recruteur",
        "/recruteur/demande",
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
#[utoipa::path(get, path = "/recruteur/demande", tag = "portal", params(RequestQuery),
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn request_page(
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
            request_step1(&v, Some(super::explain(&e))),
        ),
    }
}

/// Sends the request; administrators are mailed.
#[utoipa::path(post, path = "/recruteur/demande", tag = "portal", params(RequestQuery),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 201, description = "Sent (HTML)", content_type = "text/html", body = String),
              (status = 422, description = "The form again, with the errors", content_type = "text/html", body = String)))]
async fn request_submit(
    State(state): State<AppState>,
    v: Visitor,
    crate::http::client::ClientIp(client): crate::http::client::ClientIp,
    Query(q): Query<RequestQuery>,
    body: Bytes,
) -> Response {
    let form = match v.form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let service = form.opt("service").and_then(|s| s.parse::<u64>().ok());
    let request = RecruiterRequest {
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
    match result {
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
            request_step1(&v, Some(super::explain(&e))),
        ),
    }
}

// ----- Mes offres -----

pub(crate) fn state_name(s: OfferState) -> &'static str {
    match s {
        OfferState::Draft => "Brouillon",
        OfferState::Published => "Publiée",
        OfferState::Archived => "Archivée",
        OfferState::Filled => "Pourvue",
    }
}

pub(crate) fn state_badge(s: OfferState) -> &'static str {
    match s {
        OfferState::Draft => "fr-badge--info",
        OfferState::Published => "fr-badge--success",
        OfferState::Archived => "",
        OfferState::Filled => "fr-badge--new",
    }
}

pub(crate) struct Row {
    pub reference: String,
    pub title: String,
    pub url: String,
    pub state: &'static str,
    pub badge: &'static str,
    pub service: String,
    pub published: String,
    pub unpublish_on: String,
    pub changed: String,
    pub changed_by: String,
    pub actions: Actions,
}

/// Buttons of a row or a page: (form action, step, label).
pub(crate) type Actions = Vec<(String, &'static str, &'static str)>;

/// How a list of offers names its people and services and which buttons its rows get.
pub(crate) struct Lookups<'a> {
    pub names: &'a dyn Fn(u64) -> String,
    pub services: &'a dyn Fn(&Offer) -> String,
    pub actions: &'a dyn Fn(&Offer) -> Actions,
}

#[derive(Template)]
#[template(path = "offers_list.html")]
pub(crate) struct OffersList {
    pub ctx: Ctx,
    pub title: String,
    pub notice: Option<String>,
    pub new_url: String,
    pub action: String,
    pub states: Vec<(String, String)>,
    pub state: String,
    pub q: String,
    pub total: usize,
    pub rows: Vec<Row>,
    pub page: usize,
    pub pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

/// The filter of a list of offers.
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct ListQuery {
    /// `draft`, `published`, `archived`, `filled` or empty for all.
    #[serde(default)]
    state: String,
    /// Words of the title or a reference.
    #[serde(default)]
    q: String,
    /// 1-based page.
    #[serde(default)]
    page: Option<usize>,
    /// What was just done (shown once).
    #[serde(default)]
    fait: String,
}

impl ListQuery {
    /// The state filter.
    pub fn state(&self) -> crate::Result<Option<OfferState>> {
        match self.state.as_str() {
            "" => Ok(None),
            s => OfferState::parse("state", s)
                .map(Some)
                .map_err(|e| Error::BadRequest(crate::ValidationErrors(vec![e]))),
        }
    }

    /// What was just done.
    pub fn done(&self) -> &str {
        &self.fait
    }
}

const PER_PAGE: usize = 20;

/// True when `o` matches the words or the reference `q` (accents and case ignored).
pub(crate) fn offer_matches(o: &Offer, q: &str) -> bool {
    let fold = |s: &str| crate::domain::referentials::fold_label(s);
    let q = fold(q.trim());
    if q.is_empty() {
        return true;
    }
    let reference = fold(&o.reference.to_string());
    let title = fold(&o.fields.title);
    reference.contains(&q) || q.split_whitespace().all(|w| title.contains(w))
}

/// A page of a list of offers, with the filter and paging of `q`.
pub(crate) fn offers_list(
    ctx: Ctx,
    title: &str,
    base: &str,
    offers: Vec<Offer>,
    q: &ListQuery,
    look: Lookups<'_>,
) -> OffersList {
    let matching: Vec<Offer> = offers
        .into_iter()
        .filter(|o| offer_matches(o, &q.q))
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let url = |p: usize| {
        let mut pairs = vec![("state", q.state.clone()), ("q", q.q.clone())];
        pairs.retain(|(_, v)| !v.is_empty());
        if p > 1 {
            pairs.push(("page", p.to_string()));
        }
        crate::links::with_query(
            base,
            &serde_urlencoded::to_string(&pairs).unwrap_or_default(),
        )
    };
    let rows = matching
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|o| {
            let last = o.audit.last();
            Row {
                reference: o.reference.to_string(),
                title: o.fields.title.clone(),
                url: format!("/recruteur/offres/{}", o.reference),
                state: state_name(o.state),
                badge: state_badge(o.state),
                service: (look.services)(o),
                published: o.published_at.map(date_fr).unwrap_or_default(),
                unpublish_on: o
                    .fields
                    .unpublish_on
                    .format(&time::macros::format_description!("[day]/[month]/[year]"))
                    .unwrap_or_default(),
                changed: date_fr(o.updated_at),
                changed_by: last
                    .and_then(|e| e.actor)
                    .map(look.names)
                    .unwrap_or_default(),
                actions: (look.actions)(o),
            }
        })
        .collect();
    let mut states = vec![(String::new(), "Tous les états".to_string())];
    for s in [
        OfferState::Draft,
        OfferState::Published,
        OfferState::Filled,
        OfferState::Archived,
    ] {
        states.push((format!("{s:?}").to_lowercase(), state_name(s).to_string()));
    }
    OffersList {
        ctx,
        title: title.into(),
        notice: None,
        new_url: String::new(),
        action: base.into(),
        states,
        state: q.state.clone(),
        q: q.q.clone(),
        total,
        rows,
        page,
        pages,
        prev_url: (page > 1).then(|| url(page - 1)),
        next_url: (page < pages).then(|| url(page + 1)),
    }
}

/// The lifecycle steps a recruiter may take from a state, as (url, step, label).
fn steps(o: &Offer) -> Actions {
    let url = format!("/recruteur/offres/{}/action", o.reference);
    let mut out = Vec::new();
    match o.state {
        OfferState::Draft => out.push("publish"),
        OfferState::Published => out.extend(["filled", "archive"]),
        OfferState::Filled => out.extend(["unfill", "archive"]),
        OfferState::Archived => out.push("unarchive"),
    }
    out.push("clone");
    out.into_iter()
        .map(|s| {
            let label = match s {
                "publish" => "Publier",
                "filled" => "Marquer pourvue",
                "unfill" => "Rouvrir",
                "archive" => "Archiver",
                "unarchive" => "Republier",
                _ => "Dupliquer",
            };
            (url.clone(), s, label)
        })
        .collect()
}

fn done_notice(fait: &str) -> Option<String> {
    let text = match fait {
        "publish" => "L'offre est publiée.",
        "archive" => "L'offre est archivée.",
        "unarchive" => "L'offre est publiée de nouveau.",
        "filled" => "L'offre est marquée pourvue.",
        "unfill" => "L'offre est rouverte.",
        "clone" => "Copie créée : c'est un nouveau brouillon.",
        "created" => "Brouillon enregistré.",
        "saved" => "Modifications enregistrées.",
        "renew" => "Diffusion renouvelée.",
        "deleted" => "Brouillon supprimé.",
        "attached" => "Document joint.",
        "removed" => "Document retiré.",
        _ => return None,
    };
    Some(text.into())
}

/// Names of accounts by id, and the recruiter's services.
fn lookups(
    b: &crate::backoffice::Backoffice<'_>,
    who: &Account,
) -> crate::Result<(std::collections::HashMap<u64, String>, Vec<Service>)> {
    let names = b.account_names()?;
    let services = who
        .services
        .iter()
        .filter_map(|id| b.service(*id).ok().flatten())
        .collect();
    Ok((names, services))
}

/// "Mes offres": the offers of the caller's services.
#[utoipa::path(get, path = "/recruteur/offres", tag = "portal", params(ListQuery),
    responses((status = 200, description = "The list (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
async fn offers_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let filter = match q.state() {
        Ok(f) => f,
        Err(e) => return error_page(&v, &e),
    };
    let w = who.clone();
    let loaded = with_backoffice(&state, move |b| {
        Ok((b.offers(&w, filter)?, lookups(b, &w)?))
    })
    .await;
    let (offers, (names, services)) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&v, &e),
    };
    let mut list = offers_list(
        v.ctx(&[("Mes offres", None)]),
        "Mes offres",
        "/recruteur/offres",
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o: &Offer| {
                o.service_id
                    .and_then(|id| services.iter().find(|s| s.id == id))
                    .map_or(o.fields.service.clone(), |s| s.name.clone())
            },
            actions: &steps,
        },
    );
    list.new_url = "/recruteur/offres/nouvelle".into();
    list.notice = done_notice(&q.fait);
    render(&v, StatusCode::OK, list)
}

// ----- the offer form -----

const LANGUAGES: [&str; 10] = [
    "Anglais",
    "Allemand",
    "Espagnol",
    "Italien",
    "Portugais",
    "Arabe",
    "Chinois",
    "Russe",
    "Langue des signes française",
    "Breton",
];

/// The offer form's values: from a submitted form, or from a stored offer.
struct Values(Form);

impl Values {
    fn of_offer(o: &Offer) -> Values {
        let f = &o.fields;
        let mut pairs: Vec<(String, String)> = vec![
            ("title".into(), f.title.clone()),
            ("contract".into(), f.contract.code().into()),
            ("diploma".into(), f.diploma.code().into()),
            ("domain".into(), f.domain.code().into()),
            (
                "service".into(),
                o.service_id.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("service_label".into(), f.service.clone()),
            ("country".into(), f.country.code().into()),
            (
                "region".into(),
                f.region.map(|r| r.code().to_string()).unwrap_or_default(),
            ),
            (
                "department".into(),
                f.department
                    .map(|d| d.code().to_string())
                    .unwrap_or_default(),
            ),
            ("location".into(), f.location.clone().unwrap_or_default()),
            (
                "employer_description".into(),
                f.employer_description.clone().unwrap_or_default(),
            ),
            ("description".into(), f.description.clone()),
            ("profile".into(), f.profile.clone().unwrap_or_default()),
            (
                "conditions".into(),
                f.conditions.clone().unwrap_or_default(),
            ),
            (
                "extra_info".into(),
                f.extra_info.clone().unwrap_or_default(),
            ),
            ("comments".into(), f.comments.clone().unwrap_or_default()),
            ("start".into(), f.start.to_string()),
            (
                "duration_months".into(),
                f.duration_months.map(|d| d.to_string()).unwrap_or_default(),
            ),
            (
                "duration_min_months".into(),
                f.duration_min_months
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            (
                "duration_max_months".into(),
                f.duration_max_months
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            (
                "contact_email".into(),
                f.contact_email.clone().unwrap_or_default(),
            ),
            (
                "contact_url".into(),
                f.contact_url.clone().unwrap_or_default(),
            ),
            (
                "contact_phone".into(),
                f.contact_phone.clone().unwrap_or_default(),
            ),
            ("unpublish_on".into(), iso_date::format(f.unpublish_on)),
        ];
        let mut others = Vec::new();
        for l in f
            .languages
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            if LANGUAGES.contains(&l) {
                pairs.push(("languages".into(), l.into()));
            } else {
                others.push(l);
            }
        }
        pairs.push(("languages_other".into(), others.join(", ")));
        Values(Form(pairs))
    }

    /// The API body of the form.
    fn input(&self) -> OfferInput {
        let f = &self.0;
        let mut languages = f.all("languages");
        languages.extend(
            f.get("languages_other")
                .split(',')
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        );
        let months = |n: &str| f.opt(n).map(serde_json::Value::String);
        OfferInput {
            title: f.opt("title"),
            contract: f.opt("contract"),
            diploma: f.opt("diploma"),
            domain: f.opt("domain"),
            administration: None,
            service: f.opt("service").map(serde_json::Value::String),
            service_label: f.opt("service_label"),
            country: f.opt("country"),
            region: f.opt("region"),
            department: f.opt("department"),
            location: f.opt("location"),
            description: f.opt("description"),
            employer_description: f.opt("employer_description"),
            profile: f.opt("profile"),
            conditions: f.opt("conditions"),
            languages: (!languages.is_empty()).then(|| serde_json::json!(languages)),
            extra_info: f.opt("extra_info"),
            comments: f.opt("comments"),
            start: f.opt("start"),
            duration_months: months("duration_months"),
            duration_min_months: months("duration_min_months"),
            duration_max_months: months("duration_max_months"),
            contact_email: f.opt("contact_email"),
            contact_url: f.opt("contact_url"),
            contact_phone: f.opt("contact_phone"),
            unpublish_on: f.opt("unpublish_on"),
            state: None,
            published_at: None,
        }
    }
}

fn with_empty(first: &str, mut options: Vec<(String, String)>) -> Vec<(String, String)> {
    options.insert(0, (String::new(), first.to_string()));
    options
}

fn department_groups() -> Vec<OptGroup> {
    let d = Facet::Department.values();
    let mut groups = vec![OptGroup {
        label: String::new(),
        options: vec![(String::new(), "— Choisir —".into())],
    }];
    for r in &referentials().regions {
        groups.push(OptGroup {
            label: r.label.clone(),
            options: r
                .departments
                .iter()
                .filter_map(|code| {
                    d.ordinal(code)
                        .map(|o| (code.clone(), format!("{} – {}", code, d.label(o))))
                })
                .collect(),
        });
    }
    groups
}

/// The sections of the offer form, in the recruiter manual's order, with its help texts.
fn offer_sections(values: &Values, services: &[Service]) -> Vec<Section> {
    let v = |n: &str| values.0.get(n).to_string();
    let mut languages = Vec::new();
    let chosen = values.0.all("languages");
    for l in LANGUAGES {
        let mut f = Field::new(
            "languages",
            l,
            "checkbox",
            if chosen.iter().any(|c| c == l) {
                "on"
            } else {
                ""
            },
        );
        f.value = if chosen.iter().any(|c| c == l) {
            "on".into()
        } else {
            String::new()
        };
        languages.push(f);
    }
    let mut service_options: Vec<(String, String)> = services
        .iter()
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    if service_options.len() != 1 {
        service_options.insert(0, (String::new(), "— Choisir —".into()));
    }
    let mut s_lang = Section::new("Langues", Vec::new());
    s_lang.intro = "Les langues demandées pour le poste.".into();
    vec![
        Section::new("L'offre", vec![
            Field::new("title", "Intitulé de l'offre", "text", &v("title")).required()
                .hint("200 caractères au plus. Par exemple : Apprenti(e) juriste en droit public (F/H)"),
            Field::new("contract", "Type de contrat", "select", &v("contract")).required()
                .options(with_empty("— Choisir —", facet_options(Facet::Contract))),
            Field::new("diploma", "Niveau de diplôme préparé", "select", &v("diploma")).required()
                .options(with_empty("— Choisir —", facet_options(Facet::Diploma))),
            Field::new("domain", "Domaine", "select", &v("domain")).required()
                .options(with_empty("— Choisir —", facet_options(Facet::Domain))),
            Field::new("service", "Service qui recrute", "select", &v("service")).required()
                .options(service_options)
                .hint("Un de vos services : il gère l'offre."),
            Field::new("service_label", "Intitulé du service affiché sur l'offre", "text", &v("service_label"))
                .hint("Par défaut le nom du service. Vous pouvez changer cet intitulé à votre convenance."),
            Field::new("start", "Date de début", "month", &v("start")).required().hint("Mois de début, au format AAAA-MM"),
            Field::new("duration_months", "Durée (en mois)", "number", &v("duration_months")).hint("De 1 à 36 mois ; ou une durée minimale et maximale ci-dessous"),
            Field::new("duration_min_months", "Durée minimale (en mois)", "number", &v("duration_min_months")),
            Field::new("duration_max_months", "Durée maximale (en mois)", "number", &v("duration_max_months")),
            Field::new("unpublish_on", "Fin de diffusion", "date", &v("unpublish_on")).required()
                .hint("L'offre n'est plus diffusée à partir de ce jour ; au plus un an après aujourd'hui."),
        ]),
        Section::new("Localisation", vec![
            Field::new("country", "Pays", "select", if v("country").is_empty() { "FR" } else { values.0.get("country") }).required()
                .options(facet_options(Facet::Country))
                .hint("Hors de France, seuls les stages sont possibles."),
            Field::new("region", "Région", "select", &v("region"))
                .options(with_empty("— Choisir —", facet_options(Facet::Region)))
                .hint("Obligatoire en France"),
            Field::new("department", "Département", "select", &v("department"))
                .groups(department_groups())
                .hint("Obligatoire en France ; il doit appartenir à la région"),
            Field::new("location", "Lieu (ville, adresse)", "text", &v("location")),
        ]),
        Section::new("Description", vec![
            Field::new("employer_description", "Présentation de l'employeur", "textarea", &v("employer_description")),
            Field::new("description", "Missions", "textarea", &v("description")).required()
                .hint("Ce que fera l'apprenti(e) ou le (la) stagiaire"),
            Field::new("profile", "Profil recherché", "textarea", &v("profile")),
            Field::new("conditions", "Conditions particulières d'exercice", "textarea", &v("conditions")),
            Field::new("extra_info", "Informations complémentaires", "textarea", &v("extra_info")),
            Field::new("comments", "Commentaires", "textarea", &v("comments")).hint("Visibles des candidats"),
        ]),
        {
            s_lang.fields = languages;
            s_lang.fields.push(Field::new("languages_other", "Autres langues", "text", &v("languages_other")).hint("Séparées par des virgules"));
            s_lang
        },
        Section::new("Candidature", vec![
            Field::new("contact_email", "Adresse électronique pour postuler", "email", &v("contact_email"))
                .hint("Une adresse électronique ou une adresse web est obligatoire"),
            Field::new("contact_url", "Adresse web pour postuler", "url", &v("contact_url")).hint("Commençant par https://"),
            Field::new("contact_phone", "Téléphone du contact", "tel", &v("contact_phone")),
        ]),
    ]
}

pub(crate) struct AttachmentView {
    name: String,
    kind: &'static str,
    size: String,
    url: String,
    remove_url: String,
}

#[derive(Template)]
#[template(path = "offer_edit.html")]
struct OfferEdit {
    ctx: Ctx,
    form: FormPage,
    state: &'static str,
    badge: &'static str,
    public_url: String,
    actions: Vec<(String, &'static str, &'static str)>,
    delete_url: String,
    renew_action: String,
    renew_value: String,
    renew_error: Option<String>,
    attachments_action: String,
    attachments: Vec<AttachmentView>,
    upload_error: Option<String>,
    max_size: String,
    history: Vec<String>,
}

fn size_fr(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} ko", bytes.div_ceil(1024))
    }
}

fn kind_of(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF",
        "application/msword" => "DOC",
        "application/vnd.oasis.opendocument.text" => "ODT",
        _ => "DOCX",
    }
}

fn audit_fr(action: &str) -> String {
    let table = [
        ("created as a copy of ", "créée comme copie de "),
        ("created", "créée"),
        ("updated", "modifiée"),
        ("published", "publiée"),
        ("unarchived", "republiée"),
        (
            "archived automatically (end of diffusion)",
            "archivée automatiquement (fin de diffusion)",
        ),
        (
            "archived by moderation: ",
            "retirée par un administrateur : ",
        ),
        ("archived", "archivée"),
        ("marked filled", "marquée pourvue"),
        ("open again", "rouverte"),
        ("diffusion renewed until ", "diffusion renouvelée jusqu'au "),
        ("attached ", "document joint : "),
        ("removed attachment ", "document retiré : "),
    ];
    for (en, fr) in table {
        if let Some(rest) = action.strip_prefix(en) {
            return format!("{fr}{rest}");
        }
    }
    action.to_string()
}

struct EditState {
    offer: Option<Offer>,
    services: Vec<Service>,
    names: std::collections::HashMap<u64, String>,
}

fn edit_page(v: &Visitor, st: &EditState, values: &Values, max_bytes: usize) -> OfferEdit {
    let title = match &st.offer {
        Some(o) => format!("Offre {} – {}", o.reference, o.fields.title),
        None => "Nouvelle offre".to_string(),
    };
    let action = match &st.offer {
        Some(o) => format!("/recruteur/offres/{}", o.reference),
        None => "/recruteur/offres/nouvelle".into(),
    };
    let crumb = st
        .offer
        .as_ref()
        .map_or("Nouvelle offre".to_string(), |o| o.reference.to_string());
    let mut form = FormPage::new(v.ctx(&[]), &title, &action, Vec::new(), "Enregistrer");
    form.sections = offer_sections(values, &st.services);
    form.intro = "Les champs marqués d'un astérisque sont obligatoires. Une offre est enregistrée comme brouillon ; « Publier » la rend visible des candidats.".into();
    form.buttons = match &st.offer {
        Some(o) if o.state != OfferState::Draft => {
            vec![("action", "save", "Enregistrer les modifications")]
        }
        _ => vec![
            ("action", "save", "Enregistrer le brouillon"),
            ("action", "publish", "Publier"),
        ],
    };
    let (
        state,
        badge,
        public_url,
        actions,
        delete_url,
        renew_action,
        attachments_action,
        attachments,
        history,
    ) = match &st.offer {
        Some(o) => (
            state_name(o.state),
            state_badge(o.state),
            if o.state == OfferState::Published {
                offer_path(&o.reference.to_string())
            } else {
                String::new()
            },
            steps(o),
            if o.state == OfferState::Draft {
                format!("/recruteur/offres/{}/supprimer", o.reference)
            } else {
                String::new()
            },
            if o.state == OfferState::Draft {
                String::new()
            } else {
                format!("/recruteur/offres/{}/renouveler", o.reference)
            },
            format!("/recruteur/offres/{}/pieces-jointes", o.reference),
            o.fields
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| AttachmentView {
                    name: a.name.clone(),
                    kind: kind_of(&a.content_type),
                    size: size_fr(a.size),
                    url: format!("/recruteur/offres/{}/pieces-jointes/{}", o.reference, i + 1),
                    remove_url: format!(
                        "/recruteur/offres/{}/pieces-jointes/{}/retirer",
                        o.reference,
                        i + 1
                    ),
                })
                .collect(),
            o.audit
                .iter()
                .rev()
                .map(|e| {
                    let who = e
                        .actor
                        .and_then(|id| st.names.get(&id).cloned())
                        .unwrap_or_else(|| "le système".into());
                    format!("{} – {} par {who}", date_fr(e.at), audit_fr(&e.action))
                })
                .collect(),
        ),
        None => (
            "",
            "",
            String::new(),
            Vec::new(),
            String::new(),
            String::new(),
            String::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let ctx = v.ctx(&[("Mes offres", Some("/recruteur/offres")), (&crumb, None)]);
    OfferEdit {
        ctx,
        form,
        state,
        badge,
        public_url,
        actions,
        delete_url,
        renew_action,
        renew_value: String::new(),
        renew_error: None,
        attachments_action,
        attachments,
        upload_error: None,
        max_size: size_fr(max_bytes as u64),
        history,
    }
}

async fn load(
    state: &AppState,
    who: &Account,
    reference: Option<String>,
) -> crate::Result<EditState> {
    let w = who.clone();
    with_backoffice(state, move |b| {
        let offer = reference.map(|r| b.offer(&w, &r)).transpose()?;
        let (names, services) = lookups(b, &w)?;
        Ok(EditState {
            offer,
            services,
            names,
        })
    })
    .await
}

/// The page of a stored offer of the caller's services, with `tweak` applied (a notice, an
/// error beside one of its forms), answered with `status`.
async fn stored_offer_page(
    state: &AppState,
    v: &Visitor,
    who: &Account,
    reference: String,
    status: StatusCode,
    tweak: impl FnOnce(&mut OfferEdit),
) -> Response {
    let st = match load(state, who, Some(reference)).await {
        Ok(st) => st,
        Err(e) => return error_page(v, &e),
    };
    let Some(offer) = st.offer.as_ref() else {
        return error_page(v, &Error::NotFound("offer".into()));
    };
    let values = Values::of_offer(offer);
    let mut page = edit_page(v, &st, &values, state.config.max_attachment_bytes);
    tweak(&mut page);
    render(v, status, page)
}

/// The form of a new offer.
#[utoipa::path(get, path = "/recruteur/offres/nouvelle", tag = "portal",
    responses((status = 200, description = "The form (HTML)", content_type = "text/html", body = String)))]
async fn new_offer_page(State(state): State<AppState>, v: Visitor) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres/nouvelle") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    match load(&state, &who, None).await {
        Ok(st) => {
            let mut values = Values(Form::default());
            if let [only] = st.services.as_slice() {
                values.0.0.push(("service".into(), only.id.to_string()));
            }
            render(
                &v,
                StatusCode::OK,
                edit_page(&v, &st, &values, state.config.max_attachment_bytes),
            )
        }
        Err(e) => error_page(&v, &e),
    }
}

/// Creates the offer: a draft, or published at once with "Publier".
#[utoipa::path(post, path = "/recruteur/offres/nouvelle", tag = "portal",
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Created: to its page"),
              (status = 422, description = "The form again, faulty fields marked", content_type = "text/html", body = String)))]
async fn new_offer_submit(State(state): State<AppState>, v: Visitor, body: Bytes) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres/nouvelle") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let values = Values(Form::parse(&body));
    if let Err(r) = v.check_csrf(&values.0) {
        return r;
    }
    let mut input = values.input();
    if values.0.get("action") == "publish" {
        input.state = Some("published".into());
    }
    let w = who.clone();
    match with_backoffice(&state, move |b| b.create_offer(&w, &input)).await {
        Ok((o, _)) => see_other(&format!(
            "/recruteur/offres/{}?fait={}",
            o.reference,
            if o.state == OfferState::Published {
                "publish"
            } else {
                "created"
            }
        )),
        Err(e) => match load(&state, &who, None).await {
            Ok(st) => {
                let mut page = edit_page(&v, &st, &values, state.config.max_attachment_bytes);
                page.form = page.form.with_error(&e);
                render(&v, status_of(&e), page)
            }
            Err(e) => error_page(&v, &e),
        },
    }
}

/// What was just done on an offer's page.
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
pub struct DoneQuery {
    /// What was just done (shown once).
    #[serde(default)]
    fait: String,
}

/// An offer of the caller's services: the form, its actions, attachments and history.
#[utoipa::path(get, path = "/recruteur/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Reference"), DoneQuery),
    responses((status = 200, description = "The offer's page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not an offer of the caller's services (HTML)", content_type = "text/html", body = String)))]
async fn offer_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let who = match v.require(Role::Recruiter, &format!("/recruteur/offres/{reference}")) {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    stored_offer_page(&state, &v, &who, reference, StatusCode::OK, |page| {
        page.form.notice = done_notice(&q.fait)
    })
    .await
}

/// Saves the offer's fields ("Publier" also publishes a draft).
#[utoipa::path(post, path = "/recruteur/offres/{reference}", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Saved: back to its page"),
              (status = 422, description = "The form again, faulty fields marked", content_type = "text/html", body = String)))]
async fn offer_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    let who = match v.require(Role::Recruiter, &format!("/recruteur/offres/{reference}")) {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let values = Values(Form::parse(&body));
    if let Err(r) = v.check_csrf(&values.0) {
        return r;
    }
    let input = values.input();
    let publish = values.0.get("action") == "publish";
    let (w, r) = (who.clone(), reference.clone());
    let result = with_backoffice(&state, move |b| {
        let (o, _) = b.replace_offer(&w, &r, &input)?;
        if publish && o.state == OfferState::Draft {
            b.transition(&w, &r, "publish")?;
        }
        Ok(o)
    })
    .await;
    match result {
        Ok(_) => see_other(&format!(
            "/recruteur/offres/{reference}?fait={}",
            if publish { "publish" } else { "saved" }
        )),
        Err(e) => match load(&state, &who, Some(reference)).await {
            Ok(st) => {
                let mut page = edit_page(&v, &st, &values, state.config.max_attachment_bytes);
                page.form = page.form.with_error(&e);
                render(&v, status_of(&e), page)
            }
            Err(e2) => error_page(
                &v,
                if matches!(e2, Error::NotFound(_)) {
                    &e2
                } else {
                    &e
                },
            ),
        },
    }
}

/// One lifecycle step from a button (`do` = publish, archive, unarchive, filled, unfill, clone).
#[utoipa::path(post, path = "/recruteur/offres/{reference}/action", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the offer (or to the copy)"),
              (status = 409, description = "Not possible in this state (HTML)", content_type = "text/html", body = String)))]
async fn offer_action(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(&state, &v, &body, move |b, who, form| {
        let step = form.get("do").to_string();
        let (o, _) = if step == "clone" {
            b.clone_offer(who, &reference)?
        } else {
            b.transition(who, &reference, &step)?
        };
        Ok(format!("/recruteur/offres/{}?fait={step}", o.reference))
    })
    .await
}

/// A button of the back office: the recruiter's form checked, the work done, then a redirect
/// to where `f` says, or the error's page.
async fn act(
    state: &AppState,
    v: &Visitor,
    body: &[u8],
    f: impl FnOnce(&Backoffice<'_>, &Account, &Form) -> crate::Result<String> + Send + 'static,
) -> Response {
    let (who, form) = match v.changing(Role::Recruiter, "/recruteur/offres", body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match with_backoffice(state, move |b| f(b, &who, &form)).await {
        Ok(to) => see_other(&to),
        Err(e) => error_page(v, &e),
    }
}

/// Renews the diffusion: a new end date in one step.
#[utoipa::path(post, path = "/recruteur/offres/{reference}/renouveler", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Renewed: back to the offer"),
              (status = 422, description = "The page again, the date marked", content_type = "text/html", body = String)))]
async fn renew(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    let (who, form) = match v.changing(Role::Recruiter, "/recruteur/offres", &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let date = form.get("unpublish_on").to_string();
    let (w, r, d) = (who.clone(), reference.clone(), date.clone());
    match with_backoffice(&state, move |b| b.renew(&w, &r, &d)).await {
        Ok(_) => see_other(&format!("/recruteur/offres/{reference}?fait=renew")),
        Err(e) => {
            stored_offer_page(&state, &v, &who, reference, status_of(&e), |page| {
                page.renew_value = date;
                page.renew_error = Some(super::explain(&e));
            })
            .await
        }
    }
}

/// Asks to confirm the deletion of a draft.
#[utoipa::path(get, path = "/recruteur/offres/{reference}/supprimer", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The confirmation (HTML)", content_type = "text/html", body = String)))]
async fn delete_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let r = reference.clone();
    match with_backoffice(&state, move |b| b.offer(&who, &r)).await {
        Ok(o) => {
            let mut page = FormPage::new(
                v.ctx(&[
                    ("Mes offres", Some("/recruteur/offres")),
                    (&reference, Some(&format!("/recruteur/offres/{reference}"))),
                    ("Supprimer", None),
                ]),
                "Supprimer ce brouillon ?",
                &format!("/recruteur/offres/{reference}/supprimer"),
                Vec::new(),
                "Supprimer définitivement",
            )
            .intro(&format!(
                "Le brouillon {} « {} » sera supprimé ; cette action est définitive.",
                o.reference, o.fields.title
            ))
            .links(vec![(
                format!("/recruteur/offres/{reference}"),
                "Annuler et revenir à l'offre".into(),
            )]);
            page.sections.clear();
            render(&v, StatusCode::OK, page)
        }
        Err(e) => error_page(&v, &e),
    }
}

/// Deletes the draft (confirmed).
#[utoipa::path(post, path = "/recruteur/offres/{reference}/supprimer", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Deleted: to Mes offres"),
              (status = 409, description = "Not a draft (HTML)", content_type = "text/html", body = String)))]
async fn delete_submit(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    body: Bytes,
) -> Response {
    act(&state, &v, &body, move |b, who, _| {
        b.delete_offer(who, &reference)?;
        Ok("/recruteur/offres?fait=deleted".into())
    })
    .await
}

/// Adds a document (multipart: `csrf`, then `file`).
#[utoipa::path(post, path = "/recruteur/offres/{reference}/pieces-jointes", tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 303, description = "Attached: back to the offer"),
              (status = 422, description = "The page again, the file refused", content_type = "text/html", body = String)))]
async fn upload(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let mut form = Form::default();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut failure: Option<String> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(bytes) if name == "file" => file = Some((file_name, bytes.to_vec())),
                    Ok(bytes) => form
                        .0
                        .push((name, String::from_utf8_lossy(&bytes).into_owned())),
                    Err(_) => {
                        failure = Some(
                            "Le fichier n'a pas pu être reçu : il est peut-être trop volumineux."
                                .into(),
                        );
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                failure = Some(
                    "Le fichier n'a pas pu être reçu : il est peut-être trop volumineux.".into(),
                );
                break;
            }
        }
    }
    if failure.is_none()
        && let Err(r) = v.check_csrf(&form)
    {
        return r;
    }
    let max = state.config.max_attachment_bytes;
    let outcome: Result<(), String> = match (failure, file) {
        (Some(f), _) => Err(f),
        (None, None) => Err("Choisissez un fichier à joindre.".to_string()),
        (None, Some((_, bytes))) if bytes.is_empty() => {
            Err("Choisissez un fichier à joindre.".to_string())
        }
        (None, Some((name, bytes))) => {
            let (w, r) = (who.clone(), reference.clone());
            match with_backoffice(&state, move |b| b.attach(&w, &r, &name, &bytes, max)).await {
                Ok(Ok(_)) => {
                    return see_other(&format!("/recruteur/offres/{reference}?fait=attached"));
                }
                Ok(Err(Refusal::TooLarge(m))) => Err(format!(
                    "Le fichier dépasse la taille maximale ({}).",
                    size_fr(m as u64)
                )),
                Ok(Err(Refusal::NotADocument)) => {
                    Err("Ce fichier n'est pas un document PDF, DOC, DOCX ou ODT.".into())
                }
                Err(e @ Error::Conflict(_)) => Err(format!(
                    "Une offre a au plus {MAX_ATTACHMENTS} pièces jointes ({}).",
                    super::explain(&e)
                )),
                Err(e) => return error_page(&v, &e),
            }
        }
    };
    let message = outcome.err().unwrap_or_default();
    stored_offer_page(
        &state,
        &v,
        &who,
        reference,
        StatusCode::UNPROCESSABLE_ENTITY,
        |page| page.upload_error = Some(message),
    )
    .await
}

/// Removes the n-th document.
#[utoipa::path(post, path = "/recruteur/offres/{reference}/pieces-jointes/{n}/retirer", tag = "portal",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Removed: back to the offer")))]
async fn remove_attachment(
    State(state): State<AppState>,
    v: Visitor,
    Path((reference, n)): Path<(String, usize)>,
    body: Bytes,
) -> Response {
    act(&state, &v, &body, move |b, who, _| {
        b.remove_attachment(who, &reference, n)?;
        Ok(format!("/recruteur/offres/{reference}?fait=removed"))
    })
    .await
}

/// Downloads the n-th document of an offer of the caller's services (drafts included).
#[utoipa::path(get, path = "/recruteur/offres/{reference}/pieces-jointes/{n}", tag = "portal",
    params(("reference" = String, Path, description = "Reference"), ("n" = usize, Path, description = "1-based")),
    responses((status = 200, description = "The document", content_type = "application/octet-stream", body = String)))]
async fn download(
    State(state): State<AppState>,
    v: Visitor,
    Path((reference, n)): Path<(String, usize)>,
) -> Response {
    let who = match v.require(Role::Recruiter, "/recruteur/offres") {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    let result = with_backoffice(&state, move |b| {
        let o = b.offer(&who, &reference)?;
        let a = n
            .checked_sub(1)
            .and_then(|i| o.fields.attachments.get(i))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no attachment {n}")))?;
        let bytes = crate::backoffice::attachment_bytes(b.store(), &a)?;
        Ok((a, bytes))
    })
    .await;
    match result {
        Ok((a, bytes)) => crate::http::api::offers::attachment_response(&a, bytes),
        Err(e) => error_page(&v, &e),
    }
}
