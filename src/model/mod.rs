//! The audit model: the analysed facts about every registry, repository and
//! IAM principal of an inventory, ready for the rule engine.
//!
//! Each entity is a plain record (JSON-shaped, matching `rules/schema.cedarschema`)
//! so that it can be printed, saved and tested on its own; the engine turns it
//! into a Cedar entity.

mod account_shape;
pub mod encryption;
pub mod images;
pub mod lifecycle;
pub mod mutability;
pub mod pull_through;
pub mod scanning;
pub mod signing;
pub mod templates;

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;
use std::sync::{Arc, Mutex};

use account_shape::AccountShape;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{self, identity, RegistryScope, Target};
use crate::access::{AccessFacts, PolicyFacts};
use crate::inventory::{
    Account, AccountId, CollectionError, Inventory, Region, Registry, Repository,
};

/// What kind of resource an entity (and a finding about it) is; decides
/// its SARIF location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Registry,
    Repository,
    IamPrincipal,
    /// A repository creation template: the repositories ECR will create.
    CreationTemplate,
}

/// What an IAM user or role can do with ECR and who can become it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalFacts {
    pub policy: PolicyFacts,
    /// What its identity policies grant (attributes of the entity itself).
    #[serde(flatten)]
    pub grants: identity::IdentityAnalysis,
    pub assumable_from_outside: BTreeSet<String>,
    pub web_identity_without_subject: BTreeSet<String>,
    pub proofs: BTreeSet<String>,
    pub counterexamples: BTreeSet<String>,
}

impl Default for PrincipalFacts {
    fn default() -> Self {
        PrincipalFacts {
            policy: PolicyFacts::absent(),
            grants: identity::IdentityAnalysis::default(),
            assumable_from_outside: BTreeSet::new(),
            web_identity_without_subject: BTreeSet::new(),
            proofs: BTreeSet::new(),
            counterexamples: BTreeSet::new(),
        }
    }
}

/// Policy analyses made so far. Organizations reuse a handful of policy
/// texts across thousands of repositories and roles; an analysis is a pure
/// function of the text, the owner account (its zone of trust) and, when a
/// statement names resources, the resource's ARN, so one analysis serves
/// every resource with the same three.
#[derive(Default)]
struct AnalysisCache {
    repository: Memo<(PolicyFacts, AccessFacts)>,
    /// Repository policy analyses by the text's shape up to the accounts
    /// it names (see [`account_shape`]).
    repository_shapes: ShapeMemo<(PolicyFacts, AccessFacts)>,
    trust: Memo<identity::TrustAnalysis>,
    identity: Memo<identity::IdentityAnalysis>,
    /// Identity analyses by the shape of their documents' names and texts.
    identity_shapes: ShapeMemo<identity::IdentityAnalysis>,
}

/// Text → what else the analysis read → result: looked up without copying
/// the text.
struct Memo<V> {
    entries: Mutex<HashMap<String, HashMap<String, V>>>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            entries: Mutex::new(HashMap::default()),
        }
    }
}

impl<V: Clone> Memo<V> {
    fn get_or_analyse(&self, text: &str, rest: &str, analyse: impl FnOnce() -> V) -> V {
        let lock = || {
            self.entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(hit) = lock().get(text).and_then(|by_rest| by_rest.get(rest)) {
            return hit.clone();
        }
        // Analysed outside the lock: the other core keeps going, and at
        // worst both analyse the same text once.
        let value = analyse();
        lock()
            .entry(text.to_string())
            .or_default()
            .insert(rest.to_string(), value.clone());
        value
    }
}

/// The resource's ARN when an analysis of `text` may read it: only when a
/// statement may name resources.
fn resource_read<'a>(text: &str, arn: &'a str) -> Option<&'a str> {
    crate::policy::may_name_resources(text).then_some(arn)
}

/// What an analysis for a resource of `owner` reads besides the text: the
/// owner, and the resource's ARN when it reads it.
fn owner_and_resource(owner: &str, resource: Option<&str>) -> String {
    match resource {
        Some(arn) => format!("{owner} {arn}"),
        None => owner.to_string(),
    }
}

/// Analyses whose strings can be renamed from one text's accounts to
/// another's.
trait NamesAccounts: Sized {
    fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self>;
}

impl NamesAccounts for identity::IdentityAnalysis {
    fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self> {
        identity::IdentityAnalysis::try_map_strings(self, f)
    }
}

impl NamesAccounts for (PolicyFacts, AccessFacts) {
    fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self> {
        Some((self.0.try_map_strings(f)?, self.1.try_map_strings(f)?))
    }
}

/// Shape key → the first text's shape and analysis, or `None` when that
/// analysis names an account its shape does not rank (then no other text
/// shares it).
struct ShapeMemo<V> {
    entries: Mutex<HashMap<String, Option<SharedAnalysis<V>>>>,
}

/// The first text of a shape and its analysis.
type SharedAnalysis<V> = Arc<(AccountShape, V)>;

impl<V> Default for ShapeMemo<V> {
    fn default() -> Self {
        ShapeMemo {
            entries: Mutex::new(HashMap::default()),
        }
    }
}

impl<V: NamesAccounts + Clone> ShapeMemo<V> {
    fn get_or_analyse(&self, shape: AccountShape, analyse: impl FnOnce() -> V) -> V {
        let lock = || {
            self.entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let known = lock().get(&shape.key).cloned();
        match known {
            Some(Some(first)) => {
                let (from, value) = &*first;
                let renamed = value.try_map_strings(&mut |s| shape.renamed_from(from, s));
                // Checked when it was stored; analysed afresh all the same.
                renamed.unwrap_or_else(analyse)
            }
            Some(None) => analyse(),
            None => {
                let value = analyse();
                let renamable = value
                    .try_map_strings(&mut |s| shape.renamed_from(&shape, s))
                    .is_some();
                let key = shape.key.clone();
                let entry = renamable.then(|| Arc::new((shape, value.clone())));
                lock().entry(key).or_insert(entry);
                value
            }
        }
    }
}

impl AnalysisCache {
    fn repository(
        &self,
        text: &str,
        arn: &str,
        owner: &str,
        zone: &TrustZone,
    ) -> (PolicyFacts, AccessFacts) {
        let resource = resource_read(text, arn);
        let rest = owner_and_resource(owner, resource);
        self.repository.get_or_analyse(text, &rest, || {
            let analyse = || {
                let a = access::analyze_resource_policy(
                    text,
                    Target::Repository,
                    arn,
                    &zone.for_owner(owner),
                );
                (a.policy, a.access)
            };
            match AccountShape::of(text, resource, owner, |a| zone.contains_account(a)) {
                Some(shape) => self.repository_shapes.get_or_analyse(shape, analyse),
                None => analyse(),
            }
        })
    }

    /// Who can assume a role of the zone's owner.
    fn trust(&self, text: &str, role_arn: &str, zone: &access::Zone) -> identity::TrustAnalysis {
        self.trust.get_or_analyse(
            text,
            &owner_and_resource(&zone.owner, resource_read(text, role_arn)),
            || identity::analyze_trust_policy(text, role_arn, zone),
        )
    }

