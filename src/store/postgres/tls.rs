//! TLS to PostgreSQL, as libpq reads `sslmode` and `sslrootcert` in the URL:
//! - `disable` (and no `sslmode`): plain connections, as before;
//! - `prefer`: TLS when the server offers it, without checking its certificate;
//! - `require`: TLS or no connection; the certificate is checked against `sslrootcert` when one
//!   is given (as libpq does), not otherwise;
//! - `verify-ca`: TLS, the certificate signed by `sslrootcert`;
//! - `verify-full`: the same, and issued for the host of the URL.
//!
//! The client library parses only `disable`, `prefer` and `require`: the two parameters are
//! taken out of the URL here and the TLS of rustls (the crate's other clients use it) is given
//! to the connection.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{Error, Result};

/// How a connection uses TLS (`sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The TLS of the connections to one database.
#[derive(Clone)]
pub(crate) enum Tls {
    /// Plain connections.
    None,
    /// TLS with rustls; `required` when a server without TLS is refused.
    Rustls { connect: MakeRustls, required: bool },
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Store(format!("database_url: {}", message.into()))
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL: the URL for the client
/// library, and the TLS its connections use.
pub(crate) fn from_url(url: &str) -> Result<(String, Tls)> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Key-value connection strings and the like: the client library reads them as is.
        return Ok((url.to_string(), Tls::None));
    };
    let (mut mode, mut root) = (Mode::Disable, None::<PathBuf>);
    let mut kept = Vec::new();
    for (k, v) in parsed.query_pairs() {
        match k.as_ref() {
            "sslmode" => {
                mode = match v.as_ref() {
                    "disable" | "allow" => Mode::Disable,
                    "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(config_error(format!(
                            "sslmode '{other}' is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        )));
                    }
                }
            }
            "sslrootcert" => root = Some(PathBuf::from(v.as_ref())),
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let roots = root.as_deref().map(load_roots).transpose()?;
    let (chain, check_name) = match (mode, roots) {
        (Mode::Disable, _) => return Ok((parsed.to_string(), Tls::None)),
        (Mode::VerifyCa | Mode::VerifyFull, None) => {
            return Err(config_error(
                "sslmode=verify-ca and verify-full need sslrootcert (the authority's certificate, PEM)",
            ));
        }
        (Mode::VerifyFull, Some(roots)) => (Some(webpki(roots)?), true),
        (Mode::VerifyCa | Mode::Require, Some(roots)) => (Some(webpki(roots)?), false),
        (Mode::Require | Mode::Prefer, None) | (Mode::Prefer, Some(_)) => (None, false),
    };
    let verifier = Arc::new(Verifier {
        chain,
        check_name,
        provider: provider(),
    });
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((
        parsed.to_string(),
        Tls::Rustls {
            connect: MakeRustls(Arc::new(config)),
            required: mode != Mode::Prefer,
        },
    ))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(path: &std::path::Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| config_error(format!("sslrootcert {}: {e}", path.display())))?;
    for c in certs {
        let c = c.map_err(|e| config_error(format!("sslrootcert {}: {e}", path.display())))?;
        roots
            .add(c)
            .map_err(|e| config_error(format!("sslrootcert {}: {e}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(config_error(format!(
            "sslrootcert {}: no certificate in it",
            path.display()
        )));
    }
    Ok(roots)
}

fn webpki(roots: RootCertStore) -> Result<Arc<dyn ServerCertVerifier>> {
    let v =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| config_error(format!("TLS: {e}")))?;
    Ok(v)
}

/// How a server's certificate is checked: against an authority (`chain`) or not at all, its
/// name or not; the handshake's signatures always.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<dyn ServerCertVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl Tls {
    /// Connects with `config` (whose `sslmode` this sets).
    pub(crate) fn connect(
        &self,
        config: &postgres::Config,
    ) -> std::result::Result<postgres::Client, postgres::Error> {
        match self {
            Tls::None => config.connect(postgres::NoTls),
            Tls::Rustls { connect, required } => {
                let mut config = config.clone();
                config.ssl_mode(if *required {
                    postgres::config::SslMode::Require
                } else {
                    postgres::config::SslMode::Prefer
                });
                config.connect(connect.clone())
            }
        }
    }
}

/// Makes the TLS connector of each connection.
#[derive(Clone)]
pub(crate) struct MakeRustls(Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<Connect> {
        let name = ServerName::try_from(domain.to_string()).map_err(io::Error::other)?;
        Ok(Connect(self.0.clone(), name))
    }
}

