//! One retry rule for every mail, account mail or alert: exponential backoff (2^n s, at most an
//! hour), given up after [`MAX_ATTEMPTS`] or at once on a permanent refusal.

use time::OffsetDateTime;

/// Attempts before a transiently failing mail is given up.
pub const MAX_ATTEMPTS: u32 = 10;

/// What a delivery attempt gave: done, or failed (permanently or not) with a reason.
pub type Outcome = std::result::Result<(), (bool, String)>;

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
}
