//! Outbound safety: webhooks must not become a way to make parceld call into its own network.
//!
//! A webhook URL is chosen by an API client, so by default parceld refuses to deliver to
//! loopback, private, shared (CGNAT), link-local (which holds the cloud metadata service at
//! 169.254.169.254), unique-local, multicast and other special addresses. The check runs on the
//! addresses a host name resolves to, inside the HTTP client's resolver, so the connection goes
//! to exactly the addresses that were checked (no second look-up an attacker could answer
//! differently); redirects are never followed. Operators allow their own networks with
//! `webhooks.allow_networks`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `fd00::/8` or a bare address (a single host).
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Why an address is refused, or `None` when it is a public address.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v6(v6: Ipv6Addr) -> Option<&'static str> {
    let segments = v6.segments();
    let first = segments[0];
    if v6.is_loopback() {
        return Some("loopback");
    }
    if v6.is_unspecified() {
        return Some("unspecified");
    }
    // An address that carries an IPv4 address reaches that IPv4 host (through a translator,
    // a tunnel or the kernel itself), so the IPv4 address decides.
    if let Some(carried) = embedded_v4(v6) {
        return carried.into_iter().find_map(special_v4);
    }
    if segments[..3] == [0x64, 0xff9b, 0x1] {
        Some("NAT64 local-use (translates to networks parceld cannot see)")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private (unique local, includes cloud metadata fd00:ec2::254)")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xff00 == 0xff00 {
        Some("multicast")
    } else if first == 0x2001 && segments[1] == 0x0db8 {
        Some("documentation")
    } else {
        None
    }
}

/// The IPv4 addresses an IPv6 address embeds by a standard transition scheme, or `None` for an
/// address that embeds none:
/// - IPv4-mapped `::ffff:0:0/96` and the deprecated IPv4-compatible `::/96`: the last 32 bits;
/// - NAT64 well-known prefix `64:ff9b::/96` (RFC 6052): the last 32 bits;
/// - 6to4 `2002::/16` (RFC 3056): bits 16..48;
/// - Teredo `2001::/32` (RFC 4380): the server in bits 32..64 and the client in the last 32
///   bits, inverted. Both are reached, so both are judged.
fn embedded_v4(v6: Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let bits = u128::from(v6);
    let low32 = Ipv4Addr::from(bits as u32);
    let segments = v6.segments();
    let mapped_or_compatible = bits >> 32 == 0xffff || bits >> 32 == 0;
    let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if mapped_or_compatible || nat64 {
        Some(vec![low32])
    } else if segments[0] == 0x2002 {
        Some(vec![Ipv4Addr::from((bits >> 80) as u32)])
    } else if segments[..2] == [0x2001, 0] {
        let server = Ipv4Addr::from((bits >> 64) as u32);
        let client = Ipv4Addr::from(!(bits as u32));
        Some(vec![server, client])
    } else {
        None
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (includes cloud metadata 169.254.169.254)")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("shared address space (carrier-grade NAT)")
    } else if o[0] == 0 {
        Some("unspecified (\"this network\")")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("multicast, broadcast or reserved")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments")
    } else if o[0] == 198 && (o[1] == 18 || o[1] == 19) {
        Some("benchmarking")
    } else if ip.is_documentation() {
        Some("documentation")
    } else {
        None
    }
}

/// Which addresses deliveries may go to.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<Cidr>,
}

/// A refused destination.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is a {range} address; parceld does not deliver webhooks there unless webhooks.allow_networks includes it")]
pub struct Refused {
    pub addr: IpAddr,
    pub range: &'static str,
}

impl AddressPolicy {
    pub fn new(allow: Vec<Cidr>) -> Self {
        AddressPolicy { allow }
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        // An IPv4-mapped IPv6 address is its IPv4 address, for the allow list too.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let Some(range) = special_range(ip) else {
            return Ok(());
        };
        // An address that embeds IPv4 addresses is allowed when the IPv6 address itself is in
        // an allowed network, or when every IPv4 address it carries is allowed or public.
        let allowed = |ip: IpAddr| self.allow.iter().any(|n| n.contains(ip));
        let embedded_allowed = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).is_some_and(|carried| {
                carried
                    .into_iter()
                    .all(|v4| special_v4(v4).is_none() || allowed(IpAddr::V4(v4)))
            }),
            IpAddr::V4(_) => false,
        };
        if allowed(ip) || embedded_allowed {
            Ok(())
        } else {
            Err(Refused { addr: ip, range })
        }
    }
}

