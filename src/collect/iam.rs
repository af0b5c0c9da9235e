//! IAM of one account: users, groups, roles and managed policies from
//! GetAccountAuthorizationDetails (every page), with each policy document
//! percent-decoded (IAM returns them URL-encoded).

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_sdk_iam::types;
use aws_sdk_iam::Client;
use percent_encoding::percent_decode_str;

use super::context::{list_all, sorted_tags, AttemptCounter, CompleteXml, Listing, SharedCtx};
use crate::inventory::{
    AttachedPolicy, Iam, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy, Tag,
};

const OPERATION: &str = "iam:GetAccountAuthorizationDetails";
const PAGE: i32 = 1000;

/// `None` when IAM could not be read (the error is recorded).
pub(crate) async fn collect_iam(ctx: SharedCtx, config: SdkConfig, account: String) -> Option<Iam> {
    // IAM is global: one retry partition per account.
    let conf = aws_sdk_iam::config::Builder::from(&config)
        .retry_partition(aws_sdk_iam::config::retry::RetryPartition::new(format!(
            "iam/{account}"
        )))
        .interceptor(AttemptCounter(ctx.attempts.clone()))
        .interceptor(CompleteXml)
        .build();
    let client = Client::from_conf(conf);
    let listing = list_all(
        &ctx,
        OPERATION,
        |marker| {
            client
                .get_account_authorization_details()
                .set_filter(Some(vec![
                    types::EntityType::User,
                    types::EntityType::Group,
                    types::EntityType::Role,
                    types::EntityType::LocalManagedPolicy,
                    types::EntityType::AwsManagedPolicy,
                ]))
                .max_items(PAGE)
                .set_marker(marker)
                .send()
        },
        |out| {
            let next = if out.is_truncated {
                out.marker.clone()
            } else {
                None
            };
            (vec![out], next)
        },
    )
    .await;
    let pages = match listing {
        Listing::Complete(pages) => pages,
        // Part of an account's IAM is not its IAM: unknown.
        Listing::Partial(_, failure) => {
            ctx.record(&account, None, OPERATION, None, &failure);
            return None;
        }
    };
    let mut iam = Iam::default();
    let mut policies = Vec::new();
    for page in pages {
        iam.users.extend(
            page.user_detail_list
                .unwrap_or_default()
                .into_iter()
                .map(user),
        );
        iam.groups.extend(
            page.group_detail_list
                .unwrap_or_default()
                .into_iter()
                .map(group),
        );
        iam.roles.extend(
            page.role_detail_list
                .unwrap_or_default()
                .into_iter()
                .map(role),
        );
        policies.extend(page.policies.unwrap_or_default());
    }
    iam.policies = managed_policies(policies, &iam);
    iam.users.sort_by(|a, b| a.arn.cmp(&b.arn));
    iam.groups.sort_by(|a, b| a.arn.cmp(&b.arn));
    iam.roles.sort_by(|a, b| a.arn.cmp(&b.arn));
    Some(iam)
}

/// IAM returns policy documents URL-encoded (RFC 3986 percent-encoding, not
/// form encoding: a `+` is a plus sign). A document that is not encoded is
/// returned as is when decoding would not change it.
pub(crate) fn decode_document(text: &str) -> String {
    match percent_decode_str(text).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => text.to_string(),
    }
}

fn inline(list: Option<Vec<types::PolicyDetail>>) -> Vec<InlinePolicy> {
    let mut out: Vec<InlinePolicy> = list
        .unwrap_or_default()
        .into_iter()
        .map(|p| InlinePolicy {
            policy_name: p.policy_name.unwrap_or_default(),
            policy_document: decode_document(p.policy_document.as_deref().unwrap_or_default()),
        })
        .collect();
    out.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    out
}

fn attached(list: Option<Vec<types::AttachedPolicy>>) -> Vec<AttachedPolicy> {
    let mut out: Vec<AttachedPolicy> = list
        .unwrap_or_default()
        .into_iter()
        .map(|p| AttachedPolicy {
            policy_name: p.policy_name.unwrap_or_default(),
            policy_arn: p.policy_arn.unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| a.policy_arn.cmp(&b.policy_arn));
    out
}

fn tags(list: Option<Vec<types::Tag>>) -> Vec<Tag> {
    sorted_tags(
        list.unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value)),
    )
}

