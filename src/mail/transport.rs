//! Where mails go (SMTP or `.eml` files) and how a queued mail becomes a MIME message.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::error::{Error, Result};
use crate::store::mails::Mail;

/// SMTP connections kept open to the server (and mails in flight at most).
pub const SMTP_CONNECTIONS: usize = 16;

/// Where mails go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server spoken to in TLS from the first byte (lettre's pooled connections).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// An SMTP server, plain or STARTTLS (pooled connections of our own).
    Direct(Arc<DirectSmtp>),
    /// `.eml` files in a directory.
    Files(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
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
pub fn smtp_transport(url: &str, ca_file: Option<&Path>) -> Result<Transport> {
    use lettre::transport::smtp::client::{Certificate, TlsParameters};
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
    let credentials = (!u.username().is_empty()).then(|| {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Credentials::new(
            decode(u.username()),
            decode(u.password().unwrap_or_default()),
        )
    });
    let tls = match mode {
        TlsMode::Implicit => Tls::Wrapper(params),
        TlsMode::Required => Tls::Required(params),
        TlsMode::Opportunistic => Tls::Opportunistic(params),
        TlsMode::None => Tls::None,
    };
    if mode != TlsMode::Implicit {
        return Ok(Transport::Direct(Arc::new(DirectSmtp {
            host,
            port,
            tls,
            credentials,
            hello: ClientId::default(),
            idle: Mutex::new(Vec::new()),
        })));
    }
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(SMTP_CONNECTIONS as u32))
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(c) = credentials {
        builder = builder.credentials(c);
    }
    Ok(Transport::Smtp(builder.build()))
}

/// How long one SMTP step (connecting, one command, one message) may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// An idle connection older than this is closed rather than reused.
const SMTP_IDLE: Duration = Duration::from_secs(30);

/// Connections to an SMTP server (plain or STARTTLS) that offerwatch opens itself, with
/// `TCP_NODELAY`: lettre writes a message and its final `.` in two writes, and Nagle's
/// algorithm holds the second until the server acknowledges the first, which a server that
/// delays its acknowledgements does 40 ms later — 40 ms per mail. Up to [`SMTP_CONNECTIONS`]
/// stay open for the next mails.
pub struct DirectSmtp {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: Mutex<Vec<(Instant, AsyncSmtpConnection)>>,
}

/// A failed step: whether it is permanent, and why.
type Failure = (bool, String);

async fn within<T, E: std::fmt::Display>(
    what: &str,
    step: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<T, Failure> {
    match tokio::time::timeout(SMTP_TIMEOUT, step).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err((false, format!("{what}: {e}"))),
        Err(_) => Err((
            false,
            format!("{what}: no answer in {} s", SMTP_TIMEOUT.as_secs()),
        )),
    }
}

impl DirectSmtp {
    async fn connect(&self) -> std::result::Result<AsyncSmtpConnection, Failure> {
        let tcp = within(
            "connection",
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await?;
        tcp.set_nodelay(true)
            .map_err(|e| (false, format!("connection: {e}")))?;
        let mut conn = within(
            "greeting",
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello),
        )
        .await?;
        let params = match &self.tls {
            Tls::Opportunistic(p) | Tls::Required(p) if conn.can_starttls() => Some(p.clone()),
            Tls::Required(_) => {
                return Err((false, "the server does not offer STARTTLS".into()));
            }
            _ => None,
        };
        if let Some(p) = params {
            within("STARTTLS", conn.starttls(p, &self.hello)).await?;
        }
        if let Some(c) = &self.credentials {
            within("AUTH", conn.auth(&[Mechanism::Plain, Mechanism::Login], c)).await?;
        }
        Ok(conn)
    }

    /// An idle connection young enough, or a new one; says whether it was reused.
    async fn checkout(&self) -> std::result::Result<(AsyncSmtpConnection, bool), Failure> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match idle {
                Some((since, conn)) if since.elapsed() < SMTP_IDLE && !conn.has_broken() => {
                    return Ok((conn, true));
                }
                Some((_, mut old)) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), old.quit()).await;
                }
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    /// Sends one message; a reused connection the server closed meanwhile is replaced.
    pub async fn send(&self, m: &Message) -> Outcome {
        let bytes = m.formatted();
        loop {
            let (mut conn, reused) = self.checkout().await?;
            match within("message", conn.send(m.envelope(), &bytes)).await {
                Ok(_) => {
                    let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                    if idle.len() < SMTP_CONNECTIONS {
                        idle.push((Instant::now(), conn));
                    }
                    return Ok(());
                }
                Err(_) if reused && conn.has_broken() => continue,
                Err(failure) => {
                    conn.abort().await;
                    return Err(failure);
                }
            }
        }
    }
}

impl Transport {
    /// SMTP when `smtp_url` is set, otherwise files under `data_dir/outbox`.
    pub fn from_config(
        smtp_url: Option<&str>,
        ca_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<Transport> {
        match smtp_url {
            Some(url) => smtp_transport(url, ca_file),
            None => {
                let dir = data_dir.join("outbox");
                crate::store::create_private_dir(&dir)?;
                Ok(Transport::Files(AsyncFileTransport::new(&dir), dir))
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
            Transport::Direct(t) => t.send(&m).await,
            Transport::Files(t, dir) => {
                let id = t.send(m).await.map_err(|e| (false, e.to_string()))?;
                // The file holds live links: for the service's user alone, whatever the umask.
                let file = dir.join(format!("{id}.eml"));
                crate::store::set_private(&file)
                    .map_err(|e| (false, format!("{}: {e}", file.display())))
            }
        }
    }
}

/// Builds the MIME message of a queued mail: multipart text + HTML, extra headers, and the
/// bytes of its attached files (`files`, in the order of `m.attachments`); its Message-ID
/// (unless a header gives one) is `<mail.ID@domain>`, `domain` being the public URL's host.
pub fn message(
    from: &str,
    domain: &str,
    m: &Mail,
    files: &[Vec<u8>],
) -> std::result::Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from address: {e}"))?;
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("to address '{}': {e}", m.to))?;
    let has_id = m
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("message-id"));
    let id = (!has_id).then(|| format!("<mail.{}@{domain}>", m.id));
    let text = MultiPart::alternative_plain_html(m.text.clone(), m.html.clone());
    let body = if m.attachments.is_empty() {
        text
    } else {
        if files.len() != m.attachments.len() {
            return Err(format!(
                "{} attached files expected, {} found",
                m.attachments.len(),
                files.len()
            ));
        }
        let mut mixed = MultiPart::mixed().multipart(text);
        for (f, bytes) in m.attachments.iter().zip(files) {
            let ct = ContentType::parse(&f.content_type)
                .map_err(|e| format!("attachment {}: {e}", f.name))?;
            mixed = mixed.singlepart(Attachment::new(f.name.clone()).body(bytes.clone(), ct));
        }
        mixed
    };
    let mut msg = Message::builder()
        .message_id(id)
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .multipart(body)
        .map_err(|e| e.to_string())?;
    for (name, value) in &m.headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| e.to_string())?;
        msg.headers_mut()
            .insert_raw(HeaderValue::new(name, value.clone()));
    }
    Ok(msg)
}
