//! The catalogue of `ecr:` actions and Action/NotAction expansion.
//!
//! Built from the Service Authorization Reference page "Actions, resources,
//! and condition keys for Amazon Elastic Container Registry" (service prefix
//! `ecr`): 60 actions; 25 of them have no resource type (registry-level, they
//! need Resource `*`), the other 35 act on a repository ARN.

use super::ast::ActionElement;
use super::pattern::action_pattern_matches;

/// Access level as the Service Authorization Reference classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

/// What the action is authorized against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceScope {
    /// `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`.
    Repository,
    /// No resource type: the statement's Resource must be `*`.
    Registry,
}

/// The coarse class the access rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionClass {
    /// Pull and metadata (access levels List and Read).
    Read,
    /// Push, delete, change settings or tags (Write and Tagging).
    Write,
    /// Change who has access (Permissions management).
    Permissions,
}

/// One `ecr:` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EcrAction {
    /// Full name as AWS spells it, e.g. `ecr:BatchGetImage`.
    pub name: &'static str,
    pub access: AccessLevel,
    pub scope: ResourceScope,
}

impl EcrAction {
    /// Name without the `ecr:` prefix.
    pub fn short_name(&self) -> &'static str {
        &self.name[4..]
    }

    pub fn class(&self) -> ActionClass {
        match self.access {
            AccessLevel::List | AccessLevel::Read => ActionClass::Read,
            AccessLevel::Write | AccessLevel::Tagging => ActionClass::Write,
            AccessLevel::PermissionsManagement => ActionClass::Permissions,
        }
    }

    /// True for `ecr:GetAuthorizationToken`, which only works from identity
    /// policies and only on Resource `*`.
    pub fn is_auth_token(&self) -> bool {
        self.name == GET_AUTHORIZATION_TOKEN
    }

    /// True for the actions a registry policy can grant to other accounts
    /// (cross-account replication, pull-through cache, create-on-push).
    pub fn is_registry_policy_action(&self) -> bool {
        REGISTRY_POLICY_ACTIONS.contains(&self.name)
    }
}

pub const GET_AUTHORIZATION_TOKEN: &str = "ecr:GetAuthorizationToken";

/// Actions a registry (private registry permissions) policy is about.
pub const REGISTRY_POLICY_ACTIONS: [&str; 3] = [
    "ecr:ReplicateImage",
    "ecr:CreateRepository",
    "ecr:BatchImportUpstreamImage",
];

/// The actions a `docker pull` needs.
pub const PULL_ACTIONS: [&str; 3] = [
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
];

/// The actions a `docker push` needs (besides BatchCheckLayerAvailability).
pub const PUSH_ACTIONS: [&str; 4] = [
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
];

use AccessLevel::{List as L, PermissionsManagement as P, Read as R, Tagging as T, Write as W};
use ResourceScope::{Registry as G, Repository as Y};

const fn a(name: &'static str, access: AccessLevel, scope: ResourceScope) -> EcrAction {
    EcrAction {
        name,
        access,
        scope,
    }
}

static CATALOGUE: [EcrAction; 60] = [
    a("ecr:BatchCheckLayerAvailability", R, Y),
    a("ecr:BatchDeleteImage", W, Y),
    a("ecr:BatchGetImage", R, Y),
    a("ecr:BatchGetRepositoryScanningConfiguration", R, Y),
    a("ecr:BatchImportUpstreamImage", W, Y),
    a("ecr:CompleteLayerUpload", W, Y),
    a("ecr:CreatePullThroughCacheRule", W, G),
    a("ecr:CreateRepository", W, Y),
    a("ecr:CreateRepositoryCreationTemplate", W, G),
    a("ecr:DeleteLifecyclePolicy", W, Y),
    a("ecr:DeletePullThroughCacheRule", W, G),
    a("ecr:DeleteRegistryPolicy", P, G),
    a("ecr:DeleteRepository", W, Y),
    a("ecr:DeleteRepositoryCreationTemplate", W, G),
    a("ecr:DeleteRepositoryPolicy", P, Y),
    a("ecr:DeleteSigningConfiguration", W, G),
    a("ecr:DeregisterPullTimeUpdateExclusion", W, G),
    a("ecr:DescribeImageReplicationStatus", R, Y),
    a("ecr:DescribeImageScanFindings", R, Y),
    a("ecr:DescribeImageSigningStatus", R, Y),
    a("ecr:DescribeImages", L, Y),
    a("ecr:DescribePullThroughCacheRules", L, G),
    a("ecr:DescribeRegistry", R, G),
    a("ecr:DescribeRepositories", R, Y),
    a("ecr:DescribeRepositoryCreationTemplates", R, G),
    a("ecr:GetAccountSetting", R, G),
    a("ecr:GetAuthorizationToken", R, G),
    a("ecr:GetDownloadUrlForLayer", R, Y),
    a("ecr:GetImageCopyStatus", R, Y),
    a("ecr:GetLifecyclePolicy", R, Y),
    a("ecr:GetLifecyclePolicyPreview", R, Y),
    a("ecr:GetRegistryPolicy", R, G),
    a("ecr:GetRegistryScanningConfiguration", R, G),
    a("ecr:GetRepositoryPolicy", R, Y),
    a("ecr:GetSigningConfiguration", R, G),
    a("ecr:InitiateLayerUpload", W, Y),
    a("ecr:ListImages", L, Y),
    a("ecr:ListPullTimeUpdateExclusions", L, G),
    a("ecr:ListTagsForResource", R, Y),
    a("ecr:PutAccountSetting", W, G),
    a("ecr:PutImage", W, Y),
    a("ecr:PutImageScanningConfiguration", W, Y),
    a("ecr:PutImageTagMutability", W, Y),
    a("ecr:PutLifecyclePolicy", W, Y),
    a("ecr:PutRegistryPolicy", P, G),
    a("ecr:PutRegistryScanningConfiguration", W, G),
    a("ecr:PutReplicationConfiguration", W, G),
    a("ecr:PutSigningConfiguration", W, G),
    a("ecr:RegisterPullTimeUpdateExclusion", W, G),
    a("ecr:ReplicateImage", W, Y),
    a("ecr:SetRepositoryPolicy", P, Y),
    a("ecr:StartImageScan", W, Y),
    a("ecr:StartLifecyclePolicyPreview", W, Y),
    a("ecr:TagResource", T, Y),
    a("ecr:UntagResource", T, Y),
    a("ecr:UpdateImageStorageClass", W, Y),
    a("ecr:UpdatePullThroughCacheRule", W, G),
    a("ecr:UpdateRepositoryCreationTemplate", W, G),
    a("ecr:UploadLayerPart", W, Y),
    a("ecr:ValidatePullThroughCacheRule", R, G),
];

