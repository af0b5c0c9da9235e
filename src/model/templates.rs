//! Repository creation templates: the settings every repository ECR creates
//! itself (through a pull-through cache rule, replication, or create on
//! push) is given. A template is audited as the repositories it will make:
//! its repository policy, lifecycle policy, tag mutability and encryption
//! go through the same analysis as a repository's, and the custom role ECR
//! assumes to create them is checked for who else can assume it.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{encryption, lifecycle, mutability};
use crate::access::{AccessFacts, PolicyFacts};
use crate::inventory::RepositoryCreationTemplate;

/// The template prefix that applies to every repository no other template
/// matches.
const ROOT: &str = "ROOT";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreationTemplateFacts {
    pub arn: String,
    pub prefix: String,
    pub account: String,
    pub region: String,
    /// REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH.
    pub applied_for: BTreeSet<String>,
    /// The repositories it applies to, in words ("every repository ECR
    /// creates under `ghcr/`").
    pub applies_to: String,
    pub tag_mutability: String,
    pub tag_mutability_exclusions: BTreeSet<String>,
    pub overwritable_tags: String,
    pub encryption_type: String,
    pub kms_key: String,
    pub customer_managed_key: bool,
    /// "KEY=VALUE".
    pub tags: BTreeSet<String>,
    pub lifecycle: lifecycle::LifecycleFacts,
    pub policy: PolicyFacts,
    pub access: AccessFacts,
    /// The role ECR assumes to create repositories from the template; "".
    pub custom_role: String,
    /// Why that role is outside the organization's control: of an account
    /// outside the zone, or assumable from outside it (one line each).
    pub custom_role_outside_trust: BTreeSet<String>,
}

/// The synthetic ARN naming a template in reports (templates have none in
/// AWS).
pub fn template_arn(partition: &str, region: &str, account: &str, prefix: &str) -> String {
    format!("arn:{partition}:ecr:{region}:{account}:repository-creation-template/{prefix}")
}

/// The ARN the template's repository policy is analysed for: a
/// repository it will create, whose name is unknown, so one no statement is
/// likely to name.
pub fn future_repository_arn(partition: &str, region: &str, account: &str, prefix: &str) -> String {
    let name = if prefix == ROOT {
        "zz-any-repository-9".to_string()
    } else {
        format!("{}/zz-any-repository-9", prefix.trim_end_matches('/'))
    };
    format!("arn:{partition}:ecr:{region}:{account}:repository/{name}")
}

/// What the model decided about a template elsewhere: its policy's
/// analysis, and its custom role.
pub struct Decided {
    pub policy: PolicyFacts,
    pub access: AccessFacts,
    /// The custom role ("" when none) and why it is not the organization's
    /// alone.
    pub custom_role: (String, BTreeSet<String>),
}

/// The facts of a template of `account` in `region`.
pub fn template_facts(
    template: &RepositoryCreationTemplate,
    account: &str,
    region: &str,
    arn: String,
    decided: Decided,
) -> CreationTemplateFacts {
    let prefix = template.prefix.as_str();
    let mutability_setting = template
        .image_tag_mutability
        .as_deref()
        .unwrap_or("MUTABLE");
    let (overwritable_tags, tag_mutability_exclusions) = mutability::overwritable_tags(
        mutability_setting,
        &template.image_tag_mutability_exclusion_filters,
    );
    let encryption_config = template
        .encryption_configuration
        .clone()
        .unwrap_or_default();
    let (kms_key, cmk) = encryption::customer_managed_key(&encryption_config);
    let applies_to = if prefix == ROOT {
        "every repository ECR creates that no other template matches".to_string()
    } else {
        format!("every repository ECR creates under `{prefix}/`")
    };
    let (custom_role, custom_role_outside_trust) = decided.custom_role;
    CreationTemplateFacts {
        arn,
        prefix: prefix.to_string(),
        account: account.to_string(),
        region: region.to_string(),
        applied_for: template.applied_for.iter().cloned().collect(),
        applies_to,
        tag_mutability: mutability_setting.to_string(),
        tag_mutability_exclusions,
        overwritable_tags,
        encryption_type: encryption_config.encryption_type.clone(),
        kms_key,
        customer_managed_key: cmk,
        tags: template
            .resource_tags
            .iter()
            .map(|t| format!("{}={}", t.key, t.value))
            .collect(),
        lifecycle: lifecycle::lifecycle_facts(template.lifecycle_policy.as_deref()),
        policy: decided.policy,
        access: decided.access,
        custom_role,
        custom_role_outside_trust,
    }
}
