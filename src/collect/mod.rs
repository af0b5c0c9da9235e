//! Live collection: AWS credentials → [`Inventory`].
//!
//! The only module that talks to AWS, and it only reads. The flow:
//! 1. the caller's identity (sts:GetCallerIdentity) and the organization
//!    (organizations:DescribeOrganization, and ListAccounts with `--org`);
//! 2. the target accounts: the caller's, `--accounts`, or the organization's
//!    active accounts; in each other than the caller's, `--role-name` is
//!    assumed (sts:AssumeRole);
//! 3. per account, IAM (iam.rs) and every region (ecr.rs), bounded at each
//!    level, with every request counted and held under one overall bound
//!    (`--max-concurrency`).
//!
//! Anything that cannot be read becomes a [`CollectionError`] in the
//! inventory and the rest goes on; `collect` itself fails only when nothing
//! at all can be collected.
//!
//! [`CollectionError`]: crate::inventory::CollectionError

mod accounts;
mod context;
mod ecr;
mod errors;
mod iam;
pub mod regions;

use std::fmt;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region as SdkRegion, SdkConfig};
use time::OffsetDateTime;

use crate::inventory::{Account, AccountId, ErrorKind, Inventory, Organization, FORMAT};
use context::{bounded, Ctx, SharedCtx};

/// What to collect and how. See `ecr-audit collect --help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectOptions {
    pub profile: Option<String>,
    /// Empty and `!all_regions`: the configured default region.
    pub regions: Vec<String>,
    /// Every region where ECR is available and enabled for the account.
    pub all_regions: bool,
    /// Empty and `!org`: the caller's account only.
    pub accounts: Vec<AccountId>,
    /// The organization's active accounts.
    pub org: bool,
    /// Assumed in every target account other than the caller's.
    pub role_name: String,
    pub external_id: Option<String>,
    /// Overall bound on requests in flight.
    pub max_concurrency: usize,
    /// Longest one attempt of one request may take.
    pub request_timeout: std::time::Duration,
    /// When the whole collection must end (`--timeout`): what is unfinished
    /// then is recorded as an error, the rest is kept.
    pub deadline: Option<std::time::Duration>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Collect only this slice of the target accounts (`--shard K/N`); the
    /// others are recorded as the zone of trust.
    pub shard: Option<crate::inventory::Shard>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            profile: None,
            regions: Vec::new(),
            all_regions: false,
            accounts: Vec::new(),
            org: false,
            role_name: DEFAULT_ROLE_NAME.to_string(),
            external_id: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            deadline: None,
            progress: false,
            shard: None,
        }
    }
}

pub const DEFAULT_ROLE_NAME: &str = "ecr-audit";
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Attempts per request (standard retry mode) unless AWS_MAX_ATTEMPTS or
/// AWS_RETRY_MODE says otherwise.
const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Collection could not start: nothing at all can be collected. Never holds
/// credential material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectError {
    pub message: String,
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CollectError {}

crate::files::user_diagnostic!(
    CollectError,
    "ecr_audit::collect",
    "a live scan needs AWS credentials (profile, environment or instance role) with the permissions of docs/iam-policy.json; see docs/live-scanning.md"
);

impl CollectError {
    fn new(message: impl Into<String>) -> CollectError {
        CollectError {
            message: errors::scrub(&message.into()),
        }
    }
}

/// Collects the inventory. Blocking: builds its own tokio runtime (so it
/// must not be called from inside one). `Err`
/// only when nothing at all can be collected (no credentials, caller
/// identity unknown, no region, organization not listable with `--org`);
/// everything partial goes into `Inventory::errors`.
pub fn collect(opts: &CollectOptions) -> Result<Inventory, CollectError> {
    validate(opts)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(collect_async(opts))
}

fn validate(opts: &CollectOptions) -> Result<(), CollectError> {
    if opts.role_name.trim().is_empty() {
        return Err(CollectError::new("the role name is empty"));
    }
    Ok(())
}

/// The SDK configuration, and the default region it had before the
/// fallback this function adds.
async fn load_config(opts: &CollectOptions) -> (SdkConfig, Option<String>) {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    let env_says = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if !env_says("AWS_MAX_ATTEMPTS") && !env_says("AWS_RETRY_MODE") {
        // Throttling is expected across an organization: it is retried
        // with exponential backoff and jitter, in each account × region's
        // own retry partition. Not the adaptive mode: its client-side rate
        // limiter falls to half a request per second after a throttled
        // answer on a client that has sent only a few, which made the test
        // organization (72 requests, 30% of them throttled) take 140 s
        // instead of 10 s.
        loader =
            loader.retry_config(RetryConfig::standard().with_max_attempts(DEFAULT_MAX_ATTEMPTS));
    }
    // A server that never answers must not hang the scan.
    loader = loader.timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(opts.request_timeout.min(std::time::Duration::from_secs(10)))
            .operation_attempt_timeout(opts.request_timeout)
            .build(),
    );
    let mut config = loader.load().await;
    let default_region = config.region().map(|r| r.to_string());
    if default_region.is_none() {
        // STS, IAM and Organizations need a region to sign with even when
        // the scan names its regions explicitly.
        let fallback = opts
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "us-east-1".to_string());
        config = config.to_builder().region(SdkRegion::new(fallback)).build();
    }
    (config, default_region)
}

