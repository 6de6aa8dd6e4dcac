//! One typed configuration: embedded defaults < `offerwatch.toml` < `OFFERWATCH_*` environment
//! < command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Data directory (store, index, outbox).
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://user:password@host:port/db`) shared by several nodes
    /// as the system of record, instead of the embedded store of the data dir (which then holds
    /// this node's index only).
    pub database_url: Option<String>,
    /// Base URL of the portal, for links in feeds and mails (default: the listening address).
    pub public_url: Option<String>,
    /// SMTP server URL; unset = `.eml` files under the data dir.
    pub smtp_url: Option<String>,
    /// A certificate authority (PEM) trusted for the SMTP server, besides the usual roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Origins allowed by CORS (`*` for any).
    pub cors_origins: Vec<String>,
    /// Public requests allowed per second and client address (0 = unlimited).
    pub rate_limit_per_second: f64,
    /// Burst of public requests allowed above the rate.
    pub rate_limit_burst: f64,
    /// Anonymous form posts (sign-up, recruiter request, login, password recovery, links)
    /// allowed per minute and client address, refusals included (0 = unlimited).
    pub anonymous_posts_per_minute: f64,
    /// Burst of anonymous form posts allowed above that rate.
    pub anonymous_posts_burst: f64,
    /// Longest query string accepted, in bytes.
    pub max_query_bytes: usize,
    /// Sender of the mails.
    pub mail_from: String,
    /// Largest attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// How often offers past their end of diffusion are archived, in seconds.
    pub archive_interval_seconds: u64,
    /// Saved searches per candidate.
    pub max_saved_searches: usize,
    /// Hour (local, see `time_zone`) at which daily alert digests are sent.
    pub daily_digest_hour: u8,
    /// Reverse proxies whose `X-Forwarded-For` names the client: addresses or networks.
    pub trusted_proxies: Vec<String>,
    /// Mails that anonymous forms (sign-up, recruiter request, password reset) may send to one
    /// address per hour (0 = unlimited).
    pub mails_per_address_hour: u32,
    /// Such mails one client address may cause per hour (0 = unlimited).
    pub mails_per_client_hour: u32,
    /// The portal's IANA time zone: ends of diffusion at local midnight, the digest hour,
    /// dates shown.
    pub time_zone: String,
    /// A synonym list replacing the compiled-in `index-schema/synonyms.json`; a server reloads
    /// it when it changes (no index rebuild).
    pub synonyms_file: Option<PathBuf>,
    /// How often partner feeds are polled, in seconds.
    pub sources_interval_seconds: u64,
    /// A secret that `GET /metrics` requires as `Authorization: Bearer …`; unset, the metrics
    /// answer loopback clients only.
    pub metrics_token: Option<String>,
    /// An address of its own (e.g. `127.0.0.1:9090`, a private network) where the metrics are
    /// served instead of the public address.
    pub metrics_addr: Option<SocketAddr>,
    /// Networks that partner feeds may be fetched from although not public (loopback,
    /// private, link-local… are refused otherwise): addresses or networks.
    pub sources_allowed_networks: Vec<String>,
}

/// Parses trusted proxies: addresses or networks (`10.0.0.1`, `10.0.0.0/8`).
pub fn parse_trusted_proxies(list: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    parse_networks(list)
}

