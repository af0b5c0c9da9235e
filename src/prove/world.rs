//! The world axioms: facts about AWS requests that hold in every real
//! request, and the attacker assumptions of a proof, written as Cedar
//! `forbid` policies added to the policy under proof. A request that breaks
//! one is denied, so the solver never offers it as a counterexample.
//!
//! Every axiom must be true of real requests: a false one would let the
//! solver "prove" a policy safe by excluding a real attacker. What the
//! axioms leave out only costs precision: a counterexample that breaks an
//! unstated fact fails its replay (see `witness`) and the verdict is
//! "unknown", never "refuted".

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::access::{forge, Zone};
use crate::cedar::{cedar_datetime, cedar_long, like_lit, lit, uid, Translation};
use crate::policy::condition::parse_date;
use crate::policy::presence;

/// Who calls, as a Cedar principal type of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Caller {
    /// A signed IAM principal (root, user, role session, federated user) of
    /// an account outside the zone.
    Iam,
    /// An unsigned caller: no identity keys at all.
    Anonymous,
    /// An AWS service acting for a party outside the zone, or for whoever
    /// asks it (no source keys).
    Service,
    /// A token holder of a public web-identity platform (trust policies).
    WebIdentity,
}

impl Caller {
    /// How a reason names the caller.
    pub fn label(self) -> &'static str {
        match self {
            Caller::Iam => "outside IAM principal",
            Caller::Anonymous => "anonymous caller",
            Caller::Service => "service for an outside party",
            Caller::WebIdentity => "web identity",
        }
    }

    pub fn entity_type(self) -> &'static str {
        match self {
            Caller::Iam => "Iam::Principal",
            Caller::Anonymous => "Iam::Anonymous",
            Caller::Service => "Iam::Service",
            Caller::WebIdentity => "Iam::WebIdentity",
        }
    }
}

/// Identity keys: what the caller is, never its choice.
const PRINCIPAL_KEYS: [&str; 7] = [
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "aws:principaltype",
    "aws:username",
];
/// Keys a service sets for the party it acts for.
const SOURCE_KEYS: [&str; 5] = [
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceowner",
];
pub(crate) fn source_keys() -> &'static [&'static str] {
    &SOURCE_KEYS
}

/// Keys with at most one value in any request.
/// Keys whose value always has one type: a present value has its typed view.
const TYPED_KEYS: [(&str, &str); 13] = [
    ("aws:principalarn", "arns"),
    ("aws:sourcearn", "arns"),
    ("aws:sourceip", "ips"),
    ("aws:multifactorauthpresent", "bools"),
    ("aws:securetransport", "bools"),
    ("aws:viaawsservice", "bools"),
    ("aws:principalisawsservice", "bools"),
    ("aws:multifactorauthage", "nums"),
    ("aws:epochtime", "nums"),
    ("aws:currenttime", "dates"),
    ("aws:tokenissuetime", "dates"),
    ("aws:sourceaccount", "keys"),
    ("aws:principalaccount", "keys"),
];

const SINGLE_VALUED: [&str; 27] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:securetransport",
    "aws:viaawsservice",
    "aws:principalisawsservice",
    "aws:epochtime",
    "aws:currenttime",
    "aws:tokenissuetime",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:principalservicename",
    // An account sits at one place in one organization.
    "aws:principalorgpaths",
    "aws:sourceorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "aws:principaltype",
    "aws:username",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceowner",
    "aws:sourcevpce",
];
const NETWORK_KEYS: [&str; 2] = ["aws:sourcevpc", "aws:sourcevpce"];

/// AWS partitions, for the literal prefixes of principal ARNs.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// An IAM `StringLike` pattern as a Cedar `like` pattern, when it has no `?`.
fn like_pattern(s: &str) -> Option<String> {
    (!s.contains('?')).then(|| like_lit(s))
}

fn list(items: &BTreeSet<String>) -> String {
    let v: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("[{}]", v.join(", "))
}

