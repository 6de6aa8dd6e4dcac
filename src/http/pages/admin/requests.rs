//! Recruiter requests: approve, or refuse with a mailed reason.

use super::*;

pub(super) struct RequestView {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) date: String,
    pub(super) service: String,
}

#[derive(Template)]
#[template(path = "admin_requests.html")]
pub(super) struct RequestsPage {
    pub(super) ctx: Ctx,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    pub(super) requests: Vec<RequestView>,
}

pub(super) fn describe_service(b: &Backoffice<'_>, a: &Account) -> String {
    match (&a.requested_service, a.services.first()) {
        (Some(r), _) => format!(
            "Service non listé à créer : « {} »{} – {}",
            r.name,
            r.entity
                .as_ref()
                .map(|e| format!(", entité « {e} »"))
                .unwrap_or_default(),
            r.administration.label()
        ),
        (None, Some(id)) => {
            b.service(*id)
                .ok()
                .flatten()
                .map_or(format!("Service n° {id}"), |s| {
                    format!(
                        "Service : {}{} – {}",
                        s.name,
                        s.entity.map(|e| format!(" ({e})")).unwrap_or_default(),
                        s.administration.label()
                    )
                })
        }
        (None, None) => "Aucun service".into(),
    }
}

pub(super) async fn requests(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    notice_: Option<String>,
    error: Option<String>,
) -> Response {
    let zone = state.engine.zone().clone();
    let list = with_backoffice(state, move |b| {
        Ok(b.recruiters(Some(AccountState::Pending))?
            .into_iter()
            .map(|a| RequestView {
                id: a.id,
                name: format!(
                    "{} {} {}",
                    a.civility.clone().unwrap_or_default(),
                    a.first_name,
                    a.last_name
                )
                .trim()
                .to_string(),
                email: a.email.clone(),
                phone: a.phone.clone().unwrap_or_default(),
                date: date_fr(a.created_at, &zone),
                service: describe_service(b, &a),
            })
            .collect::<Vec<_>>())
    })
    .await;
    match list {
        Ok(requests) => render(
            v,
            status,
            RequestsPage {
                ctx: v.ctx(&[("Administration", None), ("Demandes", None)]),
                notice: notice_,
                error,
                requests,
            },
        ),
        Err(e) => error_page(v, &e),
    }
}

/// The pending recruiter requests.
#[utoipa::path(get, path = links::ADMIN_REQUESTS, tag = "portal", params(NoticeQuery),
    responses((status = 200, description = "The requests (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn requests_page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    admin_of(&v, links::ADMIN_REQUESTS)?;
    Ok(requests(&state, &v, StatusCode::OK, Notice::of_query(&q.fait), None).await)
}

/// Approves a request: the recruiter is mailed a link to choose a password.
#[utoipa::path(post, path = links::ADMIN_REQUEST_APPROVE, tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the requests")))]
pub(super) async fn approve(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, _) = changing(&v, &body)?;
    Ok(
        match with_backoffice(&state, move |b| b.approve(&admin, id)).await {
            Ok(_) => see_other(&Notice::Approved.after(links::ADMIN_REQUESTS)),
            Err(e) => requests(&state, &v, status_of(&e), None, Some(explain(&e))).await,
        },
    )
}

/// Refuses a request with a reason, mailed to the person.
#[utoipa::path(post, path = links::ADMIN_REQUEST_REFUSE, tag = "portal",
    params(("id" = u64, Path, description = "Account id")),
    request_body(content_type = "application/x-www-form-urlencoded", content = String),
    responses((status = 303, description = "Done: back to the requests"),
              (status = 422, description = "No reason (HTML)", content_type = "text/html", body = String)))]
pub(super) async fn refuse(
    State(state): State<AppState>,
    v: Visitor,
    Path(RecordId(id)): Path<RecordId>,
    body: Bytes,
) -> PageResult {
    let (admin, form) = changing(&v, &body)?;
    let reason = form.get("reason").to_string();
    Ok(
        match with_backoffice(&state, move |b| b.refuse(&admin, id, &reason)).await {
            Ok(_) => see_other(&Notice::Refused.after(links::ADMIN_REQUESTS)),
            Err(e) => {
                let message = match &e {
                    Error::Invalid(_) => {
                        "Indiquez le motif du refus : il est envoyé au demandeur.".to_string()
                    }
                    other => explain(other),
                };
                requests(&state, &v, status_of(&e), None, Some(message)).await
            }
        },
    )
}
