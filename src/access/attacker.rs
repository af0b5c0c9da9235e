//! The attacker model: for one class of principal, which values of each
//! condition key it can present, and so whether a condition can hold for
//! some member of the class (`possible`) or holds for every member
//! (`necessary`).
//!
//! A condition restricts a grant to the zone of trust only if an outsider
//! cannot satisfy it: identity keys compared with values inside the zone,
//! network keys pinned to concrete VPCs, VPC endpoints or private address
//! ranges. The clock is the scan's reference time. Keys a request for the
//! asked action never carries are absent. Everything else (tags, MFA, TLS,
//! unknown keys) is the caller's to choose. Decisions are made by evaluating
//! the condition exactly (the policy module's evaluator) on a finite set of
//! candidate values: the class's own values, values its members can name
//! themselves that match the policy's patterns ([`super::forge`]), fresh
//! values that match no literal, and absence.
//!
//! Every account id the document writes is a party of its own
//! ([`named_classes`]); "anyone" is valued with accounts the document never
//! names ([`Frame`]). Policy variables are resolved per class: a value every
//! member shares (its account, the resource's facts, the time) becomes
//! literal, a value members choose (their tags) becomes a wildcard, and a
//! variable without a value is undecided.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::forge::{self, Mode, Piece};
use crate::policy::condition::{parse_cidr, ConditionValue, KnownOperator, OperatorFamily};
use crate::policy::keys;
use crate::policy::pattern::{self, VariableValue};
use crate::policy::{
    account_literals, document_accounts, Condition, Operator, PolicyDocument, RequestContext,
    ResourceElement, Statement, Tri,
};

/// A class of principals the analysis asks about. Reports name it by its
/// label ("anyone", an account id, "org o-...").
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
    /// The scan's reference time (seconds since the epoch): what
    /// `aws:CurrentTime` and `aws:EpochTime` are. `None`: the caller's choice.
    pub time: Option<i64>,
}

impl Zone {
    pub fn contains_account(&self, account: &str) -> bool {
        account == self.owner || self.accounts.contains(account)
    }

    fn is_our_org(&self, org: &str) -> bool {
        self.org_id.as_deref() == Some(org)
    }
}

