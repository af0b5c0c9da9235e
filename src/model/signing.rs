//! Managed signing: which of a registry's repositories must have their
//! images signed (GetSigningConfiguration's rules and their filters).

use std::collections::BTreeSet;

use super::scanning::wildcard_match;
use crate::inventory::SigningConfiguration;

/// The signing profiles whose rules match the repository: images pushed to
/// it are meant to be signed with each. A rule without filters matches
/// every repository (Amazon ECR API Reference, "SigningRule").
pub fn profiles_for(config: Option<&SigningConfiguration>, repository: &str) -> BTreeSet<String> {
    config
        .into_iter()
        .flat_map(|c| &c.rules)
        .filter(|rule| {
            rule.repository_filters.is_empty()
                || rule
                    .repository_filters
                    .iter()
                    .any(|f| wildcard_match(&f.filter, repository))
        })
        .map(|rule| rule.signing_profile_arn.clone())
        .collect()
}

/// The registry's rules in words, one line each.
pub fn describe_rules(config: Option<&SigningConfiguration>) -> BTreeSet<String> {
    config
        .into_iter()
        .flat_map(|c| &c.rules)
        .map(|rule| {
            let filters: Vec<String> = rule
                .repository_filters
                .iter()
                .map(|f| format!("`{}`", f.filter))
                .collect();
            if filters.is_empty() {
                format!("{} for every repository", rule.signing_profile_arn)
            } else {
                format!(
                    "{} for repositories matching {}",
                    rule.signing_profile_arn,
                    filters.join(", ")
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{RepositoryFilter, SigningRule};

    #[test]
    fn a_rule_without_filters_matches_every_repository() {
        let config = SigningConfiguration {
            rules: vec![
                SigningRule {
                    signing_profile_arn:
                        "arn:aws:signer:us-east-1:111122223333:/signing-profiles/prod".into(),
                    repository_filters: vec![RepositoryFilter {
                        filter: "prod/*".into(),
                        filter_type: "WILDCARD_MATCH".into(),
                    }],
                },
                SigningRule {
                    signing_profile_arn:
                        "arn:aws:signer:us-east-1:111122223333:/signing-profiles/all".into(),
                    repository_filters: vec![],
                },
            ],
        };
        assert_eq!(profiles_for(Some(&config), "prod/api").len(), 2);
        assert_eq!(profiles_for(Some(&config), "dev/api").len(), 1);
        assert!(profiles_for(None, "prod/api").is_empty());
        assert!(describe_rules(Some(&config))
            .contains("arn:aws:signer:us-east-1:111122223333:/signing-profiles/prod for repositories matching `prod/*`"));
    }
}
