//! Who is scanning and what: the caller's identity, the organization, the
//! target accounts, and the credentials of each target (the caller's own, or
//! an assumed role).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

use super::context::{AttemptCounter, CompleteXml, SharedCtx};
use super::errors::{classify, Failure};
use super::regions::partition_of;
use crate::inventory::{AccountId, Organization, OrganizationAccount};

/// The identity the scan runs as.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub account: AccountId,
    pub partition: String,
}

/// An STS client whose successful answers must be complete documents and
/// whose attempts are counted.
fn sts_client(ctx: &SharedCtx, config: &SdkConfig) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::config::Builder::from(config)
        .interceptor(AttemptCounter(ctx.attempts.clone()))
        .interceptor(CompleteXml)
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub(crate) async fn caller(ctx: &SharedCtx, config: &SdkConfig) -> Result<Caller, Failure> {
    let sts = sts_client(ctx, config);
    let out = ctx
        .request("sts:GetCallerIdentity", sts.get_caller_identity().send())
        .await
        .map_err(|e| classify(&e))?;
    let account = account_id(out.account, "GetCallerIdentity")?;
    let arn = out.arn.unwrap_or_default();
    Ok(Caller {
        partition: partition_of(&arn).to_string(),
        account,
    })
}

/// An account id from an AWS answer, checked once here: an answer without
/// a 12-digit id is a failed read, not an account to scan.
fn account_id(id: Option<String>, operation: &str) -> Result<AccountId, Failure> {
    let id = id.unwrap_or_default();
    AccountId::parse(&id).map_err(|e| {
        super::errors::from_response(None, None, Some(format!("{operation} answered with {e}")))
    })
}

/// The organization the caller belongs to, `Ok(None)` when it belongs to
/// none. With `list_accounts`, its accounts too (this needs the management
/// account or a delegated administrator).
pub(crate) async fn organization(
    ctx: &SharedCtx,
    config: &SdkConfig,
    list_accounts: bool,
) -> Result<Option<Organization>, (&'static str, Failure)> {
    let conf = aws_sdk_organizations::config::Builder::from(config)
        .interceptor(AttemptCounter(ctx.attempts.clone()))
        .build();
    let client = aws_sdk_organizations::Client::from_conf(conf);
    let described = ctx
        .request(
            "organizations:DescribeOrganization",
            client.describe_organization().send(),
        )
        .await;
    let org = match described {
        Ok(out) => match out.organization {
            Some(o) => o,
            None => return Ok(None),
        },
        Err(e) => {
            let failure = classify(&e);
            if failure.has_code("AWSOrganizationsNotInUseException") {
                return Ok(None);
            }
            return Err(("organizations:DescribeOrganization", failure));
        }
    };
    let management_account_id = account_id(org.master_account_id, "DescribeOrganization")
        .map_err(|f| ("organizations:DescribeOrganization", f))?;
    let mut organization = Organization {
        id: org.id.unwrap_or_default(),
        arn: org.arn,
        management_account_id,
        accounts: Vec::new(),
    };
    if !list_accounts {
        return Ok(Some(organization));
    }
    const LIST: &str = "organizations:ListAccounts";
    let listing = super::context::list_all(
        ctx,
        LIST,
        |token| client.list_accounts().set_next_token(token).send(),
        |out| (out.accounts.unwrap_or_default(), out.next_token),
    )
    .await;
    let listed = match listing {
        super::context::Listing::Complete(accounts) => accounts,
        super::context::Listing::Partial(_, failure) => return Err((LIST, failure)),
    };
    for a in listed {
        // `State` replaces the deprecated `Status`; read either.
        let status = a
            .state
            .map(|s| s.as_str().to_string())
            .or_else(|| a.status.map(|s| s.as_str().to_string()))
            .unwrap_or_default();
        organization.accounts.push(OrganizationAccount {
            id: account_id(a.id, "ListAccounts").map_err(|f| (LIST, f))?,
            name: a.name.unwrap_or_default(),
            status,
        });
    }
    organization.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Some(organization))
}

/// The role ARN assumed in `account`. `role_name` may carry a path
/// (`security/ecr-audit`).
pub(crate) fn role_arn(partition: &str, account: &str, role_name: &str) -> String {
    format!(
        "arn:{partition}:iam::{account}:role/{}",
        role_name.trim_start_matches('/')
    )
}