/// What one question is asked against: the zone, the accounts the document
/// names (each a party of its own, so "anyone" is never one of them), the
/// keys the asked actions' requests never carry, and the time.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub zone: &'a Zone,
    /// Twelve-digit account ids written anywhere in the document's
    /// principals and condition values.
    pub named: BTreeSet<String>,
    /// Two outside accounts the document never names: "anyone" is valued
    /// with them.
    pub outsiders: [String; 2],
    /// Keys (lower-case; a stem ending in `/` covers the keys under it) the
    /// requests asked about never carry.
    pub absent: Vec<String>,
    /// Seconds since the epoch, or the caller's choice.
    pub time: Option<i64>,
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl serde::Serialize for Class {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

impl<'a> Frame<'a> {
    /// The frame for questions about one document.
    pub fn new(zone: &'a Zone, doc: &PolicyDocument) -> Frame<'a> {
        Frame::with_named(zone, document_accounts(doc))
    }

    pub fn with_named(zone: &'a Zone, named: BTreeSet<String>) -> Frame<'a> {
        let outsiders = outsiders(|a| named.contains(a) || zone.contains_account(a));
        Frame {
            zone,
            named,
            outsiders,
            absent: Vec::new(),
            time: zone.time,
        }
    }

    fn key_absent(&self, key: &str) -> bool {
        self.absent.iter().any(|a| absent_covers(a, key))
    }
}

/// Whether an absent-key entry (a key, or a stem ending in `/`) covers a key.
fn absent_covers(absent: &str, key: &str) -> bool {
    if absent.ends_with('/') {
        key.starts_with(absent)
    } else {
        key == absent
    }
}

/// Whether a statement's judgement can change with the parts of a frame that
/// differ between the questions about one document: which of these keys it
/// holds absent, and its time. Only a condition on one of those keys or on
/// the time keys reads them, or a policy variable (resolved against the
/// frame); a statement with none is judged the same in every frame.
pub(crate) fn depends_on_frame(st: &Statement, absent: &[&str]) -> bool {
    let variables = st.variables_enabled
        && (st
            .resource
            .as_ref()
            .is_some_and(|r| r.patterns.iter().any(|p| pattern::has_variables(p)))
            || st
                .conditions
                .iter()
                .any(|c| c.values.iter().any(|v| pattern::has_variables(&v.value))));
    variables
        || st.conditions.iter().any(|c| {
            let key = c.key.lower.as_str();
            matches!(key, "aws:currenttime" | "aws:epochtime")
                || absent.iter().any(|a| absent_covers(a, key))
        })
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

/// A condition's truth for a class, and why it could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub truth: Truth,
    /// Set when the answer is a bound, not a decision (an unresolvable
    /// policy variable, an empty value list...): the reason.
    pub undecided: Option<String>,
}

impl Judgement {
    fn decided(truth: Truth) -> Judgement {
        Judgement {
            truth,
            undecided: None,
        }
    }

    fn undecided(reason: String) -> Judgement {
        Judgement {
            truth: Truth::CHOSEN,
            undecided: Some(reason),
        }
    }
}

/// What values of a key a class can present.
enum Domain {
    /// Exactly these (None: the key is absent).
    Values(Vec<Option<String>>),
    /// Any value the predicate accepts, and absence when `absent_ok`.
    /// Candidates come from the templates (values the class's members can
    /// name themselves, matched against each policy pattern), from fresh
    /// values, and from literals when `literals_ok`.
    Outside {
        eligible: Box<dyn Fn(&str) -> bool>,
        fresh: Vec<String>,
        absent_ok: bool,
        templates: Vec<Vec<Piece>>,
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
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdKind {
    Account,
    PrincipalArn,
    SourceArn,
    OrgId,
    OrgPaths,
    UserId,
}

/// A synthetic account of our organization that no policy names.
const UNNAMED_MEMBER: &str = "000000000001";

/// Outside accounts are picked from this sequence, the first two not taken.
const OUTSIDER_FIRST: u64 = 999_999_999_999;
const OUTSIDER_STEP: u64 = 1_000_003;

fn outsiders(taken: impl Fn(&str) -> bool) -> [String; 2] {
    let mut free = (0..=OUTSIDER_FIRST / OUTSIDER_STEP)
        .map(|i| format!("{:012}", OUTSIDER_FIRST - i * OUTSIDER_STEP))
        .filter(|a| !taken(a));
    let first = free.next().unwrap_or_default();
    let second = free.next().unwrap_or_default();
    [first, second]
}

/// An account the analysis may make up as a witness (the unnamed member,
/// an outsider): a document or zone naming one changes which it picks.
pub fn is_witness_account(id: &str) -> bool {
    id == UNNAMED_MEMBER
        || id.len() == 12
            && id.parse::<u64>().is_ok_and(|v| {
                v <= OUTSIDER_FIRST && (OUTSIDER_FIRST - v).is_multiple_of(OUTSIDER_STEP)
            })
}

/// The accounts the analysis makes up in a zone (`in_zone` tells its
/// accounts) for any document that names none of them.
pub fn witness_accounts(in_zone: impl Fn(&str) -> bool) -> [String; 3] {
    let [first, second] = outsiders(in_zone);
    [UNNAMED_MEMBER.to_string(), first, second]
}

/// Which accounts of a class an identity value may carry.
#[derive(Clone)]
enum Accounts {
    One(String),
    /// Any account of the zone but the owner.
    Members,
    /// Any account outside the zone the document does not name.
    Unnamed,
}

/// The values a party (a direct caller, or the party a service acts for)
/// has for an identity key.
fn identity_domain(kind: IdKind, party: &Class, frame: &Frame) -> Domain {
    let zone = frame.zone;
    let anyone = matches!(party, Class::Anyone);
    let org = zone.org_id.clone();
    let accounts = match party {
        Class::Account(a) | Class::ZoneAccount(a) => Accounts::One(a.clone()),
        Class::Owner => Accounts::One(zone.owner.clone()),
        Class::OrgMember => Accounts::Members,
        _ => Accounts::Unnamed,
    };
    let account_ok: Box<dyn Fn(&str) -> bool> = {
        let owner = zone.owner.clone();
        let zone_accounts = zone.accounts.clone();
        let named = frame.named.clone();
        match accounts.clone() {
            Accounts::One(a) => Box::new(move |v: &str| v == a),
            Accounts::Members => Box::new(move |v: &str| v != owner && is_account_id(v)),
            Accounts::Unnamed => Box::new(move |v: &str| {
                v != owner && !zone_accounts.contains(v) && !named.contains(v)
            }),
        }
    };
    let preferred = match &accounts {
        Accounts::One(a) => a.clone(),
        Accounts::Members => UNNAMED_MEMBER.to_string(),
        Accounts::Unnamed => frame.outsiders[0].clone(),
    };
    let account_piece = match &accounts {
        Accounts::One(a) => forge::account(Some(a), a),
        _ => forge::account(None, &preferred),
    };
    // The shortest value may put the pattern's digits in the account part,
    // naming a party of its own; with the account fixed to one the class
    // holds, the pattern must be matched by the names the caller picks.
    let with_fixed_account = |make: &dyn Fn(&Piece) -> Vec<Vec<Piece>>| {
        let mut t = make(&account_piece);
        if !matches!(accounts, Accounts::One(_)) {
            t.extend(make(&forge::account(Some(&preferred), &preferred)));
        }
        t
    };
    let literals_ok = matches!(accounts, Accounts::One(_));
    match (kind, party) {
        (IdKind::Account, _) => {
            let fresh = match &accounts {
                Accounts::One(a) => return Domain::Values(vec![Some(a.clone())]),
                Accounts::Members => vec![UNNAMED_MEMBER.to_string()],
                Accounts::Unnamed => frame.outsiders.to_vec(),
            };
            Domain::Outside {
                eligible: account_ok,
                fresh,
                absent_ok: anyone,
                templates: vec![vec![account_piece]],
                literals_ok: false,
            }
        }
        (IdKind::PrincipalArn | IdKind::SourceArn, _) => {
            let templates = if kind == IdKind::PrincipalArn {
                with_fixed_account(&forge::principal_arns)
            } else {
                // An account-less resource (an S3 bucket) can be anyone's.
                with_fixed_account(&|a: &Piece| forge::resource_arns(a, anyone))
            };
            let fresh = vec![
                format!("arn:aws:iam::{preferred}:role/zz-fresh"),
                format!("arn:aws:iam::{preferred}:root"),
            ];
            let source = kind == IdKind::SourceArn;
            Domain::Outside {
                eligible: Box::new(move |v: &str| {
                    let shaped = !source || forge::source_arn_has_its_shape(v);
                    shaped
                        && match arn_account(v) {
                            Some("") => anyone,
                            Some(a) => account_ok(a),
                            None => false,
                        }
                }),
                fresh,
                absent_ok: anyone,
                templates,
                literals_ok,
            }
        }
        (IdKind::OrgId, Class::Org(o)) => Domain::Values(vec![Some(o.clone())]),
        (IdKind::OrgId, Class::ZoneAccount(_) | Class::OrgMember | Class::Owner) => match &org {
            Some(o) => Domain::Values(vec![Some(o.clone())]),
            None => Domain::Free,
        },
        (IdKind::OrgId, _) => Domain::Outside {
            eligible: Box::new(move |v: &str| org.as_deref() != Some(v)),
            fresh: vec!["o-zzzzzzzzzz".into()],
            absent_ok: true,
            templates: vec![],
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
            templates: vec![],
            literals_ok: false,
        },
        (IdKind::UserId, Class::UserId(u)) => Domain::Values(vec![Some(u.clone())]),
        (IdKind::UserId, Class::ZoneAccount(_) | Class::Owner) => Domain::Free,
        (IdKind::UserId, _) => {
            let preferred_id = preferred.clone();
            Domain::Outside {
                // Whoever names a session picks its name, never another
                // principal's unique id or another account's id.
                eligible: Box::new(move |v: &str| {
                    let id = v.split(':').next().unwrap_or(v);
                    !is_account_id(id) || account_ok(id)
                }),
                fresh: vec![
                    "AROAZZZZZZZZZZZZZZZZZ:zz-fresh".into(),
                    format!("{preferred_id}:zz-fresh"),
                ],
                absent_ok: anyone,
                templates: with_fixed_account(&forge::user_ids),
                literals_ok: false,
            }
        }
    }
}

fn id_kind(key: &str) -> Option<IdKind> {
    match key {
        "aws:principalaccount" | "aws:sourceaccount" | "aws:sourceowner" => Some(IdKind::Account),
        "aws:principalarn" => Some(IdKind::PrincipalArn),
        "aws:sourcearn" => Some(IdKind::SourceArn),
        "aws:principalorgid" | "aws:sourceorgid" => Some(IdKind::OrgId),
        "aws:principalorgpaths" | "aws:sourceorgpaths" => Some(IdKind::OrgPaths),
        "aws:userid" => Some(IdKind::UserId),
        _ => None,
    }
}

/// RFC 3339 text of a time in seconds since the epoch.
pub(crate) fn rfc3339(secs: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn domain(key: &str, class: &Class, frame: &Frame) -> Domain {
    let zone = frame.zone;
    if frame.key_absent(key) {
        return Domain::Values(vec![None]);
    }
    if let Some(kind) = id_kind(key) {
        let source_key = key.starts_with("aws:source");
        return match class {
            // Web-identity callers carry no AWS identity keys.
            Class::WebIdentity(_) => Domain::Values(vec![None]),
            // A service has no principal keys; its source keys are those of
            // the party it acts for.
            Class::Service(_, party) if source_key => identity_domain(kind, party, frame),
            Class::Service(_, _) => Domain::Values(vec![None]),
            // Source keys are set only for requests a service makes.
            _ if source_key => Domain::Values(vec![None]),
            _ => identity_domain(kind, class, frame),
        };
    }
    match key {
        // A service calling with its own principal carries no network keys.
        "aws:sourcevpc" | "aws:sourcevpce" | "aws:sourceip"
            if matches!(class, Class::Service(..)) =>
        {
            Domain::Values(vec![None])
        }
        // Network keys: only the owner is inside its own VPCs, endpoints and
        // private ranges; a wildcard value admits anyone's.
        "aws:sourcevpc" | "aws:sourcevpce" if *class != Class::Owner => Domain::Outside {
            eligible: Box::new(|_| false),
            fresh: vec!["vpc-zzzzzzzz".into(), "vpce-zzzzzzzz".into()],
            absent_ok: true,
            templates: vec![],
            literals_ok: false,
        },
        "aws:sourceip" if *class != Class::Owner => Domain::Outside {
            eligible: Box::new(|_| false),
            fresh: vec!["198.51.100.77".into(), "2001:db8::77".into()],
            absent_ok: true,
            templates: vec![],
            literals_ok: false,
        },
        // Facts of the resource, not the caller's to choose.
        "aws:resourceaccount" => Domain::Values(vec![Some(zone.owner.clone())]),
        "aws:resourceorgid" => match &zone.org_id {
            Some(o) => Domain::Values(vec![Some(o.clone())]),
            None => Domain::Free,
        },
        // The clock is the scan's, not the caller's.
        "aws:currenttime" => match frame.time.and_then(rfc3339) {
            Some(t) => Domain::Values(vec![Some(t)]),
            None => Domain::Free,
        },
        "aws:epochtime" => match frame.time {
            Some(t) => Domain::Values(vec![Some(t.to_string())]),
            None => Domain::Free,
        },
        _ => Domain::Free,
    }
}

/// Builds a concrete value from a pattern by filling its wildcards.
fn instantiate(pattern: &str, fill: &str) -> String {
    pattern.replace('*', fill).replace('?', &fill[..1])
}

/// How a positive operator family reads its policy values.
fn pattern_mode(family: OperatorFamily) -> Mode {
    match family.positive() {
        OperatorFamily::StringLike => Mode::Like,
        OperatorFamily::ArnLike | OperatorFamily::ArnEquals => Mode::Arn,
        _ => Mode::Exact,
    }
}

/// Candidate values of the key for the class, or `None` for "free"; an
/// error when a pattern is too involved to search.
fn candidates(
    cond: &Condition,
    domain: Domain,
    frame: &Frame,
) -> Result<Option<Vec<Option<String>>>, forge::GaveUp> {
    let key = cond.key.lower.as_str();
    Ok(match domain {
        Domain::Free => None,
        Domain::Values(v) => Some(v),
        Domain::Outside {
            eligible,
            fresh,
            absent_ok,
            templates,
            literals_ok,
        } => {
            let mode = cond
                .operator
                .known()
                .map(|op| pattern_mode(op.family))
                .unwrap_or(Mode::Exact);
            let mut out: Vec<Option<String>> = Vec::new();
            if absent_ok {
                out.push(None);
            }
            for f in fresh {
                out.push(Some(f));
            }
            let has_wildcard =
                |s: &str| mode != Mode::Exact && (s.contains('*') || s.contains('?'));
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
                    if !id.contains('*') && !id.contains('?') {
                        continue;
                    }
                }
                if !has_wildcard(v) {
                    // A literal is a named party's, unless it holds the
                    // account standing for the class (a resolved variable).
                    let representative =
                        v.contains(&frame.outsiders[0]) || v.contains(UNNAMED_MEMBER);
                    if (literals_ok || representative) && eligible(v) {
                        out.push(Some(v.to_string()));
                    }
                    continue;
                }
                if !templates.is_empty() {
                    // Values the class's members can name themselves.
                    for t in &templates {
                        if let Some(w) = forge::witness(t, v, mode)? {
                            if eligible(&w) {
                                out.push(Some(w));
                            } else if key == "aws:sourcearn"
                                && !forge::source_arn_has_its_shape(&w)
                                && forge::literal_service(v).is_none()
                            {
                                // The shortest value took a service of known
                                // shape; a longer service name might match
                                // as a generic ARN. Undecided, not "no".
                                return Ok(None);
                            }
                        }
                    }
                    continue;
                }
                // Without templates (organization ids and paths, network
                // keys): fill the wildcards.
                for fill in ["9", "zq"] {
                    let w = instantiate(v, fill);
                    if eligible(&w) {
                        out.push(Some(w));
                    }
                }
            }
            Some(out)
        }
    })
}

/// Keys that are the same for every member of a class (for policy
/// variables): the class's own account, the resource's facts, the time.
fn fixed_value(key: &str, class: &Class, frame: &Frame) -> Option<Option<String>> {
    if key == "aws:principalaccount" {
        let account = match class {
            Class::Account(a) | Class::ZoneAccount(a) => Some(a.clone()),
            Class::Owner => Some(frame.zone.owner.clone()),
            Class::Service(_, _) | Class::WebIdentity(_) => None,
            // One account stands for the class's many: the document names
            // none of them, so each behaves as this one.
            Class::OrgMember => Some(UNNAMED_MEMBER.to_string()),
            Class::Anyone | Class::Org(_) | Class::UserId(_) => Some(frame.outsiders[0].clone()),
        };
        return Some(account);
    }
    match domain(key, class, frame) {
        Domain::Values(v) if v.len() == 1 => Some(v[0].clone()),
        _ => None,
    }
}

/// What one policy variable stands for, for a class: noting whether members
/// choose it, or which key has no value.
fn variable_value(
    key: &str,
    default: Option<&str>,
    class: &Class,
    frame: &Frame,
    chosen: &mut bool,
    unresolved: &mut Option<String>,
) -> VariableValue {
    match fixed_value(key, class, frame) {
        Some(Some(value)) => VariableValue::Literal(value),
        Some(None) => match default {
            Some(d) => VariableValue::Literal(d.to_string()),
            None => {
                *unresolved = Some(key.to_string());
                VariableValue::Unresolved
            }
        },
        None => {
            *chosen = true;
            VariableValue::Chosen
        }
    }
}

/// A policy variable (its key) with no value for a class and no default.
#[derive(Debug)]
struct UnresolvedVariable(String);

/// The condition with its policy variables resolved for the class: values
/// every member shares become literal text, values members choose (their
/// tags, names, unknown keys) become `*` and the operator a wildcard one.
/// Returns the rewritten condition and whether a chosen variable was met,
/// or the variable that cannot be resolved.
fn resolve_variables(
    cond: &Condition,
    class: &Class,
    frame: &Frame,
) -> Result<(Condition, bool), UnresolvedVariable> {
    let Some(op) = cond.operator.known() else {
        return Ok((cond.clone(), false));
    };
    let wildcards = op.family.is_wildcard();
    let mut chosen = false;
    let mut unresolved = None;
    let mut values = Vec::with_capacity(cond.values.len());
    for v in &cond.values {
        if !pattern::has_variables(&v.value) {
            values.push(v.clone());
            continue;
        }
        let rewritten = pattern::rewrite_variables(&v.value, wildcards, &mut |key, default| {
            variable_value(key, default, class, frame, &mut chosen, &mut unresolved)
        });
        match rewritten {
            Some(text) => values.push(ConditionValue {
                value: text,
                original: v.original,
            }),
            None => {
                return Err(UnresolvedVariable(unresolved.unwrap_or_default()));
            }
        }
    }
    let mut family = op.family;
    if chosen && !wildcards {
        family = match family.positive() {
            OperatorFamily::StringEquals | OperatorFamily::StringEqualsIgnoreCase => {
                if family.is_negated() {
                    OperatorFamily::StringNotLike
                } else {
                    OperatorFamily::StringLike
                }
            }
            _ => family,
        };
    }
    let raw = op.raw.clone();
    Ok((
        Condition {
            operator: Operator::Known(KnownOperator {
                raw,
                family,
                if_exists: op.if_exists,
                set: op.set,
            }),
            key: cond.key.clone(),
            values,
        },
        chosen,
    ))
}

/// Can the condition hold for some member of the class, must it hold for all?
pub fn condition_truth(cond: &Condition, class: &Class, frame: &Frame, vars: bool) -> Truth {
    judge_condition(cond, class, frame, vars).truth
}

/// [`condition_truth`], with the reason when the answer is only a bound.
pub fn judge_condition(cond: &Condition, class: &Class, frame: &Frame, vars: bool) -> Judgement {
    let Some(op) = cond.operator.known() else {
        // An operator we do not know: it may hold, it may not.
        return Judgement::undecided(format!("unknown condition operator {}", cond.operator));
    };
    if cond.values.is_empty() {
        // IAM documents no meaning for an empty value list.
        return Judgement::undecided(format!(
            "{} {} has an empty value list",
            cond.operator, cond.key.raw
        ));
    }
    // A key the class never carries decides the condition whatever its
    // values say (variables included).
    let key_domain = domain(&cond.key.lower, class, frame);
    if matches!(key_domain, Domain::Values(ref v) if v.iter().all(Option::is_none)) {
        let t = cond.evaluate(&RequestContext::new(), vars);
        return Judgement::decided(Truth::from_tri(t));
    }
    let uses_variables = vars
        && op.family.supports_variables()
        && cond.values.iter().any(|v| pattern::has_variables(&v.value));
    // Resolving variables rewrites values only: the key, and so its domain,
    // stay the same.
    let (cond, chosen) = if uses_variables {
        match resolve_variables(cond, class, frame) {
            Ok((resolved, chosen)) => (Cow::Owned(resolved), chosen),
            Err(UnresolvedVariable(key)) => {
                return Judgement::undecided(format!(
                    "policy variable ${{{key}}} of {} {} has no value for {}",
                    cond.operator,
                    cond.key.raw,
                    class.label()
                ))
            }
        }
    } else {
        (Cow::Borrowed(cond), false)
    };
    // A member may set a chosen variable so that a negated operator holds,
    // or so that a positive one fails.
    if chosen && cond.operator.known().is_some_and(|o| o.family.is_negated()) {
        return Judgement::decided(Truth::CHOSEN);
    }
    let values = match candidates(&cond, key_domain, frame) {
        Ok(Some(values)) => values,
        Ok(None) => return Judgement::decided(Truth::CHOSEN),
        Err(forge::GaveUp) => {
            return Judgement::undecided(format!(
                "a pattern of {} {} is too involved to decide who can match it",
                cond.operator, cond.key.raw
            ))
        }
    };
    let mut possible = false;
    let mut necessary = true;
    for v in values {
        let mut ctx = RequestContext::new();
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
    Judgement::decided(Truth {
        possible,
        necessary: necessary && !chosen,
    })
}

/// A Resource/NotResource element's truth for a class, with its policy
/// variables resolved as [`resolve_variables`] does.
pub fn resource_truth(
    element: &ResourceElement,
    arn: &str,
    class: &Class,
    frame: &Frame,
    vars: bool,
) -> Judgement {
    if !vars || !element.patterns.iter().any(|p| pattern::has_variables(p)) {
        return Judgement::decided(Truth::from_tri(element.matches(arn, vars, None)));
    }
    let mut chosen = false;
    let mut unresolved = None;
    let mut patterns = Vec::with_capacity(element.patterns.len());
    for p in &element.patterns {
        let rewritten = pattern::rewrite_variables(p, true, &mut |key, default| {
            variable_value(key, default, class, frame, &mut chosen, &mut unresolved)
        });
        match rewritten {
            Some(text) => patterns.push(text),
            None => {
                return Judgement::undecided(format!(
                    "policy variable ${{{}}} of the resource element has no value for {}",
                    unresolved.unwrap_or_default(),
                    class.label()
                ))
            }
        }
    }
    let rewritten = ResourceElement {
        negated: element.negated,
        patterns,
    };
    let t = rewritten.matches(arn, true, None);
    if chosen {
        // Members choose the value: it may or may not match.
        return Judgement::decided(if element.negated {
            Truth::CHOSEN
        } else {
            Truth {
                possible: t.maybe(),
                necessary: false,
            }
        });
    }
    Judgement::decided(Truth::from_tri(t))
}

/// Literal values of identity keys: the named parties that get a class of
/// their own (accounts, organizations, unique ids). Account ids anywhere in
/// a value name their account, wildcards around them or not.
pub fn named_classes(cond: &Condition, zone: &Zone, out: &mut BTreeSet<Class>) {
    let key = cond.key.lower.as_str();
    for value in &cond.values {
        let mut accounts = BTreeSet::new();
        account_literals(&value.value, &mut accounts);
        for a in accounts {
            out.insert(account_class(&a, zone));
        }
    }
    if !keys::is_identity_key(key) {
        return;
    }
    for value in &cond.values {
        let v = value.value.as_str();
        if v.contains('*') || v.contains('?') || v.contains("${") {
            continue;
        }
        match key {
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
                if !is_account_id(prefix) {
                    out.insert(Class::UserId(v.to_string()));
                }
            }
            _ => {}
        }
    }
    // A unique id names one principal even when the session part is a
    // pattern (`AROAEXAMPLEID:*`).
    if key == "aws:userid" {
        for value in &cond.values {
            let v = value.value.as_str();
            let (id, session) = v.split_once(':').unwrap_or((v, ""));
            let pattern = |s: &str| s.contains('*') || s.contains('?');
            if !pattern(id) && pattern(session) && !is_account_id(id) && !v.contains("${") {
                out.insert(Class::UserId(v.to_string()));
            }
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
            time: None,
        }
    }

    fn cond(op: &str, key: &str, values: &str) -> Condition {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{{"{op}":{{"{key}":{values}}}}}}}}}"#
        );
        parse(&text, PolicyKind::Resource).unwrap().statements[0].conditions[0].clone()
    }

    fn truth(op: &str, key: &str, values: &str, class: &Class) -> Truth {
        let zone = zone();
        let frame = Frame::with_named(&zone, BTreeSet::new());
        condition_truth(&cond(op, key, values), class, &frame, true)
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
    fn source_arn_shapes_of_lambda_and_codebuild() {
        let lambda = Class::Service("lambda.amazonaws.com".into(), Box::new(Class::Anyone));
        let possible =
            |op: &str, v: &str| truth(op, "aws:SourceArn", &format!("\"{v}\""), &lambda).possible;
        // The owner's own functions: an outsider's function ARN cannot hold
        // the owner's account where the pattern puts it (Lambda names and
        // qualifiers hold no colon).
        assert!(!possible(
            "StringLike",
            "arn:aws:lambda:*:111122223333:function:svc-*"
        ));
        assert!(!possible(
            "ArnLike",
            "arn:aws:lambda:*:111122223333:function:svc-*"
        ));
        assert!(!possible(
            "StringLike",
            "arn:aws:codebuild:*:111122223333:project/*"
        ));
        // Any account's functions.
        assert!(possible("StringLike", "arn:aws:lambda:*:*:function:svc-*"));
        assert!(possible(
            "StringLike",
            "arn:aws:codebuild:us-east-1:*:project/x"
        ));
        // StringLike's `*` crosses colons: an outsider's function named
        // 111122223333 with an alias matches.
        assert!(possible("StringLike", "arn:aws:lambda:*:111122223333:*"));
        // A service the analysis has no shape for keeps any resource.
        assert!(possible("StringLike", "arn:aws:sns:*:111122223333:topic-*"));
        // A wildcard in the service part: a longer service name could take
        // a generic resource, so the answer is undecided, never "no".
        assert!(possible(
            "StringLike",
            "arn:aws:lambda*:*:111122223333:function:svc-*"
        ));
    }

    #[test]
    fn private_ranges() {
        assert!(is_private_cidr("10.1.0.0/16"));
        assert!(!is_private_cidr("0.0.0.0/0"));
        assert!(!is_private_cidr("203.0.113.0/24"));
    }
}