    /// What a principal of the zone's owner is granted by its identity
    /// policies: keyed by every document's name and text (the analysis
    /// names statements by their policy's name).
    fn identity(
        &self,
        docs: &[identity::NamedPolicy],
        boundary: Option<&identity::NamedPolicy>,
        account: &str,
        zone: &access::Zone,
    ) -> identity::IdentityAnalysis {
        // Each piece prefixed by its length: names and texts from an
        // inventory may hold any character, so no separator is safe.
        let mut key = String::new();
        for (mark, d) in docs
            .iter()
            .map(|d| ('d', d))
            .chain(boundary.map(|b| ('b', b)))
        {
            for piece in [d.name.as_str(), d.text] {
                key.push_str(&format!("{mark}{}:", piece.len()));
                key.push_str(piece);
            }
        }
        self.identity
            .get_or_analyse(&key, &format!("{account} {}", zone.owner), || {
                let analyse = || identity::analyze_identity(docs, boundary, account, zone);
                // The key holds every name and text, so its shape is theirs.
                let shape = (account == zone.owner)
                    .then(|| AccountShape::of(&key, None, account, |a| zone.contains_account(a)))
                    .flatten();
                match shape {
                    Some(shape) => self.identity_shapes.get_or_analyse(shape, analyse),
                    None => analyse(),
                }
            })
    }
}

/// The options that change facts (not just presentation).
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The scan's reference time: ages are measured from here.
    pub as_of: OffsetDateTime,
    pub stale_days: i64,
    pub unpulled_days: i64,
    /// Accounts trusted in addition to the scanned ones and the organization.
    pub trusted_accounts: BTreeSet<AccountId>,
}

/// One registry, repository or IAM principal with its facts.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntity {
    pub kind: ResourceKind,
    pub arn: String,
    pub account: String,
    pub region: Option<String>,
    /// Relative, colon-free path naming the resource in SARIF.
    pub location: String,
    /// The entity's facts, typed; the engine turns them into the Cedar
    /// attributes the audit schema declares (`engine::cedar_entity`).
    pub facts: EntityFacts,
    /// Attributes whose facts could not be read, with the failed reads
    /// ("ecr:GetRepositoryPolicy failed (access-denied): ..."). Rules that
    /// read them are not evaluated on this entity.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unread: BTreeMap<String, BTreeSet<String>>,
}

/// The facts of one entity. Each variant's fields are the attributes of its
/// entity type in `rules/schema.cedarschema` (the schema-conformance test
/// checks them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EntityFacts {
    Registry(Box<RegistryFacts>),
    Repository(Box<RepositoryFacts>),
    Principal(Box<PrincipalEntityFacts>),
    CreationTemplate(Box<templates::CreationTemplateFacts>),
}

impl EntityFacts {
    /// What the analysis could decide about the entity's policy (its trust
    /// and identity policies for a principal).
    pub fn policy(&self) -> &PolicyFacts {
        match self {
            EntityFacts::Registry(r) => &r.policy,
            EntityFacts::Repository(r) => &r.policy,
            EntityFacts::Principal(p) => &p.facts.policy,
            EntityFacts::CreationTemplate(t) => &t.policy,
        }
    }

