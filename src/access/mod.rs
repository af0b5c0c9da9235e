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
pub mod facts;
pub mod forge;
pub mod identity;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, RestrictedExpression,
};
use serde::Serialize;

use crate::policy::actions::{self, ActionClass, EcrAction, ResourceScope};
use crate::policy::presence;
use crate::policy::{
    parse, Effect, PolicyDocument, PolicyKind, Principal, PrincipalElement, Statement,
};
pub use attacker::{is_witness_account, witness_accounts, Class, Frame, Truth, Zone};
pub use facts::{AccessFacts, PolicyFacts};

/// The class name of "some AWS service", which `Principal: "*"` admits.
pub const ANY_SERVICE: &str = "*";

/// What a resource policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Repository,
    /// A registry policy and the scope (account setting
    /// `REGISTRY_POLICY_SCOPE`) that decides which actions it governs.
    Registry(RegistryScope),
}

impl Target {
    pub fn is_registry(self) -> bool {
        matches!(self, Target::Registry(_))
    }
}

/// Which actions a registry policy governs ("Private registry permissions
/// in Amazon ECR", Amazon ECR User Guide): V1 only replication
/// (`ecr:ReplicateImage`), pull-through import (`ecr:BatchImportUpstreamImage`)
/// and `ecr:CreateRepository`; V2, the default, every ECR action, enforced
/// on every ECR request in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryScope {
    V1,
    #[default]
    V2,
}

impl RegistryScope {
    /// The account setting's value ("V1", "V2"); `None` for anything else.
    pub fn parse(value: &str) -> Option<RegistryScope> {
        match value.trim().to_ascii_uppercase().as_str() {
            "V1" => Some(RegistryScope::V1),
            "V2" => Some(RegistryScope::V2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegistryScope::V1 => "V1",
            RegistryScope::V2 => "V2",
        }
    }
}

/// What one class of principal can do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub class: Class,
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

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
        // NotPrincipal applies to a request when some identity of the
        // caller's chain is not listed: listing an account (or a role)
        // exempts that identity alone, not the users and sessions under it,
        // which name themselves too. So a class escapes it entirely only if
        // `*` is listed; it is caught by it for certain only if no member
        // can be listed.
        let star_listed = element
            .entries
            .iter()
            .any(|e| matches!(e.principal, Principal::AnyAws));
        Truth {
            possible: !star_listed && (!any_necessary || class_has_sub_identities(class)),
            necessary: !any_possible,
        }
    } else {
        Truth {
            possible: any_possible,
            necessary: any_necessary,
        }
    }
}

