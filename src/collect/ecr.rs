//! One account × region of ECR: the registry's settings, every repository
//! with its policy, lifecycle policy, tags, scanning frequency and images,
//! and the children of image indexes.
//!
//! Requests per region, for R repositories holding I_r images each of which
//! X_r are image indexes (see docs/live-scanning.md):
//! 1 DescribeRegistry + 1 GetRegistryPolicy + 1 GetRegistryScanningConfiguration
//! + 2 GetAccountSetting (BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE)
//! + ceil(P/1000) DescribePullThroughCacheRules (at least 1)
//! + ceil(T/1000) DescribeRepositoryCreationTemplates (at least 1)
//! + 1 GetSigningConfiguration
//! + ceil(R/1000) DescribeRepositories (at least 1)
//! + ceil(R/25) BatchGetRepositoryScanningConfiguration
//! + R × (GetRepositoryPolicy + GetLifecyclePolicy + ListTagsForResource)
//! + Σ max(1, ceil(I_r/1000)) DescribeImages + Σ ceil(X_r/100) BatchGetImage.

use std::collections::{BTreeMap, HashMap};

use aws_config::SdkConfig;
use aws_sdk_ecr::types;
use aws_sdk_ecr::Client;
use time::OffsetDateTime;

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use super::context::{
    bounded, dedup_by_key, list_all, sorted_tags, to_time, AttemptCounter, Listing, SharedCtx,
    PER_SCOPE,
};
use super::errors::{classify, Failure};
use crate::inventory::{
    Digest, EncryptionConfiguration, ErrorKind, Image, ImageScanFindingsSummary, ImageScanStatus,
    ImageScanningConfiguration, Images, Label, PullThroughCacheRule, Region, Registry,
    RegistryScanningConfiguration, RegistryScanningRule, ReplicationConfiguration,
    ReplicationDestination, ReplicationRule, Repository, RepositoryCreationTemplate,
    RepositoryFilter, SigningConfiguration, SigningRule, TagMutabilityExclusionFilter,
};

/// Manifest media types of an image index (a multi-platform image).
pub(crate) const INDEX_MEDIA_TYPES: &[&str] = &[
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
];

const SCANNING_BATCH: usize = 25;
const BATCH_GET_IMAGE: usize = 100;
const PAGE: i32 = 1000;

/// What to read and how to treat a region that is not enabled.
#[derive(Clone)]
pub(crate) struct RegionScope {
    pub account: String,
    pub region: String,
    /// true under --all-regions: a region the account has not enabled holds
    /// nothing and is left out silently; false: it is an error.
    pub skip_if_disabled: bool,
}

