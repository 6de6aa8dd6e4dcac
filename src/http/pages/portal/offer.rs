//! The offer page: its fields, the ways to apply (counted through a redirect), the previous and next offers of the search, similar offers.

use super::*;

pub(super) struct OfferNav {
    pub(super) position: u64,
    pub(super) total: u64,
    pub(super) prev_url: Option<String>,
    pub(super) next_url: Option<String>,
    pub(super) back_url: String,
}

#[derive(Template)]
#[template(path = "offer.html")]
pub(super) struct OfferView {
    pub(super) ctx: Ctx,
    pub(super) apply: Apply,
    pub(super) title: String,
    pub(super) reference: String,
    pub(super) contract: String,
    published: String,
    pub(super) fields: Vec<(String, String)>,
    pub(super) nav: Option<OfferNav>,
    /// (address, title, what it is) of the offers like this one.
    pub(super) similar: Vec<(String, String, String)>,
    /// Seen by its recruiter before publication: a banner, no index, no counting.
    pub(super) preview: Option<String>,
    /// For a logged-in candidate: whether the offer is starred (the star's form).
    pub(super) starred: Option<bool>,
    /// This page's address, where the star's form comes back.
    pub(super) here: String,
}

/// An offer of the recruiter's services as candidates will see it once published, with an
/// "Aperçu" banner linking back to `back` (its back-office page).
pub(crate) fn preview_view(
    v: &Visitor,
    offer: &Offer,
    public_url: &str,
    back: &str,
) -> impl Template {
    OfferView {
        ctx: v.ctx(&[
            ("Mes offres", Some(links::RECRUITER_OFFERS)),
            (&offer.fields.title, Some(back)),
            ("Aperçu", None),
        ]),
        apply: apply_of(offer, public_url),
        title: offer.fields.title.clone(),
        reference: offer.reference.to_string(),
        contract: offer.fields.contract.label().to_string(),
        published: String::new(),
        fields: offer_fields(offer),
        nav: None,
        similar: Vec::new(),
        preview: Some(back.to_string()),
        starred: None,
        here: String::new(),
    }
}

/// How many similar offers the offer page shows.
pub(super) const SIMILAR_SHOWN: usize = 4;

/// The 404 page.
pub(crate) fn not_found_page(v: &Visitor) -> Response {
    message_page(
        v,
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette page n'existe pas, ou l'offre n'est plus diffusée.",
    )
}

pub(super) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "Février 2027".
pub(crate) fn month_fr(year: i32, month: u8) -> String {
    let name = MONTHS[usize::from(month.clamp(1, 12) - 1)];
    let mut chars = name.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{} {year}", chars.as_str())
}

/// "20 février 2027" ("1er" for the first day).
pub(crate) fn day_fr(d: time::Date) -> String {
    let day = if d.day() == 1 {
        "1er".to_string()
    } else {
        d.day().to_string()
    };
    format!(
        "{day} {} {}",
        MONTHS[usize::from(u8::from(d.month()) - 1)],
        d.year()
    )
}

