//! IAM principals: what a user or role can do with ECR through its identity
//! policies (and permissions boundary), and who can assume a role.

use std::collections::BTreeSet;

use serde::Serialize;

use super::attacker::{self, Class, Frame, Zone};
use super::facts::{map_set, PolicyFacts};
use super::{classes, statement_truth, CedarDecider};
use crate::policy::actions::{self, ActionClass};
use crate::policy::pattern::arn_match;
use crate::policy::{parse, Effect, PolicyDocument, PolicyKind, Principal, Statement};

const IMPORT_UPSTREAM: &str = "ecr:BatchImportUpstreamImage";

pub const ASSUME_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// Who can assume a role.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrustAnalysis {
    pub policy: Option<PolicyFacts>,
    /// Outside classes ("anyone", account ids, "org o-...") that can assume it.
    pub assumable_from_outside: BTreeSet<String>,
    /// Any principal of any account can assume it (the class "anyone" is
    /// among the outside ones).
    pub assumable_by_anyone: bool,
    /// Zone accounts / the organization that can assume it.
    pub assumable_from_zone: BTreeSet<String>,
    /// Web-identity providers trusted with no condition on the token's `sub`.
    pub web_identity_without_subject: BTreeSet<String>,
}

/// A value of a `sub` condition that pins the subject (not `*`, not
/// `repo:*`-style: the owner part must be literal).
pub fn subject_value_restricts(v: &str) -> bool {
    if v.is_empty() || v.starts_with('*') || v.starts_with('?') {
        return false;
    }
    match v.strip_prefix("repo:") {
        Some(rest) => {
            let owner = rest.split('/').next().unwrap_or("");
            !owner.is_empty() && !owner.contains('*') && !owner.contains('?') && rest.contains('/')
        }
        None => true,
    }
}

/// The condition-key prefix of a web-identity provider
/// (`arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com` →
/// `token.actions.githubusercontent.com`).
pub fn provider_host(provider: &str) -> String {
    provider
        .rsplit_once(":oidc-provider/")
        .map(|(_, h)| h.to_string())
        .unwrap_or_else(|| provider.to_string())
        .to_ascii_lowercase()
}

/// Web-identity platforms on which anyone can mint a token (any repository,
/// any account of the platform), as opposed to an organization's own issuer.
pub fn is_public_platform(provider_host: &str) -> bool {
    const PUBLIC: &[&str] = &[
        "token.actions.githubusercontent.com",
        "gitlab.com",
        "app.terraform.io",
        "oidc.circleci.com",
        "accounts.google.com",
        "cognito-identity.amazonaws.com",
        "api.bitbucket.org",
        "token.buildkite.com",
    ];
    PUBLIC
        .iter()
        .any(|p| provider_host == *p || provider_host.starts_with(&format!("{p}/")))
}

fn statement_pins_subject(st: &Statement, provider: &str) -> bool {
    let key = format!("{}:sub", provider_host(provider));
    st.conditions.iter().any(|c| {
        let Some(op) = c.operator.known() else {
            return false;
        };
        c.key.lower == key
            && !op.family.is_negated()
            && !op.if_exists
            && op.set != Some(crate::policy::SetQualifier::ForAllValues)
            && !c.values.is_empty()
            && c.values.iter().all(|v| subject_value_restricts(&v.value))
    })
}

pub fn analyze_trust_policy(text: &str, role_arn: &str, zone: &Zone) -> TrustAnalysis {
    let doc = match parse(text, PolicyKind::Trust) {
        Ok(doc) => doc,
        Err(e) => {
            return TrustAnalysis {
                policy: Some(PolicyFacts {
                    present: true,
                    analyzable: false,
                    problems: [format!("the trust policy does not parse: {e}")].into(),
                }),
                ..Default::default()
            }
        }
    };
    analyze_trust_document(&doc, role_arn, zone)
}

