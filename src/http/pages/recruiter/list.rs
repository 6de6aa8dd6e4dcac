//! "Mes offres" (and the administrators' list of every offer): filtered by state, contract,
//! domain, department, service, administration, year and words — each filter's options with
//! their counts under the other filters — paged, with the actions of each state, and exported
//! as CSV for spreadsheet users (UTF-8 with BOM, `;`).

use super::*;
use axum::extract::RawQuery;

pub(crate) fn state_name(s: OfferState) -> &'static str {
    match s {
        OfferState::Draft => "Brouillon",
        OfferState::Published => "Publiée",
        OfferState::Archived => "Archivée",
        OfferState::Filled => "Pourvue",
    }
}

/// An offer's state as the lists say it: a scheduled draft is "Programmée".
pub(crate) fn offer_state_name(o: &Offer) -> &'static str {
    if o.is_scheduled() {
        "Programmée"
    } else {
        state_name(o.state)
    }
}

/// The badge of an offer's state.
pub(crate) fn offer_state_badge(o: &Offer) -> &'static str {
    if o.is_scheduled() {
        "fr-badge--purple-glycine"
    } else {
        state_badge(o.state)
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
    /// The portal's zone, for the dates.
    pub zone: &'a crate::domain::local_time::Zone,
}

#[derive(Template)]
#[template(path = "offers_list.html")]
pub(crate) struct OffersList {
    pub ctx: Ctx,
    pub title: String,
    pub notice: Option<String>,
    pub new_url: String,
    /// The recruiter's own links above the list (empty for administrators): (label, url).
    pub links: Vec<(String, String)>,
    pub action: String,
    /// The filters, each a select.
    pub filters: Vec<FilterView>,
    pub q: String,
    /// The filtered list as CSV.
    pub csv_url: String,
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
    pub(super) state: String,
    /// `stage` or `apprentissage`.
    #[serde(default)]
    pub(super) contract: String,
    /// A domain code.
    #[serde(default)]
    pub(super) domain: String,
    /// A department code.
    #[serde(default)]
    pub(super) department: String,
    /// A service id.
    #[serde(default)]
    pub(super) service: String,
    /// An administration code.
    #[serde(default)]
    pub(super) administration: String,
    /// The year of the offer's reference.
    #[serde(default)]
    pub(super) year: String,
    /// Words of the title or a reference.
    #[serde(default)]
    pub(super) q: String,
    /// 1-based page.
    #[serde(default)]
    pub(super) page: Option<usize>,
    /// What was just done (shown once).
    #[serde(default)]
    pub(super) fait: String,
}

/// One select of the filters: its name, its label and its options (value, text with the count,
/// selected).
pub(crate) struct FilterView {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<(String, String, bool)>,
}

/// A dimension of the filters: its query name, label, "all" text, and an offer's (value,
/// label) on it.
struct Dim<'a> {
    name: &'static str,
    label: &'static str,
    all: &'static str,
    of: ValueOf<'a>,
}

/// An offer's (value, label) on a dimension.
type ValueOf<'a> = Box<dyn Fn(&Offer) -> (String, String) + 'a>;