pub(super) fn offer_fields(o: &Offer) -> Vec<(String, String)> {
    let f = &o.fields;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push((k.to_string(), v));
        }
    };
    push("Type de contrat", Some(f.contract.label().into()));
    push("Niveau de diplôme préparé", Some(f.diploma.label().into()));
    push("Domaine", Some(f.domain.label().into()));
    push("Administration", Some(f.administration.label().into()));
    push("Service", Some(f.service.clone()));
    push("Lieu", f.location.clone());
    push(
        "Commune",
        f.commune
            .as_deref()
            .and_then(|c| crate::domain::communes::communes().by_code(c))
            .map(|c| match c.postcodes().next() {
                Some(p) => format!("{} ({p})", c.name),
                None => c.name.to_string(),
            }),
    );
    push(
        "Département",
        f.department
            .map(|d| format!("{} ({})", d.label(), d.code())),
    );
    push("Région", f.region.map(|r| r.label().into()));
    push("Pays", Some(f.country.label().into()));
    push("Date de début", Some(month_fr(f.start.year, f.start.month)));
    let duration = match (
        f.duration_months,
        f.duration_min_months,
        f.duration_max_months,
    ) {
        (Some(n), _, _) => Some(format!("{n} mois")),
        (None, Some(a), Some(b)) => Some(format!("{a} à {b} mois")),
        _ => None,
    };
    push("Durée", duration);
    push(
        "Présentation de l'employeur",
        f.employer_description.clone(),
    );
    push("Missions", Some(f.description.clone()));
    push("Profil recherché", f.profile.clone());
    push("Conditions particulières d'exercice", f.conditions.clone());
    push("Langues", f.languages.clone());
    let yes_no =
        |b: Option<bool>, yes: &str, no: &str| b.map(|b| if b { yes } else { no }.to_string());
    push(
        "Rémunération",
        match (f.paid, &f.pay) {
            (Some(true), Some(p)) => Some(format!("Rémunéré : {p}")),
            (Some(false), Some(p)) => Some(format!("Non rémunéré ({p})")),
            (None, Some(p)) => Some(p.clone()),
            (paid, None) => yes_no(paid, "Rémunéré", "Non rémunéré"),
        },
    );
    push("Temps de travail", f.working_time.map(|w| w.label().into()));
    push("Télétravail", yes_no(f.telework, "Possible", "Non"));
    push(
        "Permis de conduire",
        yes_no(f.driving_licence, "Exigé", "Non exigé"),
    );
    push("Déplacements", f.travel.clone());
    push(
        "Fonction publique",
        Facet::Versant
            .values()
            .ordinal(f.versant())
            .map(|o| Facet::Versant.values().label(o).to_string()),
    );
    push("Référence du recruteur", f.own_reference.clone());
    push("Informations complémentaires", f.extra_info.clone());
    push("Commentaires", f.comments.clone());
    push("Fin de diffusion", Some(day_fr(f.unpublish_on)));
    out
}

/// How to apply: by mail (reference and title in the subject), on the web, by phone.
pub(crate) struct Apply {
    pub(super) mailto: Option<(String, String)>,
    /// (address, as shown).
    pub(super) url: Option<(String, String)>,
    pub(super) tel: Option<(String, String)>,
    pub(super) share: String,
    pub(super) attachments: Vec<(String, String)>,
    /// Who receives the applications: (name, mailto link, address).
    pub(super) contact: Option<(String, String, String)>,
    /// A postal address to apply by letter.
    pub(super) postal: Option<String>,
    /// « Postuler en ligne » (documents and a message mailed from the portal) when the offer
    /// is applied to by e-mail.
    pub(super) online: Option<String>,
    /// Who answers questions: name, then its e-mail (mailto, address) and phone (tel, as shown).
    pub(super) info: Option<(String, Option<Link>, Option<Link>)>,
}

/// A link: (address, as shown).
type Link = (String, String);

fn tel_of(p: &str) -> (String, String) {
    let digits: String = p
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    (format!("tel:{digits}"), p.to_string())
}

pub(super) fn mailto(to: &str, subject: &str, body: &str) -> String {
    let enc = |s: &str| {
        serde_urlencoded::to_string([("x", s)])
            .unwrap_or_default()
            .trim_start_matches("x=")
            .replace('+', "%20")
    };
    let mut q = format!("subject={}", enc(subject));
    if !body.is_empty() {
        q.push_str(&format!("&body={}", enc(body)));
    }
    format!("mailto:{to}?{q}")
}

