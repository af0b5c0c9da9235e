//! Repository creation templates: the settings every repository ECR creates
//! itself (through a pull-through cache rule, replication, or create on
//! push) is given. A template is audited as the repositories it will make:
//! its repository policy, lifecycle policy, tag mutability and encryption
//! go through the same analysis as a repository's, and the custom role ECR
//! assumes to create them is checked for who else can assume it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{
    customer_managed_key, failed_read, lifecycle, location_segment, mutability, role_facts,
    AuditEntity, EntityFacts, PolicyCache, ResourceKind, TrustZone,
};
use crate::access::{AccessFacts, PolicyFacts};
use crate::inventory::{Account, CollectionError, RepositoryCreationTemplate};

/// The template prefix that applies to every repository no other template
/// matches.
const ROOT: &str = "ROOT";
/// The operation whose failure leaves IAM roles unknown.
const IAM_READ: &str = "iam:GetAccountAuthorizationDetails";

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

/// Where a template's facts come from besides the template itself.
pub(super) struct TemplateScope<'a> {
    pub account: &'a Account,
    pub region: &'a str,
    pub partition: &'a str,
    pub zone: &'a TrustZone,
    pub accounts: &'a [Account],
    pub errors: &'a [CollectionError],
}

/// The synthetic ARN naming a template in reports (templates have none in
/// AWS).
pub fn template_arn(partition: &str, region: &str, account: &str, prefix: &str) -> String {
    format!("arn:{partition}:ecr:{region}:{account}:repository-creation-template/{prefix}")
}

pub(super) fn template_entity(
    template: &RepositoryCreationTemplate,
    scope: &TemplateScope,
    cache: &PolicyCache,
) -> AuditEntity {
    let account = scope.account.id.to_string();
    let prefix = template.prefix.as_str();
    let arn = template_arn(scope.partition, scope.region, &account, prefix);
    // The policy is analysed for a repository the template will create;
    // its name is unknown, so one no statement is likely to name.
    let future_repository = if prefix == ROOT {
        "zz-any-repository-9".to_string()
    } else {
        format!("{}/zz-any-repository-9", prefix.trim_end_matches('/'))
    };
    let future_arn = format!(
        "arn:{}:ecr:{}:{account}:repository/{future_repository}",
        scope.partition, scope.region
    );
    let (policy, access) = match template.repository_policy.as_deref() {
        Some(text) => cache.repository(text, &future_arn, &account, scope.zone),
        None => (PolicyFacts::absent(), AccessFacts::default()),
    };
    let mutability_setting = template
        .image_tag_mutability
        .as_deref()
        .unwrap_or("MUTABLE");
    let (overwritable_tags, tag_mutability_exclusions) = mutability::overwritable_tags(
        mutability_setting,
        &template.image_tag_mutability_exclusion_filters,
    );
    let encryption = template
        .encryption_configuration
        .clone()
        .unwrap_or_default();
    let (kms_key, cmk) = customer_managed_key(&encryption);
    let mut unread = BTreeMap::new();
    let (custom_role, custom_role_outside_trust) = match template.custom_role_arn.as_deref() {
        Some(role) => match custom_role_outside_trust(role, scope) {
            Ok(reasons) => (role.to_string(), reasons),
            Err(reads) => {
                unread.insert("custom_role_outside_trust".to_string(), reads);
                (role.to_string(), BTreeSet::new())
            }
        },
        None => (String::new(), BTreeSet::new()),
    };
    let applies_to = if prefix == ROOT {
        "every repository ECR creates that no other template matches".to_string()
    } else {
        format!("every repository ECR creates under `{prefix}/`")
    };
    let facts = CreationTemplateFacts {
        arn: arn.clone(),
        prefix: prefix.to_string(),
        account: account.clone(),
        region: scope.region.to_string(),
        applied_for: template.applied_for.iter().cloned().collect(),
        applies_to,
        tag_mutability: mutability_setting.to_string(),
        tag_mutability_exclusions,
        overwritable_tags,
        encryption_type: encryption.encryption_type.clone(),
        kms_key,
        customer_managed_key: cmk,
        tags: template
            .resource_tags
            .iter()
            .map(|t| format!("{}={}", t.key, t.value))
            .collect(),
        lifecycle: lifecycle::lifecycle_facts(template.lifecycle_policy.as_deref()),
        policy,
        access,
        custom_role,
        custom_role_outside_trust,
    };
    AuditEntity {
        kind: ResourceKind::CreationTemplate,
        location: format!(
            "aws/ecr/{}/{}/_creation-templates/{}",
            location_segment(&account),
            location_segment(scope.region),
            location_segment(prefix)
        ),
        arn,
        account,
        region: Some(scope.region.to_string()),
        facts: EntityFacts::CreationTemplate(Box::new(facts)),
        unread,
    }
}

/// Why the custom role is not the organization's alone; `Err` with the
/// failed reads when the role's account's IAM was not read.
fn custom_role_outside_trust(
    role: &str,
    scope: &TemplateScope,
) -> Result<BTreeSet<String>, BTreeSet<String>> {
    let Some(role_account) = super::pull_through::role_account(role) else {
        return Ok(["it is not an IAM role ARN".to_string()].into());
    };
    let owner = scope.account.id.to_string();
    if role_account != owner && !scope.zone.contains_account(role_account) {
        return Ok([format!(
            "it belongs to {role_account}, outside the zone of trust"
        )]
        .into());
    }
    let Some(account) = scope
        .accounts
        .iter()
        .find(|a| a.id.to_string() == role_account)
    else {
        // A zone account this scan did not collect: trusted, not read.
        return Ok(BTreeSet::new());
    };
    let Some(iam) = &account.iam else {
        let reads: BTreeSet<String> = scope
            .errors
            .iter()
            .filter(|e| e.operation == IAM_READ && e.account == role_account)
            .map(failed_read)
            .collect();
        return Err(if reads.is_empty() {
            [format!(
                "the IAM roles of {role_account} were not collected"
            )]
            .into()
        } else {
            reads
        });
    };
    // A role that does not exist: ECR cannot assume it, nobody else can.
    let Some(found) = iam.roles.iter().find(|r| r.arn == role) else {
        return Ok(BTreeSet::new());
    };
    let facts = role_facts(account, found, &scope.zone.for_owner(role_account));
    Ok(facts
        .assumable_from_outside
        .iter()
        .map(|who| format!("it can be assumed by {who}"))
        .collect())
}
