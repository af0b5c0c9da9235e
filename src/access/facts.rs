//! The facts the access analysis produces: what it could decide about a
//! policy, and who outside the zone of trust reaches a repository or
//! registry.

use std::collections::BTreeSet;

use serde::Serialize;

/// What the analysis could decide about a policy document or a set of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyFacts {
    pub present: bool,
    pub analyzable: bool,
    pub problems: BTreeSet<String>,
}

impl PolicyFacts {
    pub fn absent() -> Self {
        PolicyFacts {
            present: false,
            analyzable: true,
            problems: BTreeSet::new(),
        }
    }
}

/// Effective access to a repository or registry (see the schema for meaning).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccessFacts {
    pub public_read: bool,
    pub public_write: bool,
    pub external_read: BTreeSet<String>,
    pub external_write: BTreeSet<String>,
    pub conditions: BTreeSet<String>,
    pub unscoped_services: BTreeSet<String>,
    pub wildcard_actions_to: BTreeSet<String>,
    pub not_principal_statements: BTreeSet<String>,
    pub auth_token_statements: BTreeSet<String>,
    pub outside_registry_actions: BTreeSet<String>,
    pub outside_registry_principals: BTreeSet<String>,
    /// For each outside class with access: what, through which statements
    /// and conditions ("999988887777: read via statement 1 when ...").
    pub granted_by: BTreeSet<String>,
    /// Outside access a time condition opens after the reference time:
    /// "anyone from 2027-03-01T00:00:01Z (read)".
    pub future_access: BTreeSet<String>,
    /// With proofs: one "property verdict" per property.
    pub proofs: BTreeSet<String>,
    /// With proofs: replayed requests from outside, per property group.
    pub read_counterexamples: BTreeSet<String>,
    pub write_counterexamples: BTreeSet<String>,
    pub registry_counterexamples: BTreeSet<String>,
}

impl AccessFacts {
    /// The names of the facts that differ between two analyses of one
    /// policy (under registry policy scopes V1 and V2, say): what depends on
    /// the difference. Read from the serialized facts, so a fact added to
    /// the struct is compared too; `None` when they could not be compared
    /// (then all of them depend on it).
    pub fn differing_fields(&self, other: &AccessFacts) -> Option<Vec<String>> {
        match (serde_json::to_value(self), serde_json::to_value(other)) {
            (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) => Some(
                a.into_iter()
                    .filter(|(name, value)| b.get(name) != Some(value))
                    .map(|(name, _)| name)
                    .collect(),
            ),
            _ => None,
        }
    }
}