    /// Who outside reaches a registry or repository.
    pub fn access(&self) -> Option<&AccessFacts> {
        match self {
            EntityFacts::Registry(r) => Some(&r.access),
            EntityFacts::Repository(r) => Some(&r.access),
            EntityFacts::CreationTemplate(t) => Some(&t.access),
            EntityFacts::Principal(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryFacts {
    pub arn: String,
    pub account: String,
    pub region: String,
    /// Every read of the registry succeeded.
    pub complete: bool,
    pub scan_type: String,
    /// The account setting BASIC_SCAN_TYPE_VERSION: AWS_NATIVE or CLAIR;
    /// "" when not read.
    pub basic_scan_engine: String,
    /// The account setting REGISTRY_POLICY_SCOPE: V1 (the registry policy
    /// governs replication, pull-through and create-on-push only) or V2
    /// (every ECR action in the registry); "" when not read.
    pub registry_policy_scope: String,
    /// The scope the registry policy was analysed under: the setting read;
    /// V2 (AWS's default, and the wider one) when the inventory does not
    /// have it; "unknown" when reading it failed (the facts a V2 scope
    /// would change are then unread).
    pub policy_scope: String,
    /// Why `policy_scope` is assumed rather than read, worded to follow it in
    /// a message (", assumed as AWS's default: ..."); "" when it was read.
    pub policy_scope_assumed: String,
    pub policy: PolicyFacts,
    pub access: AccessFacts,
    /// Replication destinations outside the zone ("ACCOUNT REGION").
    pub replication_outside_trust: BTreeSet<String>,
    /// Pull-through cache rules whose upstream registry or credentials
    /// belong to another party, one line per rule and reason.
    pub pull_through_outside_trust: BTreeSet<String>,
    /// The managed signing rules, one line each ("PROFILE for repositories
    /// matching `prod/*`").
    pub signing_rules: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryFacts {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub uri: String,
    /// Every read of the repository succeeded.
    pub complete: bool,
    pub tag_mutability: String,
    /// The exclusion filters of a *_WITH_EXCLUSION tag mutability.
    pub tag_mutability_exclusions: BTreeSet<String>,
    /// Which tags can be moved to another image, in words; "" when none.
    pub overwritable_tags: String,
    pub scan_on_push: bool,
    pub scanning_covered: bool,
    /// Enhanced scanning only on push (not continuous), and images pulled
    /// within the unpulled-days window: images in use are not rescanned.
    pub in_use_not_rescanned: bool,
    pub scan_frequency: String,
    /// A managed signing rule of the registry matches the repository.
    pub signing_required: bool,
    /// The signing profiles of those rules.
    pub signing_profiles: BTreeSet<String>,
    /// Images no signature refers to, where signing is required; 0 else.
    pub unsigned_required_count: i64,
    pub encryption_type: String,
    pub kms_key: String,
    pub customer_managed_key: bool,
    /// "KEY=VALUE".
    pub tags: BTreeSet<String>,
    pub lifecycle: lifecycle::LifecycleFacts,
    pub images: images::ImageFacts,
    pub policy: PolicyFacts,
    pub access: AccessFacts,
}

/// An IAM user or role: who it is, and what it can do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalEntityFacts {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub kind: PrincipalKind,
    #[serde(flatten)]
    pub facts: PrincipalFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Role,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditModel {
    pub entities: Vec<AuditEntity>,
    pub scanned: ScanScope,
}

/// What a report says was looked at.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanScope {
    pub accounts: usize,
    pub regions: BTreeSet<String>,
    pub repositories: usize,
    pub images: usize,
    pub iam_principals: usize,
}

/// The zone of trust: accounts whose principals are "us".
#[derive(Debug, Clone, Default)]
pub struct TrustZone {
    pub accounts: BTreeSet<String>,
    pub org_id: Option<String>,
    /// The scan's reference time, seconds since the epoch.
    pub time: Option<i64>,
}

impl TrustZone {
    pub fn from_inventory(inventory: &Inventory, trusted: &BTreeSet<AccountId>) -> TrustZone {
        let mut accounts: BTreeSet<String> = inventory
            .accounts
            .iter()
            .map(|a| a.id.to_string())
            .collect();
        if let Some(org) = &inventory.organization {
            accounts.extend(org.accounts.iter().map(|a| a.id.to_string()));
            accounts.insert(org.management_account_id.to_string());
        }
        accounts.extend(inventory.zone_accounts.iter().map(|a| a.to_string()));
        accounts.extend(trusted.iter().map(|a| a.to_string()));
        TrustZone {
            accounts,
            org_id: inventory.organization.as_ref().map(|o| o.id.clone()),
            time: None,
        }
    }

    pub fn contains_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
    }

    /// The zone as seen by one owner account.
    pub fn for_owner(&self, owner: &str) -> access::Zone {
        access::Zone {
            owner: owner.to_string(),
            accounts: self.accounts.clone(),
            org_id: self.org_id.clone(),
            time: self.time,
        }
    }
}

pub fn build(inventory: &Inventory, options: &ModelOptions) -> AuditModel {
    let mut zone = TrustZone::from_inventory(inventory, &options.trusted_accounts);
    zone.time = Some(options.as_of.unix_timestamp());
    let mut model = AuditModel::default();
    model.scanned.accounts = inventory.accounts.len();
    let errors_by_resource = index_errors(&inventory.errors);
    let cache = AnalysisCache::default();
    for account in &inventory.accounts {
        for region in &account.regions {
            model.scanned.regions.insert(region.region.clone());
            let registry = registry_entity(&account.id, region, &zone, &inventory.errors);
            let registry_scanning_unread = registry.unread.get("scan_type").cloned();
            let registry_signing_unread = registry.unread.get("signing_rules").cloned();
            model.entities.push(registry);
            let template_scope = TemplateScope {
                account,
                region: &region.region,
                partition: region_partition(region),
                zone: &zone,
                accounts: &inventory.accounts,
                errors: &inventory.errors,
            };
            model.entities.extend(
                region
                    .registry
                    .iter()
                    .flat_map(|r| &r.repository_creation_templates)
                    .map(|t| template_entity(t, &template_scope, &cache)),
            );
            model.scanned.repositories += region.repositories.len();
            model.scanned.images += region
                .repositories
                .iter()
                .map(Repository::image_count)
                .sum::<usize>();
            let repositories: Vec<AuditEntity> = region
                .repositories
                .par_iter()
                .map(|repo| {
                    let errors = errors_by_resource
                        .get(repo.repository_arn.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    repository_entity(
                        &account.id,
                        region,
                        repo,
                        FailedReads {
                            own: errors,
                            registry_scanning: registry_scanning_unread.as_ref(),
                            registry_signing: registry_signing_unread.as_ref(),
                        },
                        options,
                        &zone,
                        &cache,
                    )
                })
                .collect();
            model.entities.extend(repositories);
        }
        if let Some(iam) = &account.iam {
            // Each principal's analysis is independent: both cores.
            let owner_zone = zone.for_owner(&account.id);
            model.scanned.iam_principals += iam.users.len() + iam.roles.len();
            let users: Vec<AuditEntity> = iam
                .users
                .par_iter()
                .map(|user| {
                    principal_entity(
                        &account.id,
                        &user.arn,
                        &user.user_name,
                        PrincipalKind::User,
                        &user.path,
                        user_facts(account, user, &owner_zone, &cache),
                    )
                })
                .collect();
            model.entities.extend(users);
            let roles: Vec<AuditEntity> = iam
                .roles
                .par_iter()
                .map(|role| {
                    principal_entity(
                        &account.id,
                        &role.arn,
                        &role.role_name,
                        PrincipalKind::Role,
                        &role.path,
                        role_facts(account, role, &owner_zone, &cache),
                    )
                })
                .collect();
            model.entities.extend(roles);
        }
    }
    model
}

/// Which attributes of a registry or repository a failed read leaves
/// unknown: every read is its own fact.
const READS: &[(&str, ResourceKind, &[&str])] = &[
    (
        "ecr:GetRegistryPolicy",
        ResourceKind::Registry,
        &["policy", "access"],
    ),
    (
        "ecr:DescribeRegistry",
        ResourceKind::Registry,
        &["replication_outside_trust"],
    ),
    (
        "ecr:GetRegistryScanningConfiguration",
        ResourceKind::Registry,
        &["scan_type"],
    ),
    (
        "ecr:DescribePullThroughCacheRules",
        ResourceKind::Registry,
        &["pull_through_outside_trust"],
    ),
    (
        "ecr:GetAccountSetting",
        ResourceKind::Registry,
        &["basic_scan_engine", "registry_policy_scope"],
    ),
    (
        "ecr:GetSigningConfiguration",
        ResourceKind::Registry,
        &["signing_rules"],
    ),
    (
        "ecr:GetRepositoryPolicy",
        ResourceKind::Repository,
        &["policy", "access"],
    ),
    (
        "ecr:GetLifecyclePolicy",
        ResourceKind::Repository,
        &["lifecycle"],
    ),
    (
        "ecr:ListTagsForResource",
        ResourceKind::Repository,
        &["tags"],
    ),
    (
        "ecr:BatchGetRepositoryScanningConfiguration",
        ResourceKind::Repository,
        &["scan_frequency"],
    ),
    ("ecr:DescribeImages", ResourceKind::Repository, &["images"]),
    ("ecr:BatchGetImage", ResourceKind::Repository, &["images"]),
];

/// The attributes the failed reads leave unknown on an entity of `kind`.
fn unread_attributes<'a>(
    kind: ResourceKind,
    errors: impl IntoIterator<Item = &'a CollectionError>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in errors {
        let Some((_, _, attrs)) = READS
            .iter()
            .find(|(op, k, _)| *op == e.operation && *k == kind)
        else {
            continue;
        };
        let read = failed_read(e);
        for a in *attrs {
            out.entry(a.to_string()).or_default().insert(read.clone());
        }
    }
    out
}

/// How a failed read is named where a fact it would have given is unknown.
fn failed_read(e: &CollectionError) -> String {
    format!(
        "{} failed ({}): {}",
        e.operation,
        e.kind.as_str(),
        e.message
    )
}

fn index_errors(errors: &[CollectionError]) -> BTreeMap<&str, Vec<&CollectionError>> {
    let mut map: BTreeMap<&str, Vec<&CollectionError>> = BTreeMap::new();
    for e in errors {
        if let Some(resource) = &e.resource {
            map.entry(resource.as_str()).or_default().push(e);
        }
    }
    map
}

/// Registry policies grant on the registry's repositories: their analysis
/// asks about a repository that no pattern is likely to name.
pub fn any_repository_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:ecr:{region}:{account}:repository/zz-any-repository-9")
}

/// The partition of an ARN ("aws", "aws-cn", "aws-us-gov").
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// The partition of a region's resources (from a repository ARN; "aws"
/// when it has none).
pub fn region_partition(region: &Region) -> &str {
    region
        .repositories
        .first()
        .map(|r| partition_of(&r.repository_arn))
        .unwrap_or("aws")
}

/// There is no registry ARN in AWS; this synthetic one names the registry of
/// an account and region in reports.
pub fn registry_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:ecr:{region}:{account}:registry")
}

/// Keeps a location segment to characters that are safe in a relative URI
/// and never a colon.
fn location_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/') {
            out.push(c);
        } else {
            for b in c.to_string().bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out.trim_matches('/').replace("//", "/")
}

const POLICY_SCOPE_SETTING: &str = "REGISTRY_POLICY_SCOPE";

/// The scope a registry's policy is analysed (and proved) under: the
/// collected setting, else V2 (see [`registry_scope`]).
pub fn registry_policy_scope(registry: &Registry) -> RegistryScope {
    registry
        .account_settings
        .get(POLICY_SCOPE_SETTING)
        .and_then(|v| RegistryScope::parse(v))
        .unwrap_or_default()
}

/// The registry policy scope a registry's policy is analysed under.
struct ScopeUsed {
    scope: RegistryScope,
    /// Why the scope is assumed; empty when it was read.
    assumed: String,
    /// The failed read of the setting, as `unread` records it: the policy is
    /// then analysed under both scopes and what differs is unknown.
    failed: Option<String>,
}