pub fn analyze_trust_document(doc: &PolicyDocument, role_arn: &str, zone: &Zone) -> TrustAnalysis {
    let problems = super::policy_problems(doc);
    let decider = CedarDecider::new(doc, ASSUME_ACTIONS);
    let frame = Frame::new(zone, doc);
    let mut out = TrustAnalysis::default();
    for class in classes(doc, zone) {
        let flags: Vec<bool> = doc
            .statements
            .iter()
            .map(|st| {
                let t = statement_truth(st, &class, &frame, role_arn);
                match st.effect {
                    Effect::Allow => t.truth.possible && !t.uncertain,
                    Effect::Deny => t.truth.necessary,
                }
            })
            .collect();
        if decider.allowed(&flags).is_empty() {
            continue;
        }
        match &class {
            // A service assumes a role for the owner's own resources (it
            // needs iam:PassRole in the owner account).
            Class::Service(..) => {}
            c if c.is_outside() => {
                out.assumable_by_anyone |= *c == Class::Anyone;
                out.assumable_from_outside.insert(c.label());
            }
            Class::ZoneAccount(_) | Class::OrgMember => {
                out.assumable_from_zone.insert(class.label());
            }
            _ => {}
        }
    }
    for st in &doc.statements {
        if st.effect != Effect::Allow
            || !actions::element_matches(&st.action, "sts:AssumeRoleWithWebIdentity")
        {
            continue;
        }
        let Some(p) = &st.principal else { continue };
        for e in &p.entries {
            if let Principal::Federated(provider) = &e.principal {
                if !p.negated && !statement_pins_subject(st, provider) {
                    let host = provider_host(provider);
                    // On a public platform anyone can mint such a token.
                    if is_public_platform(&host) {
                        out.assumable_from_outside
                            .insert(format!("web identity {host} (any subject)"));
                    }
                    out.web_identity_without_subject.insert(host);
                }
            }
        }
    }
    out.policy = Some(PolicyFacts {
        present: true,
        analyzable: problems.is_empty(),
        problems,
    });
    out
}

/// What a principal's identity policies let it do with ECR.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IdentityAnalysis {
    /// Not an attribute of its own: the model reports problems through the
    /// principal's `PolicyFacts`.
    #[serde(skip_serializing)]
    pub problems: BTreeSet<String>,
    pub ecr_read: bool,
    pub ecr_write: bool,
    pub ecr_permissions: bool,
    pub write_all_repositories: bool,
    pub write_all_statements: BTreeSet<String>,
    pub auth_token: bool,
    pub auth_token_unrestricted: bool,
    pub auth_token_unscoped_statements: BTreeSet<String>,
}

impl IdentityAnalysis {
    /// The same analysis with each string mapped by `f`; `None` when `f`
    /// refuses one. Every field is named, so a field added to the struct
    /// must be mapped too.
    pub fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self> {
        let IdentityAnalysis {
            problems,
            ecr_read,
            ecr_write,
            ecr_permissions,
            write_all_repositories,
            write_all_statements,
            auth_token,
            auth_token_unrestricted,
            auth_token_unscoped_statements,
        } = self;
        Some(IdentityAnalysis {
            problems: map_set(problems, f)?,
            ecr_read: *ecr_read,
            ecr_write: *ecr_write,
            ecr_permissions: *ecr_permissions,
            write_all_repositories: *write_all_repositories,
            write_all_statements: map_set(write_all_statements, f)?,
            auth_token: *auth_token,
            auth_token_unrestricted: *auth_token_unrestricted,
            auth_token_unscoped_statements: map_set(auth_token_unscoped_statements, f)?,
        })
    }
}

/// One identity policy document with the name a report uses for it.
pub struct NamedPolicy<'a> {
    pub name: String,
    pub text: &'a str,
}

fn is_resource_key(key: &str) -> bool {
    key.starts_with("aws:resourcetag/")
        || key.starts_with("ecr:resourcetag/")
        || key == "aws:resourceaccount"
}