pub(super) fn apply_of(o: &Offer, public_url: &str) -> Apply {
    let f = &o.fields;
    let reference = o.reference.to_string();
    Apply {
        mailto: f.contact_email.as_ref().map(|m| {
            (
                mailto(m, &format!("Candidature – {reference} – {}", f.title), ""),
                m.clone(),
            )
        }),
        url: f.contact_url.clone().map(|u| (u.clone(), u)),
        tel: f.contact_phone.as_deref().map(tel_of),
        contact: f.application_contact.as_ref().map(|c| {
            let email = c.email.clone().unwrap_or_default();
            (
                c.name.clone(),
                mailto(
                    &email,
                    &format!("Candidature – {reference} – {}", f.title),
                    "",
                ),
                email,
            )
        }),
        postal: f.postal_address.clone(),
        online: crate::candidates::application_address(o)
            .map(|_| links::fill(links::OFFER_APPLY_ONLINE, &[&reference])),
        info: f.information_contact.as_ref().map(|c| {
            (
                c.name.clone(),
                c.email.as_ref().map(|m| {
                    (
                        mailto(m, &format!("Question – {reference} – {}", f.title), ""),
                        m.clone(),
                    )
                }),
                c.phone.as_deref().map(tel_of),
            )
        }),
        share: mailto(
            "",
            &format!("Offre {reference} – {}", f.title),
            &format!("Cette offre pourrait vous intéresser : {public_url}"),
        ),
        attachments: f
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let kind = match a.content_type.as_str() {
                    "application/pdf" => "PDF",
                    "application/msword" => "DOC",
                    "application/vnd.oasis.opendocument.text" => "ODT",
                    _ => "DOCX",
                };
                let size = if a.size >= 1024 * 1024 {
                    format!("{:.1} Mo", a.size as f64 / 1048576.0).replace('.', ",")
                } else {
                    format!("{} ko", a.size.div_ceil(1024))
                };
                (
                    links::fill(links::OFFER_ATTACHMENT, &[&reference, &(i + 1)]),
                    format!("{} ({kind}, {size})", a.name),
                )
            })
            .collect(),
    }
}