/// Every `ecr:` action, sorted by name.
pub fn all() -> &'static [EcrAction] {
    &CATALOGUE
}

/// Look an action up by name, case-insensitively (`ECR:batchgetimage`).
pub fn lookup(name: &str) -> Option<&'static EcrAction> {
    CATALOGUE.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// The catalogue actions one pattern (`ecr:Get*`, `*`, `ECR:batchget*`) covers.
pub fn expand_pattern(pattern: &str) -> Vec<&'static EcrAction> {
    CATALOGUE
        .iter()
        .filter(|a| action_pattern_matches(pattern, a.name))
        .collect()
}

/// The catalogue actions an Action or NotAction element covers (NotAction:
/// every catalogue action none of its patterns covers).
pub fn expand(element: &ActionElement) -> Vec<&'static EcrAction> {
    CATALOGUE
        .iter()
        .filter(|a| element.matches(a.name))
        .collect()
}

/// Does an Action/NotAction element cover this action name (any service,
/// e.g. `sts:AssumeRoleWithWebIdentity`, `iam:PassRole`)? Case-insensitive.
pub fn element_matches(element: &ActionElement, action: &str) -> bool {
    element.matches(action)
}

/// True when the element can cover actions of services other than ECR
/// (`*`, `s3:*`, `*:Get*`, any NotAction...), which matters for trust and
/// identity analysis even when no `ecr:` action is covered.
pub fn covers_other_services(element: &ActionElement) -> bool {
    element.negated
        || element.patterns.iter().any(|p| match p.split_once(':') {
            Some((svc, _)) => !svc.eq_ignore_ascii_case("ecr"),
            None => true,
        })
}

/// True when the element covers every `ecr:` action (`ecr:*`, `*`, or a
/// NotAction that excludes no ECR action).
pub fn covers_all_ecr(element: &ActionElement) -> bool {
    expand(element).len() == CATALOGUE.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(negated: bool, patterns: &[&str]) -> ActionElement {
        ActionElement {
            negated,
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn catalogue_is_consistent() {
        assert_eq!(all().len(), 60);
        assert_eq!(
            all()
                .iter()
                .filter(|a| a.scope == ResourceScope::Registry)
                .count(),
            25
        );
        let mut names: Vec<_> = all().iter().map(|a| a.name).collect();
        let sorted = names.clone();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names, sorted, "catalogue sorted and without duplicates");
        assert!(all().iter().all(|a| a.name.starts_with("ecr:")));
        assert_eq!(
            all()
                .iter()
                .filter(|a| a.class() == ActionClass::Permissions)
                .count(),
            4
        );
    }

    #[test]
    fn expansion() {
        assert_eq!(expand_pattern("*").len(), 60);
        assert_eq!(expand_pattern("ecr:*").len(), 60);
        assert_eq!(expand_pattern("s3:*").len(), 0);
        let bg: Vec<_> = expand_pattern("ECR:batchget*")
            .iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            bg,
            [
                "ecr:BatchGetImage",
                "ecr:BatchGetRepositoryScanningConfiguration"
            ]
        );
        assert!(expand_pattern("ecr:Get*")
            .iter()
            .all(|a| a.short_name().starts_with("Get")));
        assert_eq!(expand_pattern("ecr:Get*").len(), 10);
        assert_eq!(expand_pattern("ecr:?etAuthorizationToken").len(), 1);
        let not = expand(&el(true, &["ecr:Put*", "ecr:Delete*"]));
        assert!(not
            .iter()
            .all(|a| !a.short_name().starts_with("Put") && !a.short_name().starts_with("Delete")));
        assert!(not.iter().any(|a| a.name == "ecr:BatchGetImage"));
        assert!(expand(&el(true, &["s3:*"])).len() == 60);
        assert!(element_matches(&el(false, &["*"]), "sts:AssumeRole"));
        assert!(element_matches(&el(true, &["ecr:*"]), "iam:PassRole"));
        assert!(!element_matches(&el(true, &["*"]), "iam:PassRole"));
        assert!(covers_other_services(&el(false, &["*"])));
        assert!(!covers_other_services(&el(false, &["ecr:*"])));
        assert!(covers_all_ecr(&el(false, &["ecr:*"])));
        assert!(lookup("ECR:getauthorizationtoken").unwrap().is_auth_token());
    }
}
