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

impl PolicyFacts {
    /// The same facts with each string mapped by `f`; `None` when `f`
    /// refuses one.
    pub fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self> {
        let PolicyFacts {
            present,
            analyzable,
            problems,
        } = self;
        Some(PolicyFacts {
            present: *present,
            analyzable: *analyzable,
            problems: map_set(problems, f)?,
        })
    }
}

/// Each string of `set` mapped by `f`; `None` when `f` refuses one.
pub(super) fn map_set(
    set: &BTreeSet<String>,
    f: &mut dyn FnMut(&str) -> Option<String>,
) -> Option<BTreeSet<String>> {
    set.iter().map(|s| f(s)).collect()
}

impl AccessFacts {
    /// The same facts with each string mapped by `f`; `None` when `f`
    /// refuses one. Every field is named, so a fact added to the struct
    /// must be mapped too.
    pub fn try_map_strings(&self, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Self> {
        let AccessFacts {
            public_read,
            public_write,
            external_read,
            external_write,
            conditions,
            unscoped_services,
            wildcard_actions_to,
            not_principal_statements,
            auth_token_statements,
            outside_registry_actions,
            outside_registry_principals,
            granted_by,
            future_access,
            proofs,
            read_counterexamples,
            write_counterexamples,
            registry_counterexamples,
        } = self;
        Some(AccessFacts {
            public_read: *public_read,
            public_write: *public_write,
            external_read: map_set(external_read, f)?,
            external_write: map_set(external_write, f)?,
            conditions: map_set(conditions, f)?,
            unscoped_services: map_set(unscoped_services, f)?,
            wildcard_actions_to: map_set(wildcard_actions_to, f)?,
            not_principal_statements: map_set(not_principal_statements, f)?,
            auth_token_statements: map_set(auth_token_statements, f)?,
            outside_registry_actions: map_set(outside_registry_actions, f)?,
            outside_registry_principals: map_set(outside_registry_principals, f)?,
            granted_by: map_set(granted_by, f)?,
            future_access: map_set(future_access, f)?,
            proofs: map_set(proofs, f)?,
            read_counterexamples: map_set(read_counterexamples, f)?,
            write_counterexamples: map_set(write_counterexamples, f)?,
            registry_counterexamples: map_set(registry_counterexamples, f)?,
        })
    }

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