async fn collect_async(opts: &CollectOptions) -> Result<Inventory, CollectError> {
    let (base, default_region) = load_config(opts).await;
    let deadline = opts.deadline.map(|d| tokio::time::Instant::now() + d);
    let ctx: SharedCtx = Arc::new(Ctx::new(opts.max_concurrency, opts.progress, deadline));

    let caller = accounts::caller(&ctx, &base).await.map_err(|f| {
        let hint = if f.kind == ErrorKind::Network {
            "check the network and any AWS_ENDPOINT_URL"
        } else {
            "check the AWS credentials (--profile, AWS_PROFILE, environment, SSO login)"
        };
        CollectError::new(format!(
            "cannot tell who is scanning (sts:GetCallerIdentity failed: {}); {hint}",
            f.message
        ))
    })?;

    let regions = target_regions(opts, &caller.partition, default_region)?;

    let organization = match accounts::organization(&ctx, &base, opts.org).await {
        Ok(org) => org,
        Err((operation, failure)) if opts.org => {
            return Err(CollectError::new(format!(
                "--org: cannot list the organization's accounts ({operation} failed: {}); run from the management account or a delegated administrator, or name accounts with --accounts",
                failure.message
            )));
        }
        Err((operation, failure)) => {
            ctx.record(&caller.account, None, operation, None, &failure);
            None
        }
    };
    if opts.org && organization.is_none() {
        return Err(CollectError::new(format!(
            "--org: account {} does not belong to an organization",
            caller.account
        )));
    }

    let (targets, other_shards): (Vec<_>, Vec<_>) =
        target_accounts(opts, &caller, organization.as_ref())
            .into_iter()
            .partition(|(id, _)| opts.shard.is_none_or(|s| s.holds(id)));
    ctx.progress
        .add_scopes((targets.len() * regions.len()) as u64);

    let session = accounts::session_name();
    let shared = Arc::new(Shared {
        base,
        caller: caller.clone(),
        regions,
        role_name: opts.role_name.clone(),
        external_id: opts.external_id.clone(),
        session,
    });
    let accounts_in_flight = (opts.max_concurrency / 2).clamp(1, 8);
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|(id, name)| {
            let ctx = ctx.clone();
            let shared = shared.clone();
            async move { collect_account(ctx, shared, id, name).await }
        })
        .collect();
    let mut collected: Vec<Account> = bounded(accounts_in_flight, tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    collected.sort_by(|a, b| a.id.cmp(&b.id));
    ctx.progress.finish();

    Ok(Inventory {
        format: FORMAT.to_string(),
        collected_at: Some(OffsetDateTime::now_utc()),
        collector: Some(format!("ecr-audit {}", env!("CARGO_PKG_VERSION"))),
        organization,
        accounts: collected,
        errors: ctx.take_errors(),
        request_counts: ctx.take_counts(),
        retries: ctx.retries(),
        shard: opts.shard,
        zone_accounts: other_shards.into_iter().map(|(id, _)| id).collect(),
    })
}

/// (region, skip silently if not enabled)
fn target_regions(
    opts: &CollectOptions,
    partition: &str,
    default_region: Option<String>,
) -> Result<Vec<(String, bool)>, CollectError> {
    if opts.all_regions {
        let list = regions::ecr_regions(partition).ok_or_else(|| {
            CollectError::new(format!(
                "--all-regions: the region list of partition \"{partition}\" is not known; name the regions with --region"
            ))
        })?;
        return Ok(list
            .iter()
            .map(|r| (r.name.to_string(), r.opt_in))
            .collect());
    }
    let mut names: Vec<String> = Vec::new();
    for r in &opts.regions {
        if !names.contains(r) {
            names.push(r.clone());
        }
    }
    if names.is_empty() {
        let Some(region) = default_region else {
            return Err(CollectError::new(
                "no region to scan: pass --region R (repeatable) or --all-regions, or configure a default region (AWS_REGION or the profile's region)",
            ));
        };
        names.push(region);
    }
    Ok(names.into_iter().map(|r| (r, false)).collect())
}

