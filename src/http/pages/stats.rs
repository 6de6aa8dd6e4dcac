//! Statistics pages: an offer's views, clicks and alert mails per day (its recruiters), and the
//! census of every offer (administrators) — charts drawn in SVG, the same figures as tables and
//! as CSV.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Ctx, Visitor, render};
use crate::backoffice::stats::{Census, OfferStats, Tally};
use crate::domain::account::Role;
use crate::http::charts::{bars, columns, csv_field};
use crate::http::pages::{OrPage, PageError, PageResult};
use crate::http::{AppState, with_backoffice};
use crate::links;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(offer_stats_page))
        .routes(routes!(offer_stats_csv))
        .routes(routes!(census_page))
        .routes(routes!(census_csv))
}

/// Days the offer's charts show (the table lists every day).
const CHART_DAYS: i64 = 30;

struct Chart {
    id: String,
    title: String,
    svg: String,
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsView {
    ctx: Ctx,
    admin: bool,
    heading: String,
    summary: String,
    csv_url: String,
    charts: Vec<Chart>,
}

fn csv_response(name: &str, head: &[&str], rows: Vec<Vec<String>>) -> Response {
    let mut body = head.join(",");
    body.push_str("\r\n");
    for r in rows {
        let line: Vec<String> = r.iter().map(|x| csv_field(x)).collect();
        body.push_str(&line.join(","));
        body.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn day_rows(s: &OfferStats) -> Vec<Vec<String>> {
    s.days
        .iter()
        .map(|d| {
            vec![
                d.date.clone(),
                d.counts.views.to_string(),
                d.counts.clicks.to_string(),
                d.counts.mails.to_string(),
                d.counts.applications.to_string(),
            ]
        })
        .collect()
}

const DAY_HEAD: [&str; 5] = [
    "Jour",
    "Vues",
    "Clics sur Postuler",
    "Alertes envoyées",
    "Candidatures en ligne",
];

/// The last [`CHART_DAYS`] days up to today, with the figure `pick` takes of each.
fn last_days(
    s: &OfferStats,
    today: time::Date,
    pick: fn(&crate::store::stats::Counts) -> u64,
) -> Vec<(String, u64)> {
    (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let d = today - time::Duration::days(back);
            let v = s
                .days
                .iter()
                .find(|x| x.date == d.to_string())
                .map_or(0, |x| pick(&x.counts));
            (format!("{:02}/{:02}", d.day(), u8::from(d.month())), v)
        })
        .collect()
}

async fn load_offer_stats(
    state: &AppState,
    v: &Visitor,
    reference: String,
) -> Result<OfferStats, PageError> {
    let back = links::fill(links::RECRUITER_OFFER_STATS, &[&reference]);
    let who = v.require(Role::Recruiter, &back)?.clone();
    with_backoffice(state, move |b| b.offer_stats(&who, &reference))
        .await
        .or_page(v)
}

/// An offer's statistics: views, "Postuler" clicks and alert mails per day.
#[utoipa::path(get, path = links::RECRUITER_OFFER_STATS, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "The statistics (HTML)", content_type = "text/html", body = String),
              (status = 404, description = "Not in your services (HTML)", content_type = "text/html", body = String)))]
async fn offer_stats_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let s = load_offer_stats(&state, &v, reference).await?;
    let today = state.engine.zone().today(state.engine.now());
    let t = s.totals;
    let offer_url = links::recruiter_offer_path(&s.reference);
    let charts = vec![
        Chart {
            id: "vues".into(),
            title: format!("Vues par jour ({CHART_DAYS} derniers jours)"),
            svg: columns(
                "vues-c",
                "Vues par jour",
                &last_days(&s, today, |c| c.views),
            ),
            head: Vec::new(),
            rows: Vec::new(),
        },
        Chart {
            id: "clics".into(),
            title: format!("Clics sur « Postuler » par jour ({CHART_DAYS} derniers jours)"),
            svg: columns(
                "clics-c",
                "Clics sur Postuler par jour",
                &last_days(&s, today, |c| c.clicks),
            ),
            head: Vec::new(),
            rows: Vec::new(),
        },
        Chart {
            id: "jours".into(),
            title: "Chiffres par jour".into(),
            svg: String::new(),
            head: DAY_HEAD.to_vec(),
            rows: day_rows(&s),
        },
    ];
    Ok(render(
        &v,
        StatusCode::OK,
        StatsView {
            ctx: v.ctx(&[
                ("Mes offres", Some(links::RECRUITER_OFFERS)),
                (&s.reference, Some(offer_url.as_str())),
                ("Statistiques", None),
            ]),
            admin: false,
            heading: format!("Statistiques de l'offre {}", s.reference),
            summary: format!(
                "« {} » : {} vue{}, {} clic{} sur « Postuler », {} alerte{} envoyée{}, {} candidature{} en ligne.",
                s.title,
                t.views,
                plural(t.views),
                t.clicks,
                plural(t.clicks),
                t.mails,
                plural(t.mails),
                plural(t.mails),
                t.applications,
                plural(t.applications)
            ),
            csv_url: links::fill(links::RECRUITER_OFFER_STATS_CSV, &[&s.reference]),
            charts,
        },
    ))
}

