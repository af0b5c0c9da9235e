//! `check-policy`: one policy document analysed offline, as if attached in an
//! account, through the same model, rules and reports as a scan. The
//! document is placed in a small synthetic inventory (a compliant
//! repository, the registry, or a role), so the findings are exactly those a
//! scan would raise for it.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::access::{self, identity, Reach, RegistryScope, Target, Zone};
use crate::engine::{Rule, RuleSelection};
use crate::inventory::{
    Account, AccountId, EncryptionConfiguration, IamRole, ImageScanningConfiguration, InlinePolicy,
    Inventory, Organization, OrganizationAccount, Region, Registry, Repository,
};
use crate::model::ModelOptions;
use crate::scan::{self, ScanOptions, ScanResult};

/// The account used when none is given (said in the output).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// `DEFAULT_ACCOUNT` as an account id.
pub fn default_account() -> AccountId {
    // PANIC SAFETY: the constant is twelve digits (a unit test parses it).
    #[allow(clippy::expect_used)]
    AccountId::parse(DEFAULT_ACCOUNT).expect("DEFAULT_ACCOUNT is 12 digits")
}
/// The region of the synthetic inventory.
pub const REGION: &str = "us-east-1";
const NAME: &str = "checked-policy";

/// What a checked policy is attached to (`check-policy --kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Repository,
    Registry,
    Identity,
    Trust,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Repository => "repository",
            Kind::Registry => "registry",
            Kind::Identity => "identity",
            Kind::Trust => "trust",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "repository" => Some(Kind::Repository),
            "registry" => Some(Kind::Registry),
            "identity" => Some(Kind::Identity),
            "trust" => Some(Kind::Trust),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckInput {
    pub text: String,
    pub kind: Kind,
    pub account: AccountId,
    pub org_id: Option<String>,
    pub org_accounts: Vec<AccountId>,
    pub trusted_accounts: Vec<AccountId>,
    /// The reference time: what `aws:CurrentTime` is.
    pub as_of: OffsetDateTime,
    /// For a registry policy: the account's `REGISTRY_POLICY_SCOPE`.
    pub registry_scope: RegistryScope,
}

/// Who the policy lets in, as the corpus and the summary line state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub verdict: Standing,
    /// For a resource policy: the widest reach of read and write access
    /// (`none` for a trust or identity policy).
    pub read: Reach,
    pub write: Reach,
}

/// The widest reach the analysis decided, or that it could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Decided(Reach),
    Unanalyzable,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Decided(reach) => reach.as_str(),
            Standing::Unanalyzable => "unanalyzable",
        }
    }

    /// Did the analysis decide the reach (the document was understood)?
    pub fn decided(self) -> bool {
        matches!(self, Standing::Decided(_))
    }
}

impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn repository_arn(account: &str) -> String {
    format!("arn:aws:ecr:{REGION}:{account}:repository/{NAME}")
}

pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{NAME}")
}

/// A role trust policy that only the owner account can use.
fn owner_trust(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// For a trust policy: the role is assumed to be able to push (said in the
/// output), so that ECR203/ECR204 show what the trust would expose.
const ECR_WRITE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":"*"},{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"],"Resource":"arn:aws:ecr:*:*:repository/app/*"}]}"#;

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}"#;

pub fn synthetic_inventory(input: &CheckInput) -> Inventory {
    let a = &input.account;
    let mut region = Region {
        region: REGION.to_string(),
        registry: Some(Registry::default()),
        repositories: vec![],
    };
    let mut account = Account {
        id: a.clone(),
        name: Some("checked".into()),
        iam: Some(Default::default()),
        regions: vec![],
    };
    match input.kind {
        Kind::Repository => region.repositories.push(Repository {
            repository_name: NAME.into(),
            repository_arn: repository_arn(a),
            repository_uri: format!("{a}.dkr.ecr.{REGION}.amazonaws.com/{NAME}"),
            registry_id: a.to_string(),
            created_at: None,
            image_tag_mutability: "IMMUTABLE".into(),
            image_tag_mutability_exclusion_filters: Vec::new(),
            image_scanning_configuration: ImageScanningConfiguration { scan_on_push: true },
            scan_frequency: None,
            encryption_configuration: EncryptionConfiguration {
                encryption_type: "KMS".into(),
                kms_key: Some(format!(
                    "arn:aws:kms:{REGION}:{a}:key/00000000-0000-0000-0000-000000000000"
                )),
            },
            tags: vec![],
            policy: Some(input.text.clone()),
            lifecycle_policy: Some(LIFECYCLE.into()),
            images: Default::default(),
        }),
        Kind::Registry => {
            region.registry = Some(Registry {
                policy: Some(input.text.clone()),
                account_settings: [(
                    "REGISTRY_POLICY_SCOPE".to_string(),
                    input.registry_scope.as_str().to_string(),
                )]
                .into(),
                ..Default::default()
            })
        }
        Kind::Identity | Kind::Trust => {
            let (trust, inline) = match input.kind {
                Kind::Identity => (owner_trust(a), input.text.clone()),
                _ => (input.text.clone(), ECR_WRITE_POLICY.to_string()),
            };
            account.iam = Some(crate::inventory::Iam {
                roles: vec![IamRole {
                    role_name: NAME.into(),
                    arn: role_arn(a),
                    role_id: "AROACHECKEDPOLICY0000".into(),
                    path: "/".into(),
                    assume_role_policy_document: trust,
                    inline_policies: vec![InlinePolicy {
                        policy_name: NAME.into(),
                        policy_document: inline,
                    }],
                    attached_policies: vec![],
                    permissions_boundary: None,
                    tags: vec![],
                }],
                ..Default::default()
            });
        }
    }
    account.regions.push(region);
    let organization = input.org_id.as_ref().map(|id| Organization {
        id: id.clone(),
        arn: None,
        management_account_id: a.clone(),
        accounts: input
            .org_accounts
            .iter()
            .chain(std::iter::once(a))
            .map(|id| OrganizationAccount {
                id: id.clone(),
                name: String::new(),
                status: "ACTIVE".into(),
            })
            .collect(),
    });
    Inventory {
        organization,
        accounts: vec![account],
        ..Default::default()
    }
}

