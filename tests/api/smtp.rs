//! A real SMTP server on loopback for the tests: speaks enough ESMTP for lettre (EHLO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT, AUTH PLAIN/LOGIN, STARTTLS) and keeps every message it accepts.
//! Plain, or TLS with a certificate made by the test (implicit TLS or STARTTLS).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Clone, Default)]
pub struct Sink {
    pub messages: Arc<Mutex<Vec<String>>>,
    /// Per accepted message: whether it came over TLS.
    pub over_tls: Arc<Mutex<Vec<bool>>>,
    /// The `AUTH` lines received.
    pub auth: Arc<Mutex<Vec<String>>>,
}

/// How the server speaks.
#[derive(Clone)]
pub enum Security {
    Plain,
    /// TLS from the first byte (`smtps://`).
    Implicit(TlsAcceptor),
    /// Plain, offering STARTTLS.
    StartTls(TlsAcceptor),
}

/// A certificate for `localhost` made for the test: (acceptor, the certificate in PEM).
pub fn tls_for_localhost() -> (TlsAcceptor, String) {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = CertificateDer::from(made.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    (TlsAcceptor::from(Arc::new(config)), made.cert.pem())
}

/// What a session ended with.
enum End<S> {
    Closed,
    /// The client asked for STARTTLS: the stream, to be upgraded.
    StartTls(S),
}

impl Sink {
    /// Starts a plain server; returns it and its `smtp://` URL.
    pub async fn start() -> (Sink, String) {
        let (sink, port) = Sink::start_with(Security::Plain).await;
        (sink, format!("smtp://127.0.0.1:{port}"))
    }

    /// Starts a server speaking `security` on 127.0.0.1; returns it and its port.
    pub async fn start_with(security: Security) -> (Sink, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = Sink::default();
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (s, security) = (s.clone(), security.clone());
                tokio::spawn(async move {
                    match security {
                        Security::Plain => {
                            s.session(stream, false, false).await;
                        }
                        Security::Implicit(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                s.session(stream, false, true).await;
                            }
                        }
                        Security::StartTls(tls) => {
                            if let End::StartTls(stream) = s.session(stream, true, false).await
                                && let Ok(stream) = tls.accept(stream).await
                            {
                                // After the upgrade the client says EHLO again; no greeting.
                                s.dialogue(BufReader::new(stream), false, true).await;
                            }
                        }
                    }
                });
            }
        });
        (sink, port)
    }

    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
        offer_starttls: bool,
        tls: bool,
    ) -> End<S> {
        if stream.write_all(b"220 sink ESMTP\r\n").await.is_err() {
            return End::Closed;
        }
        self.dialogue(BufReader::new(stream), offer_starttls, tls)
            .await
    }

    async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut lines: BufReader<S>,
        offer_starttls: bool,
        tls: bool,
    ) -> End<S> {
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return End::Closed;
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                match (offer_starttls, tls) {
                    (true, false) => b"250-sink\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                    (_, true) => b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
                    _ => b"250-sink\r\n250 8BITMIME\r\n",
                }
            } else if cmd == "STARTTLS" && offer_starttls && !tls {
                let _ = lines.get_mut().write_all(b"220 go ahead\r\n").await;
                return End::StartTls(lines.into_inner());
            } else if cmd.starts_with("AUTH") {
                self.auth.lock().unwrap().push(line.trim_end().to_string());
                b"235 authenticated\r\n"
            } else if cmd.starts_with("DATA") {
                let _ = lines.get_mut().write_all(b"354 go on\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return End::Closed;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                }
                self.messages.lock().unwrap().push(data);
                self.over_tls.lock().unwrap().push(tls);
                b"250 queued\r\n"
            } else if cmd.starts_with("QUIT") {
                let _ = lines.get_mut().write_all(b"221 bye\r\n").await;
                return End::Closed;
            } else {
                b"250 ok\r\n"
            };
            if lines.get_mut().write_all(reply).await.is_err() {
                return End::Closed;
            }
        }
    }

    pub fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Messages whose headers contain `needle`.
    pub fn with(&self, needle: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|m| m.contains(needle))
            .collect()
    }
}

/// The value of a header of a raw message.
pub fn header(message: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = message.lines().take_while(|l| !l.is_empty()).peekable();
    while let Some(l) = lines.next() {
        if l.to_ascii_lowercase().starts_with(&prefix) {
            let mut v = l[prefix.len()..].trim().to_string();
            while lines
                .peek()
                .is_some_and(|n| n.starts_with(' ') || n.starts_with('\t'))
            {
                v.push_str(lines.next().unwrap().trim_start());
            }
            return Some(v);
        }
    }
    None
}

/// The decoded text of a message (quoted-printable and base64 parts).
pub fn decoded(raw: &str) -> String {
    let s = raw.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    for block in raw.split("\r\n\r\n").chain(raw.split("\n\n")) {
        let joined: String = block.lines().map(str::trim).collect();
        if let Ok(bytes) =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, joined.trim())
        {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}