fn plural(n: u64) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// An offer's statistics per day, as CSV.
#[utoipa::path(get, path = links::RECRUITER_OFFER_STATS_CSV, tag = "portal",
    params(("reference" = String, Path, description = "Reference")),
    responses((status = 200, description = "One line per day", content_type = "text/csv", body = String),
              (status = 404, description = "Not in your services (HTML)", content_type = "text/html", body = String)))]
async fn offer_stats_csv(
    State(state): State<AppState>,
    v: Visitor,
    Path(reference): Path<String>,
) -> PageResult {
    let s = load_offer_stats(&state, &v, reference).await?;
    Ok(csv_response(
        &format!("statistiques-{}.csv", s.reference),
        &DAY_HEAD,
        day_rows(&s),
    ))
}

/// The census's sections: (id, title, tallies, drawn as columns).
fn sections(c: &Census) -> [(&'static str, &'static str, &Vec<Tally>, bool); 5] {
    [
        ("etats", "Offres par état", &c.states, false),
        ("contrats", "Offres par contrat", &c.contracts, false),
        (
            "mois",
            "Offres par mois de première publication",
            &c.months,
            true,
        ),
        ("regions", "Offres par région", &c.regions, false),
        (
            "administrations",
            "Offres par administration",
            &c.administrations,
            false,
        ),
    ]
}

async fn load_census(state: &AppState, v: &Visitor) -> Result<Census, PageError> {
    let who = v.require(Role::Admin, links::ADMIN_STATS)?.clone();
    with_backoffice(state, move |b| b.census(&who))
        .await
        .or_page(v)
}

/// Every offer counted by state, contract, month, region and administration.
#[utoipa::path(get, path = links::ADMIN_STATS, tag = "portal",
    responses((status = 200, description = "The census (HTML)", content_type = "text/html", body = String)))]
async fn census_page(State(state): State<AppState>, v: Visitor) -> PageResult {
    let c = load_census(&state, &v).await?;
    let charts = sections(&c)
        .into_iter()
        .map(|(id, title, tallies, by_time)| {
            let points: Vec<(String, u64)> =
                tallies.iter().map(|t| (t.label.clone(), t.count)).collect();
            Chart {
                id: id.into(),
                title: title.into(),
                svg: if by_time {
                    columns(&format!("{id}-c"), title, &points)
                } else {
                    bars(&format!("{id}-c"), title, &points)
                },
                head: vec!["Valeur", "Offres"],
                rows: points
                    .iter()
                    .map(|(l, n)| vec![l.clone(), n.to_string()])
                    .collect(),
            }
        })
        .collect();
    Ok(render(
        &v,
        StatusCode::OK,
        StatsView {
            ctx: v.ctx(&[("Administration", None), ("Statistiques", None)]),
            admin: true,
            heading: "Statistiques des offres".into(),
            summary: format!("{} offre{} en tout.", c.total, plural(c.total)),
            csv_url: links::ADMIN_STATS_CSV.into(),
            charts,
        },
    ))
}

/// The census as CSV: one line per (dimension, value).
#[utoipa::path(get, path = links::ADMIN_STATS_CSV, tag = "portal",
    responses((status = 200, description = "One line per dimension and value", content_type = "text/csv", body = String)))]
async fn census_csv(State(state): State<AppState>, v: Visitor) -> PageResult {
    let c = load_census(&state, &v).await?;
    let rows = sections(&c)
        .into_iter()
        .flat_map(|(id, _, tallies, _)| {
            tallies.iter().map(move |t| {
                vec![
                    id.to_string(),
                    t.value.clone(),
                    t.label.clone(),
                    t.count.to_string(),
                ]
            })
        })
        .collect();
    Ok(csv_response(
        "statistiques-offres.csv",
        &["dimension", "code", "libellé", "offres"],
        rows,
    ))
}