/// A class whose members include principals with their own identities
/// below the account (users, roles, role sessions).
fn class_has_sub_identities(class: &Class) -> bool {
    matches!(
        class,
        Class::Anyone
            | Class::Account(_)
            | Class::ZoneAccount(_)
            | Class::OrgMember
            | Class::Owner
            | Class::Org(_)
            | Class::UserId(_)
    )
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Every part but the action of a statement, for a class.
pub(crate) fn statement_truth(
    st: &Statement,
    class: &Class,
    frame: &Frame,
    arn: &str,
) -> StatementTruth {
    let mut truth = principal_truth(st.principal.as_ref(), class, frame.zone);
    let mut undecided = Vec::new();
    if let Some(r) = &st.resource {
        let j = attacker::resource_truth(r, arn, class, frame, st.variables_enabled);
        truth = truth.and(j.truth);
        undecided.extend(j.undecided);
    }
    let mut residual = Vec::new();
    for (i, c) in st.conditions.iter().enumerate() {
        let j = attacker::judge_condition(c, class, frame, st.variables_enabled);
        if j.truth.possible && !j.truth.necessary {
            residual.push(i);
        }
        truth = truth.and(j.truth);
        undecided.extend(j.undecided);
    }
    StatementTruth {
        truth,
        residual,
        uncertain: statement_is_uncertain(st) || !undecided.is_empty(),
        undecided,
    }
}

pub(crate) struct StatementTruth {
    pub truth: Truth,
    /// Conditions (indexes into the statement's) the class can satisfy but
    /// need not; described only when a grant is reported.
    pub residual: Vec<usize>,
    /// The statement holds a construct the analysis cannot decide: its grant
    /// is an upper bound, reported as ECR001 rather than as certain access.
    pub uncertain: bool,
    /// Why, for the parts decided only for this class.
    pub undecided: Vec<String>,
}

pub(crate) fn statement_is_uncertain(st: &Statement) -> bool {
    !st.odd_shapes.is_empty()
        || st
            .conditions
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
    // Every account id written in a principal or condition is a party.
    let named = crate::policy::document_accounts(doc);
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
    for a in &named {
        direct.insert(attacker::account_class(a, zone));
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

/// The statements as a Cedar policy set: the action element is the action
/// scope; everything else is the context flag `s<i>`, valued per class.
#[derive(Clone)]
pub struct CedarDecider {
    core: Arc<DeciderCore>,
    /// One representative per group of actions every statement treats alike.
    representatives: Arc<[(&'static str, Vec<&'static str>)]>,
}

/// A decider's Cedar policy set and the decisions put to it: shared by
/// every decider with the same text (see [`decider_core`]).
struct DeciderCore {
    set: PolicySet,
    /// The representatives the text names (no other is ever allowed).
    named: Vec<&'static str>,
    /// The representatives allowed, by the statements' flags.
    decisions: Mutex<HashMap<Vec<bool>, Arc<BTreeSet<&'static str>>>>,
}

impl CedarDecider {
    /// The decider of a document's statements over these actions. It
    /// depends only on each statement's effect and action element, and
    /// documents that differ in principals, resources or conditions share
    /// it: built once per distinct set (matching every action of the
    /// universe against every pattern is most of what building costs).
    pub fn new(doc: &PolicyDocument, universe: &[&'static str]) -> CedarDecider {
        kept_or_built(&DECIDERS, decider_key(doc, universe), || {
            CedarDecider::build(doc, universe)
        })
    }

    // PANIC SAFETY: the Cedar text is generated from static action names and statement indexes.
    #[allow(clippy::expect_used)]
    fn build(doc: &PolicyDocument, universe: &[&'static str]) -> CedarDecider {
        let covered_by: Vec<Vec<&'static str>> = doc
            .statements
            .iter()
            .map(|st| covered(st, universe))
            .collect();
        let mut signature: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        for (i, acts) in covered_by.iter().enumerate() {
            for a in acts {
                signature.entry(a).or_default().push(i);
            }
        }
        let mut groups: BTreeMap<Vec<usize>, Vec<&'static str>> = BTreeMap::new();
        for a in universe {
            if let Some(sig) = signature.get(a) {
                groups.entry(sig.clone()).or_default().push(a);
            }
        }
        let representatives: Vec<(&'static str, Vec<&'static str>)> =
            groups.into_values().map(|g| (g[0], g)).collect();
        // Only representatives are ever asked about, so each statement's
        // action scope lists the representatives it covers: a statement
        // covers a representative exactly when it covers its whole group.
        // The sets Cedar builds per request stay a few entries long.
        let mut text = String::new();
        let mut named: BTreeSet<&'static str> = BTreeSet::new();
        for (i, (st, acts)) in doc.statements.iter().zip(&covered_by).enumerate() {
            let list: Vec<String> = representatives
                .iter()
                .filter(|(rep, _)| acts.contains(rep))
                .map(|(rep, _)| {
                    named.insert(rep);
                    format!("Iam::Action::{}", crate::cedar::lit(rep))
                })
                .collect();
            if list.is_empty() {
                continue;
            }
            let effect = match st.effect {
                Effect::Allow => "permit",
                Effect::Deny => "forbid",
            };
            text.push_str(&format!(
                "@statement(\"{}\")\n{effect} (principal, action in [{}], resource)\nwhen {{ context.s{i} }};\n",
                i + 1,
                list.join(", ")
            ));
        }
        CedarDecider {
            core: decider_core(text, named.into_iter().collect()),
            representatives: representatives.into(),
        }
    }

    /// The actions allowed given each statement's flag.
    pub fn allowed(&self, flags: &[bool]) -> BTreeSet<&'static str> {
        let allowed = self.core.allowed(flags);
        self.representatives
            .iter()
            .filter(|(rep, _)| allowed.contains(rep))
            .flat_map(|(_, group)| group.iter().copied())
            .collect()
    }
}

impl DeciderCore {
    /// The representatives allowed given each statement's flag. Many
    /// classes of principal give the same flags (every outsider a statement
    /// does not name), and many documents the same text, so each distinct
    /// flag vector is put to Cedar once per text.
    fn allowed(&self, flags: &[bool]) -> Arc<BTreeSet<&'static str>> {
        let decisions = || {
            self.decisions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(hit) = decisions().get(flags) {
            return Arc::clone(hit);
        }
        let decided = Arc::new(self.decide(flags));
        decisions().insert(flags.to_vec(), Arc::clone(&decided));
        decided
    }

    // PANIC SAFETY: static entity names; the context holds booleans only.
    #[allow(clippy::expect_used)]
    fn decide(&self, flags: &[bool]) -> BTreeSet<&'static str> {
        let pairs = flags
            .iter()
            .enumerate()
            .map(|(i, flag)| (format!("s{i}"), RestrictedExpression::new_bool(*flag)));
        let context = Context::from_pairs(pairs).expect("flags are booleans");
        static PRINCIPAL: OnceLock<EntityUid> = OnceLock::new();
        static RESOURCE: OnceLock<EntityUid> = OnceLock::new();
        let principal = PRINCIPAL
            .get_or_init(|| EntityUid::from_str(r#"Iam::Class::"asked""#).expect("static uid"))
            .clone();
        let resource = RESOURCE
            .get_or_init(|| EntityUid::from_str(r#"Iam::Resource::"target""#).expect("static uid"))
            .clone();
        let authorizer = Authorizer::new();
        let mut out = BTreeSet::new();
        for rep in &self.named {
            let action = action_uid(rep);
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
                out.insert(*rep);
            }
        }
        out
    }
}

/// `Iam::Action::"<name>"` without parsing it (Cedar parses names with its
/// full grammar).
// PANIC SAFETY: a static, valid type name.
#[allow(clippy::expect_used)]
fn action_uid(name: &str) -> EntityUid {
    static ACTION_TYPE: OnceLock<cedar_policy::EntityTypeName> = OnceLock::new();
    let action_type = ACTION_TYPE
        .get_or_init(|| cedar_policy::EntityTypeName::from_str("Iam::Action").expect("static type"))
        .clone();
    EntityUid::from_type_name_and_id(action_type, cedar_policy::EntityId::new(name))
}

/// Deciders by [`decider_key`].
static DECIDERS: OnceLock<Mutex<HashMap<String, CedarDecider>>> = OnceLock::new();

/// What a decider is built from: the universe's actions, then each
/// statement's effect and action element, every pattern prefixed by its
/// length (patterns may hold any character).
fn decider_key(doc: &PolicyDocument, universe: &[&'static str]) -> String {
    let mut key = String::new();
    for action in universe {
        key.push_str(&format!("{}:{action}", action.len()));
    }
    for st in &doc.statements {
        key.push(match st.effect {
            Effect::Allow => 'A',
            Effect::Deny => 'D',
        });
        key.push(if st.action.negated { 'N' } else { 'P' });
        key.push_str(&format!("{}", st.action.patterns.len()));
        for pattern in &st.action.patterns {
            key.push_str(&format!(":{}:{pattern}", pattern.len()));
        }
    }
    key
}

/// Decider cores by their text. The text holds only each statement's effect
/// and the actions it covers (not its principals, resources or conditions,
/// which are the flags), so an organization's thousands of documents make a
/// few dozen texts: each is parsed once, and each of its decisions is put
/// to Cedar once.
static DECIDER_CORES: OnceLock<Mutex<HashMap<String, Arc<DeciderCore>>>> = OnceLock::new();
/// Bounds on what the decider caches keep: a hostile document's huge text
/// is built from, not kept.
const DECIDER_CACHE_ENTRIES: usize = 4096;
const DECIDER_CACHE_TEXT_BYTES: usize = 16 * 1024;

/// The value a cache keeps for `key`, or one built (outside the lock) and
/// kept while the cache is within its bounds.
fn kept_or_built<V: Clone>(
    cache: &OnceLock<Mutex<HashMap<String, V>>>,
    key: String,
    build: impl FnOnce() -> V,
) -> V {
    let cache = cache.get_or_init(|| Mutex::new(HashMap::new()));
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(kept) = lock().get(&key) {
        return kept.clone();
    }
    let built = build();
    if key.len() <= DECIDER_CACHE_TEXT_BYTES {
        let mut cache = lock();
        if cache.len() < DECIDER_CACHE_ENTRIES {
            cache.insert(key, built.clone());
        }
    }
    built
}

// PANIC SAFETY: the Cedar text is generated from static action names and statement indexes.
#[allow(clippy::expect_used)]
fn decider_core(text: String, named: Vec<&'static str>) -> Arc<DeciderCore> {
    let set = || PolicySet::from_str(&text).expect("generated Cedar parses");
    kept_or_built(&DECIDER_CORES, text.clone(), || {
        Arc::new(DeciderCore {
            set: set(),
            named,
            decisions: Mutex::new(HashMap::new()),
        })
    })
}

/// The actions a policy attached to `target` can govern.
fn universe(target: Target) -> Vec<&'static str> {
    match target {
        Target::Registry(RegistryScope::V1) => actions::REGISTRY_POLICY_ACTIONS.to_vec(),
        _ => actions::all()
            .iter()
            .filter(|a| target.is_registry() || a.scope == ResourceScope::Repository)
            .map(|a| a.name)
            .collect(),
    }
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
    let frame = Frame::new(zone, doc);
    // A time condition may open access later: ask at each moment the
    // document's dates make different, after the reference time.
    let later = frame
        .time
        .map(|now| later_times(doc, now))
        .unwrap_or_default();
    analyze_at(doc, target, resource_arn, &frame, &later)
}

/// Who gets what through which statements and conditions, for a message:
/// "999988887777 (read) via statement 1 (Sid Partner) when StringEquals
/// aws:PrincipalAccount 999988887777".
fn granted_by(
    label: &str,
    sure: &BTreeSet<&'static str>,
    doc: &PolicyDocument,
    granting: &BTreeSet<usize>,
    sparing: &BTreeSet<usize>,
) -> String {
    let mut parts = Vec::new();
    for &i in granting {
        let st = &doc.statements[i];
        let conditions: Vec<String> = st.conditions.iter().map(describe_condition).collect();
        parts.push(if conditions.is_empty() {
            format!("{} unconditionally", st.reference())
        } else {
            format!("{} when {}", st.reference(), conditions.join(" and "))
        });
    }
    for &i in sparing {
        parts.push(format!(
            "not denied by {} (Deny)",
            doc.statements[i].reference()
        ));
    }
    format!("{label} ({}) via {}", access_words(sure), parts.join("; "))
}

/// "read, write" for a set of actions.
fn access_words(acts: &BTreeSet<&'static str>) -> String {
    let mut words = Vec::new();
    for (class, word) in [
        (ActionClass::Read, "read"),
        (ActionClass::Write, "write"),
        (ActionClass::Permissions, "change permissions"),
    ] {
        if acts.iter().any(|a| class_of(a) == Some(class)) {
            words.push(word);
        }
    }
    words.join(", ")
}

/// Keys named in the document whose time conditions compare: the moments
/// after `now` at which a time condition can change its answer.
fn later_times(doc: &PolicyDocument, now: i64) -> Vec<i64> {
    let mut times = BTreeSet::new();
    for st in &doc.statements {
        for c in &st.conditions {
            if !matches!(c.key.lower.as_str(), "aws:currenttime" | "aws:epochtime") {
                continue;
            }
            for v in &c.values {
                if let Some(ns) = crate::policy::condition::parse_date(&v.value) {
                    let secs = i64::try_from(ns.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
                    for t in [secs, secs.saturating_add(1)] {
                        if t > now {
                            times.insert(t);
                        }
                    }
                }
            }
        }
    }
    times.into_iter().take(32).collect()
}

/// Keys of the document whose presence depends on the action.
fn governed_keys(doc: &PolicyDocument) -> BTreeSet<String> {
    doc.statements
        .iter()
        .flat_map(|st| st.conditions.iter())
        .map(|c| c.key.lower.clone())
        .filter(|k| presence::is_governed(k))
        .collect()
}

/// The actions asked about, grouped by the keys their requests never carry.
fn presence_groups(
    doc: &PolicyDocument,
    universe: &[&'static str],
) -> Vec<(Vec<String>, Vec<&'static str>)> {
    let keys = governed_keys(doc);
    let mut groups: BTreeMap<Vec<String>, Vec<&'static str>> = BTreeMap::new();
    for a in universe {
        let absent: Vec<String> = keys
            .iter()
            .filter(|k| presence::key_absent(a, k))
            .cloned()
            .collect();
        groups.entry(absent).or_default().push(a);
    }
    groups.into_iter().collect()
}

/// What one class is granted at one moment, over every presence group.
#[derive(Default)]
struct ClassAccess {
    allowed: BTreeSet<&'static str>,
    sure: BTreeSet<&'static str>,
    /// (statement, condition) indexes of the conditions the class can meet
    /// but need not; described only for a reported grant.
    residual: BTreeSet<(usize, usize)>,
    /// The Allow statements that grant the class something for certain.
    granting: BTreeSet<usize>,
    /// The Deny statements that name those actions but spare the class.
    sparing: BTreeSet<usize>,
    /// Parts decided only for this class, with their statement.
    undecided: BTreeSet<String>,
}

/// The access of one class at one moment, each presence group asked in its
/// own frame. `judged` keeps, for this class, the judgement of each statement
/// marked `fixed` (one that no group's absent keys or moment can change).
fn class_access(
    doc: &PolicyDocument,
    class: &Class,
    groups: &[(&Frame, &CedarDecider)],
    resource_arn: &str,
    fixed: &[bool],
    judged: &mut [Option<StatementTruth>],
) -> ClassAccess {
    let mut out = ClassAccess::default();
    for (frame, decider) in groups {
        let mut bound = Vec::with_capacity(doc.statements.len());
        let mut certain = Vec::with_capacity(doc.statements.len());
        let mut group_residual = Vec::new();
        for (i, st) in doc.statements.iter().enumerate() {
            let fresh;
            let t = if fixed[i] {
                judged[i].get_or_insert_with(|| statement_truth(st, class, frame, resource_arn))
            } else {
                fresh = statement_truth(st, class, frame, resource_arn);
                &fresh
            };
            let (b, c) = match st.effect {
                Effect::Allow => (t.truth.possible, t.truth.possible && !t.uncertain),
                Effect::Deny => (t.truth.necessary, t.truth.necessary),
            };
            if st.effect == Effect::Deny || t.truth.possible {
                for why in &t.undecided {
                    out.undecided.insert(format!("{why} in {}", st.reference()));
                }
            }
            bound.push(b);
            certain.push(c);
            if st.effect == Effect::Allow && t.truth.possible {
                group_residual.extend(t.residual.iter().map(|&c| (i, c)));
            }
        }
        let group_allowed = decider.allowed(&bound);
        if group_allowed.is_empty() {
            continue;
        }
        let group_sure = if certain == bound {
            group_allowed.clone()
        } else {
            decider.allowed(&certain)
        };
        for (i, st) in doc.statements.iter().enumerate() {
            let names_granted = group_sure
                .iter()
                .any(|a| actions::element_matches(&st.action, a));
            match st.effect {
                Effect::Allow if certain[i] && names_granted => {
                    out.granting.insert(i);
                }
                Effect::Deny if names_granted => {
                    out.sparing.insert(i);
                }
                _ => {}
            }
        }
        out.residual.extend(group_residual);
        out.allowed.extend(group_allowed);
        out.sure.extend(group_sure);
    }
    out
}

/// The analysis at the frame's time, with the access that opens for an
/// outside class at one of the `later` moments (seconds since the epoch).
fn analyze_at(
    doc: &PolicyDocument,
    target: Target,
    resource_arn: &str,
    frame: &Frame,
    later: &[i64],
) -> ResourceAnalysis {
    let zone = frame.zone;
    let mut problems = policy_problems(doc);
    let universe = universe(target);
    let groups = presence_groups(doc, &universe);
    let deciders: Vec<CedarDecider> = groups
        .iter()
        .map(|(_, actions)| CedarDecider::new(doc, actions))
        .collect();
    // Each group's frame at each moment: now, then the later ones.
    let frames_at = |time: Option<i64>| -> Vec<Frame> {
        groups
            .iter()
            .map(|(absent, _)| {
                let mut f = frame.clone();
                f.absent = absent.clone();
                f.time = time;
                f
            })
            .collect()
    };
    let frames: Vec<Vec<Frame>> = std::iter::once(frame.time)
        .chain(later.iter().map(|&t| Some(t)))
        .map(frames_at)
        .collect();
    let asked: Vec<Vec<(&Frame, &CedarDecider)>> = frames
        .iter()
        .map(|at| at.iter().zip(&deciders).collect())
        .collect();
    let mut access = AccessFacts::default();
    let mut grants = Vec::new();
    let classes = classes(doc, zone);
    let absent: Vec<&str> = groups
        .iter()
        .flat_map(|(absent, _)| absent.iter().map(String::as_str))
        .collect();
    let fixed: Vec<bool> = doc
        .statements
        .iter()
        .map(|st| !attacker::depends_on_frame(st, &absent))
        .collect();
    let mut sure_by_class: BTreeMap<&Class, BTreeSet<&'static str>> = BTreeMap::new();
    let mut public_conditions: BTreeSet<String> = BTreeSet::new();
    let mut external_conditions: BTreeSet<String> = BTreeSet::new();
    for class in &classes {
        let mut judged: Vec<Option<StatementTruth>> = doc.statements.iter().map(|_| None).collect();
        let ClassAccess {
            allowed,
            sure,
            residual,
            granting,
            sparing,
            undecided,
        } = class_access(doc, class, &asked[0], resource_arn, &fixed, &mut judged);
        problems.extend(undecided);
        // Access an outside class gains for certain at a later moment that
        // it lacks now: reported at the first such moment.
        if class.is_outside() {
            for (&t, at) in later.iter().zip(&asked[1..]) {
                let then = class_access(doc, class, at, resource_arn, &fixed, &mut judged);
                let opened: BTreeSet<&'static str> = then.sure.difference(&sure).copied().collect();
                if !opened.is_empty() {
                    access.future_access.insert(format!(
                        "{} from {} ({})",
                        class,
                        attacker::rfc3339(t).unwrap_or_else(|| t.to_string()),
                        access_words(&opened)
                    ));
                    break;
                }
            }
        }
        // The upper bound describes the grant; only certain access raises
        // the access rules (an uncertain one raises ECR001).
        if allowed.is_empty() {
            continue;
        }
        // On a registry, repository access and the registry's own actions
        // (replication, create, pull-through import) are told apart.
        let sure_has = |c: ActionClass| {
            sure.iter().any(|a| {
                class_of(a) == Some(c)
                    && actions::lookup(a).is_some_and(|x| x.scope == ResourceScope::Repository)
                    && !(target.is_registry() && actions::REGISTRY_POLICY_ACTIONS.contains(a))
            })
        };
        let has = |c: ActionClass| allowed.iter().any(|a| class_of(a) == Some(c));
        let grant = Grant {
            class: class.clone(),
            outside: class.is_outside(),
            reach: Reach::of(class),
            read: has(ActionClass::Read),
            write: has(ActionClass::Write),
            permissions: has(ActionClass::Permissions),
            actions: allowed.clone(),
            certain_actions: sure.clone(),
            conditions: residual
                .iter()
                .map(|&(s, c)| describe_condition(&doc.statements[s].conditions[c]))
                .collect(),
        };
        let (read, writes) = (
            sure_has(ActionClass::Read),
            sure_has(ActionClass::Write) || sure_has(ActionClass::Permissions),
        );
        let public = match class {
            Class::Anyone => true,
            Class::Service(s, party) => s == ANY_SERVICE && **party == Class::Anyone,
            _ => false,
        };
        match class {
            _ if public => {
                access.public_read |= read;
                access.public_write |= writes;
            }
            Class::Service(s, party) if **party == Class::Anyone && !sure.is_empty() => {
                access.unscoped_services.insert(s.clone());
            }
            c if c.is_outside() => {
                if read {
                    access.external_read.insert(grant.class.label());
                }
                if writes {
                    access.external_write.insert(grant.class.label());
                }
            }
            _ => {}
        }
        if class.is_outside() && !sure.is_empty() {
            access.granted_by.insert(granted_by(
                &grant.class.label(),
                &sure,
                doc,
                &granting,
                &sparing,
            ));
            if public {
                public_conditions.extend(grant.conditions.iter().cloned());
            } else {
                external_conditions.extend(grant.conditions.iter().cloned());
            }
            if target.is_registry() {
                let registry_actions: Vec<String> = sure
                    .iter()
                    .filter(|a| actions::REGISTRY_POLICY_ACTIONS.contains(a))
                    .map(|a| a.to_string())
                    .collect();
                if !registry_actions.is_empty() {
                    access
                        .outside_registry_principals
                        .insert(grant.class.label());
                }
                access.outside_registry_actions.extend(registry_actions);
            }
        }
        sure_by_class.insert(class, sure);
        grants.push(grant);
    }
    // The conditions a message shows are those of the widest class it names.
    access.conditions = if access.public_read || access.public_write {
        public_conditions
    } else {
        external_conditions
    };
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
        // ecr:*, * or NotAction granted to anyone but the owner, and still
        // whole after every Deny. Under registry policy scope V1 a wildcard
        // grants no more than the registry's three actions (ECR111's).
        let scoped = target == Target::Registry(RegistryScope::V1);
        if !scoped && (st.action.negated || actions::covers_all_ecr(&st.action)) {
            let wide = covered(st, &universe);
            for class in &classes {
                if *class == Class::Owner {
                    continue;
                }
                let t = statement_truth(st, class, frame, resource_arn);
                let survives = sure_by_class
                    .get(class)
                    .is_some_and(|sure| wide.iter().all(|a| sure.contains(a)));
                if t.truth.possible && !t.uncertain && survives {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{self, PolicyKind};

    /// A statement is judged in each presence group's frame: a condition on
    /// `aws:RequestTag/...` can hold only for the actions whose requests
    /// carry that key (CreateRepository and TagResource, per the Service
    /// Authorization Reference page "Actions, resources, and condition keys
    /// for Amazon Elastic Container Registry"), so a judgement made for one
    /// group must not be reused for another.
    #[test]
    fn a_condition_on_a_request_key_grants_only_the_actions_that_carry_it() {
        let doc = policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
                "Action":"ecr:*","Condition":{"StringLike":{"aws:RequestTag/team":"*"}}}]}"#,
            PolicyKind::Resource,
        )
        .expect("parses");
        let zone = Zone {
            owner: "111122223333".into(),
            accounts: ["111122223333".to_string()].into(),
            org_id: None,
            time: None,
        };
        let arn = "arn:aws:ecr:us-east-1:111122223333:repository/app";
        let a = analyze_resource_document(&doc, Target::Repository, arn, &zone);
        let anyone = a
            .grants
            .iter()
            .find(|g| g.class == Class::Anyone)
            .expect("anyone may tag the repository");
        assert!(anyone.certain_actions.contains("ecr:TagResource"));
        assert!(!anyone.actions.contains("ecr:BatchGetImage"));
        assert!(!anyone.actions.contains("ecr:PutImage"));
    }

    /// The decider asks Cedar about one action per group and keeps only
    /// those in its scopes: for every assignment of the statements' flags it
    /// must allow exactly the actions some true Allow covers and no true
    /// Deny covers (IAM's evaluation logic for one policy).
    #[test]
    fn the_decider_allows_what_the_true_statements_allow() {
        let doc = policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"},
                {"Effect":"Deny","Principal":"*","Action":["ecr:Put*","ecr:BatchGetImage"],"Resource":"*"},
                {"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"},
                {"Effect":"Deny","Principal":"*","NotAction":"ecr:Describe*","Resource":"*"},
                {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}
            ]}"#,
            PolicyKind::Resource,
        )
        .expect("the test policy parses");
        let universe = universe(Target::Repository);
        let decider = CedarDecider::new(&doc, &universe);
        let n = doc.statements.len();
        for bits in 0..(1u32 << n) {
            let flags: Vec<bool> = (0..n).map(|i| bits & (1 << i) != 0).collect();
            let expected: BTreeSet<&'static str> = universe
                .iter()
                .copied()
                .filter(|a| {
                    let applies = |effect: Effect| {
                        doc.statements.iter().zip(&flags).any(|(st, on)| {
                            *on && st.effect == effect && actions::element_matches(&st.action, a)
                        })
                    };
                    applies(Effect::Allow) && !applies(Effect::Deny)
                })
                .collect();
            assert_eq!(decider.allowed(&flags), expected, "flags {flags:?}");
            // Asked again, the remembered answer is the same.
            assert_eq!(decider.allowed(&flags), expected, "flags {flags:?} again");
        }
        assert!(
            decider.representatives.len() < universe.len(),
            "actions treated alike are asked about once"
        );
    }
}