/// Offer page, with "Offre n/N" navigation inside the search it came from (`i` = its rank).
#[utoipa::path(get, path = links::OFFER, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference")),
    responses((status = 200, description = "The offer page (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not found page (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn offer_page(
    State(state): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let engine = state.engine.clone();
    let key = reference.clone();
    let person = crate::http::is_person(&headers);
    let found = crate::http::blocking(move || {
        let Some(offer) = engine.public_offer(&key)? else {
            return Ok(None);
        };
        if person {
            engine.count(offer.id, crate::engine::Event::View);
        }
        let similar = engine.similar(&offer, SIMILAR_SHOWN)?;
        Ok(Some((offer, similar)))
    })
    .await;
    let (offer, similar) = match found {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(&v),
        Err(e) => return e.into_response(),
    };
    let similar = similar
        .iter()
        .map(|o| {
            let f = &o.fields;
            let place = f
                .location
                .clone()
                .unwrap_or_else(|| f.country.label().to_string());
            (
                links::fill(links::OFFER, &[&o.reference]),
                f.title.clone(),
                format!("{} · {} · {}", f.contract.label(), f.domain.label(), place),
            )
        })
        .collect();
    let mut pairs = query_pairs(raw.as_deref(), state.config.max_query_bytes).unwrap_or_default();
    let position: Option<u64> = pairs
        .iter()
        .find(|(k, _)| k == "i")
        .and_then(|(_, v)| v.parse().ok())
        .filter(|&i| (1..=u64::from(crate::domain::search::MAX_DEPTH)).contains(&i));
    pairs.retain(|(k, _)| k != "i" && k != "page" && k != "per_page");
    let nav = match (position, SearchParams::from_pairs(&pairs)) {
        (Some(i), Ok(params)) => offer_nav(&state, params, i).await,
        _ => None,
    };
    render(
        &v,
        StatusCode::OK,
        OfferView {
            ctx: v.ctx(&[(&offer.fields.title, None)]),
            apply: counted_apply(
                apply_of(&offer, &state.links.offer(&offer.reference.to_string())),
                &offer,
            ),
            title: offer.fields.title.clone(),
            reference: offer.reference.to_string(),
            contract: offer.fields.contract.label().to_string(),
            published: offer
                .published_at
                .map(|t| day_fr(state.engine.zone().today(t)))
                .unwrap_or_default(),
            fields: offer_fields(&offer),
            nav,
            similar,
            starred: v.candidate().map(|a| a.favorites.contains(&offer.id)),
            here: links::fill(links::OFFER, &[&offer.reference]),
            preview: None,
        },
    )
}

/// The "Offre n/N" navigation of the offer at rank `i` of a search: the search is run for the
/// two neighbours alone (ranks `i-1` and `i+1`, one offer each), so that a page view reads at
/// most two offers whatever its rank.
pub(super) async fn offer_nav(
    state: &AppState,
    mut params: SearchParams,
    i: u64,
) -> Option<OfferNav> {
    params.facets = false;
    params.per_page = 1;
    let neighbour = |rank: u64| {
        let mut p = params.clone();
        async move {
            p.page = u32::try_from(rank).ok().filter(|&r| r >= 1)?;
            run_search(state, p).await.ok()
        }
    };
    let (prev, next) = tokio::join!(neighbour(i - 1), neighbour(i + 1));
    let total = next
        .as_ref()
        .or(prev.as_ref())
        .map(|(_, page)| page.total)?;
    let criteria = params.criteria_pairs();
    let link = |found: Option<(SearchParams, crate::engine::SearchPage)>, rank: u64| {
        let (_, page) = found?;
        let o = page.offers.first()?;
        let mut c = criteria.clone();
        c.push(("i", rank.to_string()));
        Some(with_query(&links::fill(links::OFFER, &[&o.reference]), &c))
    };
    let mut back = criteria.clone();
    let back_page = (i - 1) / u64::from(crate::domain::search::DEFAULT_PER_PAGE) + 1;
    if back_page > 1 {
        back.push(("page", back_page.to_string()));
    }
    Some(OfferNav {
        position: i,
        total,
        prev_url: link(prev, i - 1),
        next_url: link(next, i + 1),
        back_url: with_query("/", &back),
    })
}

/// How a candidate applies: `courriel`, `en-ligne`, `telephone`.
pub(super) const APPLY_WAYS: [&str; 3] = ["courriel", "en-ligne", "telephone"];

impl Apply {
    /// Each way of applying under its name in [`APPLY_WAYS`]: (address, as shown), if given.
    pub(super) fn ways_mut(&mut self) -> [(&'static str, Option<&mut (String, String)>); 3] {
        [
            (APPLY_WAYS[0], self.mailto.as_mut()),
            (APPLY_WAYS[1], self.url.as_mut()),
            (APPLY_WAYS[2], self.tel.as_mut()),
        ]
    }
}

/// The "Postuler" links through the redirect that counts them.
pub(super) fn counted_apply(mut a: Apply, o: &Offer) -> Apply {
    for (way, link) in a.ways_mut() {
        if let Some(link) = link {
            link.0 = format!(
                "{}?par={way}",
                links::fill(links::OFFER_APPLY, &[&o.reference])
            );
        }
    }
    a
}

/// How to apply (documentation of the query string).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ApplyQuery {
    /// `courriel`, `en-ligne` or `telephone`.
    #[param(pattern = "^(courriel|en-ligne|telephone)$")]
    pub(super) par: String,
}

/// A click on "Postuler": counted (robots left out), then sent on to the offer's address,
/// mail or phone.
#[utoipa::path(get, path = links::OFFER_APPLY, tag = "portal",
    params(("reference" = String, Path, description = "Offer reference"), ApplyQuery),
    responses((status = 303, description = "To the way of applying"),
              (status = 400, description = "Unknown way of applying (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not found page (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn apply_click(
    State(state): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    Path(reference): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = address_pairs(&raw);
    let way = match pairs.as_slice() {
        [(k, w)] if k == "par" && APPLY_WAYS.contains(&w.as_str()) => w.clone(),
        _ => {
            return message_page(
                &v,
                StatusCode::BAD_REQUEST,
                "Adresse incorrecte",
                "Le paramètre par n'est pas valable : courriel, en-ligne ou telephone.",
            );
        }
    };
    let engine = state.engine.clone();
    let offer = match crate::http::blocking(move || Ok(engine.public_offer(&reference)?)).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(&v),
        Err(e) => return e.into_response(),
    };
    let mut a = apply_of(&offer, "");
    let target = a
        .ways_mut()
        .into_iter()
        .find(|(name, _)| *name == way)
        .and_then(|(_, link)| link.map(|l| l.0.clone()));
    let Some(target) = target else {
        return not_found_page(&v);
    };
    if crate::http::is_person(&headers) {
        state.engine.count(offer.id, crate::engine::Event::Click);
    }
    axum::response::Redirect::to(&target).into_response()
}