/// A literal IAM principal the policy names (`Iam::Principal::"<id>"`).
#[derive(Debug, Clone)]
pub(crate) struct NamedPrincipal {
    pub id: String,
    pub account: String,
    /// root | user | role | session | federated-user
    pub kind: &'static str,
}

/// The string literals of one entity type in the Cedar text
/// (`Iam::Account::"111122223333"` → `111122223333`).
pub(crate) fn uids_of(text: &str, ty: &str) -> BTreeSet<String> {
    let prefix = format!("Iam::{ty}::\"");
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(&prefix) {
        rest = &rest[i + prefix.len()..];
        let mut id = String::new();
        let mut chars = rest.chars();
        let mut escaped = false;
        for c in chars.by_ref() {
            if escaped {
                id.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                break;
            } else {
                id.push(c);
            }
        }
        rest = chars.as_str();
        out.insert(id);
    }
    out
}

pub(crate) fn named_principal(id: &str) -> Option<NamedPrincipal> {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    let [_, _, _, _, account, rest] = parts[..] else {
        return None;
    };
    let kind = if rest == "root" {
        "root"
    } else if rest.starts_with("role/") {
        "role"
    } else if rest.starts_with("user/") {
        "user"
    } else if rest.starts_with("assumed-role/") {
        "session"
    } else if rest.starts_with("federated-user/") {
        "federated-user"
    } else {
        return None;
    };
    Some(NamedPrincipal {
        id: id.to_string(),
        account: account.to_string(),
        kind,
    })
}

/// What the axioms are written for.
pub struct WorldInput<'a> {
    pub translation: &'a Translation,
    pub zone: &'a Zone,
    pub caller: Caller,
    /// The resource's ARN, pinned only when the policy reads the resource.
    pub resource_arn: &'a str,
    /// Public web-identity providers the policy names (WebIdentity caller).
    pub public_providers: &'a BTreeSet<String>,
    /// Per `<host>:sub` key, the values that pin a subject to the zone.
    pub pinned_subjects: &'a [(String, String)],
    /// The action asked about: keys its requests never carry are absent.
    pub action: &'a str,
}

/// The values of the clock keys at the zone's reference time.
pub(crate) fn clock_values(zone: &Zone) -> Vec<(&'static str, String)> {
    let Some(t) = zone.time else {
        return Vec::new();
    };
    let mut out = vec![("aws:epochtime", t.to_string())];
    if let Some(rfc) = crate::access::attacker::rfc3339(t) {
        out.push(("aws:currenttime", rfc));
    }
    out
}

/// Keys a caller never sends (lower-case) for this action: tags and
/// settings the action does not carry (`policy::presence`), and network
/// keys of a service calling with its own principal.
pub(crate) fn absent_key(caller: Caller, action: &str, key: &str) -> bool {
    presence::key_absent(action, key)
        || (caller == Caller::Service
            && matches!(key, "aws:sourceip" | "aws:sourcevpc" | "aws:sourcevpce"))
}

/// Every value the policy's conditions give a key (lower-case), in any
/// operator.
pub(crate) fn condition_values<'t>(
    t: &'t Translation,
    key: &'t str,
) -> impl Iterator<Item = &'t str> + 't {
    t.doc
        .statements
        .iter()
        .flat_map(|st| st.conditions.iter())
        .filter(move |c| c.key.lower == key)
        .flat_map(|c| c.values.iter().map(|v| v.value.as_str()))
}

/// The wildcard-free values the policy's conditions give a key (the VPCs
/// and endpoints an outsider is assumed never to be in).
pub(crate) fn named_values(t: &Translation, key: &str) -> BTreeSet<String> {
    condition_values(t, key)
        .filter(|v| !v.contains(['*', '?']))
        .map(str::to_string)
        .collect()
}