fn user(u: types::UserDetail) -> IamUser {
    let mut groups = u.group_list.unwrap_or_default();
    groups.sort();
    IamUser {
        user_name: u.user_name.unwrap_or_default(),
        arn: u.arn.unwrap_or_default(),
        user_id: u.user_id.unwrap_or_default(),
        path: u.path.unwrap_or_else(|| "/".to_string()),
        inline_policies: inline(u.user_policy_list),
        attached_policies: attached(u.attached_managed_policies),
        groups,
        permissions_boundary: u
            .permissions_boundary
            .and_then(|b| b.permissions_boundary_arn),
        tags: tags(u.tags),
    }
}

fn group(g: types::GroupDetail) -> IamGroup {
    IamGroup {
        group_name: g.group_name.unwrap_or_default(),
        arn: g.arn.unwrap_or_default(),
        group_id: g.group_id.unwrap_or_default(),
        path: g.path.unwrap_or_else(|| "/".to_string()),
        inline_policies: inline(g.group_policy_list),
        attached_policies: attached(g.attached_managed_policies),
    }
}

fn role(r: types::RoleDetail) -> IamRole {
    IamRole {
        role_name: r.role_name.unwrap_or_default(),
        arn: r.arn.unwrap_or_default(),
        role_id: r.role_id.unwrap_or_default(),
        path: r.path.unwrap_or_else(|| "/".to_string()),
        assume_role_policy_document: decode_document(
            r.assume_role_policy_document.as_deref().unwrap_or_default(),
        ),
        inline_policies: inline(r.role_policy_list),
        attached_policies: attached(r.attached_managed_policies),
        permissions_boundary: r
            .permissions_boundary
            .and_then(|b| b.permissions_boundary_arn),
        tags: tags(r.tags),
    }
}

/// Customer-managed policies, and the AWS-managed ones that something in the
/// account uses (attached or as a permissions boundary), each with its
/// default version's document.
fn managed_policies(list: Vec<types::ManagedPolicyDetail>, iam: &Iam) -> Vec<ManagedPolicy> {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for u in &iam.users {
        used.extend(u.attached_policies.iter().map(|p| p.policy_arn.as_str()));
        used.extend(u.permissions_boundary.as_deref());
    }
    for g in &iam.groups {
        used.extend(g.attached_policies.iter().map(|p| p.policy_arn.as_str()));
    }
    for r in &iam.roles {
        used.extend(r.attached_policies.iter().map(|p| p.policy_arn.as_str()));
        used.extend(r.permissions_boundary.as_deref());
    }
    let mut out: Vec<ManagedPolicy> = list
        .into_iter()
        .filter_map(|p| {
            let arn = p.arn.clone()?;
            let aws_managed = arn.contains(":iam::aws:policy/");
            if aws_managed && !used.contains(arn.as_str()) {
                return None;
            }
            let versions = p.policy_version_list.unwrap_or_default();
            let default = versions
                .iter()
                .find(|v| v.is_default_version)
                .or_else(|| {
                    versions
                        .iter()
                        .find(|v| v.version_id.is_some() && v.version_id == p.default_version_id)
                })
                .or(versions.first());
            // Some implementations (moto) leave the name out: it is the
            // ARN's last segment.
            let policy_name = p
                .policy_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
            Some(ManagedPolicy {
                policy_name,
                arn,
                path: p.path.unwrap_or_else(|| "/".to_string()),
                default_version_id: p.default_version_id,
                document: decode_document(
                    default
                        .and_then(|v| v.document.as_deref())
                        .unwrap_or_default(),
                ),
            })
        })
        .collect();
    out.sort_by(|a, b| a.arn.cmp(&b.arn));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_percent_decoded_not_form_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ecr%3A*%22%2C%22Resource%22%3A%22arn%3Aaws%3Aecr%3A*%3A1%3Arepository%2Fa+b%22%7D%5D%7D";
        let decoded = decode_document(encoded);
        assert!(
            decoded.starts_with("{\"Version\":\"2012-10-17\""),
            "{decoded}"
        );
        // A plus sign stays a plus sign.
        assert!(decoded.contains("repository/a+b"), "{decoded}");
        // Plain JSON passes through.
        assert_eq!(decode_document("{\"a\":1}"), "{\"a\":1}");
    }
}
