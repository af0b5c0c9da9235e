//! Effective access: who — anyone, named outside accounts or organizations,
//! the organization, the owner, AWS services — can do what (read, write,
//! change permissions) to a repository or registry, and under which
//! remaining conditions.
//!
//! How a question is decided: for each class of principal, every statement's
//! principal, resource and condition parts are valued by the attacker model
//! ([`attacker`]): an Allow statement counts when its parts *can* all hold for
//! some member of the class, a Deny only when they *must* hold for every
//! member. That over-approximates what an outsider can do, never the reverse,
//! so a missed public grant would need a bug, not a guess. The statements are
//! then normalized into a Cedar policy set (one `permit`/`forbid` per
//! statement, the action element as a Cedar action scope, the valued parts as
//! a context flag) and the Cedar authorizer decides each action: Cedar's
//! deny-overrides combination is IAM's.

pub mod attacker;
pub mod identity;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, RestrictedExpression,
};
use serde::Serialize;

use crate::model::{AccessFacts, PolicyFacts};
use crate::policy::actions::{self, ActionClass, EcrAction, ResourceScope};
use crate::policy::pattern::resource_matches;
use crate::policy::{
    parse, Effect, PolicyDocument, PolicyKind, Principal, PrincipalElement, Statement,
};
pub use attacker::{Class, Truth, Zone};

/// The class name of "some AWS service", which `Principal: "*"` admits.
pub const ANY_SERVICE: &str = "*";

/// What a resource policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Repository,
    Registry,
}

/// What one class of principal can do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub class: String,
    pub outside: bool,
    pub reach: Reach,
    pub read: bool,
    pub write: bool,
    pub permissions: bool,
    pub actions: BTreeSet<&'static str>,
    /// The actions granted for certain (no undecidable construct involved).
    pub certain_actions: BTreeSet<&'static str>,
    /// Conditions the class must still satisfy (it can).
    pub conditions: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceAnalysis {
    pub policy: PolicyFacts,
    pub access: AccessFacts,
    pub grants: Vec<Grant>,
}

/// The widest class of principal with some access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    None,
    OwnerOnly,
    OrgOnly,
    External,
    Public,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::None => "none",
            Reach::OwnerOnly => "owner-only",
            Reach::OrgOnly => "org-only",
            Reach::External => "external",
            Reach::Public => "public",
        }
    }

    fn of(class: &Class) -> Reach {
        match class {
            Class::Anyone => Reach::Public,
            Class::Account(_) | Class::Org(_) | Class::UserId(_) => Reach::External,
            Class::ZoneAccount(_) | Class::OrgMember => Reach::OrgOnly,
            Class::Owner => Reach::OwnerOnly,
            // An unnamed service (admitted by Principal "*") for anyone is
            // anyone; a named one reaches as far as the party it acts for,
            // and for anyone that is the confused deputy (ECR105).
            Class::Service(s, party) if s == ANY_SERVICE => Reach::of(party),
            Class::Service(_, party) if **party == Class::Anyone => Reach::External,
            Class::Service(_, party) => Reach::of(party),
            // Web identities are judged by their own rules.
            Class::WebIdentity(_) => Reach::None,
        }
    }
}

impl ResourceAnalysis {
    /// Widest reach for reading, and for writing or changing permissions.
    pub fn reach(&self) -> (Reach, Reach) {
        let mut read = Reach::None;
        let mut write = Reach::None;
        for g in &self.grants {
            let r = g.reach;
            if g.read {
                read = read.max(r);
            }
            if g.write || g.permissions {
                write = write.max(r);
            }
        }
        (read, write)
    }
}

