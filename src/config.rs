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
    /// Address the mails are sent from; their sender's name is `site_name`.
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
    pub trusted_proxies: Vec<Network>,
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
    pub sources_allowed_networks: Vec<Network>,
    /// The portal's name: the header, the pages' titles, the mails' sender and signature.
    pub site_name: String,
    /// Who publishes the portal (the legal notice).
    pub operator_name: Option<String>,
    /// The publisher's postal address.
    pub operator_address: Option<String>,
    /// The director of publication (a function or a name).
    pub publication_director: Option<String>,
    /// Who hosts the portal: name, address, phone.
    pub host_name: Option<String>,
    /// The data protection officer's address.
    pub dpo_email: Option<String>,
    /// The address that the contact form and the accessibility statement give.
    pub contact_email: Option<String>,
}

/// An address or a network (`10.0.0.1`, `10.0.0.0/8`, `::1`), read from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network(pub ipnet::IpNet);

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Network)
            .map_err(|_| {
                format!("'{s}' is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8)")
            })
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Network, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Reads a list of addresses or networks.
pub fn parse_networks(list: &[&str]) -> Result<Vec<Network>, String> {
    list.iter().map(|s| s.parse()).collect()
}

/// The networks of a list of [`Network`]s.
pub fn networks(list: &[Network]) -> Vec<ipnet::IpNet> {
    list.iter().map(|n| n.0).collect()
}

/// How a setting's environment variable is read.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Number,
    /// Comma-separated.
    List,
}

/// Every setting, by its key in the file; its environment variable is `OFFERWATCH_` and the key
/// in capitals ([`env_name`]). A test checks that the list names every field of [`Config`].
const SETTINGS: &[(&str, Kind)] = &[
    ("addr", Kind::Text),
    ("data_dir", Kind::Text),
    ("database_url", Kind::Text),
    ("public_url", Kind::Text),
    ("smtp_url", Kind::Text),
    ("smtp_ca_file", Kind::Text),
    ("cors_origins", Kind::List),
    ("rate_limit_per_second", Kind::Number),
    ("rate_limit_burst", Kind::Number),
    ("anonymous_posts_per_minute", Kind::Number),
    ("anonymous_posts_burst", Kind::Number),
    ("max_query_bytes", Kind::Integer),
    ("mail_from", Kind::Text),
    ("max_attachment_bytes", Kind::Integer),
    ("archive_interval_seconds", Kind::Integer),
    ("max_saved_searches", Kind::Integer),
    ("daily_digest_hour", Kind::Integer),
    ("trusted_proxies", Kind::List),
    ("mails_per_address_hour", Kind::Integer),
    ("mails_per_client_hour", Kind::Integer),
    ("time_zone", Kind::Text),
    ("synonyms_file", Kind::Text),
    ("sources_interval_seconds", Kind::Integer),
    ("metrics_token", Kind::Text),
    ("metrics_addr", Kind::Text),
    ("sources_allowed_networks", Kind::List),
    ("site_name", Kind::Text),
    ("operator_name", Kind::Text),
    ("operator_address", Kind::Text),
    ("publication_director", Kind::Text),
    ("host_name", Kind::Text),
    ("dpo_email", Kind::Text),
    ("contact_email", Kind::Text),
];

/// The operator's identity that the legal pages show: every setting of it, with its value.
pub struct Identity<'a>(pub [(&'static str, Option<&'a str>); 6]);

impl Identity<'_> {
    /// The settings left unset: the pages say « à compléter » in their place.
    pub fn missing(&self) -> Vec<&'static str> {
        self.0
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The environment variable of a setting: `OFFERWATCH_` and its key in capitals.
pub fn env_name(key: &str) -> String {
    format!("OFFERWATCH_{}", key.to_ascii_uppercase())
}

/// The keys of every setting, in the order of the README's table.
pub fn keys() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().map(|(k, _)| *k)
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
            mail_from: "no-reply@localhost".into(),
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
            site_name: crate::links::DEFAULT_SITE_NAME.into(),
            operator_name: None,
            operator_address: None,
            publication_director: None,
            host_name: None,
            dpo_email: None,
            contact_email: None,
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

/// The value of an environment variable as the file would hold it.
fn env_value(name: &str, kind: Kind, v: &str) -> Result<toml::Value, ConfigError> {
    let number = |what| ConfigError(format!("{name}: '{v}' is not {what}"));
    Ok(match kind {
        Kind::Text => toml::Value::String(v.to_string()),
        Kind::Integer => {
            toml::Value::Integer(v.trim().parse().map_err(|_| number("a whole number"))?)
        }
        Kind::Number => toml::Value::Float(v.trim().parse().map_err(|_| number("a number"))?),
        Kind::List => toml::Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    })
}

/// An error of the setting `key`, named with its environment variable.
fn named(key: &str, why: String) -> ConfigError {
    ConfigError(format!("{key} ({}): {why}", env_name(key)))
}

