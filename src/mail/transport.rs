//! Where mails go (SMTP or `.eml` files) and how a queued mail becomes a MIME message.

use std::path::Path;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::error::{Error, Result};
use crate::store::accounts::Mail;

/// SMTP connections kept open to the server (and mails in flight at most).
pub const SMTP_CONNECTIONS: usize = 16;

/// Where mails go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server (pooled connections).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory.
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// How an SMTP URL asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `smtps://`: TLS from the first byte (implicit TLS, port 465 by default).
    Implicit,
    /// `smtp://…?tls=required`: STARTTLS, and a server that does not offer it is refused.
    Required,
    /// `smtp://` (or `?tls=opportunistic`): STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://…?tls=none`: plain text (a local relay).
    None,
}

fn bad(url: &str, what: &str) -> Error {
    // The password never goes into an error message.
    let shown = url::Url::parse(url)
        .map(|mut u| {
            let _ = u.set_password(None);
            u.to_string()
        })
        .unwrap_or_else(|_| "(unparsable)".into());
    Error::Internal(format!("smtp_url '{shown}': {what}"))
}

/// Parses `smtp[s]://[user:password@]host[:port][?tls=required|opportunistic|none]` into a
/// pooled transport; `ca_file` (PEM) adds a certificate authority to the system's roots.
pub fn smtp_transport(
    url: &str,
    ca_file: Option<&Path>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let u = url::Url::parse(url).map_err(|e| bad(url, &e.to_string()))?;
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad(url, "no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut mode = match u.scheme() {
        "smtps" => TlsMode::Implicit,
        "smtp" => TlsMode::Opportunistic,
        other => {
            return Err(bad(
                url,
                &format!("scheme '{other}' (allowed: smtp, smtps)"),
            ));
        }
    };
    for (k, v) in u.query_pairs() {
        match (k.as_ref(), v.as_ref(), mode) {
            ("tls", "required", TlsMode::Opportunistic | TlsMode::Required) => {
                mode = TlsMode::Required
            }
            ("tls", "opportunistic", TlsMode::Opportunistic) => {}
            ("tls", "none", TlsMode::Opportunistic) => mode = TlsMode::None,
            ("tls", _, TlsMode::Implicit) => {
                return Err(bad(url, "smtps:// is always TLS: drop the tls parameter"));
            }
            ("tls", other, _) => {
                return Err(bad(
                    url,
                    &format!("tls={other} (allowed: required, opportunistic, none)"),
                ));
            }
            (other, _, _) => {
                return Err(bad(
                    url,
                    &format!("unknown parameter '{other}' (allowed: tls)"),
                ));
            }
        }
    }
    let port = u
        .port()
        .unwrap_or(if mode == TlsMode::Implicit { 465 } else { 25 });
    let mut params = TlsParameters::builder(host.clone());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            Error::Internal(format!("OFFERWATCH_SMTP_CA_FILE {}: {e}", path.display()))
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            Error::Internal(format!(
                "OFFERWATCH_SMTP_CA_FILE {}: not a PEM certificate: {e}",
                path.display()
            ))
        })?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build()
        .map_err(|e| bad(url, &format!("TLS set-up: {e}")))?;
    let tls = match mode {
        TlsMode::Implicit => Tls::Wrapper(params),
        TlsMode::Required => Tls::Required(params),
        TlsMode::Opportunistic => Tls::Opportunistic(params),
        TlsMode::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(SMTP_CONNECTIONS as u32))
        .tls(tls)
        .timeout(Some(Duration::from_secs(20)));
    if !u.username().is_empty() {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        builder = builder.credentials(Credentials::new(
            decode(u.username()),
            decode(u.password().unwrap_or_default()),
        ));
    }
    Ok(builder.build())
}

impl Transport {
    /// SMTP when `smtp_url` is set, otherwise files under `data_dir/outbox`.
    pub fn from_config(
        smtp_url: Option<&str>,
        ca_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<Transport> {
        match smtp_url {
            Some(url) => Ok(Transport::Smtp(smtp_transport(url, ca_file)?)),
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

/// Builds the MIME message of a queued mail: multipart text + HTML, extra headers; its
/// Message-ID (unless a header gives one) is `<mail.ID@domain>`, `domain` being the public
/// URL's host.
pub fn message(from: &str, domain: &str, m: &Mail) -> std::result::Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from address: {e}"))?;
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("to address '{}': {e}", m.to))?;
    let has_id = m
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("message-id"));
    let id = (!has_id).then(|| format!("<mail.{}@{domain}>", m.id));
    let mut msg = Message::builder()
        .message_id(id)
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
