//! The composition root: opens nothing itself but builds, once, everything a server runs — the
//! HTTP state and router, the mail transport and every background worker — and serves.

use std::sync::Arc;

use crate::candidates::AlertMailSettings;
use crate::config::Config;
use crate::engine::Engine;
use crate::http::{self, AppState};
use crate::mail::Transport;
use crate::workers::{Running, Workers};

/// A started server: what to serve, and its background loops.
pub struct Started {
    /// The routes and middleware.
    pub router: http::Router,
    /// The background loops, to stop after the last request.
    pub workers: Running,
}

/// Starts the workers of `engine` and builds the HTTP router (with its OpenAPI document).
pub async fn start(engine: Arc<Engine>, config: Config) -> crate::Result<Started> {
    // A public site owes its visitors a legal notice: say what it still lacks.
    for setting in config.identity().missing() {
        tracing::warn!(
            setting,
            variable = %crate::config::env_name(setting),
            "unset: the legal pages show « à compléter » in its place"
        );
    }
    let e = engine.clone();
    let prepared = crate::blocking::run(move || {
        // Only a server percolates: commands open the engine without building the percolator.
        match e.rebuild_percolator() {
            Ok(n) => tracing::info!(alerts = n, "percolator built"),
            Err(e) => tracing::error!(error = %e, "percolator not built: alerts will not fire"),
        }
        e.indexer().fill_suggestions();
        // Several nodes on one database: what the others write reaches this one.
        e.start_following();
    })
    .await;
    if let Err(e) = prepared {
        tracing::error!(error = %e, "the server's start failed");
    }
    let mail_wake = Arc::new(tokio::sync::Notify::new());
    let transport = Transport::from_config(
        config.smtp_url.as_deref(),
        config.smtp_ca_file.as_deref(),
        &config.data_dir,
    )
    .map_err(|e| tracing::error!(error = %e, "mail transport unusable"))
    .ok();
    let workers = Workers {
        engine: engine.clone(),
        transport,
        from: config.sender(),
        alerts: AlertMailSettings {
            links: config.links(),
            digest_hour: config.daily_digest_hour,
        },
        mail_wake: mail_wake.clone(),
        archive_every: std::time::Duration::from_secs(config.archive_interval_seconds.max(1)),
        synonyms_file: config.synonyms_file.clone(),
        sources_every: std::time::Duration::from_secs(config.sources_interval_seconds.max(1)),
        outbound: crate::backoffice::outbound::Outbound::of_config(&config),
    }
    .spawn();
    // The state reads its secrets and shared counters from the store.
    let router =
        crate::blocking::run(move || http::router(AppState::new(engine, config, mail_wake)))
            .await?;
    Ok(Started { router, workers })
}

/// glibc keeps in its arenas what a burst of requests allocated and freed (answers, decoded
/// offers, scratch), so a server's resident memory stays at its busiest: once the server has
/// answered nothing for a second after a burst, the arenas' free pages go back to the system
/// (`malloc_trim`, a few milliseconds, on the blocking pool). Checked each second.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn trim_when_idle() {
    let (mut seen, mut trimmed) = (http::answered(), http::answered());
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = http::answered();
        if now == seen && now != trimmed {
            // SAFETY: malloc_trim only returns free pages of glibc's own arenas to the system.
            let _ = crate::blocking::run(|| unsafe { libc::malloc_trim(0) }).await;
            trimmed = now;
        }
        seen = now;
    }
}

/// Serves until SIGINT/SIGTERM, then lets in-flight requests finish, stops the background
/// loops (each ends its round) and commits the index.
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
    let started = start(engine.clone(), config)
        .await
        .map_err(std::io::Error::other)?;
    println!("listening on http://{addr}");
    let metrics = match metrics_listener {
        Some(l) => {
            tracing::info!(addr = %l.local_addr()?, "metrics served on their own address");
            let mut stop = started.workers.stopping();
            let until = async move { stop.wait().await };
            Some(tokio::spawn(http::serve_metrics(l, engine.clone(), until)))
        }
        None => None,
    };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let trimmer = tokio::spawn(trim_when_idle());
    use std::io::Write;
    std::io::stdout().flush()?;
    http::run(listener, started.router).await?;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    trimmer.abort();
    started.workers.stop().await;
    if let Some(m) = metrics {
        let _ = m.await;
    }
    crate::blocking::run(move || engine.shutdown())
        .await
        .map_err(std::io::Error::other)?;
    drop(control);
    tracing::info!("stopped cleanly");
    Ok(())
}
