//! Condition operators, the request context, and concrete evaluation.
//!
//! Semantics (IAM's):
//! - several values of one key in the policy are OR'd; several keys and
//!   operators of a block are AND'd (done by the caller over
//!   [`crate::policy::Statement::conditions`]);
//! - a negated operator (StringNotEquals, StringNotLike, StringNotEqualsIgnoreCase,
//!   NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike)
//!   is true only if the request value matches none of the policy values;
//! - a missing key makes a positive operator false and a negated one true;
//!   `...IfExists` is true when the key is missing;
//! - without a set qualifier, a multi-valued key behaves as "some request
//!   value matches" (negated: "no request value matches");
//! - `ForAnyValue:` is false on a missing/empty key, `ForAllValues:` true;
//!   with a negated operator they quantify "matches none of the policy values";
//! - `Null: true` holds when the key is absent (missing or with no values).
//!
//! Anything undecidable (unknown operator, a policy value that does not parse
//! as the operator's type, an unresolved policy variable) gives
//! [`Tri::Unknown`]. A request value that does not parse (e.g. a non-numeric
//! value for NumericLessThan) simply does not match that policy value.

use super::context::RequestContext;
use super::pattern::{arn_match, string_match, StringMode};
use super::tri::Tri;
use std::fmt;
use std::net::IpAddr;

/// The comparison family of a condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const FAMILIES: [(OperatorFamily, &str); 27] = [
    (OperatorFamily::StringEquals, "StringEquals"),
    (OperatorFamily::StringNotEquals, "StringNotEquals"),
    (
        OperatorFamily::StringEqualsIgnoreCase,
        "StringEqualsIgnoreCase",
    ),
    (
        OperatorFamily::StringNotEqualsIgnoreCase,
        "StringNotEqualsIgnoreCase",
    ),
    (OperatorFamily::StringLike, "StringLike"),
    (OperatorFamily::StringNotLike, "StringNotLike"),
    (OperatorFamily::NumericEquals, "NumericEquals"),
    (OperatorFamily::NumericNotEquals, "NumericNotEquals"),
    (OperatorFamily::NumericLessThan, "NumericLessThan"),
    (
        OperatorFamily::NumericLessThanEquals,
        "NumericLessThanEquals",
    ),
    (OperatorFamily::NumericGreaterThan, "NumericGreaterThan"),
    (
        OperatorFamily::NumericGreaterThanEquals,
        "NumericGreaterThanEquals",
    ),
    (OperatorFamily::DateEquals, "DateEquals"),
    (OperatorFamily::DateNotEquals, "DateNotEquals"),
    (OperatorFamily::DateLessThan, "DateLessThan"),
    (OperatorFamily::DateLessThanEquals, "DateLessThanEquals"),
    (OperatorFamily::DateGreaterThan, "DateGreaterThan"),
    (
        OperatorFamily::DateGreaterThanEquals,
        "DateGreaterThanEquals",
    ),
    (OperatorFamily::Bool, "Bool"),
    (OperatorFamily::BinaryEquals, "BinaryEquals"),
    (OperatorFamily::IpAddress, "IpAddress"),
    (OperatorFamily::NotIpAddress, "NotIpAddress"),
    (OperatorFamily::ArnEquals, "ArnEquals"),
    (OperatorFamily::ArnLike, "ArnLike"),
    (OperatorFamily::ArnNotEquals, "ArnNotEquals"),
    (OperatorFamily::ArnNotLike, "ArnNotLike"),
    (OperatorFamily::Null, "Null"),
];

/// The type of values an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl OperatorFamily {
    /// Canonical IAM spelling.
    pub fn name(self) -> &'static str {
        FAMILIES
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// True for the operators that hold when the value matches none of the
    /// policy values (StringNotEquals, NotIpAddress, ArnNotLike, ...).
    pub fn is_negated(self) -> bool {
        use OperatorFamily::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// The positive operator whose matches a negated operator excludes
    /// (itself for positive operators).
    pub fn positive(self) -> OperatorFamily {
        use OperatorFamily::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => other,
        }
    }

    pub fn value_type(self) -> ValueType {
        use OperatorFamily::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => ValueType::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => ValueType::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => ValueType::Date,
            Bool => ValueType::Bool,
            BinaryEquals => ValueType::Binary,
            IpAddress | NotIpAddress => ValueType::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => ValueType::Arn,
            Null => ValueType::Null,
        }
    }

    /// True when policy values are patterns with `*`/`?` (StringLike,
    /// StringNotLike and all four Arn operators).
    pub fn is_wildcard(self) -> bool {
        use OperatorFamily::*;
        matches!(
            self,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
        )
    }

    /// True when `${...}` policy variables are interpreted in the values.
    pub fn supports_variables(self) -> bool {
        matches!(self.value_type(), ValueType::String | ValueType::Arn)
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A recognized operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KnownOperator {
    /// As written in the document.
    pub raw: String,
    pub family: OperatorFamily,
    pub if_exists: bool,
    pub set: Option<SetQualifier>,
}

/// A condition operator: recognized, or kept verbatim so the analysis can say
/// "unknown operator X in statement 2" and still analyse the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operator {
    Known(KnownOperator),
    Unknown(String),
}

