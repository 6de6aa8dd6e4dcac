//! How long the portal keeps what it holds: the periods the privacy page states and the purge
//! applies (one list, so that the page says what the code does).

/// A candidate account whose address was never confirmed is deleted after this many days.
pub const UNCONFIRMED_DAYS: i64 = 7;
/// A candidate account without a login for this many days (two years) is warned by mail…
pub const INACTIVE_DAYS: i64 = 730;
/// …and deleted this many days after the warning unless the person logs in.
pub const WARNING_DAYS: i64 = 30;
/// Per-offer statistics (views, clicks, mails), by day, are kept this many months…
pub const STATS_MONTHS: i64 = 13;
/// …that is, this many days.
pub const STATS_DAYS: i64 = STATS_MONTHS * 31;
/// Counts of attempts (logins, forms, mails) per address are kept this many days.
pub const THROTTLE_DAYS: i64 = 1;
/// Mails sent (or given up) are kept this many days for the operators' support, then deleted.
pub const MAIL_DAYS: i64 = 30;
/// Reports of offers and contact messages, once handled, are kept this many days.
pub const REPORT_DAYS: i64 = 365;
/// A "Rester connecté" session lasts this many days (12 hours otherwise).
pub const LONG_SESSION_DAYS: i64 = 30;