/// The zone of trust a document is checked against: its account, the
/// organization's accounts and the trusted ones.
pub fn zone(input: &CheckInput) -> Zone {
    let mut accounts: BTreeSet<String> = input.org_accounts.iter().map(|a| a.to_string()).collect();
    accounts.extend(input.trusted_accounts.iter().map(|a| a.to_string()));
    accounts.insert(input.account.to_string());
    Zone {
        owner: input.account.to_string(),
        accounts,
        org_id: input.org_id.clone(),
        time: Some(input.as_of.unix_timestamp()),
    }
}

/// What is wrong with a policy file before any analysis: not UTF-8, empty,
/// not JSON (with line and column), not a JSON object. These are input
/// errors, never findings. A leading UTF-8 byte-order mark is removed and
/// reported as a warning.
pub fn read_policy_text(bytes: &[u8]) -> Result<(String, Vec<String>), PolicyInputError> {
    let plain = |message: String| PolicyInputError {
        position: None,
        message,
    };
    let mut warnings = Vec::new();
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            warnings.push(
                "the file starts with a UTF-8 byte-order mark; it was ignored (IAM's JSON has none)"
                    .to_string(),
            );
            rest
        }
        None => bytes,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        plain(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(plain("empty: no policy document".to_string()));
    }
    match crate::policy::parse(text, crate::policy::PolicyKind::Resource) {
        Err(e) => match e.kind {
            crate::policy::PolicyErrorKind::InvalidJson { line, column } => {
                // The parser's message repeats the position; say it once.
                let message = e
                    .message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&e.message)
                    .to_string();
                Err(PolicyInputError {
                    position: Some((line, column)),
                    message: format!("not valid JSON: {message}"),
                })
            }
            crate::policy::PolicyErrorKind::NotAnObject => Err(plain(e.to_string())),
            _ => Ok((text.to_string(), warnings)),
        },
        Ok(_) => Ok((text.to_string(), warnings)),
    }
}

/// A policy file that is not a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInputError {
    /// Line and column, when the JSON is broken there.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl PolicyInputError {
    /// `file:line:column: message`, as compilers say it.
    pub fn describe(&self, file: &str) -> String {
        match self.position {
            Some((line, column)) => format!("{file}:{line}:{column}: {}", self.message),
            None => format!("{file}: {}", self.message),
        }
    }
}

/// When a document grants no action of the service its kind is about (a
/// trust policy checked as a repository policy...): the warning, with the
/// kind it looks like.
pub fn kind_mismatch(input: &CheckInput) -> Option<String> {
    use crate::policy::{parse, PolicyKind};
    let policy_kind = match input.kind {
        Kind::Identity => PolicyKind::Identity,
        Kind::Trust => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };
    let kind_of = |k: PolicyKind| match k {
        PolicyKind::Identity => "identity",
        PolicyKind::Trust => "trust",
        PolicyKind::Resource => "repository",
    };
    let doc = match parse(&input.text, policy_kind) {
        Ok(doc) => doc,
        Err(e) => {
            // Not a valid document of its kind: ECR001 says why; say which
            // kind it would be valid as, if any.
            let other = [
                PolicyKind::Identity,
                PolicyKind::Resource,
                PolicyKind::Trust,
            ]
            .into_iter()
            .filter(|k| *k != policy_kind)
            .find(|k| parse(&input.text, *k).is_ok())?;
            let other = kind_of(other);
            return Some(format!(
                "the document is not a valid {} policy ({e}); it parses as {} {other} policy (--kind {other})",
                input.kind.as_str(),
                article(other)
            ));
        }
    };
    let allows = |action: &str| {
        doc.statements.iter().any(|st| {
            st.effect == crate::policy::Effect::Allow
                && crate::policy::actions::element_matches(&st.action, action)
        })
    };
    let grants_ecr = crate::policy::actions::all().iter().any(|a| allows(a.name));
    let grants_assume = identity::ASSUME_ACTIONS.iter().any(|a| allows(a));
    let has_principal = doc.statements.iter().any(|st| st.principal.is_some());
    let looks_like = if grants_assume && has_principal {
        "trust"
    } else if grants_ecr && !has_principal {
        "identity"
    } else if grants_ecr {
        "repository"
    } else {
        ""
    };
    let grants_own = match input.kind {
        Kind::Trust => grants_assume,
        _ => grants_ecr,
    };
    if grants_own
        || doc
            .statements
            .iter()
            .all(|st| st.effect != crate::policy::Effect::Allow)
    {
        return None;
    }
    let what = match input.kind {
        Kind::Trust => "no sts:AssumeRole action",
        _ => "no ecr: action",
    };
    Some(
        if looks_like.is_empty() || looks_like == input.kind.as_str() {
            format!(
                "the document allows {what}, so as a {} policy it grants nothing; is --kind right?",
                input.kind.as_str()
            )
        } else {
            format!(
            "the document allows {what}, so as a {} policy it grants nothing; it looks like {} {looks_like} policy (--kind {looks_like})",
            input.kind.as_str(),
            article(looks_like)
        )
        },
    )
}

