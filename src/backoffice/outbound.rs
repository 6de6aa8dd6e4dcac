//! Which addresses the server may fetch from. A partner feed is an address an administrator
//! types; without a filter it would let anyone with that role make the server read its own
//! loopback services, the cloud's metadata service (169.254.169.254) or the private network
//! behind it. Every address a feed leads to — its host once resolved, and every redirect — must
//! be public, unless the operator names its network in `sources_allowed_networks`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The addresses the server may fetch partner feeds from.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    /// Networks allowed although not public (`sources_allowed_networks`).
    allowed: Arc<Vec<IpNet>>,
}

/// Networks that are not the public internet, besides what `std` already tells (loopback,
/// private, link-local, multicast, unspecified, broadcast, documentation).
const NOT_PUBLIC: [&str; 9] = [
    "0.0.0.0/8",      // "this network"
    "100.64.0.0/10",  // shared address space (carrier-grade NAT)
    "192.0.0.0/24",   // IETF protocol assignments
    "198.18.0.0/15",  // benchmarking
    "240.0.0.0/4",    // reserved
    "fc00::/7",       // unique-local
    "fe80::/10",      // link-local
    "64:ff9b:1::/48", // local-use NAT64
    "2001:db8::/32",  // documentation
];

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    // An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is that IPv4 address.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let special = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_multicast() || v6.is_unspecified(),
    };
    !special
        && !NOT_PUBLIC
            .iter()
            .filter_map(|n| n.parse::<IpNet>().ok())
            .any(|n| n.contains(&ip))
}

impl Outbound {
    /// Public addresses, and those of `allowed` (`10.0.0.0/8`, `127.0.0.1`…).
    pub fn new(allowed: &[crate::config::Network]) -> Outbound {
        Outbound {
            allowed: Arc::new(crate::config::networks(allowed)),
        }
    }

    /// The addresses of the configuration's `sources_allowed_networks`.
    pub fn of_config(config: &crate::config::Config) -> Outbound {
        Outbound::new(&config.sources_allowed_networks)
    }

    /// Whether the server may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| n.contains(&ip))
    }

    /// Why `url` may not be fetched, if it names a refused address itself (a name is checked
    /// once resolved, by [`Outbound::resolve`]).
    pub fn refuses_literal(&self, url: &url::Url) -> Option<String> {
        let ip = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        (!self.permits(ip)).then(|| refusal(&ip))
    }

    /// The addresses of `host` the server may connect to; an error naming the address when
    /// the name leads only to refused ones.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let found: Vec<SocketAddr> = match special_name(host, port) {
            Some(known) => known?,
            None => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("the name {host} cannot be resolved: {e}"))?
                .collect(),
        };
        self.keep(host, found)
    }

    fn keep(&self, host: &str, found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        let (kept, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
            found.into_iter().partition(|a| self.permits(a.ip()));
        match (kept.is_empty(), refused.first()) {
            (false, _) => Ok(kept),
            (true, Some(a)) => Err(format!("{host} resolves to {}", refusal(&a.ip()))),
            (true, None) => Err(format!("the name {host} has no address")),
        }
    }

    /// Checks an address before it is registered: an http(s) URL whose host is, or resolves
    /// to, an address the server may fetch. A name that cannot be resolved now is accepted:
    /// every fetch resolves it again through the filter.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let u = url::Url::parse(url).map_err(|e| format!("'{url}' is not an address: {e}"))?;
        if let Some(why) = self.refuses_literal(&u) {
            return Err(why);
        }
        match (u.host_str(), u.port_or_known_default()) {
            (Some(host), Some(port)) if matches!(u.host(), Some(url::Host::Domain(_))) => {
                use std::net::ToSocketAddrs;
                let found = match special_name(host, port) {
                    Some(known) => known.ok(),
                    None => (host, port).to_socket_addrs().ok().map(Iterator::collect),
                };
                match found {
                    Some(found) => self.keep(host, found).map(|_| ()),
                    None => Ok(()),
                }
            }
            (Some(_), Some(_)) => Ok(()),
            _ => Err(format!("'{url}' names no host")),
        }
    }

    /// An HTTP client for partner feeds: every name resolved through this filter, every
    /// address literal and redirect checked, no proxy from the environment, at most 5
    /// redirects, `timeout` in all.
    pub fn client(&self, timeout: std::time::Duration, user_agent: &str) -> reqwest::Client {
        let for_redirects = self.clone();
        reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(user_agent)
            .no_proxy()
            .dns_resolver(Arc::new(self.clone()))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("more than 5 redirects");
                }
                match for_redirects.refuses_literal(attempt.url()) {
                    Some(why) => attempt.error(format!("redirected to {why}")),
                    None => attempt.follow(),
                }
            }))
            .build()
            .unwrap_or_default()
    }
}

/// The names the DNS is never asked about (RFC 6761): `localhost` is this machine; the
/// reserved `.example`, `.invalid` and `.test` names never exist.
fn special_name(host: &str, port: u16) -> Option<Result<Vec<SocketAddr>, String>> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |tld: &str| host == tld || host.ends_with(&format!(".{tld}"));
    if under("localhost") {
        return Some(Ok(vec![
            SocketAddr::from(([127, 0, 0, 1], port)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
        ]));
    }
    ["example", "invalid", "test"]
        .iter()
        .any(|tld| under(tld))
        .then(|| Err(format!("the name {host} is reserved: it has no address")))
}

/// The words of a refusal.
fn refusal(ip: &IpAddr) -> String {
    format!(
        "{ip}, an address of this machine or of a private or reserved network: refused \
         (an operator may allow its network with sources_allowed_networks)"
    )
}

impl reqwest::dns::Resolve for Outbound {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = Outbound::resolve(&this, name.as_str(), 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_unless_allowed() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!is_public(ip), "{refused}");
            assert!(!Outbound::default().permits(ip), "{refused}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        let networks = |l: &[&str]| crate::config::parse_networks(l).unwrap();
        let lab = Outbound::new(&networks(&["127.0.0.1", "10.1.0.0/16"]));
        assert!(lab.permits("127.0.0.1".parse().unwrap()));
        assert!(lab.permits("10.1.2.3".parse().unwrap()));
        assert!(!lab.permits("10.2.0.1".parse().unwrap()));
        assert!(!lab.permits("169.254.169.254".parse().unwrap()));
        assert!(crate::config::parse_networks(&["pas un réseau"]).is_err());
    }

    #[test]
    fn addresses_are_checked_as_written_and_once_resolved() {
        let o = Outbound::default();
        for url in [
            "http://127.0.0.1:8080/feed",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/feed",
            "http://10.0.0.1/feed",
            "http://[::ffff:7f00:1]/",
            "http://2130706433/",
            "http://localhost:9/feed",
        ] {
            let e = o.check_url(url).unwrap_err();
            assert!(e.contains("refused"), "{url}: {e}");
        }
        assert!(
            o.check_url("https://partenaire.invalid/offres.rss").is_ok(),
            "checked at each fetch"
        );
        let lab = Outbound::new(&crate::config::parse_networks(&["127.0.0.0/8", "::1"]).unwrap());
        assert!(lab.check_url("http://localhost:9/feed").is_ok());
        assert!(lab.check_url("http://127.0.0.1:9/feed").is_ok());
    }
}
