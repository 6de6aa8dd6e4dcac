//! Where mails go (SMTP or `.eml` files) and how a queued mail becomes a MIME message.

use std::path::Path;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::error::{Error, Result};
use crate::store::accounts::Mail;

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

    /// Hands a message to the transport.
    pub async fn send(&self, m: Message) -> Outcome {
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
