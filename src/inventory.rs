//! The inventory: what the collector gathered, close to the AWS API shapes.
//!
//! An inventory is the unit of offline re-scanning, of test fixtures and of
//! sharded collection. Field names follow the AWS APIs (camelCase) so that a
//! fixture can be written from the AWS documentation. Policy documents are
//! kept as the text AWS returned (IAM documents already percent-decoded):
//! parsing them is the analysis' job, and a document that does not parse must
//! still reach the analysis so it can say so.
//!
//! Unknown fields are rejected: a misspelt `policy` key in a hand-written
//! fixture must not quietly turn a public repository into one with no policy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod digest;
mod label;
mod raw_images;
mod rows;
mod split;
mod summary;

pub use digest::Digest;
pub use label::Label;
pub use summary::{CountedImage, ImageSummary, LatestImage, Manifest};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The value of the `format` field this version reads and writes.
pub const FORMAT: &str = "ecr-audit/inventory/v1";

/// A 12-digit AWS account id, checked once where it enters: a flag, the
/// configuration file, an inventory (an invalid id there is an input error
/// with its line and column), an AWS API response. Code past those
/// boundaries reads it as a `&str` (`Deref`) and never checks it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AccountId(String);

/// A value that is not a 12-digit account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a 12-digit AWS account id")]
pub struct AccountIdError(pub String);