/// Collects one account × region. `None`: the region is not part of the
/// inventory (not enabled for the account; an error says so unless
/// `skip_if_disabled`).
pub(crate) async fn collect_region(
    ctx: SharedCtx,
    config: SdkConfig,
    scope: RegionScope,
) -> Option<Region> {
    // AWS throttles per account, region and API: each account × region gets
    // its own retry partition, so throttling in one does not slow the others.
    let conf = aws_sdk_ecr::config::Builder::from(&config)
        .region(aws_sdk_ecr::config::Region::new(scope.region.clone()))
        .retry_partition(aws_sdk_ecr::config::retry::RetryPartition::new(format!(
            "ecr/{}/{}",
            scope.account, scope.region
        )))
        .interceptor(AttemptCounter(ctx.attempts.clone()))
        .build();
    let client = Client::from_conf(conf);
    let s = Scope {
        ctx: ctx.clone(),
        account: scope.account.clone(),
        region: scope.region.clone(),
    };

    // DescribeRegistry goes first: it is also the probe of whether the
    // region is usable at all.
    let replication = match ctx
        .request("ecr:DescribeRegistry", client.describe_registry().send())
        .await
    {
        Ok(out) => Some(out.replication_configuration.map(replication)),
        Err(e) => {
            let failure = classify(&e);
            if failure.region_disabled() {
                if !scope.skip_if_disabled {
                    let mut failure = failure;
                    failure.message = format!(
                        "region {} is not enabled for account {} (or ECR is not available there): {}",
                        scope.region, scope.account, failure.message
                    );
                    s.fail("ecr:DescribeRegistry", None, &failure);
                }
                return None;
            }
            s.fail("ecr:DescribeRegistry", None, &failure);
            None
        }
    };

    let (policy, scanning, pull_through, settings, templates, signing) = tokio::join!(
        registry_policy(&s, &client),
        registry_scanning(&s, &client),
        pull_through_cache_rules(&s, &client),
        account_settings(&s, &client),
        creation_templates(&s, &client),
        signing_configuration(&s, &client),
    );
    // Every read is its own fact: a part that failed is recorded as an
    // error (the model marks what it would have said as unknown) and the
    // rest of the registry is kept.
    let registry = Some(Registry {
        policy: policy.flatten(),
        replication_configuration: replication.flatten(),
        scanning_configuration: scanning.flatten(),
        pull_through_cache_rules: pull_through.unwrap_or_default(),
        account_settings: settings,
        repository_creation_templates: templates.unwrap_or_default(),
        signing_configuration: signing.flatten(),
    });

    let mut region = Region {
        region: scope.region.clone(),
        registry,
        repositories: Vec::new(),
    };

    let mut listed = list_repositories(&s, &client).await;
    dedup_by_key(&mut listed, |r| r.repository_arn.clone());
    ctx.progress.repositories(listed.len() as u64);

    let frequencies = scan_frequencies(&s, &client, &listed).await;

    let tasks = listed.into_iter().map(|repo| {
        let s = s.clone();
        let client = client.clone();
        let frequency = repo
            .repository_name()
            .and_then(|n| frequencies.get(n).cloned());
        async move { collect_repository(s, client, repo, frequency).await }
    });
    let mut repositories: Vec<Repository> = bounded(PER_SCOPE, tasks.collect::<Vec<_>>())
        .await
        .into_iter()
        .flatten()
        .collect();
    repositories.sort_by(|a, b| a.repository_name.cmp(&b.repository_name));
    region.repositories = repositories;
    Some(region)
}

/// The account settings read per registry (GetAccountSetting's names).
pub const ACCOUNT_SETTINGS: [&str; 2] = ["BASIC_SCAN_TYPE_VERSION", "REGISTRY_POLICY_SCOPE"];

/// Account and region of the requests being made, for error records.
#[derive(Clone)]
struct Scope {
    ctx: SharedCtx,
    account: String,
    region: String,
}

impl Scope {
    fn fail(&self, operation: &str, resource: Option<&str>, failure: &Failure) {
        self.ctx.record(
            &self.account,
            Some(&self.region),
            operation,
            resource,
            failure,
        );
    }

    /// A registry setting's list, when every page was read: a partial list
    /// (pull-through rules, creation templates) is not the registry's list,
    /// so it is unknown and the failure recorded.
    fn whole_listing<T>(&self, operation: &str, listing: Listing<T>) -> Option<Vec<T>> {
        match listing {
            Listing::Complete(items) => Some(items),
            Listing::Partial(_, failure) => {
                self.fail(operation, None, &failure);
                None
            }
        }
    }

    /// The answer to a read of a repository's optional document (its
    /// policy, its lifecycle policy): `absent_code` means "none" (data, not
    /// an error); any other failure is recorded and leaves the document
    /// unknown; `None` means the repository itself is gone (deleted since
    /// it was listed) and should be left out.
    fn optional_document<E>(
        &self,
        operation: &str,
        absent_code: &str,
        arn: &str,
        answer: Result<Option<String>, SdkError<E, HttpResponse>>,
    ) -> Option<Option<String>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match answer {
            Ok(document) => Some(document),
            Err(e) => {
                let failure = classify(&e);
                if failure.has_code("RepositoryNotFoundException") {
                    return None;
                }
                if !failure.has_code(absent_code) {
                    self.fail(operation, Some(arn), &failure);
                }
                Some(None)
            }
        }
    }
}

