//! Offers reported by visitors: withdraw the offer (the reason mailed to its service) or
//! dismiss the report.

use super::*;
use crate::backoffice::reports::{ReportAction, reason_label};
use crate::store::reports::ReportState;

pub(super) struct ReportView {
    id: u64,
    reference: String,
    title: String,
    reason: String,
    message: String,
    email: String,
    date: String,
    open: bool,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "admin_reports.html")]
struct ReportsPage {
    ctx: Ctx,
    notice: Option<String>,
    error: Option<String>,
    open: usize,
    reports: Vec<ReportView>,
}

async fn reports(
    state: &AppState,
    v: &Visitor,
    admin: Account,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let zone = state.engine.zone().clone();
    match with_backoffice(state, move |b| b.reports(&admin)).await {
        Ok(list) => {
            let reports: Vec<ReportView> = list
                .into_iter()
                .map(|r| ReportView {
                    id: r.id,
                    reason: reason_label(&r.reason).to_string(),
                    date: date_fr(r.created_at, &zone),
                    open: r.state == ReportState::Open,
                    state: match r.state {
                        ReportState::Open => "À traiter",
                        ReportState::Withdrawn => "Offre retirée",
                        ReportState::Dismissed => "Classé sans suite",
                    },
                    email: r.email.unwrap_or_default(),
                    reference: r.reference,
                    title: r.title,
                    message: r.message,
                })
                .collect();
            render(
                v,
                status,
                ReportsPage {
                    ctx: v.ctx(&[("Administration", None), ("Signalements", None)]),
                    notice,
                    error,
                    open: reports.iter().filter(|r| r.open).count(),
                    reports,
                },
            )
        }
        Err(e) => error_page(v, &e),
    }
}

/// The reports, those to handle first.
#[utoipa::path(get, path = links::ADMIN_REPORTS, tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The reports (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn reports_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let admin = admin_of(&v, links::ADMIN_REPORTS)?;
    Ok(reports(
        &state,
        &v,
        admin,
        StatusCode::OK,
        Notice::of_query(&q.fait),
        None,
    )
    .await)
}

/// Withdraws the reported offer (`action=withdraw`, with a `reason` mailed to its service) or
/// dismisses the report (`action=dismiss`).
#[utoipa::path(post, path = links::ADMIN_REPORT, tag = "portal",
    params(("id" = u64, Path, description = "Report id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the reports"),
              (status = 422, description = "No reason to withdraw (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn handle_report(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = v.changing(Role::Admin, links::ADMIN_REPORTS, &body)?;
    let action = match form.get("action") {
        "withdraw" => ReportAction::Withdraw,
        "dismiss" => ReportAction::Dismiss,
        other => {
            let e = Error::invalid(crate::error::FieldError::with_allowed(
                "action",
                format!("'{other}' is not an action on a report"),
                vec!["withdraw".into(), "dismiss".into()],
            ));
            return Ok(reports(&state, &v, admin, status_of(&e), None, Some(explain(&e))).await);
        }
    };
    let reason = form.get("reason").to_string();
    let a = admin.clone();
    Ok(
        match with_backoffice(&state, move |b| b.handle_report(&a, id, action, &reason)).await {
            Ok(_) => see_other(&match action {
                ReportAction::Withdraw => Notice::ReportWithdrawn.after(links::ADMIN_REPORTS),
                ReportAction::Dismiss => Notice::ReportDismissed.after(links::ADMIN_REPORTS),
            }),
            Err(e) => reports(&state, &v, admin, status_of(&e), None, Some(explain(&e))).await,
        },
    )
}
