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

/// The sender task: percolates newly published offers, then sends due account mails and alert
/// mails, when woken and at least every 250 ms.
pub async fn run(
    engine: Arc<Engine>,
    transport: Transport,
    from: String,
    settings: AlertMailSettings,
    wake: Arc<tokio::sync::Notify>,
) {
    loop {
        let e = engine.clone();
        match tokio::task::spawn_blocking(move || e.percolate_pending()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(matches = n, "offers percolated"),
            Ok(Err(e)) => tracing::error!(error = %e, "percolation failed"),
            _ => {}
        }
        let mut busy = false;
        match send_due(&engine, &transport, &from).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::error!(error = %e, "mail sender round failed"),
        }
        match send_alerts(&engine, &transport, &from, &settings).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::error!(error = %e, "alert sender round failed"),
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
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

/// Settings of the alert mails.
#[derive(Clone)]
pub struct AlertMailSettings {
    /// Base URL of the portal (links, unsubscribe).
    pub base_url: String,
    /// Hour (UTC) of the daily digests.
    pub digest_hour: u8,
    /// Saved searches per candidate (for the alerts helper).
    pub max_searches: usize,
}

fn offer_lines(o: &crate::domain::Offer, base: &str) -> (String, String) {
    let f = &o.fields;
    let place = f
        .location
        .clone()
        .unwrap_or_else(|| f.country.label().to_string());
    let url = format!("{base}/offres/{}", o.reference);
    let text = format!(
        "{}\n{} · {} · {}\n{} — début {}\nRéférence {} : {}\n",
        f.title,
        f.contract.label(),
        f.diploma.label(),
        place,
        f.service,
        f.start,
        o.reference,
        url
    );
    let html = format!(
        "<h2 style=\"font-size:1.1em\"><a href=\"{}\">{}</a></h2><p>{} · {} · {}<br>{} — début {}<br>Référence {}</p>",
        html_escape(&url),
        html_escape(&f.title),
        html_escape(f.contract.label()),
        html_escape(f.diploma.label()),
        html_escape(&place),
        html_escape(&f.service),
        f.start,
        o.reference
    );
    (text, html)
}

/// Composes the mail of one alert: one offer (immediate) or the day's offers (daily digest).
fn alert_mail(
    engine: &Engine,
    settings: &AlertMailSettings,
    search: &crate::domain::account::SavedSearch,
    account: &crate::domain::account::Account,
    offers: &[crate::domain::Offer],
    message_id: String,
) -> Result<Mail> {
    let alerts = crate::alerts::Alerts::new(engine, &settings.base_url, settings.max_searches);
    let token = alerts.unsubscribe_token(search.id)?;
    let unsubscribe = format!(
        "{}/api/v1/alerts/unsubscribe?token={token}",
        settings.base_url
    );
    let search_url = format!(
        "{}/?{}",
        settings.base_url,
        serde_urlencoded::to_string(&search.criteria).unwrap_or_default()
    );
    let subject = match offers {
        [one] => format!("Nouvelle offre : {}", one.fields.title),
        many => format!("{} nouvelles offres pour « {} »", many.len(), search.name),
    };
    let mut text = format!(
        "Bonjour {},\n\nVotre alerte « {} » a trouvé :\n\n",
        account.first_name, search.name
    );
    let mut html = format!(
        "<p>Bonjour {},</p><p>Votre alerte « {} » a trouvé :</p>",
        html_escape(&account.first_name),
        html_escape(&search.name)
    );
    for o in offers {
        let (t, h) = offer_lines(o, &settings.base_url);
        text.push_str(&t);
        text.push('\n');
        html.push_str(&h);
    }
    text.push_str(&format!(
        "Voir la recherche : {search_url}\nSe désabonner de cette alerte : {unsubscribe}\n"
    ));
    html.push_str(&format!(
        "<p><a href=\"{}\">Voir la recherche</a> · <a href=\"{}\">Se désabonner de cette alerte</a></p>",
        html_escape(&search_url),
        html_escape(&unsubscribe)
    ));
    let mut m = new_mail(&account.email, &subject, text, html, engine.now());
    m.headers = vec![
        ("List-Unsubscribe".into(), format!("<{unsubscribe}>")),
        (
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ),
        ("Message-ID".into(), message_id),
    ];
    Ok(m)
}

/// Sends the alert mails that are due: immediate matches at once, daily ones as one digest per
/// alert after the digest hour. A row is marked sent only after the server accepted the mail;
/// its Message-ID is derived from (alert, offer) so that a resend after a crash is recognisable.
pub async fn send_alerts(
    engine: &Arc<Engine>,
    transport: &Transport,
    from: &str,
    settings: &AlertMailSettings,
) -> Result<usize> {
    use crate::domain::account::Frequency;
    use std::collections::BTreeMap;
    let e = engine.clone();
    let rows = tokio::task::spawn_blocking(move || e.store().pending_outbox())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    if rows.is_empty() {
        return Ok(0);
    }
    let now = engine.now();
    let digest_time = now
        .date()
        .with_hms(settings.digest_hour.min(23), 0, 0)
        .map(|d| d.assume_utc())
        .unwrap_or(now);
    let mut groups: BTreeMap<(u64, Option<u64>), Vec<crate::store::alerts::OutboxRow>> =
        BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.next_attempt_at <= now) {
        match r.frequency {
            Frequency::Immediate => groups.entry((r.search, Some(r.offer))).or_default().push(r),
            Frequency::Daily if now >= digest_time && r.created_at < digest_time => {
                groups.entry((r.search, None)).or_default().push(r)
            }
            Frequency::Daily => {}
        }
    }
    let mut sent = 0;
    for ((search_id, offer), mut rows) in groups {
        let e = engine.clone();
        let ids: Vec<u64> = rows.iter().map(|r| r.offer).collect();
        let loaded = tokio::task::spawn_blocking(move || -> Result<_> {
            let s = e.store().saved_search(search_id)?;
            let a = match &s {
                Some(s) => e.store().account(s.account)?,
                None => None,
            };
            Ok((s, a, e.store().offers(&ids)?))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let (search, account, offers) = loaded;
        let outcome: std::result::Result<(), (bool, String)> = match (&search, &account) {
            (Some(s), Some(a)) if s.alert && a.email_confirmed && !offers.is_empty() => {
                let id = match offer {
                    Some(o) => format!("<alert.{search_id}.{o}@offerwatch>"),
                    None => format!("<digest.{search_id}.{}@offerwatch>", now.date()),
                };
                match alert_mail(engine, settings, s, a, &offers, id)
                    .map_err(|e| e.to_string())
                    .and_then(|m| message(from, &m))
                {
                    Ok(msg) => transport.send(msg).await,
                    Err(e) => Err((true, e)),
                }
            }
            // Switched off, unconfirmed or gone since the match: never sent.
            _ => Err((true, "alert off, address unconfirmed or offer gone".into())),
        };
        for r in rows.iter_mut() {
            match &outcome {
                Ok(()) => r.state = MailState::Sent,
                Err((permanent, reason)) => {
                    r.attempts += 1;
                    r.last_error = Some(reason.clone());
                    if *permanent || r.attempts >= MAX_ATTEMPTS {
                        r.state = MailState::Failed;
                    } else {
                        r.next_attempt_at = now
                            + time::Duration::seconds(2i64.saturating_pow(r.attempts).min(3600));
                    }
                }
            }
        }
        match &outcome {
            Ok(()) => {
                sent += 1;
                metrics::counter!("alert_mails_sent_total").increment(1);
            }
            Err((_, reason)) => tracing::warn!(search = search_id, %reason, "alert mail not sent"),
        }
        let e = engine.clone();
        tokio::task::spawn_blocking(move || {
            e.store()
                .write(|tx| rows.iter().try_for_each(|r| tx.put_outbox(r)))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    }
    Ok(sent)
}