/// (account id, name)
fn target_accounts(
    opts: &CollectOptions,
    caller: &accounts::Caller,
    organization: Option<&Organization>,
) -> Vec<(AccountId, Option<String>)> {
    let name_of = |id: &str| {
        organization.and_then(|o| {
            o.accounts
                .iter()
                .find(|a| &*a.id == id && !a.name.is_empty())
                .map(|a| a.name.clone())
        })
    };
    let mut ids: Vec<AccountId> = if !opts.accounts.is_empty() {
        opts.accounts.clone()
    } else if opts.org {
        organization
            .map(|o| {
                o.accounts
                    .iter()
                    .filter(|a| a.status.eq_ignore_ascii_case("ACTIVE"))
                    .map(|a| a.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        vec![caller.account.clone()]
    };
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let name = name_of(&id);
            (id, name)
        })
        .collect()
}

struct Shared {
    base: SdkConfig,
    caller: accounts::Caller,
    regions: Vec<(String, bool)>,
    role_name: String,
    external_id: Option<String>,
    session: String,
}

/// Regions of one account read at once.
const REGIONS_IN_FLIGHT: usize = 4;

async fn collect_account(
    ctx: SharedCtx,
    shared: Arc<Shared>,
    id: AccountId,
    name: Option<String>,
) -> Option<Account> {
    let session = if id == shared.caller.account {
        accounts::AccountSession::caller(&shared.base)
    } else {
        let role = accounts::RoleSpec {
            arn: accounts::role_arn(&shared.caller.partition, &id, &shared.role_name),
            session_name: shared.session.clone(),
            external_id: shared.external_id.clone(),
        };
        match accounts::AccountSession::assume(&ctx, &shared.base, role.clone()).await {
            Ok(session) => session,
            Err(failure) => {
                assume_failed(
                    &ctx,
                    &id,
                    None,
                    &role,
                    failure,
                    &format!("account {id} was not scanned"),
                );
                for _ in &shared.regions {
                    ctx.progress.scope_done();
                }
                return None;
            }
        }
    };
    let session = Arc::new(session);

    let iam = {
        let ctx = ctx.clone();
        let session = session.clone();
        let id = id.clone();
        async move {
            match session.config(&ctx).await {
                Ok(config) => iam::collect_iam(ctx, config, id.to_string()).await,
                Err(failure) => {
                    if let Some(role) = session.role() {
                        assume_failed(&ctx, &id, None, role, failure, "IAM was not read");
                    }
                    None
                }
            }
        }
    };
    let region_tasks: Vec<_> = shared
        .regions
        .iter()
        .map(|(region, skip)| {
            let ctx = ctx.clone();
            let session = session.clone();
            let scope = ecr::RegionScope {
                account: id.to_string(),
                region: region.clone(),
                skip_if_disabled: *skip,
            };
            async move {
                let out = match session.config(&ctx).await {
                    Ok(config) => ecr::collect_region(ctx.clone(), config, scope).await,
                    Err(failure) => {
                        if let Some(role) = session.role() {
                            assume_failed(
                                &ctx,
                                &scope.account,
                                Some(&scope.region),
                                role,
                                failure,
                                "the region was not read",
                            );
                        }
                        None
                    }
                };
                ctx.progress.scope_done();
                out
            }
        })
        .collect();
    let (iam, regions) = tokio::join!(iam, bounded(REGIONS_IN_FLIGHT, region_tasks));
    Some(Account {
        id,
        name,
        iam,
        regions: regions.into_iter().flatten().collect(),
    })
}

/// Records that `role` could not be assumed (or renewed) in `account`.
fn assume_failed(
    ctx: &SharedCtx,
    account: &str,
    region: Option<&str>,
    role: &accounts::RoleSpec,
    mut failure: errors::Failure,
    consequence: &str,
) {
    failure.message = format!(
        "cannot assume {} (session {}): {}; {}",
        role.arn, role.session_name, failure.message, consequence
    );
    failure.kind = ErrorKind::AssumeRoleFailed;
    ctx.record(account, region, "sts:AssumeRole", Some(&role.arn), &failure);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated_before_any_request() {
        let opts = CollectOptions {
            role_name: " ".into(),
            ..Default::default()
        };
        let err = collect(&opts).unwrap_err();
        assert!(err.message.contains("role name"), "{err}");
    }

    #[test]
    fn regions_default_dedupe_and_all() {
        let opts = CollectOptions {
            regions: vec!["eu-west-1".into(), "eu-west-1".into(), "us-east-1".into()],
            ..Default::default()
        };
        let r = target_regions(&opts, "aws", None).unwrap();
        assert_eq!(
            r,
            vec![("eu-west-1".into(), false), ("us-east-1".into(), false)]
        );
        let none = target_regions(&CollectOptions::default(), "aws", None).unwrap_err();
        assert!(none.message.contains("--region"), "{none}");
        let all = CollectOptions {
            all_regions: true,
            ..Default::default()
        };
        let r = target_regions(&all, "aws", None).unwrap();
        assert!(r.contains(&("us-east-1".to_string(), false)));
        assert!(r.contains(&("af-south-1".to_string(), true)));
    }
}
