//! One retry rule for every mail, account mail or alert: exponential backoff (2^n s, at most an
//! hour), given up after [`MAX_ATTEMPTS`] or at once on a permanent refusal.

use time::OffsetDateTime;

use crate::store::alerts::OutboxRow;
use crate::store::mails::{Mail, MailState};

/// Attempts before a transiently failing mail is given up.
pub const MAX_ATTEMPTS: u32 = 10;

/// What a delivery attempt gave: done, or failed (permanently or not) with a reason.
pub type Outcome = std::result::Result<(), (bool, String)>;

/// Where a mail stands in its delivery: a queued account mail or an alert's outbox row.
pub trait Delivery {
    /// Its state, the attempts so far, when it is due next and why the last attempt failed.
    fn delivery(
        &mut self,
    ) -> (
        &mut MailState,
        &mut u32,
        &mut OffsetDateTime,
        &mut Option<String>,
    );
}

/// Account mails and alert rows hold their delivery in fields of the same names.
macro_rules! delivery_fields {
    ($($t:ty),*) => {$(
        impl Delivery for $t {
            fn delivery(
                &mut self,
            ) -> (&mut MailState, &mut u32, &mut OffsetDateTime, &mut Option<String>) {
                (
                    &mut self.state,
                    &mut self.attempts,
                    &mut self.next_attempt_at,
                    &mut self.last_error,
                )
            }
        }
    )*};
}
delivery_fields!(Mail, OutboxRow);

/// What an attempt's outcome made of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Delivered.
    Sent,
    /// Failed; tried again at this instant.
    Retry(OffsetDateTime),
    /// Failed for good.
    GivenUp,
}

/// Records `outcome` at `now` on a delivery: sent, or one more failed attempt, tried again
/// later by [`retry_at`] or given up.
pub fn settle(d: &mut impl Delivery, outcome: &Outcome, now: OffsetDateTime) -> Settled {
    let (state, attempts, next_attempt_at, last_error) = d.delivery();
    match outcome {
        Ok(()) => {
            *state = MailState::Sent;
            *last_error = None;
            Settled::Sent
        }
        Err((permanent, reason)) => {
            *attempts += 1;
            *last_error = Some(reason.clone());
            match retry_at(*attempts, *permanent, now) {
                Some(at) => {
                    *next_attempt_at = at;
                    Settled::Retry(at)
                }
                None => {
                    *state = MailState::Failed;
                    Settled::GivenUp
                }
            }
        }
    }
}

/// When to try again after the `attempts`-th failure, or `None` to give up.
pub fn retry_at(attempts: u32, permanent: bool, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if permanent || attempts >= MAX_ATTEMPTS {
        None
    } else {
        let backoff = 2i64.saturating_pow(attempts).min(3600);
        Some(now + time::Duration::seconds(backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn backoff_doubles_then_gives_up() {
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(
            retry_at(1, false, now),
            Some(now + time::Duration::seconds(2))
        );
        assert_eq!(
            retry_at(3, false, now),
            Some(now + time::Duration::seconds(8))
        );
        assert_eq!(retry_at(1, true, now), None);
        assert_eq!(retry_at(MAX_ATTEMPTS, false, now), None);
    }

    #[test]
    fn an_account_mail_and_an_alert_row_settle_alike() {
        let now = datetime!(2026-11-25 12:00 UTC);
        let mut mail = crate::mail::new_mail(
            "a@example.org",
            "Objet",
            "texte".into(),
            "<p>texte</p>".into(),
            now,
        );
        let mut row = OutboxRow {
            search: 1,
            offer: 2,
            account: 3,
            frequency: crate::domain::account::Frequency::Immediate,
            state: MailState::Pending,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            last_error: None,
        };
        let busy: Outcome = Err((false, "421 busy".into()));
        let refused: Outcome = Err((true, "550 no such user".into()));
        assert_eq!(
            settle(&mut mail, &busy, now),
            Settled::Retry(now + time::Duration::seconds(2))
        );
        assert_eq!(
            settle(&mut row, &busy, now),
            Settled::Retry(now + time::Duration::seconds(2))
        );
        for d in [mail.delivery(), row.delivery()] {
            assert_eq!(
                (*d.0, *d.1, d.3.as_deref()),
                (MailState::Pending, 1, Some("421 busy"))
            );
        }
        assert_eq!(settle(&mut mail, &Ok(()), now), Settled::Sent);
        assert_eq!(
            (mail.state, mail.last_error.as_deref()),
            (MailState::Sent, None)
        );
        assert_eq!(settle(&mut row, &refused, now), Settled::GivenUp);
        assert_eq!((row.state, row.attempts), (MailState::Failed, 2));
    }
}
