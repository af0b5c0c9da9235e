//! The attacker model: for one class of principal, which values of each
//! condition key it can present, and so whether a condition can hold for
//! some member of the class (`possible`) or holds for every member
//! (`necessary`).
//!
//! A condition restricts a grant to the zone of trust only if an outsider
//! cannot satisfy it (DESIGN.md §3): identity keys compared with values inside
//! the zone, network keys pinned to concrete VPCs, VPC endpoints or private
//! address ranges. Everything else (tags, MFA, TLS, time, unknown keys) is
//! the caller's to choose. Decisions are made by evaluating the condition
//! exactly (the policy module's evaluator) on a finite set of candidate
//! values: the class's own values, witnesses built from the policy's patterns
//! that the class may hold, fresh values that match no literal, and absence.

use std::collections::BTreeSet;

use crate::policy::condition::parse_cidr;
use crate::policy::keys;
use crate::policy::{Condition, RequestContext, Tri};

/// A class of principals the analysis asks about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Any principal anywhere that no literal of the policy names.
    Anyone,
    /// Principals of one account outside the zone of trust.
    Account(String),
    /// Principals of a named organization that is not ours.
    Org(String),
    /// A principal named only by its unique id (`aws:userid`).
    UserId(String),
    /// Principals of one account of the zone (not the owner).
    ZoneAccount(String),
    /// Any account of our organization.
    OrgMember,
    /// The owner account of the resource.
    Owner,
    /// An AWS service acting on behalf of a party (itself a class:
    /// `Anyone` means on behalf of whoever asks: the confused deputy).
    Service(String, Box<Class>),
    /// Callers presenting tokens of a web-identity / SAML provider.
    WebIdentity(String),
}

impl Class {
    /// Outside the zone of trust?
    pub fn is_outside(&self) -> bool {
        match self {
            Class::Anyone | Class::Account(_) | Class::Org(_) | Class::UserId(_) => true,
            Class::Service(_, party) => party.is_outside(),
            _ => false,
        }
    }

    /// How a report names the class.
    pub fn label(&self) -> String {
        match self {
            Class::Anyone => "anyone".to_string(),
            Class::Account(a) | Class::ZoneAccount(a) => a.clone(),
            Class::Org(o) => format!("org {o}"),
            Class::UserId(u) => format!("userid {u}"),
            Class::OrgMember => "organization".to_string(),
            Class::Owner => "owner".to_string(),
            Class::Service(s, party) if s == "*" && **party == Class::Anyone => {
                "anyone".to_string()
            }
            Class::Service(s, party) if s == "*" => format!("any service for {}", party.label()),
            Class::Service(s, party) if **party == Class::Anyone => format!("service {s}"),
            Class::Service(s, party) => format!("service {s} for {}", party.label()),
            Class::WebIdentity(p) => format!("web identity {p}"),
        }
    }

    /// The account every member of the class is in, when there is one.
    pub fn account<'a>(&'a self, zone: &'a Zone) -> Option<&'a str> {
        match self {
            Class::Account(a) | Class::ZoneAccount(a) => Some(a),
            Class::Owner => Some(&zone.owner),
            _ => None,
        }
    }
}

/// The zone of trust, from the point of view of one resource's owner.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    pub owner: String,
    /// Scanned accounts, organization members and configured trusted accounts
    /// (the owner included).
    pub accounts: BTreeSet<String>,
    pub org_id: Option<String>,
}

impl Zone {
    pub fn contains_account(&self, account: &str) -> bool {
        account == self.owner || self.accounts.contains(account)
    }

    fn is_our_org(&self, org: &str) -> bool {
        self.org_id.as_deref() == Some(org)
    }
}

/// Whether a condition can hold / must hold for a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truth {
    pub possible: bool,
    pub necessary: bool,
}

