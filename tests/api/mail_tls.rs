//! Mail over TLS, against an SMTP server on loopback with a certificate made by the test:
//! implicit TLS (`smtps://`) and STARTTLS, credentials, the CA file, `?tls=required` refusing a
//! server without STARTTLS, an unknown certificate refused, and the Message-ID's domain.

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use crate::helpers::*;
use crate::smtp::{Security, Sink, header, tls_for_localhost};

async fn first_message(sink: &Sink) -> String {
    for _ in 0..100 {
        if let Some(m) = sink.all().into_iter().next() {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail reached the server");
}

async fn sign_up(app: &TestApp) {
    let (s, b) = app
        .anon()
        .post(
            "/api/v1/candidates",
            json!({"cgu": true, "first_name": "Jean", "last_name": "Zay", "email": "jean@exemple.fr",
                   "username": "jzay", "password": "Un-Mot-De-Passe-2026"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

fn test_message() -> lettre::Message {
    lettre::Message::builder()
        .from("ow <no-reply@portail.example>".parse().unwrap())
        .to("jean@exemple.fr".parse().unwrap())
        .subject("test")
        .body("bonjour".to_string())
        .unwrap()
}

#[tokio::test]
async fn mails_go_over_implicit_tls_and_starttls_with_credentials() {
    let (acceptor, pem) = tls_for_localhost();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pem).unwrap();

    // smtps:// with credentials (percent-encoded in the URL).
    let (sink, port) = Sink::start_with(Security::Implicit(acceptor.clone())).await;
    let ca_file = ca.clone();
    let app = spawn_app_with(0, move |c| {
        c.smtp_url = Some(format!("smtps://ow%40portail:s3cr%C3%A9t@localhost:{port}"));
        c.smtp_ca_file = Some(ca_file);
    })
    .await;
    sign_up(&app).await;
    let m = first_message(&sink).await;
    assert!(sink.over_tls.lock().unwrap()[0]);
    let auth = sink.auth.lock().unwrap().clone();
    let plain = auth
        .iter()
        .find_map(|l| l.strip_prefix("AUTH PLAIN "))
        .expect("AUTH PLAIN");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(plain.trim())
        .unwrap();
    assert_eq!(decoded, b"\0ow@portail\0s3cr\xc3\xa9t");
    let id = header(&m, "Message-ID").unwrap();
    assert!(id.ends_with("@portail.example>"), "{id}");

    // smtp://…?tls=required upgrades with STARTTLS before anything is sent.
    let (sink, port) = Sink::start_with(Security::StartTls(acceptor.clone())).await;
    let ca_file = ca.clone();
    let app = spawn_app_with(0, move |c| {
        c.smtp_url = Some(format!("smtp://localhost:{port}?tls=required"));
        c.smtp_ca_file = Some(ca_file);
    })
    .await;
    sign_up(&app).await;
    first_message(&sink).await;
    assert!(sink.over_tls.lock().unwrap()[0]);

    // Plain smtp:// upgrades too when the server offers STARTTLS.
    let t = offerwatch::mail::Transport::from_config(
        Some(&format!("smtp://localhost:{port}")),
        Some(&ca),
        dir.path(),
    )
    .unwrap();
    t.send(test_message()).await.unwrap();
    assert_eq!(*sink.over_tls.lock().unwrap(), [true, true]);
}

#[tokio::test]
async fn plain_servers_and_unknown_certificates_are_refused_when_tls_is_required() {
    let (acceptor, pem) = tls_for_localhost();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    // A server without STARTTLS: refused by ?tls=required, nothing sent in clear.
    let (plain, url) = Sink::start().await;
    let port = url.rsplit(':').next().unwrap();
    let t = offerwatch::mail::Transport::from_config(
        Some(&format!("smtp://localhost:{port}?tls=required")),
        Some(&ca),
        dir.path(),
    )
    .unwrap();
    assert!(t.send(test_message()).await.is_err());
    assert!(plain.all().is_empty());
    // Without the test's CA the certificate is unknown: refused.
    let (tls, port) = Sink::start_with(Security::Implicit(acceptor)).await;
    let t = offerwatch::mail::Transport::from_config(
        Some(&format!("smtps://localhost:{port}")),
        None,
        dir.path(),
    )
    .unwrap();
    assert!(t.send(test_message()).await.is_err());
    assert!(tls.all().is_empty());
    // Bad URLs name what is allowed, never the password.
    let err = |url: &str| {
        offerwatch::mail::smtp_transport(url, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(err("smtp://h?tls=sometimes").contains("allowed: required, opportunistic, none"));
    assert!(err("smtp://h?timeout=3").contains("unknown parameter 'timeout'"));
    let e = err("imap://u:hunter2@h");
    assert!(
        e.contains("allowed: smtp, smtps") && !e.contains("hunter2"),
        "{e}"
    );
    assert!(err("smtps://h?tls=none").contains("always TLS"));
    let e = err("smtps://h");
    assert!(e.is_empty(), "{e}");
    let missing = dir.path().join("nope.pem");
    assert!(
        offerwatch::mail::smtp_transport("smtps://h", Some(&missing))
            .err()
            .unwrap()
            .to_string()
            .contains("OFFERWATCH_SMTP_CA_FILE")
    );
}