/// The collected `REGISTRY_POLICY_SCOPE`, or V2 with the reason when it was
/// not read: V2 is AWS's default and governs every action V1 does, so the
/// assumption never hides access (it may report access a V1 registry policy
/// would not grant, and says so).
fn registry_scope(registry: Option<&Registry>, errors: &[&CollectionError]) -> ScopeUsed {
    let value = registry.and_then(|r| r.account_settings.get(POLICY_SCOPE_SETTING));
    if let Some(scope) = value.and_then(|v| RegistryScope::parse(v)) {
        return ScopeUsed {
            scope,
            assumed: String::new(),
            failed: None,
        };
    }
    let failed = errors
        .iter()
        .find(|e| e.operation == "ecr:GetAccountSetting")
        .map(|e| failed_read(e));
    let assumed = |why: String| ScopeUsed {
        scope: RegistryScope::V2,
        assumed: format!(", assumed as AWS's default: {why}"),
        failed: None,
    };
    match (value, failed) {
        (Some(v), _) => assumed(format!(
            "{POLICY_SCOPE_SETTING} has the unknown value {v:?}"
        )),
        (None, Some(failed)) => ScopeUsed {
            scope: RegistryScope::V2,
            assumed: format!(", not read: {failed}"),
            failed: Some(failed),
        },
        (None, None) => assumed(format!("{POLICY_SCOPE_SETTING} is not in the inventory")),
    }
}

/// A registry policy's facts under the scope used. When the scope could not
/// be read, the policy is analysed under V1 and V2: the facts are V1's
/// (what holds under either, as V1 governs a subset of V2's actions), and
/// each fact V2 would change is unread, so the rules that read it are not
/// evaluated rather than reported for a scope the registry may not have.
fn registry_policy_facts(
    text: &str,
    scope: &ScopeUsed,
    any_repository: &str,
    zone: &access::Zone,
) -> (PolicyFacts, AccessFacts, BTreeMap<String, BTreeSet<String>>) {
    let analyze = |scope| {
        access::analyze_resource_policy(text, Target::Registry(scope), any_repository, zone)
    };
    let Some(failed) = &scope.failed else {
        let a = analyze(scope.scope);
        return (a.policy, a.access, BTreeMap::new());
    };
    let (v1, v2) = (analyze(RegistryScope::V1), analyze(RegistryScope::V2));
    let differing = match v1.access.differing_fields(&v2.access) {
        Some(fields) => fields.iter().map(|f| format!("access.{f}")).collect(),
        None => vec!["access".to_string()],
    };
    let mut unread: BTreeMap<String, BTreeSet<String>> = differing
        .into_iter()
        .map(|attribute| (attribute, [failed.clone()].into()))
        .collect();
    if v1.policy != v2.policy {
        unread.insert("policy".to_string(), [failed.clone()].into());
    }
    (v1.policy, v1.access, unread)
}