/// The document analysed as the only identity policy of a role.
fn identity_analysis(input: &CheckInput) -> identity::IdentityAnalysis {
    identity::analyze_identity(
        &[identity::NamedPolicy {
            name: NAME.into(),
            text: &input.text,
        }],
        None,
        &input.account,
        &zone(input),
    )
}

/// "a" or "an" before a word.
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// What an identity policy grants, in words ("ECR read, write on every
/// repository, the registry token"), or "no ECR access".
pub fn identity_grants(input: &CheckInput) -> String {
    let a = identity_analysis(input);
    let mut parts = Vec::new();
    if a.ecr_read {
        parts.push("ECR read");
    }
    if a.write_all_repositories {
        parts.push("write on every repository");
    } else if a.ecr_write {
        parts.push("write on some repositories");
    }
    if a.ecr_permissions {
        parts.push("repository permissions");
    }
    if a.auth_token {
        parts.push("the registry token");
    }
    if parts.is_empty() {
        "no ECR access".to_string()
    } else {
        parts.join(", ")
    }
}

/// Who the document lets in (upper bounds when it is not fully understood).
pub fn verdict(input: &CheckInput) -> Verdict {
    let zone = zone(input);
    match input.kind {
        Kind::Repository | Kind::Registry => {
            let (target, arn) = match input.kind {
                Kind::Repository => (Target::Repository, repository_arn(&input.account)),
                _ => (
                    Target::Registry(input.registry_scope),
                    crate::model::any_repository_arn("aws", REGION, &input.account),
                ),
            };
            let a = access::analyze_resource_policy(&input.text, target, &arn, &zone);
            let (read, write) = a.reach();
            let widest = read.max(write).max(Reach::OwnerOnly);
            Verdict {
                verdict: if a.policy.analyzable {
                    Standing::Decided(widest)
                } else {
                    Standing::Unanalyzable
                },
                read,
                write,
            }
        }
        Kind::Trust => {
            let t = identity::analyze_trust_policy(&input.text, &role_arn(&input.account), &zone);
            let analyzable = t.policy.as_ref().is_none_or(|p| p.analyzable);
            let verdict = if !analyzable {
                Standing::Unanalyzable
            } else if t.assumable_by_anyone || public_web_identity(&t) {
                Standing::Decided(Reach::Public)
            } else if !t.assumable_from_outside.is_empty() {
                Standing::Decided(Reach::External)
            } else if !t.assumable_from_zone.is_empty() {
                Standing::Decided(Reach::OrgOnly)
            } else {
                Standing::Decided(Reach::OwnerOnly)
            };
            Verdict {
                verdict,
                read: Reach::None,
                write: Reach::None,
            }
        }
        Kind::Identity => {
            let a = identity_analysis(input);
            Verdict {
                verdict: if a.problems.is_empty() {
                    Standing::Decided(Reach::OwnerOnly)
                } else {
                    Standing::Unanalyzable
                },
                read: Reach::None,
                write: Reach::None,
            }
        }
    }
}

/// Tokens of a public web-identity platform (any GitHub repository) make a
/// role assumable by anyone; a cluster's own OIDC issuer does not.
fn public_web_identity(t: &identity::TrustAnalysis) -> bool {
    t.web_identity_without_subject
        .iter()
        .any(|p| identity::is_public_platform(p))
}

/// Runs the policy through the scan pipeline.
pub fn check(
    input: &CheckInput,
    rules: Vec<Rule>,
    selection: RuleSelection,
    prove: Option<crate::scan::ProveSettings>,
) -> ScanResult {
    let inventory = synthetic_inventory(input);
    let options = ScanOptions {
        model: ModelOptions {
            as_of: input.as_of,
            stale_days: crate::config::DEFAULT_STALE_DAYS,
            unpulled_days: crate::config::DEFAULT_UNPULLED_DAYS,
            trusted_accounts: input.trusted_accounts.iter().cloned().collect(),
        },
        selection,
        min_severity: crate::finding::Severity::Info,
        ignores: vec![],
        prove,
    };
    scan::run(inventory, rules, &options)
}