impl Truth {
    pub const ALWAYS: Truth = Truth {
        possible: true,
        necessary: true,
    };
    pub const NEVER: Truth = Truth {
        possible: false,
        necessary: false,
    };
    /// The caller chooses: true for some, not for all.
    pub const CHOSEN: Truth = Truth {
        possible: true,
        necessary: false,
    };

    pub fn from_tri(t: Tri) -> Truth {
        Truth {
            possible: t.maybe(),
            necessary: t.is_true(),
        }
    }

    pub fn and(self, o: Truth) -> Truth {
        Truth {
            possible: self.possible && o.possible,
            necessary: self.necessary && o.necessary,
        }
    }
}

/// What values of a key a class can present.
enum Domain {
    /// Exactly these (None: the key is absent).
    Values(Vec<Option<String>>),
    /// Any value the predicate accepts (built from witnesses and fresh
    /// values), and absence when `absent_ok`.
    Outside {
        eligible: Box<dyn Fn(&str) -> bool>,
        fresh: Vec<String>,
        absent_ok: bool,
        account_shaped: bool,
        /// Literal values may be held (only for a class bound to one
        /// account: its members may be the principal an ARN names). For the
        /// other classes a literal names a party with a class of its own.
        literals_ok: bool,
    },
    /// Anything, or absent: the caller chooses.
    Free,
}

/// Private and special-use ranges: a request from the internet never carries
/// such an `aws:SourceIp`.
fn is_private_cidr(cidr: &str) -> bool {
    parse_cidr(cidr).is_some_and(|c| keys::is_private_network(&c))
}

/// The account field of an ARN.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What kind of identity value a key carries.
#[derive(Clone, Copy)]
enum IdKind {
    Account,
    Arn,
    OrgId,
    OrgPaths,
    UserId,
}

/// A synthetic account of our organization that no policy names.
const UNNAMED_MEMBER: &str = "000000000001";
/// A synthetic outside account that no policy names.
const UNNAMED_OUTSIDER: &str = "999999999999";