impl Operator {
    /// Parse an operator name, case-insensitively.
    pub fn parse(raw: &str) -> Operator {
        let lower = raw.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, lower.as_str())
        };
        let (if_exists, name) = match rest.strip_suffix("ifexists") {
            Some(n) => (true, n),
            None => (false, rest),
        };
        let family = FAMILIES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(f, _)| *f);
        match family {
            // Null takes neither IfExists nor a set qualifier.
            Some(OperatorFamily::Null) if if_exists || set.is_some() => {
                Operator::Unknown(raw.to_owned())
            }
            Some(family) => Operator::Known(KnownOperator {
                raw: raw.to_owned(),
                family,
                if_exists,
                set,
            }),
            None => Operator::Unknown(raw.to_owned()),
        }
    }

    /// The operator as written.
    pub fn raw(&self) -> &str {
        match self {
            Operator::Known(k) => &k.raw,
            Operator::Unknown(r) => r,
        }
    }

    pub fn known(&self) -> Option<&KnownOperator> {
        match self {
            Operator::Known(k) => Some(k),
            Operator::Unknown(_) => None,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

/// A condition key as written and lower-cased (keys compare case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionKey {
    pub raw: String,
    pub lower: String,
}

impl ConditionKey {
    pub fn new(raw: &str) -> ConditionKey {
        ConditionKey {
            raw: raw.to_owned(),
            lower: raw.to_ascii_lowercase(),
        }
    }
}

/// The JSON type a condition value had in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OriginalType {
    String,
    Number,
    Bool,
}

/// One condition value, normalized to a string (`true`, `42`, `"x"` → "x").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionValue {
    pub value: String,
    pub original: OriginalType,
}

/// One `operator: { key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub operator: Operator,
    pub key: ConditionKey,
    pub values: Vec<ConditionValue>,
}

impl Condition {
    /// Evaluate against a concrete request context. `variables_enabled` comes
    /// from the document version ([`crate::policy::Statement::variables_enabled`]).
    pub fn evaluate(&self, ctx: &RequestContext, variables_enabled: bool) -> Tri {
        let Operator::Known(op) = &self.operator else {
            return Tri::Unknown;
        };
        let request = ctx.get(&self.key.lower).filter(|v| !v.is_empty());
        if op.family == OperatorFamily::Null {
            let present = request.is_some();
            return Tri::any(self.values.iter().map(
                |v| match v.value.to_ascii_lowercase().as_str() {
                    "true" => Tri::from_bool(!present),
                    "false" => Tri::from_bool(present),
                    _ => Tri::Unknown,
                },
            ));
        }
        let negated = op.family.is_negated();
        let positive = op.family.positive();
        let vars = variables_enabled && positive.supports_variables();
        // Does one request value match some policy value (positive sense)?
        let matches = |req: &str| {
            Tri::any(
                self.values
                    .iter()
                    .map(|p| value_matches(positive, &p.value, req, vars, ctx)),
            )
        };
        let Some(request) = request else {
            return match op.set {
                _ if op.if_exists => Tri::True,
                Some(SetQualifier::ForAnyValue) => Tri::False,
                Some(SetQualifier::ForAllValues) => Tri::True,
                None => Tri::from_bool(negated),
            };
        };
        let each = request.iter().map(|r| {
            let m = matches(r);
            if negated {
                !m
            } else {
                m
            }
        });
        match op.set {
            Some(SetQualifier::ForAllValues) => Tri::all(each),
            Some(SetQualifier::ForAnyValue) => Tri::any(each),
            // Negated without qualifier: no request value may match.
            None if negated => Tri::all(each),
            None => Tri::any(each),
        }
    }
}

impl Condition {
    /// Policy values this operator cannot interpret (a non-numeric value for
    /// NumericLessThan, an invalid CIDR, an ARN pattern that is not six
    /// parts, a Null value other than true/false ...). Evaluation gives
    /// `Unknown` for them.
    pub fn malformed_values(&self) -> Vec<&ConditionValue> {
        let Operator::Known(op) = &self.operator else {
            return Vec::new();
        };
        self.values
            .iter()
            .filter(|v| !value_is_well_formed(op.family, &v.value))
            .collect()
    }
}

