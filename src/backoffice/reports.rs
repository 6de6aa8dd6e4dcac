//! What visitors tell the administrators: a message through the contact form, and the report
//! of an offer ("Signaler cette offre"), which an administrator answers by withdrawing the
//! offer (the recruiters are told why) or by dismissing the report.

use super::Backoffice;
use crate::auth::require;
use crate::domain::account::{Account, AccountState, Role};
use crate::domain::validate::{normalize_email, required_email, required_text};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::mail::Letter;
use crate::store::reports::{Report, ReportState};

/// The kinds of problem a visitor can report, with their labels.
pub const REPORT_REASONS: [(&str, &str); 5] = [
    ("frauduleuse", "Offre frauduleuse ou trompeuse"),
    ("discriminatoire", "Contenu discriminatoire ou illicite"),
    ("erronee", "Informations erronées (lieu, dates, contact)"),
    ("pourvue", "Offre déjà pourvue ou expirée"),
    ("autre", "Autre problème"),
];

/// The label of a reason code.
pub fn reason_label(code: &str) -> &str {
    REPORT_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

/// A message of the contact form.
#[derive(Debug, Clone, Default)]
pub struct ContactMessage {
    /// The visitor's address, to answer to.
    pub email: Option<String>,
    /// What it is about.
    pub subject: Option<String>,
    /// The message.
    pub message: Option<String>,
}

/// A report of an offer.
#[derive(Debug, Clone, Default)]
pub struct OfferReport {
    /// A code of [`REPORT_REASONS`].
    pub reason: Option<String>,
    /// What is wrong.
    pub message: Option<String>,
    /// An address to answer to (optional).
    pub email: Option<String>,
}

/// What an administrator does with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    /// Withdraw the offer from diffusion (with the reason given).
    Withdraw,
    /// Nothing to do.
    Dismiss,
}

