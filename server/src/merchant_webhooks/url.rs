//! Which URLs paygate may deliver to. In live mode only `https`; and unless local destinations
//! are allowed (`PAYGATE_WEBHOOK_ALLOW_LOCAL`: the sandbox default, off in live mode) never an
//! address on this machine or a private network once the name is resolved: a merchant key must
//! not let anyone make paygate call its own neighbours (SSRF). The check runs when an endpoint
//! is registered, again at every delivery, and a third time inside the HTTP client's resolver
//! ([`PublicOnly`]), so a name that changes what it points to between the check and the
//! connection (DNS rebinding) is refused too.

use crate::config::{Config, Mode};
use crate::error::ApiError;
use std::net::{IpAddr, SocketAddr};

/// What the configuration lets endpoints be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub https_only: bool,
    pub allow_local: bool,
}

impl Policy {
    pub fn of(config: &Config) -> Policy {
        Policy {
            https_only: config.mode == Mode::Live,
            allow_local: config.webhook_allow_local,
        }
    }
}

/// Checks a URL's shape (not where it points: [`check_destination`]).
pub fn validate(url: &str, policy: Policy) -> Result<url::Url, ApiError> {
    let parsed = url::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && url.len() <= 2048
    });
    let Some(parsed) = parsed else {
        return Err(ApiError::invalid(
            "url",
            "url must be an absolute http(s) URL of at most 2048 characters.",
        ));
    };
    if policy.https_only && parsed.scheme() != "https" {
        return Err(ApiError::invalid(
            "url",
            "In live mode the url must be https.",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ApiError::invalid(
            "url",
            "The url must not carry credentials.",
        ));
    }
    Ok(parsed)
}

/// [`validate`], then [`check_destination`], for a URL given to the API: the reason goes back
/// to the merchant, who owns the name.
pub async fn validate_endpoint(url: &str, policy: Policy) -> Result<url::Url, ApiError> {
    let parsed = validate(url, policy)?;
    check_destination(&parsed, policy)
        .await
        .map_err(|reason| ApiError::invalid("url", format!("The url cannot be used: {reason}.")))?;
    Ok(parsed)
}

/// Resolves the URL's host and refuses local and private addresses unless the policy allows
/// them. Returns the reason a delivery must not go there.
pub async fn check_destination(url: &url::Url, policy: Policy) -> Result<(), String> {
    if policy.allow_local {
        return Ok(());
    }
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    for addr in addrs {
        if !is_public(addr.ip()) {
            return Err(format!(
                "{host} resolves to a loopback, link-local or private address"
            ));
        }
    }
    Ok(())
}

/// The delivery client's resolver when local destinations are not allowed: it answers only
/// with public addresses, so the connection goes where the check said it may. reqwest's own
/// resolver cannot filter, hence this small one over the system's (`getaddrinfo`, through
/// tokio); IP-literal hosts never reach a resolver and are checked by [`check_destination`].
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
                let refused = format!(
                    "{} resolves to a loopback, link-local or private address",
                    name.as_str()
                );
                return Err(refused.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 0
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    const LIVE: Policy = Policy {
        https_only: true,
        allow_local: false,
    };
    const SANDBOX: Policy = Policy {
        https_only: false,
        allow_local: true,
    };

    #[test]
    fn urls_are_checked_by_mode() {
        assert!(validate("https://shop.example/hooks", LIVE).is_ok());
        assert!(validate("http://shop.example/hooks", LIVE).is_err());
        assert!(validate("http://127.0.0.1:9/hooks", SANDBOX).is_ok());
        for bad in [
            "ftp://x/y",
            "/relative",
            "https://user:pw@shop.example/",
            "",
        ] {
            assert!(validate(bad, SANDBOX).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn live_mode_refuses_names_that_resolve_locally() {
        let url = url::Url::parse("https://localhost/hooks").unwrap();
        assert!(check_destination(&url, LIVE).await.is_err());
        for raw in [
            "https://127.0.0.1/",
            "https://10.0.0.1/",
            "https://169.254.169.254/",
        ] {
            let url = url::Url::parse(raw).unwrap();
            assert!(check_destination(&url, LIVE).await.is_err(), "{raw}");
        }
        assert!(check_destination(&url, SANDBOX).await.is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_local_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(PublicOnly.resolve(name).await.is_err());
    }
}
