//! Text → [`PolicyDocument`], accepting every shape IAM accepts and refusing,
//! with a precise error, what IAM would refuse.
//!
//! Duplicate member names in one JSON object are an error. serde_json would
//! keep the last one, IAM rejects the document, and a silent choice could
//! keep the permissive member (`"Effect":"Deny","Effect":"Allow"`). A
//! document we refuse is reported as unanalysable, never as safe.

use super::ast::*;
use super::condition::{Condition, ConditionKey, ConditionValue, Operator, OriginalType};
use super::error::{Location, PolicyError, PolicyErrorKind as K};
use super::json::{parse_json, Json};
use super::principal::{Principal, PrincipalType};

/// The largest policy text analysed: 4 MiB, four hundred times the largest
/// document AWS accepts (10,240 characters for a repository policy or a
/// role's inline policies, 6,144 for a managed policy, 8,192 for a trust
/// policy with a raised quota). Larger: refused, so reported unanalysable.
pub const MAX_POLICY_BYTES: usize = 4 << 20;
/// The most statements analysed. The shortest statement IAM accepts takes
/// about 40 characters, so no document AWS accepts has 1,000.
pub const MAX_STATEMENTS: usize = 1_000;
/// The most values one condition key may list. A value takes at least 3
/// characters (`"",`), so no document AWS accepts has 4,096; the access
/// analysis is quadratic in their number.
pub const MAX_CONDITION_VALUES: usize = 4_096;

/// Parse a policy document of the given kind.
pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(too_large(format!(
            "the policy is {} bytes long, more than the {MAX_POLICY_BYTES} analysed (AWS accepts at most 10,240 characters)",
            text.len()
        )));
    }
    let json = parse_json(text).map_err(|(line, column, message)| {
        PolicyError::new(
            K::InvalidJson { line, column },
            Location::default(),
            message,
        )
    })?;
    check_size(&json)?;
    check_duplicates(&json)?;
    from_json(&json, kind)
}

fn too_large(message: String) -> PolicyError {
    PolicyError::new(K::InvalidValue, Location::default(), message)
}