/// The truth of a Principal/NotPrincipal element for a class.
fn principal_truth(element: Option<&PrincipalElement>, class: &Class, zone: &Zone) -> Truth {
    let Some(element) = element else {
        // No Principal: identity policy, applies to its holder.
        return Truth::ALWAYS;
    };
    let entry_truth = |p: &Principal| -> Truth {
        match (p, class) {
            (Principal::AnyAws, Class::Service(s, _)) if s == ANY_SERVICE => Truth::ALWAYS,
            (Principal::AnyAws, Class::Service(..) | Class::WebIdentity(_)) => Truth::CHOSEN,
            (Principal::AnyAws, _) => Truth::ALWAYS,
            (Principal::Account(a), Class::OrgMember) => {
                if zone.contains_account(a) && *a != zone.owner {
                    Truth::CHOSEN
                } else {
                    Truth::NEVER
                }
            }
            (Principal::Account(a), c) => match c.account(zone) {
                Some(acct) if acct == a => Truth::ALWAYS,
                _ => Truth::NEVER,
            },
            (Principal::Iam(arn), Class::OrgMember) => {
                if zone.contains_account(&arn.account) && arn.account != zone.owner {
                    Truth::CHOSEN
                } else {
                    Truth::NEVER
                }
            }
            (Principal::Iam(arn), c) => match c.account(zone) {
                Some(acct) if acct == arn.account => Truth::CHOSEN,
                _ => Truth::NEVER,
            },
            (Principal::Service(s), Class::Service(t, _)) if s.eq_ignore_ascii_case(t) => {
                Truth::ALWAYS
            }
            (Principal::Federated(p), Class::WebIdentity(q)) if p == q => Truth::ALWAYS,
            (Principal::Service(_) | Principal::Federated(_), _) => Truth::NEVER,
            // A unique id left behind by a deleted principal names nobody.
            (Principal::UniqueId(_), _) => Truth::NEVER,
            // Not understood: it may name any principal of the account its
            // ARN shows, or anyone when none shows.
            (Principal::Unrecognized(raw), c) => match raw
                .split(':')
                .nth(4)
                .filter(|a| is_account(a))
            {
                Some(a) => match c.account(zone) {
                    Some(acct) if acct == a => Truth::CHOSEN,
                    _ if *c == Class::OrgMember && zone.contains_account(a) && a != zone.owner => {
                        Truth::CHOSEN
                    }
                    _ => Truth::NEVER,
                },
                None => Truth::CHOSEN,
            },
            (Principal::CanonicalUser(_), _) => Truth::CHOSEN,
        }
    };
    let any_possible = element
        .entries
        .iter()
        .any(|e| entry_truth(&e.principal).possible);
    let any_necessary = element
        .entries
        .iter()
        .any(|e| entry_truth(&e.principal).necessary);
    if element.negated {
        // NotPrincipal applies to whoever is not listed: a class escapes it
        // only if every member is listed, and is caught by it only if no
        // member can be listed.
        Truth {
            possible: !any_necessary,
            necessary: !any_possible,
        }
    } else {
        Truth {
            possible: any_possible,
            necessary: any_necessary,
        }
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn resource_truth(st: &Statement, arn: &str) -> Truth {
    match &st.resource {
        None => Truth::ALWAYS,
        Some(r) => Truth::from_tri(resource_matches(r, arn, st.variables_enabled, None)),
    }
}

/// Every part but the action of a statement, for a class.
pub(crate) fn statement_truth(
    st: &Statement,
    class: &Class,
    zone: &Zone,
    arn: &str,
) -> StatementTruth {
    let mut truth =
        principal_truth(st.principal.as_ref(), class, zone).and(resource_truth(st, arn));
    let mut residual = Vec::new();
    for c in &st.conditions {
        let t = attacker::condition_truth(c, class, zone, st.variables_enabled);
        if t.possible && !t.necessary {
            residual.push(describe_condition(c));
        }
        truth = truth.and(t);
    }
    StatementTruth {
        truth,
        residual,
        uncertain: statement_is_uncertain(st),
    }
}

pub(crate) struct StatementTruth {
    pub truth: Truth,
    /// Conditions the class can satisfy but need not.
    pub residual: Vec<String>,
    /// The statement holds a construct the analysis cannot decide: its grant
    /// is an upper bound, reported as ECR001 rather than as certain access.
    pub uncertain: bool,
}

pub(crate) fn statement_is_uncertain(st: &Statement) -> bool {
    st.conditions
        .iter()
        .any(|c| c.operator.known().is_none() || !c.malformed_values().is_empty())
        || st.principal.as_ref().is_some_and(|p| {
            p.entries.iter().any(|e| {
                matches!(
                    e.principal,
                    Principal::Unrecognized(_) | Principal::CanonicalUser(_)
                )
            })
        })
}

pub fn describe_condition(c: &crate::policy::Condition) -> String {
    let values: Vec<&str> = c.values.iter().map(|v| v.value.as_str()).collect();
    format!("{} {} {}", c.operator, c.key.raw, values.join(" | "))
}

/// The classes worth asking about for a document.
pub(crate) fn classes(doc: &PolicyDocument, zone: &Zone) -> BTreeSet<Class> {
    let mut direct: BTreeSet<Class> = [Class::Anyone, Class::Owner].into();
    if zone.org_id.is_some() || zone.accounts.iter().any(|a| *a != zone.owner) {
        direct.insert(Class::OrgMember);
    }
    let mut services = BTreeSet::new();
    let mut out = BTreeSet::new();
    for st in &doc.statements {
        if let Some(p) = &st.principal {
            for e in &p.entries {
                match &e.principal {
                    Principal::Account(a) => {
                        direct.insert(attacker::account_class(a, zone));
                    }
                    Principal::Iam(arn) => {
                        direct.insert(attacker::account_class(&arn.account, zone));
                    }
                    Principal::Unrecognized(raw) => {
                        if let Some(a) = raw.split(':').nth(4).filter(|a| is_account(a)) {
                            direct.insert(attacker::account_class(a, zone));
                        }
                    }
                    Principal::Service(s) => {
                        services.insert(s.to_ascii_lowercase());
                    }
                    Principal::Federated(f) => {
                        out.insert(Class::WebIdentity(f.clone()));
                    }
                    Principal::AnyAws => {
                        services.insert(ANY_SERVICE.to_string());
                    }
                    _ => {}
                }
            }
        }
        for c in &st.conditions {
            attacker::named_classes(c, zone, &mut direct);
        }
    }
    // A service acts for whoever asks it, or for a party the conditions
    // name: ask about each.
    for s in services {
        for party in &direct {
            out.insert(Class::Service(s.clone(), Box::new(party.clone())));
        }
    }
    out.extend(direct);
    out
}

/// The actions a statement's Action element covers, among `universe`.
fn covered<'a>(st: &Statement, universe: &[&'a str]) -> Vec<&'a str> {
    universe
        .iter()
        .copied()
        .filter(|a| actions::element_matches(&st.action, a))
        .collect()
}

