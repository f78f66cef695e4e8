//! Which URLs paygate may deliver to. In live mode only `https`, and never to an address on
//! this machine or a private network once the name is resolved (a merchant key must not let
//! anyone make paygate call its own neighbours); the check runs again at every delivery, since
//! a name can change what it points to. Sandbox mode allows `http` and local addresses, so a
//! developer can receive on their own machine.

use crate::config::Mode;
use crate::error::ApiError;
use std::net::IpAddr;

/// Checks a URL given to the API.
pub fn validate(url: &str, mode: Mode) -> Result<url::Url, ApiError> {
    let parsed = url::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && url.len() <= 2048
    });
    let Some(parsed) = parsed else {
        return Err(ApiError::invalid(
            "url",
            "url must be an absolute http(s) URL of at most 2048 characters.",
        ));
    };
    if mode == Mode::Live && parsed.scheme() != "https" {
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

/// Resolves the URL's host and refuses local and private addresses in live mode. Returns the
/// reason a delivery must not go there.
pub async fn check_destination(url: &url::Url, mode: Mode) -> Result<(), String> {
    if mode != Mode::Live {
        return Ok(());
    }
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    for addr in addrs {
        if !is_public(addr.ip()) {
            return Err(format!("{host} resolves to a non-public address"));
        }
    }
    Ok(())
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

    #[test]
    fn urls_are_checked_by_mode() {
        assert!(validate("https://shop.example/hooks", Mode::Live).is_ok());
        assert!(validate("http://shop.example/hooks", Mode::Live).is_err());
        assert!(validate("http://127.0.0.1:9/hooks", Mode::Sandbox).is_ok());
        for bad in [
            "ftp://x/y",
            "/relative",
            "https://user:pw@shop.example/",
            "",
        ] {
            assert!(validate(bad, Mode::Sandbox).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn live_mode_refuses_names_that_resolve_locally() {
        let url = url::Url::parse("https://localhost/hooks").unwrap();
        assert!(check_destination(&url, Mode::Live).await.is_err());
        for raw in [
            "https://127.0.0.1/",
            "https://10.0.0.1/",
            "https://169.254.169.254/",
        ] {
            let url = url::Url::parse(raw).unwrap();
            assert!(check_destination(&url, Mode::Live).await.is_err(), "{raw}");
        }
        assert!(check_destination(&url, Mode::Sandbox).await.is_ok());
    }
}
