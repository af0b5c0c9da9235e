//! IAM statements → Cedar policies (text), with the constructs Cedar cannot
//! state exactly replaced by caller-computed flags.
//!
//! Every statement becomes one `permit` (Allow) or `forbid` (Deny). Its
//! principal, action, resource and conditions are AND'd in the same order as
//! `policy::eval::statement_applies`. A flag stands for the truth of one whole
//! part of a statement (its principal element, its resource element, or one
//! condition), never for an atom under a negation, so widening an Allow or
//! narrowing a Deny is simply "flag true in permits, false in forbids".

use super::schema::{self, all_mask, groups};
use super::{Approximation, Flag, FlagSource};
use crate::policy::condition::{parse_cidr, parse_date, parse_number, Cidr};
use crate::policy::{
    Condition, Effect, IamArn, IamKind, Operator, OperatorFamily, Principal, PrincipalElement,
    ResourceElement, SetQualifier, Statement,
};
use std::fmt::Write as _;

/// A Cedar string literal.
pub(crate) fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A Cedar `like` pattern from an IAM pattern whose only wildcard is `*`
/// (callers route `?` to a flag). A literal `*` cannot occur: IAM has no
/// escape for it outside policy variables, which are flagged too.
pub(crate) fn like_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '*' {
            out.push('*');
        } else {
            push_escaped(&mut out, c);
        }
    }
    out.push('"');
    out
}

/// `Iam::Type::"id"`.
pub(crate) fn uid(ty: &str, id: &str) -> String {
    format!("{}::{ty}::{}", schema::NAMESPACE, lit(id))
}

/// The entity id of an IAM principal. The path is left out because IAM
/// identifies users and roles by account and name (`role/a/b/x` and `role/x`
/// are the same role for matching, see `policy::principal`).
pub fn iam_principal_id(arn: &IamArn) -> String {
    let p = &arn.partition;
    let a = &arn.account;
    match &arn.kind {
        IamKind::User => format!("arn:{p}:iam::{a}:user/{}", arn.name),
        IamKind::Role => format!("arn:{p}:iam::{a}:role/{}", arn.name),
        IamKind::AssumedRole { role, session } => {
            format!("arn:{p}:sts::{a}:assumed-role/{role}/{session}")
        }
        IamKind::FederatedUser => format!("arn:{p}:sts::{a}:federated-user/{}", arn.name),
    }
}

/// The entity id of the role a session belongs to.
pub fn role_id_of_session(arn: &IamArn) -> Option<String> {
    match &arn.kind {
        IamKind::AssumedRole { role, .. } => Some(format!(
            "arn:{}:iam::{}:role/{role}",
            arn.partition, arn.account
        )),
        _ => None,
    }
}

/// The entity id of an account root principal.
pub fn root_id(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

fn or(items: Vec<String>) -> String {
    if items.iter().any(|s| s == "true") {
        return "true".into();
    }
    let items: Vec<String> = items.into_iter().filter(|s| s != "false").collect();
    match items.len() {
        0 => "false".into(),
        1 => items.into_iter().next().unwrap_or_default(),
        _ => format!("({})", items.join(" || ")),
    }
}

fn and(items: Vec<String>) -> String {
    if items.iter().any(|s| s == "false") {
        return "false".into();
    }
    let items: Vec<String> = items.into_iter().filter(|s| s != "true").collect();
    match items.len() {
        0 => "true".into(),
        1 => items.into_iter().next().unwrap_or_default(),
        _ => format!("({})", items.join(" && ")),
    }
}

fn not(e: String) -> String {
    match e.as_str() {
        "true" => "false".into(),
        "false" => "true".into(),
        // Always parenthesised: `!x like p` would parse as `(!x) like p`.
        _ if e.starts_with('(') && e.ends_with(')') && balanced_inner(&e) => format!("!{e}"),
        _ => format!("!({e})"),
    }
}

/// True when the outer parentheses of `e` enclose all of it.
fn balanced_inner(e: &str) -> bool {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in e.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i + 1 < e.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The Cedar expression reading a flag (guarded, as strict validation asks).
fn flag_expr(name: &str) -> String {
    let n = lit(name);
    format!("(context.flags.hasTag({n}) && context.flags.getTag({n}))")
}

/// One statement's translation.
pub(crate) struct StatementOut {
    /// Policy text without annotations.
    pub body: String,
    /// False when the statement covers no action of the schema.
    pub covers_actions: bool,
}

pub(crate) struct Ctx<'a> {
    pub st: &'a Statement,
    pub flags: &'a mut Vec<Flag>,
    pub approximations: &'a mut Vec<Approximation>,
    /// Lower-case condition keys the Cedar text reads.
    pub keys: &'a mut std::collections::BTreeSet<String>,
}

impl Ctx<'_> {
    fn flag(&mut self, source: FlagSource, construct: String, why: Option<&str>) -> String {
        let n = self.st.index + 1;
        let name = match source {
            FlagSource::Principal => format!("s{n}.principal"),
            FlagSource::Resource => format!("s{n}.resource"),
            FlagSource::Condition(j) => format!("s{n}.c{}", j + 1),
            FlagSource::Shape => format!("s{n}.shape"),
        };
        if !self.flags.iter().any(|f| f.name == name) {
            self.flags.push(Flag {
                name: name.clone(),
                statement: self.st.index,
                effect: self.st.effect,
                source,
            });
        }
        if let Some(why) = why {
            self.approximations.push(Approximation {
                statement: self.st.reference(),
                construct,
                why: why.to_owned(),
                flag: name.clone(),
            });
        }
        flag_expr(&name)
    }
}