impl AccountId {
    pub fn parse(id: &str) -> Result<AccountId, AccountIdError> {
        if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(id.to_string()))
        } else {
            Err(AccountIdError(id.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for AccountId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for AccountId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AccountId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `A` is the type of an account: [`Account`], or while reading a file, the
/// account's raw text, so that accounts are parsed on every core.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inventory<A = Account> {
    pub format: String,
    /// When collection finished.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub collected_at: Option<OffsetDateTime>,
    /// The tool and version that collected it, for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(default)]
    pub accounts: Vec<A>,
    /// Everything that could not be read. A resource named here is never
    /// reported as compliant.
    #[serde(default)]
    pub errors: Vec<CollectionError>,
    /// Requests made during collection, by operation (`ecr:DescribeImages`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_counts: BTreeMap<String, u64>,
    /// Attempts the SDK retried (throttling, server errors), over all
    /// operations of the ECR and IAM clients.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u64,
    /// The slice of the target accounts this inventory holds (`--shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Accounts of the zone of trust this inventory does not hold: the
    /// other shards' targets, so that a shard still knows them as "us".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_accounts: Vec<AccountId>,
}

/// One slice `index`/`count` (1-based) of an organization's accounts: an
/// account belongs to slice `hash(id) mod count + 1`, with a hash that is
/// the same on every machine and version (SHA-256 of the id), so the
/// shards of a nightly matrix cover every account exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let err = || format!("\"{text}\" is not a shard: expected K/N with 1 <= K <= N (e.g. 2/8)");
        let (k, n) = text.split_once('/').ok_or_else(err)?;
        let index: u32 = k.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if index == 0 || count == 0 || index > count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }

    /// Whether the account belongs to this slice.
    pub fn holds(&self, account: &str) -> bool {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(account.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) + 1 == u64::from(self.index)
    }

    pub fn is_first(&self) -> bool {
        self.index == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(text: String) -> Result<Shard, String> {
        Shard::parse(&text)
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            format: FORMAT.to_string(),
            collected_at: None,
            collector: None,
            organization: None,
            accounts: Vec::new(),
            errors: Vec::new(),
            request_counts: BTreeMap::new(),
            retries: 0,
            shard: None,
            zone_accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Organization {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub management_account_id: AccountId,
    #[serde(default)]
    pub accounts: Vec<OrganizationAccount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationAccount {
    pub id: AccountId,
    #[serde(default)]
    pub name: String,
    /// ACTIVE, SUSPENDED, PENDING_CLOSURE.
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    pub id: AccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `None`: IAM was not collected (see `errors`); `Some`: what IAM returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<Iam>,
    #[serde(default)]
    pub regions: Vec<Region>,
}

/// IAM as `GetAccountAuthorizationDetails` describes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Iam {
    #[serde(default)]
    pub users: Vec<IamUser>,
    #[serde(default)]
    pub groups: Vec<IamGroup>,
    #[serde(default)]
    pub roles: Vec<IamRole>,
    /// Managed policies (customer-managed and the AWS-managed ones in use),
    /// each with its default version's document.
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamUser {
    pub user_name: String,
    pub arn: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// ARN of the managed policy used as permissions boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamGroup {
    pub group_name: String,
    pub arn: String,
    #[serde(default)]
    pub group_id: String,
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamRole {
    pub role_name: String,
    pub arn: String,
    #[serde(default)]
    pub role_id: String,
    #[serde(default = "root_path")]
    pub path: String,
    /// The trust policy.
    pub assume_role_policy_document: String,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_arn: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedPolicy {
    pub policy_name: String,
    pub arn: String,
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    /// The default version's document.
    pub document: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Default)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    pub region: String,
    /// `None`: the registry settings could not be read (see `errors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
    #[serde(default)]
    pub repositories: Vec<Repository>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// GetRegistryPolicy's text; `None` when the registry has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_configuration: Option<ReplicationConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanning_configuration: Option<RegistryScanningConfiguration>,
    #[serde(default)]
    pub pull_through_cache_rules: Vec<PullThroughCacheRule>,
    /// GetAccountSetting's values by setting name (`BASIC_SCAN_TYPE_VERSION`:
    /// `AWS_NATIVE` or `CLAIR`; `REGISTRY_POLICY_SCOPE`: `V1` or `V2`); a
    /// setting not read is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub account_settings: BTreeMap<String, String>,
    /// DescribeRepositoryCreationTemplates: the settings ECR gives the
    /// repositories it creates itself (pull-through cache, replication,
    /// create on push).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repository_creation_templates: Vec<RepositoryCreationTemplate>,
    /// GetSigningConfiguration's managed signing rules; `None` when the
    /// registry has no signing configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_configuration: Option<SigningConfiguration>,
}

/// One repository creation template: what every repository ECR creates
/// under `prefix` (`ROOT`: any repository no other template matches) for
/// the purposes in `applied_for` is given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepositoryCreationTemplate {
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH.
    #[serde(default)]
    pub applied_for: Vec<String>,
    /// `None`: AES256, the API's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_tags: Vec<Tag>,
    /// `None`: MUTABLE, the API's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag_mutability: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<TagMutabilityExclusionFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<String>,
    /// The IAM role ECR assumes to create repositories with this template
    /// (needed for KMS keys and tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role_arn: Option<String>,
}

/// A registry's managed signing configuration: images pushed to the
/// repositories a rule matches are signed with its AWS Signer profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningConfiguration {
    #[serde(default)]
    pub rules: Vec<SigningRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningRule {
    pub signing_profile_arn: String,
    /// WILDCARD_MATCH filters over repository names; none: every repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repository_filters: Vec<RepositoryFilter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationConfiguration {
    #[serde(default)]
    pub rules: Vec<ReplicationRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationRule {
    #[serde(default)]
    pub destinations: Vec<ReplicationDestination>,
    #[serde(default)]
    pub repository_filters: Vec<RepositoryFilter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationDestination {
    pub region: String,
    pub registry_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepositoryFilter {
    pub filter: String,
    /// PREFIX_MATCH (replication) or WILDCARD (scanning).
    pub filter_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryScanningConfiguration {
    /// BASIC or ENHANCED.
    pub scan_type: String,
    #[serde(default)]
    pub rules: Vec<RegistryScanningRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryScanningRule {
    /// SCAN_ON_PUSH, CONTINUOUS_SCAN or MANUAL.
    pub scan_frequency: String,
    #[serde(default)]
    pub repository_filters: Vec<RepositoryFilter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PullThroughCacheRule {
    pub ecr_repository_prefix: String,
    pub upstream_registry_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_arn: Option<String>,
    /// The IAM role ECR assumes to pull from an ECR upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role_arn: Option<String>,
    /// The repository prefix in the upstream registry ("ROOT" for all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_repository_prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Repository {
    pub repository_name: String,
    pub repository_arn: String,
    #[serde(default)]
    pub repository_uri: String,
    #[serde(default)]
    pub registry_id: String,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub created_at: Option<OffsetDateTime>,
    /// MUTABLE, IMMUTABLE (or the *_WITH_EXCLUSION forms).
    pub image_tag_mutability: String,
    /// The tags excepted from `image_tag_mutability` by the *_WITH_EXCLUSION
    /// forms: mutable ones under IMMUTABLE_WITH_EXCLUSION, immutable ones
    /// under MUTABLE_WITH_EXCLUSION.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<TagMutabilityExclusionFilter>,
    #[serde(default)]
    pub image_scanning_configuration: ImageScanningConfiguration,
    /// BatchGetRepositoryScanningConfiguration's scanFrequency; `None` when
    /// not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_frequency: Option<String>,
    #[serde(default)]
    pub encryption_configuration: EncryptionConfiguration,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// GetRepositoryPolicy's text; `None` when the repository has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// GetLifecyclePolicy's text; `None` when the repository has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<String>,
    /// Its images as listed; read for analysis
    /// ([`Inventory::load_for_analysis`]), their summary.
    #[serde(default)]
    pub images: Images,
}

impl Repository {
    /// The summary of its images: kept when read, else made now.
    pub fn images_summarized(&self) -> std::borrow::Cow<'_, ImageSummary> {
        match &self.images {
            Images::Summarized(summary) => std::borrow::Cow::Borrowed(summary),
            Images::Listed(images) => std::borrow::Cow::Owned(ImageSummary::of(images)),
        }
    }

    /// How many images it has (summarized or not).
    pub fn image_count(&self) -> usize {
        match &self.images {
            Images::Listed(images) => images.len(),
            Images::Summarized(summary) => summary.listed,
        }
    }
}

/// A repository's images: as listed, or as the analysis reads them.
#[derive(Debug, Clone, PartialEq)]
pub enum Images {
    Listed(Vec<Image>),
    /// Read for analysis: each image went into the summary as it was
    /// parsed, and none was kept. Such an inventory is never written.
    Summarized(ImageSummary),
}

impl Default for Images {
    fn default() -> Images {
        Images::Listed(Vec::new())
    }
}

impl Serialize for Images {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Images::Listed(images) => images.serialize(serializer),
            Images::Summarized(_) => Err(serde::ser::Error::custom(
                "an inventory read for analysis holds no images to write",
            )),
        }
    }
}

/// How the account being parsed on a thread reads its repositories' images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageMode {
    /// As `Vec<Image>`.
    Listed,
    /// Streamed into a summary by serde ([`rows`]).
    Streamed,
    /// Read from the text before serde ([`raw_images`]): a number in place
    /// of an array is the place of its summary in [`PRE_READ`]; an array
    /// left in place is streamed.
    PreRead,
}

std::thread_local! {
    /// How the account being parsed on this thread reads images: serde's
    /// derived code passes nothing down to a field, and only
    /// [`parse_for_analysis`] sets it, around one account's parse.
    static IMAGE_MODE: std::cell::Cell<ImageMode> = const { std::cell::Cell::new(ImageMode::Listed) };
    /// The image arrays read before serde, each taken once by its number.
    static PRE_READ: std::cell::RefCell<Vec<Option<ImageSummary>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads images in a mode while it lives, on this thread; then as before.
struct ReadingImages(ImageMode);

impl ReadingImages {
    fn start(mode: ImageMode) -> ReadingImages {
        ReadingImages(IMAGE_MODE.with(|m| m.replace(mode)))
    }
}

impl Drop for ReadingImages {
    fn drop(&mut self) {
        IMAGE_MODE.with(|m| m.set(self.0));
    }
}

/// Parses a text for analysis, its images summarized: those the reader
/// from text takes read before serde, and when anything fails (or a
/// number in their place is not taken exactly once), the whole text again
/// with serde's reader, whose answer (errors and their places included) is
/// the one a plain parse gives.
fn parse_for_analysis<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let pre_read = raw_images::pre_read(text);
    let read = if pre_read.summaries.is_empty() {
        None
    } else {
        PRE_READ.with(|p| *p.borrow_mut() = pre_read.summaries.into_iter().map(Some).collect());
        let parsed = {
            let _reading = ReadingImages::start(ImageMode::PreRead);
            serde_json::from_str::<T>(&pre_read.text)
        };
        let all_taken = PRE_READ.with(|p| p.take().iter().all(Option::is_none));
        parsed.ok().filter(|_| all_taken)
    };
    match read {
        Some(parsed) => Ok(parsed),
        None => {
            let _reading = ReadingImages::start(ImageMode::Streamed);
            serde_json::from_str(text)
        }
    }
}

impl<'de> Deserialize<'de> for Images {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let summary = match IMAGE_MODE.with(|m| m.get()) {
            ImageMode::Listed => {
                return Vec::<Image>::deserialize(deserializer).map(Images::Listed)
            }
            ImageMode::Streamed => ImageSummary::of_rows(&rows::read_summarized(deserializer)?),
            ImageMode::PreRead => deserializer.deserialize_any(PreReadImages)?,
        };
        Ok(Images::Summarized(summary))
    }
}

/// A repository's images when they may have been read before serde: the
/// number of their summary, or an array left for serde's reader.
struct PreReadImages;

impl<'de> serde::de::Visitor<'de> for PreReadImages {
    type Value = ImageSummary;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_u64<E: serde::de::Error>(self, place: u64) -> Result<ImageSummary, E> {
        let taken = PRE_READ.with(|p| {
            usize::try_from(place)
                .ok()
                .and_then(|at| p.borrow_mut().get_mut(at).and_then(Option::take))
        });
        // A number the text had itself, or one taken twice: the caller
        // reads the text again with serde alone.
        taken.ok_or_else(|| E::custom("images read before the parse are out of step"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<ImageSummary, A::Error> {
        let rows = rows::read_summarized(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(ImageSummary::of_rows(&rows))
    }
}

/// One `ImageTagMutabilityExclusionFilter`: a `WILDCARD` filter (`*` matches
/// any characters) over tag names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagMutabilityExclusionFilter {
    pub filter_type: String,
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageScanningConfiguration {
    #[serde(default)]
    pub scan_on_push: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EncryptionConfiguration {
    /// AES256, KMS or KMS_DSSE.
    pub encryption_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

impl Default for EncryptionConfiguration {
    fn default() -> Self {
        EncryptionConfiguration {
            encryption_type: "AES256".to_string(),
            kms_key: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    pub image_digest: Digest,
    #[serde(default)]
    pub image_tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub image_pushed_at: OffsetDateTime,
    #[serde(default)]
    pub image_size_in_bytes: u64,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_recorded_pull_time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_manifest_media_type: Option<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_media_type: Option<Label>,
    /// The manifest this artifact refers to (signatures, SBOMs, attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_manifest_digest: Option<Box<str>>,
    /// For an image index / manifest list: the digests of its manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index_manifest_digests: Vec<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_scan_status: Option<ImageScanStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_scan_findings_summary: Option<ImageScanFindingsSummary>,
    /// `ACTIVE`, `ARCHIVED` (in the archive storage class: cannot be
    /// pulled) or `ACTIVATING` (being restored); absent is `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_status: Option<Label>,
    #[serde(
        with = "time::serde::rfc3339::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_archived_at: Option<OffsetDateTime>,
}

impl Image {
    /// In the archive storage class (not pullable, billed as archive).
    pub fn is_archived(&self) -> bool {
        self.image_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("ARCHIVED"))
    }
}

/// An image with just these fields set, for tests.
#[cfg(test)]
pub(crate) fn test_image(digest: &str, tags: &[&str], pushed: OffsetDateTime, size: u64) -> Image {
    Image {
        image_digest: digest.into(),
        image_tags: tags.iter().map(|t| t.to_string()).collect(),
        image_pushed_at: pushed,
        image_size_in_bytes: size,
        last_recorded_pull_time: None,
        image_manifest_media_type: None,
        artifact_media_type: None,
        subject_manifest_digest: None,
        index_manifest_digests: vec![],
        image_scan_status: None,
        image_scan_findings_summary: None,
        image_status: None,
        last_archived_at: None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageScanStatus {
    // Labels: two million images carry one, nearly always a known value.
    pub status: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Label>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageScanFindingsSummary {
    /// Severity (CRITICAL, HIGH, ...) → count.
    #[serde(default)]
    pub finding_severity_counts: SeverityCounts,
}

/// Severity → count, sorted by severity name, written as a JSON object. A
/// short vector rather than a map: millions of images carry one, and a map's
/// node is several times the size of a few pairs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeverityCounts(Vec<(Label, u64)>);

impl SeverityCounts {
    pub fn iter(&self) -> std::slice::Iter<'_, (Label, u64)> {
        self.0.iter()
    }
}

impl FromIterator<(Label, u64)> for SeverityCounts {
    /// A severity given twice keeps its last count, as a map would.
    fn from_iter<I: IntoIterator<Item = (Label, u64)>>(pairs: I) -> Self {
        let mut pairs: Vec<(Label, u64)> = pairs.into_iter().collect();
        // Stable: equal names keep their order, and the last one stays.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(Label, u64)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match kept.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => kept.push(pair),
            }
        }
        kept.shrink_to_fit();
        SeverityCounts(kept)
    }
}

impl Serialize for SeverityCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for SeverityCounts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = SeverityCounts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of severity names to counts")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<Label, u64>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionError {
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `ecr:DescribeImages`, `sts:AssumeRole`, ...
    pub operation: String,
    /// The resource the operation was about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for CollectionError {
    /// `account 1 region r: ecr:Op failed (AccessDenied) on arn: message`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {}", self.account)?;
        if let Some(r) = &self.region {
            write!(f, " region {r}")?;
        }
        write!(f, ": {} failed ({:?})", self.operation, self.kind)?;
        if let Some(r) = &self.resource {
            write!(f, " on {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    AccessDenied,
    AssumeRoleFailed,
    RegionDisabled,
    Throttled,
    ServerError,
    Unsupported,
    Network,
    /// A request timed out, or the scan's deadline (`--timeout`) came first.
    Timeout,
    #[default]
    Other,
}

impl ErrorKind {
    /// The kebab-case name the inventory and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access-denied",
            ErrorKind::AssumeRoleFailed => "assume-role-failed",
            ErrorKind::RegionDisabled => "region-disabled",
            ErrorKind::Throttled => "throttled",
            ErrorKind::ServerError => "server-error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Other => "other",
        }
    }
}

fn root_path() -> String {
    "/".to_string()
}

impl Inventory {
    /// Reads one inventory file for a scan or proofs; errors name the file,
    /// line and column. The file is read in pieces and never held whole
    /// (see [`split`]), and each repository's images are summarized as soon
    /// as it is parsed ([`ImageSummary`], [`Images::Summarized`]),
    /// so that millions of images are never all held. The facts drawn from
    /// them are the same as from the images.
    pub fn load_for_analysis(path: &Path) -> Result<Inventory, InventoryError> {
        // A small file is not worth the threads. A file that cannot be
        // opened is reported by `parse`, which opens it.
        let parallel = std::fs::metadata(path).is_ok_and(|m| m.len() >= PARALLEL_FROM_BYTES);
        Inventory::parse(
            &|| std::fs::File::open(path),
            &path.display().to_string(),
            parallel,
            ImageReading::Summarized,
        )
    }

    /// Parses inventory JSON; `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Inventory, InventoryError> {
        let parallel = text.len() as u64 >= PARALLEL_FROM_BYTES;
        let open = || Ok(text.as_bytes());
        Inventory::parse(&open, source, parallel, ImageReading::Kept)
    }

    /// Reads the input `open` gives. A large one is split as guided first
    /// ([`split::Splitting::Guided`]); when that does not give an
    /// inventory, it is opened and read again with an exact split, which
    /// gives the first error at its place.
    fn parse<R: std::io::Read>(
        open: &dyn Fn() -> std::io::Result<R>,
        source: &str,
        parallel: bool,
        images: ImageReading,
    ) -> Result<Inventory, InventoryError> {
        let error = |message: String| InventoryError {
            source: source.to_string(),
            message,
        };
        let open = || open().map_err(|e| error(format!("cannot read: {e}")));
        if parallel {
            if let Some(inventory) = Inventory::parse_guided(open()?, images) {
                return Ok(inventory);
            }
        }
        let input = open()?;
        let unsupported = |other: &str| {
            error(format!(
                "unsupported inventory format \"{other}\" (this version reads \"{FORMAT}\")"
            ))
        };
        let splitting = split::Splitting::Exact;
        let (shell, accounts) = read_pieces(input, parallel, splitting, images).map_err(|e| match e {
            split::SplitError::Read(e) => error(format!("cannot read: {e}")),
            split::SplitError::NotUtf8 {
                line,
                column,
                byte,
                offset,
            } => error(format!(
                "cannot read: line {line}, column {column}: not UTF-8 text (byte 0x{byte:02x} at byte offset {offset})"
            )),
        })?;
        let typed_error = match serde_json::from_slice::<Inventory<IgnoredAny>>(&shell.text) {
            Ok(shell) if shell.format != FORMAT => return Err(unsupported(&shell.format)),
            Ok(shell) => {
                let read_apart = accounts.len();
                // The first account that did not parse, in file order.
                let accounts = accounts.into_iter().collect::<Result<Vec<_>, _>>();
                let accounts = accounts.map_err(|e| error(e.to_string()))?;
                if shell.accounts.len() != read_apart {
                    return Err(error(format!(
                        "the top-level accounts array holds {} accounts but {read_apart} were read apart",
                        shell.accounts.len(),
                    )));
                }
                return Ok(shell.with_accounts(accounts));
            }
            Err(e) => in_file(&shell, Located::of(&e, "", 1, 0)),
        };
        // It did not parse: a file of another kind gets "not an inventory"
        // rather than a confusing missing-field error. Only the tag is
        // kept: the rest is skipped without being built.
        #[derive(Deserialize)]
        struct Probe {
            format: Option<serde_json::Value>,
        }
        // The first error in the file is the one to report, as a parse of
        // the whole text would.
        let first_account_error = accounts.iter().find_map(|a| a.as_ref().err());
        let earliest = |e: Located| match first_account_error {
            Some(a) if *a < e => a.clone(),
            _ => e,
        };
        let probe: Probe = match serde_json::from_slice(&shell.text) {
            Ok(probe) => probe,
            Err(e) => {
                let e = in_file(&shell, Located::of(&e, "not valid JSON: ", 1, 0));
                return Err(error(earliest(e).to_string()));
            }
        };
        match probe.format.as_ref().and_then(|f| f.as_str()) {
            Some(FORMAT) => Err(error(earliest(typed_error).to_string())),
            Some(other) => Err(unsupported(other)),
            None => Err(error(format!(
                "not an ecr-audit inventory: expected a top-level \"format\": \"{FORMAT}\""
            ))),
        }
    }

    /// The inventory a guided split gives, when every piece of it parses.
    fn parse_guided(input: impl std::io::Read, images: ImageReading) -> Option<Inventory> {
        let (shell, accounts) = read_pieces(input, true, split::Splitting::Guided, images).ok()?;
        // A guided split checks no UTF-8; the accounts' parse checks theirs.
        std::str::from_utf8(&shell.text).ok()?;
        let top = serde_json::from_slice::<Inventory<IgnoredAny>>(&shell.text).ok()?;
        if top.format != FORMAT || top.accounts.len() != accounts.len() {
            return None;
        }
        let accounts = accounts.into_iter().collect::<Result<Vec<_>, _>>().ok()?;
        Some(top.with_accounts(accounts))
    }

    /// Merges several inventories (shards of one organization). Two shards
    /// that both hold an account are an error naming the accounts.
    pub fn merge(parts: Vec<(String, Inventory)>) -> Result<Inventory, InventoryError> {
        let mut merged = Inventory::default();
        let mut zone_accounts: Vec<AccountId> = Vec::new();
        let mut owner: BTreeMap<AccountId, String> = BTreeMap::new();
        let mut overlaps: BTreeSet<String> = BTreeSet::new();
        let mut sources = Vec::new();
        for (source, part) in parts {
            sources.push(source.clone());
            for account in &part.accounts {
                if let Some(first) = owner.insert(account.id.clone(), source.clone()) {
                    overlaps.insert(format!("{} (in {} and {})", account.id, first, source));
                }
            }
            match (&merged.organization, part.organization) {
                (_, None) => {}
                (None, Some(org)) => merged.organization = Some(org),
                (Some(existing), Some(org)) => {
                    if existing.id != org.id {
                        return Err(InventoryError {
                            source: source.clone(),
                            message: format!(
                                "organization {} differs from {} in an earlier inventory",
                                org.id, existing.id
                            ),
                        });
                    }
                    let known: BTreeSet<AccountId> =
                        existing.accounts.iter().map(|a| a.id.clone()).collect();
                    let extra: Vec<_> = org
                        .accounts
                        .into_iter()
                        .filter(|a| !known.contains(&a.id))
                        .collect();
                    if let Some(o) = merged.organization.as_mut() {
                        o.accounts.extend(extra);
                    }
                }
            }
            merged.collected_at = match (merged.collected_at, part.collected_at) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if merged.collector.is_none() {
                merged.collector = part.collector;
            }
            merged.accounts.extend(part.accounts);
            zone_accounts.extend(part.zone_accounts);
            merged.errors.extend(part.errors);
            merged.retries += part.retries;
            for (op, n) in part.request_counts {
                *merged.request_counts.entry(op).or_default() += n;
            }
        }
        // Shards merged back: an account one shard held is no longer only
        // known from another's list.
        let held: BTreeSet<&AccountId> = merged.accounts.iter().map(|a| &a.id).collect();
        let mut peers: Vec<AccountId> = zone_accounts
            .into_iter()
            .filter(|a| !held.contains(a))
            .collect();
        peers.sort();
        peers.dedup();
        merged.zone_accounts = peers;
        if !overlaps.is_empty() {
            return Err(InventoryError {
                source: sources.join(", "),
                message: format!(
                    "accounts collected more than once: {}",
                    overlaps.into_iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        Ok(merged)
    }

    /// Keeps the accounts of one shard. The others become `zone_accounts`
    /// (still the zone of trust); their errors go with them, errors of no
    /// account stay in every shard (a merge keeps them once), and the
    /// request counts stay with the first shard (a merge adds them up).
    pub fn select_shard(&mut self, shard: Shard) {
        let (kept, others): (Vec<Account>, Vec<Account>) = std::mem::take(&mut self.accounts)
            .into_iter()
            .partition(|a| shard.holds(&a.id));
        self.accounts = kept;
        self.zone_accounts.extend(others.into_iter().map(|a| a.id));
        self.zone_accounts.sort();
        self.zone_accounts.dedup();
        self.errors
            .retain(|e| e.account.is_empty() || shard.holds(&e.account));
        if !shard.is_first() {
            self.request_counts.clear();
            self.retries = 0;
        }
        self.shard = Some(shard);
    }

    // PANIC SAFETY: an inventory has string keys only, so it serializes.
    #[allow(clippy::expect_used)]
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("an inventory always serializes")
    }

    pub fn repository_count(&self) -> usize {
        self.accounts
            .iter()
            .flat_map(|a| &a.regions)
            .map(|r| r.repositories.len())
            .sum()
    }

    pub fn image_count(&self) -> usize {
        self.accounts
            .iter()
            .flat_map(|a| &a.regions)
            .flat_map(|r| &r.repositories)
            .map(Repository::image_count)
            .sum()
    }
}

/// From this size on, accounts are parsed on worker threads while the file
/// is still being read.
const PARALLEL_FROM_BYTES: u64 = 4 << 20;

/// An error at a line and column of the file, ordered by position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Located {
    line: usize,
    column: usize,
    message: String,
}

impl Located {
    /// A serde error in a piece of the file that starts on `line` after
    /// `column_offset` bytes.
    fn of(e: &serde_json::Error, prefix: &str, line: usize, column_offset: usize) -> Located {
        let (line, column) = if e.line() <= 1 {
            (line, column_offset + e.column())
        } else {
            (line + e.line() - 1, e.column())
        };
        Located {
            line,
            column,
            message: format!("{prefix}{}", strip_position(e)),
        }
    }
}

/// An error in the shell at the position it has in the file.
fn in_file(shell: &split::Shell, e: Located) -> Located {
    let (line, column) = shell.file_position(e.line, e.column);
    Located { line, column, ..e }
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl Inventory<IgnoredAny> {
    fn with_accounts(self, accounts: Vec<Account>) -> Inventory {
        Inventory {
            format: self.format,
            collected_at: self.collected_at,
            collector: self.collector,
            organization: self.organization,
            accounts,
            errors: self.errors,
            request_counts: self.request_counts,
            retries: self.retries,
            shard: self.shard,
            zone_accounts: self.zone_accounts,
        }
    }
}

/// What reading an inventory keeps of each repository's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageReading {
    Kept,
    Summarized,
}

/// The top level with placeholders, and each account or why it is wrong.
type Pieces = (split::Shell, Vec<Result<Account, Located>>);

/// Splits the input and parses each account (on worker threads when
/// `parallel`, as soon as it is read): the top level with placeholders,
/// and each account or where its text is wrong, in file order.
fn read_pieces(
    input: impl std::io::Read,
    parallel: bool,
    splitting: split::Splitting,
    images: ImageReading,
) -> Result<Pieces, split::SplitError> {
    let parse_account = |text: &split::AccountText| -> Result<Account, Located> {
        // Checked as UTF-8 once, the text is parsed as `str`: serde then
        // does not check each string again (a fifth of the parse's time).
        let summarized = images == ImageReading::Summarized;
        let parsed = match std::str::from_utf8(&text.bytes) {
            Ok(whole) if summarized => parse_for_analysis(whole),
            Ok(whole) => serde_json::from_str(whole),
            // A guided split's positions mean nothing: it is read again.
            Err(_) if splitting == split::Splitting::Guided => {
                return Err(Located {
                    line: 0,
                    column: 0,
                    message: "not UTF-8".to_string(),
                })
            }
            // Each image streamed into its summary as serde parses it.
            Err(_) => {
                let _streaming = summarized.then(|| ReadingImages::start(ImageMode::Streamed));
                serde_json::from_slice(&text.bytes)
            }
        };
        parsed.map_err(|e| {
            let prefix = if e.is_syntax() || e.is_eof() {
                "not valid JSON: "
            } else {
                ""
            };
            Located::of(&e, prefix, text.line, text.column_offset)
        })
    };
    if !parallel {
        let mut accounts = Vec::new();
        let shell = split::split(input, splitting, &mut |text| {
            accounts.push(parse_account(&text));
            Some(text.bytes)
        })?;
        return Ok((shell, accounts));
    }
    let workers = rayon::current_num_threads().max(1);
    // A few accounts wait per worker: the file is never read far ahead.
    let (sender, receiver) =
        std::sync::mpsc::sync_channel::<(usize, split::AccountText)>(workers * 2);
    let receiver = std::sync::Mutex::new(receiver);
    // Parsed accounts' buffers go back to the reader, to be filled again:
    // the texts are never all allocated (nor freed by another thread).
    let (give_back, given_back) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let give_back = give_back.clone();
                let receiver = &receiver;
                scope.spawn(move || {
                    let mut parsed = Vec::new();
                    loop {
                        let next = receiver
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok((index, text)) = next else { break };
                        parsed.push((index, parse_account(&text)));
                        // The reader may be done: then the buffer is freed.
                        let _ = give_back.send(text.bytes);
                    }
                    parsed
                })
            })
            .collect();
        drop(give_back);
        let mut count = 0;
        let shell = split::split(input, splitting, &mut |text| {
            // Fails only if every worker is gone, which a join reports.
            let _ = sender.send((count, text));
            count += 1;
            given_back.try_recv().ok()
        });
        drop(sender);
        let mut accounts: Vec<Option<Result<Account, Located>>> = Vec::new();
        accounts.resize_with(count, || None);
        for handle in handles {
            let parsed = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (index, account) in parsed {
                accounts[index] = Some(account);
            }
        }
        let accounts = accounts
            .into_iter()
            .enumerate()
            .map(|(index, a)| {
                a.unwrap_or_else(|| {
                    Err(Located {
                        line: 0,
                        column: 0,
                        message: format!("account {index} of the file was not parsed"),
                    })
                })
            })
            .collect();
        Ok((shell?, accounts))
    })
}

/// serde_json appends " at line L column C" to its messages; we print the
/// position first, so drop the tail.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The file (or "embedded demo") the error is in.
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for InventoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for InventoryError {}

crate::files::user_diagnostic!(
    InventoryError,
    "ecr_audit::inventory",
    "inventories are written by `ecr-audit collect` (format ecr-audit/inventory/v1); fixtures/inventories/ holds examples"
);
crate::files::user_diagnostic!(
    AccountIdError,
    "ecr_audit::account_id",
    "an AWS account id is 12 digits, e.g. 111122223333"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_format_and_names_it() {
        let err = Inventory::from_json(r#"{"format":"other/v9"}"#, "x.json").unwrap_err();
        assert!(err.message.contains("other/v9"), "{err}");
        let err = Inventory::from_json(r#"{"accounts":[]}"#, "x.json").unwrap_err();
        assert!(err.message.contains("not an ecr-audit inventory"), "{err}");
    }

    #[test]
    fn bad_json_and_missing_fields_carry_line_and_column() {
        let err = Inventory::from_json("{\n  \"format\": ", "x.json").unwrap_err();
        assert!(err.message.starts_with("line 2, column"), "{err}");
        let text = "{\"format\":\"ecr-audit/inventory/v1\",\n\"accounts\":[{\"id\":\"111122223333\",\"regions\":[{\"region\":\"r\",\n\"repositories\":[{\"repositoryName\":\"a\"}]}]}]}";
        let err = Inventory::from_json(text, "x.json").unwrap_err();
        assert!(err.message.starts_with("line 3, column"), "{err}");
        assert!(err.message.contains("repositoryArn"), "{err}");
    }

    #[test]
    fn an_error_in_an_account_has_the_position_of_a_whole_document_parse() {
        // Accounts are parsed apart, from their slice of the file: the line
        // and column must still be the file's, as one parse would give.
        let account = |id: &str, tail: &str| {
            format!("{{\"id\": \"{id}\",\n  \"regions\": [{{\"region\": \"r\", \"repositories\": [{tail}]}}]}}")
        };
        let good = account("111111111111", "");
        let bad_cases = [
            // On the account's first line, after other text on that line.
            "{\"format\":\"ecr-audit/inventory/v1\",\"accounts\":[GOOD, {\"id\":\"2\"}]}"
                .to_string(),
            // Several lines into the account.
            format!(
                "{{\"format\":\"ecr-audit/inventory/v1\",\n\"accounts\":[GOOD,\n   {}]}}",
                account(
                    "222222222222",
                    "{\"repositoryName\":\"a\",\n \"repositoryArn\": 7}"
                )
            ),
        ];
        // After accounts on the same line (a file written on one line):
        // the top level's positions there are the file's too.
        let one_line = r#"{"id":"111111111111","regions":[]}"#;
        let after = [
            format!(
                r#"{{"format":"ecr-audit/inventory/v1","accounts":[{one_line}, {one_line}] , "bogus": 1}}"#
            ),
            format!(r#"{{"format":"ecr-audit/inventory/v1","accounts":[{one_line}] x}}"#),
            format!(
                r#"{{"format":"ecr-audit/inventory/v1","accounts":[{one_line},{one_line}],"errors":7}}"#
            ),
        ];
        for case in bad_cases.into_iter().chain(after) {
            let text = case.replace("GOOD", &good);
            let whole = serde_json::from_str::<Inventory<Account>>(&text).unwrap_err();
            for parallel in [false, true] {
                let err = Inventory::parse(
                    &|| Ok(text.as_bytes()),
                    "x.json",
                    parallel,
                    ImageReading::Kept,
                )
                .unwrap_err();
                assert_eq!(
                    err.message,
                    format!(
                        "line {}, column {}: {}{}",
                        whole.line(),
                        whole.column(),
                        if whole.is_syntax() {
                            "not valid JSON: "
                        } else {
                            ""
                        },
                        strip_position(&whole)
                    ),
                    "{text}"
                );
            }
        }
    }

    /// The demo organization's accounts under other ids, `n` of them, in
    /// a file written on one line or pretty-printed.
    fn many_accounts(n: usize, pretty: bool) -> Inventory {
        let demo: Inventory =
            serde_json::from_str(include_str!("../fixtures/demo-org.json")).unwrap();
        let mut inventory = demo.clone();
        inventory.accounts = (0..n)
            .map(|i| {
                let mut account = demo.accounts[i % demo.accounts.len()].clone();
                account.id = AccountId::parse(&format!("{:012}", 100 + i)).unwrap();
                account
            })
            .collect();
        inventory.zone_accounts.clear();
        if pretty && n > 1 {
            assert!(inventory
                .to_json_pretty()
                .contains("},\n    {\n      \"id\""));
        }
        inventory
    }

    fn text_of(inventory: &Inventory, pretty: bool) -> String {
        if pretty {
            inventory.to_json_pretty()
        } else {
            serde_json::to_string(inventory).unwrap()
        }
    }

    #[test]
    fn a_guided_split_ends_accounts_at_their_separator_and_reads_what_an_exact_split_reads() {
        for pretty in [false, true] {
            for n in 0..6 {
                let inventory = many_accounts(n, pretty);
                let text = text_of(&inventory, pretty);
                let (shell, accounts) = read_pieces(
                    text.as_bytes(),
                    true,
                    split::Splitting::Guided,
                    ImageReading::Kept,
                )
                .ok()
                .unwrap();
                // Two accounts teach the separator; the last one ends at
                // the end of its structure.
                assert_eq!(
                    shell.guided_accounts,
                    n.saturating_sub(3),
                    "{n} accounts, pretty {pretty}"
                );
                let accounts: Vec<Account> = accounts.into_iter().map(|a| a.unwrap()).collect();
                assert_eq!(accounts, inventory.accounts);
                let guided = Inventory::parse_guided(text.as_bytes(), ImageReading::Kept);
                assert_eq!(guided.as_ref(), Some(&inventory));
            }
        }
    }

    /// Where the separator is also found inside an account, or is not
    /// written alike after every account, or an account does not parse,
    /// the guided split gives no inventory, and the file is read again:
    /// the same inventory, or the error of one parse of the whole file.
    #[test]
    fn where_a_guided_split_is_misled_the_exact_split_answers() {
        for pretty in [false, true] {
            let inventory = many_accounts(5, pretty);
            let text = text_of(&inventory, pretty);
            let separator = if pretty {
                "},\n    {\n      \"id\""
            } else {
                "},{\"id\""
            };
            // The last four: the organization's accounts come first.
            let starts: Vec<usize> = text.match_indices(separator).map(|(i, _)| i).collect();
            let starts = &starts[starts.len() - 4..];
            // The separator inside the fourth account (an unknown field),
            // a space more after the third, a repository without its ARN in
            // the fourth, and bytes that are not UTF-8 in the fifth.
            let cut = |at: usize, insert: &str| format!("{}{insert}{}", &text[..at], &text[at..]);
            let inside = format!("\"x\":[{{}}{separator}:1}}],");
            let cases = [
                (cut(starts[2] + separator.len() + 17, &inside), false),
                (cut(starts[2] + 2, " "), true),
                (
                    text.replacen("\"repositoryArn\"", "\"repositoryArm\"", 9),
                    false,
                ),
                (cut(starts[3] + separator.len() + 3, "\u{e9}"), false),
            ];
            for (case, valid) in cases {
                let case = case.into_bytes();
                let case = if valid || !case.contains(&0xc3) {
                    case
                } else {
                    // é's second byte dropped: not UTF-8.
                    let at = case.iter().position(|&b| b == 0xc3).unwrap();
                    [&case[..=at], &case[at + 2..]].concat()
                };
                assert!(Inventory::parse_guided(&case[..], ImageReading::Kept).is_none() || valid);
                let read = Inventory::parse(&|| Ok(&case[..]), "x.json", true, ImageReading::Kept);
                match serde_json::from_slice::<Inventory>(&case) {
                    Ok(whole) => assert_eq!(read.unwrap(), whole),
                    Err(_) => {
                        let exact = Inventory::parse(
                            &|| Ok(&case[..]),
                            "x.json",
                            false,
                            ImageReading::Kept,
                        );
                        assert_eq!(read.unwrap_err().message, exact.unwrap_err().message);
                    }
                }
            }
        }
    }

    #[test]
    fn accounts_parsed_on_workers_are_the_accounts_of_one_parse() {
        let text = include_str!("../fixtures/demo-org.json");
        let whole: Inventory = serde_json::from_str(text).unwrap();
        for parallel in [false, true] {
            let read = Inventory::parse(
                &|| Ok(text.as_bytes()),
                "demo",
                parallel,
                ImageReading::Kept,
            )
            .unwrap();
            assert_eq!(read, whole, "parallel {parallel}");
            // Read for analysis: each repository's images summarized, and
            // nothing else changed.
            let mut summarized = Inventory::parse(
                &|| Ok(text.as_bytes()),
                "demo",
                parallel,
                ImageReading::Summarized,
            )
            .unwrap();
            assert_eq!(summarized.image_count(), whole.image_count());
            let mut with_images = 0;
            let originals = whole
                .accounts
                .iter()
                .flat_map(|a| &a.regions)
                .flat_map(|r| &r.repositories);
            for (repository, original) in summarized
                .accounts
                .iter_mut()
                .flat_map(|a| a.regions.iter_mut())
                .flat_map(|r| r.repositories.iter_mut())
                .zip(originals)
            {
                let Images::Summarized(summary) = &repository.images else {
                    panic!("{} kept its images", repository.repository_arn);
                };
                let Images::Listed(listed) = &original.images else {
                    panic!("a plain parse summarized");
                };
                assert_eq!(*summary, ImageSummary::of(listed));
                with_images += usize::from(!listed.is_empty());
                repository.images = original.images.clone();
            }
            assert!(with_images > 10, "{with_images}");
            assert_eq!(summarized, whole);
        }
    }

    #[test]
    fn severity_counts_read_and_write_as_the_map_they_replace() {
        let text = r#"{"MEDIUM":4,"CRITICAL":1,"HIGH":2,"MEDIUM":5}"#;
        let counts: SeverityCounts = serde_json::from_str(text).unwrap();
        let map: BTreeMap<String, u64> = serde_json::from_str(text).unwrap();
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(
            counts.iter().cloned().collect::<Vec<_>>(),
            map.into_iter()
                .map(|(k, v)| (Label::from(k), v))
                .collect::<Vec<_>>()
        );
        assert!(serde_json::from_str::<SeverityCounts>(r#"{"HIGH":-1}"#).is_err());
        assert!(serde_json::from_str::<SeverityCounts>("[]").is_err());
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = r#"{"format":"ecr-audit/inventory/v1","acounts":[]}"#;
        let err = Inventory::from_json(text, "x.json").unwrap_err();
        assert!(err.message.contains("acounts"), "{err}");
    }

    #[test]
    fn merge_rejects_overlapping_accounts() {
        let part = |id: &str| Inventory {
            accounts: vec![Account {
                id: AccountId::parse(id).unwrap(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let (one, two) = ("111111111111", "222222222222");
        let ok = Inventory::merge(vec![("a".into(), part(one)), ("b".into(), part(two))]).unwrap();
        assert_eq!(ok.accounts.len(), 2);
        let err =
            Inventory::merge(vec![("a".into(), part(one)), ("b".into(), part(one))]).unwrap_err();
        assert!(err.message.contains("111111111111 (in a and b)"), "{err}");
    }

    #[test]
    fn an_account_id_is_checked_where_the_inventory_is_read() {
        let text = r#"{"format":"ecr-audit/inventory/v1","accounts":[{"id":"1234"}]}"#;
        let err = Inventory::from_json(text, "x.json").unwrap_err();
        assert!(
            err.message
                .contains("\"1234\" is not a 12-digit AWS account id"),
            "{err}"
        );
        assert!(err.message.contains("line 1"), "{err}");
    }
}
