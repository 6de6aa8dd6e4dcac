//! The composition root: opens nothing itself but builds, once, everything a server runs — the
//! HTTP state and router, the mail transport and every background worker — and serves.

use std::sync::Arc;

use crate::candidates::AlertMailSettings;
use crate::config::Config;
use crate::engine::Engine;
use crate::http::{self, AppState};
use crate::links::Links;
use crate::mail::Transport;
use crate::workers::Workers;

/// Starts the workers of `engine` and builds the HTTP router (with its OpenAPI document).
/// Must be called inside a tokio runtime.
pub fn start(engine: Arc<Engine>, config: Config) -> (http::Router, utoipa::openapi::OpenApi) {
    // Only a server percolates: commands open the engine without building the percolator.
    match engine.rebuild_percolator() {
        Ok(n) => tracing::info!(alerts = n, "percolator built"),
        Err(e) => tracing::error!(error = %e, "percolator not built: alerts will not fire"),
    }
    engine.indexer().fill_suggestions();
    // Several nodes on one database: what the others write reaches this one.
    engine.start_following();
    let mail_wake = Arc::new(tokio::sync::Notify::new());
    let transport = Transport::from_config(
        config.smtp_url.as_deref(),
        config.smtp_ca_file.as_deref(),
        &config.data_dir,
    )
    .map_err(|e| tracing::error!(error = %e, "mail transport unusable"))
    .ok();
    Workers {
        engine: engine.clone(),
        transport,
        from: config.mail_from.clone(),
        alerts: AlertMailSettings {
            links: Links::new(config.base_url()),
            digest_hour: config.daily_digest_hour,
        },
        mail_wake: mail_wake.clone(),
        archive_every: std::time::Duration::from_secs(config.archive_interval_seconds.max(1)),
        synonyms_file: config.synonyms_file.clone(),
        sources_every: std::time::Duration::from_secs(config.sources_interval_seconds.max(1)),
        outbound: crate::backoffice::outbound::Outbound::of_config(&config),
    }
    .spawn();
    http::router(AppState::new(engine, config, mail_wake))
}

/// Serves until SIGINT/SIGTERM, then lets in-flight requests finish and commits the index.
/// Prints `listening on http://ADDR` once ready.
pub async fn serve(engine: Arc<Engine>, mut config: Config) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{addr}"));
    }
    // Commands run in another terminal reach this engine through the control socket.
    let control = crate::ops::control::listen(engine.clone(), config.clone())
        .map_err(|e| {
            tracing::warn!(error = %e, "no control socket: commands must wait for the server to stop")
        })
        .ok();
    let metrics_listener = match config.metrics_addr {
        Some(a) => Some(tokio::net::TcpListener::bind(a).await?),
        None => None,
    };
    let (router, _) = start(engine.clone(), config);
    println!("listening on http://{addr}");
    if let Some(l) = metrics_listener {
        tracing::info!(addr = %l.local_addr()?, "metrics served on their own address");
        tokio::spawn(http::serve_metrics(l, engine.clone()));
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    http::run(listener, router).await?;
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .map_err(std::io::Error::other)?;
    drop(control);
    tracing::info!("stopped cleanly");
    Ok(())
}