pub(crate) fn statement(cx: &mut Ctx<'_>) -> StatementOut {
    let st = cx.st;
    let (principal_scope, principal_when) = match &st.principal {
        None => ("principal".to_owned(), "true".to_owned()),
        Some(p) => principal(cx, p),
    };
    let (action_scope, covers_actions) = action(st);
    let resource_when = match &st.resource {
        None => "true".to_owned(),
        Some(r) => resource(cx, r),
    };
    let mut when = vec![principal_when, resource_when];
    for (j, c) in st.conditions.iter().enumerate() {
        when.push(condition(cx, j, c));
    }
    if !st.odd_shapes.is_empty() {
        when.push(cx.flag(
            FlagSource::Shape,
            st.odd_shapes.join("; "),
            Some("a condition shape IAM documents no meaning for (undecidable)"),
        ));
    }
    let effect = match st.effect {
        Effect::Allow => "permit",
        Effect::Deny => "forbid",
    };
    let mut body = format!("{effect} (\n  {principal_scope},\n  {action_scope},\n  resource\n)");
    let parts: Vec<String> = when.into_iter().filter(|w| w != "true").collect();
    if !parts.is_empty() {
        body.push_str("\nwhen {\n  ");
        body.push_str(&parts.join(" &&\n  "));
        body.push_str("\n}");
    }
    body.push(';');
    StatementOut {
        body,
        covers_actions,
    }
}

/// Action scope: the schema actions the element covers, as one group, one
/// action, or a greedy cover by groups plus the remaining actions.
fn action(st: &Statement) -> (String, bool) {
    let all = schema::all_actions();
    let mut covered = 0u128;
    for (i, a) in all.iter().enumerate() {
        if st.action.matches(a) {
            covered |= 1u128 << i;
        }
    }
    if covered == 0 {
        return ("action".into(), false);
    }
    if covered == all_mask() {
        return ("action".into(), true);
    }
    let mut items = Vec::new();
    let mut left = covered;
    loop {
        let best = groups()
            .iter()
            .filter(|g| g.members & !covered == 0)
            .max_by_key(|g| (g.members & left).count_ones());
        match best {
            Some(g) if (g.members & left).count_ones() >= 2 => {
                items.push(uid("Action", &g.name));
                left &= !g.members;
            }
            _ => break,
        }
    }
    for (i, a) in all.iter().enumerate() {
        if left & (1u128 << i) != 0 {
            items.push(uid("Action", a));
        }
    }
    let scope = if items.len() == 1 {
        if left == 0 {
            format!("action in {}", items[0])
        } else {
            format!("action == {}", items[0])
        }
    } else {
        format!("action in [{}]", items.join(", "))
    };
    (scope, true)
}

