//! Where webhooks may send: public addresses only, unless the operator
//! allows private ones (`FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS`).
//! A URL is checked when the webhook is made, and every address its host
//! resolves to is checked again at each connection, so a name that later
//! points inside the network is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why `url` cannot be a webhook target, if it cannot.
pub fn refuse_url(url: &str, allow_private: bool) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("{url:?} is not a URL: {e}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some(format!(
            "the URL must be http or https, not {}",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("the URL must not carry a user name or password".into());
    }
    let Some(host) = parsed.host_str() else {
        return Some("the URL has no host".into());
    };
    if allow_private {
        return None;
    }
    let ip = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip,
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            let internal = [".localhost", ".local", ".internal"];
            if name == "localhost" || internal.iter().any(|s| name.ends_with(s)) {
                return Some(private_refusal(&name));
            }
            return None;
        }
    };
    (!is_public(ip)).then(|| private_refusal(&ip.to_string()))
}

fn private_refusal(host: &str) -> String {
    format!(
        "{host} is a loopback, private or link-local address; webhooks only go to public addresses unless the operator sets FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true"
    )
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

/// Resolves names with the system resolver, then drops every address that
/// is not public; a name left with none fails to connect.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(private_refusal(&host).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.4/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
        ] {
            assert!(refuse_url(url, false).is_some(), "{url}");
            assert_eq!(refuse_url(url, true), None, "{url}");
        }
        assert_eq!(
            refuse_url("https://hooks.example.com/flightrec", false),
            None
        );
        assert_eq!(refuse_url("https://93.184.215.14/x", false), None);
        assert!(refuse_url("ftp://example.com/", true).is_some());
        assert!(refuse_url("https://user:pw@example.com/", true).is_some());
        assert!(refuse_url("not a url", true).is_some());
    }
}