impl Config {
    /// Loads defaults, then `file` (or `offerwatch.toml` when present), then the environment
    /// (`OFFERWATCH_*`, one variable per setting); checks the values, naming the setting.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with(file, env_var)
    }

    /// [`Config::load`] with the environment read by `env`.
    pub fn load_with(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let default_file = Path::new("offerwatch.toml");
        let file = file.or(default_file.exists().then_some(default_file));
        let mut table = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", f.display())))?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError(format!("{}: {e}", f.display())))?
            }
            None => toml::Table::new(),
        };
        let source = file.map_or("configuration".to_string(), |f| f.display().to_string());
        for (key, kind) in SETTINGS {
            let name = env_name(key);
            if let Some(v) = env(&name) {
                table.insert(key.to_string(), env_value(&name, *kind, &v)?);
            }
        }
        // Each setting alone, so that an error names it and where it came from.
        for (key, value) in &table {
            let mut one = toml::Table::new();
            one.insert(key.clone(), value.clone());
            if let Err(e) = Config::deserialize(toml::Value::Table(one)) {
                let origin = if env(&env_name(key)).is_some() {
                    env_name(key)
                } else {
                    source.clone()
                };
                return Err(ConfigError(format!("{key} ({origin}): {e}")));
            }
        }
        let c = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError(format!("{source}: {e}")))?;
        c.check()?;
        Ok(c)
    }

    /// The checks a value's type does not make.
    fn check(&self) -> Result<(), ConfigError> {
        if let Some(v) = &self.database_url
            && !v.starts_with("postgres://")
            && !v.starts_with("postgresql://")
        {
            return Err(named(
                "database_url",
                format!("'{v}' is not a postgres:// URL"),
            ));
        }
        crate::domain::local_time::parse_zone(&self.time_zone)
            .map_err(|e| named("time_zone", e.to_string()))?;
        if self.metrics_token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(named("metrics_token", "at least 16 characters".into()));
        }
        if let Err(e) = self.sender().parse::<lettre::message::Mailbox>() {
            return Err(named(
                "mail_from",
                format!("'{}' is not an e-mail address ({e})", self.mail_from),
            ));
        }
        if self.site_name.trim().is_empty() {
            return Err(named("site_name", "the portal needs a name".into()));
        }
        if self.daily_digest_hour > 23 {
            return Err(named("daily_digest_hour", "an hour from 0 to 23".into()));
        }
        Ok(())
    }

    /// How the engine opens: the configured store, time zone and synonym list (the compiled-in
    /// list when none is configured), with `clock`.
    pub fn engine_options(
        &self,
        clock: crate::engine::Clock,
    ) -> Result<crate::engine::Options, ConfigError> {
        let zone = crate::domain::local_time::Zone::parse(&self.time_zone)
            .map_err(|e| named("time_zone", e))?;
        let synonyms = match &self.synonyms_file {
            Some(f) => {
                crate::index::synonyms::Synonyms::load(f).map_err(|e| named("synonyms_file", e))?
            }
            None => crate::index::synonyms::Synonyms::builtin(),
        };
        Ok(crate::engine::Options {
            database_url: self.database_url.clone(),
            clock,
            zone,
            synonyms,
            ..crate::engine::Options::default()
        })
    }

    /// The operator's identity, as the legal pages show it.
    pub fn identity(&self) -> Identity<'_> {
        Identity([
            ("operator_name", self.operator_name.as_deref()),
            ("operator_address", self.operator_address.as_deref()),
            ("publication_director", self.publication_director.as_deref()),
            ("host_name", self.host_name.as_deref()),
            ("dpo_email", self.dpo_email.as_deref()),
            ("contact_email", self.contact_email.as_deref()),
        ])
    }

    /// Plausible values, for `serve --demo`, of the identity settings left unset.
    pub fn demo_identity(&mut self) {
        let set = |v: &mut Option<String>, demo: &str| {
            v.get_or_insert_with(|| demo.to_string());
        };
        set(
            &mut self.operator_name,
            "Direction générale de l'administration et de la fonction publique (démonstration)",
        );
        set(&mut self.operator_address, "139 rue de Bercy, 75012 Paris");
        set(
            &mut self.publication_director,
            "La directrice générale de l'administration et de la fonction publique",
        );
        set(
            &mut self.host_name,
            "Hébergeur de démonstration, 1 rue de l'Exemple, 75000 Paris, 01 23 45 67 89",
        );
        set(&mut self.dpo_email, "dpo@portail.example");
        set(&mut self.contact_email, "contact@portail.example");
    }

    /// The `From:` of every mail: the portal's name and the address of `mail_from` (a name
    /// given there gives way to the portal's).
    pub fn sender(&self) -> String {
        let address = match (self.mail_from.rfind('<'), self.mail_from.rfind('>')) {
            (Some(a), Some(b)) if a < b => &self.mail_from[a + 1..b],
            _ => self.mail_from.trim(),
        };
        let name = self.site_name.replace(['"', '\\'], "");
        format!("\"{name}\" <{}>", address.trim())
    }

    /// Absolute links under the public URL, in the portal's name.
    pub fn links(&self) -> crate::links::Links {
        crate::links::Links::named(self.base_url(), &self.site_name)
    }

    /// The public URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offerwatch.toml");
        std::fs::write(&path, file).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(Some(&path), |name| env.get(name).cloned())
    }

    #[test]
    fn every_field_is_a_setting_with_an_environment_variable() {
        // The derived deserializer names every field when it refuses an unknown one.
        let refusal = toml::from_str::<Config>("no_such_setting = 1")
            .unwrap_err()
            .to_string();
        let expected = refusal.split("expected one of").nth(1).unwrap();
        let fields: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert_eq!(
            fields,
            keys().collect::<Vec<_>>(),
            "SETTINGS is every field, in order"
        );
        // …and the README's configuration table gives each its variable.
        let readme = include_str!("../README.md");
        for key in keys() {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{key}`")))
                .unwrap_or_else(|| panic!("no README row for {key}"));
            assert!(row.contains(&format!("`{}`", env_name(key))), "{row}");
        }
    }

    #[test]
    fn the_identity_says_what_is_missing_and_the_demo_fills_it_and_the_sender_is_the_portal() {
        let mut c = Config::default();
        assert_eq!(
            c.identity().missing(),
            [
                "operator_name",
                "operator_address",
                "publication_director",
                "host_name",
                "dpo_email",
                "contact_email"
            ]
        );
        c.operator_name = Some("Ministère".into());
        c.demo_identity();
        assert!(c.identity().missing().is_empty());
        assert_eq!(
            c.operator_name.as_deref(),
            Some("Ministère"),
            "a set value stays"
        );
        c.mail_from = "Ancien nom <stages@exemple.gouv.fr>".into();
        c.site_name = "Stages \"publics\"".into();
        assert_eq!(c.sender(), "\"Stages publics\" <stages@exemple.gouv.fr>");
        assert!(load("mail_from = \"pas une adresse\"", &[]).is_err());
    }

    #[test]
    fn the_environment_overrides_the_file_for_every_kind_of_setting() {
        let c = load(
            "mail_from = \"Portail <a@b.fr>\"\nmails_per_client_hour = 5\ncors_origins = [\"x\"]",
            &[
                ("OFFERWATCH_MAILS_PER_CLIENT_HOUR", "7"),
                ("OFFERWATCH_SOURCES_INTERVAL_SECONDS", "60"),
                ("OFFERWATCH_RATE_LIMIT_BURST", "12.5"),
                ("OFFERWATCH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
                ("OFFERWATCH_MAIL_FROM", "Stages <no-reply@stages.gouv.fr>"),
            ],
        )
        .unwrap();
        assert_eq!(c.mails_per_client_hour, 7);
        assert_eq!(c.sources_interval_seconds, 60);
        assert_eq!(c.rate_limit_burst, 12.5);
        assert_eq!(c.mail_from, "Stages <no-reply@stages.gouv.fr>");
        assert_eq!(
            c.cors_origins,
            ["x"],
            "the file's value stays when not overridden"
        );
        assert_eq!(
            networks(&c.trusted_proxies),
            [
                "10.0.0.0/8".parse().unwrap(),
                "192.0.2.7/32".parse().unwrap()
            ]
        );
    }

    #[test]
    fn a_wrong_value_names_its_setting_and_where_it_came_from() {
        let e = |file: &str, env: &[(&str, &str)]| load(file, env).unwrap_err().to_string();
        assert!(
            e("", &[("OFFERWATCH_MAX_SAVED_SEARCHES", "beaucoup")])
                .contains("OFFERWATCH_MAX_SAVED_SEARCHES: 'beaucoup' is not a whole number")
        );
        let bad_proxy = e("", &[("OFFERWATCH_TRUSTED_PROXIES", "10.0.0.0/33")]);
        assert!(
            bad_proxy.contains("trusted_proxies (OFFERWATCH_TRUSTED_PROXIES)")
                && bad_proxy.contains("10.0.0.0/33"),
            "{bad_proxy}"
        );
        let from_file = e("metrics_addr = \"nowhere\"", &[]);
        assert!(
            from_file.contains("metrics_addr (") && from_file.contains("offerwatch.toml"),
            "{from_file}"
        );
        assert!(
            e("time_zone = \"Mars/Olympus\"", &[]).contains("time_zone (OFFERWATCH_TIME_ZONE)")
        );
        assert!(e("", &[("OFFERWATCH_DAILY_DIGEST_HOUR", "25")]).contains("daily_digest_hour"));
        assert!(e("", &[("OFFERWATCH_DATABASE_URL", "mysql://x")]).contains("postgres://"));
        assert!(e("no_such_setting = 1", &[]).contains("no_such_setting"));
    }
}