/// The values a party (a direct caller, or the party a service acts for)
/// has for an identity key.
fn identity_domain(kind: IdKind, party: &Class, zone: &Zone) -> Domain {
    let zone_accounts = zone.accounts.clone();
    let owner = zone.owner.clone();
    let in_zone = move |a: &str| a == owner || zone_accounts.contains(a);
    let anyone = matches!(party, Class::Anyone);
    let org = zone.org_id.clone();
    let outside_arn = |account: Option<String>, member: bool| {
        let in_zone = in_zone.clone();
        let owner = zone.owner.clone();
        Domain::Outside {
            literals_ok: account.is_some(),
            fresh: match &account {
                Some(a) => vec![
                    format!("arn:aws:iam::{a}:role/zz-fresh"),
                    format!("arn:aws:iam::{a}:root"),
                ],
                None if member => vec![format!("arn:aws:iam::{UNNAMED_MEMBER}:role/zz-fresh")],
                None => vec![format!("arn:aws:iam::{UNNAMED_OUTSIDER}:role/zz-fresh")],
            },
            eligible: Box::new(move |v: &str| match (arn_account(v), &account) {
                (Some(a), Some(want)) => a == want,
                (Some(a), None) if member => a != owner,
                (Some(a), None) => !in_zone(a),
                (None, _) => false,
            }),
            absent_ok: anyone,
            account_shaped: false,
        }
    };
    match (kind, party) {
        (IdKind::Account, Class::Account(a) | Class::ZoneAccount(a)) => {
            Domain::Values(vec![Some(a.clone())])
        }
        (IdKind::Account, Class::Owner) => Domain::Values(vec![Some(zone.owner.clone())]),
        (IdKind::Account, Class::OrgMember) => {
            let owner = zone.owner.clone();
            Domain::Outside {
                eligible: Box::new(move |v: &str| v != owner),
                fresh: vec![UNNAMED_MEMBER.into()],
                absent_ok: false,
                account_shaped: true,
                literals_ok: false,
            }
        }
        (IdKind::Account, _) => Domain::Outside {
            eligible: Box::new(move |v: &str| !in_zone(v)),
            fresh: vec![UNNAMED_OUTSIDER.into(), "000000000007".into()],
            absent_ok: anyone,
            account_shaped: true,
            literals_ok: false,
        },
        (IdKind::Arn, Class::Account(a) | Class::ZoneAccount(a)) => {
            outside_arn(Some(a.clone()), false)
        }
        (IdKind::Arn, Class::Owner) => outside_arn(Some(zone.owner.clone()), false),
        (IdKind::Arn, Class::OrgMember) => outside_arn(None, true),
        (IdKind::Arn, _) => outside_arn(None, false),
        (IdKind::OrgId, Class::Org(o)) => Domain::Values(vec![Some(o.clone())]),
        (IdKind::OrgId, Class::ZoneAccount(_) | Class::OrgMember | Class::Owner) => match &org {
            Some(o) => Domain::Values(vec![Some(o.clone())]),
            None => Domain::Free,
        },
        (IdKind::OrgId, _) => Domain::Outside {
            eligible: Box::new(move |v: &str| org.as_deref() != Some(v)),
            fresh: vec!["o-zzzzzzzzzz".into()],
            absent_ok: true,
            account_shaped: false,
            literals_ok: false,
        },
        (IdKind::OrgPaths, Class::ZoneAccount(_) | Class::OrgMember | Class::Owner) => Domain::Free,
        (IdKind::OrgPaths, _) => Domain::Outside {
            eligible: Box::new(move |v: &str| match &org {
                Some(o) => !v.starts_with(&format!("{o}/")),
                None => true,
            }),
            fresh: vec!["o-zzzzzzzzzz/r-zzzz/ou-zzzz-zzzzzzzz/".into()],
            absent_ok: true,
            account_shaped: false,
            literals_ok: false,
        },
        (IdKind::UserId, Class::UserId(u)) => Domain::Values(vec![Some(u.clone())]),
        (IdKind::UserId, Class::ZoneAccount(_) | Class::Owner) => Domain::Free,
        (IdKind::UserId, _) => Domain::Outside {
            // Whoever names a session picks its name, never another
            // principal's unique id or a zone account's id.
            eligible: Box::new(move |v: &str| !in_zone(v.split(':').next().unwrap_or(v))),
            fresh: vec!["AROAZZZZZZZZZZZZZZZZZ:zz-fresh".into()],
            absent_ok: anyone,
            account_shaped: false,
            literals_ok: false,
        },
    }
}

fn domain(key: &str, class: &Class, zone: &Zone) -> Domain {
    let id_kind = match key {
        "aws:principalaccount" | "aws:sourceaccount" | "aws:sourceowner" => Some(IdKind::Account),
        "aws:principalarn" | "aws:sourcearn" => Some(IdKind::Arn),
        "aws:principalorgid" | "aws:sourceorgid" => Some(IdKind::OrgId),
        "aws:principalorgpaths" | "aws:sourceorgpaths" => Some(IdKind::OrgPaths),
        "aws:userid" => Some(IdKind::UserId),
        _ => None,
    };
    let source_key = key.starts_with("aws:source") && id_kind.is_some();
    if let Some(kind) = id_kind {
        return match class {
            // Web-identity callers carry no AWS identity keys.
            Class::WebIdentity(_) => Domain::Values(vec![None]),
            // A service has no principal keys; its source keys are those of
            // the party it acts for.
            Class::Service(_, party) if source_key => identity_domain(kind, party, zone),
            Class::Service(_, _) => Domain::Values(vec![None]),
            // Source keys are set only for requests a service makes.
            _ if source_key => Domain::Values(vec![None]),
            _ => identity_domain(kind, class, zone),
        };
    }
    match key {
        // Network keys: only the owner is inside its own VPCs, endpoints and
        // private ranges; a wildcard value admits anyone's.
        "aws:sourcevpc" | "aws:sourcevpce" if *class != Class::Owner => Domain::Outside {
            eligible: Box::new(|_| false),
            fresh: vec!["vpc-zzzzzzzz".into(), "vpce-zzzzzzzz".into()],
            absent_ok: true,
            account_shaped: false,
            literals_ok: false,
        },
        "aws:sourceip" if *class != Class::Owner => Domain::Outside {
            eligible: Box::new(|_| false),
            fresh: vec!["198.51.100.77".into(), "2001:db8::77".into()],
            absent_ok: true,
            account_shaped: false,
            literals_ok: false,
        },
        // Facts of the resource, not the caller's to choose.
        "aws:resourceaccount" => Domain::Values(vec![Some(zone.owner.clone())]),
        "aws:resourceorgid" => match &zone.org_id {
            Some(o) => Domain::Values(vec![Some(o.clone())]),
            None => Domain::Free,
        },
        _ => Domain::Free,
    }
}