fn value_is_well_formed(family: OperatorFamily, v: &str) -> bool {
    match family.value_type() {
        ValueType::String => true,
        ValueType::Numeric => parse_number(v).is_some(),
        ValueType::Date => parse_date(v).is_some(),
        ValueType::Bool | ValueType::Null => {
            v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
        }
        ValueType::Binary => base64_decode(v).is_some(),
        ValueType::Ip => parse_cidr(v).is_some(),
        // Six colon-separated parts (variables may hide colons: accept those).
        ValueType::Arn => v == "*" || v.contains("${") || v.splitn(6, ':').count() == 6,
    }
}

/// Evaluate a whole Condition block (AND of its conditions).
pub fn evaluate_all(
    conditions: &[Condition],
    ctx: &RequestContext,
    variables_enabled: bool,
) -> Tri {
    Tri::all(
        conditions
            .iter()
            .map(|c| c.evaluate(ctx, variables_enabled)),
    )
}

/// Compare one policy value with one request value under a positive operator.
fn value_matches(
    family: OperatorFamily,
    policy: &str,
    request: &str,
    vars: bool,
    ctx: &RequestContext,
) -> Tri {
    use OperatorFamily::*;
    match family {
        StringEquals => string_match(StringMode::Exact, policy, request, vars, Some(ctx)),
        StringEqualsIgnoreCase => {
            string_match(StringMode::IgnoreCase, policy, request, vars, Some(ctx))
        }
        StringLike => string_match(StringMode::Like, policy, request, vars, Some(ctx)),
        ArnEquals | ArnLike => arn_match(policy, request, vars, Some(ctx)),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let Some(p) = parse_number(policy) else {
                return Tri::Unknown;
            };
            let Some(r) = parse_number(request) else {
                return Tri::False;
            };
            Tri::from_bool(compare(family, r.partial_cmp(&p)))
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let Some(p) = parse_date(policy) else {
                return Tri::Unknown;
            };
            let Some(r) = parse_date(request) else {
                return Tri::False;
            };
            Tri::from_bool(compare(family, Some(r.cmp(&p))))
        }
        Bool => match policy.to_ascii_lowercase().as_str() {
            p @ ("true" | "false") => Tri::from_bool(request.eq_ignore_ascii_case(p)),
            _ => Tri::Unknown,
        },
        BinaryEquals => {
            let Some(p) = base64_decode(policy) else {
                return Tri::Unknown;
            };
            Tri::from_bool(base64_decode(request).is_some_and(|r| r == p))
        }
        IpAddress => {
            let Some(net) = parse_cidr(policy) else {
                return Tri::Unknown;
            };
            Tri::from_bool(
                request
                    .trim()
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| net.contains(ip)),
            )
        }
        // Negated families never reach here (the caller passes the positive one).
        _ => Tri::Unknown,
    }
}

fn compare(family: OperatorFamily, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use OperatorFamily::*;
    let Some(ord) = ord else { return false };
    match family {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// Integers and decimals (`42`, `-1`, `3.5`).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// ISO 8601 (`2024-01-01`, `2024-01-01T12:00:00Z`, with offset or fraction)
/// or epoch seconds; returns nanoseconds since the epoch.
pub fn parse_date(s: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    use time::{Date, OffsetDateTime, PrimitiveDateTime};
    let s = s.trim();
    if !s.is_empty()
        && s.trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        let secs: i64 = s.parse().ok()?;
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    // No offset: IAM dates are UTC.
    if let Ok(t) = PrimitiveDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().unix_timestamp_nanos());
    }
    if let Ok(d) = Date::parse(s, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    None
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    V4(u32, u8),
    V6(u128, u8),
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Cidr::V4(net, len), IpAddr::V4(a)) => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                (u32::from(a) & mask) == (net & mask)
            }
            (Cidr::V6(net, len), IpAddr::V6(a)) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                (u128::from(a) & mask) == (net & mask)
            }
            _ => false,
        }
    }

    /// Prefix length.
    pub fn prefix_len(&self) -> u8 {
        match *self {
            Cidr::V4(_, l) | Cidr::V6(_, l) => l,
        }
    }
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
pub fn parse_cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (s, None),
    };
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => {
            let len = len.unwrap_or(32);
            (len <= 32).then_some(Cidr::V4(u32::from(a), len))
        }
        IpAddr::V6(a) => {
            let len = len.unwrap_or(128);
            (len <= 128).then_some(Cidr::V6(u128::from(a), len))
        }
    }
}

/// Standard base64 (padding optional); `None` when malformed.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // One leftover sextet cannot encode a byte.
    if s.len() % 4 == 1 {
        return None;
    }
    Some(out)
}