async fn registry_policy(s: &Scope, client: &Client) -> Option<Option<String>> {
    match s
        .ctx
        .request("ecr:GetRegistryPolicy", client.get_registry_policy().send())
        .await
    {
        Ok(out) => Some(out.policy_text),
        Err(e) => {
            let failure = classify(&e);
            if failure.has_code("RegistryPolicyNotFoundException") {
                return Some(None);
            }
            s.fail("ecr:GetRegistryPolicy", None, &failure);
            None
        }
    }
}

async fn registry_scanning(
    s: &Scope,
    client: &Client,
) -> Option<Option<RegistryScanningConfiguration>> {
    match s
        .ctx
        .request(
            "ecr:GetRegistryScanningConfiguration",
            client.get_registry_scanning_configuration().send(),
        )
        .await
    {
        Ok(out) => Some(out.scanning_configuration.map(|c| {
            RegistryScanningConfiguration {
                scan_type: c
                    .scan_type
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "BASIC".to_string()),
                rules: c
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| RegistryScanningRule {
                        scan_frequency: r.scan_frequency.as_str().to_string(),
                        repository_filters: r
                            .repository_filters
                            .into_iter()
                            .map(|f| RepositoryFilter {
                                filter: f.filter,
                                filter_type: f.filter_type.as_str().to_string(),
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })),
        Err(e) => {
            s.fail("ecr:GetRegistryScanningConfiguration", None, &classify(&e));
            None
        }
    }
}

/// The account settings that change what the registry's policy governs and
/// which engine basic scanning uses. A setting whose read fails is recorded
/// and left out (unknown).
async fn account_settings(s: &Scope, client: &Client) -> BTreeMap<String, String> {
    const OPERATION: &str = "ecr:GetAccountSetting";
    let mut settings = BTreeMap::new();
    for name in ACCOUNT_SETTINGS {
        match s
            .ctx
            .request(OPERATION, client.get_account_setting().name(name).send())
            .await
        {
            Ok(out) => {
                if let Some(value) = out.value {
                    settings.insert(name.to_string(), value);
                }
            }
            Err(e) => {
                let mut failure = classify(&e);
                failure.message = format!("{name}: {}", failure.message);
                s.fail(OPERATION, None, &failure);
            }
        }
    }
    settings
}

async fn pull_through_cache_rules(s: &Scope, client: &Client) -> Option<Vec<PullThroughCacheRule>> {
    const OPERATION: &str = "ecr:DescribePullThroughCacheRules";
    let listing = list_all(
        &s.ctx,
        OPERATION,
        |token| {
            client
                .describe_pull_through_cache_rules()
                .max_results(PAGE)
                .set_next_token(token)
                .send()
        },
        |out| {
            let rules = out
                .pull_through_cache_rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| PullThroughCacheRule {
                    ecr_repository_prefix: r.ecr_repository_prefix.unwrap_or_default(),
                    upstream_registry_url: r.upstream_registry_url.unwrap_or_default(),
                    upstream_registry: r.upstream_registry.map(|u| u.as_str().to_string()),
                    credential_arn: r.credential_arn,
                    custom_role_arn: r.custom_role_arn,
                    upstream_repository_prefix: r.upstream_repository_prefix,
                })
                .collect();
            (rules, out.next_token)
        },
    )
    .await;
    s.whole_listing(OPERATION, listing)
}

async fn creation_templates(s: &Scope, client: &Client) -> Option<Vec<RepositoryCreationTemplate>> {
    const OPERATION: &str = "ecr:DescribeRepositoryCreationTemplates";
    let listing = list_all(
        &s.ctx,
        OPERATION,
        |token| {
            client
                .describe_repository_creation_templates()
                .max_results(PAGE)
                .set_next_token(token)
                .send()
        },
        |out| {
            let templates = out
                .repository_creation_templates
                .unwrap_or_default()
                .into_iter()
                .map(creation_template)
                .collect();
            (templates, out.next_token)
        },
    )
    .await;
    s.whole_listing(OPERATION, listing)
}

fn creation_template(t: types::RepositoryCreationTemplate) -> RepositoryCreationTemplate {
    RepositoryCreationTemplate {
        prefix: t.prefix.unwrap_or_default(),
        description: t.description,
        applied_for: t
            .applied_for
            .unwrap_or_default()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        encryption_configuration: t.encryption_configuration.map(|e| EncryptionConfiguration {
            encryption_type: e.encryption_type.as_str().to_string(),
            kms_key: e.kms_key,
        }),
        resource_tags: sorted_tags(
            t.resource_tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key, t.value)),
        ),
        image_tag_mutability: t.image_tag_mutability.map(|m| m.as_str().to_string()),
        image_tag_mutability_exclusion_filters: t
            .image_tag_mutability_exclusion_filters
            .unwrap_or_default()
            .into_iter()
            .map(|f| TagMutabilityExclusionFilter {
                filter_type: f.filter_type.as_str().to_string(),
                filter: f.filter,
            })
            .collect(),
        repository_policy: t.repository_policy.filter(|p| !p.is_empty()),
        lifecycle_policy: t.lifecycle_policy.filter(|p| !p.is_empty()),
        custom_role_arn: t.custom_role_arn.filter(|r| !r.is_empty()),
    }
}

