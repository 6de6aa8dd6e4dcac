//! Outgoing mail: rows queued in the store (in the same transaction as the change that causes
//! them) are sent by one task through lettre — SMTP when configured, otherwise `.eml` files in
//! the data dir's `outbox/` — then marked sent. Transient failures are retried with backoff;
//! permanent ones are given up with a logged reason.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use time::OffsetDateTime;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::accounts::{Mail, MailState};

/// Attempts before a transiently failing mail is given up.
const MAX_ATTEMPTS: u32 = 10;
/// Mails taken per round.
const BATCH: usize = 100;

/// Where mails go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server (pooled connections).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory.
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Parses `smtp://host[:port]`.
pub fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let rest = url.strip_prefix("smtp://").ok_or_else(|| {
        Error::Internal(format!(
            "smtp_url '{url}': only smtp://host:port is supported in this build"
        ))
    })?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| Error::Internal(format!("smtp_url '{url}': bad port")))?,
        ),
        None => (rest, 25),
    };
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)))
            .build(),
    )
}

impl Transport {
    /// SMTP when `smtp_url` is set, otherwise files under `data_dir/outbox`.
    pub fn from_config(smtp_url: Option<&str>, data_dir: &Path) -> Result<Transport> {
        match smtp_url {
            Some(url) => Ok(Transport::Smtp(smtp_transport(url)?)),
            None => {
                let dir = data_dir.join("outbox");
                std::fs::create_dir_all(&dir)?;
                Ok(Transport::Files(AsyncFileTransport::new(dir)))
            }
        }
    }

    async fn send(&self, m: Message) -> std::result::Result<(), (bool, String)> {
        match self {
            Transport::Smtp(t) => t
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| (e.is_permanent(), e.to_string())),
            Transport::Files(t) => t
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| (false, e.to_string())),
        }
    }
}

/// Builds the MIME message of a queued mail: multipart text + HTML, extra headers.
pub fn message(from: &str, m: &Mail) -> std::result::Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from address: {e}"))?;
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("to address '{}': {e}", m.to))?;
    let mut msg = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            m.text.clone(),
            m.html.clone(),
        ))
        .map_err(|e| e.to_string())?;
    for (name, value) in &m.headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| e.to_string())?;
        msg.headers_mut()
            .insert_raw(HeaderValue::new(name, value.clone()));
    }
    Ok(msg)
}

/// A new mail to queue.
pub fn new_mail(to: &str, subject: &str, text: String, html: String, now: OffsetDateTime) -> Mail {
    Mail {
        id: 0,
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html,
        headers: Vec::new(),
        state: MailState::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
    }
}

/// Sends what is due once; returns how many were sent.
pub async fn send_due(engine: &Arc<Engine>, transport: &Transport, from: &str) -> Result<usize> {
    let e = engine.clone();
    let due = tokio::task::spawn_blocking(move || e.store().due_mails(e.now(), BATCH))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let mut sent = 0;
    for mut m in due {
        let outcome = match message(from, &m) {
            Ok(msg) => transport.send(msg).await,
            Err(e) => Err((true, e)),
        };
        let now = engine.now();
        match outcome {
            Ok(()) => {
                m.state = MailState::Sent;
                m.last_error = None;
                sent += 1;
                metrics::counter!("mails_sent_total").increment(1);
            }
            Err((permanent, reason)) => {
                m.attempts += 1;
                m.last_error = Some(reason.clone());
                if permanent || m.attempts >= MAX_ATTEMPTS {
                    m.state = MailState::Failed;
                    tracing::error!(mail = m.id, to = %m.to, attempts = m.attempts, %reason, "mail given up");
                    metrics::counter!("mails_failed_total").increment(1);
                } else {
                    let backoff = 2u64.saturating_pow(m.attempts).min(3600);
                    m.next_attempt_at = now + time::Duration::seconds(backoff as i64);
                    tracing::warn!(mail = m.id, to = %m.to, attempts = m.attempts, %reason, retry_in_s = backoff, "mail delivery failed; will retry");
                }
            }
        }
        let e = engine.clone();
        tokio::task::spawn_blocking(move || e.store().write(|tx| tx.put_mail(&m)))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
    }
    Ok(sent)
}

/// The sender task: sends due mails when woken, and at least every second.
pub async fn run(
    engine: Arc<Engine>,
    transport: Transport,
    from: String,
    wake: Arc<tokio::sync::Notify>,
) {
    loop {
        match send_due(&engine, &transport, &from).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "mail sender round failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Escapes text for HTML mail bodies.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