/// A repository no pattern names: matching it means "every repository".
fn fresh_repository_for(pattern: &str, account: &str) -> String {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let seg = |i: usize, default: &str| -> String {
        match parts.get(i) {
            Some(s) if !s.contains('*') && !s.contains('?') && !s.is_empty() => s.to_string(),
            _ => default.to_string(),
        }
    };
    format!(
        "arn:{}:ecr:{}:{}:repository/zz-any-repository-9",
        seg(1, "aws"),
        seg(3, "us-east-1"),
        seg(4, account)
    )
}

/// Does the statement's Resource cover every repository (`all`), or some
/// repository (`some`)?
fn resource_reach(st: &Statement, account: &str) -> (bool, bool) {
    let Some(r) = &st.resource else {
        return (true, true);
    };
    if r.negated {
        // NotResource: every repository only if no excluded pattern can
        // name a repository; some repository unless `*` is excluded.
        let names_repository = |p: &String| {
            let lower = p.to_ascii_lowercase();
            p == "*"
                || lower.contains(":ecr:")
                || lower
                    .split(':')
                    .nth(2)
                    .is_some_and(|s| s.contains('*') || s.contains('?'))
        };
        return (
            !r.patterns.iter().any(names_repository),
            !r.patterns.iter().any(|p| p == "*"),
        );
    }
    let mut all = false;
    let mut some = false;
    for p in &r.patterns {
        let fresh = fresh_repository_for(p, account);
        let covers = p == "*" || arn_match(p, &fresh, st.variables_enabled, None).maybe();
        all |= p == "*" || arn_match(p, &fresh, st.variables_enabled, None).is_true();
        let lower = p.to_ascii_lowercase();
        some |= covers
            || lower.contains(":ecr:")
            || lower
                .split(':')
                .nth(2)
                .is_some_and(|s| s.contains('*') || s.contains('?'));
    }
    (all, some)
}

/// Does a Deny's Resource/NotResource surely cover this resource?
fn deny_covers(st: &Statement, resource: &str) -> bool {
    match &st.resource {
        None => true,
        Some(r) if resource == "*" => {
            // Registry-level actions are asked with `*`: a Resource covers
            // it only as `*`; a NotResource covers it unless it lists `*`.
            let star = r.patterns.iter().any(|p| p == "*");
            if r.negated {
                !star
            } else {
                star
            }
        }
        Some(r) => r.matches(resource, st.variables_enabled, None).is_true(),
    }
}

fn parse_all(
    policies: &[NamedPolicy],
    problems: &mut BTreeSet<String>,
) -> Vec<(String, PolicyDocument)> {
    let mut docs = Vec::new();
    for p in policies {
        match parse(p.text, PolicyKind::Identity) {
            Ok(doc) => {
                for u in doc.unsupported() {
                    problems.insert(format!("{}: {u}", p.name));
                }
                docs.push((p.name.clone(), doc));
            }
            Err(e) => {
                problems.insert(format!("{}: does not parse: {e}", p.name));
            }
        }
    }
    docs
}