/// The session name every assumed role gets: it names the tool in the
/// target account's CloudTrail.
pub(crate) fn session_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("ecr-audit-{now}")
}

/// The role assumed in a target account.
#[derive(Debug, Clone)]
pub(crate) struct RoleSpec {
    pub arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
}

/// Renew an assumed role's credentials when less than this is left: the
/// work started with them (one region, or IAM) must end within it.
const RENEW_BEFORE: Duration = Duration::from_secs(15 * 60);

/// Assumed-role sessions last this long.
const SESSION_SECONDS: i32 = 3600;

/// The credentials of one target account: the caller's own, or an assumed
/// role, renewed when a piece of work starts close to its expiry.
pub(crate) struct AccountSession {
    base: SdkConfig,
    role: Option<RoleSpec>,
    current: tokio::sync::Mutex<(SdkConfig, Option<SystemTime>)>,
}

impl AccountSession {
    /// The caller's own account: its credentials as configured.
    pub fn caller(base: &SdkConfig) -> AccountSession {
        AccountSession {
            base: base.clone(),
            role: None,
            current: tokio::sync::Mutex::new((base.clone(), None)),
        }
    }

    /// Assumes `role` once, now: an account whose role cannot be assumed is
    /// known before any work starts.
    pub async fn assume(
        ctx: &SharedCtx,
        base: &SdkConfig,
        role: RoleSpec,
    ) -> Result<AccountSession, Failure> {
        let first = assume_once(ctx, base, &role).await?;
        Ok(AccountSession {
            base: base.clone(),
            role: Some(role),
            current: tokio::sync::Mutex::new(first),
        })
    }

    pub fn role(&self) -> Option<&RoleSpec> {
        self.role.as_ref()
    }

    /// A configuration whose credentials last at least RENEW_BEFORE more.
    pub async fn config(&self, ctx: &SharedCtx) -> Result<SdkConfig, Failure> {
        let mut current = self.current.lock().await;
        if let Some(role) = &self.role {
            if needs_renewal(current.1, SystemTime::now()) {
                *current = assume_once(ctx, &self.base, role).await?;
            }
        }
        Ok(current.0.clone())
    }
}

fn needs_renewal(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    match expiry {
        None => false,
        Some(at) => at
            .duration_since(now)
            .map_or(true, |left| left < RENEW_BEFORE),
    }
}

/// Assumes `role` and returns a configuration acting with its credentials,
/// and when they expire.
async fn assume_once(
    ctx: &SharedCtx,
    base: &SdkConfig,
    role: &RoleSpec,
) -> Result<(SdkConfig, Option<SystemTime>), Failure> {
    let sts = sts_client(ctx, base);
    let out = ctx
        .request(
            "sts:AssumeRole",
            sts.assume_role()
                .role_arn(&role.arn)
                .role_session_name(&role.session_name)
                .set_external_id(role.external_id.clone())
                .duration_seconds(SESSION_SECONDS)
                .send(),
        )
        .await
        .map_err(|e| classify(&e))?;
    let Some(c) = out.credentials else {
        return Err(super::errors::from_response(
            None,
            None,
            Some("AssumeRole answered without credentials".to_string()),
        ));
    };
    let expiry = SystemTime::try_from(c.expiration).ok();
    let credentials = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        expiry,
        "ecr-audit-assume-role",
    );
    let config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    Ok((config, expiry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_follow_the_partition_and_keep_paths() {
        assert_eq!(
            role_arn("aws", "111122223333", "ecr-audit"),
            "arn:aws:iam::111122223333:role/ecr-audit"
        );
        assert_eq!(
            role_arn("aws-cn", "111122223333", "/security/ecr-audit"),
            "arn:aws-cn:iam::111122223333:role/security/ecr-audit"
        );
        let name = session_name();
        assert!(name.starts_with("ecr-audit-") && name.len() <= 64);
    }

    #[test]
    fn sessions_are_renewed_only_near_their_expiry() {
        let now = SystemTime::now();
        assert!(!needs_renewal(None, now));
        assert!(!needs_renewal(Some(now + Duration::from_secs(3600)), now));
        assert!(needs_renewal(Some(now + Duration::from_secs(60)), now));
        assert!(needs_renewal(Some(now - Duration::from_secs(60)), now));
    }
}