/// The values policy variables resolve to for a class (`${aws:PrincipalAccount}`,
/// `${aws:ResourceOrgID}`...), where the class fixes them.
fn base_context(class: &Class, zone: &Zone) -> RequestContext {
    let mut ctx = RequestContext::new();
    ctx.insert("aws:resourceaccount", [zone.owner.clone()]);
    if let Some(o) = &zone.org_id {
        ctx.insert("aws:resourceorgid", [o.clone()]);
    }
    let account = match class {
        Class::Account(a) | Class::ZoneAccount(a) => Some(a.clone()),
        Class::Owner => Some(zone.owner.clone()),
        Class::OrgMember => Some(UNNAMED_MEMBER.to_string()),
        Class::Anyone | Class::Org(_) | Class::UserId(_) => Some(UNNAMED_OUTSIDER.to_string()),
        Class::Service(_, _) | Class::WebIdentity(_) => None,
    };
    if let Some(a) = account {
        ctx.insert("aws:principalaccount", [a]);
    }
    let org = match class {
        Class::Org(o) => Some(o.clone()),
        Class::Owner | Class::ZoneAccount(_) | Class::OrgMember => zone.org_id.clone(),
        _ => None,
    };
    if let Some(o) = org {
        ctx.insert("aws:principalorgid", [o]);
    }
    ctx
}

/// Builds a concrete value from a pattern by filling its wildcards.
fn instantiate(pattern: &str, fill: &str) -> String {
    pattern.replace('*', fill).replace('?', &fill[..1])
}

/// Candidate values of the key for the class, or `None` for "free".
fn candidates(cond: &Condition, class: &Class, zone: &Zone) -> Option<Vec<Option<String>>> {
    let key = cond.key.lower.as_str();
    match domain(key, class, zone) {
        Domain::Free => None,
        Domain::Values(v) => Some(v),
        Domain::Outside {
            eligible,
            fresh,
            absent_ok,
            account_shaped,
            literals_ok,
        } => {
            let mut out: Vec<Option<String>> = Vec::new();
            if absent_ok {
                out.push(None);
            }
            for f in fresh {
                out.push(Some(f));
            }
            let has_wildcard = |s: &str| s.contains('*') || s.contains('?');
            for value in &cond.values {
                let v = value.value.as_str();
                if key == "aws:sourceip" {
                    // A public range is reachable from the internet.
                    if !is_private_cidr(v) {
                        if let Some(addr) = v.split('/').next() {
                            out.push(Some(addr.to_string()));
                        }
                    }
                    continue;
                }
                // A unique id is the named principal's: only a wildcard in the
                // id part lets a caller match (`*:alice`).
                if key == "aws:userid" {
                    let id = v.split(':').next().unwrap_or(v);
                    if !has_wildcard(id) {
                        continue;
                    }
                }
                for fill in ["9", "zq"] {
                    let fill = if account_shaped { "9" } else { fill };
                    let mut w = instantiate(v, fill);
                    if account_shaped && has_wildcard(v) {
                        // Pad or trim the fill so an account pattern yields 12 digits.
                        let fixed: usize = v.chars().filter(|c| *c != '*').count();
                        if fixed <= 12 {
                            w = instantiate(v, &"9".repeat((12 - fixed).max(1)));
                        }
                    }
                    let literal_ok = literals_ok && !has_wildcard(v) && eligible(v);
                    if (has_wildcard(v) && eligible(&w) && (!account_shaped || is_account_id(&w)))
                        || literal_ok
                    {
                        out.push(Some(w));
                    }
                }
            }
            Some(out)
        }
    }
}