/// The TLS handshake of one connection.
pub(crate) struct Connect(Arc<ClientConfig>, ServerName<'static>);

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let s = tokio_rustls::TlsConnector::from(self.0)
                .connect(self.1, stream)
                .await?;
            Ok(Stream(s))
        })
    }
}

/// A connection over TLS.
pub(crate) struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::testing::OwnCluster;

    /// An authority and a certificate it signed for `names`: (authority PEM, cert PEM, key PEM).
    fn certificates(names: &[&str]) -> (String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "offerwatch test authority");
        let ca = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        (ca.pem(), cert.pem(), key.serialize_pem())
    }

    /// Whether the session of a connection made with `url` is encrypted (the server says).
    fn encrypted(url: &str) -> Result<bool> {
        let pg = super::super::Pg::connect(url)?;
        let mut c = pg.take()?;
        let rows = c.query(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?;
        pg.give_back(c);
        Ok(rows.first().is_some_and(|r| r.get::<_, bool>(0)))
    }

    fn with(url: &str, query: &str) -> String {
        format!("{url}?{query}")
    }

    #[test]
    fn sslmode_is_honoured_and_certificates_are_checked() {
        let (ca, cert, key) = certificates(&["localhost", "127.0.0.1"]);
        let cluster = OwnCluster::start(Some((&cert, &key))).expect("a private cluster with TLS");
        let url = cluster.database_url().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca).unwrap();
        let (other_ca, _, _) = certificates(&["localhost"]);
        let other_file = dir.path().join("other.pem");
        std::fs::write(&other_file, &other_ca).unwrap();
        let root = |f: &Path| format!("sslrootcert={}", f.display());
        // Plain as before without sslmode, and with disable.
        assert!(!encrypted(&url).unwrap());
        assert!(!encrypted(&with(&url, "sslmode=disable")).unwrap());
        // Encrypted: require (with or without the authority), verify-ca, verify-full.
        assert!(encrypted(&with(&url, "sslmode=require")).unwrap());
        assert!(encrypted(&with(&url, "sslmode=prefer")).unwrap());
        for mode in ["require", "verify-ca", "verify-full"] {
            let u = with(&url, &format!("sslmode={mode}&{}", root(&ca_file)));
            assert!(encrypted(&u).unwrap(), "{mode}");
        }
        // Another authority: refused by every mode that checks.
        for mode in ["require", "verify-ca", "verify-full"] {
            let u = with(&url, &format!("sslmode={mode}&{}", root(&other_file)));
            assert!(encrypted(&u).is_err(), "{mode} with another authority");
        }
        // A name the certificate was not made for: verify-full refuses, verify-ca does not.
        let by_name = url.replace("127.0.0.1", "localhost");
        assert!(
            encrypted(&with(
                &by_name,
                &format!("sslmode=verify-full&{}", root(&ca_file))
            ))
            .unwrap()
        );
        let (ca3, cert3, key3) = certificates(&["db.offerwatch.invalid"]);
        drop(cluster);
        let renamed = OwnCluster::start(Some((&cert3, &key3))).unwrap();
        let url3 = renamed.database_url().unwrap();
        let ca3_file = dir.path().join("ca3.pem");
        std::fs::write(&ca3_file, &ca3).unwrap();
        let err = encrypted(&with(
            &url3,
            &format!("sslmode=verify-full&{}", root(&ca3_file)),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("certificate"), "{err}");
        assert!(
            encrypted(&with(
                &url3,
                &format!("sslmode=verify-ca&{}", root(&ca3_file))
            ))
            .unwrap()
        );
        // Bad settings are named.
        let e = from_url(&with(&url3, "sslmode=verify-full")).err().unwrap();
        assert!(e.to_string().contains("sslrootcert"), "{e}");
        let e = from_url(&with(&url3, "sslmode=sometimes")).err().unwrap();
        assert!(e.to_string().contains("sslmode"), "{e}");
        // A server without TLS: require refuses, prefer goes plain.
        let plain = crate::testing::database_url();
        assert!(encrypted(&with(&plain, "sslmode=require")).is_err());
        assert!(!encrypted(&with(&plain, "sslmode=prefer")).unwrap());
    }

    #[test]
    fn other_parameters_stay_in_the_url() {
        let (url, tls) =
            from_url("postgres://u@h:5432/db?sslmode=disable&application_name=ow").unwrap();
        assert_eq!(url, "postgres://u@h:5432/db?application_name=ow");
        assert!(matches!(tls, Tls::None));
        let (url, tls) = from_url("postgres://u@h/db?sslmode=require").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert!(matches!(tls, Tls::Rustls { required: true, .. }));
    }
}