impl Backoffice<'_> {
    fn active_admins(&self) -> Result<Vec<Account>> {
        Ok(self
            .engine
            .store()
            .accounts()?
            .into_iter()
            .filter(|a| a.role == Role::Admin && a.state == AccountState::Active)
            .collect())
    }

    /// Mails a contact message to every administrator and to `contact_email` when configured,
    /// answerable to the visitor's address.
    pub fn contact(&self, m: ContactMessage, contact_email: Option<&str>) -> Result<()> {
        let mut e = ValidationErrors::default();
        let email = required_email(&mut e, "email", m.email.as_deref());
        let subject = required_text(&mut e, "subject", m.subject.as_deref(), 150);
        let message = required_text(&mut e, "message", m.message.as_deref(), 5000);
        let (Some(email), Some(subject), Some(message)) = (email, subject, message) else {
            return Err(Error::Invalid(e));
        };
        e.into_result(()).map_err(Error::Invalid)?;
        let mut to: Vec<String> = self.active_admins()?.into_iter().map(|a| a.email).collect();
        if let Some(c) = contact_email.and_then(|c| normalize_email("contact_email", c).ok())
            && !to.contains(&c)
        {
            to.push(c);
        }
        let site = self.links.site_name();
        let letter = Letter::new(format!("Message de contact : {subject} – {site}"), "Bonjour,")
            .para(format!(
                "Un visiteur ({email}) a écrit par le formulaire de contact. Répondre à ce courriel lui répond."
            ))
            .quote(message)
            .because(format!(
                "Vous recevez ce message parce que vous êtes administrateur ou contact de {site}."
            ));
        let now = self.now();
        self.engine.store().write(|tx| {
            for address in &to {
                let mut mail = letter.to(address, &self.links, now);
                mail.headers.push(("Reply-To".into(), email.clone()));
                tx.queue_mail(mail)?;
            }
            Ok(())
        })
    }

    /// Records the report of a visible offer and tells the administrators.
    pub fn report_offer(&self, reference: &str, r: OfferReport) -> Result<Report> {
        let now = self.now();
        let offer = self
            .engine
            .store()
            .offer_by_reference(reference)?
            .filter(|o| o.is_visible(now, self.engine.zone()))
            .ok_or_else(|| Error::NotFound(format!("no visible offer {reference}")))?;
        let mut e = ValidationErrors::default();
        let reason = match r.reason.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push(FieldError::required("reason"));
                None
            }
            Some(c) if REPORT_REASONS.iter().any(|(k, _)| *k == c) => Some(c.to_string()),
            Some(_) => {
                e.push(FieldError::with_allowed(
                    "reason",
                    "is not one of the allowed values",
                    REPORT_REASONS.iter().map(|(k, _)| k.to_string()).collect(),
                ));
                None
            }
        };
        let message = required_text(&mut e, "message", r.message.as_deref(), 2000);
        let email = match r.email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(m) => normalize_email("email", m).map_err(|f| e.push(f)).ok(),
            None => None,
        };
        let (Some(reason), Some(message)) = (reason, message) else {
            return Err(Error::Invalid(e));
        };
        e.into_result(()).map_err(Error::Invalid)?;
        let admins = self.active_admins()?;
        let site = self.links.site_name();
        let letter = Letter::new(
            format!("Offre signalée : {} – {site}", offer.reference),
            "Bonjour,",
        )
        .para(format!(
            "L'offre {} « {} » a été signalée : {}.",
            offer.reference,
            offer.fields.title,
            reason_label(&reason)
        ))
        .quote(message.clone())
        .action(
            "Voir les signalements",
            format!("{}{}", self.links.base(), crate::links::ADMIN_REPORTS),
        )
        .because(format!(
            "Vous recevez ce message parce que vous êtes administrateur de {site}."
        ));
        self.engine.store().write(|tx| {
            let report = Report {
                id: tx.next_id("report_id")?,
                offer: offer.id,
                reference: offer.reference.to_string(),
                title: offer.fields.title.clone(),
                reason: reason.clone(),
                message: message.clone(),
                email: email.clone(),
                created_at: now,
                state: ReportState::Open,
                handled_by: None,
                handled_at: None,
            };
            tx.put_report(&report)?;
            for a in &admins {
                tx.queue_mail(letter.to(&a.email, &self.links, now))?;
            }
            Ok(report)
        })
    }

    /// Every report, the open ones first, newest first within each.
    pub fn reports(&self, admin: &Account) -> Result<Vec<Report>> {
        require(admin, Role::Admin)?;
        let mut all = self.engine.store().reports()?;
        all.sort_by_key(|r| {
            (
                r.state != ReportState::Open,
                std::cmp::Reverse(r.created_at),
            )
        });
        Ok(all)
    }

    /// Withdraws the reported offer (every open report of it is then closed as such), or
    /// dismisses the report.
    pub fn handle_report(
        &self,
        admin: &Account,
        id: u64,
        action: ReportAction,
        reason: &str,
    ) -> Result<Report> {
        require(admin, Role::Admin)?;
        let report = self
            .engine
            .store()
            .reports()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::NotFound(format!("report {id}")))?;
        if report.state != ReportState::Open {
            return Err(Error::Conflict(format!("report {id} was already handled")));
        }
        let state = match action {
            ReportAction::Withdraw => {
                self.moderate(admin, &report.reference, reason)?;
                ReportState::Withdrawn
            }
            ReportAction::Dismiss => ReportState::Dismissed,
        };
        let now = self.now();
        let closing: Vec<Report> = self
            .engine
            .store()
            .reports()?
            .into_iter()
            .filter(|r| {
                r.state == ReportState::Open
                    && (r.id == id || (state == ReportState::Withdrawn && r.offer == report.offer))
            })
            .collect();
        self.engine.store().write(|tx| {
            for mut r in closing.clone() {
                r.state = state;
                r.handled_by = Some(admin.id);
                r.handled_at = Some(now);
                tx.put_report(&r)?;
            }
            Ok(())
        })?;
        Ok(Report {
            state,
            handled_by: Some(admin.id),
            handled_at: Some(now),
            ..report
        })
    }
}