/// (scope, when-part) of a Principal/NotPrincipal element.
fn principal(cx: &mut Ctx<'_>, el: &PrincipalElement) -> (String, String) {
    let any_unrecognized = el
        .entries
        .iter()
        .any(|e| matches!(e.principal, Principal::Unrecognized(_)));
    if any_unrecognized {
        let raws: Vec<&str> = el
            .entries
            .iter()
            .filter(|e| matches!(e.principal, Principal::Unrecognized(_)))
            .map(|e| e.raw.as_str())
            .collect();
        let what = if el.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        let f = cx.flag(
            FlagSource::Principal,
            format!("{what} with {}", raws.join(", ")),
            Some("unrecognized principal: IAM would not accept it, its match is undecidable"),
        );
        return ("principal".into(), f);
    }
    let entries: Vec<&Principal> = el.entries.iter().map(|e| &e.principal).collect();
    if !el.negated {
        // A single entry fits the scope, which reads best and indexes best.
        if let [one] = entries[..] {
            if let Some(scope) = principal_scope(one) {
                return (scope, "true".into());
            }
        }
        let terms = entries.iter().map(|p| principal_term(p)).collect();
        return ("principal".into(), or(terms));
    }
    // NotPrincipal applies when some identity of the principal's chain
    // (session, role, account / user, account / service ...) is not listed;
    // "all listed" per principal type is spelled out below.
    if entries.iter().any(|p| matches!(p, Principal::AnyAws)) {
        return ("principal".into(), "false".into());
    }
    let mut acct = Vec::new();
    let mut own = Vec::new();
    let mut role = Vec::new();
    let mut service = Vec::new();
    let mut fed = Vec::new();
    let mut canon = Vec::new();
    for p in &entries {
        match p {
            Principal::Account(a) => acct.push(format!("principal in {}", uid("Account", a))),
            Principal::Iam(arn) => {
                let id = uid("Principal", &iam_principal_id(arn));
                own.push(format!("principal == {id}"));
                if arn.kind == IamKind::Role {
                    role.push(format!("principal in {id}"));
                }
            }
            Principal::Service(s) => service.push(format!("principal == {}", uid("Service", s))),
            Principal::Federated(f) => fed.push(format!("principal == {}", uid("WebIdentity", f))),
            Principal::CanonicalUser(c) => {
                canon.push(format!("principal == {}", uid("CanonicalUser", c)))
            }
            // Unique ids name no current principal; AnyAws and Unrecognized
            // were handled above.
            Principal::UniqueId(_) | Principal::AnyAws | Principal::Unrecognized(_) => {}
        }
    }
    let iam_all = and(vec![
        "principal is Iam::Principal".into(),
        or(acct),
        or(vec!["principal.kind == \"root\"".into(), or(own)]),
        or(vec!["principal.kind != \"session\"".into(), or(role)]),
    ]);
    let all_listed = or(vec![iam_all, or(service), or(fed), or(canon)]);
    ("principal".into(), not(all_listed))
}

fn principal_scope(p: &Principal) -> Option<String> {
    match p {
        Principal::AnyAws => Some("principal".into()),
        Principal::Account(a) => Some(format!("principal in {}", uid("Account", a))),
        Principal::Iam(arn) => Some(format!(
            "principal in {}",
            uid("Principal", &iam_principal_id(arn))
        )),
        Principal::Service(s) => Some(format!("principal == {}", uid("Service", s))),
        Principal::Federated(f) => Some(format!("principal == {}", uid("WebIdentity", f))),
        Principal::CanonicalUser(c) => Some(format!("principal == {}", uid("CanonicalUser", c))),
        Principal::UniqueId(_) | Principal::Unrecognized(_) => None,
    }
}

fn principal_term(p: &Principal) -> String {
    match p {
        Principal::AnyAws => "true".into(),
        Principal::UniqueId(_) | Principal::Unrecognized(_) => "false".into(),
        other => principal_scope(other).unwrap_or_else(|| "false".into()),
    }
}

const ARN_PARTS: [&str; 5] = ["partition", "service", "region", "account", "path"];