/// Parses a list of addresses or networks (`10.0.0.1`, `10.0.0.0/8`, `::1`).
pub fn parse_networks(list: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!("'{s}' is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8)")
                })
        })
        .collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            smtp_url: None,
            smtp_ca_file: None,
            cors_origins: vec!["*".into()],
            rate_limit_per_second: 50.0,
            rate_limit_burst: 200.0,
            anonymous_posts_per_minute: 20.0,
            anonymous_posts_burst: 30.0,
            max_query_bytes: 4096,
            mail_from: "offerwatch <no-reply@offerwatch.localhost>".into(),
            max_attachment_bytes: 5 * 1024 * 1024,
            archive_interval_seconds: 60,
            max_saved_searches: 20,
            daily_digest_hour: 7,
            trusted_proxies: Vec::new(),
            mails_per_address_hour: 3,
            mails_per_client_hour: 20,
            time_zone: crate::domain::local_time::DEFAULT_ZONE.into(),
            synonyms_file: None,
            sources_interval_seconds: 900,
            metrics_token: None,
            metrics_addr: None,
            sources_allowed_networks: Vec::new(),
        }
    }
}

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Loads defaults, then `file` (or `offerwatch.toml` when present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let default_file = Path::new("offerwatch.toml");
        let file = file.or(default_file.exists().then_some(default_file));
        let mut c = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", f.display())))?;
                toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", f.display())))?
            }
            None => Config::default(),
        };
        if let Some(v) = env_var("OFFERWATCH_ADDR") {
            c.addr = v
                .parse()
                .map_err(|_| ConfigError(format!("OFFERWATCH_ADDR: '{v}' is not HOST:PORT")))?;
        }
        if let Some(v) = env_var("OFFERWATCH_DATABASE_URL") {
            if !v.starts_with("postgres://") && !v.starts_with("postgresql://") {
                return Err(ConfigError(format!(
                    "OFFERWATCH_DATABASE_URL / database_url: '{v}' is not a postgres:// URL"
                )));
            }
            c.database_url = Some(v);
        }
        if let Some(v) = env_var("OFFERWATCH_DATA_DIR") {
            c.data_dir = v.into();
        }
        if let Some(v) = env_var("OFFERWATCH_PUBLIC_URL") {
            c.public_url = Some(v);
        }
        if let Some(v) = env_var("OFFERWATCH_SMTP_URL") {
            c.smtp_url = Some(v);
        }
        if let Some(v) = env_var("OFFERWATCH_SMTP_CA_FILE") {
            c.smtp_ca_file = Some(v.into());
        }
        if let Some(v) = env_var("OFFERWATCH_CORS_ORIGINS") {
            c.cors_origins = v.split(',').map(|s| s.trim().to_string()).collect();
        }
        if let Some(v) = env_var("OFFERWATCH_TRUSTED_PROXIES") {
            c.trusted_proxies = v.split(',').map(|s| s.trim().to_string()).collect();
        }
        parse_trusted_proxies(&c.trusted_proxies).map_err(|e| {
            ConfigError(format!("OFFERWATCH_TRUSTED_PROXIES / trusted_proxies: {e}"))
        })?;
        if let Some(v) = env_var("OFFERWATCH_SOURCES_ALLOWED_NETWORKS") {
            c.sources_allowed_networks = v.split(',').map(|s| s.trim().to_string()).collect();
        }
        parse_networks(&c.sources_allowed_networks).map_err(|e| {
            ConfigError(format!(
                "OFFERWATCH_SOURCES_ALLOWED_NETWORKS / sources_allowed_networks: {e}"
            ))
        })?;
        if let Some(v) = env_var("OFFERWATCH_TIME_ZONE") {
            c.time_zone = v;
        }
        crate::domain::local_time::parse_zone(&c.time_zone)
            .map_err(|e| ConfigError(format!("OFFERWATCH_TIME_ZONE / time_zone: {e}")))?;
        if let Some(v) = env_var("OFFERWATCH_SYNONYMS_FILE") {
            c.synonyms_file = Some(v.into());
        }
        if let Some(v) = env_var("OFFERWATCH_METRICS_TOKEN") {
            c.metrics_token = Some(v);
        }
        if let Some(v) = env_var("OFFERWATCH_METRICS_ADDR") {
            c.metrics_addr = Some(v.parse().map_err(|_| {
                ConfigError(format!("OFFERWATCH_METRICS_ADDR: '{v}' is not HOST:PORT"))
            })?);
        }
        if c.metrics_token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "OFFERWATCH_METRICS_TOKEN / metrics_token: at least 16 characters".into(),
            ));
        }
        if let Some(v) = env_var("OFFERWATCH_ANONYMOUS_POSTS_PER_MINUTE") {
            c.anonymous_posts_per_minute = v.parse().map_err(|_| {
                ConfigError(format!(
                    "OFFERWATCH_ANONYMOUS_POSTS_PER_MINUTE: '{v}' is not a number"
                ))
            })?;
        }
        if let Some(v) = env_var("OFFERWATCH_RATE_LIMIT_PER_SECOND") {
            c.rate_limit_per_second = v.parse().map_err(|_| {
                ConfigError(format!(
                    "OFFERWATCH_RATE_LIMIT_PER_SECOND: '{v}' is not a number"
                ))
            })?;
        }
        Ok(c)
    }

    /// Makes the configured synonym list the one queries are read with (the compiled-in list
    /// when none is configured).
    pub fn install_synonyms(&self) -> Result<(), ConfigError> {
        if let Some(f) = &self.synonyms_file {
            let list = crate::index::synonyms::Synonyms::load(f).map_err(|e| {
                ConfigError(format!("OFFERWATCH_SYNONYMS_FILE / synonyms_file: {e}"))
            })?;
            crate::index::synonyms::install(list);
        }
        Ok(())
    }

    /// The public URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/')
    }
}
