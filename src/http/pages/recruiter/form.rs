//! The offer form: its fields and sections, its values kept across a refusal, and the edit page around it (attachments, history).

use super::*;
use crate::domain::communes::communes;

pub(super) const LANGUAGES: [&str; 10] = [
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
pub(super) struct Values(pub(super) Form);

impl Values {
    pub(super) fn of_offer(o: &Offer) -> Values {
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
                "commune".into(),
                f.commune
                    .as_deref()
                    .and_then(|c| communes().by_code(c))
                    .map(|c| format!("{} ({})", c.name, c.code))
                    .unwrap_or_default(),
            ),
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
            (
                "publish_on".into(),
                f.publish_on.map(iso_date::format).unwrap_or_default(),
            ),
            (
                "own_reference".into(),
                f.own_reference.clone().unwrap_or_default(),
            ),
            ("paid".into(), yes_no(f.paid)),
            ("pay".into(), f.pay.clone().unwrap_or_default()),
            (
                "working_time".into(),
                f.working_time
                    .map(|w| w.code().to_string())
                    .unwrap_or_default(),
            ),
            ("telework".into(), yes_no(f.telework)),
            ("driving_licence".into(), yes_no(f.driving_licence)),
            ("travel".into(), f.travel.clone().unwrap_or_default()),
            (
                "postal_address".into(),
                f.postal_address.clone().unwrap_or_default(),
            ),
        ];
        for (prefix, c) in [
            ("application_contact", &f.application_contact),
            ("information_contact", &f.information_contact),
        ] {
            let c = c.as_ref();
            pairs.push((
                format!("{prefix}.name"),
                c.map(|c| c.name.clone()).unwrap_or_default(),
            ));
            pairs.push((
                format!("{prefix}.email"),
                c.and_then(|c| c.email.clone()).unwrap_or_default(),
            ));
            pairs.push((
                format!("{prefix}.phone"),
                c.and_then(|c| c.phone.clone()).unwrap_or_default(),
            ));
        }
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
    pub(super) fn input(&self) -> OfferInput {
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
            // The commune as typed (a name, a postal code or a code) read in the department.
            commune: f.opt("commune").map(|text| {
                let department = f.opt("department");
                communes()
                    .find(&text, department.as_deref())
                    .map_or(text, |c| c.code.to_string())
            }),
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
            publish_on: f.opt("publish_on"),
            own_reference: f.opt("own_reference"),
            paid: f.opt("paid").map(serde_json::Value::String),
            pay: f.opt("pay"),
            working_time: f.opt("working_time"),
            telework: f.opt("telework").map(serde_json::Value::String),
            driving_licence: f.opt("driving_licence").map(serde_json::Value::String),
            travel: f.opt("travel"),
            application_contact: Some(crate::domain::offer::ContactInput {
                name: f.opt("application_contact.name"),
                email: f.opt("application_contact.email"),
                phone: None,
            }),
            information_contact: Some(crate::domain::offer::ContactInput {
                name: f.opt("information_contact.name"),
                email: f.opt("information_contact.email"),
                phone: f.opt("information_contact.phone"),
            }),
            postal_address: f.opt("postal_address"),
            state: None,
            published_at: None,
        }
    }
}

/// A yes/no value as the form's select holds it.
fn yes_no(b: Option<bool>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

/// The options of a yes/no select, « non précisé » first.
fn yes_no_options(yes: &str, no: &str) -> Vec<(String, String)> {
    vec![
        (String::new(), "Non précisé".into()),
        ("true".into(), yes.into()),
        ("false".into(), no.into()),
    ]
}

pub(super) fn with_empty(first: &str, mut options: Vec<(String, String)>) -> Vec<(String, String)> {
    options.insert(0, (String::new(), first.to_string()));
    options
}

pub(super) fn department_groups() -> Vec<OptGroup> {
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
pub(super) fn offer_sections(values: &Values, services: &[Service]) -> Vec<Section> {
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
            Field::new("publish_on", "Publication programmée le (facultatif)", "date", &v("publish_on"))
                .hint("Pour un brouillon : il est publié automatiquement ce jour-là, à minuit. Laissez vide pour publier vous-même."),
            Field::new("own_reference", "Votre référence interne (facultatif)", "text", &v("own_reference"))
                .hint("50 caractères au plus ; visible des candidats"),
        ]),
        Section::new("Conditions du poste", vec![
            Field::new("paid", "Rémunération", "select", &v("paid"))
                .options(yes_no_options("Rémunéré", "Non rémunéré")),
            Field::new("pay", "Montant ou précisions sur la rémunération", "text", &v("pay"))
                .hint("Par exemple : gratification légale de stage, 53 % du SMIC"),
            Field::new("working_time", "Temps de travail", "select", &v("working_time"))
                .options(vec![
                    (String::new(), "Non précisé".into()),
                    ("temps-plein".into(), "Temps plein".into()),
                    ("temps-partiel".into(), "Temps partiel".into()),
                ]),
            Field::new("telework", "Télétravail", "select", &v("telework"))
                .options(yes_no_options("Possible", "Non")),
            Field::new("driving_licence", "Permis de conduire", "select", &v("driving_licence"))
                .options(yes_no_options("Exigé", "Non exigé")),
            Field::new("travel", "Déplacements", "text", &v("travel"))
                .hint("Par exemple : déplacements ponctuels dans le département"),
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
            Field::new("commune", "Commune (nom ou code postal)", "commune", &v("commune"))
                .hint("Les candidats la trouvent par la distance à leur domicile. Exemple : Lyon 3e Arrondissement, 69003"),
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
            Field::new("application_contact.name", "Personne qui reçoit les candidatures : nom ou fonction", "text", &v("application_contact.name")).required(),
            Field::new("application_contact.email", "Son adresse électronique", "email", &v("application_contact.email")).required()
                .hint("Format attendu : nom@domaine.fr"),
            Field::new("postal_address", "Adresse postale pour postuler (facultatif)", "textarea", &v("postal_address")),
        ]),
        Section::new("Contact pour des renseignements (facultatif)", vec![
            Field::new("information_contact.name", "Nom ou fonction", "text", &v("information_contact.name")),
            Field::new("information_contact.email", "Adresse électronique", "email", &v("information_contact.email")),
            Field::new("information_contact.phone", "Téléphone", "tel", &v("information_contact.phone")),
        ]),
    ]
}

