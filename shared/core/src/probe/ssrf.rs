//! Which addresses a probe may connect to.
//!
//! A probe runs inside our Lambda with our credentials' network position; letting a tool's URL
//! point at loopback, the VPC, or a cloud metadata endpoint would turn the registry into a
//! proxy for attackers. Every resolved address is classified here, IPv4-mapped and other
//! embedded IPv4 forms included, and a host is refused if *any* of its addresses is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` may not be probed, or `None` if it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// Why `u`'s host, when it is a literal address, may not be fetched (names are checked by the
/// client's resolver when they are resolved).
pub fn literal_reason(u: &url::Url) -> Option<String> {
    let ip: IpAddr = match u.host()? {
        url::Host::Ipv4(v4) => v4.into(),
        url::Host::Ipv6(v6) => v6.into(),
        url::Host::Domain(_) => return None,
    };
    forbidden_reason(ip).map(|why| format!("address {ip} is {why}"))
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    const RULES: &[([u8; 4], u32, &str)] = &[
        ([169, 254, 169, 254], 32, "a cloud metadata address"),
        ([100, 100, 100, 200], 32, "a cloud metadata address"),
        ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([10, 0, 0, 0], 8, "a private network address"),
        ([172, 16, 0, 0], 12, "a private network address"),
        ([192, 168, 0, 0], 16, "a private network address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT (shared) address"),
        ([192, 0, 0, 0], 24, "an IETF protocol assignment address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved or broadcast address"),
    ];
    RULES
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    let octets = ip.octets();
    let embedded = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // ::ffff:a.b.c.d (mapped) is the IPv4 address itself: same rules.
    if seg[..6] == [0, 0, 0, 0, 0, 0xffff] {
        return v4_reason(embedded);
    }
    // ::a.b.c.d (IPv4-compatible) is deprecated and never a legitimate destination.
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("an IPv4-compatible address");
    }
    // NAT64 (64:ff9b::/96) embeds an IPv4 destination.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reason(embedded);
    }
    // 6to4 (2002::/16) embeds one in the next 32 bits.
    if seg[0] == 0x2002 {
        return v4_reason(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("a cloud metadata address");
    }
    match seg[0] {
        s if s & 0xfe00 == 0xfc00 => Some("a unique local (private) address"),
        s if s & 0xffc0 == 0xfe80 => Some("a link-local address"),
        s if s & 0xffc0 == 0xfec0 => Some("a site-local address"),
        s if s & 0xff00 == 0xff00 => Some("a multicast address"),
        0x2001 if seg[1] == 0x0db8 => Some("a documentation address"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(s: &str) -> bool {
        forbidden_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn every_internal_class_is_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "fec0::1",
        ] {
            assert!(bad(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!bad(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn metadata_addresses_are_named_as_such() {
        assert_eq!(
            forbidden_reason("169.254.169.254".parse().unwrap()),
            Some("a cloud metadata address")
        );
        assert_eq!(
            forbidden_reason("fd00:ec2::254".parse().unwrap()),
            Some("a cloud metadata address")
        );
    }
}
