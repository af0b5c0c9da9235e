//! The typed form of an IAM policy document.
//!
//! Everything keeps the spelling found in the document (for messages) next to
//! the normalized form used for comparison.

use super::condition::Condition;
use super::principal::{Principal, PrincipalType};
use std::fmt;

/// Which kind of policy a document is; it decides which elements are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to an IAM user, group or role: no Principal, Resource required.
    Identity,
    /// Attached to a resource (ECR repository or registry policy): a
    /// Principal or NotPrincipal is required, Resource is optional (it defaults
    /// to the resource the policy is attached to).
    Resource,
    /// A role trust (assume-role) policy: Principal or NotPrincipal required.
    Trust,
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: policy variables (`${aws:username}`) are interpreted.
    V2012_10_17,
    /// `2008-10-17`: `${...}` is literal text.
    V2008_10_17,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub kind: PolicyKind,
    /// `None` when the document has no Version (IAM then uses 2008-10-17 rules).
    pub version: Option<Version>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
    /// False when `Statement` was a single object rather than an array.
    pub statement_was_array: bool,
}

impl PolicyDocument {
    /// True when `${...}` policy variables are interpreted (Version 2012-10-17 only).
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }

    /// Constructs the analysis cannot decide, with where they are.
    /// An empty list means every construct in the document is understood.
    pub fn unsupported(&self) -> Vec<Unsupported> {
        let mut out = Vec::new();
        for st in &self.statements {
            for c in &st.conditions {
                if let super::condition::Operator::Unknown(op) = &c.operator {
                    out.push(Unsupported {
                        statement: st.reference(),
                        effect: st.effect,
                        what: format!("unknown condition operator {op}"),
                    });
                }
                for v in c.malformed_values() {
                    out.push(Unsupported {
                        statement: st.reference(),
                        effect: st.effect,
                        what: format!(
                            "value \"{}\" of {} {} is not valid for that operator",
                            v.value, c.operator, c.key.raw
                        ),
                    });
                }
            }
            for what in &st.odd_shapes {
                out.push(Unsupported {
                    statement: st.reference(),
                    effect: st.effect,
                    what: what.clone(),
                });
            }
            if let Some(p) = &st.principal {
                for e in &p.entries {
                    if let Principal::Unrecognized(raw) = &e.principal {
                        out.push(Unsupported {
                            statement: st.reference(),
                            effect: st.effect,
                            what: format!("unrecognized principal {raw}"),
                        });
                    }
                }
            }
            if let Some(r) = &st.resource {
                for p in &r.patterns {
                    let six = p == "*" || p.contains("${") || p.splitn(6, ':').count() == 6;
                    if !six {
                        out.push(Unsupported {
                            statement: st.reference(),
                            effect: st.effect,
                            what: format!("resource pattern {p} is not an ARN"),
                        });
                    }
                }
            }
        }
        out
    }
}

/// One construct the analysis cannot decide (see [`PolicyDocument::unsupported`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub statement: StatementRef,
    pub effect: Effect,
    pub what: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.what, self.statement)
    }
}

/// Names a statement in messages: `statement 2 (Sid PublicPull)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementRef {
    /// Zero-based position in the document.
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    /// One-based, as a person counts statements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            Some(sid) if !sid.is_empty() => write!(f, "statement {} (Sid {sid})", self.index + 1),
            _ => write!(f, "statement {}", self.index + 1),
        }
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Zero-based position in the document.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// Principal or NotPrincipal; always `None` in identity policies.
    pub principal: Option<PrincipalElement>,
    /// Action or NotAction.
    pub action: ActionElement,
    /// Resource or NotResource; `None` means "the resource the policy is
    /// attached to" (allowed in resource and trust policies only).
    pub resource: Option<ResourceElement>,
    /// All conditions of the Condition block; they are AND'd.
    pub conditions: Vec<Condition>,
    /// Copied from the document: whether `${...}` variables are interpreted.
    pub variables_enabled: bool,
    /// Shapes IAM documents no meaning for (an empty Condition block, an
    /// operator without keys, an empty value list), as messages.
    pub odd_shapes: Vec<String>,
}

impl Statement {
    /// How to name this statement in messages.
    pub fn reference(&self) -> StatementRef {
        StatementRef {
            index: self.index,
            sid: self.sid.clone(),
        }
    }

    /// True for `Allow` combined with `NotPrincipal`.
    pub fn is_allow_not_principal(&self) -> bool {
        self.effect == Effect::Allow && self.principal.as_ref().is_some_and(|p| p.negated)
    }
}

/// The Action (`negated == false`) or NotAction (`negated == true`) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionElement {
    pub negated: bool,
    /// Patterns as written (`ecr:Get*`, `*`, `S3:GetObject`); matching is
    /// case-insensitive.
    pub patterns: Vec<String>,
}

/// The Resource (`negated == false`) or NotResource (`negated == true`) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceElement {
    pub negated: bool,
    /// ARN patterns as written, or `*`.
    pub patterns: Vec<String>,
}

/// The Principal (`negated == false`) or NotPrincipal (`negated == true`) element.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalElement {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
    /// True when written as the bare string `"*"` (same meaning as `{"AWS":"*"}`).
    pub bare_star: bool,
}

/// One principal value, as written and in typed form.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalEntry {
    /// The map key it appeared under (AWS, Service, Federated, CanonicalUser).
    pub principal_type: PrincipalType,
    /// The value as written.
    pub raw: String,
    pub principal: Principal,
}

impl ActionElement {
    /// Does this Action/NotAction element cover the action name
    /// (`service:Action`, case-insensitive)?
    pub fn matches(&self, action: &str) -> bool {
        let any = self
            .patterns
            .iter()
            .any(|p| super::pattern::action_pattern_matches(p, action));
        any != self.negated
    }
}

impl ResourceElement {
    /// Does this Resource/NotResource element cover the ARN? `ctx` resolves
    /// policy variables; `None` leaves them unresolved (`Unknown`).
    pub fn matches(
        &self,
        arn: &str,
        variables_enabled: bool,
        ctx: Option<&super::context::RequestContext>,
    ) -> super::tri::Tri {
        // Resource patterns are ARN patterns or `*`.
        let any = super::tri::Tri::any(
            self.patterns
                .iter()
                .map(|p| super::pattern::arn_match(p, arn, variables_enabled, ctx)),
        );
        if self.negated {
            !any
        } else {
            any
        }
    }
}

impl PrincipalElement {
    /// Does this Principal/NotPrincipal element apply to the request
    /// principal? See [`super::principal`] for the semantics.
    pub fn matches(&self, principal: &super::principal::RequestPrincipal) -> super::tri::Tri {
        super::principal::element_matches(
            self.negated,
            self.entries.iter().map(|e| &e.principal),
            principal,
        )
    }
}
