//! Global condition keys the access analysis reasons about (README, "How the
//! policy analysis works").
//!
//! Only the vocabulary lives here: which keys name the caller's identity or
//! network, and which scope a service principal. Whether a given condition
//! restricts a grant to the zone of trust depends on the zone and is the
//! access analysis' decision. All names are lower-case, as
//! [`crate::policy::ConditionKey::lower`].

/// Keys that identify who is calling (or on whose behalf a service calls).
/// Compared, with a positive operator and no IfExists/ForAllValues, against
/// values inside the zone of trust, they restrict a grant to the zone.
pub const IDENTITY_KEYS: [&str; 10] = [
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:sourceowner",
];

/// Keys that pin the caller's network (aws:SourceIp only with private ranges).
pub const NETWORK_KEYS: [&str; 3] = ["aws:sourcevpc", "aws:sourcevpce", "aws:sourceip"];

/// Keys that scope an AWS service principal to the accounts it acts for
/// (the confused-deputy guard checked by ECR105).
pub const SERVICE_SCOPE_KEYS: [&str; 5] = [
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceowner",
];

/// True for a key in [`IDENTITY_KEYS`] (case-insensitive).
pub fn is_identity_key(key: &str) -> bool {
    IDENTITY_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// True for a key in [`NETWORK_KEYS`] (case-insensitive).
pub fn is_network_key(key: &str) -> bool {
    NETWORK_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// True for a key in [`SERVICE_SCOPE_KEYS`] (case-insensitive).
pub fn is_service_scope_key(key: &str) -> bool {
    SERVICE_SCOPE_KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(key))
}

/// The ranges of [`is_private_network`], as CIDR text.
pub const PRIVATE_NETWORKS: [&str; 9] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// True when an IP network lies entirely in private or otherwise
/// non-routable space (RFC 1918, loopback, link-local, CGNAT, IPv6 ULA and
/// link-local): an outsider on the internet cannot originate from it.
// PANIC SAFETY: the networks are constants that parse (unit-tested).
#[allow(clippy::expect_used)]
pub fn is_private_network(net: &super::condition::Cidr) -> bool {
    use super::condition::Cidr;
    let within = |n: &Cidr, base: &str| {
        let b = super::condition::parse_cidr(base).expect("valid constant");
        match (*n, b) {
            (Cidr::V4(a, la), Cidr::V4(_, lb)) => {
                la >= lb && b.contains(std::net::IpAddr::V4(a.into()))
            }
            (Cidr::V6(a, la), Cidr::V6(_, lb)) => {
                la >= lb && b.contains(std::net::IpAddr::V6(a.into()))
            }
            _ => false,
        }
    };
    PRIVATE_NETWORKS.iter().any(|base| within(net, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::condition::parse_cidr;

    #[test]
    fn classification() {
        assert!(is_identity_key("AWS:PrincipalOrgID"));
        assert!(!is_identity_key("aws:PrincipalTag/team"));
        assert!(is_network_key("aws:SourceVpce"));
        assert!(is_service_scope_key("aws:SourceArn"));
        assert!(!is_service_scope_key("aws:PrincipalArn"));
        let private = |s: &str| is_private_network(&parse_cidr(s).unwrap());
        assert!(private("10.1.0.0/16"));
        assert!(private("172.31.255.0/24"));
        assert!(private("192.168.1.7"));
        assert!(private("fd00:1234::/32"));
        assert!(
            !private("10.0.0.0/7"),
            "wider than 10/8 reaches public space"
        );
        assert!(!private("172.32.0.0/16"));
        assert!(!private("203.0.113.0/24"));
        assert!(!private("0.0.0.0/0"));
        assert!(!private("2001:db8::/32"));
    }
}
