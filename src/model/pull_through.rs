//! Pull-through cache rules that make the registry depend on a party outside
//! the zone of trust: an upstream that is another account's ECR registry
//! (ECR-to-ECR pull through cache), upstream credentials kept in a Secrets
//! Manager secret of another account, or a custom role of an outside
//! account that ECR assumes to pull from the upstream. Images pulled
//! through such a rule are whatever that party serves under the prefix.

use std::collections::BTreeSet;

use crate::inventory::PullThroughCacheRule;

/// One line per rule and reason ("prefix `ghcr`: upstream ECR registry
/// 999988887777 (us-east-1) is outside the zone of trust").
pub fn outside_trust(
    rules: &[PullThroughCacheRule],
    owner: &str,
    in_zone: impl Fn(&str) -> bool,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in rules {
        let prefix = &rule.ecr_repository_prefix;
        if let Some((account, region)) = ecr_upstream(&rule.upstream_registry_url) {
            if account != owner && !in_zone(account) {
                out.insert(format!(
                    "prefix `{prefix}`: upstream ECR registry {account} ({region}) is outside the zone of trust"
                ));
            }
        }
        if let Some(role) = rule.custom_role_arn.as_deref() {
            if let Some(account) = role_account(role).filter(|a| *a != owner && !in_zone(a)) {
                out.insert(format!(
                    "prefix `{prefix}`: ECR pulls from the upstream as role {role} of {account}, outside the zone of trust"
                ));
            }
        }
        if let Some((account, name)) = rule.credential_arn.as_deref().and_then(secret_parts) {
            // A pull-through cache rule's secret must be named with this
            // prefix (Amazon ECR User Guide, "Creating a pull through cache
            // rule in Amazon ECR"): another name is a secret set aside for
            // something else, shared with the registry.
            if !name.starts_with(SECRET_NAME_PREFIX) {
                out.insert(format!(
                    "prefix `{prefix}`: upstream credentials secret `{name}` is not named with the `{SECRET_NAME_PREFIX}` prefix ECR requires"
                ));
            }
            if account != owner {
                let zone = if in_zone(account) {
                    "another account of the zone"
                } else {
                    "an account outside the zone of trust"
                };
                out.insert(format!(
                    "prefix `{prefix}`: upstream credentials are a secret of {account}, {zone}"
                ));
            }
        }
    }
    out
}

/// The account and region of an ECR registry address
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`, or `.amazonaws.com.cn`).
fn ecr_upstream(url: &str) -> Option<(&str, &str)> {
    let host = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or("");
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (account, rest) = rest.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".on.aws").unwrap_or(rest);
    let is_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (is_account && !region.is_empty() && !region.contains('.')).then_some((account, region))
}

/// The account of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
pub(super) fn role_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, rest] if rest.starts_with("role/") => Some(account),
        _ => None,
    }
}

/// The name prefix of the secrets a pull-through cache rule may use.
const SECRET_NAME_PREFIX: &str = "ecr-pullthroughcache/";

/// The account and name of a Secrets Manager secret ARN
/// (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`).
fn secret_parts(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "secretsmanager", _, account, "secret", name] => Some((account, name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, url: &str, credential: Option<&str>) -> PullThroughCacheRule {
        PullThroughCacheRule {
            ecr_repository_prefix: prefix.into(),
            upstream_registry_url: url.into(),
            upstream_registry: None,
            credential_arn: credential.map(String::from),
            custom_role_arn: None,
            upstream_repository_prefix: None,
        }
    }

    #[test]
    fn outside_ecr_upstreams_and_foreign_secrets_are_named() {
        let zone = |a: &str| a == "222233334444";
        let rules = [
            rule("mirror", "999988887777.dkr.ecr.us-east-1.amazonaws.com", None),
            rule("inside", "222233334444.dkr.ecr.eu-west-1.amazonaws.com", None),
            rule("own", "111122223333.dkr.ecr.eu-west-1.amazonaws.com", None),
            rule("hub", "registry-1.docker.io", Some("arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/hub-AbCdEf")),
            rule("ghcr", "ghcr.io", Some("arn:aws:secretsmanager:us-east-1:444455556666:secret:ecr-pullthroughcache/ghcr-AbCdEf")),
            rule("cn", "999988887777.dkr.ecr.cn-north-1.amazonaws.com.cn", None),
            rule("quay", "quay.io", Some("arn:aws:secretsmanager:us-east-1:111122223333:secret:quay-creds-AbCdEf")),
        ];
        let mut rules = rules.to_vec();
        let mut own_upstream_foreign_role =
            rule("via", "111122223333.dkr.ecr.eu-west-1.amazonaws.com", None);
        own_upstream_foreign_role.custom_role_arn =
            Some("arn:aws:iam::999988887777:role/ecr-pull".into());
        let mut zone_role = rule("zone", "222233334444.dkr.ecr.eu-west-1.amazonaws.com", None);
        zone_role.custom_role_arn = Some("arn:aws:iam::222233334444:role/ecr-pull".into());
        rules.extend([own_upstream_foreign_role, zone_role]);
        let found = outside_trust(&rules, "111122223333", zone);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            [
                "prefix `cn`: upstream ECR registry 999988887777 (cn-north-1) is outside the zone of trust",
                "prefix `ghcr`: upstream credentials are a secret of 444455556666, an account outside the zone of trust",
                "prefix `mirror`: upstream ECR registry 999988887777 (us-east-1) is outside the zone of trust",
                "prefix `quay`: upstream credentials secret `quay-creds-AbCdEf` is not named with the `ecr-pullthroughcache/` prefix ECR requires",
                "prefix `via`: ECR pulls from the upstream as role arn:aws:iam::999988887777:role/ecr-pull of 999988887777, outside the zone of trust",
            ]
        );
        // Not ECR addresses.
        assert_eq!(ecr_upstream("public.ecr.aws"), None);
        assert_eq!(ecr_upstream("12345.dkr.ecr.us-east-1.amazonaws.com"), None);
        assert_eq!(secret_parts("arn:aws:s3:::bucket"), None);
    }
}