/// Which ECR actions the documents allow, with `reach` choosing "every
/// repository" or "some repository" for Resource.
fn allowed_actions(
    docs: &[(String, PolicyDocument)],
    account: &str,
    every: bool,
    zone: &Zone,
) -> BTreeSet<&'static str> {
    let universe: Vec<&'static str> = actions::all().iter().map(|a| a.name).collect();
    let mut allowed = BTreeSet::new();
    let mut denied: BTreeSet<&'static str> = BTreeSet::new();
    for (_, doc) in docs {
        let decider = CedarDecider::new(doc, &universe);
        let frame = Frame::new(zone, doc);
        let allow_flags: Vec<bool> = doc
            .statements
            .iter()
            .map(|st| {
                let (all, some) = resource_reach(st, account);
                let reach = if every { all } else { some };
                let conditions = st.conditions.iter().all(|c| {
                    !(every && is_resource_key(&c.key.lower))
                        && attacker::condition_truth(c, &Class::Owner, &frame, st.variables_enabled)
                            .possible
                });
                // A statement the analysis cannot decide is ECR001's, not a
                // certain grant.
                st.effect == Effect::Allow
                    && reach
                    && conditions
                    && !super::statement_is_uncertain(st)
            })
            .collect();
        allowed.extend(decider.allowed(&allow_flags));
        // A Deny removes an action when it surely applies to it: its
        // conditions must hold, and its resource must cover every
        // repository ("some" question), or the repository no pattern names
        // ("every" question) — for actions on the registry, the `*`
        // resource they are asked with.
        for st in &doc.statements {
            if st.effect != Effect::Deny
                || !st.conditions.iter().all(|c| {
                    attacker::condition_truth(c, &Class::Owner, &frame, st.variables_enabled)
                        .necessary
                })
            {
                continue;
            }
            for a in actions::all() {
                if !actions::element_matches(&st.action, a.name) {
                    continue;
                }
                let applies = if a.scope != actions::ResourceScope::Repository {
                    deny_covers(st, "*")
                } else if every {
                    deny_covers(st, &fresh_repository_for("*", account))
                } else {
                    resource_reach(st, account).0
                };
                if applies {
                    denied.insert(a.name);
                }
            }
        }
    }
    allowed.retain(|a| !denied.contains(a));
    allowed
}