fn registry_entity(
    account: &str,
    region: &Region,
    zone: &TrustZone,
    errors: &[CollectionError],
) -> AuditEntity {
    let partition = region_partition(region);
    let arn = registry_arn(partition, &region.region, account);
    let registry_errors: Vec<&CollectionError> = errors
        .iter()
        .filter(|e| {
            e.account == account
                && e.region.as_deref() == Some(region.region.as_str())
                && (e.resource.is_none() || e.resource.as_deref() == Some(arn.as_str()))
        })
        .collect();
    let registry = region.registry.as_ref();
    let complete = registry.is_some() && registry_errors.is_empty();
    let any_repository = any_repository_arn(partition, &region.region, account);
    let scope = registry_scope(registry, &registry_errors);
    let (policy, access_facts, scope_unread) = match registry.and_then(|r| r.policy.as_deref()) {
        Some(text) => {
            registry_policy_facts(text, &scope, &any_repository, &zone.for_owner(account))
        }
        None => (
            PolicyFacts::absent(),
            AccessFacts::default(),
            BTreeMap::new(),
        ),
    };
    let replication_outside_trust: BTreeSet<String> = registry
        .and_then(|r| r.replication_configuration.as_ref())
        .map(|c| {
            c.rules
                .iter()
                .flat_map(|rule| &rule.destinations)
                .filter(|d| d.registry_id != account && !zone.contains_account(&d.registry_id))
                .map(|d| format!("{} {}", d.registry_id, d.region))
                .collect()
        })
        .unwrap_or_default();
    let mut unread = unread_attributes(ResourceKind::Registry, registry_errors.iter().copied());
    for (attribute, reads) in scope_unread {
        unread.entry(attribute).or_default().extend(reads);
    }
    let scan_type = registry
        .and_then(|r| r.scanning_configuration.as_ref())
        .map(|c| c.scan_type.clone())
        .unwrap_or_default();
    let setting = |name: &str| {
        registry
            .and_then(|r| r.account_settings.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let facts = EntityFacts::Registry(Box::new(RegistryFacts {
        arn: arn.clone(),
        account: account.to_string(),
        region: region.region.clone(),
        complete,
        scan_type,
        basic_scan_engine: setting("BASIC_SCAN_TYPE_VERSION"),
        registry_policy_scope: setting("REGISTRY_POLICY_SCOPE"),
        policy_scope: match scope.failed {
            Some(_) => "unknown".to_string(),
            None => scope.scope.as_str().to_string(),
        },
        policy_scope_assumed: scope.assumed,
        policy,
        access: access_facts,
        replication_outside_trust,
        pull_through_outside_trust: registry
            .map(|r| {
                pull_through::outside_trust(&r.pull_through_cache_rules, account, |a| {
                    zone.contains_account(a)
                })
            })
            .unwrap_or_default(),
        signing_rules: signing::describe_rules(
            registry.and_then(|r| r.signing_configuration.as_ref()),
        ),
    }));
    AuditEntity {
        kind: ResourceKind::Registry,
        location: format!(
            "aws/ecr/{}/{}/_registry",
            location_segment(account),
            location_segment(&region.region)
        ),
        arn,
        account: account.to_string(),
        region: Some(region.region.clone()),
        facts,
        unread,
    }
}

/// Where a creation template's facts come from besides the template itself.
struct TemplateScope<'a> {
    account: &'a Account,
    region: &'a str,
    partition: &'a str,
    zone: &'a TrustZone,
    accounts: &'a [Account],
    errors: &'a [CollectionError],
}

/// A repository creation template, audited as the repositories it will
/// create.
fn template_entity(
    template: &crate::inventory::RepositoryCreationTemplate,
    scope: &TemplateScope,
    cache: &AnalysisCache,
) -> AuditEntity {
    let account = scope.account.id.to_string();
    let prefix = template.prefix.as_str();
    let arn = templates::template_arn(scope.partition, scope.region, &account, prefix);
    let future = templates::future_repository_arn(scope.partition, scope.region, &account, prefix);
    let (policy, access) = match template.repository_policy.as_deref() {
        Some(text) => cache.repository(text, &future, &account, scope.zone),
        None => (PolicyFacts::absent(), AccessFacts::default()),
    };
    let mut unread = BTreeMap::new();
    let custom_role = match template.custom_role_arn.as_deref() {
        Some(role) => match custom_role_outside_trust(role, scope, cache) {
            Ok(reasons) => (role.to_string(), reasons),
            Err(reads) => {
                unread.insert("custom_role_outside_trust".to_string(), reads);
                (role.to_string(), BTreeSet::new())
            }
        },
        None => (String::new(), BTreeSet::new()),
    };
    let facts = templates::template_facts(
        template,
        &account,
        scope.region,
        arn.clone(),
        templates::Decided {
            policy,
            access,
            custom_role,
        },
    );
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

/// Why a template's custom role is not the organization's alone; `Err`
/// with the failed reads when the role's account's IAM was not read.
fn custom_role_outside_trust(
    role: &str,
    scope: &TemplateScope,
    cache: &AnalysisCache,
) -> Result<BTreeSet<String>, BTreeSet<String>> {
    let Some(role_account) = pull_through::role_account(role) else {
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
    let facts = role_facts(account, found, &scope.zone.for_owner(role_account), cache);
    // A trust policy not wholly understood is never taken as keeping
    // outsiders out: the finding says what was not understood.
    let unsure = facts
        .policy
        .problems
        .iter()
        .filter_map(|p| p.strip_prefix(TRUST_PROBLEM))
        .map(|p| {
            format!("whether others can assume it is not known: its trust policy was not fully analysed ({p})")
        });
    Ok(facts
        .assumable_from_outside
        .iter()
        .map(|who| format!("it can be assumed by {who}"))
        .chain(unsure)
        .collect())
}

/// How a role's trust policy problems are told from its identity
/// policies' among its policy problems.
const TRUST_PROBLEM: &str = "trust policy: ";

/// The operation whose failure leaves an account's IAM roles unknown.
const IAM_READ: &str = "iam:GetAccountAuthorizationDetails";

/// The reads that failed for one repository: its own, and the registry's
/// scanning configuration when that was not read.
struct FailedReads<'a> {
    own: &'a [&'a CollectionError],
    registry_scanning: Option<&'a BTreeSet<String>>,
    registry_signing: Option<&'a BTreeSet<String>>,
}

fn repository_entity(
    account: &str,
    region: &Region,
    repo: &Repository,
    failed: FailedReads,
    options: &ModelOptions,
    zone: &TrustZone,
    cache: &AnalysisCache,
) -> AuditEntity {
    let images = images::image_facts(
        &repo.images_summarized(),
        options.as_of,
        options.stale_days,
        options.unpulled_days,
    );
    let lifecycle = lifecycle::lifecycle_facts(repo.lifecycle_policy.as_deref());
    let covered = scanning::scanning_covered(repo, region.registry.as_ref());
    let on_push_only = scanning::enhanced_scan_on_push_only(repo, region.registry.as_ref());
    let enc = &repo.encryption_configuration;
    let (kms_key, customer_managed_key) = encryption::customer_managed_key(enc);
    let signing_profiles = signing::profiles_for(
        region
            .registry
            .as_ref()
            .and_then(|r| r.signing_configuration.as_ref()),
        &repo.repository_name,
    );
    let (policy, access_facts) = match repo.policy.as_deref() {
        Some(text) => cache.repository(text, &repo.repository_arn, account, zone),
        None => (PolicyFacts::absent(), AccessFacts::default()),
    };
    let errors = failed.own;
    let mut unread = unread_attributes(ResourceKind::Repository, errors.iter().copied());
    // Images in use but never rescanned: enhanced scanning on push only
    // (the registry's scan type and the repository's frequency) and images
    // pulled recently. Either part known to be false decides it whatever
    // the other; otherwise a failed read of a part leaves it unknown.
    let on_push_reads: BTreeSet<String> = unread
        .get("scan_frequency")
        .into_iter()
        .flatten()
        .chain(failed.registry_scanning.into_iter().flatten())
        .cloned()
        .collect();
    let image_reads: BTreeSet<String> = unread.get("images").cloned().unwrap_or_default();
    let in_use = images.recently_pulled_count > 0;
    if let Some(reads) = unknown_conjunction((on_push_only, &on_push_reads), (in_use, &image_reads))
    {
        unread.insert("in_use_not_rescanned".to_string(), reads);
    }
    // Coverage is the repository's effective scan frequency: a failed read
    // of it leaves coverage unknown (scan-on-push alone does not say, since
    // registry scanning rules override it). Without a frequency at all
    // (older inventories), coverage is derived from the registry's
    // configuration: unknown if that was not read.
    if let Some(reads) = unread.get("scan_frequency").cloned() {
        unread
            .entry("scanning_covered".to_string())
            .or_default()
            .extend(reads);
    } else if repo.scan_frequency.is_none() {
        if let Some(reads) = failed.registry_scanning {
            unread
                .entry("scanning_covered".to_string())
                .or_default()
                .extend(reads.iter().cloned());
        }
    }
    // Unsigned images where signing is required (no signing rule
    // matching, or no unsigned image, decides it).
    let signing_reads: BTreeSet<String> = failed.registry_signing.cloned().unwrap_or_default();
    let required = !signing_profiles.is_empty();
    if !signing_reads.is_empty() {
        unread.insert("signing_required".to_string(), signing_reads.clone());
        unread.insert("signing_profiles".to_string(), signing_reads.clone());
    }
    let unsigned = images.unsigned_count > 0;
    if let Some(reads) = unknown_conjunction((required, &signing_reads), (unsigned, &image_reads)) {
        unread.insert("unsigned_required_count".to_string(), reads);
    }
    let unsigned_required_count = if required { images.unsigned_count } else { 0 };
    let (overwritable_tags, tag_mutability_exclusions) = mutability::overwritable_tags(
        &repo.image_tag_mutability,
        &repo.image_tag_mutability_exclusion_filters,
    );
    let tags: BTreeSet<String> = repo
        .tags
        .iter()
        .map(|t| format!("{}={}", t.key, t.value))
        .collect();
    let facts = EntityFacts::Repository(Box::new(RepositoryFacts {
        arn: repo.repository_arn.clone(),
        name: repo.repository_name.clone(),
        account: account.to_string(),
        region: region.region.clone(),
        uri: repo.repository_uri.clone(),
        complete: errors.is_empty(),
        tag_mutability: repo.image_tag_mutability.clone(),
        tag_mutability_exclusions,
        overwritable_tags,
        scan_on_push: repo.image_scanning_configuration.scan_on_push,
        scanning_covered: covered,
        in_use_not_rescanned: on_push_only && in_use,
        scan_frequency: repo.scan_frequency.clone().unwrap_or_default(),
        signing_required: required,
        signing_profiles,
        unsigned_required_count,
        encryption_type: enc.encryption_type.clone(),
        kms_key,
        customer_managed_key,
        tags,
        lifecycle,
        images,
        policy,
        access: access_facts,
    }));
    AuditEntity {
        kind: ResourceKind::Repository,
        arn: repo.repository_arn.clone(),
        account: account.to_string(),
        region: Some(region.region.clone()),
        location: format!(
            "aws/ecr/{}/{}/{}",
            location_segment(account),
            location_segment(&region.region),
            location_segment(&repo.repository_name)
        ),
        facts,
        unread,
    }
}

/// Whether a fact that holds when both of its parts do is unknown: each
/// part is its value and the failed reads it depends on (empty when read).
/// A part read as false decides the fact whatever the other; otherwise a
/// failed read of either leaves it unknown, and the failed reads of both
/// are returned.
fn unknown_conjunction(
    a: (bool, &BTreeSet<String>),
    b: (bool, &BTreeSet<String>),
) -> Option<BTreeSet<String>> {
    let decided_false = (a.1.is_empty() && !a.0) || (b.1.is_empty() && !b.0);
    let all_read = a.1.is_empty() && b.1.is_empty();
    (!decided_false && !all_read).then(|| a.1.iter().chain(b.1).cloned().collect())
}

/// The identity policies of a principal: inline, attached managed, and (for
/// users) those of its groups. A managed policy missing from the inventory
/// is a problem, never silently skipped.
fn identity_documents<'a>(
    account: &'a Account,
    inline: &'a [crate::inventory::InlinePolicy],
    attached: &'a [crate::inventory::AttachedPolicy],
    prefix: &str,
    docs: &mut Vec<identity::NamedPolicy<'a>>,
    problems: &mut BTreeSet<String>,
) {
    let managed = account
        .iam
        .as_ref()
        .map(|i| i.policies.as_slice())
        .unwrap_or(&[]);
    for p in inline {
        docs.push(identity::NamedPolicy {
            name: format!("{prefix}inline policy {}", p.policy_name),
            text: &p.policy_document,
        });
    }
    for a in attached {
        match managed.iter().find(|m| m.arn == a.policy_arn) {
            Some(m) => docs.push(identity::NamedPolicy {
                name: format!("{prefix}managed policy {}", m.policy_name),
                text: &m.document,
            }),
            None => {
                problems.insert(format!(
                    "{prefix}managed policy {} is attached but its document was not collected",
                    a.policy_arn
                ));
            }
        }
    }
}