/// Accounts the proof must tell apart: the zone's and those the policy names.
pub(crate) fn known_accounts(t: &Translation, zone: &Zone) -> BTreeSet<String> {
    let text = t.text();
    let text = text.as_str();
    let mut accounts: BTreeSet<String> = zone.accounts.clone();
    accounts.insert(zone.owner.clone());
    // Every account id the document writes is a party of its own.
    accounts.extend(t.document_accounts());
    accounts.extend(uids_of(text, "Account"));
    for id in uids_of(text, "Principal") {
        if let Some(p) = named_principal(&id) {
            accounts.insert(p.account);
        }
    }
    accounts
}

struct Axioms {
    out: String,
}

impl Axioms {
    fn forbid_when(&mut self, why: &str, cond: &str) {
        let _ = writeln!(
            self.out,
            "@world({})\nforbid (principal, action, resource) when {{ {cond} }};",
            lit(why)
        );
    }
}

fn has(view: &str, k: &str) -> String {
    format!("context.{view}.hasTag({})", lit(k))
}

fn get(view: &str, k: &str) -> String {
    format!("context.{view}.getTag({})", lit(k))
}

/// The axioms, as Cedar policy text (one `forbid` each, annotated `@world`).
pub fn axioms(w: &WorldInput<'_>) -> String {
    let mut a = Axioms { out: String::new() };
    let keys = &w.translation.keys;
    let text = w.translation.text();
    let reads = |view: &str, k: &str| w.translation.reads_tag(view, k);
    let zone_accounts: BTreeSet<String> = {
        let mut z = w.zone.accounts.clone();
        z.insert(w.zone.owner.clone());
        z
    };
    let org = w.zone.org_id.as_deref();

    // The request is about this resource.
    if w.translation.reads_resource() {
        let parts: Vec<&str> = w.resource_arn.splitn(6, ':').collect();
        let mut cond = vec![
            format!("resource == {}", uid("Resource", w.resource_arn)),
            format!("resource.arn == {}", lit(w.resource_arn)),
        ];
        if let [_, partition, service, region, account, path] = parts[..] {
            cond.push("resource.is_arn".into());
            for (n, v) in [
                ("partition", partition),
                ("service", service),
                ("region", region),
                ("account", account),
                ("path", path),
            ] {
                cond.push(format!("resource.{n} == {}", lit(v)));
            }
        } else {
            cond.push("!resource.is_arn".into());
        }
        a.forbid_when(
            "the request is for the resource under proof",
            &format!("!({})", cond.join(" && ")),
        );
    }

    // Request keys: a single value is also the one-element set; typed views
    // exist only for a value that is present.
    for k in keys {
        a.forbid_when(
            "a key with one value is the set of that value",
            &format!(
                "{} && !({} && {} == [{}])",
                has("keys", k),
                has("sets", k),
                get("sets", k),
                get("keys", k)
            ),
        );
        a.forbid_when(
            "a present key has a value",
            &format!("{} && {}.isEmpty()", has("sets", k), get("sets", k)),
        );
        for (key, view) in TYPED_KEYS {
            if key == k && view != "keys" && reads(view, k) {
                a.forbid_when(
                    "this key's value always has this type",
                    &format!("{} && !{}", has("keys", k), has(view, k)),
                );
            }
        }
        for view in ["nums", "bools", "ips", "dates", "arns"] {
            if reads(view, k) {
                a.forbid_when(
                    "a typed value is the value of a present key",
                    &format!("{} && !{}", has(view, k), has("keys", k)),
                );
            }
        }
        let pinned_subject = w.pinned_subjects.iter().any(|(key, _)| key == k);
        if SINGLE_VALUED.contains(&k.as_str()) || pinned_subject {
            a.forbid_when(
                "this key has at most one value",
                &format!("{} && !{}", has("sets", k), has("keys", k)),
            );
        }
    }
    // The clock is the scan's reference time, not the caller's choice.
    for (k, v) in clock_values(w.zone) {
        if keys.contains(k) {
            pin_value(&mut a, w.translation, k, &v);
        }
    }
    // Keys requests for this action (or from this caller) never carry.
    for k in keys {
        if absent_key(w.caller, w.action, k) {
            a.forbid_when(
                "requests for this action from this caller never carry this key",
                &has("sets", k),
            );
        }
    }
    // Facts of the resource.
    if keys.contains("aws:resourceaccount") {
        a.forbid_when(
            "aws:ResourceAccount is the owner's account",
            &format!(
                "!({} && {} == {})",
                has("keys", "aws:resourceaccount"),
                get("keys", "aws:resourceaccount"),
                lit(&w.zone.owner)
            ),
        );
    }
    if let (true, Some(o)) = (keys.contains("aws:resourceorgid"), org) {
        a.forbid_when(
            "aws:ResourceOrgID is the owner's organization",
            &format!(
                "!({} && {} == {})",
                has("keys", "aws:resourceorgid"),
                get("keys", "aws:resourceorgid"),
                lit(o)
            ),
        );
    }

    // Organization ids look like o-exampleorgid.
    for k in ["aws:principalorgid", "aws:sourceorgid", "aws:resourceorgid"] {
        if keys.contains(k) {
            a.forbid_when(
                "an organization id starts with o-",
                &format!("{} && !({} like \"o-*\")", has("keys", k), get("keys", k)),
            );
        }
    }

    // Network keys: an outsider is never inside the VPCs and endpoints a
    // policy names, nor on a private address.
    for k in NETWORK_KEYS {
        if !keys.contains(k) {
            continue;
        }
        let named = named_values(w.translation, k);
        if !named.is_empty() {
            a.forbid_when(
                "an outsider is not inside the VPCs and endpoints the policy names (assumption)",
                &format!(
                    "{} && {}.containsAny({})",
                    has("sets", k),
                    get("sets", k),
                    list(&named)
                ),
            );
        }
    }
    if keys.contains("aws:sourceip") && reads("ips", "aws:sourceip") {
        let ranges: Vec<String> = crate::policy::keys::PRIVATE_NETWORKS
            .iter()
            .map(|r| format!("{}.isInRange(ip({}))", get("ips", "aws:sourceip"), lit(r)))
            .collect();
        a.forbid_when(
            "an outsider's address is public (assumption)",
            &format!(
                "{} && ({})",
                has("ips", "aws:sourceip"),
                ranges.join(" || ")
            ),
        );
        a.forbid_when(
            "aws:SourceIp is an address",
            &format!(
                "{} && !{}",
                has("keys", "aws:sourceip"),
                has("ips", "aws:sourceip")
            ),
        );
    }

    let accounts = known_accounts(w.translation, w.zone);
    match w.caller {
        Caller::Iam => iam_axioms(&mut a, w, &text, &accounts, &zone_accounts),
        Caller::Anonymous | Caller::WebIdentity => {
            for k in PRINCIPAL_KEYS.iter().chain(SOURCE_KEYS.iter()) {
                if keys.contains(*k) {
                    a.forbid_when("this caller has no AWS identity", &has("sets", k));
                }
            }
        }
        Caller::Service => {
            for k in PRINCIPAL_KEYS {
                if keys.contains(k) {
                    a.forbid_when("a service has no principal keys", &has("sets", k));
                }
            }
            party_axioms(
                &mut a,
                w,
                &zone_accounts,
                "aws:sourceaccount",
                "aws:sourcearn",
                "aws:sourceorgid",
                "aws:sourceorgpaths",
            );
            if keys.contains("aws:sourcearn") {
                source_arn_shape_axioms(&mut a, w.translation, &zone_accounts);
            }
            if keys.contains("aws:sourceowner") {
                a.forbid_when(
                    "the service acts for a party outside the zone",
                    &format!(
                        "{} && {}.contains({})",
                        has("keys", "aws:sourceowner"),
                        list(&zone_accounts),
                        get("keys", "aws:sourceowner")
                    ),
                );
            }
        }
    }
    if w.caller == Caller::WebIdentity {
        if w.public_providers.is_empty() {
            a.forbid_when(
                "only tokens of public platforms are outside the zone",
                "true",
            );
        } else {
            let v: Vec<String> = w
                .public_providers
                .iter()
                .map(|p| uid("WebIdentity", p))
                .collect();
            a.forbid_when(
                "the token is from a public platform anyone can use",
                &format!("!([{}].contains(principal))", v.join(", ")),
            );
        }
        for (key, value) in w.pinned_subjects {
            if let Some(p) = like_pattern(value) {
                a.forbid_when(
                    "a subject the policy pins is the zone's own (assumption)",
                    &format!("{} && {} like {p}", has("keys", key), get("keys", key)),
                );
            }
        }
    }
    a.out
}