/// Refuses documents with more statements or condition values than any
/// document AWS accepts, before they are built and analysed.
fn check_size(json: &Json) -> Result<(), PolicyError> {
    let Json::Object(members) = json else {
        return Ok(());
    };
    let statements: Vec<&Json> = members
        .iter()
        .filter(|(k, _)| k == "Statement")
        .flat_map(|(_, v)| match v {
            Json::Array(items) => items.iter().collect(),
            other => vec![other],
        })
        .collect();
    if statements.len() > MAX_STATEMENTS {
        return Err(too_large(format!(
            "the policy has {} statements, more than the {MAX_STATEMENTS} analysed (no policy AWS accepts has that many)",
            statements.len()
        )));
    }
    for st in statements {
        let Json::Object(members) = st else { continue };
        for (_, condition) in members.iter().filter(|(k, _)| k == "Condition") {
            let Json::Object(operators) = condition else {
                continue;
            };
            for (operator, keys) in operators {
                let Json::Object(keys) = keys else { continue };
                for (key, v) in keys {
                    let Json::Array(values) = v else { continue };
                    if values.len() > MAX_CONDITION_VALUES {
                        return Err(too_large(format!(
                            "condition {operator} {key} has {} values, more than the {MAX_CONDITION_VALUES} analysed (no policy AWS accepts has that many)",
                            values.len()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parse an already-decoded `serde_json::Value` (duplicate keys are already
/// lost in that form; prefer [`parse`] on the original text).
pub fn parse_value(
    value: &serde_json::Value,
    kind: PolicyKind,
) -> Result<PolicyDocument, PolicyError> {
    from_json(&to_json(value), kind)
}

fn to_json(v: &serde_json::Value) -> Json {
    match v {
        serde_json::Value::Null => Json::Null,
        serde_json::Value::Bool(b) => Json::Bool(*b),
        serde_json::Value::Number(n) => Json::Number(n.to_string()),
        serde_json::Value::String(s) => Json::String(s.clone()),
        serde_json::Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        serde_json::Value::Object(o) => {
            Json::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn check_duplicates(json: &Json) -> Result<(), PolicyError> {
    duplicates_under(json, &mut Vec::new())
}

/// A step from a JSON value to one inside it.
enum Step<'a> {
    Member(&'a str),
    Element(usize),
}

/// `Statement[1].Condition.StringLike`: written only when a duplicate is
/// found (every document is checked, and nearly none has one).
fn path_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Member(k) if out.is_empty() => out.push_str(k),
            Step::Member(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Element(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn duplicates_under<'a>(json: &'a Json, steps: &mut Vec<Step<'a>>) -> Result<(), PolicyError> {
    match json {
        Json::Object(members) => {
            // A set keeps this linear on objects with many members; a
            // small object is compared member by member.
            const SMALL: usize = 16;
            let mut seen = std::collections::HashSet::new();
            for (n, (k, v)) in members.iter().enumerate() {
                let repeated = if members.len() <= SMALL {
                    members[..n].iter().any(|(earlier, _)| earlier == k)
                } else {
                    !seen.insert(k.as_str())
                };
                steps.push(Step::Member(k));
                if repeated {
                    let p = path_text(steps);
                    return Err(PolicyError::new(
                        K::DuplicateKey,
                        duplicate_location(&p),
                        format!(
                            "member \"{k}\" appears more than once in one object; IAM rejects duplicate keys and we will not guess which one applies"
                        ),
                    ));
                }
                duplicates_under(v, steps)?;
                steps.pop();
            }
            Ok(())
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                steps.push(Step::Element(i));
                duplicates_under(v, steps)?;
                steps.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `Statement[1].Condition.StringLike.k` → statement 2, element
/// `Condition.StringLike.k`; anything else names the path as the element.
fn duplicate_location(path: &str) -> Location {
    let in_statement = path.strip_prefix("Statement[").and_then(|rest| {
        let (n, tail) = rest.split_once(']')?;
        Some((
            n.parse::<usize>().ok()?,
            tail.strip_prefix('.').unwrap_or(tail),
        ))
    });
    match in_statement {
        Some((index, element)) => Location {
            statement: Some(index),
            sid: None,
            element: Some(element.to_owned()),
        },
        None => Location {
            statement: path.starts_with("Statement.").then_some(0),
            sid: None,
            element: Some(path.strip_prefix("Statement.").unwrap_or(path).to_owned()),
        },
    }
}

fn doc_loc(element: &str) -> Location {
    Location {
        statement: None,
        sid: None,
        element: Some(element.to_owned()),
    }
}

fn from_json(json: &Json, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
    let Json::Object(members) = json else {
        return Err(PolicyError::new(
            K::NotAnObject,
            Location::default(),
            format!("expected a JSON object, found {}", json.type_name()),
        ));
    };
    let mut version = None;
    let mut id = None;
    let mut statement = None;
    for (k, v) in members {
        match k.as_str() {
            "Version" => {
                version = Some(match v {
                    Json::String(s) if s == "2012-10-17" => Version::V2012_10_17,
                    Json::String(s) if s == "2008-10-17" => Version::V2008_10_17,
                    Json::String(s) => {
                        return Err(PolicyError::new(
                            K::InvalidValue,
                            doc_loc("Version"),
                            format!("expected \"2012-10-17\" or \"2008-10-17\", found \"{s}\""),
                        ))
                    }
                    other => return Err(wrong_type(doc_loc("Version"), "a string", other)),
                })
            }
            "Id" => match v {
                Json::String(s) => id = Some(s.clone()),
                other => return Err(wrong_type(doc_loc("Id"), "a string", other)),
            },
            "Statement" => statement = Some(v),
            other => {
                return Err(PolicyError::new(
                    K::UnexpectedElement,
                    doc_loc(other),
                    "expected only Version, Id and Statement at the top level",
                ))
            }
        }
    }
    let Some(statement) = statement else {
        return Err(PolicyError::new(
            K::MissingElement,
            doc_loc("Statement"),
            "the document has no Statement",
        ));
    };
    let variables_enabled = version == Some(Version::V2012_10_17);
    let (items, statement_was_array): (Vec<&Json>, bool) = match statement {
        Json::Array(a) => (a.iter().collect(), true),
        Json::Object(_) => (vec![statement], false),
        other => {
            return Err(wrong_type(
                doc_loc("Statement"),
                "an object or an array of objects",
                other,
            ))
        }
    };
    let statements = items
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_statement(i, s, kind, variables_enabled))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument {
        kind,
        version,
        id,
        statements,
        statement_was_array,
    })
}

fn wrong_type(location: Location, expected: &str, found: &Json) -> PolicyError {
    PolicyError::new(
        K::WrongType,
        location,
        format!("expected {expected}, found {}", found.type_name()),
    )
}

fn parse_statement(
    index: usize,
    json: &Json,
    kind: PolicyKind,
    variables_enabled: bool,
) -> Result<Statement, PolicyError> {
    let loc = |element: Option<&str>, sid: &Option<String>| Location {
        statement: Some(index),
        sid: sid.clone(),
        element: element.map(str::to_owned),
    };
    let Json::Object(members) = json else {
        return Err(wrong_type(loc(Some("Statement"), &None), "an object", json));
    };
    let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let sid = match get("Sid") {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => return Err(wrong_type(loc(Some("Sid"), &None), "a string", other)),
    };
    for (k, _) in members {
        if !matches!(
            k.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(PolicyError::new(
                K::UnexpectedElement,
                loc(Some(k), &sid),
                "not a statement element (expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource or Condition; names are case-sensitive)",
            ));
        }
    }
    let effect = match get("Effect") {
        None => {
            return Err(PolicyError::new(
                K::MissingElement,
                loc(Some("Effect"), &sid),
                "the statement has no Effect",
            ))
        }
        Some(Json::String(s)) if s == "Allow" => Effect::Allow,
        Some(Json::String(s)) if s == "Deny" => Effect::Deny,
        Some(Json::String(s)) => {
            return Err(PolicyError::new(
                K::InvalidValue,
                loc(Some("Effect"), &sid),
                format!("expected \"Allow\" or \"Deny\", found \"{s}\""),
            ))
        }
        Some(other) => return Err(wrong_type(loc(Some("Effect"), &sid), "a string", other)),
    };

    let action = match (get("Action"), get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::new(
                K::ConflictingElements,
                loc(Some("Action"), &sid),
                "the statement has both Action and NotAction",
            ))
        }
        (None, None) => {
            return Err(PolicyError::new(
                K::MissingElement,
                loc(Some("Action"), &sid),
                "the statement has neither Action nor NotAction",
            ))
        }
        (Some(a), None) => ActionElement {
            negated: false,
            patterns: string_list(a, loc(Some("Action"), &sid))?,
        },
        (None, Some(a)) => ActionElement {
            negated: true,
            patterns: string_list(a, loc(Some("NotAction"), &sid))?,
        },
    };

    let resource = match (get("Resource"), get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::new(
                K::ConflictingElements,
                loc(Some("Resource"), &sid),
                "the statement has both Resource and NotResource",
            ))
        }
        (None, None) => None,
        (Some(r), None) => Some(ResourceElement {
            negated: false,
            patterns: string_list(r, loc(Some("Resource"), &sid))?,
        }),
        (None, Some(r)) => Some(ResourceElement {
            negated: true,
            patterns: string_list(r, loc(Some("NotResource"), &sid))?,
        }),
    };

    let principal = match (get("Principal"), get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::new(
                K::ConflictingElements,
                loc(Some("Principal"), &sid),
                "the statement has both Principal and NotPrincipal",
            ))
        }
        (None, None) => None,
        (Some(p), None) => Some(parse_principal(p, false, loc(Some("Principal"), &sid))?),
        (None, Some(p)) => Some(parse_principal(p, true, loc(Some("NotPrincipal"), &sid))?),
    };

    match kind {
        PolicyKind::Identity => {
            if let Some(p) = &principal {
                let name = if p.negated {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                return Err(PolicyError::new(
                    K::UnexpectedElement,
                    loc(Some(name), &sid),
                    format!("{name} is not allowed in an identity policy"),
                ));
            }
            if resource.is_none() {
                return Err(PolicyError::new(
                    K::MissingElement,
                    loc(Some("Resource"), &sid),
                    "an identity policy statement needs Resource or NotResource",
                ));
            }
        }
        PolicyKind::Resource | PolicyKind::Trust => {
            if principal.is_none() {
                return Err(PolicyError::new(
                    K::MissingElement,
                    loc(Some("Principal"), &sid),
                    "a resource or trust policy statement needs Principal or NotPrincipal",
                ));
            }
        }
    }

    let conditions = match get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &loc(Some("Condition"), &sid))?,
    };
    let odd_shapes = odd_condition_shapes(get("Condition"));

    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
        variables_enabled,
        odd_shapes,
    })
}

/// Condition shapes IAM gives no documented meaning: an empty block, an
/// operator with no keys, a key with an empty list of values.
fn odd_condition_shapes(condition: Option<&Json>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(Json::Object(ops)) = condition else {
        return out;
    };
    if ops.is_empty() {
        out.push("an empty Condition block (IAM documents no meaning for it)".to_string());
    }
    for (op, block) in ops {
        let Json::Object(keys) = block else { continue };
        if keys.is_empty() {
            out.push(format!(
                "condition operator {op} with no keys (IAM documents no meaning for it)"
            ));
        }
        for (key, values) in keys {
            if matches!(values, Json::Array(items) if items.is_empty()) {
                out.push(format!(
                    "an empty value list for {op} {key} (IAM documents no meaning for it)"
                ));
            }
        }
    }
    out
}

fn string_list(json: &Json, location: Location) -> Result<Vec<String>, PolicyError> {
    match json {
        Json::String(s) => Ok(vec![s.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Ok(s.clone()),
                other => Err(wrong_type(location.clone(), "an array of strings", other)),
            })
            .collect(),
        other => Err(wrong_type(
            location,
            "a string or an array of strings",
            other,
        )),
    }
}

fn parse_principal(
    json: &Json,
    negated: bool,
    location: Location,
) -> Result<PrincipalElement, PolicyError> {
    match json {
        Json::String(s) if s == "*" => Ok(PrincipalElement {
            negated,
            entries: vec![PrincipalEntry {
                principal_type: PrincipalType::Aws,
                raw: "*".to_owned(),
                principal: Principal::AnyAws,
            }],
            bare_star: true,
        }),
        Json::String(s) => Err(PolicyError::new(
            K::InvalidValue,
            location,
            format!(
                "expected \"*\" or an object such as {{\"AWS\": ...}}, found the string \"{s}\""
            ),
        )),
        Json::Object(members) => {
            if members.is_empty() {
                return Err(PolicyError::new(
                    K::InvalidValue,
                    location,
                    "expected at least one of AWS, Service, Federated, CanonicalUser",
                ));
            }
            let mut entries = Vec::new();
            for (k, v) in members {
                let principal_type = match k.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    other => {
                        let mut l = location.clone();
                        l.element = Some(format!("{}.{other}", l.element.unwrap_or_default()));
                        return Err(PolicyError::new(
                            K::UnexpectedElement,
                            l,
                            "expected AWS, Service, Federated or CanonicalUser",
                        ));
                    }
                };
                let mut l = location.clone();
                l.element = Some(format!("{}.{k}", l.element.clone().unwrap_or_default()));
                for raw in string_list(v, l)? {
                    entries.push(PrincipalEntry {
                        principal_type,
                        principal: Principal::parse(principal_type, &raw),
                        raw,
                    });
                }
            }
            Ok(PrincipalElement {
                negated,
                entries,
                bare_star: false,
            })
        }
        other => Err(wrong_type(location, "\"*\" or an object", other)),
    }
}

fn parse_conditions(json: &Json, location: &Location) -> Result<Vec<Condition>, PolicyError> {
    let Json::Object(ops) = json else {
        return Err(wrong_type(location.clone(), "an object of operators", json));
    };
    let mut out = Vec::new();
    for (op, block) in ops {
        let mut l = location.clone();
        l.element = Some(format!("Condition.{op}"));
        let Json::Object(keys) = block else {
            return Err(wrong_type(l, "an object of condition keys", block));
        };
        let operator = Operator::parse(op);
        for (key, values) in keys {
            let mut lk = l.clone();
            lk.element = Some(format!("Condition.{op}.{key}"));
            let values = match values {
                Json::Array(items) => items
                    .iter()
                    .map(|i| condition_value(i, &lk))
                    .collect::<Result<Vec<_>, _>>()?,
                single => vec![condition_value(single, &lk)?],
            };
            out.push(Condition {
                operator: operator.clone(),
                key: ConditionKey::new(key),
                values,
            });
        }
    }
    Ok(out)
}

fn condition_value(json: &Json, location: &Location) -> Result<ConditionValue, PolicyError> {
    match json {
        Json::String(s) => Ok(ConditionValue {
            value: s.clone(),
            original: OriginalType::String,
        }),
        Json::Number(n) => Ok(ConditionValue {
            value: n.clone(),
            original: OriginalType::Number,
        }),
        Json::Bool(b) => Ok(ConditionValue {
            value: b.to_string(),
            original: OriginalType::Bool,
        }),
        other => Err(wrong_type(
            location.clone(),
            "a string, number or boolean (or an array of them)",
            other,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_path(text: &str) -> Option<String> {
        let json = super::super::json::parse_json(text).ok()?;
        let mut steps = Vec::new();
        match duplicates_under(&json, &mut steps) {
            Ok(()) => None,
            Err(_) => Some(path_text(&steps)),
        }
    }

    #[test]
    fn a_duplicate_is_found_in_small_and_large_objects_and_named_by_its_path() {
        assert_eq!(duplicate_path(r#"{"a":1,"b":{"c":[1,{"d":2}]}}"#), None);
        assert_eq!(
            duplicate_path(r#"{"a":1,"b":{"c":[1,{"d":2,"d":3}]}}"#).as_deref(),
            Some("b.c[1].d")
        );
        assert_eq!(
            duplicate_path(r#"[{"x":1},{"y":1,"y":2}]"#).as_deref(),
            Some("[1].y")
        );
        // Past the size where members are compared one by one.
        let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let large = format!("{{\"s\":{{{}}}}}", members.join(","));
        assert_eq!(duplicate_path(&large), None);
        let repeated = format!("{{\"s\":{{{},\"k7\":0}}}}", members.join(","));
        assert_eq!(duplicate_path(&repeated).as_deref(), Some("s.k7"));
        let error = check_duplicates(&super::super::json::parse_json(&repeated).unwrap());
        assert!(error.is_err());
    }
}