fn boundary_document<'a>(
    account: &'a Account,
    arn: Option<&String>,
    problems: &mut BTreeSet<String>,
) -> Option<identity::NamedPolicy<'a>> {
    let arn = arn?;
    let managed = account
        .iam
        .as_ref()
        .map(|i| i.policies.as_slice())
        .unwrap_or(&[]);
    match managed.iter().find(|m| &m.arn == arn) {
        Some(m) => Some(identity::NamedPolicy {
            name: format!("permissions boundary {}", m.policy_name),
            text: &m.document,
        }),
        None => {
            problems.insert(format!(
                "permissions boundary {arn} was not collected; analysed without it (wider)"
            ));
            None
        }
    }
}

fn identity_facts(
    docs: &[identity::NamedPolicy],
    boundary: Option<&identity::NamedPolicy>,
    mut problems: BTreeSet<String>,
    account: &str,
    zone: &access::Zone,
    cache: &AnalysisCache,
) -> PrincipalFacts {
    let mut grants = cache.identity(docs, boundary, account, zone);
    problems.append(&mut grants.problems);
    PrincipalFacts {
        policy: PolicyFacts {
            present: !docs.is_empty(),
            analyzable: problems.is_empty(),
            problems,
        },
        grants,
        assumable_from_outside: BTreeSet::new(),
        web_identity_without_subject: BTreeSet::new(),
        proofs: BTreeSet::new(),
        counterexamples: BTreeSet::new(),
    }
}

fn user_facts(
    account: &Account,
    user: &crate::inventory::IamUser,
    zone: &access::Zone,
    cache: &AnalysisCache,
) -> PrincipalFacts {
    principal_identity_facts(
        account,
        (&user.inline_policies, &user.attached_policies),
        &user.groups,
        user.permissions_boundary.as_ref(),
        zone,
        cache,
    )
}

/// What a user's or role's identity policies grant: its own inline and
/// attached policies, those of its groups (users only), capped by its
/// permissions boundary.
fn principal_identity_facts(
    account: &Account,
    (inline, attached): (
        &[crate::inventory::InlinePolicy],
        &[crate::inventory::AttachedPolicy],
    ),
    groups: &[String],
    permissions_boundary: Option<&String>,
    zone: &access::Zone,
    cache: &AnalysisCache,
) -> PrincipalFacts {
    let mut docs = Vec::new();
    let mut problems = BTreeSet::new();
    identity_documents(account, inline, attached, "", &mut docs, &mut problems);
    if let Some(iam) = &account.iam {
        for name in groups {
            match iam.groups.iter().find(|g| &g.group_name == name) {
                Some(g) => identity_documents(
                    account,
                    &g.inline_policies,
                    &g.attached_policies,
                    &format!("group {name} "),
                    &mut docs,
                    &mut problems,
                ),
                None => {
                    problems.insert(format!("group {name} was not collected"));
                }
            }
        }
    }
    let boundary = boundary_document(account, permissions_boundary, &mut problems);
    identity_facts(&docs, boundary.as_ref(), problems, &account.id, zone, cache)
}

fn role_facts(
    account: &Account,
    role: &crate::inventory::IamRole,
    zone: &access::Zone,
    cache: &AnalysisCache,
) -> PrincipalFacts {
    let mut facts = principal_identity_facts(
        account,
        (&role.inline_policies, &role.attached_policies),
        &[],
        role.permissions_boundary.as_ref(),
        zone,
        cache,
    );
    let trust = cache.trust(&role.assume_role_policy_document, &role.arn, zone);
    if let Some(p) = &trust.policy {
        for problem in &p.problems {
            facts
                .policy
                .problems
                .insert(format!("{TRUST_PROBLEM}{problem}"));
        }
        facts.policy.analyzable &= p.analyzable;
        facts.policy.present = true;
    }
    facts.assumable_from_outside = trust.assumable_from_outside;
    facts.web_identity_without_subject = trust.web_identity_without_subject;
    facts
}