impl ListQuery {
    /// The filter of a list's address, read leniently: a name given twice keeps its last
    /// value, an empty or malformed page is the first, unknown names are left out (a list is
    /// a page anyone may bookmark or edit by hand).
    pub fn from_raw(raw: Option<&str>) -> ListQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
        let mut q = ListQuery::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "state" => &mut q.state,
                "contract" => &mut q.contract,
                "domain" => &mut q.domain,
                "department" => &mut q.department,
                "service" => &mut q.service,
                "administration" => &mut q.administration,
                "year" => &mut q.year,
                "q" => &mut q.q,
                "fait" => &mut q.fait,
                "page" => {
                    q.page = v.trim().parse().ok();
                    continue;
                }
                _ => continue,
            };
            *slot = v;
        }
        q
    }

    /// The value chosen for the filter `name`.
    fn chosen(&self, name: &str) -> &str {
        match name {
            "state" => &self.state,
            "contract" => &self.contract,
            "domain" => &self.domain,
            "department" => &self.department,
            "service" => &self.service,
            "administration" => &self.administration,
            "year" => &self.year,
            _ => "",
        }
    }

    /// The query of this filter (without paging), for links.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = [
            "state",
            "contract",
            "domain",
            "department",
            "service",
            "administration",
            "year",
        ]
        .into_iter()
        .map(|n| (n, self.chosen(n).to_string()))
        .collect();
        pairs.push(("q", self.q.clone()));
        pairs.retain(|(_, v)| !v.is_empty());
        pairs
    }

    /// The state filter.
    pub fn state(&self) -> crate::Result<Option<OfferState>> {
        match self.state.as_str() {
            "" => Ok(None),
            "scheduled" => Ok(Some(OfferState::Draft)),
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

pub(super) const PER_PAGE: usize = 20;

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

/// The dimensions of the filters; `administrations` adds the administration's.
fn dims<'a>(look: &'a Lookups<'a>, administrations: bool) -> Vec<Dim<'a>> {
    let mut dims = vec![
        Dim {
            name: "state",
            label: "État",
            all: "Tous les états",
            of: Box::new(|o: &Offer| (o.state_name().to_string(), offer_state_name(o).to_string())),
        },
        Dim {
            name: "contract",
            label: "Contrat",
            all: "Tous les contrats",
            of: Box::new(|o: &Offer| {
                let c = o.fields.contract;
                (c.code().to_string(), c.label().to_string())
            }),
        },
        Dim {
            name: "domain",
            label: "Domaine",
            all: "Tous les domaines",
            of: Box::new(|o: &Offer| {
                let d = o.fields.domain;
                (d.code().to_string(), d.label().to_string())
            }),
        },
        Dim {
            name: "department",
            label: "Département",
            all: "Tous les départements",
            of: Box::new(|o: &Offer| match o.fields.department {
                Some(d) => (
                    d.code().to_string(),
                    format!("{} ({})", d.label(), d.code()),
                ),
                None => ("aucun".into(), "Sans département (étranger)".into()),
            }),
        },
        Dim {
            name: "service",
            label: "Service",
            all: "Tous les services",
            of: Box::new(move |o: &Offer| {
                (
                    o.service_id.map(|s| s.to_string()).unwrap_or_default(),
                    (look.services)(o),
                )
            }),
        },
    ];
    if administrations {
        dims.push(Dim {
            name: "administration",
            label: "Administration",
            all: "Toutes les administrations",
            of: Box::new(|o: &Offer| {
                let a = o.fields.administration;
                (a.code().to_string(), a.label().to_string())
            }),
        });
    }
    dims.push(Dim {
        name: "year",
        label: "Année",
        all: "Toutes les années",
        of: Box::new(|o: &Offer| {
            let y = o.reference.year.to_string();
            (y.clone(), y)
        }),
    });
    dims
}

/// The offers `q` keeps (words and every filter), and the filters' selects, each option
/// counted under the other filters.
fn filtered(
    offers: Vec<Offer>,
    q: &ListQuery,
    look: &Lookups<'_>,
    administrations: bool,
) -> (Vec<Offer>, Vec<FilterView>) {
    let dims = dims(look, administrations);
    let worded: Vec<(Offer, Vec<(String, String)>)> = offers
        .into_iter()
        .filter(|o| offer_matches(o, &q.q))
        .map(|o| {
            let values = dims.iter().map(|d| (d.of)(&o)).collect();
            (o, values)
        })
        .collect();
    let keeps = |values: &[(String, String)], skip: Option<usize>| {
        dims.iter().enumerate().all(|(i, d)| {
            let chosen = q.chosen(d.name);
            Some(i) == skip || chosen.is_empty() || values[i].0 == chosen
        })
    };
    let mut views = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        let mut counts: std::collections::BTreeMap<String, (String, usize)> = Default::default();
        for (_, values) in worded.iter().filter(|(_, v)| keeps(v, Some(i))) {
            let (value, label) = &values[i];
            counts.entry(value.clone()).or_insert((label.clone(), 0)).1 += 1;
        }
        let chosen = q.chosen(d.name);
        if !chosen.is_empty() && !counts.contains_key(chosen) {
            counts.insert(chosen.to_string(), (chosen.to_string(), 0));
        }
        let mut options: Vec<(String, String, usize)> =
            counts.into_iter().map(|(v, (l, n))| (v, l, n)).collect();
        if d.name == "year" {
            options.reverse();
        } else if d.name != "state" {
            options.sort_by(|a, b| {
                crate::domain::referentials::fold_label(&a.1)
                    .cmp(&crate::domain::referentials::fold_label(&b.1))
            });
        }
        let mut all = vec![(String::new(), d.all.to_string(), chosen.is_empty())];
        all.extend(
            options
                .into_iter()
                .map(|(v, l, n)| (v.clone(), format!("{l} ({n})"), v == chosen)),
        );
        views.push(FilterView {
            name: d.name,
            label: d.label,
            options: all,
        });
    }
    let kept = worded
        .into_iter()
        .filter(|(_, v)| keeps(v, None))
        .map(|(o, _)| o)
        .collect();
    (kept, views)
}

/// The kept offers as CSV for a spreadsheet: UTF-8 with a BOM, `;`-separated, one line per
/// offer.
pub(crate) fn offers_csv(
    offers: Vec<Offer>,
    q: &ListQuery,
    look: Lookups<'_>,
    administrations: bool,
) -> String {
    let (kept, _) = filtered(offers, q, &look, administrations);
    let day =
        |d: Option<time::OffsetDateTime>| d.map(|t| date_fr(t, look.zone)).unwrap_or_default();
    csv_text(
        "Référence;Intitulé;État;Contrat;Niveau de diplôme;Domaine;Service;Administration;Lieu;Département;Début;Publiée le;Fin de diffusion;Dernière modification;Modifiée par",
        kept.iter().map(|o| {
            let f = &o.fields;
            let last = o.audit.last();
            vec![
                o.reference.to_string(),
                f.title.clone(),
                offer_state_name(o).to_string(),
                f.contract.label().to_string(),
                f.diploma.label().to_string(),
                f.domain.label().to_string(),
                (look.services)(o),
                f.administration.label().to_string(),
                f.location.clone().unwrap_or_default(),
                f.department
                    .map(|d| d.code().to_string())
                    .unwrap_or_default(),
                f.start.to_string(),
                day(o.published_at),
                f.unpublish_on
                    .format(&time::macros::format_description!("[day]/[month]/[year]"))
                    .unwrap_or_default(),
                date_fr(o.updated_at, look.zone),
                last.and_then(|e| e.actor)
                    .map(look.names)
                    .unwrap_or_default(),
            ]
        }),
    )
}

/// A table for a spreadsheet: UTF-8 with a BOM, `;` between cells, a cell quoted when it
/// holds a `;`, a quote or a line break, lines ending in CRLF.
pub(crate) fn csv_text(header: &str, rows: impl Iterator<Item = Vec<String>>) -> String {
    let cell = |s: &str| {
        if s.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    out.push_str(header);
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// A CSV download named `name`.
pub(crate) fn csv_answer(name: &str, body: String) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A page of a list of offers, with the filters and paging of `q`; `base` is the list's path
/// (its CSV is `base.csv`).
pub(crate) fn offers_list(
    ctx: Ctx,
    title: &str,
    base: &str,
    offers: Vec<Offer>,
    q: &ListQuery,
    look: Lookups<'_>,
) -> OffersList {
    let administrations = base == links::ADMIN_OFFERS;
    let (matching, filters) = filtered(offers, q, &look, administrations);
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let query = serde_urlencoded::to_string(q.pairs()).unwrap_or_default();
    let url = |p: usize| {
        let mut pairs = q.pairs();
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
                url: links::recruiter_offer_path(o.reference),
                state: offer_state_name(o),
                badge: offer_state_badge(o),
                service: (look.services)(o),
                published: match (o.is_scheduled(), o.fields.publish_on) {
                    (true, Some(d)) => format!(
                        "programmée le {}",
                        d.format(&time::macros::format_description!("[day]/[month]/[year]"))
                            .unwrap_or_default()
                    ),
                    _ => o
                        .published_at
                        .map(|t| date_fr(t, look.zone))
                        .unwrap_or_default(),
                },
                unpublish_on: o
                    .fields
                    .unpublish_on
                    .format(&time::macros::format_description!("[day]/[month]/[year]"))
                    .unwrap_or_default(),
                changed: date_fr(o.updated_at, look.zone),
                changed_by: last
                    .and_then(|e| e.actor)
                    .map(look.names)
                    .unwrap_or_default(),
                actions: (look.actions)(o),
            }
        })
        .collect();
    OffersList {
        ctx,
        title: title.into(),
        notice: None,
        new_url: String::new(),
        links: Vec::new(),
        action: base.into(),
        filters,
        q: q.q.clone(),
        csv_url: crate::links::with_query(&format!("{base}.csv"), &query),
        total,
        rows,
        page,
        pages,
        prev_url: (page > 1).then(|| url(page - 1)),
        next_url: (page < pages).then(|| url(page + 1)),
    }
}

/// The lifecycle steps a recruiter may take from a state, as (url, step, label).
pub(super) fn steps(o: &Offer) -> Actions {
    let url = links::fill(links::RECRUITER_OFFER_ACTION, &[&o.reference]);
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

/// Names of accounts by id, and the recruiter's services.
pub(super) fn lookups(
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

/// The recruiter's offers and how to name their people and services.
async fn mine(
    state: &AppState,
    v: &Visitor,
    q: &ListQuery,
) -> Result<
    (
        Vec<Offer>,
        std::collections::HashMap<u64, String>,
        Vec<Service>,
        Account,
    ),
    PageError,
> {
    let who = recruiter(v, links::RECRUITER_OFFERS)?;
    let me = who.clone();
    // A state that does not exist is refused; the states are counted over every offer.
    q.state().or_page(v)?;
    let loaded = with_backoffice(state, move |b| {
        Ok((b.offers(&who, None)?, lookups(b, &who)?))
    })
    .await;
    let (offers, (names, services)) = loaded.or_page(v)?;
    Ok((offers, names, services, me))
}

fn service_name(services: &[Service], o: &Offer) -> String {
    o.service_id
        .and_then(|id| services.iter().find(|s| s.id == id))
        .map_or(o.fields.service.clone(), |s| s.name.clone())
}

/// "Mes offres": the offers of the caller's services.
#[utoipa::path(get, path = links::RECRUITER_OFFERS, tag = "portal", params(ListQuery),
    responses((status = 200, description = "The list (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn offers_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = ListQuery::from_raw(raw.as_deref());
    let (offers, names, services, who) = mine(&state, &v, &q).await?;
    let writes = |o: &Offer| o.service_id.is_some_and(|s| who.writes_in(s));
    let mut list = offers_list(
        v.ctx(&[("Mes offres", None)]),
        "Mes offres",
        links::RECRUITER_OFFERS,
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o: &Offer| service_name(&services, o),
            actions: &|o| if writes(o) { steps(o) } else { Vec::new() },
            zone: state.engine.zone(),
        },
    );
    if !who.writable_services().is_empty() {
        list.new_url = links::RECRUITER_NEW_OFFER.into();
    }
    list.links = vec![("Mon compte".into(), links::RECRUITER_ACCOUNT.into())];
    for s in &services {
        if who.role_in(s.id).is_some_and(|r| r.manages()) {
            list.links.push((
                format!("Membres du service {}", s.name),
                links::fill1(links::RECRUITER_MEMBERS, s.id),
            ));
        }
    }
    list.notice = Notice::of_query(&q.fait);
    Ok(render(&v, StatusCode::OK, list))
}

/// "Mes offres" as CSV, with the filters of the list.
#[utoipa::path(get, path = links::RECRUITER_OFFERS_CSV, tag = "portal", params(ListQuery),
    responses((status = 200, description = "The list (CSV: UTF-8 with BOM, `;`)", content_type = "text/csv", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn offers_csv_page(
    State(state): State<AppState>,
    v: Visitor,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let q = ListQuery::from_raw(raw.as_deref());
    let (offers, names, services, _) = mine(&state, &v, &q).await?;
    let csv = offers_csv(
        offers,
        &q,
        Lookups {
            names: &|id| names.get(&id).cloned().unwrap_or_default(),
            services: &|o: &Offer| service_name(&services, o),
            actions: &|_| Vec::new(),
            zone: state.engine.zone(),
        },
        false,
    );
    Ok(csv_answer("mes-offres.csv", csv))
}