/// Per-part test of an ARN pattern against a getter whose fields are the
/// parts (`resource.region`, `context.arns.getTag(k).region`). `None` when
/// the pattern cannot be said exactly (a `?`, fewer than six parts).
fn arn_pattern(pattern: &str, getter: &str, is_arn: Option<&str>) -> Option<String> {
    if pattern == "*" {
        return Some("true".into());
    }
    if pattern.contains('?') {
        return None;
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        // "arn" itself may be a pattern (`*:aws:..`): rare enough for a flag.
        return None;
    }
    // Any pattern but `*` needs a six-part ARN, even `arn:*:*:*:*:*`.
    let mut terms: Vec<String> = is_arn.into_iter().map(str::to_owned).collect();
    for (name, p) in ARN_PARTS.iter().zip(parts[1..].iter()) {
        if *p == "*" {
            continue;
        }
        if p.contains('*') {
            terms.push(format!("{getter}.{name} like {}", like_lit(p)));
        } else {
            terms.push(format!("{getter}.{name} == {}", lit(p)));
        }
    }
    Some(and(terms))
}

fn resource(cx: &mut Ctx<'_>, el: &ResourceElement) -> String {
    let vars = cx.st.variables_enabled;
    let mut terms = Vec::new();
    let mut inexact = None;
    for p in &el.patterns {
        if vars && p.contains("${") {
            inexact = Some((p.clone(), "policy variable in a resource ARN"));
            break;
        }
        match arn_pattern(p, "resource", Some("resource.is_arn")) {
            Some(t) => terms.push(t),
            None => {
                let why = if p.contains('?') {
                    "`?` wildcard: Cedar `like` has only `*`"
                } else {
                    "resource pattern is not an ARN"
                };
                inexact = Some((p.clone(), why));
                break;
            }
        }
    }
    let what = if el.negated {
        "NotResource"
    } else {
        "Resource"
    };
    if let Some((p, why)) = inexact {
        return cx.flag(FlagSource::Resource, format!("{what} {p}"), Some(why));
    }
    let any = or(terms);
    if el.negated {
        not(any)
    } else {
        any
    }
}

/// Cedar datetime text for nanoseconds since the epoch, when Cedar can hold
/// it exactly (millisecond precision, years 1–9999).
pub(crate) fn cedar_datetime(nanos: i128) -> Option<String> {
    if nanos % 1_000_000 != 0 {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    if !(1..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

/// An integer Cedar `Long` can hold with the same order as IAM's f64
/// comparison (|x| ≤ 2^53, so f64 is exact too).
pub(crate) fn cedar_long(s: &str) -> Option<i64> {
    let f = parse_number(s)?;
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
}

/// Cedar `ip(...)` text for a network, when Cedar parses it the way IAM does
/// (no IPv4-embedded IPv6 notation, which Cedar refuses).
pub(crate) fn cedar_cidr(c: Cidr) -> Option<String> {
    let text = match c {
        Cidr::V4(net, len) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            format!("{}/{len}", std::net::Ipv4Addr::from(net & mask))
        }
        Cidr::V6(net, len) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            let a = std::net::Ipv6Addr::from(net & mask).to_string();
            if a.contains('.') {
                return None;
            }
            format!("{a}/{len}")
        }
    };
    Some(text)
}

fn compare_op(f: OperatorFamily) -> &'static str {
    use OperatorFamily::*;
    match f {
        NumericLessThan | DateLessThan => "<",
        NumericLessThanEquals | DateLessThanEquals => "<=",
        NumericGreaterThan | DateGreaterThan => ">",
        NumericGreaterThanEquals | DateGreaterThanEquals => ">=",
        _ => "==",
    }
}