fn principal_entity(
    account: &str,
    arn: &str,
    name: &str,
    kind: PrincipalKind,
    path: &str,
    facts: PrincipalFacts,
) -> AuditEntity {
    let entity_facts = EntityFacts::Principal(Box::new(PrincipalEntityFacts {
        arn: arn.to_string(),
        name: name.to_string(),
        account: account.to_string(),
        kind,
        facts,
    }));
    AuditEntity {
        kind: ResourceKind::IamPrincipal,
        arn: arn.to_string(),
        account: account.to_string(),
        region: None,
        location: format!(
            "aws/iam/{}/{}/{}",
            location_segment(account),
            kind.as_str(),
            location_segment(&format!("{path}{name}"))
        ),
        facts: entity_facts,
        unread: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTNER_PULLS_AND_REPLICATES: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},
         "Action":["ecr:BatchGetImage","ecr:ReplicateImage"],"Resource":"*"}]}"#;

    fn registry_with(settings: &[(&str, &str)]) -> Registry {
        Registry {
            policy: Some(PARTNER_PULLS_AND_REPLICATES.into()),
            account_settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    fn facts_under(registry: &Registry, errors: &[&CollectionError]) -> ScopeFacts {
        let scope = registry_scope(Some(registry), errors);
        let zone = access::Zone {
            owner: "111122223333".into(),
            accounts: ["111122223333".to_string()].into(),
            org_id: None,
            time: None,
        };
        let any = any_repository_arn("aws", "us-east-1", "111122223333");
        let (_, access, unread) =
            registry_policy_facts(PARTNER_PULLS_AND_REPLICATES, &scope, &any, &zone);
        ScopeFacts {
            scope: scope.scope,
            assumed: scope.assumed,
            access,
            unread,
        }
    }

    struct ScopeFacts {
        scope: RegistryScope,
        assumed: String,
        access: AccessFacts,
        unread: BTreeMap<String, BTreeSet<String>>,
    }

    #[test]
    fn a_registry_policy_is_analysed_under_the_scope_read() {
        let v1 = facts_under(&registry_with(&[("REGISTRY_POLICY_SCOPE", "V1")]), &[]);
        assert_eq!((v1.scope, v1.assumed.as_str()), (RegistryScope::V1, ""));
        assert!(v1.access.external_read.is_empty(), "{:?}", v1.access);
        assert_eq!(
            v1.access.outside_registry_actions,
            ["ecr:ReplicateImage".to_string()].into()
        );
        assert!(v1.unread.is_empty());

        let v2 = facts_under(&registry_with(&[("REGISTRY_POLICY_SCOPE", "V2")]), &[]);
        assert_eq!(v2.scope, RegistryScope::V2);
        assert_eq!(v2.access.external_read, ["999988887777".to_string()].into());
        assert_eq!(
            v2.access.outside_registry_actions,
            v1.access.outside_registry_actions
        );

        // Not in the inventory: V2, said to be assumed.
        let absent = facts_under(&registry_with(&[]), &[]);
        assert_eq!(absent.scope, RegistryScope::V2);
        assert!(
            absent.assumed.contains("assumed as AWS's default")
                && absent.assumed.contains("not in the inventory"),
            "{}",
            absent.assumed
        );
        assert_eq!(absent.access, v2.access);
        assert!(absent.unread.is_empty());

        // Not read: V1's facts stand, what V2 adds is unread.
        let error = CollectionError {
            account: "111122223333".into(),
            region: Some("us-east-1".into()),
            operation: "ecr:GetAccountSetting".into(),
            resource: None,
            kind: crate::inventory::ErrorKind::AccessDenied,
            message: "denied".into(),
        };
        let failed = facts_under(&registry_with(&[]), &[&error]);
        assert_eq!(failed.access.external_read, v1.access.external_read);
        assert_eq!(
            failed.access.outside_registry_actions,
            v1.access.outside_registry_actions
        );
        assert!(failed.unread.contains_key("access.external_read"));
        assert!(failed.unread.contains_key("access.granted_by"));
        assert!(!failed
            .unread
            .contains_key("access.outside_registry_actions"));
        assert!(failed.unread["access.external_read"]
            .iter()
            .all(|r| r.contains("ecr:GetAccountSetting failed (access-denied)")));
    }

    #[test]
    fn a_cached_analysis_answers_only_for_what_it_was_made_for() {
        // Each pair shares a text but differs in what else the analysis
        // reads; the cache is asked for the first and must not hand its
        // answer to the second.
        let zone = TrustZone {
            accounts: ["111122223333".to_string()].into(),
            org_id: None,
            time: None,
        };
        let cache = AnalysisCache::default();

        // A repository policy granting 111122223333: its own account for one
        // owner, an outside account for another.
        let grant = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:BatchGetImage"}]}"#;
        let repo = |owner: &str| format!("arn:aws:ecr:us-east-1:{owner}:repository/app");
        for owner in ["111122223333", "444455556666"] {
            let direct = access::analyze_resource_policy(
                grant,
                Target::Repository,
                &repo(owner),
                &zone.for_owner(owner),
            );
            assert_eq!(
                cache.repository(grant, &repo(owner), owner, &zone),
                (direct.policy, direct.access),
                "owner {owner}"
            );
        }

        // A trust policy naming one role as its resource: assumable by the
        // partner for that role only.
        let role_a = "arn:aws:iam::111122223333:role/a";
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole",
            "Resource":"arn:aws:iam::111122223333:role/a"}]}"#;
        let owner_zone = zone.for_owner("111122223333");
        for role in [role_a, "arn:aws:iam::111122223333:role/b"] {
            assert_eq!(
                cache.trust(trust, role, &owner_zone),
                identity::analyze_trust_policy(trust, role, &owner_zone),
                "{role}"
            );
        }
        assert!(!cache
            .trust(trust, role_a, &owner_zone)
            .assumable_from_outside
            .is_empty());

        // One identity text under two policy names: each finding names its own.
        let push_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Action":"ecr:PutImage","Resource":"*"}]}"#;
        for name in ["inline policy first", "inline policy second"] {
            let docs = [identity::NamedPolicy {
                name: name.to_string(),
                text: push_all,
            }];
            let got = cache.identity(&docs, None, "111122223333", &owner_zone);
            assert_eq!(
                got,
                identity::analyze_identity(&docs, None, "111122223333", &owner_zone)
            );
            assert!(
                got.write_all_statements.iter().all(|s| s.starts_with(name)),
                "{got:?}"
            );
        }
        // A name and a text that, joined by a separator they contain, would
        // read the same as another name and text: their own analysis.
        let joined = [identity::NamedPolicy {
            name: "inline policy first\u{0}x".to_string(),
            text: push_all,
        }];
        let split_differently_text = format!("x\u{0}{push_all}");
        let split_differently = [identity::NamedPolicy {
            name: "inline policy first".to_string(),
            text: &split_differently_text,
        }];
        for docs in [&joined, &split_differently] {
            assert_eq!(
                cache.identity(docs, None, "111122223333", &owner_zone),
                identity::analyze_identity(docs, None, "111122223333", &owner_zone),
                "{}",
                docs[0].name
            );
        }
    }

    /// A corpus case and the same case with every account id moved (order,
    /// class and leading zero kept): the text, the owner, the zone.
    struct MovedCase {
        path: std::path::PathBuf,
        text: String,
        owner: String,
        zone: TrustZone,
        moved_text: String,
        moved_owner: String,
        moved_zone: TrustZone,
    }

    fn moved(text: &str) -> String {
        let mut out = text.to_string();
        for span in crate::policy::account_literal_spans(text).collect::<Vec<_>>() {
            let id: u64 = text[span.clone()].parse().unwrap();
            out.replace_range(span, &format!("{:012}", id + 7));
        }
        out
    }

    fn moved_corpus(kind: &str) -> Vec<MovedCase> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/policies")
            .join(kind);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let case: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let text = match &case["policy_text"] {
                    serde_json::Value::String(t) => t.clone(),
                    _ => serde_json::to_string(&case["policy"]).unwrap(),
                };
                let owner = case["account"].as_str().unwrap().to_string();
                let listed = |key: &str| -> Vec<String> {
                    case[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect()
                };
                let accounts = listed("org_accounts")
                    .into_iter()
                    .chain(listed("trusted_accounts"))
                    .collect();
                MovedCase::new(path, text, owner, accounts, case["org_id"].as_str())
            })
            .collect()
    }

    impl MovedCase {
        fn new(
            path: std::path::PathBuf,
            text: String,
            owner: String,
            mut accounts: BTreeSet<String>,
            org_id: Option<&str>,
        ) -> MovedCase {
            accounts.insert(owner.clone());
            let zone = TrustZone {
                accounts: accounts.clone(),
                org_id: org_id.map(str::to_string),
                time: Some(1_795_132_800),
            };
            MovedCase {
                moved_text: moved(&text),
                moved_owner: moved(&owner),
                moved_zone: TrustZone {
                    accounts: accounts.iter().map(|a| moved(a)).collect(),
                    ..zone.clone()
                },
                path,
                text,
                owner,
                zone,
            }
        }
    }

    /// Runs `check` on each case, under the moved zone and under the zone
    /// left where it was (where the accounts the text names in the zone are
    /// moved out of it: another shape); `check` asserts that the second
    /// text's cached analysis is its own and tells whether the cache held
    /// one shared shape. Most texts naming accounts must be shared, so that
    /// the comparisons are of renamed analyses, not of texts each analysed
    /// afresh.
    fn assert_shared_analyses_are_own(
        cases: Vec<MovedCase>,
        at_least: usize,
        check: impl Fn(&MovedCase, &TrustZone) -> bool,
    ) {
        let (mut shared, mut with_ids) = (0, 0);
        for case in cases {
            let mut one_shape = false;
            for variant_zone in [&case.moved_zone, &case.zone] {
                one_shape |= check(&case, variant_zone);
            }
            let names_ids = case.moved_text != case.text;
            with_ids += usize::from(names_ids);
            shared += usize::from(names_ids && one_shape);
        }
        assert!(with_ids >= at_least, "{with_ids} name accounts");
        assert!(shared * 2 > with_ids, "{shared} of {with_ids} shared");
    }

    fn one_shared_shape<V>(memo: &ShapeMemo<V>) -> bool {
        let shapes = memo.entries.lock().unwrap();
        shapes.len() == 1 && shapes.values().all(Option::is_some)
    }

    #[test]
    fn a_repository_analysis_shared_by_shape_is_each_texts_own() {
        assert_shared_analyses_are_own(moved_corpus("repository"), 50, |case, variant_zone| {
            let arn = |owner: &str| format!("arn:aws:ecr:us-east-1:{owner}:repository/app");
            let cache = AnalysisCache::default();
            cache.repository(&case.text, &arn(&case.owner), &case.owner, &case.zone);
            let moved_arn = arn(&case.moved_owner);
            let got = cache.repository(
                &case.moved_text,
                &moved_arn,
                &case.moved_owner,
                variant_zone,
            );
            let own = access::analyze_resource_policy(
                &case.moved_text,
                Target::Repository,
                &moved_arn,
                &variant_zone.for_owner(&case.moved_owner),
            );
            assert_eq!(got, (own.policy, own.access), "{}", case.path.display());
            one_shared_shape(&cache.repository_shapes)
        });
    }

    #[test]
    fn a_repository_analysis_is_not_shared_between_owners() {
        // The same text for a repository of another account of the zone:
        // an account it names may now be the owner, or no longer be, at
        // the same rank; its analysis is its own.
        let mut differ = 0;
        let (a, b) = ("111122223333", "444455556666");
        let both_named = [
            // Public where the resource is A's; B's repository names A
            // only as a condition value.
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:ResourceAccount":"{A}"}}},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::{B}:root"},"Action":"ecr:DeleteRepository"}"#,
            r#"{"Effect":"Allow","Principal":{"AWS":["{A}","{B}"]},"Action":"ecr:*"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:PutImage","Condition":{"StringNotEquals":{"aws:SourceAccount":"{B}"},"StringEquals":{"aws:PrincipalAccount":"{A}"}}}"#,
        ]
        .map(|statements| {
            let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
                .replace("{A}", a)
                .replace("{B}", b);
            let label = format!("both named: {text}");
            MovedCase::new(label.into(), text, a.to_string(), [b.to_string()].into(), None)
        });
        for case in moved_corpus("repository").into_iter().chain(both_named) {
            let arn = |owner: &str| format!("arn:aws:ecr:us-east-1:{owner}:repository/app");
            for other in case.zone.accounts.iter().filter(|a| **a != case.owner) {
                let cache = AnalysisCache::default();
                let first =
                    cache.repository(&case.text, &arn(&case.owner), &case.owner, &case.zone);
                let got = cache.repository(&case.text, &arn(other), other, &case.zone);
                let own = access::analyze_resource_policy(
                    &case.text,
                    Target::Repository,
                    &arn(other),
                    &case.zone.for_owner(other),
                );
                assert_eq!(got, (own.policy, own.access), "{}", case.path.display());
                differ += usize::from(first != got);
            }
        }
        // Owners that change the analysis are among the cases.
        assert!(differ >= 5, "{differ}");
    }

    #[test]
    fn generated_policies_get_their_own_analysis_through_the_shape_cache() {
        use proptest::prelude::*;
        // Statements with slots for accounts, filled from the owner, zone
        // accounts, outsiders (one with a leading zero) and a witness the
        // analysis makes up; each policy is asked for under one filling,
        // then under its twin (every id moved to one of the same part, the
        // order kept: most often one shape) and under another filling.
        let statements = [
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{0}:root"},"Action":"ecr:BatchGetImage"}"#,
            r#"{"Effect":"Allow","Principal":{"AWS":["{0}","arn:aws:iam::{1}:role/ci"]},"Action":["ecr:PutImage","ecr:BatchGetImage"]}"#,
            r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::{1}:root"},"Action":"ecr:*"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalAccount":["{0}","{2}"]}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:PutImage","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"{1}"}}}"#,
            r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:SourceAccount":["{2}","{0}"]}}}"#,
            r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:lambda:*:{1}:function:svc-*"}}}"#,
            r#"{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:SourceAccount":"{2}"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::{0}:role/*"}}}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:ResourceAccount":"{1}"}}}"#,
            r#"{"Effect":"Deny","Principal":{"AWS":"{2}"},"Action":"ecr:PutImage"}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:GetAuthorizationToken","Resource":"arn:aws:ecr:us-east-1:{0}:repository/*"}"#,
        ];
        let (owner, twin_owner) = ("111122223333", "555566667777");
        let zone = TrustZone {
            accounts: [owner, twin_owner, "222233334444", "666677778888"]
                .map(String::from)
                .into(),
            org_id: Some("o-a1b2c3d4e5".to_string()),
            time: Some(1_795_132_800),
        };
        // Each id and its twin: the same part, and the twins in the order
        // of the ids.
        let ids = [
            (owner, twin_owner),
            ("222233334444", "666677778888"),
            ("044455556666", "088899990000"),
            ("333344445555", "777788889999"),
            ("999999999999", "999999999999"),
        ];
        let fill = |picked: &[usize], slots: &[usize; 3], twin: bool| {
            let body: Vec<&str> = picked.iter().map(|&i| statements[i]).collect();
            let mut text = format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                body.join(",")
            );
            for (slot, &id) in slots.iter().enumerate() {
                let (plain, twinned) = ids[id];
                text = text.replace(&format!("{{{slot}}}"), if twin { twinned } else { plain });
            }
            text
        };
        let policy = (
            proptest::collection::vec(0..statements.len(), 1..4),
            [0..ids.len(), 0..ids.len(), 0..ids.len()],
            [0..ids.len(), 0..ids.len(), 0..ids.len()],
        );
        proptest!(ProptestConfig::with_cases(96), |((picked, slots, other) in policy)| {
            let cache = AnalysisCache::default();
            let arn = |owner: &str| format!("arn:aws:ecr:us-east-1:{owner}:repository/app");
            let asked = [
                (fill(&picked, &slots, false), owner),
                (fill(&picked, &slots, true), twin_owner),
                (fill(&picked, &other, false), owner),
            ];
            for (text, owner) in &asked {
                let got = cache.repository(text, &arn(owner), owner, &zone);
                let own = access::analyze_resource_policy(
                    text,
                    Target::Repository,
                    &arn(owner),
                    &zone.for_owner(owner),
                );
                prop_assert_eq!(got, (own.policy, own.access), "{}", text);
            }
        });
    }

    #[test]
    fn an_identity_analysis_shared_by_shape_is_each_texts_own() {
        // The corpus's identity cases, and templates naming the owner's,
        // a zone account's and an outsider's repositories and accounts.
        let (owner, zone_account, outsider) = ("111122223333", "444455556666", "999988887777");
        let templates = [
            r#"{"Effect":"Allow","Action":["ecr:PutImage","ecr:BatchGetImage"],"Resource":"arn:aws:ecr:*:{O}:repository/team-1/*"}"#,
            r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:{X}:repository/app"}"#,
            r#"{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceAccount":"{O}"}}}"#,
            r#"{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceAccount":["{Z}","{X}"]}}}"#,
            r#"{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:{O}:repository/*"}"#,
            r#"{"Effect":"Allow","Action":"ecr:PutImage","Resource":"arn:aws:ecr:*:*:repository/*"},{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":["{O}","{Z}"]}}}"#,
            r#"{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:PutImage"],"Resource":["arn:aws:ecr:us-east-1:{Z}:repository/*","arn:aws:ecr:us-east-1:{O}:repository/*"]}"#,
        ];
        let mut cases = moved_corpus("identity");
        for (i, statements) in templates.iter().enumerate() {
            let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
                .replace("{O}", owner)
                .replace("{Z}", zone_account)
                .replace("{X}", outsider);
            cases.push(MovedCase::new(
                format!("template {i}").into(),
                text,
                owner.to_string(),
                [zone_account.to_string()].into(),
                Some("o-a1b2c3d4e5"),
            ));
        }
        assert_shared_analyses_are_own(cases, 10, |case, variant_zone| {
            let docs = |text| {
                [identity::NamedPolicy {
                    name: "inline policy ecr".to_string(),
                    text,
                }]
            };
            let cache = AnalysisCache::default();
            let owner_zone = case.zone.for_owner(&case.owner);
            cache.identity(&docs(&case.text), None, &case.owner, &owner_zone);
            let moved_zone = variant_zone.for_owner(&case.moved_owner);
            let moved_docs = docs(&case.moved_text);
            let got = cache.identity(&moved_docs, None, &case.moved_owner, &moved_zone);
            let own = identity::analyze_identity(&moved_docs, None, &case.moved_owner, &moved_zone);
            assert_eq!(got, own, "{}", case.path.display());
            one_shared_shape(&cache.identity_shapes)
        });
    }

    #[test]
    fn locations_are_relative_and_colon_free() {
        assert_eq!(location_segment("team/app"), "team/app");
        assert_eq!(location_segment("a:b c"), "a%3Ab%20c");
        assert_eq!(location_segment("/svc/"), "svc");
    }
}
