//! "Mes offres": the recruiter's offers, filtered and paged, with the actions of each state.

use super::*;

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
    pub(super) state: String,
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
                url: links::recruiter_offer_path(o.reference),
                state: state_name(o.state),
                badge: state_badge(o.state),
                service: (look.services)(o),
                published: o
                    .published_at
                    .map(|t| date_fr(t, look.zone))
                    .unwrap_or_default(),
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

/// "Mes offres": the offers of the caller's services.
#[utoipa::path(get, path = links::RECRUITER_OFFERS, tag = "portal", params(ListQuery),
    responses((status = 200, description = "The list (HTML)", content_type = "text/html", body = String),
              (status = 303, description = "Not logged in: to the login page")))]
pub(super) async fn offers_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let who = recruiter(&v, links::RECRUITER_OFFERS)?;
    let filter = q.state().or_page(&v)?;
    let w = who.clone();
    let loaded = with_backoffice(&state, move |b| {
        Ok((b.offers(&w, filter)?, lookups(b, &w)?))
    })
    .await;
    let (offers, (names, services)) = loaded.or_page(&v)?;
    let mut list = offers_list(
        v.ctx(&[("Mes offres", None)]),
        "Mes offres",
        links::RECRUITER_OFFERS,
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
            zone: state.engine.zone(),
        },
    );
    list.new_url = links::RECRUITER_NEW_OFFER.into();
    list.notice = Notice::of_query(&q.fait);
    Ok(render(&v, StatusCode::OK, list))
}