fn condition(cx: &mut Ctx<'_>, j: usize, c: &Condition) -> String {
    let construct = format!("{} {}", c.operator.raw(), c.key.raw);
    let src = FlagSource::Condition(j);
    let op = match &c.operator {
        Operator::Known(op) => op,
        Operator::Unknown(_) => {
            return cx.flag(src, construct, Some("unknown condition operator"));
        }
    };
    if !c.malformed_values().is_empty() {
        return cx.flag(
            src,
            construct,
            Some("a value is not valid for the operator (undecidable)"),
        );
    }
    if c.values.is_empty() {
        return cx.flag(
            src,
            construct,
            Some("an empty value list (IAM documents no meaning for it)"),
        );
    }
    let fam = op.family;
    let pos = fam.positive();
    let neg = fam.is_negated();
    if cx.st.variables_enabled
        && pos.supports_variables()
        && c.values.iter().any(|v| v.value.contains("${"))
    {
        if let Some(e) = whole_variables(cx, j, c, op) {
            return e;
        }
        return cx.flag(
            src,
            construct,
            Some("policy variable: its value comes from the request"),
        );
    }
    cx.keys.insert(c.key.lower.clone());
    let k = lit(&c.key.lower);
    let present = format!("context.sets.hasTag({k})");
    let missing = if op.if_exists {
        true
    } else {
        match op.set {
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
            None => neg,
        }
    };
    let values: Vec<&str> = c.values.iter().map(|v| v.value.as_str()).collect();
    use OperatorFamily::*;
    // Single-valued body over a typed key entity; `None` = not exact.
    let single: Option<(&str, String)> = match pos {
        Null => {
            let terms = values
                .iter()
                .map(|v| {
                    if v.eq_ignore_ascii_case("true") {
                        not(present.clone())
                    } else {
                        present.clone()
                    }
                })
                .collect();
            return or(terms);
        }
        StringEquals => {
            // Exact for every qualifier and any number of request values.
            let set = format!(
                "[{}]",
                values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ")
            );
            let req = format!("context.sets.getTag({k})");
            let body = match (op.set, neg) {
                (None | Some(SetQualifier::ForAnyValue), false) => {
                    format!("{req}.containsAny({set})")
                }
                (Some(SetQualifier::ForAllValues), false) => format!("{set}.containsAll({req})"),
                (None | Some(SetQualifier::ForAllValues), true) => {
                    format!("!{req}.containsAny({set})")
                }
                (Some(SetQualifier::ForAnyValue), true) => format!("!{set}.containsAll({req})"),
            };
            return if missing {
                format!("(if {present} then {body} else true)")
            } else {
                format!("({present} && {body})")
            };
        }
        StringEqualsIgnoreCase => None,
        StringLike => {
            if values.iter().any(|v| v.contains('?')) {
                return cx.flag(
                    src,
                    construct,
                    Some("`?` wildcard: Cedar `like` has only `*`"),
                );
            }
            let g = format!("context.keys.getTag({k})");
            Some((
                "keys",
                or(values
                    .iter()
                    .map(|v| format!("{g} like {}", like_lit(v)))
                    .collect()),
            ))
        }
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let nums: Option<Vec<i64>> = values.iter().map(|v| cedar_long(v)).collect();
            nums.map(|nums| {
                let g = format!("context.nums.getTag({k})");
                let o = compare_op(pos);
                (
                    "nums",
                    or(nums.iter().map(|n| format!("{g} {o} {n}")).collect()),
                )
            })
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let dates: Option<Vec<String>> = values
                .iter()
                .map(|v| parse_date(v).and_then(cedar_datetime))
                .collect();
            dates.map(|dates| {
                let g = format!("context.dates.getTag({k})");
                let o = compare_op(pos);
                (
                    "dates",
                    or(dates
                        .iter()
                        .map(|d| format!("{g} {o} datetime({})", lit(d)))
                        .collect()),
                )
            })
        }
        Bool => {
            let g = format!("context.bools.getTag({k})");
            Some((
                "bools",
                or(values
                    .iter()
                    .map(|v| format!("{g} == {}", v.to_ascii_lowercase()))
                    .collect()),
            ))
        }
        BinaryEquals => None,
        IpAddress => {
            let cidrs: Option<Vec<String>> = values
                .iter()
                .map(|v| parse_cidr(v).and_then(cedar_cidr))
                .collect();
            cidrs.map(|cidrs| {
                let g = format!("context.ips.getTag({k})");
                (
                    "ips",
                    or(cidrs
                        .iter()
                        .map(|c| format!("{g}.isInRange(ip({}))", lit(c)))
                        .collect()),
                )
            })
        }
        ArnEquals | ArnLike => {
            let g = format!("context.arns.getTag({k})");
            let terms: Option<Vec<String>> =
                values.iter().map(|v| arn_pattern(v, &g, None)).collect();
            terms.map(|t| ("arns", or(t)))
        }
        // Negated families were mapped to their positive form above.
        _ => None,
    };
    let Some((entity, body)) = single else {
        let why = match pos {
            StringEqualsIgnoreCase => "IgnoreCase operator: Cedar compares case-sensitively",
            BinaryEquals => "BinaryEquals: Cedar has no binary values",
            ArnEquals | ArnLike => "ARN pattern with `?` or a wildcard `arn` part",
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => "non-integer number: Cedar has only integers",
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => "date outside Cedar's datetime (ms, years 1-9999)",
            IpAddress => "IPv4-embedded IPv6 notation Cedar does not parse",
            _ => "not expressible in Cedar",
        };
        return cx.flag(src, construct, Some(why));
    };
    let body = if neg { not(body) } else { body };
    // Several request values (or one that does not parse as the operator's
    // type) are decided by the flag, computed exactly from the request.
    let why = op.set.map(|_| {
        "set qualifier: exact for a single request value; several values go through the flag"
    });
    let f = cx.flag(src, construct, why);
    let typed = format!("context.{entity}.hasTag({k})");
    let inner = format!("(if {typed} then {body} else {f})");
    if missing {
        format!("(if {present} then {inner} else true)")
    } else {
        format!("({present} && {inner})")
    }
}