fn cedar_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The statements as a Cedar policy set: the action element is the action
/// scope; everything else is the context flag `s<i>`, valued per class.
pub struct CedarDecider {
    set: PolicySet,
    statements: usize,
    /// One representative per group of actions every statement treats alike.
    representatives: Vec<(&'static str, Vec<&'static str>)>,
}

impl CedarDecider {
    pub fn new(doc: &PolicyDocument, universe: &[&'static str]) -> CedarDecider {
        let mut text = String::new();
        let mut signature: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        for (i, st) in doc.statements.iter().enumerate() {
            let acts = covered(st, universe);
            for a in &acts {
                signature.entry(a).or_default().push(i);
            }
            if acts.is_empty() {
                continue;
            }
            let effect = match st.effect {
                Effect::Allow => "permit",
                Effect::Deny => "forbid",
            };
            let list: Vec<String> = acts
                .iter()
                .map(|a| format!("Iam::Action::\"{}\"", cedar_string(a)))
                .collect();
            text.push_str(&format!(
                "@statement(\"{}\")\n{effect} (principal, action in [{}], resource)\nwhen {{ context.s{i} }};\n",
                i + 1,
                list.join(", ")
            ));
        }
        let set = PolicySet::from_str(&text).expect("generated Cedar parses");
        let mut groups: BTreeMap<Vec<usize>, Vec<&'static str>> = BTreeMap::new();
        for a in universe {
            if let Some(sig) = signature.get(a) {
                groups.entry(sig.clone()).or_default().push(a);
            }
        }
        let representatives = groups.into_values().map(|g| (g[0], g)).collect();
        CedarDecider {
            set,
            statements: doc.statements.len(),
            representatives,
        }
    }

    /// The actions allowed given each statement's flag.
    pub fn allowed(&self, flags: &[bool]) -> BTreeSet<&'static str> {
        let pairs = (0..self.statements)
            .map(|i| (format!("s{i}"), RestrictedExpression::new_bool(flags[i])));
        let context = Context::from_pairs(pairs).expect("flags are booleans");
        let principal = EntityUid::from_str(r#"Iam::Class::"asked""#).expect("static uid");
        let resource = EntityUid::from_str(r#"Iam::Resource::"target""#).expect("static uid");
        let authorizer = Authorizer::new();
        let mut out = BTreeSet::new();
        for (rep, group) in &self.representatives {
            let action = EntityUid::from_str(&format!("Iam::Action::\"{}\"", cedar_string(rep)))
                .expect("action uid");
            let request = Request::new(
                principal.clone(),
                action,
                resource.clone(),
                context.clone(),
                None,
            )
            .expect("no schema: request builds");
            if authorizer
                .is_authorized(&request, &self.set, &Entities::empty())
                .decision()
                == Decision::Allow
            {
                out.extend(group.iter().copied());
            }
        }
        out
    }
}

fn universe(target: Target) -> Vec<&'static str> {
    actions::all()
        .iter()
        .filter(|a| target == Target::Registry || a.scope == ResourceScope::Repository)
        .map(|a| a.name)
        .collect()
}

fn class_of(name: &str) -> Option<ActionClass> {
    actions::lookup(name).map(EcrAction::class)
}

pub fn policy_problems(doc: &PolicyDocument) -> BTreeSet<String> {
    doc.unsupported().iter().map(|u| u.to_string()).collect()
}

/// Analyses one repository or registry policy as attached to `resource_arn`.
pub fn analyze_resource_policy(
    text: &str,
    target: Target,
    resource_arn: &str,
    zone: &Zone,
) -> ResourceAnalysis {
    let doc = match parse(text, PolicyKind::Resource) {
        Ok(doc) => doc,
        Err(e) => {
            return ResourceAnalysis {
                policy: PolicyFacts {
                    present: true,
                    analyzable: false,
                    problems: [format!("the policy does not parse: {e}")].into(),
                },
                access: AccessFacts::default(),
                grants: vec![],
            }
        }
    };
    analyze_resource_document(&doc, target, resource_arn, zone)
}

pub fn analyze_resource_document(
    doc: &PolicyDocument,
    target: Target,
    resource_arn: &str,
    zone: &Zone,
) -> ResourceAnalysis {
    let problems = policy_problems(doc);
    let universe = universe(target);
    let decider = CedarDecider::new(doc, &universe);
    let mut access = AccessFacts::default();
    let mut grants = Vec::new();
    let classes = classes(doc, zone);
    for class in &classes {
        let mut bound = Vec::with_capacity(doc.statements.len());
        let mut certain = Vec::with_capacity(doc.statements.len());
        let mut residual: BTreeSet<String> = BTreeSet::new();
        for st in &doc.statements {
            let t = statement_truth(st, class, zone, resource_arn);
            let (b, c) = match st.effect {
                Effect::Allow => (t.truth.possible, t.truth.possible && !t.uncertain),
                Effect::Deny => (t.truth.necessary, t.truth.necessary),
            };
            bound.push(b);
            certain.push(c);
            if st.effect == Effect::Allow && t.truth.possible {
                residual.extend(t.residual);
            }
        }
        // The upper bound describes the grant; only certain access raises
        // the access rules (an uncertain one raises ECR001).
        let allowed = decider.allowed(&bound);
        if allowed.is_empty() {
            continue;
        }
        let sure = if certain == bound {
            allowed.clone()
        } else {
            decider.allowed(&certain)
        };
        // On a registry, repository access and the registry's own actions
        // (replication, create, pull-through import) are told apart.
        let sure_has = |c: ActionClass| {
            sure.iter().any(|a| {
                class_of(a) == Some(c)
                    && actions::lookup(a).is_some_and(|x| x.scope == ResourceScope::Repository)
                    && !(target == Target::Registry && actions::REGISTRY_POLICY_ACTIONS.contains(a))
            })
        };
        let has = |c: ActionClass| allowed.iter().any(|a| class_of(a) == Some(c));
        let grant = Grant {
            class: class.label(),
            outside: class.is_outside(),
            reach: Reach::of(class),
            read: has(ActionClass::Read),
            write: has(ActionClass::Write),
            permissions: has(ActionClass::Permissions),
            actions: allowed.clone(),
            certain_actions: sure.clone(),
            conditions: residual,
        };
        let (read, writes) = (
            sure_has(ActionClass::Read),
            sure_has(ActionClass::Write) || sure_has(ActionClass::Permissions),
        );
        match class {
            Class::Anyone => {
                access.public_read |= read;
                access.public_write |= writes;
            }
            Class::Service(s, party) if s == ANY_SERVICE && **party == Class::Anyone => {
                access.public_read |= read;
                access.public_write |= writes;
            }
            Class::Service(s, party) if **party == Class::Anyone && !sure.is_empty() => {
                access.unscoped_services.insert(s.clone());
            }
            Class::Service(..) if class.is_outside() => {
                if read {
                    access.external_read.insert(grant.class.clone());
                }
                if writes {
                    access.external_write.insert(grant.class.clone());
                }
            }
            c if c.is_outside() => {
                if read {
                    access.external_read.insert(grant.class.clone());
                }
                if writes {
                    access.external_write.insert(grant.class.clone());
                }
            }
            _ => {}
        }
        if class.is_outside() && !sure.is_empty() {
            access.conditions.extend(grant.conditions.iter().cloned());
            if target == Target::Registry {
                let registry_actions: Vec<String> = sure
                    .iter()
                    .filter(|a| actions::REGISTRY_POLICY_ACTIONS.contains(a))
                    .map(|a| a.to_string())
                    .collect();
                if !registry_actions.is_empty() {
                    access
                        .outside_registry_principals
                        .insert(grant.class.clone());
                }
                access.outside_registry_actions.extend(registry_actions);
            }
        }
        grants.push(grant);
    }
    for st in &doc.statements {
        if st.effect != Effect::Allow {
            continue;
        }
        if st.is_allow_not_principal() {
            access
                .not_principal_statements
                .insert(st.reference().to_string());
        }
        if target == Target::Repository
            && st.action.patterns.iter().any(|p| {
                !st.action.negated && p.eq_ignore_ascii_case(actions::GET_AUTHORIZATION_TOKEN)
            })
        {
            access
                .auth_token_statements
                .insert(st.reference().to_string());
        }
        // ecr:*, * or NotAction granted to anyone but the owner.
        if st.action.negated || actions::covers_all_ecr(&st.action) {
            for class in &classes {
                if *class == Class::Owner {
                    continue;
                }
                let t = statement_truth(st, class, zone, resource_arn);
                if t.truth.possible && !t.uncertain {
                    access.wildcard_actions_to.insert(class.label());
                }
            }
        }
    }
    ResourceAnalysis {
        policy: PolicyFacts {
            present: true,
            analyzable: problems.is_empty(),
            problems,
        },
        access,
        grants,
    }
}
