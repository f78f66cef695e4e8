//! The client's address, as the rate limits and the admin sign-in limits see it.
//!
//! Directly connected, it is the TCP peer. Behind a reverse proxy that terminates TLS, every
//! peer is the proxy, so the proxy's `X-Forwarded-For` is read, but only when the peer is one of
//! `PAYGATE_TRUSTED_PROXIES`: anyone else could write any address there. The client is then the
//! rightmost address in the header that is not itself a trusted proxy (each proxy appends the
//! address it saw; everything left of the first untrusted hop was written by the client and
//! proves nothing).
//!
//! Limits key on [`group`]: an IPv6 customer line holds a whole /64, so one address each would
//! let a single line rotate past every limit and grow the limiter's map.

use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// `PAYGATE_TRUSTED_PROXIES`: the reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8`) or single addresses (`127.0.0.1`, `::1`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => return Err(format!("{item:?} is neither an address nor a CIDR")),
                },
            };
            // Peers are compared as IPv4 when they are IPv4-mapped, so such a range would
            // never match: refused rather than silently useless.
            if let IpNet::V6(v6) = net {
                if v6.network().to_ipv4_mapped().is_some() {
                    return Err(format!("{item:?}: write IPv4 ranges as IPv4"));
                }
            }
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address, put in the request's extensions by [`resolve_client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`, as dual-stack listeners report it) is
/// the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`[::1]:443`, `1.2.3.4:80`),
/// as some proxies write it.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// The client's address for a request that came from `peer`.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110 §5.3). Split as bytes: a line a
    // client filled with non-ASCII must not hide the hop the proxy appended to it.
    let hops: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // Garbage where an address should be: the last trusted hop wrote it, so that hop is
        // the best-known client.
        let Some(ip) = std::str::from_utf8(hop).ok().and_then(parse_hop) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    client
}

/// Middleware (outermost): records [`ClientAddr`] for every request that came over TCP.
/// In-process tests drive the router without a peer; their requests have no address.
pub async fn resolve_client(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let client = client_of(peer, request.headers(), &state.config.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The key limits count an address under: itself for IPv4, its /64 for IPv6.
pub fn group(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(client_of(ip("198.51.100.7"), &h, &none), ip("198.51.100.7"));
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            client_of(ip("198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(client_of(ip("10.1.2.3"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_whatever_the_client_wrote() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        // The client forged "1.1.1.1"; its real address was appended by the first proxy, then
        // a second trusted proxy appended the first one's address.
        let h = headers(&["1.1.1.1, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(client_of(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Every hop trusted: the leftmost is the best-known client.
        let h = headers(&["10.0.0.7, 10.0.0.5"]);
        assert_eq!(client_of(ip("127.0.0.1"), &h, &trusted), ip("10.0.0.7"));
        // No header: the proxy itself.
        assert_eq!(
            client_of(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn garbage_ports_and_mapped_addresses() {
        let trusted = TrustedProxies::parse("::1").unwrap();
        let h = headers(&["203.0.113.9, not-an-ip"]);
        assert_eq!(client_of(ip("::1"), &h, &trusted), ip("::1"));
        // A client's line of non-ASCII bytes, to which the proxy appended the real address.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        assert_eq!(client_of(ip("::1"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&["[2001:db8::1]:443"]);
        assert_eq!(client_of(ip("::1"), &h, &trusted), ip("2001:db8::1"));
        let h = headers(&["198.51.100.1:8080"]);
        assert_eq!(client_of(ip("::1"), &h, &trusted), ip("198.51.100.1"));
        // A dual-stack listener reports IPv4 peers as mapped IPv6; a trusted IPv4 range
        // still matches them.
        let trusted = TrustedProxies::parse("127.0.0.0/8").unwrap();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_of(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        assert!(TrustedProxies::parse("::ffff:10.0.0.0/104").is_err());
        assert!(TrustedProxies::parse(" , ").unwrap().is_empty());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(group(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            group(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            group(ip("2001:db8:1:2::1"))
        );
        assert_ne!(group(ip("2001:db8:1:3::1")), group(ip("2001:db8:1:2::1")));
        assert_eq!(group(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(group(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