pub fn analyze_identity(
    policies: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    account: &str,
    zone: &Zone,
) -> IdentityAnalysis {
    let mut out = IdentityAnalysis::default();
    let docs = parse_all(policies, &mut out.problems);
    let boundary_docs = boundary.map(|b| parse_all(std::slice::from_ref(b), &mut out.problems));
    let within_boundary = |set: BTreeSet<&'static str>, every: bool| match &boundary_docs {
        Some(b) => {
            let limit = allowed_actions(b, account, every, zone);
            set.into_iter().filter(|a| limit.contains(a)).collect()
        }
        None => set,
    };
    let some = within_boundary(allowed_actions(&docs, account, false, zone), false);
    let every = within_boundary(allowed_actions(&docs, account, true, zone), true);
    // Importing through a pull-through cache writes only what the configured
    // upstream holds: not a push of the principal's own content.
    let class = |a: &&str| {
        actions::lookup(a)
            .filter(|x| x.name != IMPORT_UPSTREAM)
            .map(|x| x.class())
    };
    out.ecr_read = some
        .iter()
        .any(|a| class(a) == Some(ActionClass::Read) && *a != actions::GET_AUTHORIZATION_TOKEN);
    out.ecr_write = some.iter().any(|a| class(a) == Some(ActionClass::Write));
    out.ecr_permissions = some
        .iter()
        .any(|a| class(a) == Some(ActionClass::Permissions));
    out.auth_token = every.contains(actions::GET_AUTHORIZATION_TOKEN);
    out.write_all_repositories = every.iter().any(|a| {
        actions::lookup(a)
            .filter(|x| x.name != IMPORT_UPSTREAM)
            .is_some_and(|x| {
                x.scope == actions::ResourceScope::Repository
                    && matches!(x.class(), ActionClass::Write | ActionClass::Permissions)
            })
    });
    for (name, doc) in &docs {
        for st in &doc.statements {
            if st.effect != Effect::Allow {
                continue;
            }
            let (all, _) = resource_reach(st, account);
            let acts = actions::expand(&st.action);
            let grants_token = acts.iter().any(|a| a.is_auth_token());
            let repo_actions = acts
                .iter()
                .any(|a| a.scope == actions::ResourceScope::Repository);
            let star = st
                .resource
                .as_ref()
                .is_none_or(|r| r.negated || r.patterns.iter().any(|p| p == "*"));
            // Effective only: a grant a Deny cancels, or a statement the
            // analysis cannot decide, is not one.
            let grants_token = grants_token && every.contains(actions::GET_AUTHORIZATION_TOKEN);
            let repo_actions = repo_actions
                && acts.iter().any(|a| {
                    a.scope == actions::ResourceScope::Repository && some.contains(a.name)
                });
            if grants_token && repo_actions && star && !super::statement_is_uncertain(st) {
                out.auth_token_unscoped_statements
                    .insert(format!("{name} {}", st.reference()));
            }
            if grants_token && star && st.conditions.is_empty() {
                out.auth_token_unrestricted = true;
            }
            if out.write_all_repositories
                && all
                && acts.iter().any(|a| {
                    a.name != IMPORT_UPSTREAM
                        && a.scope == actions::ResourceScope::Repository
                        && matches!(a.class(), ActionClass::Write | ActionClass::Permissions)
                        && every.contains(a.name)
                })
            {
                out.write_all_statements
                    .insert(format!("{name} {}", st.reference()));
            }
        }
    }
    out.auth_token_unrestricted &= out.auth_token;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> Zone {
        Zone {
            owner: "111122223333".into(),
            accounts: ["111122223333".to_string()].into(),
            org_id: Some("o-ours".into()),
            time: None,
        }
    }

    #[test]
    fn github_trust_with_and_without_subject() {
        let base = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}COND}}]}"#;
        let none = analyze_trust_policy(
            &base.replace("COND", ""),
            "arn:aws:iam::111122223333:role/r",
            &zone(),
        );
        assert!(none
            .web_identity_without_subject
            .contains("token.actions.githubusercontent.com"));
        let pinned = base.replace(
            "COND",
            r#","StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app:*"}"#,
        );
        let pinned = analyze_trust_policy(&pinned, "arn:aws:iam::111122223333:role/r", &zone());
        assert!(pinned.web_identity_without_subject.is_empty());
        let loose = base.replace(
            "COND",
            r#","StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}"#,
        );
        let loose = analyze_trust_policy(&loose, "arn:aws:iam::111122223333:role/r", &zone());
        assert!(!loose.web_identity_without_subject.is_empty());
    }

    #[test]
    fn trust_from_outside() {
        let t = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}}"#;
        let a = analyze_trust_policy(t, "arn:aws:iam::111122223333:role/r", &zone());
        assert_eq!(
            a.assumable_from_outside,
            ["999988887777".to_string()].into()
        );
        let t = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-ours"}}}}"#;
        let a = analyze_trust_policy(t, "arn:aws:iam::111122223333:role/r", &zone());
        assert!(a.assumable_from_outside.is_empty(), "{a:?}");
    }

    #[test]
    fn identity_scoping() {
        let power = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:PutImage","ecr:InitiateLayerUpload"],"Resource":"*"}]}"#;
        let a = analyze_identity(
            &[NamedPolicy {
                name: "PowerUser".into(),
                text: power,
            }],
            None,
            "111122223333",
            &zone(),
        );
        assert!(a.write_all_repositories && a.ecr_write && a.auth_token);
        assert_eq!(a.auth_token_unscoped_statements.len(), 1);
        let scoped = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},{"Effect":"Allow","Action":["ecr:PutImage","ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team-a/*"}]}"#;
        let a = analyze_identity(
            &[NamedPolicy {
                name: "Scoped".into(),
                text: scoped,
            }],
            None,
            "111122223333",
            &zone(),
        );
        assert!(a.ecr_write && !a.write_all_repositories && a.auth_token);
        assert!(a.auth_token_unscoped_statements.is_empty());
        // A boundary that allows only pulls removes the writes.
        let boundary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage"],"Resource":"*"}]}"#;
        let b = NamedPolicy {
            name: "Boundary".into(),
            text: boundary,
        };
        let a = analyze_identity(
            &[NamedPolicy {
                name: "PowerUser".into(),
                text: power,
            }],
            Some(&b),
            "111122223333",
            &zone(),
        );
        assert!(!a.ecr_write && !a.write_all_repositories && a.ecr_read);
    }
}
