//! Who is asking: the client's address, from the connection or — when the connection comes
//! from a trusted reverse proxy (`OFFERWATCH_TRUSTED_PROXIES`) — from `X-Forwarded-For`, read
//! from the right and skipping the trusted hops, so that a client cannot choose its address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

/// The client's address (unspecified when the server runs without connection information).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

/// The client address of a request that came from `peer`.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The address of the request's client, as [`client_ip`] finds it.
pub(crate) fn of_request(
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    state: &AppState,
) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    client_ip(peer, headers, &state.trusted_proxies)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(of_request(
            &parts.extensions,
            &parts.headers,
            state,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted = crate::config::networks(
            &crate::config::parse_networks(&["10.0.0.0/8", "192.0.2.7"]).unwrap(),
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A direct client cannot pretend.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &trusted),
            ip("203.0.113.9")
        );
        // Behind the proxy: the rightmost untrusted hop, whatever the client put on the left.
        assert_eq!(
            client_ip(
                ip("10.1.2.3"),
                &headers(&["6.6.6.6, 198.51.100.4"]),
                &trusted
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(
                ip("192.0.2.7"),
                &headers(&["6.6.6.6", "198.51.100.4, 10.9.9.9"]),
                &trusted
            ),
            ip("198.51.100.4")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&[]), &trusted),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&["nonsense"]), &trusted),
            ip("10.1.2.3")
        );
        assert!(
            crate::config::parse_networks(&["10.0.0.0/33"])
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
    }
}
