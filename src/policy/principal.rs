//! Principals: the typed form of Principal/NotPrincipal entries, the concrete
//! principal making a request, and how the two match.
//!
//! # Semantics implemented
//!
//! A request principal carries a chain of identities, most specific first:
//!
//! | request principal | identities |
//! |---|---|
//! | account root | account |
//! | IAM user | user, account |
//! | IAM role | role, account |
//! | assumed-role session | session, role, account |
//! | STS federated user | federated user, account |
//! | service / web-identity provider / canonical user / anonymous | itself |
//!
//! A **Principal** element matches when some entry equals some identity of the
//! chain. So an account entry (`"111122223333"` or `arn:aws:iam::111122223333:root`)
//! matches every IAM principal of that account (in a resource policy this
//! delegates to that account's IAM policies), and a role entry matches every
//! session of that role. `"*"` (`{"AWS":"*"}`) matches every principal,
//! including anonymous callers and AWS services.
//!
//! A **NotPrincipal** element applies to a request when some identity of the
//! chain is *not* listed. This is the documented IAM behaviour: to exempt a
//! role session from a `Deny` + `NotPrincipal`, the session ARN, the role ARN
//! and the account must all be listed; listing only the role leaves the
//! session subject to the statement.
//!
//! Entries IAM would not accept (wildcards inside an ARN, unknown ARN types)
//! are kept as [`Principal::Unrecognized`] and match as `Unknown`. Unique ids
//! (`AROA...`, shown by IAM after the named principal was deleted) match no
//! current principal.

use super::tri::Tri;
use std::fmt;

/// The map key of a principal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    /// The key as IAM spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// The kind of IAM/STS principal an ARN names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IamKind {
    User,
    Role,
    /// An STS role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    AssumedRole {
        role: String,
        session: String,
    },
    /// `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser,
}

/// A parsed IAM or STS principal ARN (anything but the account root, which is
/// [`Principal::Account`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IamArn {
    /// The ARN as written.
    pub arn: String,
    pub partition: String,
    pub account: String,
    pub kind: IamKind,
    /// `/` or `/division/` for users and roles; `/` otherwise.
    pub path: String,
    /// User, role or federated-user name; for a session, the role name.
    pub name: String,
}

/// A typed Principal/NotPrincipal entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    AnyAws,
    /// A 12-digit account id or `arn:PARTITION:iam::ID:root`.
    Account(String),
    Iam(IamArn),
    /// An AWS service principal, lower-cased (`ecs-tasks.amazonaws.com`).
    Service(String),
    /// A federation provider: OIDC/SAML provider ARN or a well-known name
    /// (`cognito-identity.amazonaws.com`, `accounts.google.com`, ...).
    Federated(String),
    CanonicalUser(String),
    /// An IAM unique id (`AIDA...`, `AROA...`): the named principal was deleted.
    UniqueId(String),
    /// Something IAM would not accept as a principal; matches as `Unknown`.
    Unrecognized(String),
}

impl Principal {
    /// Parse an entry found under the given principal type.
    pub fn parse(principal_type: PrincipalType, raw: &str) -> Principal {
        match principal_type {
            PrincipalType::Aws => parse_aws(raw),
            PrincipalType::Service => {
                if raw.is_empty() || raw.contains(['*', '?']) {
                    Principal::Unrecognized(raw.to_owned())
                } else {
                    Principal::Service(raw.to_ascii_lowercase())
                }
            }
            PrincipalType::Federated => {
                if raw.is_empty() || raw.contains(['*', '?']) {
                    Principal::Unrecognized(raw.to_owned())
                } else {
                    Principal::Federated(raw.to_owned())
                }
            }
            PrincipalType::CanonicalUser => {
                if raw.is_empty() || raw.contains(['*', '?']) {
                    Principal::Unrecognized(raw.to_owned())
                } else {
                    Principal::CanonicalUser(raw.to_owned())
                }
            }
        }
    }

