//! Keeping personal data no longer than the privacy page says (`domain::retention`): candidate
//! accounts never confirmed, candidate accounts without a login for two years (warned by mail,
//! deleted a month later unless the person logs in), refused recruiter requests, expired
//! sessions and links, throttle counts, settled mails, handled reports and old statistics.
//! Run by the server's archiver about once an hour, on the node holding its lease.

use serde::Serialize;
use time::Duration;

use super::Candidates;
use crate::domain::account::{Account, AccountState, Role};
use crate::domain::retention::*;
use crate::error::Result;
use crate::mail::Letter;

/// What one pass removed or did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Candidate accounts whose address was never confirmed.
    pub unconfirmed: usize,
    /// Candidate accounts warned of their deletion for inactivity.
    pub warned: usize,
    /// Candidate accounts deleted for inactivity.
    pub inactive: usize,
    /// Refused recruiter requests.
    pub refused: usize,
    /// Expired sessions and links.
    pub tokens: usize,
    /// Throttle counts.
    pub throttles: usize,
    /// Settled mails.
    pub mails: usize,
    /// Handled reports.
    pub reports: usize,
    /// Rows of daily statistics.
    pub stats: usize,
}

impl Candidates<'_> {
    /// One pass of every retention rule at the engine's time.
    pub fn apply_retention(&self) -> Result<Purged> {
        let now = self.engine.now();
        let store = self.engine.store();
        let mut done = Purged::default();
        for a in store.accounts()? {
            match a.role {
                Role::Candidate => self.candidate_retention(&a, &mut done)?,
                Role::Recruiter
                    if a.state == AccountState::Refused
                        && a.created_at < now - Duration::days(REPORT_DAYS) =>
                {
                    store.write(|tx| {
                        tx.revoke_tokens(a.id, None)?;
                        tx.delete_account(&a, std::slice::from_ref(&a.email))
                    })?;
                    done.refused += 1;
                }
                _ => {}
            }
        }
        done.tokens = store.purge_tokens(now)?;
        done.throttles = store.prune_throttles(now - Duration::days(THROTTLE_DAYS))?;
        done.mails = store.purge_mails(now - Duration::days(MAIL_DAYS))?;
        done.reports = store.purge_reports(now - Duration::days(REPORT_DAYS))?;
        let today = (now.unix_timestamp().div_euclid(86_400)) as i32;
        done.stats = store.purge_stats(today - STATS_DAYS as i32)?;
        Ok(done)
    }

    fn candidate_retention(&self, a: &Account, done: &mut Purged) -> Result<()> {
        let now = self.engine.now();
        if !a.email_confirmed && a.created_at < now - Duration::days(UNCONFIRMED_DAYS) {
            self.delete_me(a)?;
            done.unconfirmed += 1;
            return Ok(());
        }
        let last_seen = a.last_login_at.unwrap_or(a.created_at);
        if last_seen >= now - Duration::days(INACTIVE_DAYS) {
            return Ok(());
        }
        match a.inactivity_warned_at {
            Some(warned) if warned < now - Duration::days(WARNING_DAYS) => {
                self.delete_me(a)?;
                done.inactive += 1;
            }
            Some(_) => {}
            None => {
                let site = self.links.site_name();
                let day = self.engine.zone().local(now + Duration::days(WARNING_DAYS));
                let on = format!("{:02}/{:02}/{}", day.day(), day.month() as u8, day.year());
                let letter = Letter::new(
                    format!("Votre compte sera supprimé le {on} – {site}"),
                    format!("Bonjour {},", a.first_name),
                )
                .para(format!(
                    "Vous ne vous êtes pas connecté à votre compte candidat depuis plus de deux ans. Comme l'annonce la page « Données personnelles », il sera supprimé le {on}, avec ses recherches et ses alertes."
                ))
                .para("Pour le garder, il suffit de vous connecter avant cette date.")
                .action("Me connecter", format!("{}{}", self.links.base(), crate::links::LOGIN))
                .because(format!(
                    "Vous recevez ce message parce que cette adresse est celle d'un compte candidat sur {site}."
                ));
                self.engine.store().write(|tx| {
                    let Some(mut fresh) = tx.account(a.id)? else {
                        return Ok(());
                    };
                    fresh.inactivity_warned_at = Some(now);
                    tx.put_account(&fresh)?;
                    tx.queue_mail(letter.to(&fresh.email, &self.links, now))
                        .map(|_| ())
                })?;
                done.warned += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use time::macros::datetime;

    use super::*;
    use crate::auth::Auth;
    use crate::candidates::Signup;
    use crate::engine::Engine;
    use crate::links::Links;
    use crate::store::mails::MailState;

    const DAY: i64 = 86_400;

    fn signup(c: &Candidates<'_>, name: &str) -> Account {
        c.signup(Signup {
            first_name: Some("Jeanne".into()),
            last_name: Some(name.into()),
            email: Some(format!("{name}@exemple.fr")),
            username: Some(name.into()),
            password: Some("Un-Mot-De-Passe-2026".into()),
            cgu: Some(true),
            ..Signup::default()
        })
        .unwrap()
    }

    #[test]
    fn the_periods_of_the_privacy_page_apply_as_the_clock_moves() {
        let dir = tempfile::tempdir().unwrap();
        let start = datetime!(2026-12-03 10:00 UTC);
        let offset = Arc::new(AtomicI64::new(0));
        let o = offset.clone();
        let engine = Engine::open_with_clock(
            dir.path(),
            Arc::new(move || start + Duration::seconds(o.load(Ordering::SeqCst))),
        )
        .unwrap();
        let at = |days: i64| offset.store(days * DAY, Ordering::SeqCst);
        let c = Candidates::new(&engine, "https://portail.example", 20);
        let store = engine.store();
        let confirmed = |name: &str| {
            let a = signup(&c, name);
            store
                .write(|tx| {
                    let mut a = tx.account(a.id)?.unwrap();
                    a.email_confirmed = true;
                    tx.put_account(&a)
                })
                .unwrap();
            a.id
        };
        let never = signup(&c, "jamais").id;
        let sleeper = confirmed("dormeuse");
        let regular = confirmed("fidele");
        let exists = |id: u64| store.account(id).unwrap().is_some();
        let links = Links::new("https://portail.example");
        let login = |name: &str| {
            Auth::new(&engine, &links)
                .login(name, "Un-Mot-De-Passe-2026", false)
                .unwrap()
        };
        // Statistics of the opening day, and a mail sent then.
        let opening_day = (start.unix_timestamp() / DAY) as i32;
        let one_view = crate::store::stats::Counts {
            views: 1,
            ..Default::default()
        };
        store.add_stats(&[((1, opening_day), one_view)]).unwrap();
        let mut sent = store.mails().unwrap().remove(0);
        sent.state = MailState::Sent;
        store.write(|tx| tx.put_mail(&sent)).unwrap();

        // Six days on: nothing yet.
        at(6);
        let p = c.apply_retention().unwrap();
        assert_eq!((p.unconfirmed, p.warned, p.inactive), (0, 0, 0));
        assert!(exists(never));
        // Past seven days, the account never confirmed goes, and its login with it.
        at(UNCONFIRMED_DAYS + 1);
        assert_eq!(c.apply_retention().unwrap().unconfirmed, 1);
        assert!(!exists(never) && exists(sleeper) && exists(regular));
        assert!(store.account_by_login("jamais").unwrap().is_none());
        // The regular one logs in now and then; the sleeper never again.
        at(400);
        let session = login("fidele");
        assert!(
            store
                .token(&crate::auth::token_hash(&session))
                .unwrap()
                .is_some()
        );
        assert_eq!(engine.offer_stats(1).unwrap().len(), 1, "kept 13 months");

        at(INACTIVE_DAYS - 1);
        assert_eq!(c.apply_retention().unwrap().warned, 0, "two years not over");
        assert!(
            store.mails().unwrap().iter().all(|m| m.id != sent.id),
            "sent mails are kept 30 days"
        );
        // Two years after its creation, the sleeper is warned, once.
        at(INACTIVE_DAYS + 1);
        let p = c.apply_retention().unwrap();
        assert_eq!((p.warned, p.inactive), (1, 0));
        assert_eq!(c.apply_retention().unwrap().warned, 0, "warned once");
        let warning = store
            .mails()
            .unwrap()
            .into_iter()
            .find(|m| m.to == "dormeuse@exemple.fr" && m.subject.contains("sera supprimé"))
            .expect("the warning mail");
        assert!(warning.text.contains("Me connecter") && warning.html.contains("Me connecter"));
        assert!(
            store
                .account(sleeper)
                .unwrap()
                .unwrap()
                .inactivity_warned_at
                .is_some()
        );
        // A month later, unless the person logged in, the account is deleted.
        at(INACTIVE_DAYS + 1 + WARNING_DAYS + 1);
        let p = c.apply_retention().unwrap();
        assert_eq!(p.inactive, 1);
        assert!(!exists(sleeper) && exists(regular));
        // The regular one: warned two years after its last login, then logs in: kept.
        at(400 + INACTIVE_DAYS + 1);
        assert_eq!(c.apply_retention().unwrap().warned, 1);
        login("fidele");
        assert!(
            store
                .account(regular)
                .unwrap()
                .unwrap()
                .inactivity_warned_at
                .is_none()
        );
        at(400 + INACTIVE_DAYS + WARNING_DAYS + 10);
        assert_eq!(c.apply_retention().unwrap().inactive, 0);
        assert!(exists(regular));
        // The expired session and the statistics older than 13 months are gone.
        assert!(
            store
                .token(&crate::auth::token_hash(&session))
                .unwrap()
                .is_none()
        );
        assert!(engine.offer_stats(1).unwrap().is_empty());
    }
}