/// The key has exactly the value `v`, in every view the policy reads, as
/// `Translation::request` would build it.
fn pin_value(a: &mut Axioms, t: &Translation, k: &str, v: &str) {
    let reason = "the clock is the scan's reference time";
    a.forbid_when(
        reason,
        &format!(
            "!({} && {} == {} && {} && {} == [{}])",
            has("keys", k),
            get("keys", k),
            lit(v),
            has("sets", k),
            get("sets", k),
            lit(v)
        ),
    );
    let typed = [
        ("nums", cedar_long(v).map(|n| n.to_string())),
        (
            "dates",
            parse_date(v)
                .and_then(cedar_datetime)
                .map(|d| format!("datetime({})", lit(&d))),
        ),
    ];
    for (view, value) in typed {
        if !t.reads_tag(view, k) {
            continue;
        }
        match value {
            Some(e) => a.forbid_when(
                reason,
                &format!("!({} && {} == {e})", has(view, k), get(view, k)),
            ),
            None => a.forbid_when(reason, &has(view, k)),
        }
    }
    for view in ["bools", "ips", "arns"] {
        if t.reads_tag(view, k) {
            a.forbid_when(reason, &has(view, k));
        }
    }
}

/// Source keys of the party a service acts for: outside the zone, or absent.
fn party_axioms(
    a: &mut Axioms,
    w: &WorldInput<'_>,
    zone_accounts: &BTreeSet<String>,
    account_key: &str,
    arn_key: &str,
    org_key: &str,
    paths_key: &str,
) {
    let keys = &w.translation.keys;
    if keys.contains(account_key) {
        a.forbid_when(
            "the party is outside the zone",
            &format!(
                "{} && {}.contains({})",
                has("keys", account_key),
                list(zone_accounts),
                get("keys", account_key)
            ),
        );
    }
    if keys.contains(arn_key) {
        // Only the ARN's parts say its account: a `like` on the string could
        // match an account-shaped piece of a resource path.
        if w.translation.reads_tag("arns", arn_key) {
            a.forbid_when(
                "the party is outside the zone",
                &format!(
                    "{} && {}.contains({}.account)",
                    has("arns", arn_key),
                    list(zone_accounts),
                    get("arns", arn_key)
                ),
            );
        }
    }
    if let Some(o) = w.zone.org_id.as_deref() {
        if keys.contains(org_key) {
            a.forbid_when(
                "the party is outside our organization",
                &format!(
                    "{} && {}.contains({})",
                    has("sets", org_key),
                    get("sets", org_key),
                    lit(o)
                ),
            );
        }
        if keys.contains(paths_key) {
            a.forbid_when(
                "the party is outside our organization",
                &format!(
                    "{} && {} like {}",
                    has("keys", paths_key),
                    get("keys", paths_key),
                    like_pattern(&format!("{o}/*")).unwrap_or_else(|| "\"\"".into())
                ),
            );
        }
    }
}