pub(crate) struct AttachmentView {
    pub(super) name: String,
    pub(super) kind: &'static str,
    pub(super) size: String,
    pub(super) url: String,
    pub(super) remove_url: String,
}

#[derive(Template)]
#[template(path = "offer_edit.html")]
pub(super) struct OfferEdit {
    pub(super) ctx: Ctx,
    pub(super) form: FormPage,
    pub(super) state: &'static str,
    pub(super) badge: &'static str,
    public_url: String,
    pub(super) actions: Vec<(String, &'static str, &'static str)>,
    pub(super) delete_url: String,
    pub(super) renew_action: String,
    pub(super) renew_value: String,
    pub(super) renew_error: Option<String>,
    pub(super) attachments_action: String,
    pub(super) attachments: Vec<AttachmentView>,
    pub(super) upload_error: Option<String>,
    pub(super) max_size: String,
    pub(super) history: Vec<String>,
    /// A lecteur's view: the offer without a form to send nor an action.
    pub(super) read_only: bool,
    /// Moving the offer to another of the recruiter's services: (form action, options).
    pub(super) transfer: Option<(String, Vec<(String, String)>)>,
}

pub(super) fn audit_fr(action: &str) -> String {
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

pub(super) struct EditState {
    pub(super) offer: Option<Offer>,
    pub(super) services: Vec<Service>,
    pub(super) names: std::collections::HashMap<u64, String>,
    /// The portal's zone, for the dates of the history.
    pub(super) zone: crate::domain::local_time::Zone,
}

pub(super) fn edit_page(
    v: &Visitor,
    st: &EditState,
    values: &Values,
    max_bytes: usize,
) -> OfferEdit {
    let title = match &st.offer {
        Some(o) => format!("Offre {} – {}", o.reference, o.fields.title),
        None => "Nouvelle offre".to_string(),
    };
    let action = match &st.offer {
        Some(o) => links::recruiter_offer_path(o.reference),
        None => links::RECRUITER_NEW_OFFER.into(),
    };
    let crumb = st
        .offer
        .as_ref()
        .map_or("Nouvelle offre".to_string(), |o| o.reference.to_string());
    let writes = |service: Option<u64>| {
        v.account
            .as_ref()
            .is_some_and(|a| service.is_some_and(|s| a.writes_in(s)))
    };
    let read_only = st.offer.as_ref().is_some_and(|o| !writes(o.service_id));
    // The services a new or moved offer may go to: those whose offers the recruiter writes.
    let writable: Vec<Service> = st
        .services
        .iter()
        .filter(|s| writes(Some(s.id)) || read_only)
        .cloned()
        .collect();
    let mut form = FormPage::new(v.ctx(&[]), &title, &action, Vec::new(), "Enregistrer");
    form.sections = offer_sections(values, &writable);
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
            offer_state_name(o),
            offer_state_badge(o),
            if o.state == OfferState::Published {
                offer_path(&o.reference.to_string())
            } else {
                String::new()
            },
            steps(o),
            if o.state == OfferState::Draft {
                links::fill(links::RECRUITER_OFFER_DELETE, &[&o.reference])
            } else {
                String::new()
            },
            if o.state == OfferState::Draft {
                String::new()
            } else {
                links::fill(links::RECRUITER_OFFER_RENEW, &[&o.reference])
            },
            links::fill(links::RECRUITER_ATTACHMENTS, &[&o.reference]),
            o.fields
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| AttachmentView {
                    name: a.name.clone(),
                    kind: kind_of(&a.content_type),
                    size: size_fr(a.size),
                    url: links::fill(links::RECRUITER_ATTACHMENT, &[&o.reference, &(i + 1)]),
                    remove_url: links::fill(
                        links::RECRUITER_ATTACHMENT_REMOVE,
                        &[&o.reference, &(i + 1)],
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
                    format!(
                        "{} – {} par {who}",
                        date_fr(e.at, &st.zone),
                        audit_fr(&e.action)
                    )
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
    let ctx = v.ctx(&[
        ("Mes offres", Some(links::RECRUITER_OFFERS)),
        (&crumb, None),
    ]);
    let transfer = st.offer.as_ref().and_then(|o| {
        let others: Vec<(String, String)> = writable
            .iter()
            .filter(|s| Some(s.id) != o.service_id)
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect();
        (!read_only && !others.is_empty()).then(|| {
            (
                links::fill(links::RECRUITER_OFFER_TRANSFER, &[&o.reference]),
                others,
            )
        })
    });
    if read_only {
        form.buttons.clear();
        form.intro =
            "Vous êtes lecteur de ce service : vous consultez l'offre sans la modifier.".into();
        return OfferEdit {
            ctx,
            form,
            state,
            badge,
            public_url,
            actions: Vec::new(),
            delete_url: String::new(),
            renew_action: String::new(),
            renew_value: String::new(),
            renew_error: None,
            attachments_action: String::new(),
            attachments,
            upload_error: None,
            max_size: size_fr(max_bytes as u64),
            history,
            read_only,
            transfer: None,
        };
    }
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
        read_only,
        transfer,
    }
}