/// Why a webhook URL is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("`{0}` is not an absolute URL: {1}")]
    Invalid(String, String),
    #[error("the URL must start with http:// or https://; got `{0}`")]
    Scheme(String),
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL is longer than 2048 characters")]
    TooLong,
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// Checks a URL a client wants deliveries sent to. Host names are checked again, after DNS
/// resolution, on every delivery; an IP literal can be refused right away.
pub fn check_url(raw: &str, policy: &AddressPolicy) -> Result<reqwest::Url, UrlError> {
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err(UrlError::TooLong);
    }
    let url =
        reqwest::Url::parse(raw).map_err(|e| UrlError::Invalid(raw.to_string(), e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(UrlError::Scheme(raw.to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    let host = url
        .host_str()
        .ok_or_else(|| UrlError::Invalid(raw.to_string(), "no host".into()))?;
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        policy.check(ip)?;
    }
    Ok(url)
}

/// The HTTP client's resolver: resolves with the system resolver and refuses the whole name if
/// any of its addresses is refused (so a name cannot mix a public and a private address).
pub(crate) struct SafeResolver {
    pub policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                policy.check(addr.ip()).map_err(|refused| {
                    Box::new(refused) as Box<dyn std::error::Error + Send + Sync>
                })?;
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        AddressPolicy::default()
            .check(text.parse().unwrap())
            .is_err()
    }

    #[test]
    fn special_addresses_are_refused_by_default() {
        for addr in [
            "127.0.0.1",
            "127.5.6.7",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(refused(addr), "{addr} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(addr), "{addr} should pass");
        }
    }

    #[test]
    fn ipv6_forms_that_embed_an_ipv4_address_are_judged_by_it() {
        // (address, refused?)
        for (addr, expect_refused) in [
            // IPv4-compatible ::/96
            ("::127.0.0.1", true),
            ("::10.0.0.1", true),
            ("::169.254.169.254", true),
            ("::8.8.8.8", false),
            // IPv4-mapped ::ffff:0:0/96
            ("::ffff:192.168.0.1", true),
            ("::ffff:1.1.1.1", false),
            // 6to4 2002::/16: the IPv4 address is bits 16..48
            ("2002:7f00:1::", true),
            ("2002:a9fe:a9fe::1", true),
            ("2002:c0a8:101:1::1", true),
            ("2002:808:808::1", false),
            // NAT64 well-known prefix 64:ff9b::/96
            ("64:ff9b::127.0.0.1", true),
            ("64:ff9b::a9fe:a9fe", true),
            ("64:ff9b::8.8.8.8", false),
            // NAT64 local-use 64:ff9b:1::/48 is itself a local range
            ("64:ff9b:1::808:808", true),
            ("64:ff9b:1:2::7f00:1", true),
            // Teredo 2001::/32: server in bits 32..64, client in the last 32 bits inverted
            // client 127.0.0.1 = !0x7f000001 = 0x80fffffe; server 8.8.8.8
            ("2001:0:808:808::80ff:fffe", true),
            // client 192.168.1.1 = !0xc0a80101 = 0x3f57fefe
            ("2001:0:808:808::3f57:fefe", true),
            // server 10.0.0.1, client 8.8.8.8 = !0x08080808 = 0xf7f7f7f7
            ("2001:0:a00:1::f7f7:f7f7", true),
            // server 8.8.8.8, client 8.8.4.4 = !0x08080404 = 0xf7f7fbfb
            ("2001:0:808:808::f7f7:fbfb", false),
        ] {
            assert_eq!(refused(addr), expect_refused, "{addr}");
        }
    }

    #[test]
    fn embedded_ipv4_literals_in_urls_are_refused() {
        let policy = AddressPolicy::default();
        for url in [
            "http://[::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2001:0:808:808::80ff:fffe]/",
        ] {
            assert!(
                matches!(check_url(url, &policy), Err(UrlError::Refused(_))),
                "{url} should be refused"
            );
        }
        assert!(check_url("http://[2002:808:808::1]/", &policy).is_ok());
    }

    #[test]
    fn the_allow_list_applies_to_the_embedded_ipv4_address() {
        let policy = AddressPolicy::new(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        assert!(policy.check("2002:a00:1::1".parse().unwrap()).is_ok());
        assert!(policy.check("64:ff9b::a00:1".parse().unwrap()).is_ok());
        assert!(policy.check("2002:7f00:1::".parse().unwrap()).is_err());
    }

    #[test]
    fn the_allow_list_opens_exactly_its_networks() {
        let policy = AddressPolicy::new(vec![
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("fd00::/8").unwrap(),
        ]);
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("fd00:ec2::254".parse().unwrap()).is_ok());
        assert!(policy.check("10.0.0.1".parse().unwrap()).is_err());
        assert!(policy.check("169.254.169.254".parse().unwrap()).is_err());
        assert!(policy.check("::1".parse().unwrap()).is_err());
    }

    #[test]
    fn cidrs_parse_and_match() {
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
        assert!(Cidr::parse("10.0.0.0/8")
            .unwrap()
            .contains("10.255.0.1".parse().unwrap()));
        assert!(!Cidr::parse("10.0.0.0/8")
            .unwrap()
            .contains("11.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("192.168.1.7")
            .unwrap()
            .contains("192.168.1.7".parse().unwrap()));
    }

    #[test]
    fn urls_are_checked() {
        let policy = AddressPolicy::default();
        assert!(check_url("https://hooks.example.com/parceld", &policy).is_ok());
        assert!(matches!(
            check_url("ftp://example.com", &policy),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            check_url("not a url", &policy),
            Err(UrlError::Invalid(..))
        ));
        assert!(matches!(
            check_url("http://user:pw@example.com/", &policy),
            Err(UrlError::Credentials)
        ));
        assert!(matches!(
            check_url("http://169.254.169.254/latest/meta-data", &policy),
            Err(UrlError::Refused(_))
        ));
        assert!(matches!(
            check_url("http://[::1]:8080/", &policy),
            Err(UrlError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn names_resolving_to_special_addresses_are_refused() {
        use reqwest::dns::Resolve;
        let resolver = SafeResolver {
            policy: Arc::new(AddressPolicy::default()),
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
        let allowing = SafeResolver {
            policy: Arc::new(AddressPolicy::new(vec![
                Cidr::parse("127.0.0.0/8").unwrap(),
                Cidr::parse("::1/128").unwrap(),
            ])),
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(allowing.resolve(name).await.is_ok());
    }
}