/// Can the condition hold for some member of the class, must it hold for all?
pub fn condition_truth(cond: &Condition, class: &Class, zone: &Zone, vars: bool) -> Truth {
    if cond.operator.known().is_none() {
        // An operator we do not know: it may hold, it may not.
        return Truth::CHOSEN;
    }
    let Some(values) = candidates(cond, class, zone) else {
        return Truth::CHOSEN;
    };
    let base = base_context(class, zone);
    let mut possible = false;
    let mut necessary = true;
    for v in values {
        let mut ctx = base.clone();
        match &v {
            Some(v) => {
                ctx.insert(&cond.key.lower, [v.clone()]);
            }
            None => {
                ctx.insert(&cond.key.lower, Vec::<String>::new());
            }
        }
        let t = cond.evaluate(&ctx, vars);
        possible |= t.maybe();
        necessary &= t.is_true();
    }
    Truth {
        possible,
        necessary,
    }
}

/// Literal values of identity keys: the named parties that get a class of
/// their own (accounts, organizations, unique ids).
pub fn named_classes(cond: &Condition, zone: &Zone, out: &mut BTreeSet<Class>) {
    let key = cond.key.lower.as_str();
    if !keys::is_identity_key(key) {
        return;
    }
    for value in &cond.values {
        let v = value.value.as_str();
        if v.contains('*') || v.contains('?') || v.contains("${") {
            continue;
        }
        match key {
            "aws:principalaccount" | "aws:sourceaccount" | "aws:sourceowner"
                if is_account_id(v) =>
            {
                out.insert(account_class(v, zone));
            }
            "aws:principalarn" | "aws:sourcearn" => {
                if let Some(a) = arn_account(v).filter(|a| is_account_id(a)) {
                    out.insert(account_class(a, zone));
                }
            }
            "aws:principalorgid" | "aws:sourceorgid" if !zone.is_our_org(v) => {
                out.insert(Class::Org(v.to_string()));
            }
            "aws:principalorgpaths" | "aws:sourceorgpaths" => {
                if let Some(o) = v.split('/').next().filter(|o| o.starts_with("o-")) {
                    if !zone.is_our_org(o) {
                        out.insert(Class::Org(o.to_string()));
                    }
                }
            }
            "aws:userid" => {
                let prefix = v.split(':').next().unwrap_or(v);
                if is_account_id(prefix) {
                    out.insert(account_class(prefix, zone));
                } else {
                    out.insert(Class::UserId(v.to_string()));
                }
            }
            _ => {}
        }
    }
}