/// A value that is one policy variable and nothing else: its key
/// (lower-case) and default.
fn whole_variable(value: &str) -> Option<(String, Option<String>)> {
    if !value.starts_with("${") || !value.ends_with('}') {
        return None;
    }
    let mut found = None;
    let rest = crate::policy::pattern::rewrite_variables(value, false, &mut |key, default| {
        found = Some((key.to_string(), default.map(str::to_string)));
        crate::policy::pattern::VariableValue::Literal(String::new())
    })?;
    rest.is_empty().then_some(found).flatten()
}

/// `StringEquals` / `StringLike` (positive, no set qualifier) whose values
/// are literals or whole policy variables (`${aws:PrincipalTag/org}`,
/// `${aws:PrincipalTag/org, 'o-x'}`): the request's value compared with the
/// variable's key, or with the default when the key is absent. A variable
/// key with several values, or absent without a default, leaves the
/// condition to the flag. `None` when the condition has another shape.
fn whole_variables(
    cx: &mut Ctx<'_>,
    j: usize,
    c: &Condition,
    op: &crate::policy::condition::KnownOperator,
) -> Option<String> {
    use OperatorFamily::*;
    let like = match op.family {
        StringEquals => false,
        StringLike => true,
        _ => return None,
    };
    if op.set.is_some() {
        return None;
    }
    enum V {
        Lit(String),
        Var(String, Option<String>),
    }
    let mut vals = Vec::new();
    for v in &c.values {
        if v.value.contains("${") {
            let (key, default) = whole_variable(&v.value)?;
            vals.push(V::Var(key, default));
        } else if like && v.value.contains('?') {
            return None;
        } else {
            vals.push(V::Lit(v.value.clone()));
        }
    }
    let construct = format!("{} {}", c.operator.raw(), c.key.raw);
    let f = cx.flag(FlagSource::Condition(j), construct, None);
    cx.keys.insert(c.key.lower.clone());
    let k = lit(&c.key.lower);
    let g = format!("context.keys.getTag({k})");
    let mut terms = Vec::new();
    for v in vals {
        match v {
            V::Lit(v) if like => terms.push(format!("{g} like {}", like_lit(&v))),
            V::Lit(v) => terms.push(format!("{g} == {}", lit(&v))),
            V::Var(x, default) => {
                cx.keys.insert(x.clone());
                let xl = lit(&x);
                let otherwise = match default {
                    Some(d) => format!(
                        "(if context.sets.hasTag({xl}) then {f} else {g} == {})",
                        lit(&d)
                    ),
                    None => f.clone(),
                };
                terms.push(format!(
                    "(if context.keys.hasTag({xl}) then {g} == context.keys.getTag({xl}) else {otherwise})"
                ));
            }
        }
    }
    let present = format!("context.sets.hasTag({k})");
    let inner = format!("(if context.keys.hasTag({k}) then {} else {f})", or(terms));
    Some(if op.if_exists {
        format!("(if {present} then {inner} else true)")
    } else {
        format!("({present} && {inner})")
    })
}