/// The registry's managed signing configuration; `Some(None)` when it has
/// none (SigningConfigurationNotFoundException is data, not an error).
async fn signing_configuration(s: &Scope, client: &Client) -> Option<Option<SigningConfiguration>> {
    const OPERATION: &str = "ecr:GetSigningConfiguration";
    match s
        .ctx
        .request(OPERATION, client.get_signing_configuration().send())
        .await
    {
        Ok(out) => Some(out.signing_configuration.map(|c| {
            SigningConfiguration {
                rules: c
                    .rules
                    .into_iter()
                    .map(|r| SigningRule {
                        signing_profile_arn: r.signing_profile_arn,
                        repository_filters: r
                            .repository_filters
                            .unwrap_or_default()
                            .into_iter()
                            .map(|f| RepositoryFilter {
                                filter: f.filter,
                                filter_type: f.filter_type.as_str().to_string(),
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })),
        Err(e) => {
            let failure = classify(&e);
            if failure.has_code("SigningConfigurationNotFoundException") {
                return Some(None);
            }
            s.fail(OPERATION, None, &failure);
            None
        }
    }
}

fn replication(c: types::ReplicationConfiguration) -> ReplicationConfiguration {
    ReplicationConfiguration {
        rules: c
            .rules
            .into_iter()
            .map(|r| ReplicationRule {
                destinations: r
                    .destinations
                    .into_iter()
                    .map(|d| ReplicationDestination {
                        region: d.region,
                        registry_id: d.registry_id,
                    })
                    .collect(),
                repository_filters: r
                    .repository_filters
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| RepositoryFilter {
                        filter: f.filter,
                        filter_type: f.filter_type.as_str().to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The region's repositories; when a page cannot be read, the failure is
/// recorded and the repositories of the pages before it are still audited.
async fn list_repositories(s: &Scope, client: &Client) -> Vec<types::Repository> {
    const OPERATION: &str = "ecr:DescribeRepositories";
    let listing = list_all(
        &s.ctx,
        OPERATION,
        |token| {
            client
                .describe_repositories()
                .max_results(PAGE)
                .set_next_token(token)
                .send()
        },
        |out| (out.repositories.unwrap_or_default(), out.next_token),
    )
    .await;
    match listing {
        Listing::Complete(repositories) => repositories,
        Listing::Partial(repositories, failure) => {
            s.fail(OPERATION, None, &failure);
            repositories
        }
    }
}

/// Repository name → scanFrequency, 25 repositories per request. A chunk
/// that fails is recorded once per repository (each is then unknown).
async fn scan_frequencies(
    s: &Scope,
    client: &Client,
    repositories: &[types::Repository],
) -> HashMap<String, String> {
    let chunks: Vec<Vec<(String, String)>> = repositories
        .chunks(SCANNING_BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .filter_map(|r| {
                    Some((
                        r.repository_name.clone()?,
                        r.repository_arn.clone().unwrap_or_default(),
                    ))
                })
                .collect()
        })
        .collect();
    let tasks = chunks.into_iter().map(|chunk| {
        let s = s.clone();
        let client = client.clone();
        async move {
            let names: Vec<String> = chunk.iter().map(|(n, _)| n.clone()).collect();
            let request = client
                .batch_get_repository_scanning_configuration()
                .set_repository_names(Some(names));
            match s
                .ctx
                .request(
                    "ecr:BatchGetRepositoryScanningConfiguration",
                    request.send(),
                )
                .await
            {
                Ok(out) => out
                    .scanning_configurations
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| {
                        Some((c.repository_name?, c.scan_frequency?.as_str().to_string()))
                    })
                    .collect::<Vec<_>>(),
                Err(e) => {
                    let failure = classify(&e);
                    for (_, arn) in &chunk {
                        s.fail(
                            "ecr:BatchGetRepositoryScanningConfiguration",
                            Some(arn),
                            &failure,
                        );
                    }
                    Vec::new()
                }
            }
        }
    });
    bounded(PER_SCOPE, tasks.collect::<Vec<_>>())
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Reads one repository. `None` when it was deleted while being read.
async fn collect_repository(
    s: Scope,
    client: Client,
    repo: types::Repository,
    scan_frequency: Option<String>,
) -> Option<Repository> {
    let name = repo.repository_name.clone().unwrap_or_default();
    let arn = repo.repository_arn.clone().unwrap_or_default();
    let registry_id = repo
        .registry_id
        .clone()
        .unwrap_or_else(|| s.account.clone());

    let mut out = Repository {
        repository_name: name.clone(),
        repository_arn: arn.clone(),
        repository_uri: repo.repository_uri.clone().unwrap_or_default(),
        registry_id: registry_id.clone(),
        created_at: repo.created_at.as_ref().and_then(to_time),
        image_tag_mutability: repo
            .image_tag_mutability
            .as_ref()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| "MUTABLE".to_string()),
        image_tag_mutability_exclusion_filters: repo
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| TagMutabilityExclusionFilter {
                filter_type: f.filter_type().as_str().to_string(),
                filter: f.filter().to_string(),
            })
            .collect(),
        image_scanning_configuration: ImageScanningConfiguration {
            scan_on_push: repo
                .image_scanning_configuration
                .as_ref()
                .map(|c| c.scan_on_push)
                .unwrap_or(false),
        },
        scan_frequency,
        encryption_configuration: repo
            .encryption_configuration
            .as_ref()
            .map(|e| EncryptionConfiguration {
                encryption_type: e.encryption_type.as_str().to_string(),
                kms_key: e.kms_key.clone(),
            })
            .unwrap_or_default(),
        tags: Vec::new(),
        policy: None,
        lifecycle_policy: None,
        images: Default::default(),
    };

    // Repository and lifecycle policies: "not found" is data (no policy).
    let answer = s
        .ctx
        .request(
            "ecr:GetRepositoryPolicy",
            client
                .get_repository_policy()
                .repository_name(&name)
                .registry_id(&registry_id)
                .send(),
        )
        .await
        .map(|r| r.policy_text);
    out.policy = s.optional_document(
        "ecr:GetRepositoryPolicy",
        "RepositoryPolicyNotFoundException",
        &arn,
        answer,
    )?;
    let answer = s
        .ctx
        .request(
            "ecr:GetLifecyclePolicy",
            client
                .get_lifecycle_policy()
                .repository_name(&name)
                .registry_id(&registry_id)
                .send(),
        )
        .await
        .map(|r| r.lifecycle_policy_text);
    out.lifecycle_policy = s.optional_document(
        "ecr:GetLifecyclePolicy",
        "LifecyclePolicyNotFoundException",
        &arn,
        answer,
    )?;

    match s
        .ctx
        .request(
            "ecr:ListTagsForResource",
            client.list_tags_for_resource().resource_arn(&arn).send(),
        )
        .await
    {
        Ok(r) => {
            out.tags = sorted_tags(
                r.tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value)),
            );
        }
        Err(e) => s.fail("ecr:ListTagsForResource", Some(&arn), &classify(&e)),
    }

    let mut images = describe_images(&s, &client, &name, &registry_id, &arn).await?;
    dedup_by_key(&mut images, |i| i.image_digest.clone());

    let indexes: Vec<Digest> = images
        .iter()
        .filter(|i| {
            i.image_manifest_media_type
                .as_deref()
                .is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
        })
        .map(|i| i.image_digest.clone())
        .collect();
    if !indexes.is_empty() {
        let children = index_children(&s, &client, &name, &registry_id, &arn, &indexes).await;
        for image in &mut images {
            if let Some(c) = children.get(&image.image_digest) {
                image.index_manifest_digests = c.clone();
            }
        }
    }
    images.sort_by(|a, b| {
        (a.image_pushed_at, &a.image_digest).cmp(&(b.image_pushed_at, &b.image_digest))
    });
    out.images = Images::Listed(images);
    Some(out)
}

/// Every image of a repository, 1000 per page. `None` when the repository
/// vanished; a failure is recorded against the repository and the images
/// read so far are kept.
async fn describe_images(
    s: &Scope,
    client: &Client,
    name: &str,
    registry_id: &str,
    arn: &str,
) -> Option<Vec<Image>> {
    const OPERATION: &str = "ecr:DescribeImages";
    let listing = list_all(
        &s.ctx,
        OPERATION,
        |token| {
            client
                .describe_images()
                .repository_name(name)
                .registry_id(registry_id)
                // Without the filter only ACTIVE images are listed
                // (DescribeImagesFilter, ECR API reference): archived ones
                // too, so their storage is reported and never taken for
                // images in use.
                .filter(
                    types::DescribeImagesFilter::builder()
                        .image_status(types::ImageStatusFilter::Any)
                        .build(),
                )
                .max_results(PAGE)
                .set_next_token(token)
                .send()
        },
        |out| {
            let page: Vec<Image> = out
                .image_details
                .unwrap_or_default()
                .into_iter()
                .map(image)
                .collect();
            s.ctx.progress.images(page.len() as u64);
            (page, out.next_token)
        },
    )
    .await;
    match listing {
        Listing::Complete(images) => Some(images),
        Listing::Partial(_, failure) if failure.has_code("RepositoryNotFoundException") => None,
        Listing::Partial(images, failure) => {
            s.fail(OPERATION, Some(arn), &failure);
            Some(images)
        }
    }
}

fn image(d: types::ImageDetail) -> Image {
    let mut image_tags = d.image_tags.unwrap_or_default();
    image_tags.sort();
    Image {
        image_digest: d.image_digest.map(Digest::from).unwrap_or_default(),
        image_tags,
        // ECR always sets it; were it missing, the epoch makes the image
        // look old (reported), never fresh.
        image_pushed_at: d
            .image_pushed_at
            .as_ref()
            .and_then(to_time)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        image_size_in_bytes: d
            .image_size_in_bytes
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        last_recorded_pull_time: d.last_recorded_pull_time.as_ref().and_then(to_time),
        image_status: d.image_status.map(|st| st.as_str().into()),
        last_archived_at: d.last_archived_at.as_ref().and_then(to_time),
        image_manifest_media_type: d.image_manifest_media_type.map(Label::from),
        artifact_media_type: d.artifact_media_type.map(Label::from),
        subject_manifest_digest: d.subject_manifest_digest.map(String::into_boxed_str),
        index_manifest_digests: Vec::new(),
        image_scan_status: d.image_scan_status.map(|st| ImageScanStatus {
            status: st.status.map(|x| x.as_str().into()).unwrap_or_default(),
            description: st.description.map(Label::from),
        }),
        image_scan_findings_summary: d.image_scan_findings_summary.map(|f| {
            ImageScanFindingsSummary {
                finding_severity_counts: f
                    .finding_severity_counts
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (Label::new(k.as_str()), u64::try_from(v).unwrap_or(0)))
                    .collect(),
            }
        }),
    }
}

/// Index digest → the digests of its manifests, read with BatchGetImage
/// (100 per request; read-only).
async fn index_children(
    s: &Scope,
    client: &Client,
    name: &str,
    registry_id: &str,
    arn: &str,
    indexes: &[Digest],
) -> HashMap<Digest, Vec<Digest>> {
    let mut children = HashMap::new();
    for chunk in indexes.chunks(BATCH_GET_IMAGE) {
        let ids = chunk
            .iter()
            .map(|d| {
                types::ImageIdentifier::builder()
                    .image_digest(d.to_string())
                    .build()
            })
            .collect();
        let request = client
            .batch_get_image()
            .repository_name(name)
            .registry_id(registry_id)
            .set_image_ids(Some(ids))
            .set_accepted_media_types(Some(
                INDEX_MEDIA_TYPES.iter().map(|m| m.to_string()).collect(),
            ));
        match s.ctx.request("ecr:BatchGetImage", request.send()).await {
            Ok(out) => {
                for image in out.images.unwrap_or_default() {
                    let Some(digest) = image.image_id.as_ref().and_then(|i| i.image_digest.clone())
                    else {
                        continue;
                    };
                    let parsed = match image.image_manifest.as_deref() {
                        Some(text) => manifest_children(text),
                        None => Err(ManifestError::Missing),
                    };
                    match parsed {
                        Ok(list) => {
                            children.insert(Digest::from(digest), list);
                        }
                        Err(message) => s.ctx.record_other(
                            &s.account,
                            Some(&s.region),
                            "ecr:BatchGetImage",
                            Some(arn),
                            ErrorKind::Other,
                            format!("image index {digest}: {message}"),
                        ),
                    }
                }
            }
            Err(e) => s.fail("ecr:BatchGetImage", Some(arn), &classify(&e)),
        }
    }
    children
}

/// Why an image index's children could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ManifestError {
    #[error("no manifest returned")]
    Missing,
    #[error("manifest is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("manifest has no \"manifests\" list")]
    NoList,
}

/// The digests listed by an image index / manifest list.
pub(crate) fn manifest_children(manifest: &str) -> Result<Vec<Digest>, ManifestError> {
    let value: serde_json::Value = serde_json::from_str(manifest)?;
    let list = value
        .get("manifests")
        .and_then(|m| m.as_array())
        .ok_or(ManifestError::NoList)?;
    let mut digests: Vec<Digest> = list
        .iter()
        .filter_map(|m| m.get("digest").and_then(|d| d.as_str()).map(Digest::new))
        .collect();
    digests.sort();
    digests.dedup();
    Ok(digests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_children_are_read_from_the_manifest() {
        let m = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{"digest":"sha256:bb","size":1},{"digest":"sha256:aa","size":2}]}"#;
        assert_eq!(
            manifest_children(m).unwrap(),
            vec![Digest::new("sha256:aa"), Digest::new("sha256:bb")]
        );
        assert!(manifest_children("{}").is_err());
        assert!(manifest_children("nope").is_err());
    }
}