/// A service sets `aws:SourceArn` to an ARN of its own shape, whose account
/// part is the party it acts for: a policy pattern that pins that part to a
/// zone account (`forge::pinned_source_account`) matches no outside party's
/// ARN. Said on the whole string (the solver's strings know no ARN parts),
/// one axiom per such pattern of the document.
fn source_arn_shape_axioms(a: &mut Axioms, t: &Translation, zone_accounts: &BTreeSet<String>) {
    let k = "aws:sourcearn";
    let patterns: BTreeSet<&str> = condition_values(t, k)
        .filter(|p| {
            forge::pinned_source_account(p).is_some_and(|acct| zone_accounts.contains(acct))
        })
        .collect();
    for pattern in patterns {
        if let Some(like) = like_pattern(pattern) {
            a.forbid_when(
                "the service acts for a party outside the zone (its ARN's shape)",
                &format!("{} && {} like {like}", has("keys", k), get("keys", k)),
            );
        }
    }
}

fn iam_axioms(
    a: &mut Axioms,
    w: &WorldInput<'_>,
    text: &str,
    accounts: &BTreeSet<String>,
    zone_accounts: &BTreeSet<String>,
) {
    let keys = &w.translation.keys;
    a.forbid_when(
        "the caller is outside the zone",
        &format!("{}.contains(principal.account)", list(zone_accounts)),
    );
    a.forbid_when(
        "a principal is a root, user, role session or federated user",
        "![\"root\", \"user\", \"session\", \"federated-user\"].contains(principal.kind)",
    );
    for acct in accounts {
        a.forbid_when(
            "a principal is in its own account and no other",
            &format!(
                "(principal in {}) != (principal.account == {})",
                uid("Account", acct),
                lit(acct)
            ),
        );
    }
    let named: Vec<NamedPrincipal> = uids_of(text, "Principal")
        .iter()
        .filter_map(|id| named_principal(id))
        .collect();
    for p in &named {
        let u = uid("Principal", &p.id);
        a.forbid_when(
            "a named principal has the account and kind of its ARN",
            &format!(
                "principal == {u} && !(principal.account == {} && principal.kind == {})",
                lit(&p.account),
                lit(p.kind)
            ),
        );
        if p.kind == "role" {
            a.forbid_when(
                "only the sessions of a role are in it",
                &format!(
                    "principal in {u} && principal != {u} && !(principal.kind == \"session\" && principal.account == {})",
                    lit(&p.account)
                ),
            );
        } else {
            a.forbid_when(
                "only roles have members",
                &format!("principal in {u} && principal != {u}"),
            );
        }
    }
    let roles: Vec<&NamedPrincipal> = named.iter().filter(|p| p.kind == "role").collect();
    for (i, r) in roles.iter().enumerate() {
        for s in &roles[i + 1..] {
            a.forbid_when(
                "a session belongs to one role",
                &format!(
                    "principal in {} && principal in {}",
                    uid("Principal", &r.id),
                    uid("Principal", &s.id)
                ),
            );
        }
    }
    // Identity keys are the caller's own.
    if keys.contains("aws:principalaccount") {
        a.forbid_when(
            "aws:PrincipalAccount is the caller's account",
            &format!(
                "!({} && {} == principal.account)",
                has("keys", "aws:principalaccount"),
                get("keys", "aws:principalaccount")
            ),
        );
    }
    if keys.contains("aws:principalarn") {
        let k = "aws:principalarn";
        a.forbid_when(
            "a signed request has aws:PrincipalArn",
            &format!("!{}", has("keys", k)),
        );
        // The resource part follows the kind of principal (a session
        // presents its role's ARN). No bound on the parts: a role's or
        // user's path may hold `:` (the IAM API's `Path` pattern allows
        // `!` through DEL).
        let g = get("keys", k);
        let shapes: Vec<String> = [
            ("root", "iam", "root"),
            ("user", "iam", "user/*"),
            ("session", "iam", "role/*"),
            ("federated-user", "sts", "federated-user/*"),
        ]
        .iter()
        .map(|(kind, svc, rest)| {
            let any: Vec<String> = PARTITIONS
                .iter()
                .map(|p| format!("{g} like \"arn:{p}:{svc}::*:{rest}\""))
                .collect();
            format!("(principal.kind == \"{kind}\" && ({}))", any.join(" || "))
        })
        .collect();
        a.forbid_when(
            "aws:PrincipalArn follows the kind of principal",
            &format!("{} && !({})", has("keys", k), shapes.join(" || ")),
        );
        a.forbid_when(
            "a principal's name is not empty",
            &format!("{} && {g} like \"*/\"", has("keys", k)),
        );
        // A principal ARN starts with `arn:<partition>:iam::<account>:` or
        // `arn:<partition>:sts::<account>:`: such a literal prefix says the
        // account exactly.
        for acct in accounts {
            let prefixes: Vec<String> = PARTITIONS
                .iter()
                .flat_map(|p| {
                    ["iam", "sts"].map(|svc| {
                        format!("{g} like \"arn:{p}:{svc}::{acct}:*\"", g = get("keys", k))
                    })
                })
                .collect();
            a.forbid_when(
                "aws:PrincipalArn is in the caller's account",
                &format!(
                    "{} && ({}) && principal.account != {}",
                    has("keys", k),
                    prefixes.join(" || "),
                    lit(acct)
                ),
            );
        }
        if w.translation.reads_tag("arns", k) {
            a.forbid_when(
                "aws:PrincipalArn is in the caller's account",
                &format!(
                    "!({} && {}.account == principal.account)",
                    has("arns", k),
                    get("arns", k)
                ),
            );
        }
    }
    if keys.contains("aws:userid") {
        let k = "aws:userid";
        a.forbid_when(
            "a signed request has aws:userid",
            &format!("!{}", has("keys", k)),
        );
        a.forbid_when(
            "the root user's id is its account",
            &format!(
                "principal.kind == \"root\" && {} && {} != principal.account",
                has("keys", k),
                get("keys", k)
            ),
        );
        // A unique id that starts with an account id is a federated user's
        // (`<account>:<name>`), and one that is an account id the root's:
        // either way the caller's own account (roles and users have ids
        // starting with AROA / AIDA).
        for acct in accounts.difference(zone_accounts) {
            a.forbid_when(
                "a unique id that names an account is the caller's",
                &format!(
                    "{h} && ({g} == {l} || {g} like \"{acct}:*\") && principal.account != {l}",
                    h = has("keys", k),
                    g = get("keys", k),
                    l = lit(acct)
                ),
            );
        }
        for acct in zone_accounts {
            a.forbid_when(
                "an outsider's unique id is not a zone account's",
                &format!(
                    "{h} && ({g} == {l} || {g} like \"{acct}:*\")",
                    h = has("keys", k),
                    g = get("keys", k),
                    l = lit(acct)
                ),
            );
        }
    }
    if keys.contains("aws:principaltype") {
        let k = "aws:principaltype";
        a.forbid_when(
            "aws:PrincipalType follows the kind of principal",
            &format!(
                "!({h} && ((principal.kind == \"root\" && {g} == \"Account\") || (principal.kind == \"user\" && {g} == \"User\") || (principal.kind == \"session\" && {g} == \"AssumedRole\") || (principal.kind == \"federated-user\" && {g} == \"FederatedUser\")))",
                h = has("keys", k),
                g = get("keys", k)
            ),
        );
    }
    if let Some(o) = w.zone.org_id.as_deref() {
        if keys.contains("aws:principalorgid") {
            a.forbid_when(
                "an outsider is not in our organization",
                &format!(
                    "{} && {}.contains({})",
                    has("sets", "aws:principalorgid"),
                    get("sets", "aws:principalorgid"),
                    lit(o)
                ),
            );
        }
        if keys.contains("aws:principalorgpaths") {
            a.forbid_when(
                "an outsider is not in our organization",
                &format!(
                    "{} && {} like {}",
                    has("keys", "aws:principalorgpaths"),
                    get("keys", "aws:principalorgpaths"),
                    like_pattern(&format!("{o}/*")).unwrap_or_else(|| "\"\"".into())
                ),
            );
        }
    }
    for k in SOURCE_KEYS {
        if keys.contains(k) {
            a.forbid_when("only services send source keys", &has("sets", k));
        }
    }
}
