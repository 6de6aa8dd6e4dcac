//! Outgoing mail, knowing nothing of what a mail is about: rows queued in the store (in the
//! same transaction as the change that causes them) are delivered through lettre — SMTP when
//! configured, otherwise `.eml` files in the data dir's `outbox/` — then marked sent.
//! Transient failures are retried with one backoff rule; permanent ones are given up.

mod backoff;
mod letter;
mod queue;
mod transport;

pub use backoff::{Delivery, MAX_ATTEMPTS, Outcome, Settled, retry_at, settle};
pub use letter::Letter;
pub use queue::{new_mail, send_due};
pub use transport::{SMTP_CONNECTIONS, Transport, message, smtp_transport};

/// Escapes text for HTML mail bodies.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