pub fn account_class(account: &str, zone: &Zone) -> Class {
    if account == zone.owner {
        Class::Owner
    } else if zone.contains_account(account) {
        Class::ZoneAccount(account.to_string())
    } else {
        Class::Account(account.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{parse, PolicyKind};

    fn zone() -> Zone {
        Zone {
            owner: "111122223333".into(),
            accounts: ["111122223333".to_string(), "444455556666".to_string()].into(),
            org_id: Some("o-ours".into()),
        }
    }

    fn cond(op: &str, key: &str, values: &str) -> Condition {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{{"{op}":{{"{key}":{values}}}}}}}}}"#
        );
        parse(&text, PolicyKind::Resource).unwrap().statements[0].conditions[0].clone()
    }

    fn truth(op: &str, key: &str, values: &str, class: &Class) -> Truth {
        condition_truth(&cond(op, key, values), class, &zone(), true)
    }

    #[test]
    fn org_conditions() {
        let any = Class::Anyone;
        assert!(!truth("StringEquals", "aws:PrincipalOrgID", r#""o-ours""#, &any).possible);
        assert!(truth("StringLike", "aws:PrincipalOrgID", r#""*""#, &any).possible);
        assert!(truth("StringLike", "aws:PrincipalOrgID", r#""o-*""#, &any).possible);
        assert!(
            truth(
                "StringEqualsIfExists",
                "aws:PrincipalOrgID",
                r#""o-ours""#,
                &any
            )
            .possible
        );
        assert!(
            truth(
                "ForAllValues:StringEquals",
                "aws:PrincipalOrgID",
                r#""o-ours""#,
                &any
            )
            .possible
        );
        // Deny unless our org: applies to every outsider.
        assert!(truth("StringNotEquals", "aws:PrincipalOrgID", r#""o-ours""#, &any).necessary);
        assert!(
            truth(
                "StringEquals",
                "aws:PrincipalOrgID",
                r#""o-ours""#,
                &Class::OrgMember
            )
            .necessary
        );
    }

    #[test]
    fn account_and_arn_conditions() {
        let any = Class::Anyone;
        assert!(
            !truth(
                "StringEquals",
                "aws:PrincipalAccount",
                r#""111122223333""#,
                &any
            )
            .possible
        );
        assert!(truth("StringLike", "aws:PrincipalAccount", r#""*""#, &any).possible);
        assert!(
            !truth(
                "ArnLike",
                "aws:PrincipalArn",
                r#""arn:aws:iam::111122223333:role/*""#,
                &any
            )
            .possible
        );
        assert!(
            truth(
                "ArnLike",
                "aws:PrincipalArn",
                r#""arn:aws:iam::*:role/deploy""#,
                &any
            )
            .possible
        );
        let ext = Class::Account("999988887777".into());
        assert!(
            truth(
                "ArnEquals",
                "aws:PrincipalArn",
                r#""arn:aws:iam::999988887777:role/x""#,
                &ext
            )
            .possible
        );
        assert!(
            !truth(
                "ArnEquals",
                "aws:PrincipalArn",
                r#""arn:aws:iam::999988887777:role/x""#,
                &ext
            )
            .necessary
        );
    }

    #[test]
    fn network_conditions() {
        let any = Class::Anyone;
        assert!(!truth("StringEquals", "aws:SourceVpce", r#""vpce-1a2b3c""#, &any).possible);
        assert!(truth("StringLike", "aws:SourceVpce", r#""vpce-*""#, &any).possible);
        assert!(!truth("IpAddress", "aws:SourceIp", r#""10.0.0.0/8""#, &any).possible);
        assert!(truth("IpAddress", "aws:SourceIp", r#""203.0.113.0/24""#, &any).possible);
        assert!(truth("NotIpAddress", "aws:SourceIp", r#""10.0.0.0/8""#, &any).necessary);
        // Anything else is the caller's choice.
        let t = truth("Bool", "aws:SecureTransport", r#""true""#, &any);
        assert!(t.possible && !t.necessary);
    }

    #[test]
    fn service_source_conditions() {
        let svc = Class::Service("codebuild.amazonaws.com".into(), Box::new(Class::Anyone));
        assert!(
            !truth(
                "StringEquals",
                "aws:SourceAccount",
                r#""111122223333""#,
                &svc
            )
            .possible
        );
        assert!(truth("StringLike", "aws:SourceAccount", r#""*""#, &svc).possible);
        assert!(
            !truth(
                "StringEquals",
                "aws:SourceAccount",
                r#""111122223333""#,
                &Class::Anyone
            )
            .possible
        );
    }

    #[test]
    fn private_ranges() {
        assert!(is_private_cidr("10.1.0.0/16"));
        assert!(!is_private_cidr("0.0.0.0/0"));
        assert!(!is_private_cidr("203.0.113.0/24"));
    }
}