    /// The account this entry belongs to, when it names one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Account(a) => Some(a),
            Principal::Iam(arn) => Some(&arn.account),
            _ => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::AnyAws => f.write_str("*"),
            Principal::Account(a) => write!(f, "account {a}"),
            Principal::Iam(arn) => f.write_str(&arn.arn),
            Principal::Service(s) => write!(f, "service {s}"),
            Principal::Federated(p) => write!(f, "federated {p}"),
            Principal::CanonicalUser(c) => write!(f, "canonical user {c}"),
            Principal::UniqueId(u) => write!(f, "unique id {u}"),
            Principal::Unrecognized(r) => write!(f, "unrecognized principal {r}"),
        }
    }
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_unique_id(s: &str) -> bool {
    // IAM unique ids: a 4-letter prefix (AIDA user, AROA role, ...) followed
    // by upper-case letters and digits.
    const PREFIXES: [&str; 6] = ["AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASIA"];
    s.len() >= 16
        && PREFIXES.iter().any(|p| s.starts_with(p))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn parse_aws(raw: &str) -> Principal {
    if raw == "*" {
        return Principal::AnyAws;
    }
    if is_account_id(raw) {
        return Principal::Account(raw.to_owned());
    }
    if is_unique_id(raw) {
        return Principal::UniqueId(raw.to_owned());
    }
    if raw.contains(['*', '?']) {
        return Principal::Unrecognized(raw.to_owned());
    }
    match parse_principal_arn(raw) {
        Some(ArnPrincipal::Root(account)) => Principal::Account(account),
        Some(ArnPrincipal::Iam(arn)) => Principal::Iam(arn),
        None => Principal::Unrecognized(raw.to_owned()),
    }
}

enum ArnPrincipal {
    Root(String),
    Iam(IamArn),
}

fn parse_principal_arn(raw: &str) -> Option<ArnPrincipal> {
    let mut parts = raw.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn != "arn" || partition.is_empty() || !region.is_empty() || !is_account_id(account) {
        return None;
    }
    let make = |kind: IamKind, path: String, name: String| {
        Some(ArnPrincipal::Iam(IamArn {
            arn: raw.to_owned(),
            partition: partition.to_owned(),
            account: account.to_owned(),
            kind,
            path,
            name,
        }))
    };
    match service {
        "iam" => {
            if resource == "root" {
                return Some(ArnPrincipal::Root(account.to_owned()));
            }
            let (kind, rest) = if let Some(rest) = resource.strip_prefix("user/") {
                (IamKind::User, rest)
            } else if let Some(rest) = resource.strip_prefix("role/") {
                (IamKind::Role, rest)
            } else {
                return None;
            };
            let (path, name) = split_path(rest)?;
            make(kind, path, name)
        }
        "sts" => {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let (role, session) = rest.split_once('/')?;
                if role.is_empty() || session.is_empty() {
                    return None;
                }
                make(
                    IamKind::AssumedRole {
                        role: role.to_owned(),
                        session: session.to_owned(),
                    },
                    "/".to_owned(),
                    role.to_owned(),
                )
            } else if let Some(name) = resource.strip_prefix("federated-user/") {
                if name.is_empty() {
                    return None;
                }
                make(IamKind::FederatedUser, "/".to_owned(), name.to_owned())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Split `division/team/Name` into (`/division/team/`, `Name`).
fn split_path(rest: &str) -> Option<(String, String)> {
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}/", &rest[..i]), &rest[i + 1..]),
        None => ("/".to_owned(), rest),
    };
    if name.is_empty() {
        None
    } else {
        Some((path, name.to_owned()))
    }
}

/// The concrete principal that makes a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestPrincipal {
    /// The account root user.
    AccountRoot(String),
    /// An IAM user, role, role session or federated user.
    Iam(IamArn),
    /// An AWS service acting on its own behalf (lower-case name).
    Service(String),
    /// A web-identity or SAML provider (AssumeRoleWithWebIdentity/WithSAML).
    Federated(String),
    CanonicalUser(String),
    /// An unauthenticated caller.
    Anonymous,
}

impl RequestPrincipal {
    /// Parse an AWS principal ARN (or account id) into a request principal.
    /// Returns `None` for anything that is not one concrete principal.
    pub fn from_arn(s: &str) -> Option<RequestPrincipal> {
        if is_account_id(s) {
            return Some(RequestPrincipal::AccountRoot(s.to_owned()));
        }
        if s.contains(['*', '?']) {
            return None;
        }
        match parse_principal_arn(s)? {
            ArnPrincipal::Root(a) => Some(RequestPrincipal::AccountRoot(a)),
            ArnPrincipal::Iam(arn) => Some(RequestPrincipal::Iam(arn)),
        }
    }

    /// The AWS account the principal belongs to (none for services,
    /// providers, canonical users and anonymous callers).
    pub fn account(&self) -> Option<&str> {
        match self {
            RequestPrincipal::AccountRoot(a) => Some(a),
            RequestPrincipal::Iam(arn) => Some(&arn.account),
            _ => None,
        }
    }

    /// The identity chain described in the module documentation.
    fn identities(&self) -> Vec<Identity<'_>> {
        match self {
            RequestPrincipal::AccountRoot(a) => vec![Identity::Account(a)],
            RequestPrincipal::Iam(arn) => {
                let acct = Identity::Account(&arn.account);
                match &arn.kind {
                    IamKind::User => vec![Identity::User(&arn.account, &arn.name), acct],
                    IamKind::Role => vec![Identity::Role(&arn.account, &arn.name), acct],
                    IamKind::AssumedRole { role, session } => vec![
                        Identity::Session(&arn.account, role, session),
                        Identity::Role(&arn.account, role),
                        acct,
                    ],
                    IamKind::FederatedUser => {
                        vec![Identity::FederatedUser(&arn.account, &arn.name), acct]
                    }
                }
            }
            RequestPrincipal::Service(s) => vec![Identity::Service(s)],
            RequestPrincipal::Federated(p) => vec![Identity::Federated(p)],
            RequestPrincipal::CanonicalUser(c) => vec![Identity::Canonical(c)],
            RequestPrincipal::Anonymous => vec![Identity::Anonymous],
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Identity<'a> {
    Account(&'a str),
    User(&'a str, &'a str),
    Role(&'a str, &'a str),
    Session(&'a str, &'a str, &'a str),
    FederatedUser(&'a str, &'a str),
    Service(&'a str),
    Federated(&'a str),
    Canonical(&'a str),
    Anonymous,
}

/// Does one policy entry name this identity?
fn entry_names(entry: &Principal, id: Identity<'_>) -> Tri {
    match (entry, id) {
        (Principal::AnyAws, _) => Tri::True,
        (Principal::Unrecognized(_), _) => Tri::Unknown,
        (Principal::Account(a), Identity::Account(b)) => Tri::from_bool(a == b),
        (Principal::Iam(arn), id) => Tri::from_bool(match (&arn.kind, id) {
            (IamKind::User, Identity::User(acct, name)) => arn.account == acct && arn.name == name,
            (IamKind::Role, Identity::Role(acct, name)) => arn.account == acct && arn.name == name,
            (IamKind::AssumedRole { role, session }, Identity::Session(acct, r, s)) => {
                arn.account == acct && role == r && session == s
            }
            (IamKind::FederatedUser, Identity::FederatedUser(acct, name)) => {
                arn.account == acct && arn.name == name
            }
            _ => false,
        }),
        (Principal::Service(a), Identity::Service(b)) => Tri::from_bool(a.eq_ignore_ascii_case(b)),
        (Principal::Federated(a), Identity::Federated(b)) => Tri::from_bool(a == b),
        (Principal::CanonicalUser(a), Identity::Canonical(b)) => Tri::from_bool(a == b),
        _ => Tri::False,
    }
}

/// Does a Principal (`negated == false`) or NotPrincipal (`negated == true`)
/// element with these entries apply to the request principal?
/// See the module documentation for the semantics.
pub fn element_matches<'a, I>(negated: bool, entries: I, principal: &RequestPrincipal) -> Tri
where
    I: IntoIterator<Item = &'a Principal> + Clone,
{
    let ids = principal.identities();
    let listed =
        |id: Identity<'_>| Tri::any(entries.clone().into_iter().map(|e| entry_names(e, id)));
    if negated {
        Tri::any(ids.iter().map(|&id| !listed(id)))
    } else {
        Tri::any(ids.iter().map(|&id| listed(id)))
    }
}

/// Does a single entry match the request principal (as a positive Principal)?
pub fn principal_matches(entry: &Principal, principal: &RequestPrincipal) -> Tri {
    element_matches(false, std::iter::once(entry), principal)
}
